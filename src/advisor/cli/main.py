"""The `advisor` command. Heavy libraries are imported inside commands so --help stays instant."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from advisor.cli import common
from advisor.cli.assess import assess
from advisor.cli.common import fail, fail_refused
from advisor.cli.corpus import corpus_app
from advisor.cli.eval import eval_command
from advisor.cli.gaps import gaps
from advisor.cli.keys import keys_app
from advisor.cli.purge import purge
from advisor.cli.slack import slack_app
from advisor.cli.sources import sources_app
from advisor.cli.widget import widget_app

app = typer.Typer(
    name="advisor",
    help="Advisor: grounded, cited advice for taking AI initiatives to production.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"advisor {version('advisor')}")
        raise typer.Exit()


@app.callback()
def main(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Advisor: grounded, cited advice for taking AI initiatives to production."""


app.add_typer(corpus_app, name="corpus")
app.command("eval")(eval_command)
app.add_typer(widget_app, name="widget")
app.add_typer(keys_app, name="keys")
app.add_typer(sources_app, name="sources")
app.command()(purge)
app.command()(gaps)
app.command()(assess)
app.add_typer(slack_app, name="slack")

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Folders (or files) to add or refresh as sources; default: every source."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Source name for PATHS (default: each folder's name).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Re-embed every document even if unchanged.")] = False,
) -> None:
    """Index documents (Markdown, text, HTML, PDF) incrementally and atomically. Each folder is a named
    source: ingesting one never removes another's documents (`advisor sources remove` does)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from advisor.ingest.indexer import IngestError
    from advisor.ingest.sources import SourceNameError, describe, name_sources, registered_sources

    container = common.build_container()
    common.say_storage(container.settings)
    knowledge_dir = container.settings.knowledge_dir
    for path in paths or ():
        if not path.exists():
            fail(f"{path}: no such file or directory")
    try:
        sources = (
            name_sources(paths, knowledge_dir, name)
            if paths
            else registered_sources(container.index_repository.sources(), knowledge_dir)
        )
    except SourceNameError as exc:
        fail(str(exc))
    if name is not None and not paths:
        fail("--name names the source of the PATHS given; give at least one")
    typer.echo(f"sources: {describe(sources)}", err=True)
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
            report = container.indexer.ingest_sources(
                sources,
                force=force,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        except IngestError as exc:
            fail(str(exc))
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
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="Results to return.")] = 6,
    topic: Annotated[
        list[str] | None, typer.Option("--topic", "-t", help="Only passages with this topic (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /v1/search response object.")] = False,
) -> None:
    """Search the corpus (hybrid dense + BM25)."""
    from advisor.chat.errors import ChatError
    from advisor.chat.model import SearchRequest

    container = common.build_container()
    try:
        found = container.chat.search(SearchRequest(query, k, tuple(topic or ())), common.cli_caller())
    except ChatError as exc:
        fail_refused(exc, container.settings)
    if as_json:
        _print_json({"results": [p.as_search_result() for p in found.passages], "in_scope": found.in_scope})
        return
    if not found.in_scope:
        typer.echo("(nothing in the corpus clears the relevance floor: this looks out of scope)")
    for i, p in enumerate(found.passages, 1):
        typer.echo(f"{i}. {p.title} > {p.section}  [{', '.join(p.topics)}]  score {p.score:.4f}")
        typer.echo(f"   {p.source}: {' '.join(p.text.split())[:160]}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    initiative: Annotated[
        str | None,
        typer.Option("--initiative", "-i", help="Describe your initiative (team, data, stage...)."),
    ] = None,
    conversation: Annotated[
        str | None, typer.Option("--conversation", "-c", help="Continue this conversation id.")
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", "-t", help="Only draw on passages with this topic (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /v1/chat response object.")] = False,
    rich_output: Annotated[
        bool | None,
        typer.Option("--rich/--plain", help="Render the Markdown (default: when printing to a terminal)."),
    ] = None,
) -> None:
    """Ask Advisor a question and get a cited answer."""
    from advisor.chat.errors import ChatError
    from advisor.chat.model import ChatRequest

    container = common.build_container()
    request = ChatRequest(question, conversation, initiative, topics=tuple(topic or ()))
    try:
        result = container.chat.ask(request, common.cli_caller())
    except ChatError as exc:
        fail_refused(exc, container.settings)
    if as_json:
        from advisor.api.schemas import ChatOut

        _print_json(ChatOut.of(result).model_dump(mode="json"))
        return
    sources = [f"  [{c.n}] {c.title} > {c.section} ({c.source})" for c in result.citations]
    if rich_output if rich_output is not None else sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        console = Console()
        console.print(Markdown(result.answer))
        if sources:
            console.print("\n[bold]Sources:[/bold]")
            for line in sources:
                console.print(line, markup=False, highlight=False)
        console.print(f"\nconversation: {result.conversation_id}", highlight=False)
        return
    typer.echo(result.answer)
    if sources:
        typer.echo("\nSources:\n" + "\n".join(sources))
    typer.echo(f"\nconversation: {result.conversation_id}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default api.host).")] = None,
    port: Annotated[int | None, typer.Option("--port", "-p", help="Port (default api.port).")] = None,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--no-proxy-headers",
            help="Take the client address and scheme from X-Forwarded-For/-Proto, from the addresses "
            "in --forwarded-allow-ips only.",
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Comma-separated proxy addresses (or '*') whose X-Forwarded-* headers are trusted."
        ),
    ] = "127.0.0.1",
) -> None:
    """Run the HTTP API."""
    from advisor.startup_gc import pause_collection

    pause_collection()  # until the warm-up is done (see advisor.startup_gc); before the heavy imports
    settings = common.load_settings()
    host = host or settings.api.host
    port = port or settings.api.port
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from advisor.app import create_app
    from advisor.components.chat_model import ProviderConfigError
    from advisor.components.prompts import PromptError

    application = create_app(settings)
    try:
        # Keys come from api.keys or from the database (`advisor keys create`).
        keys_required = application.state.container.authenticator.auth_required()
    except SQLAlchemyError as exc:
        fail(f"database: {exc}")
    if not keys_required:
        if host not in _LOOPBACK:
            fail(
                f"refusing to bind {host} without API keys: run `advisor keys create`, "
                "set ADVISOR_API__KEYS or bind 127.0.0.1"
            )
        typer.echo("advisor: no API keys configured, serving on loopback only", err=True)
    try:
        _ = application.state.container.llm  # a missing provider extra or prompt fails now, not per request
    except (ProviderConfigError, PromptError) as exc:
        fail(f"llm: {exc}")
    common.say_storage(settings)  # once it is sure to start: a refusal stays one line
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,  # advisor.access writes one line per request, with its id and key id
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
    )


def run() -> None:
    app()
