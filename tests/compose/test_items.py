"""What counts as an item, a label or an instruction, and how the note spends its word budget."""

from __future__ import annotations

import re

from advisor.compose.extractive import WORD_BUDGET, compose_extractive
from advisor.compose.items import extract_items, is_imperative
from advisor.guidance.rules import load_rules
from advisor.types import Passage
from tests.compose.corpus_passages import corpus_passages, written_passage

RULES = load_rules()


def _passage(section: str, text: str, n: int = 1, score: float = 0.5) -> Passage:
    return written_passage(section, text, f"doc-{n}", score)


def test_a_short_bold_label_keeps_its_point_joined_by_a_colon() -> None:
    passage = _passage(
        "What a model card contains",
        "- **Records.** Processing records and decision logs are kept together.\n"
        "- **Fairness and explainability results:** checks performed and how explanations are given.\n"
        "- **Accuracy.**",
    )
    items = {i.headline: i for i in extract_items([passage], RULES)}
    assert items["Records:"].detail == "Processing records and decision logs are kept together."
    assert items["Fairness and explainability results:"].detail.startswith("checks performed")
    # A label with nothing after it says nothing, and a label never stands alone in a short line.
    assert "Accuracy." not in items and "Accuracy:" not in items
    assert not any(i.says_enough for i in items.values())


def test_cross_references_and_sentences_that_lean_on_the_one_before_are_not_items() -> None:
    passage = _passage(
        "Overview",
        "Rollback plans must be rehearsed so a failed deployment is undone within minutes. "
        "It is one of the most common ways a release goes wrong in practice. "
        "See Release strategies.",
    )
    headlines = [i.headline for i in extract_items([passage], RULES)]
    assert headlines == ["Rollback plans must be rehearsed so a failed deployment is undone within minutes."]
    listed = _passage(
        "First steps", "1. **Make it a release gate.** No card, no release.\n2. **Write the card.**"
    )
    assert [i.headline for i in extract_items([listed], RULES)] == ["Write the card."]


def test_emphasis_inside_running_text_does_not_break_the_quoted_sentence() -> None:
    passage = _passage(
        "Overview",
        "Release gradually and keep a rollback path for every model you deploy. "
        "**Minimum standard:** nobody copies model files to production by hand at any time.",
    )
    items = extract_items([passage], RULES)
    assert items and all("**" not in i.text for i in items), items


def test_outside_a_steps_section_only_an_advice_verb_makes_an_instruction() -> None:
    assert is_imperative("Name one owner for the model.", strict=True)
    assert is_imperative("Coarsen quasi-identifiers.", strict=True)
    assert not is_imperative("Data quality is relative to the decision.", strict=True)
    assert not is_imperative("Fairness and explainability results:", strict=True)
    assert not is_imperative("Label or prior drift.", strict=True)
    # Inside a steps section the looser test still accepts a verb the list does not know...
    assert is_imperative("Jot down every threshold.")
    # ...but never a noun phrase such as "From 0 to 1." or a metric.
    assert not is_imperative("From 0 to 1.")
    assert not is_imperative("Time to decision and other process metrics.")


def test_an_instruction_in_explanatory_text_can_be_a_step_but_a_description_cannot() -> None:
    passages = [
        _passage(
            "Explaining individual decisions",
            "Produce reason codes at prediction time, in plain language, for every declined application. "
            "Local explanations describe one prediction and why the applicant scored as they did.",
            n=1,
            score=0.6,
        ),
        _passage(
            "First steps",
            "1. **Log model version, inputs and reasons with each decision.** Without them no decision "
            "can be reconstructed.\n2. **Run a mock regulator request.** Time how long the evidence takes.",
            n=2,
            score=0.5,
        ),
    ]
    text = compose_extractive("How do we explain individual loan decisions to a regulator?", passages).text
    steps = re.findall(r"^(?:Start here: |\d+\. )\*\*(.+?)\*\*", text, re.M)
    assert any(s.lower().startswith("produce reason codes") for s in steps), text
    assert not any(s.lower().startswith("local explanations") for s in steps), text
    assert "Local explanations describe one prediction" in text, text  # a point worth knowing


