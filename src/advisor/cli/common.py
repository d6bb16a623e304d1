"""What every ``advisor`` command shares: one-line failures, settings with CLI logging, the container,
and the CLI as a caller of the chat core. Light: heavy modules are imported when a command runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:  # settings pull in pydantic-settings: imported when a command runs
    from advisor.chat.errors import ChatError
    from advisor.chat.model import Caller
    from advisor.container import Container
    from advisor.settings import Settings


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"advisor: {message}", err=True)
    raise typer.Exit(code)


def fail_refused(exc: ChatError, settings: Settings | None = None) -> NoReturn:
    """A refusal from the chat core, with its reason, as every other channel words it; "no index"
    says where the CLI looked (the API never shows the server's folders)."""
    if exc.kind == "not_ready" and settings is not None:
        fail(f"{exc.reason} ({settings.storage_line()})")
    fail(exc.reason)


def say_storage(settings: Settings) -> None:
    """The one line naming the index and database a command works on."""
    typer.echo(f"advisor: {settings.storage_line()}", err=True)


class _BriefFormatter(logging.Formatter):
    """CLI users get one line per problem; tracebacks only at DEBUG."""

    def __init__(self, verbose: bool) -> None:
        # request_id: "-" outside an HTTP request (advisor.observability.RequestIdFilter).
        super().__init__("%(levelname)s %(name)s [%(request_id)s]: %(message)s")
        self._verbose = verbose

    def formatException(self, ei: Any) -> str:
        return super().formatException(ei) if self._verbose else ""

    def format(self, record: logging.LogRecord) -> str:
        if not self._verbose:
            record.exc_text = ""
            record.exc_info = None
        return super().format(record)


def load_settings() -> Settings:
    from advisor.settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError as exc:
        fail(str(exc))
    from advisor.observability import JsonLogFormatter, RequestIdFilter

    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(_BriefFormatter(settings.log_level == "DEBUG"))
    handler.addFilter(RequestIdFilter())
    # Libraries (alembic, chromadb, httpx) stay at WARNING; Advisor's own logs follow log_level.
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("advisor").setLevel(settings.log_level)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on its own logger
    return settings


def container_factory() -> Callable[[Settings], Container]:
    """How commands build containers from settings (tests hand in one with fast components)."""
    from advisor.container import Container

    return Container


def build_container() -> Container:
    return container_factory()(load_settings())


def cli_caller() -> Caller:
    """The operator at the shell: local, every scope."""
    from advisor.auth import LOCAL_PRINCIPAL
    from advisor.chat.model import Caller

    return Caller(LOCAL_PRINCIPAL, "cli")
