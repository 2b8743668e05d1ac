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
