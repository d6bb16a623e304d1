"""The widget's assessment mode in Chromium: describe the initiative, see what was understood, answer
questions one at a time with the keyboard, read the scorecard as a coloured grid, open a cited source
and come back; correct what was read; later answers in the conversation use the assessment.
Screenshots, desktop and phone, and axe-core over the scorecard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.advisor_app import LiveServer
from tests.widget.browser_app import ANSWER, QUESTION, open_widget, record_announcements, shadow_focus
from tests.widget.test_browser_reading import AXE_RUN, _ask, axe_script  # noqa: F401 (a fixture)

CHURN = "Churn model for a telecom, data in three CRMs, two data scientists, no MLOps."


def _assess(dialog: Any, page: Any, correct: bool = False) -> None:
    from playwright.sync_api import expect

    dialog.get_by_role("button", name="Assess my initiative").click()
    expect(dialog.get_by_role("heading", name="Assess my initiative")).to_be_visible()
    dialog.get_by_label("Describe your initiative").fill(CHURN)
    dialog.get_by_role("button", name="Start the assessment").click()
    expect(dialog.get_by_role("heading", name="What we understood")).to_be_visible()
    expect(dialog.get_by_text("“no MLOps”: infrastructure not ready")).to_be_visible()
    if correct:
        # "no MLOps" was read as "by hand"; the visitor says scripts run it: the second answer.
        dialog.get_by_role("button", name="Correct what we understood").click()
        expect(dialog.get_by_role("group", name="Where is the data the model needs?")).to_be_visible()
        expect(
            dialog.get_by_role("radio", name="Spread over several systems, spreadsheets or teams")
        ).to_be_checked()
        dialog.get_by_role("button", name="Next").click()  # right as read
        expect(dialog.get_by_role("group", name="How are models built, run and retrained?")).to_be_visible()
        expect(dialog.get_by_role("radio", name="By hand: notebooks, laptops, manual steps")).to_be_checked()
        dialog.get_by_role("radio", name="Scripts and scheduled jobs, partly automated").check()
        dialog.get_by_role("button", name="Next").click()
        dialog.get_by_role("button", name="Show my scorecard now").click()
        expect(dialog.get_by_role("heading", name="Your readiness")).to_be_visible()
        return
    dialog.get_by_role("button", name="short questions", exact=False).click()
    # Keyboard only: the first answer has focus; arrows move between answers, Enter goes on.
    expect(dialog.get_by_text("Question 1 of", exact=False)).to_be_visible()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(dialog.get_by_text("Question 2 of", exact=False)).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(dialog.get_by_text("Question 3 of", exact=False)).to_be_visible()
    dialog.get_by_role("button", name="Show my scorecard now").click()
    expect(dialog.get_by_role("heading", name="Your readiness")).to_be_visible()


@pytest.mark.parametrize(("device", "width", "height"), [("desktop", 1280, 800), ("390px", 390, 844)])
def test_assess_an_initiative_in_the_widget(
    app_server: LiveServer,
    fake_openai: FakeOpenAIServer,
    new_page: Any,
    screenshots: Path,
    axe_script: Path,  # noqa: F811
    device: str,
    width: int,
    height: int,
) -> None:
    from playwright.sync_api import expect

    page = new_page(width, height)
    page.goto(f"{app_server.url}/")
    page.add_script_tag(path=str(axe_script))
    dialog = open_widget(page)
    record_announcements(page)
    _assess(dialog, page)
    tile = dialog.locator(".tile", has_text="infrastructure")
    expect(tile).to_have_class("tile level-1")
    expect(tile).to_contain_text("not ready, 1 of 4")
    expect(tile).to_contain_text("You said: “no MLOps”")
    expect(dialog.locator(".tile.level-2", has_text="data quality")).to_contain_text("data in three CRMs")
    expect(dialog.get_by_role("heading", name="Next 30 days")).to_be_visible()
    page.wait_for_function("window.__announced.some(t => t.startsWith('Scorecard ready'))")
    found = page.evaluate(AXE_RUN)
    print(f"\naxe-core on the scorecard at {width} px: {found}")
    assert [v for v in found if v["impact"] in ("serious", "critical")] == [], found
    page.screenshot(path=str(screenshots / f"widget-scorecard-{device}.png"))
    dialog.locator(".assess-stage").evaluate("el => el.scrollTop = el.scrollHeight")
    page.screenshot(path=str(screenshots / f"widget-scorecard-plan-{device}.png"))

    cite = tile.get_by_role("button", name="Source", exact=False).first
    cite.click()
    reader = dialog.locator(".reader")
    expect(reader).to_be_visible()
    page.keyboard.press("Escape")  # back to the scorecard, not to the chat
    expect(reader).to_be_hidden()
    expect(dialog.get_by_role("heading", name="Your readiness")).to_be_visible()
    assert shadow_focus(page).startswith("panel:Source ")  # focus back on the citation

    dialog.get_by_role("button", name="Back to the conversation").click()
    dialog.get_by_role("button", name="Skip").click()
    fake_openai.reply_with(ANSWER)
    _ask(dialog, QUESTION)  # the conversation starts; the assessment joins it
    fake_openai.reply_with(ANSWER)
    _ask(dialog, "Where should we start?")
    asked = fake_openai.chat_requests[-1].messages[-1]["content"]
    assert "readiness assessment rated these topics weak" in asked and "infrastructure: not ready" in asked


def test_what_was_read_from_the_description_can_be_corrected(app_server: LiveServer, new_page: Any) -> None:
    from playwright.sync_api import expect

    page = new_page(1280, 800)
    page.goto(f"{app_server.url}/")
    dialog = open_widget(page)
    _assess(dialog, page, correct=True)
    tile = dialog.locator(".tile", has_text="infrastructure")
    expect(tile).to_contain_text("at risk, 2 of 4")  # scripts, not by hand
