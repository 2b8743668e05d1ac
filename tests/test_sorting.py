"""Sortable columns: ?sort=<column> or ?sort=-<column> against each list's whitelist, ties
broken on id, unknown values ignored, the sort kept with the filters and across pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from taxservice.web import queries
from taxservice.web.sorting import CASE_SORTS, TASK_SORTS, sort_parse
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Case, Task


def test_a_known_column_sorts_both_ways_with_the_id_as_tiebreak():
    assert sort_parse("due_at", allowed=TASK_SORTS).order_by == ("due_at", "id")
    assert sort_parse("-due_at", allowed=TASK_SORTS).order_by == ("-due_at", "-id")
    assert sort_parse("-taxpayer", allowed=CASE_SORTS).order_by == ("-taxpayer__name", "-id")
    assert sort_parse("-id", allowed=TASK_SORTS).order_by == ("-id",)


@pytest.mark.parametrize("value", ["", None, "-", "password", "taxpayer__name", "--due_at", "due_at;drop"])
def test_an_unknown_sort_is_ignored(value):
    sort = sort_parse(value, allowed=TASK_SORTS)
    assert (sort.value, sort.order_by) == ("", ())


# --- the lists -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)


def _transferred(open_case, org, key="assisted"):
    task = open_case(key).tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    return task


def _spread_due(tasks):
    """Due dates in the reverse order of creation, two of them equal (for the tiebreak)."""
    now = timezone.now()
    for offset, task in zip([3, 2, 2, 1], tasks, strict=False):
        Task.objects.filter(pk=task.pk).update(due_at=now + dt.timedelta(days=offset))


def _ids(client, url) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200
    ids = []
    page = response.context["page"]
    for number in page.paginator.page_range:
        separator = "&" if "?" in url else "?"
        ids += [row.pk for row in client.get(f"{url}{separator}page={number}").context["page"].object_list]
    return ids


def _check_task_list(client, url, tasks):
    by_due = sorted(tasks, key=lambda t: (Task.objects.get(pk=t.pk).due_at, t.pk))
    separator = "&" if "?" in url else "?"
    assert _ids(client, f"{url}{separator}sort=due_at") == [t.pk for t in by_due]
    by_due_desc = sorted(tasks, key=lambda t: (Task.objects.get(pk=t.pk).due_at, t.pk), reverse=True)
    assert _ids(client, f"{url}{separator}sort=-due_at") == [t.pk for t in by_due_desc]
    assert _ids(client, f"{url}{separator}sort=-id") == sorted((t.pk for t in tasks), reverse=True)
    # Unknown: the default order, not an error.
    assert _ids(client, f"{url}{separator}sort=nonsense") == _ids(client, url)
    # The header links and the pages keep the filters and the sort.
    html = client.get(f"{url}{separator}sort=-due_at").content.decode()
    assert "sort=due_at" in html  # the sorted header flips the direction
    assert "sort=-due_at&amp;page=2" in html
    assert 'aria-sort="descending"' in html


@pytest.mark.django_db
def test_my_tasks_sort_by_due_and_number(client, org, open_case):
    tasks = [_transferred(open_case, org) for _ in range(4)]
    for task in tasks:
        services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    _spread_due(tasks)
    client.force_login(org.member.user)
    _check_task_list(client, reverse("my_tasks"), tasks)


@pytest.mark.django_db
def test_the_queue_sorts_within_its_filters(client, org, open_case):
    tasks = [_transferred(open_case, org) for _ in range(4)]
    _spread_due(tasks)
    other = _transferred(open_case, org)
    services.task_transition(task_id=other.pk, actor=org.member, name="assign")
    client.force_login(org.member.user)
    _check_task_list(client, reverse("middle_office:queue") + "?state=queued", tasks)
    html = client.get(reverse("middle_office:queue") + "?state=queued&sort=-due_at").content.decode()
    assert "state=queued&amp;sort=due_at" in html
    assert 'name="sort" value="-due_at"' in html  # the filter form keeps the sort


@pytest.mark.django_db
def test_the_approval_queue_sorts(client, org, open_case):
    tasks = []
    for _ in range(4):
        task = _transferred(open_case, org, "joint")
        for name in ("assign", "accept"):
            services.task_transition(task_id=task.pk, actor=org.back_member, name=name)
        services.task_transition(
            task_id=task.pk, actor=org.back_member, name="submit_for_approval", result="核查无异常"
        )
        tasks.append(task)
    _spread_due(tasks)
    client.force_login(org.chief.user)
    _check_task_list(client, reverse("back_office:approvals"), tasks)


@pytest.mark.django_db
def test_the_case_list_sorts_by_opening_time_and_number(client, org, open_case):
    cases = [open_case("assisted") for _ in range(4)]
    now = timezone.now()
    for offset, case in zip([1, 3, 3, 2], cases, strict=True):
        Case.objects.filter(pk=case.pk).update(created_at=now - dt.timedelta(days=offset))
    client.force_login(org.clerk.user)
    url = reverse("case_list") + "?state=open"
    oldest_first = sorted(cases, key=lambda c: (Case.objects.get(pk=c.pk).created_at, c.pk))
    assert _ids(client, url + "&sort=created_at") == [c.pk for c in oldest_first]
    assert _ids(client, url + "&sort=-created_at") == [c.pk for c in reversed(oldest_first)]
    assert _ids(client, url + "&sort=id") == sorted(c.pk for c in cases)
    assert _ids(client, url + "&sort=bogus") == _ids(client, url)
    html = client.get(url + "&sort=id").content.decode()
    assert "state=open&amp;sort=-id" in html and "sort=id&amp;page=2" in html
