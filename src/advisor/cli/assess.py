"""``advisor assess``: score an initiative's readiness from its description (or a profile file) and
print the scorecard; ``--json`` and ``--html`` write the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from advisor.cli import common
from advisor.cli.common import fail

_STYLE = {1: "bold red", 2: "bold dark_orange", 3: "bold yellow4", 4: "bold green", None: "dim"}


def _profile(path: Path) -> tuple[str, dict[str, str]]:
    """(description, chosen answers) from a YAML profile: ``initiative:`` text and ``answers:``."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{path}: cannot read it ({exc.strerror or exc})")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        fail(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})")
    if not isinstance(data, dict):
        fail(f"{path}: expected a mapping with 'initiative' and/or 'answers'")
    initiative = data.get("initiative") or ""
    answers = data.get("answers") or {}
    if not isinstance(initiative, str) or not isinstance(answers, dict):
        fail(f"{path}: 'initiative' must be text and 'answers' a mapping of question: answer")
    return initiative, {str(k): str(v) for k, v in answers.items()}


def assess(
    initiative: Annotated[
        str | None, typer.Option("--initiative", "-i", help="The initiative in your own words.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="A YAML profile: initiative text and answers.")
    ] = None,
    answer: Annotated[
        list[str] | None, typer.Option("--answer", "-a", help="An answer as question=choice (repeatable).")
    ] = None,
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Write the assessment as JSON ('-': print it).")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the report as a standalone HTML page.")
    ] = None,
) -> None:
    """Score an initiative against the reasons AI initiatives stall: a level per topic with the facts
    and rules behind it, cited actions, the three biggest risks and a 30/60/90-day plan."""
    from advisor.assessment.report import assessment_json, render_html
    from advisor.assessment.service import AnswerError

    text, chosen = _profile(file) if file else ("", {})
    if initiative:
        text = f"{text}. {initiative}" if text else initiative
    for item in answer or []:
        question, sep, choice = item.partition("=")
        if not sep:
            fail(f"--answer {item!r}: write it as question=choice, e.g. mlops=manual")
        chosen[question.strip()] = choice.strip()
    if not text and not chosen:
        fail("describe the initiative with --initiative, or give --file or --answer")
    container = common.build_container()
    try:
        result = container.assessor.assess(text, chosen)
    except AnswerError as exc:
        fail(str(exc))
    data = assessment_json(result)
    if as_json is not None:
        body = json.dumps(data, indent=2, ensure_ascii=False)
        if str(as_json) == "-":
            typer.echo(body)
            return
        as_json.write_text(body + "\n", encoding="utf-8")
    if html is not None:
        html.write_text(render_html(result), encoding="utf-8")
    _print(data)


def _print(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    card = data["scorecard"]
    table = Table(title="Readiness", show_lines=True)
    for column in ("group", "topic", "level", "why", "first actions"):
        table.add_column(column)
    for t in card["topics"]:
        why = "; ".join(
            [*(f"you said “{f}”" for f in t["facts"]), *(r["text"] for r in t["reasons"] if r["rule"])]
        )
        actions = "\n".join(f"{a['text']} [{a['n']}]" for a in t["actions"][:2])
        level = f"[{_STYLE[t['level']]}]{t['level'] or '?'} {t['label']}[/]"
        table.add_row(t["group"], t["topic"], level, why, actions)
    console.print(table)
    if card["risks"]:
        console.print("[bold]The three biggest risks:[/] " + ", ".join(card["risks"]))
    for days in (30, 60, 90):
        items = [p for p in card["plan"] if p["days"] == days]
        if items:
            console.print(f"[bold]Next {days} days[/]")
            for p in items:
                console.print(f"  - {p['text']} [{p['n']}] ({p['topic']})", highlight=False)
    console.print("[bold]Sources[/]")
    for c in card["citations"]:
        console.print(f"  [{c['n']}] {c['title']} — {c['section']} ({c['source']})", highlight=False)
    if card["open_questions"]:
        console.print(
            "[bold]Still to answer[/] (give them with --answer question=choice): "
            + "; ".join(
                f"{q['id']} ({'/'.join(c['id'] for c in q['choices'])})" for q in card["open_questions"]
            ),
            highlight=False,
        )
