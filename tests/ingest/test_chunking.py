from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from advisor.corpus.loaders import load_document
from advisor.corpus.taxonomy import BUILTIN_TOPICS
from advisor.ingest.chunking import chunk_document, make_chunk_id
from advisor.types import LoadedDocument, Section


def words(n: int, word: str = "word") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


def sentence(n: int, word: str = "alpha") -> str:
    """A sentence of exactly n words, starting with a capital letter and ending with a period."""
    return "Start " + " ".join([word] * (n - 1)) + "."


def doc_of(*sections: Section, doc_id: str = "doc") -> LoadedDocument:
    return LoadedDocument(
        doc_id=doc_id,
        title="A document",
        topics=("monitoring", "deployment"),
        summary="",
        source="doc.md",
        sections=sections,
        content_hash="0" * 64,
    )


def count(text: str) -> int:
    return len(text.split())


def test_short_document_is_one_chunk_per_section_with_metadata() -> None:
    doc = doc_of(Section(("Overview",), words(30)), Section(("Next",), words(40)))
    chunks = chunk_document(doc)
    assert [c.heading_path for c in chunks] == [("Overview",), ("Next",)]
    assert [c.position for c in chunks] == [0, 1]
    first = chunks[0]
    assert first.doc_id == "doc" and first.title == "A document" and first.source == "doc.md"
    assert first.topics == ("monitoring", "deployment")
    assert first.text == words(30)
    assert first.section == "Overview"


def test_chunk_id_is_stable_and_matches_the_documented_formula() -> None:
    text = words(30)
    expected = hashlib.sha256(f"doc\x1fA > B\x1f{text}".encode()).hexdigest()[:24]
    assert make_chunk_id("doc", ("A", "B"), text) == expected
    doc = doc_of(Section(("A", "B"), text))
    assert chunk_document(doc)[0].chunk_id == expected
    # Same text, same id; other document, heading or text, another id.
    assert chunk_document(doc)[0].chunk_id == chunk_document(doc_of(Section(("A", "B"), text)))[0].chunk_id
    assert chunk_document(doc_of(Section(("A", "C"), text)))[0].chunk_id != expected
    assert chunk_document(doc_of(Section(("A", "B"), text), doc_id="other"))[0].chunk_id != expected


