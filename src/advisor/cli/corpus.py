"""``advisor corpus ...``: commands for corpus authors.

Only light modules are imported here; the checker is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

corpus_app = typer.Typer(
    help="Work with a guidance corpus (Markdown with front matter, text, HTML or PDF).",
    no_args_is_help=True,
)


@corpus_app.callback()
def _corpus() -> None:
    """Work with a guidance corpus (Markdown with front matter, text, HTML or PDF)."""


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@corpus_app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="Corpus folder (or a single file) to check.")] = Path(
        "knowledge"
    ),
    min_words: Annotated[
        int, typer.Option("--min-words", min=0, help="Fewest body words per document.")
    ] = 400,
    max_words: Annotated[
        int, typer.Option("--max-words", min=1, help="Most body words per document.")
    ] = 1200,
) -> None:
    """Check every document ingest would read: front matter, topics, length, sections and links of
    Markdown; that text, HTML and PDF files load and yield text.

    Exits 0 when the corpus is clean, 1 when there are problems, 2 when PATH does not exist.
    """
    if not path.exists():
        typer.echo(f"error: {path}: no such file or directory", err=True)
        raise typer.Exit(2)
    if min_words > max_words:
        typer.echo(f"error: --min-words ({min_words}) is larger than --max-words ({max_words})", err=True)
        raise typer.Exit(2)

    from advisor.corpus.check import check_corpus
    from advisor.corpus.loaders import discover_files

    documents = len(discover_files([path]))
    problems = check_corpus(path, min_words=min_words, max_words=max_words)
    for problem in problems:
        typer.echo(str(problem))
    typer.echo(f"{_plural(documents, 'document')} checked, {_plural(len(problems), 'problem')}")
    if problems:
        raise typer.Exit(1)
