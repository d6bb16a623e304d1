"""``advisor sources ...``: the named sources the corpus is read from (`advisor ingest <folder>` adds
one), and removing one with everything it brought, explicitly."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from advisor.cli import common
from advisor.cli.common import fail

if TYPE_CHECKING:
    from advisor.container import Container

sources_app = typer.Typer(help="The named sources of the corpus.", no_args_is_help=True)


@sources_app.callback()
def _sources() -> None:
    """The named sources of the corpus (the bundled knowledge folder, folders you ingested)."""


def _documents_by_source(container: Container) -> dict[str, list[str]]:
    repo = container.index_repository
    state = repo.get_index_state()
    if state is None:
        return {}
    found: dict[str, list[str]] = {}
    for record in repo.indexed_documents(state.collection).values():
        found.setdefault(record.source_name, []).append(record.doc_id)
    return found


@sources_app.command("list")
def list_sources(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Each source: its folders and how many documents of it the index holds."""
    container = common.build_container()
    documents = _documents_by_source(container)
    rows = [
        {"name": s.name, "folders": json.loads(s.path), "documents": len(documents.get(s.name, []))}
        for s in container.index_repository.sources()
    ]
    rows += [
        {"name": n, "folders": [], "documents": len(d)}
        for n, d in documents.items()
        if n not in {r["name"] for r in rows}
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no sources yet: run `advisor ingest`")
    for row in rows:
        typer.echo(
            f"{row['name']}: {row['documents']} documents from {', '.join(row['folders']) or '(folder not recorded)'}"
        )


@sources_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The source to remove (see `advisor sources list`).")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a source and all its documents from the index; other sources are kept."""
    from advisor.ingest.indexer import IngestError

    container = common.build_container()
    by_source = _documents_by_source(container)
    if name not in by_source and name not in {s.name for s in container.index_repository.sources()}:
        fail(f"no source named {name!r}; see `advisor sources list`")
    documents = sorted(by_source.get(name, []))
    shown = ", ".join(documents[:10]) + (f" and {len(documents) - 10} more" if len(documents) > 10 else "")
    typer.echo(
        f"source {name!r}: {len(documents)} documents will leave the index{': ' + shown if shown else ''}"
    )
    if not yes:
        if not sys.stdin.isatty():
            fail("add --yes to remove it without a prompt")
        typer.confirm("remove it?", abort=True)
    try:
        report = container.indexer.remove_source(name)
    except IngestError as exc:
        fail(str(exc))
    typer.echo(
        f"removed source {name!r}: {report.removed} documents; {report.other_sources} kept from other sources"
    )
