"""Database API keys: stored hashed, scoped, revocable at once; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine, text

import advisor.store.api_keys as api_keys_module
from advisor.auth import KeyRejectedError, api_key_id
from advisor.store.api_keys import KEY_PREFIX, ApiKeyNotFoundError, ApiKeyStore
from advisor.store.db import upgrade_database


@pytest.fixture
def keys(db_engine: Engine) -> ApiKeyStore:
    upgrade_database(db_engine)
    return ApiKeyStore(db_engine)


def test_a_key_is_stored_only_as_its_hash(keys: ApiKeyStore, db_engine: Engine) -> None:
    issued = keys.create(["search", "chat", "chat"], name="portal")
    assert issued.key.startswith(KEY_PREFIX) and len(issued.key) >= 40
    record = issued.record
    assert record.id == api_key_id(issued.key) and record.scopes == ("chat", "search")
    assert record.name == "portal" and record.active and record.created_at.tzinfo is not None

    with db_engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_keys")).mappings().all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0].values())
    assert issued.key not in stored and issued.key[len(KEY_PREFIX) :] not in stored
    assert rows[0]["key_hash"] == hashlib.sha256(issued.key.encode()).hexdigest()
    assert rows[0]["prefix"] == issued.key[:8]

    assert keys.lookup(issued.key) == record
    assert keys.lookup(issued.key + "x") is None


def test_resolve_gives_a_scoped_principal_and_refuses_a_revoked_key(keys: ApiKeyStore) -> None:
    chat = keys.create(["chat"])
    other = keys.create(["admin"], name="ops")
    principal = keys.resolve(chat.key, None)
    assert principal is not None and principal.key_id == chat.record.id and principal.kind == "api"
    assert principal.allows("chat") and not principal.allows("search")
    admin = keys.resolve(other.key, None)
    assert admin is not None and admin.allows("search")  # admin implies every scope

    record, changed = keys.revoke(chat.record.id)
    assert changed and record.revoked_at is not None and not record.active
    with pytest.raises(KeyRejectedError) as rejected:
        keys.resolve(chat.key, None)
    assert rejected.value.status == 401 and "revoked" in str(rejected.value)
    assert keys.revoke(chat.record.id)[1] is False  # revoking twice is harmless
    assert keys.resolve(other.key, None) is not None  # other keys are untouched

    # Keys that are not ours (settings keys, widget keys) are not looked up at all.
    assert keys.resolve("test-key-alpha-0123456789", None) is None
    assert keys.resolve(KEY_PREFIX + "never-issued", None) is None
    with pytest.raises(ApiKeyNotFoundError):
        keys.revoke("key_000000000000")


def test_list_and_any_issued(keys: ApiKeyStore, db_engine: Engine) -> None:
    assert keys.list() == [] and keys.any_issued() is False
    first = keys.create(["chat"], name="first")
    second = keys.create(["feedback"])
    assert [r.id for r in keys.list()] == [first.record.id, second.record.id]
    # Another process (the CLI) issuing a key is seen by a store that had seen none.
    fresh = ApiKeyStore(db_engine)
    keys.revoke(first.record.id)
    keys.revoke(second.record.id)
    # Revoked keys still count: revoking the last key must not reopen keyless local mode.
    assert fresh.any_issued() is True
    assert [r.active for r in keys.list()] == [False, False]


def test_a_keyless_service_notices_a_key_issued_elsewhere_after_a_moment(
    keys: ApiKeyStore, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert keys.any_issued() is False
    ApiKeyStore(db_engine).create(["chat"])  # what `advisor keys create` does in its own process
    assert keys.any_issued() is False  # "none yet" is trusted for a moment, not asked per request
    monkeypatch.setattr(api_keys_module, "_NONE_ISSUED_TTL", 0.0)  # the moment has passed
    assert keys.any_issued() is True


@pytest.mark.parametrize(
    ("scopes", "name", "message"),
    [
        ([], None, "at least one scope"),
        (["chat", "root"], None, "unknown scope 'root'"),
        (["chat"], "x" * 129, "at most 128"),
    ],
)
def test_create_refuses_bad_input(
    keys: ApiKeyStore, scopes: list[str], name: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        keys.create(scopes, name)
    assert keys.list() == []
