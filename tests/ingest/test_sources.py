"""Named corpus sources, on the fast tier's fakes: ingesting one folder adds or refreshes its own
source and never removes another's documents; removing a source is explicit and removes only it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.ingest.indexer import IngestError
from advisor.ingest.sources import (
    DEFAULT_SOURCE,
    SourceNameError,
    name_sources,
    registered_sources,
    source_name_for,
)
from tests.ingest.conftest import Fakes

ZORBLAT = """---
id: {doc_id}
title: Zorblat approvals {n}
topics: [security-governance]
summary: Who signs off a model before release.
updated: 2026-12-04
---

The zorblat committee signs off every model before it reaches customers ({n}).

## First steps
1. **Book the zorblat review.** Send the model card a week ahead.
"""


def _folder(root: Path, name: str, *doc_ids: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for n, doc_id in enumerate(doc_ids):
        (folder / f"{doc_id}.md").write_text(ZORBLAT.format(doc_id=doc_id, n=n))
    return folder


def _by_source(fakes: Fakes) -> dict[str, set[str]]:
    state = fakes.store.get_index_state()
    assert state is not None
    found: dict[str, set[str]] = {}
    for record in fakes.store.indexed_documents(state.collection).values():
        found.setdefault(record.source_name, set()).add(record.doc_id)
    return found


def test_another_folder_is_added_beside_the_bundled_corpus(fakes: Fakes, tmp_path: Path) -> None:
    bundled = fakes.indexer.ingest([fakes.settings.knowledge_dir])
    hr = _folder(tmp_path, "hr-policies", "zorblat-approvals", "zorblat-exceptions")
    report = fakes.indexer.ingest([hr])
    assert (report.added, report.removed, report.other_sources) == (2, 0, bundled.added)
    assert "kept from other sources" in report.summary()
    sources = _by_source(fakes)
    assert sources["hr-policies"] == {"zorblat-approvals", "zorblat-exceptions"}
    assert len(sources[DEFAULT_SOURCE]) == bundled.added

    retriever = fakes.retriever()
    assert retriever.retrieve_passages("zorblat committee sign off").passages[0].doc_id.startswith("zorblat")
    assert "release-strategies" in {
        p.doc_id for p in retriever.retrieve_passages("How do we roll back a canary release?").passages
    }

    # Refreshing the folder after a file was deleted removes that file only.
    (hr / "zorblat-exceptions.md").unlink()
    again = fakes.indexer.ingest([hr])
    assert (again.removed, again.other_sources) == (1, bundled.added)
    assert _by_source(fakes)["hr-policies"] == {"zorblat-approvals"}

    registered = {s.name: json.loads(s.path) for s in fakes.store.sources()}
    assert registered == {
        DEFAULT_SOURCE: [str(fakes.settings.knowledge_dir.resolve())],
        "hr-policies": [str(hr.resolve())],
    }
    assert registered_sources(fakes.store.sources(), fakes.settings.knowledge_dir) == {
        DEFAULT_SOURCE: [fakes.settings.knowledge_dir],
        "hr-policies": [hr.resolve()],
    }


def test_an_id_another_source_holds_is_skipped_not_stolen(fakes: Fakes, tmp_path: Path) -> None:
    fakes.indexer.ingest([fakes.settings.knowledge_dir])
    clash = _folder(tmp_path, "clash", "release-strategies", "zorblat-approvals")
    report = fakes.indexer.ingest([clash])
    assert report.added == 1
    assert any("duplicate id 'release-strategies'" in s and "'knowledge'" in s for s in report.skipped), (
        report.skipped
    )
    assert "release-strategies" in _by_source(fakes)[DEFAULT_SOURCE]


def test_removing_a_source_is_explicit_and_removes_only_it(fakes: Fakes, tmp_path: Path) -> None:
    bundled = fakes.indexer.ingest([fakes.settings.knowledge_dir])
    fakes.indexer.ingest([_folder(tmp_path, "hr-policies", "zorblat-approvals")])
    report = fakes.indexer.remove_source("hr-policies")
    assert (report.removed, report.other_sources) == (1, bundled.added)
    assert set(_by_source(fakes)) == {DEFAULT_SOURCE}
    assert [s.name for s in fakes.store.sources()] == [DEFAULT_SOURCE]
    with pytest.raises(IngestError, match="no source named 'nosuch'"):
        fakes.indexer.remove_source("nosuch")


def test_source_names(tmp_path: Path) -> None:
    knowledge = tmp_path / "guidance"
    knowledge.mkdir()
    other = tmp_path / "HR Policies (2026)"
    other.mkdir()
    assert source_name_for(knowledge, knowledge) == DEFAULT_SOURCE  # wherever the default folder is
    assert source_name_for(other, knowledge) == "hr-policies-2026"
    assert name_sources([knowledge, other], knowledge) == {
        DEFAULT_SOURCE: [knowledge],
        "hr-policies-2026": [other],
    }
    assert name_sources([other], knowledge, "hr") == {"hr": [other]}
    with pytest.raises(SourceNameError, match="lowercase"):
        name_sources([other], knowledge, "HR policies")


def test_each_document_keeps_its_topics_and_updated_date_and_older_indexes_gain_them(
    fakes: Fakes, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from advisor.store.models import IndexedDocument

    folder = _folder(tmp_path, "hr-policies", "zorblat-approvals")
    (folder / "plain-notes.txt").write_text("Plain notes about the zorblat committee and its reviews. " * 5)
    fakes.indexer.ingest([folder])
    state = fakes.store.get_index_state()
    assert state is not None
    records = fakes.store.indexed_documents(state.collection)
    assert records["zorblat-approvals"].topics == ("security-governance",)
    assert records["zorblat-approvals"].updated == "2026-12-04"  # the front matter's date
    assert len(records["plain-notes"].updated) == 10 and records["plain-notes"].topics == ()  # the file's

    # An index built before topics and dates were kept gains them on the next ingest, nothing re-embedded.
    with fakes.store.engine.begin() as db:
        db.execute(update(IndexedDocument).values(topics=None, updated=None))
    report = fakes.indexer.ingest([folder])
    assert report.unchanged == 2 and report.embedded_chunks == 0
    state = fakes.store.get_index_state()
    assert state is not None
    assert fakes.store.indexed_documents(state.collection)["zorblat-approvals"].updated == "2026-12-04"
