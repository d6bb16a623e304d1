"""Facts a team states about its initiative, found in its own words."""

from __future__ import annotations

from advisor.guidance.facts import extract_facts, facts_for
from advisor.guidance.rules import load_rules

RULES = load_rules()


def test_the_facts_of_a_comma_separated_initiative_are_quoted_back() -> None:
    facts = extract_facts(["churn model, data in three CRMs, two data scientists, no MLOps"], RULES)
    said = {f.name: f.said for f in facts}
    assert said["data_silos"] == "data in three CRMs"
    assert said["small_team"] == "two data scientists"
    assert said["no_mlops"] == "no MLOps"


def test_facts_come_from_prose_and_from_earlier_turns_too() -> None:
    facts = extract_facts(
        [
            "We are a regional bank. Our fraud scoring runs in real time and the regulator audits it yearly.",
            "we only have one ML engineer, and she's leaving in March",
        ],
        RULES,
    )
    names = {f.name for f in facts}
    assert {"industry_finance", "regulated", "realtime", "small_team"} <= names
    assert all(len(f.said.split()) <= 10 for f in facts)


def test_a_long_clause_is_cut_around_what_matched() -> None:
    text = "the model was built by a contractor years ago and nobody on the current team knows how the three separate spreadsheets feeding it are maintained"
    (fact,) = [f for f in extract_facts([text], RULES) if f.name == "data_silos"]
    assert "spreadsheets" in fact.said and len(fact.said.split()) <= 9


def test_a_cut_quote_ends_at_a_phrase_boundary() -> None:
    facts = extract_facts(
        [
            "Online travel agency, price-ranking model served as a real-time API inside the search page",
            "we have data spread across three different CRMs from the old acquisitions of the group",
        ],
        RULES,
    )
    said = {f.name: f.said for f in facts}
    # Not "served as a real-time API inside the", nor "... CRMs from the old".
    assert said["realtime"] == "served as a real-time API"
    assert said["data_silos"] == "data spread across three different CRMs"


def test_only_the_facts_that_matter_to_the_question() -> None:
    facts = extract_facts(
        ["Fraud detection, real-time scoring, regulated bank, data in three systems"], RULES
    )
    monitoring = {f.name for f in facts_for(facts, {"monitoring"}, general=False)}
    assert "regulated" in monitoring and "data_silos" not in monitoring
    assert len(facts_for(facts, set(), general=True)) == 3
    assert not facts_for(facts, {"talent"}, general=False)
