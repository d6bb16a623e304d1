"""Widget keys: settings validation, the key resolver's origin rules, and `advisor widget create-key`."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from advisor.auth import KeyRejectedError
from advisor.auth.widget_keys import WidgetKeyring
from advisor.channel_settings import WidgetSettings, normalise_origin
from advisor.cli.main import app
from advisor.container import Container
from advisor.settings import SettingsError, load_settings
from tests.widget.conftest import WIDGET_KEY

INTRANET = "https://intranet.example"


def keyring(*entries: dict[str, object]) -> WidgetKeyring:
    return WidgetKeyring(WidgetSettings.model_validate({"keys": list(entries)}))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Intranet.Example/", INTRANET),
        ("https://intranet.example:443", INTRANET),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:80", "http://[::1]"),
        ("https://intranet.example/path", None),
        ("*", None),
        ("intranet.example", None),
        ("ftp://intranet.example", None),
    ],
)
def test_origins_are_normalised_or_refused(given: str, expected: str | None) -> None:
    assert normalise_origin(given) == expected


def test_widget_keys_come_from_env_json(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = {"name": "intranet", "key": WIDGET_KEY, "origins": ["https://INTRANET.example/"]}
    monkeypatch.setenv("ADVISOR_WIDGET__KEYS", json.dumps([entry]))
    monkeypatch.setenv("ADVISOR_WIDGET__RATE_LIMIT_STORAGE", "redis://127.0.0.1:6379")
    settings = load_settings()
    (key,) = settings.widget.keys
    assert key.name == "intranet" and key.key.get_secret_value() == WIDGET_KEY
    assert key.origins == [INTRANET]
    assert settings.widget.rate_limit_storage == "redis://127.0.0.1:6379"
    assert WIDGET_KEY not in repr(settings)  # a SecretStr, even for a public key


@pytest.mark.parametrize(
    ("widget", "message"),
    [
        ({"keys": [{"key": WIDGET_KEY, "origins": ["https://x.example/*"]}]}, "is not an origin"),
        ({"keys": [{"key": "short", "origins": []}]}, "at least 16 characters"),
        ({"keys": [{"key": "changeme", "origins": []}]}, "placeholder"),
        ({"rate_limit_per_ip": "lots"}, "is not a rate limit"),
        ({"rate_limit_storage": "memcached://x"}, "memory:// or a redis://"),
    ],
)
def test_bad_widget_settings_fail_in_one_line(widget: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(widget=widget)
    text = str(caught.value)
    assert "widget." in text and message in text and "\n" not in text, text


def test_resolver_checks_the_origin_against_the_allow_list() -> None:
    ring = keyring({"name": "intranet", "key": WIDGET_KEY, "origins": [INTRANET]})
    principal = ring.resolve(WIDGET_KEY, "https://intranet.example")
    assert principal is not None and principal.kind == "widget"
    assert principal.scopes == {"chat", "feedback"} and principal.origins == (INTRANET,)
    assert principal.allows("chat") and not principal.allows("search") and not principal.allows("admin")
    assert principal.key_id and WIDGET_KEY not in principal.key_id
    assert ring.resolve("some-other-key-0123456789", INTRANET) is None  # not a widget key: next resolver
    for origin in ("https://evil.example", "https://intranet.example:8443", "null", None):
        with pytest.raises(KeyRejectedError) as caught:
            ring.resolve(WIDGET_KEY, origin)
        assert caught.value.status == 403


def test_a_key_without_origins_is_refused_everywhere() -> None:
    ring = keyring({"name": "closed", "key": WIDGET_KEY, "origins": []})
    with pytest.raises(KeyRejectedError, match="allows no origins") as caught:
        ring.resolve(WIDGET_KEY, INTRANET)
    assert caught.value.status == 403
    assert ring.allowed_origins() == set()


def test_the_container_resolves_widget_keys() -> None:
    settings = load_settings(widget={"keys": [{"key": WIDGET_KEY, "origins": [INTRANET]}]})
    container = Container(settings)
    principal = container.authenticator.resolve(WIDGET_KEY, INTRANET)
    assert principal is not None and principal.kind == "widget"
    with pytest.raises(KeyRejectedError):
        container.authenticator.resolve(WIDGET_KEY, "https://evil.example")


def test_create_key_prints_a_settings_entry_that_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(
        app,
        [
            "widget",
            "create-key",
            "--origin",
            "https://Intranet.example/",
            "--origin",
            "http://localhost:8000",
        ],
    )
    assert result.exit_code == 0, result.output
    env = re.search(r"ADVISOR_WIDGET__KEYS='(.+)'", result.output)
    assert env is not None, result.output
    monkeypatch.setenv("ADVISOR_WIDGET__KEYS", env.group(1))
    (key,) = load_settings().widget.keys
    assert key.origins == [INTRANET, "http://localhost:8000"]
    secret = key.key.get_secret_value()
    assert secret.startswith("wk_") and len(secret) >= 32
    assert f'data-widget-key="{secret}"' in result.output
    assert keyring(key.model_dump() | {"key": secret}).resolve(secret, INTRANET) is not None


def test_create_key_refuses_a_bad_origin() -> None:
    result = CliRunner().invoke(app, ["widget", "create-key", "--origin", "https://intranet.example/app"])
    assert result.exit_code == 2
    assert "'https://intranet.example/app' is not an origin" in result.output
