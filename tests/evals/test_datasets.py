"""Dataset loading: the shipped datasets validate, and a bad row is reported with its file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.evals.datasets import (
    AnswerableCase,
    DatasetError,
    InjectionCase,
    corpus_doc_ids,
    load_rows,
    load_suite,
)
from tests.plugins.advisor_app import KNOWLEDGE, REPO

EVALS = REPO / "evals"
SUITE = Path(__file__).parent / "suite"
GOOD_ANSWERABLE = {
    "id": "a-1",
    "question": "how do we monitor drift?",
    "initiative": None,
    "topics": ["monitoring"],
    "relevant": {"drift-detection-and-retraining": 2},
    "must_include": [["drift"], ["retrain"]],
    "reference": "Watch input distributions and retrain when they shift.",
}


def write_rows(path: Path, *rows: object) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_shipped_datasets_meet_the_agreed_sizes() -> None:
    suite = load_suite(EVALS / "datasets", KNOWLEDGE, EVALS / "fixtures" / "poisoned")
    assert len(suite.answerable) >= 100
    assert len(suite.unanswerable) >= 25
    assert len(suite.injection) >= 30
    assert {c.vector for c in suite.injection} == {"direct", "indirect"}
    assert len(suite.multiturn) >= 10
    assert len(suite.support_pairs) >= 80
    topics = {c.topics[0] for c in suite.answerable} | {t for c in suite.answerable for t in c.topics}
    assert len(topics) == 13


def test_fixture_suite_loads() -> None:
    suite = load_suite(SUITE / "datasets", KNOWLEDGE, SUITE / "fixtures" / "poisoned")
    assert suite.answerable and suite.unanswerable and suite.injection and suite.multiturn
    assert "t-mt-1#2" in suite.case_ids()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("{not json", "invalid JSON"),
        ('["a list"]', "must be a JSON object"),
        ({**GOOD_ANSWERABLE, "question": ""}, "question"),
        ({**GOOD_ANSWERABLE, "topics": ["cooking"]}, "unknown topic"),
        ({**GOOD_ANSWERABLE, "relevant": {"drift-detection-and-retraining": 3}}, "grades must be 1"),
        ({**GOOD_ANSWERABLE, "must_include": [["drift"]]}, "must_include"),
        ({**GOOD_ANSWERABLE, "colour": "blue"}, "colour"),
    ],
)
def test_bad_row_names_file_and_line(tmp_path: Path, row: object, reason: str) -> None:
    path = write_rows(tmp_path / "answerable.jsonl", GOOD_ANSWERABLE, "", row)
    with pytest.raises(DatasetError) as err:
        load_rows(path, AnswerableCase)
    assert str(err.value).startswith(f"{path}:3: "), err.value
    assert reason in str(err.value)


def test_duplicate_ids_and_unknown_documents_are_errors(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "answerable.jsonl", GOOD_ANSWERABLE, GOOD_ANSWERABLE)
    with pytest.raises(DatasetError, match=r":2: duplicate id 'a-1' \(first on line 1\)"):
        load_rows(path, AnswerableCase)

    for name in ("unanswerable", "injection", "multiturn", "support_pairs"):
        (tmp_path / f"{name}.jsonl").write_text("")
    write_rows(tmp_path / "answerable.jsonl", {**GOOD_ANSWERABLE, "relevant": {"no-such-doc": 2}})
    with pytest.raises(
        DatasetError, match=r"answerable.jsonl:1: relevant: unknown document id\(s\) \['no-such-doc'\]"
    ):
        load_suite(tmp_path, KNOWLEDGE, None)


def test_injection_rows_are_checked(tmp_path: Path) -> None:
    base = {
        "id": "i-1",
        "vector": "direct",
        "attack": "secret_request",
        "question": "q",
        "canary": "CANARY-0a1b2c3d",
    }
    path = write_rows(tmp_path / "injection.jsonl", base, {**base, "id": "i-2", "canary": "CANARY-xyz"})
    with pytest.raises(DatasetError, match=r":2: canary"):
        load_rows(path, InjectionCase)
    write_rows(path, {**base, "vector": "indirect"})
    with pytest.raises(DatasetError, match=r":1: .*needs poisoned_doc"):
        load_rows(path, InjectionCase)


def test_corpus_doc_ids_reads_front_matter() -> None:
    ids = corpus_doc_ids(KNOWLEDGE)
    assert "release-strategies" in ids and len(ids) >= 60
