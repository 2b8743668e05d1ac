"""What the browser tests share: Debian's Chromium through sync Playwright, a page at
1366x768 that fails the test on any JavaScript error, screenshots, and the shipped
routing rules (which an earlier transactional test may have flushed).

The fixtures (`browser`, `page`, `shipped_routing_rules`) live in tests/conftest.py; a
browser test module sets `pytestmark = BROWSER_MARKS`, and `shipped_routing_rules` is
requested by it through `usefixtures`. It never runs `playwright install`: the browser
is /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

# Sync Playwright runs an event loop in this thread; the ORM calls of the fixtures and
# assertions run in the same thread, one at a time, so they are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
VIEWPORT = {"width": 1366, "height": 768}

# Every browser test module sets `pytestmark = BROWSER_MARKS`.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("shipped_routing_rules"),
]


def shot(page, name: str, *, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORT["width"], f"{name} is {width}px wide"


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/")
    page.wait_for_url(re.compile(r"/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass12345")
    page.click("form[action$='/login/'] button[type=submit]")
    page.wait_for_url(base + "/")
