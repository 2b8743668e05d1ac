"""The counter without the mouse (static/js/counter-keys.js), in Debian's Chromium.

Run with `pytest -m browser`. The clerk searches, opens a consultation, adds two items
with the arrows and Enter, opens the case with Ctrl+Enter, then handles and transfers the
items by Tab and Enter; every step is a key press, never a click.
"""

from __future__ import annotations

import re

from tests.browser import BROWSER_MARKS, sign_in

pytestmark = BROWSER_MARKS


def _active(page) -> dict:
    return page.evaluate(
        """() => { const el = document.activeElement;
        return {tag: el.tagName, name: el.name || "", id: el.id || "", text: (el.innerText || "").trim(),
                visible: el.matches(":focus-visible")}; }"""
    )


def _tab_to(page, text: str, *, limit: int = 60) -> dict:
    """Press Tab until the focused element's text contains `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = _active(page)
        if text in active["text"]:
            return active
    raise AssertionError(f"{text!r} is not reachable with Tab")


def test_the_clerk_works_the_counter_with_the_keyboard_only(page, live_server, org, items, taxpayer):
    from taxservice.workflow.cases.models import Case

    base = live_server.url
    sign_in(page, base, "clerk")
    page.goto(base + "/frontdesk/")

    # The search box has the focus; typing and Enter search.
    assert _active(page)["name"] == "q" and _active(page)["id"] != ""
    assert "键盘快捷键" in page.inner_text(".keys-legend")
    page.keyboard.type(taxpayer.credit_code)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q="))
    _tab_to(page, "受理办问协同")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/frontdesk/taxpayers/.+/open/"))

    # The shortcuts are on the screen; "/" goes to the item search.
    legend = page.inner_text(".picker .keys-legend")
    assert "/" in legend and "Ctrl" in legend and "添加选中的事项" in legend
    page.locator("#picker-results button.picker-add").first.wait_for()
    page.keyboard.press("/")
    assert _active(page)["id"] == "picker-q"

    # Type a code, ↓ picks the result and Enter adds it; the list comes back with it
    # greyed out. Twice.
    for count, key in enumerate(("immediate", "assisted"), start=1):
        code = items[key].code
        page.keyboard.press("Control+A")
        page.keyboard.type(code)
        page.wait_for_function(
            "code => { const b = [...document.querySelectorAll('#picker-results button.picker-add')];"
            " return b.length > 0 && b.every(x => x.dataset.code === code); }",
            arg=code,
        )
        page.keyboard.press("ArrowDown")
        assert page.get_attribute("#picker-results button.picker-add.is-active", "data-code") == code
        page.keyboard.press("Enter")
        page.wait_for_function(  # a function, not an expression: Playwright evals those, which the CSP refuses
            f"() => document.querySelectorAll('#chosen-items .chosen-item').length === {count}"
            " && document.querySelector('#picker-results button.picker-add').disabled"
        )
        assert _active(page)["id"] == "picker-q"
    assert Case.objects.count() == 0  # Enter in the search never submits the case

    # Ctrl+Enter opens the consultation with both items.
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/frontdesk/cases/\d+/$"))
    case = Case.objects.get()
    assert case.tasks.count() == 2
    assert "已受理办问协同" in page.inner_text(".messages")

    # On the consultation page the shortcuts are shown, and each row's buttons are
    # reached by Tab, in order, with a visible focus.
    assert "键盘快捷键" in page.inner_text(".keys-legend")
    immediate = case.tasks.get(item=items["immediate"])
    assisted = case.tasks.get(item=items["assisted"])
    page.locator(f"#task-row-{immediate.pk} input[name=result]").wait_for()
    field = None
    for _ in range(60):
        page.keyboard.press("Tab")
        field = _active(page)
        if field["name"] == "result":
            break
    assert field and field["name"] == "result"
    page.keyboard.type("已当场发放发票")
    handle = _tab_to(page, "当场办结", limit=1)
    assert handle["visible"]
    transfer_instead = _tab_to(page, "改为转办", limit=1)
    assert transfer_instead["visible"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.locator(f"#task-row-{immediate.pk} .state-closed").wait_for()

    transfer = _tab_to(page, "受理并转办")
    assert transfer["visible"]
    page.keyboard.press("Enter")
    page.locator(f"#task-row-{assisted.pk} .state-queued").wait_for()
    immediate.refresh_from_db()
    assisted.refresh_from_db()
    assert (immediate.state, assisted.state) == ("closed", "queued")
