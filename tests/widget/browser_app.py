"""What the browser tests share besides fixtures (those are in conftest.py): the scripted answers and
the helpers that reach into the widget's shadow root."""

from __future__ import annotations

from typing import Any

API_KEY = "test-api-key-browser-0123456789"
INITIATIVE = "a churn model, data in three CRMs, two data scientists, no MLOps"
QUESTION = "Our churn model works in a notebook but never reached production. What are we missing?"
ANSWER = (
    "Your team is missing the path from notebook to production, not a better model [1].\n"
    "1. **Refactor the notebook into a tested package** so training and serving share features [1].\n"
    "2. **Add a training pipeline and a serving path** before tuning the model further [2].\n"
    "3. **Agree who owns the model after launch** and budget for it [3]."
)
HOSTILE = (
    "Roll out behind a canary first [1].\n\n"
    '<script>window.__pwned = "script"</script> '
    '<img src="http://127.0.0.1:9/x.png" onerror="window.__pwned = \'img\'"> '
    "![diagram](http://127.0.0.1:9/diagram.png) [docs](javascript:alert(1)) *then* widen it [2]."
)


PARTNER_KEY = "wk_test-partner-site-key-0123456789"


def open_widget(page: Any) -> Any:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Open Ask Advisor").click()
    dialog = page.get_by_role("dialog", name="Ask Advisor")
    expect(dialog).to_be_visible()
    return dialog


def shadow_focus(page: Any) -> str:
    """What has focus inside the widget: its class, text or label ("" when focus is elsewhere)."""
    return str(
        page.evaluate(
            """() => {
                const host = document.querySelector('[data-advisor-widget]');
                const el = document.activeElement === host ? host.shadowRoot.activeElement : null;
                if (!el) return '';
                const inPanel = el.closest('.panel') ? 'panel:' : '';
                return inPanel + (el.getAttribute('aria-label') || el.id || el.textContent.trim() || el.className);
            }"""
        )
    )


def record_announcements(page: Any) -> None:
    """From now on, collect what the widget's live region says in window.__announced."""
    page.evaluate(
        """() => {
            const live = document.querySelector('[data-advisor-widget]').shadowRoot.getElementById('advisor-live');
            window.__announced = [];
            new MutationObserver(() => live.textContent && window.__announced.push(live.textContent))
                .observe(live, {childList: true, characterData: true, subtree: true});
        }"""
    )