def test_the_note_fills_its_budget_with_further_points_and_stays_within_it() -> None:
    steps = (
        "1. **Load test the service at twice the expected peak.** Record p95 latency and errors.\n"
        "2. **Rehearse the rollback.** Time how long returning to the previous version takes.\n"
        "3. **Name the on-call owner for the first month.** Give them the runbook and dashboards.\n"
        "4. **Agree alert thresholds with the product owner.** Page only on what needs action."
    )
    facts = (
        "Canary releases expose a new model version to a small share of traffic before everyone sees it. "
        "Shadow deployments score live requests without acting on the result, which catches feature bugs. "
        "Most release failures come from data pipelines and configuration rather than from the model. "
        "Feature flags let a team switch a model off without redeploying the whole service."
    )
    passages = [_passage("First steps", steps, 1), _passage("Overview", facts, 2, 0.4)]
    text = compose_extractive("How do we check a model release before deployment?", passages).text
    assert "**Worth knowing:**" in text, text
    worth = text.split("**Worth knowing:**", 1)[1]
    assert "[2]" in worth or "[1]" in worth, text
    assert len(text.split()) <= WORD_BUDGET + 10, text


def test_how_can_we_tell_lists_warning_signs_only_when_they_are_signs_of_what_was_asked() -> None:
    signs = _passage(
        "Warning signs",
        "- **Nobody owns the outcome of the project.** Only the data team asks for it.\n"
        "- **The technique came first.** Someone wanted a use for the data lake.",
        n=1,
        score=0.6,
    )
    steps = _passage(
        "First steps",
        "1. **Track input and prediction distributions against training data.** Alert on sharp changes.\n"
        "2. **Compute real performance when outcomes arrive.** Join predictions to outcomes weekly.",
        n=2,
    )
    drifting = compose_extractive("How can we tell if our fraud model is drifting?", [signs, steps]).text
    assert "Warning signs to look for" not in drifting, drifting
    owned = compose_extractive(
        "How can we tell if nobody owns the outcome of our project?", [signs, steps]
    ).text
    assert owned.startswith("Warning signs to look for:"), owned


def test_a_name_in_a_how_to_section_is_not_a_step() -> None:
    assert not is_imperative("Population Stability Index (PSI) per feature and on the score itself.")
    assert not is_imperative("Statistical tests such as Kolmogorov-Smirnov for numeric features.")
    assert is_imperative("Pair the model with a fallback rule.")


def test_each_row_of_a_table_is_a_point_labelled_by_its_first_cell() -> None:
    passage = _passage(
        "Retraining strategies",
        "Teams retrain on a schedule, on a trigger, or both, depending on how fast their data moves.\n\n"
        "| Strategy | How it works | Suits |\n"
        "|---|---|---|\n"
        "| Scheduled | Retrain every month whatever the signals say | Stable domains with steady data |\n"
        "| **Hybrid** | A regular schedule plus an emergency trigger | Most production teams |",
    )
    items = {i.headline: i for i in extract_items([passage], RULES)}
    assert (
        items["Scheduled:"].detail
        == "Retrain every month whatever the signals say; Stable domains with steady data."
    )
    assert items["Hybrid:"].detail.startswith("A regular schedule plus an emergency trigger")
    assert not items["Hybrid:"].prose
    # The header row is not a point, and the sentence before the table still is.
    assert "Strategy:" not in items
    assert any(h.startswith("Teams retrain on a schedule") for h in items)
    text = compose_extractive("How often should we retrain our demand forecast?", [passage]).text
    assert "Hybrid" in text and "emergency trigger" in text, text


def test_a_short_second_sentence_stays_with_its_point() -> None:
    passage = _passage(
        "When they have already gone",
        "- **Recover before you change anything.** Find the code, data and credentials. "
        "Then freeze non-urgent changes until a retrain reproduces the last model.\n"
        "- **Write the handover you never got.** A two-page note on how the model is built and run, "
        "kept next to the code and reviewed by someone who did not write it, with owners for every "
        "part and a date for the next review. Nobody reads a longer one.",
    )
    items = {i.headline: i for i in extract_items([passage], RULES)}
    assert items["Recover before you change anything."].detail.endswith("reproduces the last model.")
    # Two sentences that together run long keep only the first.
    assert items["Write the handover you never got."].detail.endswith("the next review.")


