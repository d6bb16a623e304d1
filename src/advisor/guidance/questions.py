"""Reading a question: what kind of answer it wants, what a "what is X" asks about, and which corpus
words its everyday wording stands for (query expansion from ``synonyms.toml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from advisor.guidance.rules import GuidanceRules

_TERM = re.compile(
    r"(?:what\s+(?:is|are)|whats|what's)\s+(?:an?\s+|the\s+)?(?P<a>[\w/&.+ -]{2,40}?)\s*(?:\?|,|$|\s+(?:anyway|exactly|actually|really|in practice|and\b|&))"
    r"|what\s+(?:does|do)\s+(?:an?\s+|the\s+)?(?P<b>[\w/&.+ '\"-]{2,40}?)\s+(?:mean|stand for)\b"
    r"|(?:define|definition of|meaning of|mean by)\s+(?:an?\s+|the\s+)?(?P<c>[\w/&.+ -]{2,40}?)\s*(?:\?|,|$|\s+(?:and|in)\b)",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"['\"\u2018\u201c]([A-Za-z][\w/&.+ -]{1,38}[\w.+])['\"\u2019\u201d]")
_PRONOUNS = frozenset("she he they it this that you we i".split())
# "Where do we start?", "what next?": questions that want the team's situation, whatever its topic.
_GENERAL = re.compile(
    r"\b(?:where (?:do|should) (?:we|i) (?:start|begin)|what (?:first|next|now)|first steps?|next steps?|what should (?:we|i) do|"
    r"how do (?:we|i) (?:start|begin|get started)|given (?:our|my|that|this)|for us|in our (?:case|situation)|our setup)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QuestionReading:
    kind: str  # one of rules.QUESTION_KINDS
    label: str  # how the kind reads in a brief ("diagnosis of a symptom")
    term: str | None  # what a definition question asks about ("MLOps")
    expansion: str  # corpus words the question's wording stands for; "" when none
    general: bool  # a "where do we start" question: the initiative's facts all matter
    hint: str = ""  # the shape of answer that fits, for an LLM composer


def read_question(question: str, rules: GuidanceRules) -> QuestionReading:
    kind = next(
        (rule for rule in rules.kinds if any(p.search(question) for p in rule.patterns)),
        rules.kind("how_to"),
    )
    term = None
    if kind.name == "definition":
        match = _TERM.search(question)
        if match:
            term = next(g for g in match.groups() if g).strip(" -'\"") or None
        # "our chief nurse keeps saying 'automation bias'. what does she mean": the quoted words are
        # the term, not the person who used them.
        quoted = _QUOTED.search(question)
        if quoted and (term is None or term.lower() in _PRONOUNS or quoted.group(1).lower() in term.lower()):
            term = quoted.group(1).strip()
    return QuestionReading(
        kind=kind.name,
        label=kind.label,
        term=term,
        expansion=expand_query(question, rules),
        general=bool(_GENERAL.search(question)) or len(question.split()) <= 4,
        hint=kind.hint,
    )


def expand_query(question: str, rules: GuidanceRules) -> str:
    """The corpus words for the question's everyday wording (each synonym entry at most once)."""
    adds = [rule.adds for rule in rules.synonyms if any(p.search(question) for p in rule.patterns)]
    return " ".join(adds)


def section_material(section: str, rules: GuidanceRules) -> str:
    """The kind of material a section holds, from its heading path ("other" when nothing matches)."""
    return _material_of(section, rules.sections)


@lru_cache(maxsize=4096)
def _material_of(section: str, sections: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]) -> str:
    lowered = section.lower()
    # The last heading names the material ("Go-live checklist > Monitoring" is still a checklist, so
    # the whole path is tried, deepest heading first).
    parts = [p.strip() for p in lowered.split(" > ")]
    for text in (parts[-1], lowered) if len(parts) > 1 else (lowered,):
        for material, patterns in sections:
            if any(p.search(text) for p in patterns):
                return material
    return "other"


def within_scope(question: str, best_similarity: float, floor: float, rules: GuidanceRules) -> bool:
    """Whether a question is Advisor's business: its best match reaches ``floor`` and is either clear
    or the question mentions an AI, model or data system; one person's own affairs never are."""
    scope = rules.scope
    if any(p.search(question) for p in scope.personal) and not any(
        p.search(question) for p in scope.organisation
    ):
        return False
    if best_similarity < floor:
        return False
    return best_similarity >= scope.clear_similarity or any(p.search(question) for p in scope.system)
