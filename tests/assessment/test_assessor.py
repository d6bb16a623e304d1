"""Assessing an initiative over the fast index (fast tier): every scored topic with a level or
'not assessed', cited actions quoted from documents about that topic, the three biggest risks, a
30/60/90 plan built from them, open questions, and what changed since an earlier assessment."""

from __future__ import annotations

import pytest

from advisor.assessment.checks import invalid_citations
from advisor.assessment.report import assessment_from_json, assessment_json, render_html
from advisor.assessment.service import AnswerError
from tests.plugins.fast import FastContainer

CHURN = "churn model, data in three CRMs, two data scientists, no MLOps"


def test_a_scorecard_with_cited_actions_risks_and_a_plan(fast_container: FastContainer) -> None:
    container = fast_container()
    result = container.assessor.assess(CHURN, {"objective": "goal", "monitoring": "none"})
    card = result.scorecard
    levels = {t.topic: t.level for t in card.topics}
    assert levels["infrastructure"] == 1 and levels["data-quality"] == 2 and levels["talent"] == 2
    assert levels["business-objectives"] == 2 and levels["monitoring"] == 1 and levels["scalability"] is None
    assert [t.topic for t in card.risks] == ["infrastructure", "monitoring", "business-objectives"]
    assert next(t for t in card.topics if t.topic == "data-quality").facts == ("data in three CRMs",)

    assert invalid_citations(result, container.retriever) == []
    for topic in card.topics:
        assert (topic.level is None) == (topic.actions == ())
        for action in topic.actions:
            assert topic.topic in card.citations[action.n - 1].topics  # from a document about that topic
    thirty = [p for p in card.plan if p.days == 30]
    assert [p.topic for p in thirty] == [t.topic for t in card.risks]
    assert all(p.action == next(t for t in card.risks if t.topic == p.topic).actions[0] for p in thirty)
    assert {p.days for p in card.plan} == {30, 60, 90}
    assert len({p.action.text for p in card.plan}) == len(card.plan)  # no action twice
    assert {q.id for q in card.open_questions} >= {"sponsor", "scale", "stage"}
    assert not {q.id for q in card.open_questions} & {"objective", "monitoring", "mlops"}

    again = container.assessor.assess(
        CHURN, {"objective": "kpi_baseline", "monitoring": "drift"}, before=card
    )
    # Drift monitoring alone would be 3; without pipelines the rule holds it at 2.
    assert set(again.changes) == {("monitoring", 1, 2), ("business-objectives", 2, 4)}
    monitoring = next(t for t in again.scorecard.topics if t.topic == "monitoring")
    assert monitoring.reasons[-1].rule == "no-mlops-monitoring"
    assert assessment_from_json(assessment_json(again)) == again

    page = render_html(again)
    assert "data in three CRMs" in page and "Next 30 days" in page and "<script" not in page
    assert "monitoring: 1 → 2 (better)" in page and "rule no-mlops-monitoring" in page


def test_unknown_questions_and_answers_are_refused_by_name(fast_container: FastContainer) -> None:
    assessor = fast_container().assessor
    with pytest.raises(AnswerError, match="no question 'budget'; the questions are objective, sponsor"):
        assessor.assess(CHURN, {"budget": "none"})
    with pytest.raises(AnswerError, match="question 'mlops' has no answer 'some'; one of manual, scripted"):
        assessor.assess(CHURN, {"mlops": "some"})