def test_long_section_splits_on_paragraphs_without_crossing_sections() -> None:
    paragraphs = [words(70, f"p{i}w") for i in range(6)]  # 420 words
    doc = doc_of(Section(("Long",), "\n\n".join(paragraphs)), Section(("After",), words(30, "after")))
    chunks = chunk_document(doc, max_words=180)
    long_chunks = [c for c in chunks if c.heading_path == ("Long",)]
    assert len(long_chunks) == 3
    assert all(count(c.text) <= 180 for c in long_chunks)
    # Paragraphs are never cut: each chunk is whole paragraphs joined by blank lines.
    for chunk in long_chunks:
        assert all(p in paragraphs for p in chunk.text.split("\n\n"))
    assert "\n\n".join(c.text for c in long_chunks) == "\n\n".join(paragraphs)
    assert chunks[-1].heading_path == ("After",) and "after0" in chunks[-1].text
    assert all("after0" not in c.text for c in long_chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_list_items_are_split_on_item_boundaries() -> None:
    items = [f"- {words(40, f'i{i}w')}" for i in range(8)]  # 8 x 41 words
    doc = doc_of(Section(("List",), "Lead in:\n\n" + "\n".join(items)))
    chunks = chunk_document(doc, max_words=100)
    assert len(chunks) > 1
    assert all(count(c.text) <= 100 for c in chunks)
    for chunk in chunks:
        for line in chunk.text.split("\n"):
            assert line == "" or line == "Lead in:" or line in items
    # Items of the same list stay on consecutive lines.
    assert "\n".join(items[:2]) in chunks[0].text or "\n".join(items[1:3]) in chunks[1].text


def test_over_long_paragraph_splits_on_sentences() -> None:
    sentences = [sentence(30, f"s{i}") for i in range(10)]  # one 300-word paragraph
    doc = doc_of(Section(("Wall",), " ".join(sentences)))
    chunks = chunk_document(doc, max_words=100)
    assert len(chunks) >= 3
    assert all(count(c.text) <= 100 for c in chunks)
    for chunk in chunks:
        assert chunk.text.startswith("Start ") and chunk.text.endswith(".")
    assert " ".join(c.text for c in chunks) == " ".join(sentences)


def test_single_over_long_sentence_is_split_on_words() -> None:
    doc = doc_of(Section(("Run-on",), words(250)))
    chunks = chunk_document(doc, max_words=100)
    assert all(count(c.text) <= 100 for c in chunks)
    assert " ".join(c.text for c in chunks) == words(250)


def test_short_section_merges_with_next_sibling() -> None:
    doc = doc_of(
        Section(("Scaling",), words(40, "intro")),
        Section(("Scaling", "Vertical"), words(10, "vert")),
        Section(("Scaling", "Horizontal"), words(60, "horiz")),
        Section(("Other",), words(40, "other")),
    )
    chunks = chunk_document(doc, max_words=180, min_words=25)
    assert [c.heading_path for c in chunks] == [("Scaling",), ("Scaling", "Vertical"), ("Other",)]
    merged = chunks[1].text
    assert merged.startswith(words(10, "vert"))
    assert "**Horizontal**" in merged and words(60, "horiz") in merged


def test_short_section_does_not_merge_across_parents() -> None:
    doc = doc_of(
        Section(("A", "Short"), words(5, "short")),
        Section(("B",), words(40, "b")),
    )
    chunks = chunk_document(doc)
    assert [c.heading_path for c in chunks] == [("A", "Short"), ("B",)]


def test_short_section_does_not_merge_beyond_max_words() -> None:
    doc = doc_of(Section(("Short",), words(10, "s")), Section(("Long",), words(175, "l")))
    chunks = chunk_document(doc, max_words=180)
    assert [c.heading_path for c in chunks] == [("Short",), ("Long",)]


def test_several_short_siblings_merge_in_turn() -> None:
    doc = doc_of(*(Section((f"S{i}",), words(8, f"s{i}w")) for i in range(4)))
    chunks = chunk_document(doc, min_words=25)
    # S0 absorbs S1 (still short, 17 words) then S2 (26 words, long enough); S3 is last and stays alone.
    assert [c.heading_path for c in chunks] == [("S0",), ("S3",)]
    assert chunks[0].text == "\n\n".join(
        [words(8, "s0w"), "**S1**", words(8, "s1w"), "**S2**", words(8, "s2w")]
    )


def test_identical_chunks_in_one_document_are_kept_once() -> None:
    doc = doc_of(Section(("Same",), words(40)), Section(("Same",), words(40)))
    chunks = chunk_document(doc)
    assert len(chunks) == 1 and chunks[0].position == 0


def test_invalid_limits() -> None:
    doc = doc_of(Section(("A",), "text"))
    with pytest.raises(ValueError):
        chunk_document(doc, max_words=0)
    with pytest.raises(ValueError):
        chunk_document(doc, max_words=10, min_words=20)


def test_chunks_of_a_loaded_markdown_document(tmp_path: Path) -> None:
    body = "\n\n".join(sentence(20, f"w{i}") for i in range(20))  # 400 words in 20 paragraphs
    path = tmp_path / "guide.md"
    path.write_text(
        "---\nid: guide\ntitle: Guide\ntopics: [talent]\nsummary: s\n---\n\n"
        f"## Hiring\n\n{body}\n\n## Tiny\n\nToo short.\n\n## Closing\n\n{words(30)}\n",
        encoding="utf-8",
    )
    doc = load_document(path, tmp_path, BUILTIN_TOPICS)
    chunks = chunk_document(doc)
    hiring = [c for c in chunks if c.heading_path == ("Hiring",)]
    assert len(hiring) == 3 and all(count(c.text) <= 180 for c in hiring)
    assert chunks[-1].heading_path == ("Tiny",) and "**Closing**" in chunks[-1].text
    assert {c.topics for c in chunks} == {("talent",)}
    # Reloading the same file gives the same ids.
    again = chunk_document(load_document(path, tmp_path, BUILTIN_TOPICS))
    assert [c.chunk_id for c in again] == [c.chunk_id for c in chunks]
