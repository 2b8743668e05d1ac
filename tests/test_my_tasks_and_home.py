"""My tasks and the home page (issue #13): a task sent back is marked with the approver's
opinion (defect 3); every home card counts the list it links to (defect 8)."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from django.urls import reverse

from taxservice import access
from taxservice.org.models import Staff
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import TaskState
from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = pytest.mark.django_db

CARD = re.compile(r'<a class="card" href="(?P<href>[^"]+)">\s*<span class="card-number">(?P<count>\d+)</span>')


def _step(task, actor, name, **inputs):
    return services.task_transition(task_id=task.pk, actor=actor, name=name, **inputs)


def _a_working_day(org, open_case):
    """Tasks in most states, at both halls and in several teams."""
    _step(open_case("assisted").tasks.get(), org.clerk, "transfer")  # queued in the online team
    open_case("immediate")  # received at the counter, not handled yet
    open_case("immediate").tasks.get()
    on_spot = open_case("immediate").tasks.get()
    _step(on_spot, org.clerk, "handle_on_spot", result="当场办结")  # a closed case
    joint = open_case("joint").tasks.get()
    _step(joint, org.clerk, "transfer")
    for name in ("assign", "accept"):
        _step(joint, org.back_member, name)
    _step(joint, org.back_member, "submit_for_approval", result="实地核查无异常")  # awaiting approval
    _step(open_case("moved_forward").tasks.get(), org.clerk, "transfer")
    second_hall = open_case("assisted", "approval", hall=org.hall2)
    for task in second_hall.tasks.all():
        _step(task, org.clerk, "transfer")
    held = second_hall.tasks.first()
    _step(held, org.member, "assign")
    _step(held, org.member, "accept")


def _staff(org) -> list[Staff]:
    return [value for value in (getattr(org, f.name) for f in dataclasses.fields(org)) if isinstance(value, Staff)]


def test_every_home_card_counts_the_list_it_links_to(client, org, open_case):
    _a_working_day(org, open_case)
    checked = 0
    for staff in _staff(org):
        if not access.can_use_web(staff):
            continue  # API-only accounts have no pages
        client.force_login(staff.user)
        home = client.get(reverse("home"))
        assert home.status_code == 200
        cards = [(html.unescape(m["href"]), int(m["count"])) for m in CARD.finditer(home.content.decode())]
        assert cards, f"{staff.name}: no cards"
        for href, count in cards:
            listed = client.get(href)
            assert listed.status_code == 200, f"{staff.name}: {href}"
            assert count == listed.context["page"].paginator.count, f"{staff.name}: the card for {href}"
            checked += 1
    # The clerk's, the member's, the coordinator's and the chief's cards, at least.
    assert checked >= 8


# --- defect 3: a task sent back by its approver ----------------------------------------------


def _sent_back(org, open_case, opinion="核查记录不全，请补充现场照片"):
    """A 一问联办 item worked by org.back_member, submitted, and rejected by org.chief."""
    task = open_case("joint").tasks.get()
    _step(task, org.clerk, "transfer")
    task.refresh_from_db()
    if task.state == TaskState.QUEUED:  # in a live-server test the robot has already assigned it
        _step(task, org.back_member, "assign")
    _step(task, org.back_member, "accept")
    _step(task, org.back_member, "submit_for_approval", result="实地核查无异常")
    _step(task, org.chief, "reject", reason=opinion)
    return task


def _row(page: str, task_id: int) -> str:
    """The list row of one task: from its number's link to the end of its <tr>."""
    start = page.index(f'href="/tasks/{task_id}/"')
    return page[start : page.index("</tr>", start)]


def test_my_tasks_marks_a_sent_back_task_with_the_opinion_and_who_sent_it_back(client, org, open_case):
    rejected = _sent_back(org, open_case)
    working = open_case("joint").tasks.get()
    _step(working, org.clerk, "transfer")
    for name in ("assign", "accept"):
        _step(working, org.back_member, name)
    client.force_login(org.back_member.user)

    page = client.get(reverse("my_tasks")).content.decode()
    row = _row(page, rejected.pk)
    assert 'class="tag tag-sent-back"' in row  # a tag with words, not a colour alone
    assert "核查记录不全，请补充现场照片" in row and org.chief.name in row
    assert "tag-sent-back" not in _row(page, working.pk)  # in progress too, but never sent back

    # Once the task moves on, the mark goes.
    _step(rejected, org.back_member, "submit_for_approval", result="已补充现场照片")
    assert "tag-sent-back" not in _row(client.get(reverse("my_tasks")).content.decode(), rejected.pk)


def test_the_task_page_shows_the_opinion_above_the_steps_until_the_task_is_submitted_again(client, org, open_case):
    task = _sent_back(org, open_case)
    client.force_login(org.back_member.user)

    page = client.get(reverse("task_detail", args=[task.pk])).content.decode()
    assert page.count('class="sent-back-banner"') == 1
    banner = page.index('class="sent-back-banner"')
    assert banner < page.index('class="step-form')  # read before any step is taken
    text = page[banner : page.index("</section>", banner)]
    assert "核查记录不全，请补充现场照片" in text and org.chief.name in text

    # Still sent back while the holder reworks it (materials asked for and received) ...
    _step(task, org.back_member, "request_materials", reason="请补充现场照片")
    _step(task, org.back_member, "receive_materials")
    assert "sent-back-banner" in client.get(reverse("task_detail", args=[task.pk])).content.decode()
    # ... until it is submitted again.
    _step(task, org.back_member, "submit_for_approval", result="已补充现场照片")
    assert "sent-back-banner" not in client.get(reverse("task_detail", args=[task.pk])).content.decode()


def test_my_tasks_marks_sent_back_tasks_in_a_fixed_number_of_queries(client, org, open_case):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(org.back_member.user)
    _sent_back(org, open_case, opinion="第1条意见")
    client.get(reverse("my_tasks"))  # warm the session and the translations
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("my_tasks"))
    for n in range(2, 9):
        _sent_back(org, open_case, opinion=f"第{n}条意见")
    with CaptureQueriesContext(connection) as eight:
        page = client.get(reverse("my_tasks")).content.decode()
    assert page.count('class="tag tag-sent-back"') == 8
    assert all(f"第{n}条意见" in page for n in range(1, 9))
    assert len(eight) == len(one)


def test_the_assignee_sees_the_send_back_in_the_browser(page, live_server, org, open_case):
    """Screenshots 46 (my tasks) and 47 (the task page) of a task sent back."""
    task = _sent_back(org, open_case)
    base = live_server.url
    sign_in(page, base, "back")
    page.goto(base + "/my-tasks/")
    row = page.locator("tr.row-sent-back")
    assert row.count() == 1 and f"T{task.pk}" in row.inner_text()
    assert "核查记录不全，请补充现场照片" in row.locator(".sent-back-note").inner_text()
    assert row.locator(".tag-sent-back").is_visible()
    shot(page, "46-my-tasks-sent-back")
    row.locator(f"a[href='/tasks/{task.pk}/']").first.click()
    banner = page.locator(".sent-back-banner")
    assert org.chief.name in banner.inner_text() and "核查记录不全" in banner.inner_text()
    first_step = page.locator(".step-form").first
    assert banner.bounding_box()["y"] < first_step.bounding_box()["y"]
    shot(page, "47-task-sent-back")


for _mark in BROWSER_MARKS:  # a browser test among page tests: the browser modules' marks
    test_the_assignee_sees_the_send_back_in_the_browser = _mark(test_the_assignee_sees_the_send_back_in_the_browser)
