"""The `advisor` command. Heavy libraries are imported inside commands so --help stays instant."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from advisor.cli.corpus import corpus_app
from advisor.cli.eval import eval_command
from advisor.cli.keys import keys_app
from advisor.cli.widget import widget_app
from advisor.slack.cli import slack_app

if TYPE_CHECKING:  # settings pull in pydantic-settings: imported when a command runs
    from advisor.settings import Settings

app = typer.Typer(
    name="advisor",
    help="Advisor: grounded, cited advice for taking AI initiatives to production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(corpus_app, name="corpus")
app.command("eval")(eval_command)
app.add_typer(widget_app, name="widget")
app.add_typer(keys_app, name="keys")
app.add_typer(slack_app, name="slack")

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"advisor: {message}", err=True)
    raise typer.Exit(code)


class _BriefFormatter(logging.Formatter):
    """CLI users get one line per problem; tracebacks only at DEBUG."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self._verbose = verbose

    def formatException(self, ei: Any) -> str:
        return super().formatException(ei) if self._verbose else ""

    def format(self, record: logging.LogRecord) -> str:
        if not self._verbose:
            record.exc_text = ""
            record.exc_info = None
        return super().format(record)


def _settings() -> Settings:
    from advisor.settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError as exc:
        _fail(str(exc))
    handler = logging.StreamHandler()
    handler.setFormatter(_BriefFormatter(settings.log_level == "DEBUG"))
    # Libraries (alembic, chromadb, httpx) stay at WARNING; Advisor's own logs follow log_level.
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("advisor").setLevel(settings.log_level)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on its own logger
    return settings


def _container() -> Any:
    from advisor.container import Container

    return Container(_settings())


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders; default the knowledge folder.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Re-embed every document even if unchanged.")] = False,
) -> None:
    """Index documents (Markdown, text, HTML, PDF) incrementally and atomically."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from advisor.ingest.indexer import IngestError

    container = _container()
    targets = paths or [container.settings.knowledge_dir]
    with Progress(
        TextColumn("embedding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("embed", total=None)
        try:
            report = container.indexer.ingest(
                targets,
                force=force,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        except IngestError as exc:
            _fail(str(exc))
    for problem in report.skipped:
        typer.echo(f"skipped {problem}", err=True)
    typer.echo(report.summary())
    if report.skipped:
        raise typer.Exit(1)


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Results to return.")] = 6,
    topic: Annotated[
        list[str] | None, typer.Option("--topic", help="Only passages with this topic (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /v1/search response object.")] = False,
) -> None:
    """Search the corpus (hybrid dense + BM25)."""
    from advisor.retrieval.retriever import IndexNotReadyError

    container = _container()
    try:
        found = container.retriever.retrieve_passages(query, k, topic)
    except IndexNotReadyError as exc:
        _fail(str(exc))
    results = [p.as_search_result() for p in found.passages]
    if as_json:
        _print_json({"results": results, "in_scope": found.in_scope})
        return
    if not found.in_scope:
        typer.echo("(nothing in the corpus clears the relevance floor: this looks out of scope)")
    for i, r in enumerate(results, 1):
        typer.echo(f"{i}. {r['title']} > {r['section']}  [{', '.join(r['topics'])}]  score {r['score']:.4f}")
        typer.echo(f"   {r['source']}: {' '.join(str(r['text']).split())[:160]}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    initiative: Annotated[
        str | None, typer.Option(help="Describe your initiative (team, data, stage...).")
    ] = None,
    conversation: Annotated[str | None, typer.Option(help="Continue this conversation id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /v1/chat response object.")] = False,
) -> None:
    """Ask Advisor a question and get a cited answer."""
    from advisor.answer.service import AnswerFailedError, ChatRequest, ConversationNotFoundError
    from advisor.retrieval.retriever import IndexNotReadyError

    container = _container()
    service = container.answers
    try:
        # The answer stream reports a missing index as a generic failure: check it first, so the
        # error says to run `advisor ingest` and no conversation is started.
        container.retriever.chunk_count()
        result = service.answer(service.prepare(ChatRequest(question, conversation, initiative), None))
    except ConversationNotFoundError:
        _fail(f"conversation {conversation} not found")
    except (IndexNotReadyError, AnswerFailedError) as exc:
        _fail(str(exc))
    if as_json:
        _print_json(result)
        return
    typer.echo(result["answer"])
    if result["citations"]:
        typer.echo("\nSources:")
        for c in result["citations"]:
            typer.echo(f"  [{c['n']}] {c['title']} > {c['section']} ({c['source']})")
    typer.echo(f"\nconversation: {result['conversation_id']}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default api.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default api.port).")] = None,
) -> None:
    """Run the HTTP API."""
    from advisor.startup_gc import pause_collection

    pause_collection()  # until the warm-up is done (see advisor.startup_gc); before the heavy imports
    settings = _settings()
    host = host or settings.api.host
    port = port or settings.api.port
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from advisor.api.app import create_app
    from advisor.components.chat_model import ProviderConfigError
    from advisor.components.prompts import PromptError

    application = create_app(settings)
    try:
        # Keys come from api.keys or from the database (`advisor keys create`).
        keys_required = application.state.container.auth_required()
    except SQLAlchemyError as exc:
        _fail(f"database: {exc}")
    if not keys_required:
        if host not in _LOOPBACK:
            _fail(
                f"refusing to bind {host} without API keys: run `advisor keys create`, "
                "set ADVISOR_API__KEYS or bind 127.0.0.1"
            )
        typer.echo("advisor: no API keys configured, serving on loopback only", err=True)
    try:
        _ = application.state.container.llm  # a missing provider extra or prompt fails now, not per request
    except (ProviderConfigError, PromptError) as exc:
        _fail(f"llm: {exc}")
    uvicorn.run(application, host=host, port=port, log_level=settings.log_level.lower())


def run() -> None:
    app()
