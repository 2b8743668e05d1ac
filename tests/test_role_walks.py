"""A morning's walk per role in Chromium: every screen the role uses opens without a server
error or a console error, and shows no English in the app's own text.

Run with `pytest -m browser`; each role's screens are saved as test-artifacts/walk-<role>-*.png
(1366x768; install Debian's fonts-noto-cjk, as bin/test does, or the Chinese shows as boxes).
"""

from __future__ import annotations

import re

from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS

# Three English words in a row in the visible text is an untranslated string of ours.
# What may legitimately be in Latin letters: the brand, codes, usernames and the language switch.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[ ,:'-]+[A-Za-z]{2,}){2,}\b")
ALLOWED = re.compile(r"taxservice|Unified social credit", re.I)


def _english_in(text: str) -> list[str]:
    return [match for match in ENGLISH.findall(text) if not ALLOWED.search(match)]


def _walk(page, base: str, role: str, username: str, paths: list[tuple[str, str]]) -> None:
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    sign_in(page, base, username)
    for name, path in paths:
        response = page.goto(base + path)
        assert response is not None and response.status < 400, (role, path, response and response.status)
        page.wait_for_load_state("networkidle")
        text = page.inner_text("body")
        assert "Server Error" not in text and "Traceback" not in text, (role, path)
        assert not _english_in(text), (role, path, _english_in(text))
        shot(page, f"walk-{role}-{name}")
    assert not console_errors, (role, console_errors)


def _morning(org, open_case, taxpayer):
    """A case at the counter, a task in the member's hands, one awaiting the chief's approval."""
    from taxservice.workflow.cases import services

    counter = open_case("immediate", "assisted")
    working = open_case("assisted").tasks.get()
    for name, actor, extra in [
        ("transfer", org.clerk, {}),
        ("assign", org.member, {}),
        ("accept", org.member, {}),
    ]:
        services.task_transition(task_id=working.pk, actor=actor, name=name, **extra)
    services.task_comment_add(actor=org.member, task_id=working.pk, body="@coordinator 材料已收齐，请知悉")
    joint = open_case("joint").tasks.get()
    for name, actor, extra in [
        ("transfer", org.clerk, {}),
        ("assign", org.back_member, {}),
        ("accept", org.back_member, {}),
        ("submit_for_approval", org.back_member, {"result": "实地核查无异常"}),
    ]:
        services.task_transition(task_id=joint.pk, actor=actor, name=name, **extra)
    return counter, working, joint


def test_the_clerks_morning(page, live_server, org, items, taxpayer, open_case):
    counter, _working, _joint = _morning(org, open_case, taxpayer)
    code = taxpayer.credit_code
    _walk(
        page,
        live_server.url,
        "clerk",
        "clerk",
        [
            ("home", "/"),
            ("counter", f"/frontdesk/?q={code}"),
            ("open-case", f"/frontdesk/taxpayers/{code}/open/"),
            ("consultation", f"/frontdesk/cases/{counter.pk}/"),
            ("case", f"/cases/{counter.pk}/"),
            ("cases", "/cases/"),
            ("my-tasks", "/my-tasks/"),
            ("inbox", "/inbox/"),
        ],
    )


def test_the_coordinators_morning(page, live_server, org, items, taxpayer, open_case):
    _counter, working, _joint = _morning(org, open_case, taxpayer)
    _walk(
        page,
        live_server.url,
        "coordinator",
        "coordinator",
        [
            ("home", "/"),
            ("hub", "/middle-office/hub/"),
            ("queue", "/middle-office/"),
            ("robot", "/middle-office/hub/robot/"),
            ("staff", "/middle-office/hub/staff/"),
            ("uploads", "/middle-office/hub/uploads/"),
            ("rules", "/middle-office/hub/rules/"),
            ("task", f"/tasks/{working.pk}/"),
            ("inbox", "/inbox/"),
        ],
    )


def test_the_assignees_morning(page, live_server, org, items, taxpayer, open_case):
    _counter, working, _joint = _morning(org, open_case, taxpayer)
    _walk(
        page,
        live_server.url,
        "assignee",
        "member",
        [
            ("home", "/"),
            ("my-tasks", "/my-tasks/"),
            ("queue", "/middle-office/"),
            ("task", f"/tasks/{working.pk}/"),
            ("inbox", "/inbox/"),
        ],
    )


def test_the_chiefs_morning(page, live_server, org, items, taxpayer, open_case):
    _counter, _working, joint = _morning(org, open_case, taxpayer)
    _walk(
        page,
        live_server.url,
        "chief",
        "chief",
        [
            ("home", "/"),
            ("approvals", "/back-office/"),
            ("task", f"/tasks/{joint.pk}/"),
            ("cases", "/cases/"),
            ("inbox", "/inbox/"),
        ],
    )
