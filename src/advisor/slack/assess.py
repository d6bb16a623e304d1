"""`/advisor assess`: a Block Kit modal with the description and the guided questions (each answer
optional, the description read first), and the scorecard it produces as a message. Pure functions
from the rules and the assessment to Slack's JSON, so they are tested without Slack."""

from __future__ import annotations

import json
from typing import Any

from advisor.assessment.model import Assessment
from advisor.assessment.rules import AssessmentRules
from advisor.slack.blocks import Block, SlackMessage, context, escape, section, sources_line

CALLBACK = "advisor_assess"
DESCRIPTION = "advisor_assess_description"
_QUESTION = "advisor_assess_q_"
_OPTION_LIMIT = 75  # characters of a static select option's text
LEVEL_MARK = {
    1: ":red_circle:",
    2: ":large_orange_circle:",
    3: ":large_yellow_circle:",
    4: ":large_green_circle:",
}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def assessment_modal(rules: AssessmentRules, description: str, metadata: dict[str, str]) -> dict[str, Any]:
    """The modal: the description, then one optional select per question, grouped by topic."""
    blocks: list[Block] = [
        {
            "type": "input",
            "block_id": DESCRIPTION,
            "optional": True,
            "label": {"type": "plain_text", "text": "Your initiative, in your own words"},
            "hint": {
                "type": "plain_text",
                "text": "Goal, data, team, infrastructure, constraints. Answers below win over it.",
            },
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": 3000,
                **({"initial_value": description[:3000]} if description else {}),
            },
        }
    ]
    for question in rules.questions:
        blocks.append(
            {
                "type": "input",
                "block_id": f"{_QUESTION}{question.id}",
                "optional": True,
                "label": {"type": "plain_text", "text": _short(question.text, 2000)},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "placeholder": {"type": "plain_text", "text": "Leave empty if the description says it"},
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": _short(c.label, _OPTION_LIMIT)},
                            "value": c.id,
                        }
                        for c in question.choices
                    ],
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": "Assess my initiative"},
        "submit": {"type": "plain_text", "text": "Score it"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def read_submission(view: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, str]]:
    """(description, chosen answers, private metadata) from a view_submission's view."""
    values: dict[str, Any] = (view.get("state") or {}).get("values") or {}
    description = str(((values.get(DESCRIPTION) or {}).get("value") or {}).get("value") or "").strip()
    chosen = {}
    for block_id, actions in values.items():
        if block_id.startswith(_QUESTION):
            picked = ((actions or {}).get("value") or {}).get("selected_option")
            if picked:
                chosen[block_id.removeprefix(_QUESTION)] = str(picked["value"])
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        metadata = {}
    return description, chosen, {str(k): str(v) for k, v in metadata.items()}


def scorecard_message(assessment: Assessment) -> SlackMessage:
    """The scorecard: each group's topics with a coloured level and the team's words, the three
    biggest risks, the 30/60/90 plan with [n] citations, and the sources."""
    card = assessment.scorecard
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Readiness of your initiative"}}
    ]
    if assessment.initiative:
        blocks.append(context(f"_{escape(_short(assessment.initiative, 500))}_"))
    groups: dict[str, list[str]] = {}
    for t in card.topics:
        mark = LEVEL_MARK.get(t.level or 0, ":white_circle:")
        level = f"{t.label} ({t.level} of 4)" if t.level else "not assessed"
        said = f" — you said “{escape(t.facts[0])}”" if t.facts else ""
        groups.setdefault(t.group, []).append(f"{mark} *{t.topic.replace('-', ' ')}*: {level}{said}")
    for group, lines in groups.items():
        blocks.append(section(f"*{escape(group)}*\n" + "\n".join(lines)))
    blocks.append({"type": "divider"})
    if card.risks:
        risks = [f"{n}. *{t.topic.replace('-', ' ')}* ({t.label})" for n, t in enumerate(card.risks, 1)]
        blocks.append(section("*The three biggest risks*\n" + "\n".join(risks)))
    for days in (30, 60, 90):
        items = [f"• {escape(p.action.text)} [{p.action.n}]" for p in card.plan if p.days == days]
        if items:
            blocks.append(section(_short(f"*Next {days} days*\n" + "\n".join(items), 3000)))
    if card.open_questions:
        blocks.append(
            context(
                f"Not assessed yet: {len(card.open_questions)} questions unanswered. Run the command again to answer them."
            )
        )
    if (sources := sources_line(card.citations)) is not None:
        blocks.append(context(sources))
    worst = ", ".join(t.topic for t in card.risks) or "none below mostly ready"
    return SlackMessage(f"Readiness scorecard: biggest risks {worst}", blocks)
