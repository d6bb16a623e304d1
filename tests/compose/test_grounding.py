"""Citation markers: parsing, resolving, and filtering them out of streamed text."""

from __future__ import annotations

import random

import pytest

from advisor.compose.grounding import (
    CitationStreamFilter,
    build_citations,
    cited_numbers,
    snippet_of,
    strip_unresolved,
)
from advisor.types import Passage
from tests.fakes.openai_server import split_into_deltas


def _passage(n: int) -> Passage:
    return Passage(
        chunk_id=f"doc-{n}-0",
        doc_id=f"doc-{n}",
        title=f"Document {n}",
        section="First steps",
        topics=("deployment",),
        text=f"**Step {n}.** Do the thing number {n} before launch.\n- and then check it",
        source=f"doc-{n}.md",
        score=1.0 / n,
        similarity=0.5,
    )


PASSAGES = [_passage(n) for n in range(1, 7)]


# -- parsing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Ship it [1].", [1]),
        ("Ship it [1, 2].", [1, 2]),
        ("Ship it [1,2] now.", [1, 2]),
        ("Ship it [1][2].", [1, 2]),
        ("First [3], then [1] and [3] again [2, 3].", [3, 1, 2]),
        ("No markers, [a] or [] or [1.5] here.", []),
        ("A list:\n1. **Do it** [12]", [12]),
    ],
)
def test_cited_numbers_in_order_of_first_appearance(text: str, numbers: list[int]) -> None:
    assert cited_numbers(text) == numbers


def test_strip_unresolved_keeps_valid_markers_and_tidies_the_gap() -> None:
    text, removed = strip_unresolved(
        "Measure first [1]. Then ship [9]. Monitor [2, 7] and retrain [0][3].", 6
    )
    assert text == "Measure first [1]. Then ship. Monitor [2] and retrain [3]."
    assert removed == [9, 7, 0]


def test_strip_unresolved_leaves_clean_text_untouched() -> None:
    text = "Keep  this spacing [1] , exactly [2]."
    assert strip_unresolved(text, 6) == (text, [])


def test_build_citations_resolve_cited_numbers_to_passages() -> None:
    citations = build_citations("Do [2] then [1, 2] and [9].", PASSAGES)
    assert [(c.n, c.doc_id) for c in citations] == [(1, "doc-1"), (2, "doc-2")]
    first = citations[0]
    assert (first.title, first.section, first.source, first.topics) == (
        "Document 1",
        "First steps",
        "doc-1.md",
        ("deployment",),
    )
    assert first.snippet == "Step 1. Do the thing number 1 before launch. and then check it"


def test_snippets_are_plain_and_bounded() -> None:
    long = "**Bold** " + "word " * 100
    snippet = snippet_of(long, limit=50)
    assert "**" not in snippet and snippet.endswith("…") and len(snippet) <= 51


# -- the stream filter -----------------------------------------------------------------------------------


def _run(filt: CitationStreamFilter, deltas: list[str]) -> list[str]:
    return [*(filt.feed(d) for d in deltas), filt.flush()]


def test_a_marker_split_across_deltas_is_held_until_it_closes() -> None:
    filt = CitationStreamFilter(6)
    out = _run(filt, ["Ship it ", "[", "1", "]", ". Done."])
    assert out[1:3] == ["", ""]  # nothing of the open marker leaks early
    assert "".join(out) == "Ship it [1]. Done."
    assert filt.removed == []


def test_an_invalid_marker_split_across_deltas_is_dropped_with_its_space() -> None:
    filt = CitationStreamFilter(6)
    out = "".join(_run(filt, ["Ship it ", "[", "9", "]", ". Then ", "monitor [", "2, 8", "]."]))
    assert out == "Ship it. Then monitor [2]."
    assert filt.removed == [9, 8]


def test_a_whole_invalid_marker_in_one_delta_leaves_no_gap() -> None:
    # The way the fake model (and real ones) stream: word by word, marker glued to punctuation.
    reply = "Budget for monitoring from day one [9]. Then retrain [1]."
    filt = CitationStreamFilter(6)
    assert (
        "".join(_run(filt, split_into_deltas(reply)))
        == "Budget for monitoring from day one. Then retrain [1]."
    )


def test_brackets_that_are_not_markers_pass_through() -> None:
    filt = CitationStreamFilter(6)
    out = "".join(_run(filt, ["Use a [shadow", " deployment] first [1]", "; see [", "appendix]."]))
    assert out == "Use a [shadow deployment] first [1]; see [appendix]."
    assert filt.removed == []


def test_an_unclosed_marker_at_the_end_is_flushed() -> None:
    filt = CitationStreamFilter(6)
    assert "".join(_run(filt, ["Ends with [", "2"])) == "Ends with [2"


@pytest.mark.parametrize(
    "text",
    [
        "Measure the baseline [1]. Then ship a minimal version [2][7].\n1. **Own it.** Name an owner [3].",
        "[9] Leading marker, then [1, 2, 9] and [12]; done [6].",
        "No markers at all, just advice.",
        "Trailing valid [1] [2]",
        "Invalid at the very end [7]",
        "Monitor drift [1]. See also [12] and [0]. Retrain monthly [2].",
        "Retrain monthly, as [7] shows, and monitor drift [1].\n- See [9]\n- Next [3], see [8].",
        "As [7] shows, drift matters [1]; costs [1, 2, 9] rise.\n1. Ship [8] quickly.\n2. Done [2].",
    ],
)
def test_streaming_in_any_split_gives_what_the_whole_text_gives(text: str) -> None:
    whole, removed = strip_unresolved(text, 6)
    rng = random.Random(text)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(0, min(15, len(text) - 1))))
        deltas = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        filt = CitationStreamFilter(6)
        assert "".join(_run(filt, deltas)) == whole, deltas
        assert filt.removed == removed, deltas
    filt = CitationStreamFilter(6)
    assert "".join(_run(filt, list(text))) == whole  # one character at a time


# -- a marker the sentence leans on takes its clause with it (issue 16, item 5) ---------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The outside test's case: "See also [12] and [0]." became "See also and."
        (
            "Monitor drift [1]. See also [12] and [0]. Retrain monthly [2].",
            "Monitor drift [1]. Retrain monthly [2].",
        ),
        ("Retrain monthly [1], see [9].", "Retrain monthly [1]."),
        (
            "Retrain monthly [1], as [7] shows, and monitor drift [2].",
            "Retrain monthly [1], and monitor drift [2].",
        ),
        ("As [7] shows, drift matters [1].", "Drift matters [1]."),
        (
            "- Own the model [1]\n- [9] explains why\n- Budget for it [2]",
            "- Own the model [1]\n- Budget for it [2]",
        ),
        # A marker closing its clause goes alone, as before; a group keeps its valid numbers.
        ("Ship [8] quickly, then monitor [2, 9].", "Ship quickly, then monitor [2]."),
    ],
)
def test_a_clause_leaning_on_an_unresolvable_marker_is_dropped(text: str, expected: str) -> None:
    assert strip_unresolved(text, 6)[0] == expected


def test_clauses_stream_as_soon_as_they_are_complete() -> None:
    filt = CitationStreamFilter(6)
    assert filt.feed("Monitor drift [1], then") == "Monitor drift [1]"
    assert filt.feed(" retrain. Next") == ", then retrain"
    assert filt.flush() == ". Next"
