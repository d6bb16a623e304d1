"""``advisor gaps``: the knowledge-gaps report (see advisor.chat.gaps) as text, JSON or HTML."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from advisor.cli import common
from advisor.cli.common import fail

_TEMPLATES = Path(__file__).resolve().parent / "templates"


def gaps(
    since: Annotated[str, typer.Option("--since", help="How far back to look (30d, 12h, 2w).")] = "30d",
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the report as an HTML page.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """What users asked that the guidance did not answer well, clustered by meaning, with the
    document each cluster suggests writing."""
    from advisor.chat.gaps import find_gaps
    from advisor.corpus.taxonomy import load_topics
    from advisor.retention import parse_age

    try:
        start = datetime.now(UTC) - parse_age(since)
    except ValueError as exc:
        fail(str(exc))
    container = common.build_container()
    questions = container.conversations.gap_questions(start)
    try:
        report = find_gaps(
            questions,
            container.embedder,
            container.retriever,
            load_topics(container.settings.knowledge_dir),
            start,
        )
    except Exception as exc:  # no index yet, the vector store away: one line, not a traceback
        fail(f"the gaps report needs the index: {type(exc).__name__}: {exc}")
    if html is not None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
        html.write_text(env.get_template("gaps.html.j2").render(report=report, since=since))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"{report.questions} questions not answered well since {start:%Y-%m-%d}; {len(report.clusters)} clusters"
    )
    for n, cluster in enumerate(report.clusters, 1):
        reasons = ", ".join(f"{count} {reason}" for reason, count in cluster.reasons.items())
        noun = "question" if cluster.size == 1 else "questions"
        typer.echo(f"\n{n}. {cluster.size} {noun} ({reasons}), topic {cluster.topic or '(none near)'}")
        for example in cluster.examples:
            typer.echo(f'   - "{example}"')
        near = "; ".join(f"{d.title} ({d.similarity:.2f})" for d in cluster.nearest) or "none"
        typer.echo(f"   nearest documents: {near}")
        typer.echo(f"   suggestion: {cluster.suggestion}")
    if html is not None:
        typer.echo(f"\nwritten: {html}")
