"""Reading answers in the widget, in Chromium: real headings, what a screen reader hears, tap targets,
where a new answer starts, stopping an answer, opening the whole document behind a citation, and
axe-core's accessibility rules over the open widget."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.advisor_app import REPO, LiveServer
from tests.widget.browser_app import ANSWER, QUESTION, open_widget, record_announcements, shadow_focus

WITH_HEADINGS = (
    "Start with the path to production [1].\n\n"
    "## First steps\n"
    "1. **Refactor the notebook into a tested package** so training and serving share features [1].\n"
    "2. **Add a training pipeline** before tuning the model further [2].\n\n"
    "## Who owns it\n"
    "Agree who owns the model after launch [3]."
)
LONG = "\n\n".join(
    f"Step {i}: keep the model's owner, data and monitoring in view [1]." for i in range(1, 30)
)
AXE_VERSION = "4.10.3"


def _ask(dialog: Any, text: str) -> Any:
    from playwright.sync_api import expect

    dialog.get_by_label("Your question").fill(text)
    dialog.get_by_label("Your question").press("Enter")
    answer = dialog.locator(".msg.assistant").last
    expect(answer.locator(".feedback")).to_be_visible(timeout=20_000)
    return answer


def _start(page: Any, url: str) -> Any:
    page.goto(f"{url}/")
    dialog = open_widget(page)
    dialog.get_by_role("button", name="Skip").click()
    return dialog


def test_headings_a_short_status_for_screen_readers_and_tap_targets(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any
) -> None:
    from playwright.sync_api import expect

    fake_openai.reply_with(WITH_HEADINGS)
    page = new_page(360, 740)
    dialog = _start(page, app_server.url)
    record_announcements(page)
    answer = _ask(dialog, QUESTION)
    expect(answer.get_by_role("heading", level=3, name="First steps")).to_be_visible()
    expect(answer.get_by_role("heading", level=3, name="Who owns it")).to_be_visible()

    page.wait_for_function("window.__announced.some(t => t.startsWith('Answer ready'))")
    spoken = page.evaluate("window.__announced")
    print(f"\nannounced: {spoken!r}")
    assert spoken == ["Advisor is answering…", "Answer ready, 2 steps, 3 sources."], spoken

    sizes = answer.locator("button.cite").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    print(f"citation targets at 360 px: {sizes}")
    assert sizes and all(w >= 24 and h >= 24 for w, h in sizes), sizes


def test_a_new_answer_is_shown_from_its_start(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any
) -> None:
    fake_openai.reply_with(ANSWER)
    page = new_page(1280, 800)
    dialog = _start(page, app_server.url)
    _ask(dialog, QUESTION)
    fake_openai.reply_with(LONG)
    _ask(dialog, "And what should the team keep an eye on after launch?")
    offset = page.evaluate(
        """() => {
            const root = document.querySelector('[data-advisor-widget]').shadowRoot;
            const body = root.querySelector('.body');
            const asked = [...root.querySelectorAll('.msg.user')].pop();
            return asked.getBoundingClientRect().top - body.getBoundingClientRect().top;
        }"""
    )
    print(f"\nthe second question sits {offset:.0f} px below the top of the conversation")
    assert 0 <= offset <= 40  # not scrolled to the end of the long answer


def test_stopping_an_answer_keeps_what_arrived(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any
) -> None:
    from playwright.sync_api import expect

    fake_openai.reply_with(ANSWER)
    fake_openai.stall(15, after_chunks=18)  # the first sentence arrives, then nothing
    page = new_page()
    dialog = _start(page, app_server.url)
    dialog.get_by_label("Your question").fill(QUESTION)
    dialog.get_by_role("button", name="Send").click()
    answer = dialog.locator(".msg.assistant").last
    expect(answer.locator(".content")).to_contain_text("Your team is missing the path", timeout=15_000)
    stop = dialog.get_by_role("button", name="Stop")
    expect(stop).to_be_focused()  # the keyboard user who pressed Send can stop at once
    stop.press("Enter")
    expect(answer.locator(".notice")).to_contain_text("You stopped this answer")
    expect(dialog.get_by_role("button", name="Send")).to_be_visible()
    assert answer.get_attribute("aria-busy") is None
    assert shadow_focus(page) == "panel:advisor-question"
    assert "Agree who owns" not in answer.inner_text()


def test_a_citation_opens_the_whole_document(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    fake_openai.reply_with(ANSWER)
    page = new_page(390, 844)
    dialog = _start(page, app_server.url)
    answer = _ask(dialog, QUESTION)
    source = answer.locator('details[data-n="1"]')
    source.locator("summary").click()
    title = source.locator("summary").inner_text().split("] ", 1)[1].split(" — ")[0]
    read = source.get_by_role("button", name="Read the whole document")
    read.click()

    reader = dialog.get_by_role("region", name=title)
    expect(reader).to_be_visible()
    assert shadow_focus(page) == "panel:advisor-reader-title"
    expect(reader.get_by_role("heading", level=4).first).to_be_visible()
    assert reader.get_by_role("heading", level=4).count() >= 3  # the document's sections
    expect(reader.locator(".cited")).to_have_count(1)  # the section the citation came from
    expect(dialog.get_by_label("Your question")).to_be_hidden()
    page.screenshot(path=str(screenshots / "widget-document-390px.png"))

    page.keyboard.press("Escape")  # back to the conversation, not out of the widget
    expect(reader).to_be_hidden()
    expect(dialog).to_be_visible()
    assert shadow_focus(page) == "panel:Read the whole document"


@pytest.fixture(scope="module")
def axe_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """axe-core from the npm registry (the project ships none of its code)."""
    cached = REPO / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
    if not cached.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: axe-core cannot be fetched")
        done = subprocess.run(
            [npm, "install", "--no-save", "--prefix", str(cached.parents[2]), f"axe-core@{AXE_VERSION}"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not cached.is_file():
            pytest.skip(f"npm could not install axe-core: {done.stderr[-500:]}")
    return cached


AXE_RUN = """async () => {
    const found = await axe.run(document, {
        runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
        rules: { 'label-content-name-mismatch': { enabled: true } },
    });
    return found.violations.map(v => ({
        id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3),
    }));
}"""


@pytest.mark.parametrize("width", [1280, 360])
def test_axe_finds_no_serious_issue_closed_open_answered_and_cited(
    app_server: LiveServer, fake_openai: FakeOpenAIServer, new_page: Any, axe_script: Path, width: int
) -> None:
    fake_openai.reply_with(WITH_HEADINGS)
    page = new_page(width, 800)
    page.goto(f"{app_server.url}/")
    page.add_script_tag(path=str(axe_script))
    found = {"closed": page.evaluate(AXE_RUN)}
    dialog = open_widget(page)
    found["open"] = page.evaluate(AXE_RUN)
    dialog.get_by_role("button", name="Skip").click()
    answer = _ask(dialog, QUESTION)
    found["answered"] = page.evaluate(AXE_RUN)
    answer.get_by_role("button", name="Source 1:", exact=False).first.click()
    found["citation open"] = page.evaluate(AXE_RUN)
    print(f"\naxe-core {AXE_VERSION} at {width} px: {found}")
    for state, violations in found.items():
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], (state, serious)
        ids = {v["id"] for v in violations}
        assert not ids & {"label-content-name-mismatch", "landmark-no-duplicate-banner"}, (state, violations)
