"""Facts a team states about its initiative ("data in three CRMs", "two data scientists", "no
MLOps"), recognised with ``facts.toml`` so that retrieval and the answer can use them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from dataclasses import dataclass

from advisor.guidance.rules import GuidanceRules

_CLAUSE = re.compile(r"[,;\n()]|(?<=[.!?])\s+|\s+-\s+|\s+but\s+|\s+and\s+(?=(?:we|our|the|no|only|a|an)\b)")
_MAX_CLAUSE_WORDS = 10
# Words that lead into the next one: a quote neither starts nor ends on them.
_LEADING = frozenset(
    "a an the of in inside on at to for from with by as into onto and or but our their its my your "
    "is are was were be who which that whose where when while".split()
)


@dataclass(frozen=True)
class Fact:
    name: str
    label: str
    said: str  # the user's own words, quoted back in the answer
    docs: tuple[str, ...]
    topics: frozenset[str]
    terms: tuple[str, ...]


def extract_facts(texts: Iterable[str], rules: GuidanceRules) -> tuple[Fact, ...]:
    """Facts in the order the user stated them; each fact once, with the first clause that states it."""
    found: dict[str, Fact] = {}
    for text in texts:
        for clause in clauses(text):
            for rule in rules.facts:
                if rule.name in found:
                    continue
                match = next((m for p in rule.patterns if (m := p.search(clause))), None)
                if match is None:
                    continue
                found[rule.name] = Fact(
                    rule.name, rule.label, quote(clause, match), rule.docs, rule.topics, rule.terms
                )
    return tuple(found.values())


def clauses(text: str | None) -> list[str]:
    """The clauses of a description (split at commas, semicolons, sentence ends...), tidied."""
    tidied = (" ".join(c.split()).strip(" .:!?\"'") for c in _CLAUSE.split(text or ""))
    return [c for c in tidied if c]


def quote(clause: str, match: re.Match[str]) -> str:
    """The user's words around what matched, for quoting back: the clause, or a few words of it."""
    words = clause.split()
    if len(words) <= _MAX_CLAUSE_WORDS:
        return clause
    # A long clause is cut to the words around what matched, at a phrase boundary: a quote neither
    # starts on "the" nor ends on "inside the" ("served as a real-time API inside the" says nothing).
    before = clause[: match.start()].split()[-3:]
    while before and before[0].lower() in _LEADING:
        before = before[1:]
    after: list[str] = []
    for word in clause[match.end() :].split()[:3]:
        if word.lower() in _LEADING:
            break
        after.append(word)
    return " ".join([*before, match.group(0), *after])


def facts_for(facts: Iterable[Fact], topics: Set[str], general: bool, most: int = 3) -> list[Fact]:
    """The facts that matter to a question about ``topics``: all of them (up to ``most``) for a
    general "where do we start", otherwise those whose topics the question touches."""
    chosen = [f for f in facts if general or f.topics & topics]
    # Industry facts say less about what to do than the situation facts; they go last.
    chosen.sort(key=lambda f: f.name.startswith("industry_"))
    return chosen[:most]
