"""Loading the guidance rules (``knowledge/rules/*.toml``) into typed, compiled form.

A mistake in a rules file is reported as :class:`RulesError` naming the file and the key, at start-up,
rather than as a silently worse answer later."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUESTION_KINDS = ("definition", "checklist", "symptom", "choice", "estimate", "examples", "risks", "how_to")
MATERIALS = (
    "related",
    "symptom",
    "question",
    "checklist",
    "good",
    "tradeoff",
    "cost",
    "example",
    "action",
    "other",
)


class RulesError(ValueError):
    """A rules file is missing or malformed; the message names the file and key."""


@dataclass(frozen=True)
class KindRule:
    name: str
    label: str
    patterns: tuple[re.Pattern[str], ...]
    material: dict[str, float]  # material -> weight
    figures: float = 0.0
    hint: str = ""  # what shape of answer fits, for an LLM composer


@dataclass(frozen=True)
class FactRule:
    name: str
    label: str
    patterns: tuple[re.Pattern[str], ...]
    docs: tuple[str, ...]
    topics: frozenset[str]
    terms: tuple[str, ...]


@dataclass(frozen=True)
class SynonymRule:
    patterns: tuple[re.Pattern[str], ...]
    adds: str


@dataclass(frozen=True)
class ScopeRule:
    clear_similarity: float  # a match this close needs no other sign that the question is in scope
    system: tuple[re.Pattern[str], ...]  # wordings of an AI, model or data system
    personal: tuple[re.Pattern[str], ...]  # one person's own affairs
    organisation: tuple[re.Pattern[str], ...]  # a team or organisation (overrides ``personal``)


@dataclass(frozen=True)
class GuidanceRules:
    kinds: tuple[KindRule, ...]  # in the order they are tried
    sections: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]  # (material, patterns) in order
    facts: tuple[FactRule, ...]
    synonyms: tuple[SynonymRule, ...]
    scope: ScopeRule

    def kind(self, name: str) -> KindRule:
        return next(k for k in self.kinds if k.name == name)


def bundled_rules_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "knowledge" / "rules"


def load_rules(folder: Path | None = None) -> GuidanceRules:
    """The rules in ``folder`` (default: the bundled ``knowledge/rules``)."""
    folder = folder or bundled_rules_dir()
    kinds_doc = _read(folder / "question_kinds.toml")
    sections_doc = _read(folder / "sections.toml")
    facts_doc = _read(folder / "facts.toml")
    synonyms_doc = _read(folder / "synonyms.toml")
    scope_doc = _read(folder / "scope.toml")
    return GuidanceRules(
        kinds=_kinds(folder / "question_kinds.toml", kinds_doc),
        sections=_sections(folder / "sections.toml", sections_doc),
        facts=_facts(folder / "facts.toml", facts_doc),
        synonyms=_synonyms(folder / "synonyms.toml", synonyms_doc),
        scope=_scope(folder / "scope.toml", scope_doc),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise RulesError(f"{path}: missing rules file") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML ({exc})") from None


def _patterns(path: Path, where: str, value: Any) -> tuple[re.Pattern[str], ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise RulesError(f"{path}: {where}.patterns must be a list of strings")
    compiled = []
    for pattern in value:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise RulesError(
                f"{path}: {where}.patterns: bad regular expression {pattern!r} ({exc})"
            ) from None
    return tuple(compiled)


def _weights(path: Path, where: str, value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise RulesError(f"{path}: {where}.material must be a table of material = weight")
    unknown = sorted(set(value) - set(MATERIALS))
    if unknown:
        raise RulesError(f"{path}: {where}.material: unknown material {unknown}; known: {list(MATERIALS)}")
    try:
        return {str(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError):
        raise RulesError(f"{path}: {where}.material: weights must be numbers") from None


def _kinds(path: Path, doc: dict[str, Any]) -> tuple[KindRule, ...]:
    order = doc.get("order")
    table = doc.get("kinds")
    if not isinstance(order, list) or not isinstance(table, dict):
        raise RulesError(f"{path}: needs `order` (a list) and [kinds.<name>] tables")
    if sorted(order) != sorted(QUESTION_KINDS):
        raise RulesError(f"{path}: order must list exactly the kinds {list(QUESTION_KINDS)}")
    rules = []
    for name in order:
        entry = table.get(name)
        if not isinstance(entry, dict):
            raise RulesError(f"{path}: missing [kinds.{name}]")
        rules.append(
            KindRule(
                name=name,
                label=str(entry.get("label", name)),
                patterns=_patterns(path, f"kinds.{name}", entry.get("patterns", [])),
                material=_weights(path, f"kinds.{name}", entry.get("material", {})),
                figures=float(entry.get("figures", 0.0)),
                hint=str(entry.get("hint", "")),
            )
        )
    return tuple(rules)


def _sections(path: Path, doc: dict[str, Any]) -> tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]:
    order = doc.get("order")
    table = doc.get("sections")
    if not isinstance(order, list) or not isinstance(table, dict):
        raise RulesError(f"{path}: needs `order` (a list) and a [sections] table")
    unknown = sorted(set(order) - set(MATERIALS))
    if unknown:
        raise RulesError(f"{path}: order: unknown material {unknown}; known: {list(MATERIALS)}")
    return tuple((name, _patterns(path, f"sections.{name}", table.get(name, []))) for name in order)


def _facts(path: Path, doc: dict[str, Any]) -> tuple[FactRule, ...]:
    table = doc.get("facts")
    if not isinstance(table, dict):
        raise RulesError(f"{path}: needs [facts.<name>] tables")
    rules = []
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise RulesError(f"{path}: facts.{name} must be a table")
        rules.append(
            FactRule(
                name=name,
                label=str(entry.get("label", name)),
                patterns=_patterns(path, f"facts.{name}", entry.get("patterns")),
                docs=tuple(str(d) for d in entry.get("docs", [])),
                topics=frozenset(str(t) for t in entry.get("topics", [])),
                terms=tuple(str(t) for t in entry.get("terms", [])),
            )
        )
    return tuple(rules)


def _synonyms(path: Path, doc: dict[str, Any]) -> tuple[SynonymRule, ...]:
    entries = doc.get("synonym", [])
    if not isinstance(entries, list):
        raise RulesError(f"{path}: entries must be [[synonym]] tables")
    rules = []
    for number, entry in enumerate(entries, 1):
        adds = entry.get("adds") if isinstance(entry, dict) else None
        if not isinstance(adds, str) or not adds.strip():
            raise RulesError(f"{path}: synonym #{number} needs `adds` (the corpus's words)")
        rules.append(SynonymRule(_patterns(path, f"synonym #{number}", entry.get("patterns")), adds.strip()))
    return tuple(rules)


def _scope(path: Path, doc: dict[str, Any]) -> ScopeRule:
    clear = doc.get("clear_similarity")
    if not isinstance(clear, int | float) or isinstance(clear, bool) or not -1.0 <= clear <= 1.0:
        raise RulesError(f"{path}: clear_similarity must be a number between -1 and 1")
    return ScopeRule(
        clear_similarity=float(clear),
        system=_patterns(path, "system", doc.get("system_patterns")),
        personal=_patterns(path, "personal", doc.get("personal_patterns", [])),
        organisation=_patterns(path, "organisation", doc.get("organisation_patterns", [])),
    )
