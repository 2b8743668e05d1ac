"""A morning's walk per role in Chromium: every screen the role uses opens without a server
error or a console error, and shows no English in the app's own text; and each role uses
what its screens offer: the global search, a sort by a column header, a column filter, the
export (the workbook arrives and holds the rows the list shows), a note with an @mention
(it lands in the inbox of the person named), the live refresh (new and changed rows marked),
and for the clerk the taxpayer's story and the keyboard at the counter.

Run with `pytest -m browser`; each role's screens are saved as test-artifacts/walk-<role>-*.png
(1366x768; install Debian's fonts-noto-cjk, as bin/test does, or the Chinese shows as boxes).
docs/screens.md lists the screens with these names.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS

# Three English words in a row in the visible text is an untranslated string of ours.
# What may legitimately be in Latin letters: the brand, codes, usernames and the language switch.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[ ,:'-]+[A-Za-z]{2,}){2,}\b")
ALLOWED = re.compile(r"taxservice|Unified social credit", re.I)


def _english_in(text: str) -> list[str]:
    return [match for match in ENGLISH.findall(text) if not ALLOWED.search(match)]


class Walk:
    """One role's morning: every page it lands on is checked, and shot when named."""

    def __init__(self, page, base: str, role: str, username: str) -> None:
        self.page, self.base, self.role = page, base, role
        self.console_errors: list[str] = []
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        sign_in(page, base, username)

    def visit(self, name: str, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 400, (self.role, path, response and response.status)
        self.check(name)

    def check(self, name: str | None = None) -> None:
        """The page now on screen: no server error, no English; shot as walk-<role>-<name>."""
        self.page.wait_for_load_state("networkidle")
        text = self.page.inner_text("body")
        where = (self.role, self.page.url)
        assert "Server Error" not in text and "Traceback" not in text, where
        assert not _english_in(text), (*where, _english_in(text))
        if name:
            shot(self.page, f"walk-{self.role}-{name}")

    def visit_all(self, paths: list[tuple[str, str]]) -> None:
        for name, path in paths:
            self.visit(name, path)

    def end(self) -> None:
        assert not self.console_errors, (self.role, self.console_errors)

    # --- what the screens offer ---------------------------------------------------------------

    def search(self, query: str, *, lands: str) -> None:
        """The top bar's search box, typed and sent with Enter."""
        box = self.page.locator("form.global-search input[name=q]")
        box.fill(query)
        box.press("Enter")
        self.page.wait_for_url(re.compile(lands))

    def sort_by(self, key: str) -> None:
        """Click a column header: the list sorts by it, ascending, and says so."""
        self.page.click(f"th a.sort-link[href*='sort={key}']")
        self.page.wait_for_url(re.compile(rf"[?&]sort={key}(&|$)"))
        assert self.page.locator(f"th[aria-sort=ascending] a[href*='sort=-{key}']").count() == 1

    def filter_by(self, name: str, value: str) -> None:
        """Choose a value in the filter bar and send it: the address and the count follow."""
        self.page.select_option(f"form.filter-bar select[name={name}]", value)
        self.page.click("form.filter-bar button[type=submit]")
        self.page.wait_for_url(re.compile(rf"[?&]{name}={re.escape(value)}(&|$)"))
        assert "已筛选" in self.page.inner_text(".list-count")

    def shown_numbers(self) -> list[str]:
        return self.page.locator("#live-list tbody td.col-id a").all_inner_texts()

    def export_matches_the_list(self) -> list[tuple]:
        """Download the list's export: the workbook holds the rows the list shows, in order."""
        shown = self.shown_numbers()
        count = int(self.page.get_attribute("#live-list [data-list-count]", "data-list-count"))
        assert shown and count == len(shown)  # the walks' lists fit on one page
        with self.page.expect_download() as download:
            self.page.click("a.export-link")
        assert download.value.suggested_filename.endswith(".xlsx")
        workbook = load_workbook(BytesIO(Path(download.value.path()).read_bytes()), read_only=True)
        rows = list(workbook.active.iter_rows(values_only=True))
        assert [row[0] for row in rows[1:]] == shown, (self.role, rows)
        return rows

    def refresh_shows(self, selector: str) -> None:
        """The list's refresh (as its 30-second timer would) brings in and marks what changed."""
        self.page.evaluate("document.activeElement && document.activeElement.blur()")
        self.page.evaluate("htmx.trigger('#live-list', 'refresh')")
        self.page.wait_for_selector(selector)
        assert self.page.get_attribute("#live-list", "data-live-state") == "fresh"

    def note(self, task_id: int, text: str) -> None:
        """Add a note on the task page (an @mention tells that person)."""
        self.visit("task", f"/tasks/{task_id}/")
        self.page.fill("form.note-form textarea[name=body]", text)
        self.page.click("form.note-form button[type=submit]")
        self.page.wait_for_url(re.compile(rf"/tasks/{task_id}/#notes$"))
        assert text.split(" ", 1)[1] in self.page.inner_text("#notes")
        self.check()

    def inbox_holds(self, words: str) -> None:
        self.visit("inbox", "/inbox/")
        assert words in self.page.inner_text("table.inbox"), (self.role, self.page.inner_text("table.inbox"))


def _mentioned(staff, words: str) -> bool:
    from taxservice.workflow.cases.models import Notification

    return Notification.objects.filter(recipient=staff, message__contains=words).exists()


def _drive(task, steps) -> None:
    from taxservice.workflow.cases import services

    for name, actor, extra in steps:
        task.refresh_from_db()
        if name == "assign" and task.state != "queued" and task.assignee_id == actor.pk:
            continue  # a live server's robot already dispatched it (a branch team's default)
        services.task_transition(task_id=task.pk, actor=actor, name=name, **extra)


def _morning(org, open_case, taxpayer):
    """A case at the counter, a task in the member's hands, one awaiting the chief's approval,
    and a note for each role naming them."""
    from taxservice.workflow.cases import services

    counter = open_case("immediate", "assisted")
    working = open_case("assisted").tasks.get()
    _drive(working, [("transfer", org.clerk, {}), ("assign", org.member, {}), ("accept", org.member, {})])
    services.task_comment_add(actor=org.member, task_id=working.pk, body="@coordinator 材料已收齐，请知悉")
    services.task_comment_add(actor=org.coordinator, task_id=working.pk, body="@member 请今天内回复纳税人")
    joint = open_case("joint").tasks.get()
    _drive(
        joint,
        [
            ("transfer", org.clerk, {}),
            ("assign", org.back_member, {}),
            ("accept", org.back_member, {}),
            ("submit_for_approval", org.back_member, {"result": "实地核查无异常"}),
        ],
    )
    services.task_comment_add(actor=org.back_member, task_id=joint.pk, body="@chief 核查记录已上传，请审批")
    return counter, working, joint


def test_the_clerks_morning(page, live_server, org, items, taxpayer, open_case):
    from taxservice.workflow.cases.models import Case

    counter, working, _joint = _morning(org, open_case, taxpayer)
    code = taxpayer.credit_code
    walk = Walk(page, live_server.url, "clerk", "clerk")
    walk.visit_all(
        [
            ("home", "/"),
            ("consultation", f"/frontdesk/cases/{counter.pk}/"),
            ("case", f"/cases/{counter.pk}/"),
            ("my-tasks", "/my-tasks/"),
        ]
    )

    # The counter from the keyboard: find the taxpayer, open, "/" to the items, ↓ and Enter
    # to add one, Ctrl+Enter to open the consultation. On the way, the taxpayer's story.
    walk.visit("counter", "/frontdesk/")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q="))
    walk.check("counter-found")
    page.locator(f"a[href$='/frontdesk/taxpayers/{code}/open/']").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/frontdesk/taxpayers/.+/open/"))
    story = page.inner_text("#taxpayer-story")
    assert working.item.name in story and f"#{counter.pk}" in story, story
    walk.check("open-case")
    page.locator("#picker-results button.picker-add").first.wait_for()
    page.keyboard.press("/")
    page.keyboard.press("Control+A")
    page.keyboard.type(items["assisted"].code)
    page.wait_for_function(
        "code => { const b = [...document.querySelectorAll('#picker-results button.picker-add')];"
        " return b.length > 0 && b.every(x => x.dataset.code === code); }",
        arg=items["assisted"].code,
    )
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#chosen-items .chosen-item').length === 1")
    before = Case.objects.count()
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/frontdesk/cases/\d+/$"))
    assert Case.objects.count() == before + 1
    walk.check("consultation-new")

    # The case list: live (a case opened at another window appears, marked new), sorted,
    # filtered, exported.
    walk.visit("cases", "/cases/")
    other = open_case("assisted", channel="phone_12366")
    walk.refresh_shows(f"#live-list tr:has(a[href='/cases/{other.pk}/']) .tag-new")
    walk.check("cases-live")
    walk.sort_by("created_at")
    walk.filter_by("channel", "hall_window")
    assert f"#{other.pk}" not in walk.shown_numbers()
    walk.check("cases-filtered")
    rows = walk.export_matches_the_list()
    assert all("(" + code + ")" in row[1] for row in rows[1:])

    # The global search finds the taxpayer with their cases.
    walk.search(taxpayer.name, lands=r"/search/\?q=")
    assert code in page.inner_text("main")
    walk.check("search")

    # A note on the transferred task names the person working on it.
    walk.note(working.pk, "@member 纳税人下午来电补充了说明")
    assert _mentioned(org.member, "纳税人下午来电补充了说明")
    walk.visit("inbox", "/inbox/")
    walk.end()


def test_the_coordinators_morning(page, live_server, org, items, taxpayer, open_case):
    _counter, working, _joint = _morning(org, open_case, taxpayer)
    walk = Walk(page, live_server.url, "coordinator", "coordinator")
    walk.visit_all(
        [
            ("home", "/"),
            ("robot", "/middle-office/hub/robot/"),
            ("staff", "/middle-office/hub/staff/"),
            ("uploads", "/middle-office/hub/uploads/"),
            ("rules", "/middle-office/hub/rules/"),
        ]
    )

    # The hub: a task transferred while it is open arrives, marked new; sorted by a
    # header; the export holds what it shows.
    walk.visit("hub", "/middle-office/hub/")
    waiting = open_case("immediate").tasks.get()
    _drive(waiting, [("transfer", org.clerk, {})])
    walk.refresh_shows(f"#hub-row-{waiting.pk}.row-new .tag-new")
    walk.check("hub-live")
    walk.sort_by("due_at")
    walk.check("hub-sorted")
    walk.export_matches_the_list()

    # The middle office queue: filtered by state in the bar, sorted, exported.
    walk.visit("queue", "/middle-office/")
    walk.filter_by("state", "queued")
    walk.sort_by("id")
    walk.check("queue-filtered")
    rows = walk.export_matches_the_list()
    assert f"T{waiting.pk}" in {row[0] for row in rows}

    # The search opens a task by its number; the member's note to me is in my inbox, and
    # my note to them lands in theirs.
    walk.search(f"T{working.pk}", lands=rf"/tasks/{working.pk}/$")
    walk.check()
    walk.inbox_holds("材料已收齐")
    walk.note(working.pk, "@member 已与纳税人确认材料")
    assert _mentioned(org.member, "已与纳税人确认材料")
    walk.end()


def test_the_assignees_morning(page, live_server, org, items, taxpayer, open_case):
    _counter, working, _joint = _morning(org, open_case, taxpayer)
    walk = Walk(page, live_server.url, "assignee", "member")
    walk.visit_all([("home", "/"), ("queue", "/middle-office/")])

    # My tasks: a task handed to me arrives marked new; one that moved is marked changed.
    second = open_case("approval").tasks.get()
    _drive(second, [("transfer", org.clerk, {}), ("assign", org.member, {})])
    walk.visit("my-tasks", "/my-tasks/")
    third = open_case("assisted").tasks.get()
    _drive(third, [("transfer", org.clerk, {}), ("assign", org.member, {})])
    _drive(second, [("accept", org.member, {})])
    walk.refresh_shows(f"#live-list tr:has(a[href='/tasks/{third.pk}/']) .tag-new")
    page.wait_for_selector(f"#live-list tr.row-changed:has(a[href='/tasks/{second.pk}/']) .tag-changed")
    walk.check("my-tasks-live")
    walk.sort_by("due_at")
    walk.filter_by("item", items["assisted"].code)
    assert f"T{second.pk}" not in walk.shown_numbers()
    walk.check("my-tasks-filtered")
    walk.export_matches_the_list()

    walk.search(f"T{working.pk}", lands=rf"/tasks/{working.pk}/$")
    walk.check()
    walk.inbox_holds("请今天内回复纳税人")
    walk.note(working.pk, "@coordinator 已联系纳税人，明日补正")
    assert _mentioned(org.coordinator, "已联系纳税人，明日补正")
    walk.end()


def test_the_chiefs_morning(page, live_server, org, items, taxpayer, open_case):
    _counter, _working, joint = _morning(org, open_case, taxpayer)
    walk = Walk(page, live_server.url, "chief", "chief")
    walk.visit_all([("home", "/"), ("cases", "/cases/")])

    # The approval queue: new work to approve arrives marked new; filtered, sorted, exported.
    walk.visit("approvals", "/back-office/")
    more = open_case("joint").tasks.get()
    _drive(
        more,
        [
            ("transfer", org.clerk, {}),
            ("assign", org.back_member, {}),
            ("accept", org.back_member, {}),
            ("submit_for_approval", org.back_member, {"result": "账簿核对一致"}),
        ],
    )
    walk.refresh_shows(f"#live-list tr:has(a[href='/tasks/{more.pk}/']) .tag-new")
    walk.check("approvals-live")
    walk.filter_by("item", "J001")
    walk.sort_by("due_at")
    walk.check("approvals-filtered")
    rows = walk.export_matches_the_list()
    assert {row[0] for row in rows[1:]} == {f"T{joint.pk}", f"T{more.pk}"}

    walk.search(taxpayer.name, lands=r"/search/\?q=")
    walk.check("search")
    walk.inbox_holds("核查记录已上传")
    walk.note(joint.pk, "@back 请补充现场照片后再提交")
    assert _mentioned(org.back_member, "请补充现场照片后再提交")
    walk.end()