def test_steps_far_weaker_than_the_best_point_leave_room_for_it() -> None:
    explanation = _passage(
        "Entity resolution and a canonical id",
        "Records that may be the same customer are matched probabilistically on name, address and date of "
        "birth, with a threshold above which they merge automatically. Pairs between the thresholds go to "
        "human review by a data steward, because a false merge is worse than a missed one.",
        n=1,
        score=0.6,
    )
    unrelated = _passage(
        "First steps",
        "1. **Staff the first team for production.** Add an ML engineer.\n"
        "2. **Write a responsibility matrix.** Cover life after launch.\n"
        "3. **Name a business product owner.** One person, not a committee.",
        n=2,
        score=0.3,
    )
    passages = [
        explanation,
        *[
            _passage("Overview", f"Filler sentence number {n} about something else.", n, 0.2)
            for n in range(3, 9)
        ],
        unrelated,
    ]
    text = compose_extractive(
        "what about records that might be the same customer but we can't be sure?", passages
    ).text
    assert "human review" in text and "threshold" in text, text
    # The answer opens with the point on matching records, not with the unrelated steps.
    assert "same customer" in text.splitlines()[0], text


def test_the_end_of_a_sentence_opened_before_a_list_is_not_a_point() -> None:
    passage = _passage(
        "When a monolith is fine",
        "A modular monolith is usually right when:\n\n"
        "- scoring is a nightly batch job rather than a live API;\n"
        "- **the same people** build and run everything.\n"
        "- **One team.** The same people build and run everything.",
    )
    headlines = [i.headline for i in extract_items([passage], RULES)]
    assert headlines == ["One team:"], headlines


def test_a_definition_is_said_once() -> None:
    overview = _passage(
        "Overview",
        "MLOps is the set of practices that make building and running models repeatable. "
        "Teams adopt it in stages rather than all at once, as the number of models grows.",
        n=1,
        score=0.6,
    )
    steps = _passage("First steps", "1. **Add experiment tracking.** Record parameters and metrics.", n=2)
    text = compose_extractive("what is MLOps?", [overview, steps]).text
    assert text.startswith("MLOps is the set of practices"), text
    assert text.count("MLOps is the set of practices") == 1, text


def test_a_sign_shares_more_than_generic_words_before_it_is_called_the_users_situation() -> None:
    signs = _passage(
        "Warning signs",
        "- **The fraud model has not been retrained in over six months.** Drift goes unnoticed.\n"
        "- **Nobody has tested outcomes for protected groups.** Fairness is assumed.",
        n=1,
        score=0.6,
    )
    steps = _passage(
        "First steps",
        "1. **Register the model in your inventory at kick-off.** Assign a risk tier and a validator.\n"
        "2. **Define the business metric before the model metric.** Price each kind of error.",
        n=2,
    )
    question = "Our fraud model has 94% accuracy but the risk committee won't sign off. What are we missing?"
    text = compose_extractive(question, [signs, steps]).text
    # "fraud" and "model" alone do not make "not retrained in six months" what the user described.
    assert "What you describe matches" not in text, text
    assert text.startswith("Start here: **register the model"), text


def test_a_numbered_part_of_a_section_is_a_point_named_by_its_heading() -> None:
    part = _passage(
        "The four layers to monitor > 2. Input data",
        "Check what the model receives: schema, nulls and unseen categories. Compare live inputs with "
        "the training data before anything else.",
    )
    plain = _passage("Why monitor", "Models decay quietly once they meet data they were never trained on.", 2)
    items = extract_items([part, plain], load_rules())
    named = [i for i in items if i.passage == 0]
    assert named[0].headline == "Input data:" and named[0].detail.startswith("Check what the model receives")
    assert named[0].material == "checklist" and named[0].bold and not named[0].prose
    # Only the part's first sentence carries its name; a section that is not a numbered part has none.
    assert [i.prose for i in named[1:]] == [True]
    assert all(not i.headline.endswith(":") for i in items if i.passage == 1)


def test_a_term_the_guidance_defines_by_a_section_of_its_own_is_defined_from_it() -> None:
    """ "## Automation bias" opens with what it is and goes on with what to do about it: the answer
    says the first, then draws its steps from the same section before any other."""
    passages = corpus_passages("ai-in-healthcare", "human-oversight-of-ai-decisions")
    question = "our chief nurse keeps saying 'automation bias'. what does she mean and does it apply to us?"
    composition = compose_extractive(question, passages)
    opening, _, rest = composition.text.partition("\n\n")
    assert opening.startswith("**Automation bias:** People tend to accept a machine"), composition.text
    defining = next(i for i, p in enumerate(composition.passages) if p.section == "Automation bias") + 1
    steps = re.findall(r"^\d+\. .*\[(\d+)\]$", rest, re.MULTILINE)
    assert steps and int(steps[0]) == defining, composition.text
