"""The answering rules are data beside the corpus: the bundled files load, and a broken file is
refused at start-up with the file and the key named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.guidance.rules import QUESTION_KINDS, RulesError, bundled_rules_dir, load_rules


def test_the_bundled_rules_load_with_every_kind() -> None:
    rules = load_rules()
    assert [k.name for k in rules.kinds] and sorted(k.name for k in rules.kinds) == sorted(QUESTION_KINDS)
    assert rules.facts and rules.synonyms and rules.sections


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(bundled_rules_dir(), folder)
    return folder


def test_a_bad_regular_expression_names_the_file_and_the_key(rules_copy: Path) -> None:
    path = rules_copy / "facts.toml"
    path.write_text(path.read_text() + "\n[facts.broken]\npatterns = ['(unclosed']\n")
    with pytest.raises(RulesError, match=r"facts\.toml: facts\.broken\.patterns: bad regular expression"):
        load_rules(rules_copy)


def test_an_unknown_material_is_refused(rules_copy: Path) -> None:
    path = rules_copy / "question_kinds.toml"
    path.write_text(path.read_text().replace("cost = 1.0", "costs = 1.0", 1))
    with pytest.raises(
        RulesError, match=r"question_kinds\.toml: kinds\.estimate\.material: unknown material \['costs'\]"
    ):
        load_rules(rules_copy)


def test_a_missing_or_malformed_file_is_named(rules_copy: Path) -> None:
    (rules_copy / "synonyms.toml").unlink()
    with pytest.raises(RulesError, match=r"synonyms\.toml: missing rules file"):
        load_rules(rules_copy)
    (rules_copy / "synonyms.toml").write_text("[[synonym]\n")
    with pytest.raises(RulesError, match=r"synonyms\.toml: not valid TOML"):
        load_rules(rules_copy)


def test_an_edited_rule_changes_the_reading_without_code(rules_copy: Path) -> None:
    from advisor.guidance.questions import read_question

    question = "Our forecasts got stale after the reorg"
    assert "drift" in read_question(question, load_rules(rules_copy)).expansion
    path = rules_copy / "synonyms.toml"
    path.write_text(path.read_text().replace("|\\bstale\\b", ""))
    assert "drift" not in read_question(question, load_rules(rules_copy)).expansion
