"""The offline composer: turns retrieved passages into prioritised, cited recommendations.

The bundled corpus writes actions as list items with a bold headline (``**Do this.** why``),
so the composer mostly selects and orders actions; plain sentences are the fallback for
corpora written as prose. Deterministic: the same passages and question give the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence, Set
from dataclasses import dataclass

import Stemmer

from advisor.compose.followup import rewrite_followup
from advisor.compose.guard import strip_invisible
from advisor.compose.protocol import Brief, Draft, stream_words
from advisor.compose.sanitise import filter_output, own_urls, sanitise_passages
from advisor.types import Passage, Turn

_STEM = Stemmer.Stemmer("english")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be but by can do does for from has have how i if in into is it its of on or our "
    "should so that the their them then there these they this to us was we what when where which who why "
    "will with you your my me about any all more most some than too very just also get".split()
)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*[:.]?\s*(.*)$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")

# Sections whose items are actions; other sections describe symptoms, roles or questions.
_ACTION_SECTIONS = ("first steps", "checklist", "next step", "what to do", "how to", "steps", "practices")
_SYMPTOM_SECTIONS = (
    "warning signs",
    "signs",
    "questions to ask",
    "related",
    "see also",
    "why",
    "pitfall",
    "mistake",
    "fail",
    "stall",
    "anti-pattern",
    "symptom",
)
_ASKS_FOR_SIGNS = re.compile(r"\b(signs?|symptoms?|red flags?|warning|pitfalls?|mistakes?)\b", re.I)
TOPIC_LABELS = {
    "business-objectives": "Business objectives",
    "data-quality": "Data quality",
    "infrastructure": "Infrastructure",
    "scalability": "Scalability",
    "deployment": "Deployment",
    "testing-validation": "Testing and validation",
    "monitoring": "Monitoring",
    "security-governance": "Security and governance",
    "change-management": "Change management",
    "talent": "Talent",
    "strategy-roadmap": "Strategy and roadmap",
    "explainability": "Explainability",
    "use-cases": "Industry examples",
}


def topic_label(topic: str) -> str:
    return TOPIC_LABELS.get(topic, topic.replace("-", " ").capitalize())


def terms(text: str) -> set[str]:
    return {_STEM.stemWord(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


@dataclass(frozen=True)
class Action:
    headline: str
    detail: str
    passage: int  # index into the passages list
    score: float

    @property
    def text(self) -> str:
        return f"{self.headline} {self.detail}".strip()


@dataclass(frozen=True)
class Composition:
    text: str
    passages: list[Passage]  # numbered 1..n as cited in text


def _first_sentence(text: str, limit: int = 260) -> str:
    sentence = _SENTENCE.split(text.strip(), maxsplit=1)[0]
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return sentence


# A question about symptoms wants the symptoms first; any other question wants actions first.
_ACTION_WEIGHTS = {"action": 0.6, "other": 0.0, "symptom": 0.3}
_SIGN_WEIGHTS = {"action": 0.2, "other": 0.0, "symptom": 0.7}
# Headlines that describe a thing or a situation ("A training pipeline.", "No tests.") rather
# than tell the reader what to do.
_NOT_IMPERATIVE = frozenset("a an the no nobody too our their its this that there it".split())


def _section_kind(section: str) -> str:
    lowered = section.lower()
    if any(key in lowered for key in _SYMPTOM_SECTIONS):
        return "symptom"
    if any(key in lowered for key in _ACTION_SECTIONS):
        return "action"
    return "other"


def extract_actions(
    passages: Sequence[Passage],
    question_terms: set[str],
    context_terms: Set[str] = frozenset(),
    asks_for_signs: bool = False,
) -> list[Action]:
    """Candidate recommendations with a score: passage relevance, then the section they come from
    (action sections first), then word overlap with the question and, less, with the initiative."""
    actions: list[Action] = []
    top = max((p.score for p in passages), default=0.0) or 1.0
    for index, passage in enumerate(passages):
        kind = _section_kind(passage.section)
        if kind == "symptom" and not asks_for_signs:
            continue
        relevance = passage.score / top
        items = [m.group(1) for line in passage.text.splitlines() if (m := _ITEM.match(line))]
        prose = not items
        if prose:
            paragraph = " ".join(line for line in passage.text.splitlines() if not line.startswith("#"))
            # Sentences that talk about the document itself are not advice.
            items = [
                s
                for s in _SENTENCE.split(paragraph)
                if 40 <= len(s) <= 400 and "this document" not in s.lower()
            ]
        for item in items:
            bold = _BOLD_LEAD.match(item.strip())
            headline, detail = (bold.group(1).strip(), bold.group(2).strip()) if bold else (item.strip(), "")
            if detail[:1].islower():
                # "**Keep the old version warm.** until ..." is one sentence split by the bold.
                headline, detail = f"{headline.rstrip('.:')} {_first_sentence(detail)}", ""
            if headline.endswith("?") or len(headline.split()) < 3:
                continue  # a question, or a bare label ("Timeliness."), is not a recommendation
            item_terms = terms(f"{headline} {detail}")
            weights = _SIGN_WEIGHTS if asks_for_signs else _ACTION_WEIGHTS
            describes = headline.split(" ", 1)[0].lower() in _NOT_IMPERATIVE and not asks_for_signs
            score = (
                relevance
                + weights[kind]
                - (0.35 if describes else 0.0)
                + 0.2 * len(item_terms & question_terms)
                + 0.04 * len(item_terms & context_terms)
                + (0.1 if bold else 0.0)
                - (1.0 if prose else 0.0)
            )
            if not headline.endswith((".", "!", "…")):
                headline += "."
            actions.append(Action(headline, _first_sentence(detail) if detail else "", index, score))
    return actions


def _too_similar(a: Action, chosen: list[Action]) -> bool:
    """Near-duplicates: most of the words overall, or of the shorter headline, are shared."""
    ta, ha = terms(a.text), terms(a.headline)
    for b in chosen:
        tb, hb = terms(b.text), terms(b.headline)
        if ta and tb and len(ta & tb) / len(ta | tb) > 0.4:
            return True
        if ha and hb and len(ha & hb) / min(len(ha), len(hb)) >= 0.6:
            return True
    return False


def select_actions(
    actions: list[Action], most: int = 6, least: int = 3, per_passage: int = 2
) -> list[Action]:
    chosen: list[Action] = []
    per: dict[int, int] = {}
    for action in sorted(actions, key=lambda a: (-a.score, a.passage, a.headline)):
        if len(chosen) == most:
            break
        if per.get(action.passage, 0) >= per_passage or _too_similar(action, chosen):
            continue
        # Past the minimum, only keep actions that are still clearly relevant.
        if len(chosen) >= least and action.score < chosen[0].score * 0.45:
            break
        chosen.append(action)
        per[action.passage] = per.get(action.passage, 0) + 1
    return chosen


def _initiative_clause(initiative: str | None) -> str:
    if not initiative:
        return ""
    # The team's own words are echoed back: never as an image, a link or hidden characters.
    short = " ".join(filter_output(strip_invisible(initiative)).split())
    if not short:
        return ""
    if len(short) > 140:
        short = short[:140].rsplit(" ", 1)[0] + "…"
    return f"For your initiative ({short}), "


def compose_extractive(
    question: str, passages: Sequence[Passage], initiative: str | None = None
) -> Composition:
    """Compose a cited answer; passages are renumbered in order of first citation.

    Sentences are copied from the passages, so the passages are sanitised first (instructions
    planted for an AI, hidden markup, images and foreign links removed) and the text again at the end.
    """
    return compose_sanitised(question, sanitise_passages(passages), initiative)


def compose_sanitised(
    question: str, passages: Sequence[Passage], initiative: str | None = None
) -> Composition:
    """:func:`compose_extractive` for passages that already went through ``sanitise_passages``
    (the answer service sanitises each turn's passages once, for whichever composer runs)."""
    question_terms = terms(question)
    context_terms = terms(initiative) - question_terms if initiative else set()
    asks_for_signs = bool(_ASKS_FOR_SIGNS.search(question))
    chosen = select_actions(extract_actions(passages, question_terms, context_terms, asks_for_signs))
    if not chosen:
        return Composition("", [])

    # Group by the primary topic of each action's document, groups ordered by their best action.
    groups: dict[str, list[Action]] = {}
    for action in chosen:
        topic = passages[action.passage].topics[0] if passages[action.passage].topics else ""
        groups.setdefault(topic, []).append(action)

    # Number passages in the order the text cites them, which is the grouped order.
    numbering: dict[int, int] = {}
    for items in groups.values():
        for action in items:
            numbering.setdefault(action.passage, len(numbering) + 1)
    cited = [passages[i] for i in numbering]

    labels = [topic_label(t) for t in groups if t]
    focus = ", ".join(labels[:-1]) + (" and " if len(labels) > 1 else "") + labels[-1] if labels else ""
    lead = _initiative_clause(initiative)
    first = f"{_lower_first(chosen[0].headline).rstrip('.')} [{numbering[chosen[0].passage]}]."
    opening = f"{lead}start here: {first}" if lead else f"Start here: {first}"
    if focus:
        opening += f" The guidance below is prioritised and covers {focus.lower()}."

    lines = [opening, ""]
    number = 1
    for topic, items in groups.items():
        if len(groups) > 1 and topic:
            lines.append(f"**{topic_label(topic)}**")
        for action in items:
            detail = f" {action.detail}" if action.detail else ""
            lines.append(f"{number}. **{action.headline}**{detail} [{numbering[action.passage]}]")
            number += 1
        lines.append("")
    lines.append("Ask a follow-up about any step for more detail.")
    return Composition(filter_output("\n".join(lines).strip(), own_urls(cited)), cited)


def _lower_first(text: str) -> str:
    # Keep acronyms (ML, KPI) intact; lower-case an ordinary first word.
    first = text.split(" ", 1)[0]
    return text if first.isupper() and len(first) > 1 else text[:1].lower() + text[1:]


class ExtractiveComposer:
    """The built-in composer (a ``Composer``): no model, always available, deterministic."""

    name = "extractive"

    def compose(self, brief: Brief) -> Generator[str, None, Draft]:
        composition = compose_sanitised(brief.question, brief.passages, brief.initiative)
        yield from stream_words(composition.text)
        return Draft(composition.text, tuple(composition.passages))

    def standalone_question(self, question: str, history: Sequence[Turn]) -> str:
        return rewrite_followup(question, history)
