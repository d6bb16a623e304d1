"""The widget in a real browser: Playwright drives Debian's headless Chromium against the live app.

One app for the session (real Chroma, real embeddings, the LLM path talking to the fake
OpenAI-protocol server; tests/widget/conftest.py) and one browser per module; each test gets a fresh
browser context (its own localStorage).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.helpers import OFF_TOPIC_QUESTION, user_prompt
from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.advisor_app import LiveServer
from tests.widget.browser_app import (
    ANSWER,
    API_KEY,
    HOSTILE,
    INITIATIVE,
    PARTNER_KEY,
    QUESTION,
    open_widget,
    record_announcements,
    shadow_focus,
)
from tests.widget.conftest import WIDGET_KEY, page_server


def test_a_conversation_streams_cites_takes_feedback_and_survives_a_reload(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    fake_openai.reply_with(ANSWER)
    fake_openai.stall(
        3.0, after_chunks=12
    )  # a pause mid-answer (after a clause), so partial text is on screen
    page = new_page()
    page.goto(f"{app_server.url}/")
    assert API_KEY not in page.content()
    dialog = open_widget(page)
    dialog.get_by_label("Tell us about your initiative").fill(INITIATIVE)
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog.locator(".initiative-note")).to_contain_text(INITIATIVE)
    record_announcements(page)  # what the live region says while the answer streams
    dialog.get_by_label("Your question").fill(QUESTION)
    dialog.get_by_role("button", name="Send").click()

    answer = dialog.locator(".msg.assistant").last
    expect(answer.locator(".content")).to_contain_text("Your team is missing the path", timeout=15_000)
    partial = answer.locator(".content").inner_text()
    assert answer.get_attribute("aria-busy") == "true", "still streaming"
    assert "Agree who owns" not in partial and answer.locator(".sources").count() == 0

    expect(answer.locator(".feedback")).to_be_visible(timeout=20_000)
    expect(answer.locator(".content")).to_contain_text("Agree who owns the model after launch")
    expect(answer.locator(".content li")).to_have_count(3)
    expect(answer.locator(".content strong").first).to_have_text(
        "Refactor the notebook into a tested package"
    )
    expect(answer.locator(".sources li")).to_have_count(3)
    assert answer.locator("button.cite").count() == 4  # [1] [1] [2] [3]
    announced = page.evaluate("window.__announced")
    assert announced == ["Advisor is answering…", "Answer ready, 3 steps, 3 sources."], announced

    # Open a source from its marker: the details open on title, section and snippet.
    answer.get_by_role("button", name="Source 2:", exact=False).first.click()
    source = answer.locator('details[data-n="2"]')
    expect(source).to_have_attribute("open", "")
    expect(source.locator(".snippet")).to_be_visible()
    assert source.locator(".snippet").inner_text().strip()
    assert "panel:" in shadow_focus(page)

    conversation_id = page.evaluate(
        "Object.entries(localStorage).find(([k]) => k.startsWith('advisor-widget:'))[1]"
    )
    store = app_server.container.conversations
    message = store.list_messages(conversation_id)[-1]
    assert message.role == "assistant" and message.content == ANSWER
    assert INITIATIVE in user_prompt(fake_openai.chat_requests[-1].messages)
    page.screenshot(path=str(screenshots / "widget-desktop.png"))

    answer.get_by_role("button", name="Helpful", exact=True).click()
    answer.get_by_label("Comment (optional)").fill("Clear next steps")
    answer.get_by_role("button", name="Send feedback").click()
    expect(answer.get_by_text("Thanks for your feedback.")).to_be_visible()
    (feedback,) = store.feedback_for(message.id)
    assert feedback.rating == "up" and feedback.comment == "Clear next steps"

    page.reload()
    dialog = open_widget(page)
    restored = dialog.locator(".msg.assistant")
    expect(restored).to_have_count(1)
    expect(dialog.locator(".msg.user")).to_contain_text(QUESTION)
    expect(restored.locator(".sources li")).to_have_count(3)
    expect(dialog.locator(".initiative-note")).to_contain_text(INITIATIVE)
    expect(dialog.get_by_label("Your question")).to_be_visible()

    dialog.get_by_role("button", name="New chat").click()
    expect(dialog.locator(".msg")).to_have_count(0)
    expect(dialog.get_by_label("Tell us about your initiative")).to_be_focused()
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('advisor-widget:')).length") == 0


def test_keyboard_only_an_abstention_on_a_narrow_screen(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = new_page(320, 640)
    page.goto(f"{app_server.url}/")
    for _ in range(12):  # past the intranet's own links to the launcher
        page.keyboard.press("Tab")
        if shadow_focus(page) == "Open Ask Advisor":
            break
    assert shadow_focus(page) == "Open Ask Advisor"
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Ask Advisor")
    expect(dialog).to_be_visible()
    assert shadow_focus(page) == "panel:advisor-initiative"
    box = dialog.bounding_box()
    assert box is not None and box["width"] <= 320, box  # the open panel fits a 320 px screen

    # Focus trap: Tab and Shift+Tab never leave the open panel.
    seen = set()
    for _ in range(8):
        page.keyboard.press("Tab")
        focus = shadow_focus(page)
        assert focus.startswith("panel:"), focus
        seen.add(focus)
    assert {"panel:New chat", "panel:Close the chat", "panel:Skip"} <= seen, seen
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        assert shadow_focus(page).startswith("panel:")

    while shadow_focus(page) != "panel:Skip":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # no initiative: straight to the question
    assert shadow_focus(page) == "panel:advisor-question"
    page.keyboard.type(OFF_TOPIC_QUESTION)
    page.keyboard.press("Enter")
    notice = dialog.locator(".msg.assistant.abstained")
    expect(notice).to_be_visible(timeout=20_000)
    expect(notice).to_contain_text("won't guess")
    assert notice.locator(".notice").count() == 0  # said once, by the answer itself
    assert dialog.locator(".msg.assistant .sources").count() == 0
    assert fake_openai.chat_requests == []  # abstained before any model call
    page.screenshot(path=str(screenshots / "widget-320px.png"))

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert shadow_focus(page) == "Open Ask Advisor"
    assert page.get_by_role("button", name="Open Ask Advisor").get_attribute("aria-expanded") == "false"


def test_a_page_on_another_origin_cannot_use_the_widget_key(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    (tmp_path / "index.html").write_text(
        "<!doctype html><title>Another site</title><h1>Someone else's page</h1>"
        f'<script src="{app_server.url}/widget.js" data-advisor-url="{app_server.url}" '
        f'data-widget-key="{WIDGET_KEY}" data-ask-initiative="false" defer></script>'
    )
    with page_server(tmp_path) as foreign:
        page = new_page()
        failed: list[str] = []
        console: list[str] = []
        page.on("requestfailed", lambda r: failed.append(f"{r.method} {r.url}"))
        page.on("console", lambda m: console.append(m.text))
        page.goto(f"{foreign}/index.html")
        dialog = open_widget(page)  # the script itself loads from anywhere
        dialog.get_by_label("Your question").fill(QUESTION)
        dialog.get_by_role("button", name="Send").click()
        expect(dialog.get_by_role("alert")).to_have_text("Advisor could not be reached from this page.")
    assert f"POST {app_server.url}/v1/chat" in failed, failed
    assert any("CORS" in line for line in console), console
    assert dialog.locator(".msg.assistant").count() == 0 and fake_openai.chat_requests == []


def test_an_answer_with_markup_renders_as_inert_text(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any
) -> None:
    from playwright.sync_api import expect

    fake_openai.reply_with(HOSTILE)
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{app_server.url}/")
    dialog = open_widget(page)
    dialog.get_by_role("button", name="Skip").click()
    dialog.get_by_label("Your question").fill("How should we roll out a new model version safely?")
    dialog.get_by_role("button", name="Send").click()
    answer = dialog.locator(".msg.assistant").last
    expect(answer.locator(".feedback")).to_be_visible(timeout=20_000)
    # The server's own output filter may already have removed the markup; whatever reached the
    # browser is shown as text, and nothing of it became an element, ran or loaded.
    assert "Roll out behind a canary first" in answer.locator(".content").inner_text()
    assert answer.locator(".content script, .content img, .content a, .content iframe").count() == 0
    expect(answer.locator(".content em")).to_have_text("then")
    # Source links only ever point at http(s) sources; the bundled corpus has file paths: no links.
    assert answer.locator(".sources a").count() == 0

    # The widget's renderer given the raw model text: every construct stays literal text, in the page.
    rendered = page.evaluate(
        """(text) => {
            const box = document.createElement('div');
            box.id = 'rendered';
            box.append(window.AdvisorWidget.renderMarkdown(text));
            document.body.append(box);
            return {text: box.textContent, elements: [...box.querySelectorAll('*')].map(e => e.tagName)};
        }""",
        HOSTILE,
    )
    for literal in (
        '<script>window.__pwned = "script"</script>',
        '<img src="http://127.0.0.1:9/x.png" onerror="window.__pwned = \'img\'">',
        "![diagram](http://127.0.0.1:9/diagram.png)",
        "[docs](javascript:alert(1))",
    ):
        assert literal in rendered["text"], (literal, rendered)
    assert set(rendered["elements"]) == {"P", "SPAN", "EM"}, rendered  # paragraphs, markers, italics
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert not [url for url in requested if "127.0.0.1:9/" in url], requested

    # The renderer on its own: the Markdown subset becomes elements, everything else stays text.
    html = page.evaluate(
        """() => {
            const box = document.createElement('div');
            box.append(window.AdvisorWidget.renderMarkdown(
                '# Plan\\n- **bold** and _it_ [1]\\n- `code` <b>x</b>\\n\\n2. second\\n\\n<iframe src=x></iframe>'));
            return box.innerHTML;  // reading (never writing) the result
        }"""
    )
    assert "<ul><li><strong>bold</strong> and <em>it</em> <span" in html, html
    assert '<ol start="2"><li>second</li></ol>' in html, html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "&lt;iframe src=x&gt;&lt;/iframe&gt;" in html, html


def test_an_allowed_site_embeds_the_widget_inline(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any, partner_site: tuple[Path, str]
) -> None:
    from playwright.sync_api import expect

    directory, url = partner_site
    (directory / "help.html").write_text(
        "<!doctype html><title>Partner help</title><style>button { background: hotpink !important }</style>"
        '<h1>Help centre</h1><div id="help"></div>'
        f'<script src="{app_server.url}/widget.js" data-advisor-url="{app_server.url}" '
        f'data-widget-key="{PARTNER_KEY}" data-mode="inline" data-target="#help" data-title="Partner advisor" '
        'data-accent="#0a7d4f" data-ask-initiative="false" '
        'data-suggestions="How do we get our churn model from a notebook into production?" defer></script>'
    )
    fake_openai.reply_with(ANSWER)
    page = new_page()
    statuses: dict[str, int] = {}
    page.on("response", lambda r: statuses.setdefault(f"{r.request.method} {r.url}", r.status))
    page.goto(f"{url}/help.html")
    region = page.get_by_role("region", name="Partner advisor")
    expect(region).to_be_visible()
    assert page.locator("#help [data-advisor-widget]").count() == 1  # mounted where the page asked
    send = region.get_by_role("button", name="Send")
    # The page's own `button { background: hotpink !important }` does not reach into the widget.
    assert send.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(10, 125, 79)"
    region.get_by_role("button", name="How do we get our churn model").click()
    answer = region.locator(".msg.assistant")
    expect(answer.locator(".feedback")).to_be_visible(timeout=20_000)
    expect(answer.locator(".sources li")).to_have_count(3)
    # A cross-origin POST with an Authorization header: the browser sent it only after the CORS
    # preflight was answered for this origin.
    assert statuses[f"POST {app_server.url}/v1/chat"] == 200

    # The model fails on a follow-up: the extractive fallback answers, and the widget says so.
    fake_openai.fail(500)
    region.get_by_label("Your question").fill("How do we monitor a model in production for drift?")
    region.get_by_role("button", name="Send").click()
    fallback = region.locator(".msg.assistant").nth(1)
    expect(fallback.locator(".notice.fallback")).to_contain_text("language model was unavailable")
    expect(fallback.locator(".sources li").first).to_be_visible()


def test_a_rate_limited_question_tells_the_visitor_when_to_retry(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any
) -> None:
    from playwright.sync_api import expect

    page = new_page()
    page.goto(f"{app_server.url}/")
    dialog = open_widget(page)
    dialog.get_by_role("button", name="Skip").click()
    question = dialog.get_by_label("Your question")
    for turn in range(1, 4):  # the first turn opens the conversation, two more fit the limit
        question.fill(f"{OFF_TOPIC_QUESTION} ({turn})")
        question.press("Enter")
        expect(dialog.locator(".msg.assistant.abstained")).to_have_count(turn, timeout=20_000)
    question.fill(OFF_TOPIC_QUESTION)
    question.press("Enter")
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("Too many questions right now: please wait")
    wait = int(alert.inner_text().split("please wait ")[1].split(" ")[0])
    assert 1 <= wait <= 60
    expect(dialog.locator(".msg.assistant")).to_have_count(3)  # the refused turn left no answer
