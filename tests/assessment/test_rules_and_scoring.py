"""The assessment's rules (knowledge/rules/assessment.toml) and its scoring, without retrieval: a
description read into answers with the team's own words, levels as the weakest answer, caps that
say why, and a broken rules file named with its key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.assessment.extract import read_answers
from advisor.assessment.model import Answer
from advisor.assessment.rules import AssessmentRules, load_assessment_rules
from advisor.assessment.score import topic_levels
from advisor.guidance.rules import RulesError, bundled_rules_dir

TAXONOMY_GROUPS = {
    "business-objectives",
    "strategy-roadmap",
    "data-quality",
    "infrastructure",
    "talent",
    "change-management",
    "explainability",
    "scalability",
    "deployment",
    "testing-validation",
    "security-governance",
    "monitoring",
}


@pytest.fixture(scope="module")
def rules() -> AssessmentRules:
    return load_assessment_rules()


def test_the_bundled_rules_score_the_twelve_topics_in_six_groups(rules: AssessmentRules) -> None:
    assert set(rules.scored_topics) == TAXONOMY_GROUPS and len(rules.groups) == 6
    assert 12 <= len(rules.questions) <= 20
    assert {q.topic for q in rules.questions} == TAXONOMY_GROUPS


def test_a_description_is_read_into_answers_with_the_teams_words(rules: AssessmentRules) -> None:
    read = read_answers(["churn model, data in three CRMs, two data scientists, no MLOps"], rules)
    assert {q: (a.choice, a.said) for q, a in read.items()} == {
        "data_access": ("scattered", "data in three CRMs"),
        "team": ("few", "two data scientists"),
        "mlops": ("manual", "no MLOps"),
    }
    bank = read_answers(
        ["Regional bank; card-fraud model at 94% accuracy; the risk committee has not signed off"], rules
    )
    assert bank["regulation"].choice == "blocked" and bank["explain"].choice == "cannot"
    assert bank["testing"].said == "card-fraud model at 94% accuracy"
    assert read_answers(["We make garden furniture."], rules) == {}


def _chosen(**answers: str) -> dict[str, Answer]:
    return {q: Answer(q, c, "chosen") for q, c in answers.items()}


def test_a_topic_is_its_weakest_answer_and_a_cap_says_why(rules: AssessmentRules) -> None:
    levels = topic_levels(_chosen(objective="kpi_baseline", sponsor="none", team="few"), rules)
    level, reasons = levels["business-objectives"]
    assert level == 1 and sorted(r.level for r in reasons) == [1, 4]
    assert levels["talent"][0] == 2 and levels["monitoring"] == (None, ())

    capped = topic_levels(_chosen(team="few", key_person="one_person"), rules)["talent"]
    assert capped[0] == 1 and not any(r.rule for r in capped[1])  # already 1: no cap needed
    live = topic_levels(_chosen(stage="released_safely", monitoring="none"), rules)["deployment"]
    assert live[0] == 2 and [r.rule for r in live[1]] == ["", "live-unmonitored"]
    assert "nobody monitors" in live[1][-1].text


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (("level = 4", "level = 7", 1), "questions.0.choices"),
        (("when = { regulation", "when = { regulations", 1), "no question 'regulations'"),
        ((r"'\bvague\b'", r"'\bvague(\b'", 1), "bad regular expression"),
        (('2 = "at risk"\n', "", 1), "levels must name exactly"),
    ],
)
def test_a_broken_rules_file_is_refused_naming_the_file_and_key(
    tmp_path: Path, edit: tuple[str, str, int], named: str
) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(bundled_rules_dir(), folder)
    path = folder / "assessment.toml"
    text = path.read_text()
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], edit[2]))
    with pytest.raises(RulesError) as refused:
        load_assessment_rules(folder)
    assert str(path) in str(refused.value) and named in str(refused.value)
