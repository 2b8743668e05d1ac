"""Queues that stay current: the hub, the middle-office queue, my tasks and the approval
queue poll their own page and swap their table in place (static/js/live-list.js).

The view tests check what the refresh asks for and gets back; the browser tests (run with
`pytest -m browser`) check that a task created after the page loaded appears, marked new,
and that a ticked box on the hub holds the refresh back.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from taxservice.workflow.cases import services
from tests.browser import CHROMIUM, sign_in


def _transferred(org, open_case, key="assisted"):
    task = open_case(key).tasks.get()
    return services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")


def _container(html: str) -> str:
    """The live list's container element, from its opening tag to the end of the page."""
    match = re.search(r'<(section|div)[^>]*\bid="live-list"[^>]*>', html)
    assert match, "no live list on the page"
    return html[match.start() :]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "url", "query"),
    [
        ("coordinator", "middle_office:hub", "?team=ONLINE"),
        ("member", "middle_office:queue", "?state=queued"),
        ("member", "my_tasks", ""),
        ("chief", "back_office:approvals", ""),
    ],
)
def test_the_refresh_answer_holds_the_table_and_its_markers(client, org, open_case, username, url, query):
    task = _transferred(org, open_case)
    if username == "member":
        services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    joint = _transferred(org, open_case, "joint")
    for name in ("assign", "accept"):
        services.task_transition(task_id=joint.pk, actor=org.back_member, name=name)
    services.task_transition(task_id=joint.pk, actor=org.back_member, name="submit_for_approval", result="核查无异常")
    shown = joint if username == "chief" else task
    if url == "middle_office:queue":
        query = "?state=assigned"

    client.force_login(getattr(org, username).user)
    path = reverse(url) + query
    response = client.get(path, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    head = re.search(r'<(?:section|div)[^>]*\bid="live-list"[^>]*>', html).group(0)
    # It polls its own page, with the same filters, and also answers a `refresh` event.
    assert f'hx-get="{path.replace("&", "&amp;")}"' in head
    assert 'hx-trigger="every 30s, refresh"' in head
    assert 'hx-select="#live-list"' in head and 'hx-swap="outerHTML"' in head
    assert "data-live-list" in head
    # The "new" tag and the "paused" note are translated, in the container for the script.
    assert 'data-new-label="新"' in head
    assert 'data-paused-label="正在处理列表，自动刷新已暂停。"' in head
    # The answer carries the table, each row keyed by its task link, and the script.
    table = _container(html)
    assert "<table" in table and f'href="{reverse("task_detail", args=[shown.pk])}"' in table
    assert 'js/live-list.js"' in html


@pytest.mark.django_db
def test_an_empty_list_still_refreshes(client, org):
    client.force_login(org.member.user)
    html = client.get(reverse("my_tasks")).content.decode()
    assert 'id="live-list"' in html and "data-live-list" in html
    assert "<table" not in _container(html)


# --- In the browser -----------------------------------------------------------------------


def _refresh(page) -> None:
    page.evaluate("htmx.trigger('#live-list', 'refresh')")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shipped_routing_rules")
def test_the_hub_shows_a_new_task_after_a_refresh_unless_a_box_is_ticked(page, live_server, org, open_case):
    first = _transferred(org, open_case)
    sign_in(page, live_server.url, "coordinator")
    page.goto(live_server.url + reverse("middle_office:hub"))
    page.wait_for_selector(f"#hub-row-{first.pk}")

    # A ticked box holds the refresh back: the new task does not replace the list.
    page.check(f"#hub-row-{first.pk} input.tick")
    second = _transferred(org, open_case)
    _refresh(page)
    page.wait_for_selector("#live-list[data-live-state=paused] .live-note")
    assert "自动刷新已暂停" in page.inner_text("#live-list .live-note")
    assert page.locator(f"#hub-row-{second.pk}").count() == 0
    assert page.is_checked(f"#hub-row-{first.pk} input.tick")

    # Untick (and leave the box): the next refresh brings the new task in, marked new.
    page.uncheck(f"#hub-row-{first.pk} input.tick")
    page.evaluate("document.activeElement.blur()")
    _refresh(page)
    page.wait_for_selector(f"#hub-row-{second.pk}.row-new")
    assert page.inner_text(f"#hub-row-{second.pk} .tag-new") == "新"
    assert page.locator(f"#hub-row-{first.pk} .tag-new").count() == 0
    assert page.get_attribute("#live-list", "data-live-state") == "fresh"

    # "Tick all" still works on the refreshed table, and the count follows.
    page.check("#tick-all")
    assert page.inner_text("#bulk-selected") == "2"
    page.uncheck("#tick-all")
    page.evaluate("document.activeElement.blur()")

    # Marked for one refresh only.
    _refresh(page)
    page.wait_for_selector(f"#hub-row-{second.pk}:not(.row-new)")
    assert page.locator("#live-list .tag-new").count() == 0


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shipped_routing_rules")
def test_my_tasks_shows_new_work_on_an_empty_list(page, live_server, org, open_case):
    sign_in(page, live_server.url, "member")
    page.goto(live_server.url + reverse("my_tasks"))
    page.wait_for_selector("#live-list p.empty")

    task = _transferred(org, open_case)
    services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    _refresh(page)
    row = page.locator(f"#live-list tr:has(a[href='{reverse('task_detail', args=[task.pk])}'])")
    row.locator(".tag-new").wait_for()
    assert row.locator(".tag-new").inner_text() == "新"


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shipped_routing_rules")
def test_a_row_that_changed_is_marked_changed_and_the_filters_are_kept(page, live_server, org, open_case):
    still = _transferred(org, open_case)
    moving = _transferred(org, open_case)
    for task in (still, moving):
        services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    sign_in(page, live_server.url, "member")
    page.goto(live_server.url + reverse("middle_office:queue") + "?item=A001&sort=-id")
    row = f"#live-list tr:has(a[href='{reverse('task_detail', args=[moving.pk])}'])"
    page.wait_for_selector(row)

    # Someone else's step changes the row: the refresh (of the same filtered address) marks it.
    services.task_transition(task_id=moving.pk, actor=org.member, name="accept")
    _refresh(page)
    page.wait_for_selector(f"{row}.row-changed .tag-changed")
    assert page.inner_text(f"{row} .tag-changed") == "有变动"
    assert (
        page.locator(f"#live-list tr:has(a[href='{reverse('task_detail', args=[still.pk])}']).row-changed").count() == 0
    )
    assert page.locator("#live-list .tag-new").count() == 0
    assert page.get_attribute("#live-list", "hx-get").endswith("?item=A001&sort=-id")

    # Marked for one refresh only.
    _refresh(page)
    page.wait_for_selector(f"{row}:not(.row-changed)")
