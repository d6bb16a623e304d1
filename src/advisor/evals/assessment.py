"""The readiness assessment's evaluation, on labelled initiative profiles
(``datasets/assessment_profiles.jsonl``): each profile's answers scored by the rules against the
level an expert gave each topic (exact and within one level, overall and per topic), the citation
validity of the scorecard's actions, and how well its prose description is read into answers
(facts found, facts invented)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from advisor.assessment.checks import invalid_citations
from advisor.assessment.extract import read_answers
from advisor.container import Container
from advisor.evals.datasets import DatasetError

FILE = "assessment_profiles.jsonl"


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    factor: str
    strength: str
    prose: str
    answers: dict[str, str]
    expected: dict[str, int]
    facts: dict[str, str]  # the answers the prose states


@dataclass
class AssessmentScores:
    metrics: dict[str, float] = field(default_factory=dict)
    per_topic: dict[str, dict[str, float]] = field(default_factory=dict)  # topic -> exact, within_one
    items: list[dict[str, Any]] = field(default_factory=list)


def load_profiles(path: Path) -> list[Profile]:
    profiles = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            profiles.append(Profile.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DatasetError(f"{path}:{number}: {exc}") from None
    return profiles


def score_assessments(container: Container, path: Path) -> AssessmentScores:
    assessor = container.assessor
    topics = assessor.rules.scored_topics
    out = AssessmentScores()
    exact: dict[str, list[float]] = {t: [] for t in topics}
    near: dict[str, list[float]] = {t: [] for t in topics}
    valid: list[float] = []
    found = stated = invented = read_total = 0
    for profile in load_profiles(path):
        if unknown := sorted(set(profile.expected) - set(topics)):
            raise DatasetError(f"{path}: {profile.id}: unknown topics {unknown}")
        try:
            result = assessor.assess("", profile.answers)
        except ValueError as exc:
            raise DatasetError(f"{path}: {profile.id}: {exc}") from None
        notes = []
        for topic, want in profile.expected.items():
            got = result.scorecard.level_of(topic)
            exact[topic].append(float(got == want))
            near[topic].append(float(got is not None and abs(got - want) <= 1))
            if got != want:
                notes.append(f"{topic}: {got} (expected {want})")
        problems = invalid_citations(result, container.retriever)
        valid.append(float(not problems))
        notes += problems[:3]
        read = read_answers([profile.prose], assessor.rules)
        hits = sum(1 for q, c in profile.facts.items() if q in read and read[q].choice == c)
        wrong = [q for q, a in read.items() if profile.answers.get(q) != a.choice]
        found, stated = found + hits, stated + len(profile.facts)
        invented, read_total = invented + len(wrong), read_total + len(read)
        notes += [f"read {q}={read[q].choice} from {read[q].said!r}" for q in wrong]
        out.items.append(
            {
                "id": profile.id,
                "kind": "assessment",
                "question": profile.prose,
                "notes": notes,
                "scores": {
                    "assessment.exact": sum(e[-1] for e in exact.values() if e) / len(profile.expected),
                    "assessment.within_one": sum(n[-1] for n in near.values() if n) / len(profile.expected),
                    "assessment.citation_validity": valid[-1],
                    "assessment.facts_found": hits / len(profile.facts) if profile.facts else 1.0,
                },
            }
        )
    cells_exact = [v for values in exact.values() for v in values]
    cells_near = [v for values in near.values() for v in values]
    if not cells_exact:
        return out
    out.metrics = {
        "assessment.exact": sum(cells_exact) / len(cells_exact),
        "assessment.within_one": sum(cells_near) / len(cells_near),
        "assessment.citation_validity": sum(valid) / len(valid),
        "assessment.facts_found": found / stated if stated else 1.0,
        "assessment.facts_invented": invented / read_total if read_total else 0.0,
    }
    out.per_topic = {
        t: {"exact": sum(exact[t]) / len(exact[t]), "within_one": sum(near[t]) / len(near[t])}
        for t in topics
        if exact[t]
    }
    return out
