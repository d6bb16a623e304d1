"""The CLI habits operators expect (issue 17, CLI): --version, short flags, shell completion, Markdown
rendered with rich on a terminal (plain when piped or asked), and `serve` options for running behind
a proxy with one access line per request."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from advisor.cli.main import app as cli_app
from tests.chat.helpers import NOTEBOOK_QUESTION
from tests.cli.conftest import Invoke
from tests.plugins.fast import FastContainer


def test_version_is_printed() -> None:
    from importlib.metadata import version

    for flag in ("--version", "-V"):
        done = CliRunner().invoke(cli_app, [flag])
        assert done.exit_code == 0 and done.stdout.strip() == f"advisor {version('advisor')}"


def test_completion_can_be_shown_for_the_common_shells() -> None:
    done = CliRunner().invoke(cli_app, ["--help"])
    assert "--install-completion" in done.output and "--show-completion" in done.output


def test_short_flags_mean_the_long_ones(fast_container: FastContainer, invoke: Invoke) -> None:
    container = fast_container()
    long = invoke(container, "search", "hire ML engineers", "--k", "3", "--topic", "talent", "--json")
    short = invoke(container, "search", "hire ML engineers", "-k", "3", "-t", "talent", "--json")
    assert long.exit_code == short.exit_code == 0 and long.stdout == short.stdout
    asked = invoke(
        container, "ask", NOTEBOOK_QUESTION, "-i", "Churn model, three CRMs", "-t", "deployment", "--json"
    )
    assert asked.exit_code == 0, asked.output


def test_ask_renders_markdown_with_rich_or_plain(fast_container: FastContainer, invoke: Invoke) -> None:
    container = fast_container()
    piped = invoke(container, "ask", NOTEBOOK_QUESTION)  # not a terminal: plain, as before
    assert "**" in piped.stdout and "\nSources:\n" in piped.stdout
    rich = invoke(container, "ask", NOTEBOOK_QUESTION, "--rich")
    assert rich.exit_code == 0, rich.output
    assert "**" not in rich.stdout and "Sources:" in rich.stdout and "[1]" in rich.stdout
    assert rich.stdout.rstrip().splitlines()[-1].startswith("conversation: ")
    plain = invoke(container, "ask", NOTEBOOK_QUESTION, "--plain")
    assert "**" in plain.stdout


def test_serve_runs_behind_a_proxy_with_one_access_line(
    fast_container: FastContainer, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: ran.update(options))
    container = fast_container()
    done = invoke(container, "serve", "-p", "8123", "--forwarded-allow-ips", "10.0.0.5,10.0.0.6")
    assert done.exit_code == 0, done.output
    assert ran["port"] == 8123 and ran["access_log"] is False  # advisor.access logs each request once
    assert ran["proxy_headers"] is True and ran["forwarded_allow_ips"] == "10.0.0.5,10.0.0.6"
    done = invoke(container, "serve", "--no-proxy-headers")
    assert ran["proxy_headers"] is False


def test_json_logs_carry_level_logger_message_and_request_id(
    fast_container: FastContainer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import logging

    import advisor.settings
    from advisor.cli import common
    from advisor.observability import request_id

    settings = fast_container(log_format="json").settings
    monkeypatch.setattr(advisor.settings, "get_settings", lambda: settings)
    common.load_settings()
    token = request_id.set("req-42")
    try:
        logging.getLogger("advisor.test").warning("the index is %s", "stale")
    finally:
        request_id.reset(token)
        logging.getLogger().handlers.clear()
    (line,) = capsys.readouterr().err.strip().splitlines()
    entry = json.loads(line)
    assert {k: entry[k] for k in ("level", "logger", "message", "request_id")} == {
        "level": "WARNING",
        "logger": "advisor.test",
        "message": "the index is stale",
        "request_id": "req-42",
    }
    assert entry["time"].endswith("Z")
