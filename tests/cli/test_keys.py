"""`advisor keys create|list|revoke`, run as a subprocess, against a service running on the same
database: a created key works at once and a revoked one is refused at once, without a restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.plugins.advisor_app import SettingsFactory, serve

ADVISOR = Path(sys.executable).with_name("advisor")
QUESTION = "How do we get our churn model from a notebook into production?"


def keys_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(HF_HUB_OFFLINE="1", NO_COLOR="1", COLUMNS="120", ADVISOR_DATA_DIR=str(data_dir))
    return subprocess.run(
        [str(ADVISOR), "keys", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir.parent,
        timeout=120,
    )


def test_create_list_revoke_round_trip_against_a_running_service(indexed_settings: SettingsFactory) -> None:
    # Stateless completions are stored only when asked: this test reads the stored turn back.
    settings = indexed_settings(retention={"store_stateless": True})
    data_dir = settings.data_dir

    created = keys_cli(data_dir, "create", "--scope", "chat", "--scope", "search", "--name", "portal")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("adv_") and "\n" not in key  # stdout is the key alone, for scripts
    assert "shown only this once" in created.stderr and "chat, search" in created.stderr

    listed = keys_cli(data_dir, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (record,) = json.loads(listed.stdout)
    assert record["name"] == "portal" and record["scopes"] == ["chat", "search"] and record["active"] is True
    assert key not in listed.stdout and record["prefix"] == key[:8]
    key_id = record["id"]
    table = keys_cli(data_dir, "list")
    assert key_id in table.stdout and "active" in table.stdout and "portal" in table.stdout
    assert key not in table.stdout

    with serve(settings) as server, server.client() as http:
        bearer = {"Authorization": f"Bearer {key}"}
        ok = http.post(
            "/v1/chat/completions",
            json={"model": "advisor", "messages": [{"role": "user", "content": QUESTION}]},
            headers=bearer,
        )
        assert ok.status_code == 200, ok.text
        conversation = ok.json()["advisor"]["conversation_id"]
        assert http.post("/v1/search", json={"query": "canary"}, headers=bearer).status_code == 200
        # The key lacks the feedback scope; without any key the service now refuses (keys exist).
        feedback = http.post("/v1/feedback", json={"message_id": "x", "rating": "up"}, headers=bearer)
        assert feedback.status_code == 403
        assert http.post("/v1/search", json={"query": "canary"}).status_code == 401

        revoked = keys_cli(data_dir, "revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        assert revoked.stdout.strip() == f"revoked {key_id}"
        assert "no active database key remains" in revoked.stderr

        refused = http.post("/v1/search", json={"query": "canary"}, headers=bearer)
        assert refused.status_code == 401 and "revoked" in refused.json()["reason"]
        models = http.get("/v1/models", headers=bearer)
        assert models.status_code == 401 and "revoked" in models.json()["error"]["message"]

    # The conversation was recorded under the key id, and the key itself is nowhere in the database.
    engine = create_engine(f"sqlite:///{data_dir / 'advisor.db'}")
    with engine.connect() as connection:
        owner = connection.execute(
            text("SELECT api_key_id FROM conversations WHERE id = :id"), {"id": conversation}
        ).scalar_one()
        dump = repr(connection.exec_driver_sql("SELECT * FROM api_keys").fetchall())
    engine.dispose()
    assert owner == key_id
    assert key not in dump and key[4:] not in dump

    again = keys_cli(data_dir, "revoke", key_id)
    assert again.returncode == 0 and "already revoked" in again.stdout
    final = keys_cli(data_dir, "list", "--json")
    assert json.loads(final.stdout)[0]["active"] is False and json.loads(final.stdout)[0]["revoked_at"]


@pytest.mark.slow  # runs the CLI as a process
def test_bad_input_exits_with_a_clear_message(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    unknown_scope = keys_cli(data_dir, "create", "--scope", "chat", "--scope", "root")
    assert unknown_scope.returncode == 2 and unknown_scope.stdout == ""
    assert "unknown scope 'root'" in unknown_scope.stderr and "feedback" in unknown_scope.stderr
    no_scope = keys_cli(data_dir, "create")
    assert no_scope.returncode == 2 and "--scope" in no_scope.stderr
    missing = keys_cli(data_dir, "revoke", "key_000000000000")
    assert missing.returncode == 1 and "no API key with id 'key_000000000000'" in missing.stderr
    empty = keys_cli(data_dir, "list")
    assert empty.returncode == 0 and "advisor keys create" in empty.stdout
    for args in (("--help",), ("create", "--help"), ("list", "--help"), ("revoke", "--help")):
        assert keys_cli(data_dir, *args).returncode == 0, args


@pytest.mark.slow  # runs the CLI as a process
def test_serve_may_bind_beyond_loopback_once_a_database_key_exists(tmp_path: Path) -> None:
    # An empty prompts folder makes `serve` stop right after the bind check, so nothing is bound.
    data_dir, prompts = tmp_path / "data", tmp_path / "prompts"
    data_dir.mkdir()
    prompts.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(
        HF_HUB_OFFLINE="1",
        ADVISOR_DATA_DIR=str(data_dir),
        ADVISOR_PROMPTS_DIR=str(prompts),
        ADVISOR_LLM__PROVIDER="openai",
        ADVISOR_LLM__MODEL="any-model",
        ADVISOR_LLM__BASE_URL="http://127.0.0.1:9/v1",
    )

    def serve_public() -> subprocess.CompletedProcess[str]:
        command = [str(ADVISOR), "serve", "--host", "0.0.0.0", "--port", "9"]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)

    refused = serve_public()
    assert refused.returncode == 2 and "refusing to bind 0.0.0.0 without API keys" in refused.stderr
    assert keys_cli(data_dir, "create", "--scope", "chat").returncode == 0
    past_the_check = serve_public()
    assert past_the_check.returncode == 2, past_the_check.stderr
    assert (
        "refusing to bind" not in past_the_check.stderr
        and "prompt template not found" in past_the_check.stderr
    )
