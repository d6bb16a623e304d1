"""The bundled corpus is written in our own words: no 10-word run is shared with the source material."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.corpus.overlap import find_shared_runs, words_of

REPO_ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO_ROOT / "knowledge"
SOURCE_DIR = REPO_ROOT.parent / "shared" / "source"
RUN_WORDS = 10


def source_files() -> list[Path]:
    if not SOURCE_DIR.is_dir():
        pytest.skip(
            f"source folder {SOURCE_DIR} is absent, so there is nothing to compare the corpus against"
        )
    files = sorted(p for p in SOURCE_DIR.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        pytest.skip(f"source folder {SOURCE_DIR} holds no files")
    return files


def knowledge_files() -> list[Path]:
    files = sorted(KNOWLEDGE.glob("*.md"))
    assert files, f"no Markdown documents in {KNOWLEDGE}"
    return files


def test_knowledge_shares_no_run_of_ten_words_with_the_source() -> None:
    runs = find_shared_runs(knowledge_files(), source_files(), min_words=RUN_WORDS)
    report = "\n".join(f'{r.path.name} copies from {r.source.name}: "{r.words}"' for r in runs)
    assert not runs, f"{len(runs)} passages repeat the source word for word; rephrase them:\n{report}"


def test_detector_catches_a_planted_copy(tmp_path: Path) -> None:
    """Guard against a vacuous pass: a copied run taken from the real source must be found."""
    sources = source_files()
    source_words: list[str] = []
    chosen: Path | None = None
    for source in sources:
        source_words = words_of(source.read_text(encoding="utf-8"))
        if len(source_words) >= 100 + RUN_WORDS:
            chosen = source
            break
    if chosen is None:
        pytest.skip("no source file is long enough to plant a copied run from")
    copied = source_words[100 : 100 + RUN_WORDS]
    # Re-cased and re-punctuated, inside otherwise original text, so only the run itself matches.
    planted = tmp_path / "planted.md"
    planted.write_text(
        "Zebra quartz violin. " + ", ".join(copied).upper() + "! Marmalade tundra xylophone.\n",
        encoding="utf-8",
    )
    control = knowledge_files()[0]
    runs = find_shared_runs([planted, control], [chosen], min_words=RUN_WORDS)
    planted_runs = [r for r in runs if r.path == planted]
    assert len(planted_runs) == 1
    assert planted_runs[0].words == " ".join(copied)
    assert planted_runs[0].source == chosen

    # One word short of the threshold is not a shared run.
    near = tmp_path / "near.md"
    near.write_text("Zebra " + " ".join(copied[: RUN_WORDS - 1]) + " marmalade.\n", encoding="utf-8")
    assert find_shared_runs([near], [chosen], min_words=RUN_WORDS) == []
