"""A real browser for the tests: Debian's Chromium driven by Playwright (one per test module), and
the folder screenshots are saved to."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.advisor_app import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = REPO / "build" / "screenshots"


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    """One Chromium per module (installed by `make browser` when missing)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        apt = shutil.which("apt-get")
        hint = "run `make browser` (apt-get install -y chromium)"
        pytest.fail(f"{CHROMIUM} is missing: {hint}" + ("" if apt else "; apt-get is not available"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
