"""The readiness assessment's evaluation (fast tier): agreement with the expert's levels, citation
validity, facts found and invented, measured per profile; a disagreement shows, and a broken profile
is named with its file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.evals.assessment import score_assessments
from advisor.evals.datasets import DatasetError
from tests.plugins.fast import FastContainer

ANSWERS = {
    "objective": "goal", "sponsor": "named", "plan": "pilot_only", "data_access": "scattered",
    "data_quality": "unknown", "mlops": "manual", "compute": "cloud", "team": "few", "key_person": "shared",
    "users": "not_involved", "explain": "partly", "scale": "unknown", "stage": "prototype", "testing": "offline",
    "monitoring": "none", "regulation": "regulated",
}  # fmt: skip
EXPECTED = {
    "business-objectives": 2, "strategy-roadmap": 2, "data-quality": 2, "infrastructure": 1, "talent": 2,
    "change-management": 2, "explainability": 2, "scalability": 2, "deployment": 2, "testing-validation": 2,
    "monitoring": 1, "security-governance": 2,
}  # fmt: skip


def _profile(**changes: object) -> str:
    row = {
        "id": "p-1", "factor": "data", "strength": "middling",
        "prose": "Churn model, data in three CRMs, two data scientists, no MLOps.",
        "answers": ANSWERS, "expected": EXPECTED, "facts": {"data_access": "scattered", "team": "few", "mlops": "manual"},
    }  # fmt: skip
    return json.dumps({**row, **changes})


def test_agreement_citations_and_facts_are_measured(fast_container: FastContainer, tmp_path: Path) -> None:
    path = tmp_path / "profiles.jsonl"
    path.write_text(_profile() + "\n")
    scored = score_assessments(fast_container(), path)
    assert scored.metrics == {
        "assessment.exact": 1.0,
        "assessment.within_one": 1.0,
        "assessment.citation_validity": 1.0,
        "assessment.facts_found": 1.0,
        "assessment.facts_invented": 0.0,
    }
    # An expert who sees infrastructure at 3 and monitoring at 4 disagrees, by two and three levels.
    path.write_text(
        _profile(expected={**EXPECTED, "infrastructure": 3, "monitoring": 4}, prose="We use MLflow.") + "\n"
    )
    scored = score_assessments(fast_container(), path)
    assert scored.metrics["assessment.exact"] == pytest.approx(10 / 12)
    assert scored.metrics["assessment.within_one"] == pytest.approx(10 / 12)
    assert (
        scored.metrics["assessment.facts_found"] == 0.0 and scored.metrics["assessment.facts_invented"] == 1.0
    )
    assert scored.per_topic["infrastructure"] == {"exact": 0.0, "within_one": 0.0}
    notes = scored.items[0]["notes"]
    assert "infrastructure: 1 (expected 3)" in notes and "read mlops=platform from 'We use MLflow'" in notes


def test_a_broken_profile_is_named_by_file_and_line(fast_container: FastContainer, tmp_path: Path) -> None:
    path = tmp_path / "profiles.jsonl"
    path.write_text(_profile() + "\n" + _profile(answers={"mlops": "sometimes"}) + "\n")
    with pytest.raises(DatasetError, match="p-1: question 'mlops' has no answer 'sometimes'"):
        score_assessments(fast_container(), path)
    path.write_text(_profile() + "\n{not json\n")
    with pytest.raises(DatasetError, match=rf"{path}:2:"):
        score_assessments(fast_container(), path)
