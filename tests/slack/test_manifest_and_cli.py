"""The app manifest matches what the bot listens to; `advisor slack socket` explains what it needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ADVISOR = Path(sys.executable).parent / "advisor"


def test_the_manifest_subscribes_to_what_the_bot_handles() -> None:
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yaml").read_text())
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
    }
    assert settings["interactivity"]["is_enabled"] is True
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/advisor"
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        command["url"],
    ]
    assert all(url.endswith("/slack/events") for url in urls)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "channels:history"} <= scopes


def _socket(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    return subprocess.run(
        [str(ADVISOR), "slack", "socket"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**clean, "HF_HUB_OFFLINE": "1", "ADVISOR_DATA_DIR": str(tmp_path / "data"), **env},
        timeout=120,
    )


def test_socket_mode_with_a_placeholder_token_fails_naming_the_setting(tmp_path: Path) -> None:
    """A real process with the settings in its environment (missing tokens: test_socket_mode.py)."""
    bad = _socket(tmp_path, ADVISOR_SLACK__BOT_TOKEN="xoxb-1-2-3", ADVISOR_SLACK__APP_TOKEN="changeme")
    assert bad.returncode == 2 and "slack.app_token" in bad.stderr and "placeholder" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
