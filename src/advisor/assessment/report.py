"""An assessment as JSON (the API's and `--json`'s shape, also what is stored) and as a standalone
HTML report (printable to PDF from a browser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.assessment.model import (
    Action,
    Answer,
    Assessment,
    Choice,
    OpenQuestion,
    PlanItem,
    Reason,
    Scorecard,
    TopicScore,
)
from advisor.types import Citation

_TEMPLATES = Path(__file__).resolve().parent / "templates"
COLOURS = {1: "#b3261e", 2: "#c77700", 3: "#6b8e23", 4: "#1e7d32", None: "#8a94a1"}


def _action(action: Action) -> dict[str, Any]:
    return {"text": action.text, "n": action.n}


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    card = assessment.scorecard
    return {
        "initiative": assessment.initiative,
        "answers": [
            {"question": a.question, "choice": a.choice, "source": a.source, "said": a.said}
            for a in assessment.answers
        ],
        "scorecard": {
            "topics": [
                {
                    "topic": t.topic,
                    "group": t.group,
                    "level": t.level,
                    "label": t.label,
                    "facts": list(t.facts),
                    "reasons": [{"text": r.text, "level": r.level, "rule": r.rule} for r in t.reasons],
                    "actions": [_action(a) for a in t.actions],
                }
                for t in card.topics
            ],
            "risks": [t.topic for t in card.risks],
            "plan": [{"days": p.days, "topic": p.topic, **_action(p.action)} for p in card.plan],
            "citations": [c.as_dict() for c in card.citations],
            "open_questions": [
                {
                    "id": q.id,
                    "topic": q.topic,
                    "text": q.text,
                    "choices": [{"id": c.id, "label": c.label} for c in q.choices],
                }
                for q in card.open_questions
            ],
        },
        "changes": [{"topic": t, "before": b, "after": a} for t, b, a in assessment.changes],
    }


def assessment_from_json(data: dict[str, Any]) -> Assessment:
    """The inverse of assessment_json (for stored assessments)."""
    card = data["scorecard"]
    topics = tuple(
        TopicScore(
            t["topic"],
            t["group"],
            t["level"],
            t["label"],
            tuple(t["facts"]),
            tuple(Reason(r["text"], r["level"], r.get("rule", "")) for r in t["reasons"]),
            tuple(Action(a["text"], a["n"]) for a in t["actions"]),
        )
        for t in card["topics"]
    )
    by_topic = {t.topic: t for t in topics}
    scorecard = Scorecard(
        topics,
        tuple(by_topic[name] for name in card["risks"]),
        tuple(PlanItem(p["days"], p["topic"], Action(p["text"], p["n"])) for p in card["plan"]),
        tuple(Citation.from_dict(c) for c in card["citations"]),
        tuple(
            OpenQuestion(
                q["id"], q["topic"], q["text"], tuple(Choice(c["id"], c["label"]) for c in q["choices"])
            )
            for q in card["open_questions"]
        ),
    )
    return Assessment(
        data["initiative"],
        tuple(Answer(a["question"], a["choice"], a["source"], a.get("said", "")) for a in data["answers"]),
        scorecard,
        tuple((c["topic"], c["before"], c["after"]) for c in data.get("changes", [])),
    )


def render_html(assessment: Assessment, title: str = "AI initiative readiness") -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    groups: dict[str, list[TopicScore]] = {}
    for topic in assessment.scorecard.topics:
        groups.setdefault(topic.group, []).append(topic)
    return env.get_template("report.html.j2").render(
        title=title, a=assessment, card=assessment.scorecard, groups=groups, colours=COLOURS
    )
