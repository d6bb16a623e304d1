"""Answers rendered for Slack: escaping, Markdown to mrkdwn, and Slack's size limits."""

from __future__ import annotations

import pytest

from advisor.slack.blocks import (
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    answer_messages,
    escape,
    split_text,
    to_mrkdwn,
)
from advisor.slack.handlers import parse_command
from advisor.slack.threads import question_text
from advisor.types import Citation


def test_escape_defuses_slack_control_sequences() -> None:
    assert escape("<!channel> <!here> <@U123> <#C1> a & b") == (
        "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;#C1&gt; a &amp; b"
    )


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**Ship it.** Then *measure* [1].", "*Ship it.* Then _measure_ [1]."),
        ("__bold__ and ~~old~~", "*bold* and ~old~"),
        ("## Next steps", "*Next steps*"),
        ("- one\n* two\n  + nested", "• one\n• two\n  • nested"),
        ("1. **First** step", "1. *First* step"),
        (
            "see [the guide](https://example.com/a?b=1&c=2)",
            "see <https://example.com/a?b=1&amp;c=2|the guide>",
        ),
        ("`a <b> **c**`", "`a &lt;b&gt; **c**`"),
        ("```\n<!channel> **x**\n```", "```\n&lt;!channel&gt; **x**\n```"),
        ("2 * 3 * 4 and a*b*c", "2 * 3 * 4 and a*b*c"),
        ("[x](javascript:alert(1)) <!channel>", "[x](javascript:alert(1)) &lt;!channel&gt;"),
    ],
)
def test_markdown_becomes_escaped_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


def test_split_text_respects_the_limit_and_keeps_links_and_entities_whole() -> None:
    link = "<https://example.com/very/long/path|a label with spaces>"
    text = " ".join([f"word{i} &amp; {link}" for i in range(400)])
    pieces = split_text(text, 500)
    assert len(pieces) > 1 and all(len(p) <= 500 for p in pieces)
    assert " ".join(pieces) == text
    for piece in pieces:
        assert piece.count("<") == piece.count(">")
        assert not piece.endswith("&amp") and not piece.startswith("amp;")


def test_split_text_prefers_paragraphs_then_lines() -> None:
    paragraphs = ["x" * 1200, "y" * 1200, "z" * 1200]
    assert split_text("\n\n".join(paragraphs)) == ["x" * 1200 + "\n\n" + "y" * 1200, "z" * 1200]
    assert split_text("a" * 7000) == ["a" * 3000, "a" * 3000, "a" * 1000]  # no boundary: hard cut
    assert split_text("  ") == []


def test_a_long_answer_is_split_within_slack_limits_with_sources_and_buttons_last() -> None:
    answer = "\n\n".join(f"{i}. **Step {i}.** " + " ".join(["detail"] * 300) for i in range(1, 121))
    citations = [
        Citation(n, f"guide-{n}", f"Guide <{n}>", "", (), "", f"guide-{n}.md", 0.5) for n in range(1, 4)
    ]
    messages = answer_messages(answer, citations, "m" * 32, share=True)
    assert len(messages) > 1
    for message in messages:
        assert len(message.blocks) <= MAX_BLOCKS
        assert all(
            len(b["text"]["text"]) <= SECTION_TEXT_LIMIT for b in message.blocks if b["type"] == "section"
        )
        assert 0 < len(message.text) <= 300
    *first, last = messages
    assert [b["type"] for b in last.blocks][-2:] == ["context", "actions"]
    assert all(b["type"] == "section" for m in first for b in m.blocks)
    assert last.blocks[-2]["elements"][0]["text"] == (
        "*Sources:* [1] Guide &lt;1&gt; · [2] Guide &lt;2&gt; · [3] Guide &lt;3&gt;"
    )
    action_ids = [e["action_id"] for e in last.blocks[-1]["elements"]]
    assert action_ids == ["advisor_feedback_up", "advisor_feedback_down", "advisor_share"]
    rendered = "\n\n".join(b["text"]["text"] for m in messages for b in m.blocks if b["type"] == "section")
    assert rendered == to_mrkdwn(answer)  # nothing lost or duplicated by the split


def test_an_abstention_has_no_sources_block() -> None:
    (message,) = answer_messages("I can't answer that.", [], "m1")
    assert [b["type"] for b in message.blocks] == ["section", "actions"]


def test_slash_command_parsing_and_questions_from_slack_text() -> None:
    assert parse_command("") == ("help", "")
    assert parse_command("  HELP ") == ("help", "")
    assert parse_command("initiative churn model, 3 CRMs") == ("initiative", "churn model, 3 CRMs")
    assert parse_command("initiative") == ("initiative", "")
    assert parse_command("how do we deploy?") == ("ask", "how do we deploy?")
    assert question_text("<@UBOT>  what about Q&amp;A &lt;tests&gt;?", "UBOT") == "what about Q&A <tests>?"
