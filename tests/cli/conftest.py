"""The CLI run in-process over a prepared container (``invoke``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

import advisor.settings
from advisor.cli import common
from advisor.cli.main import app as cli_app
from advisor.container import Container

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """invoke(container, *args) -> `advisor *args` run in-process, over ``container``."""

    def run(container: Container, *args: str) -> Result:
        monkeypatch.setattr(common, "build_container", lambda: container)
        monkeypatch.setattr(advisor.settings, "get_settings", lambda: container.settings)
        return CliRunner().invoke(cli_app, list(args))

    return run
