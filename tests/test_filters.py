"""Column filters (taxservice/web/filters.py): one parser for every list, the filters kept in
the address with the sort, the pages, the export and the live refresh; a value the list does
not know is named on the page and left out, never an error page."""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from taxservice.web import queries
from taxservice.web.filters import (
    AT_RISK,
    CASE_FILTERS,
    MY_TASK_FILTERS,
    QUEUE_FILTERS,
    TEXT_MAX_CHARS,
    filters_parse,
)
from taxservice.web.sorting import HUB_SORTS, sort_parse
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Case, Task
from taxservice.workflow.routing.selectors import DUE_BUCKETS
from tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)


def _transferred(open_case, org, key="assisted"):
    task = open_case(key).tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    return task


def _mine(open_case, org, key="assisted"):
    task = _transferred(open_case, org, key)
    services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    return task


def _ids(client, url) -> list[int]:
    """Every row of the list, through all its pages."""
    first = client.get(url)
    assert first.status_code == 200
    separator = "&" if "?" in url else "?"
    ids = []
    for number in first.context["page"].paginator.page_range:
        ids += [row.pk for row in client.get(f"{url}{separator}page={number}").context["page"].object_list]
    return ids


def _xlsx_numbers(client, url) -> list[str]:
    separator = "&" if "?" in url else "?"
    response = client.get(f"{url}{separator}export=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content), read_only=True).active
    return [row[0] for row in list(sheet.iter_rows(values_only=True))[1:]]


# --- the parser ----------------------------------------------------------------------------------


def test_the_parser_keeps_known_values_and_names_the_unknown_ones(org, open_case):
    task = _mine(open_case, org)
    rows = queries.my_open_tasks(staff=org.member)
    params = QueryDict("state=assigned&item=A001&team=NOPE&due=someday&q=%20x%20&sort=-id&page=3")
    filtered = filters_parse(params, declared=MY_TASK_FILTERS, rows=rows)
    assert filtered.values == {"state": "assigned", "item": "A001", "q": "x"}
    assert len(filtered.problems) == 2
    assert "“NOPE”" in filtered.problems[0] and "“someday”" in filtered.problems[1]
    # The selects offer what the list holds; "clear" keeps the sort, drops the page.
    fields = {field.name: field for field in filtered.fields}
    assert ("A001", "A001 跨区域涉税事项报告") in fields["item"].choices
    assert fields["team"].value == "" and ("ONLINE", "线上办理团队") in fields["team"].choices
    assert filtered.clear_query == "?sort=-id"
    assert list(filtered.apply(rows)) == []  # no taxpayer matches "x"
    assert list(filters_parse(QueryDict("item=A001"), declared=MY_TASK_FILTERS, rows=rows).apply(rows)) == [task]


def test_the_due_buckets_are_the_hubs_and_at_risk(org):
    rows = Task.objects.none()
    field = next(f for f in filters_parse(QueryDict(""), declared=QUEUE_FILTERS, rows=rows).fields if f.name == "due")
    assert [value for value, _label in field.choices] == [bucket for bucket, _label in DUE_BUCKETS] + [AT_RISK]


def test_a_long_text_is_cut_not_refused(org):
    filtered = filters_parse(QueryDict("q=" + "张" * 500), declared=CASE_FILTERS, rows=Case.objects.none())
    assert len(filtered.values["q"]) == TEXT_MAX_CHARS and not filtered.problems


def test_a_chosen_value_that_no_longer_matches_stays_chosen(org, open_case):
    """A team that holds no task of the list now is still a team: the filter stays, empty."""
    _mine(open_case, org)
    rows = queries.my_open_tasks(staff=org.member)
    filtered = filters_parse(QueryDict("team=SRC1-BASIC"), declared=MY_TASK_FILTERS, rows=rows)
    assert filtered.values == {"team": "SRC1-BASIC"} and not filtered.problems
    assert list(filtered.apply(rows)) == []


# --- the lists --------------------------------------------------------------------------------------


def test_my_tasks_filter_by_item_due_and_taxpayer_with_count_export_and_refresh(client, org, open_case, taxpayer):
    a = [_mine(open_case, org) for _ in range(3)]
    b = _mine(open_case, org, "approval")
    now = timezone.now()
    Task.objects.filter(pk=a[0].pk).update(due_at=now - dt.timedelta(hours=1))
    client.force_login(org.member.user)

    url = reverse("my_tasks") + "?item=A001&sort=-id"
    assert _ids(client, url) == sorted((t.pk for t in a), reverse=True)
    assert _xlsx_numbers(client, url) == [f"T{t.pk}" for t in sorted(a, key=lambda t: -t.pk)]
    html = client.get(url).content.decode()
    assert 'data-list-count="3"' in html and "共 3 项任务" in html and "已筛选" in html
    # The refresh polls the same address, the header links and pages keep the filter.
    assert 'hx-get="/my-tasks/?item=A001&amp;sort=-id"' in html
    assert "item=A001&amp;sort=id" in html and "item=A001&amp;sort=-id&amp;page=2" in html
    assert "item=A001&amp;sort=-id&amp;export=xlsx" in html
    # The bar: the select shows the choice, the sort rides along hidden, "clear" keeps it.
    assert '<option value="A001" selected>' in html
    assert '<input type="hidden" name="sort" value="-id">' in html
    assert 'href="?sort=-id"' in html

    assert _ids(client, reverse("my_tasks") + "?due=overdue") == [a[0].pk]
    assert set(_ids(client, reverse("my_tasks") + "?due=later")) == {a[1].pk, a[2].pk, b.pk}
    assert _ids(client, reverse("my_tasks") + "?q=" + taxpayer.credit_code[:6].lower()) != []
    assert _ids(client, reverse("my_tasks") + "?q=没有这个纳税人") == []


def test_at_risk_follows_the_stored_running_clock(client, org, open_case):
    risky, calm, broken = (_mine(open_case, org) for _ in range(3))
    now = timezone.now()
    hour = dt.timedelta(hours=1)
    Task.objects.filter(pk=risky.pk).update(clock_at_risk_at=now - hour, clock_due_at=now + hour)
    Task.objects.filter(pk=calm.pk).update(clock_at_risk_at=now + hour, clock_due_at=now + 2 * hour)
    Task.objects.filter(pk=broken.pk).update(clock_at_risk_at=now - 2 * hour, clock_due_at=now - hour)
    client.force_login(org.member.user)
    assert _ids(client, reverse("my_tasks") + "?due=at_risk") == [risky.pk]
    html = client.get(reverse("my_tasks") + "?due=at_risk").content.decode()
    assert "⏳" in html  # the row's countdown says so too


def test_a_bad_value_is_named_on_the_page_and_the_good_ones_still_apply(client, org, open_case):
    queued = _transferred(open_case, org)
    assigned = _mine(open_case, org)
    client.force_login(org.member.user)
    response = client.get(reverse("middle_office:queue"), {"state": "queued", "team": "12", "due": "<b>x</b>"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "筛选条件“团队”不能取值“12”，已忽略该条件。" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    ids = [task.pk for task in response.context["page"].object_list]
    assert ids == [queued.pk] and assigned.pk not in ids


def test_the_queue_filters_by_assignee_and_nobody(client, org, open_case):
    queued = _transferred(open_case, org)
    mine = _mine(open_case, org)
    theirs = _transferred(open_case, org)
    services.task_transition(task_id=theirs.pk, actor=org.member2, name="assign")
    client.force_login(org.member.user)
    assert _ids(client, reverse("middle_office:queue") + "?assignee=member") == [mine.pk]
    assert _ids(client, reverse("middle_office:queue") + "?assignee=-") == [queued.pk]
    html = client.get(reverse("middle_office:queue")).content.decode()
    assert '<option value="member2">中台赵</option>' in html


def test_the_approval_tabs_count_their_lists_as_filtered(client, org, open_case):
    from tests.test_web_queues import _awaiting_approval

    first = _awaiting_approval(open_case, org)
    other = TaxpayerFactory(competent_branch=org.source, name="另一家公司")
    second = services.case_open(
        actor=org.clerk,
        taxpayer=other.credit_code,
        channel="hall_window",
        hall=org.hall.code,
        items=[services.RequestedItem(item="J001")],
    ).tasks.get()
    for name, actor, extra in [
        ("transfer", org.clerk, {}),
        ("assign", org.back_member, {}),
        ("accept", org.back_member, {}),
        ("submit_for_approval", org.back_member, {"result": "核查无异常"}),
    ]:
        services.task_transition(task_id=second.pk, actor=actor, name=name, **extra)
    client.force_login(org.chief.user)
    url = reverse("back_office:approvals") + "?q=另一家"
    response = client.get(url)
    assert [task.pk for task in response.context["page"].object_list] == [second.pk]
    assert dict(response.context["tabs"])["approvals"] == 1
    assert _xlsx_numbers(client, url) == [f"T{second.pk}"]
    assert first.pk not in _ids(client, url)
    # The tab links keep the filters.
    assert "?q=%E5%8F%A6%E4%B8%80%E5%AE%B6&amp;show=extensions" in response.content.decode()


def test_the_case_list_filters_by_state_channel_hall_and_taxpayer(client, org, open_case, taxpayer):
    here = [open_case("assisted") for _ in range(3)]
    there = open_case("assisted", hall=org.hall2, channel="phone_12366")
    client.force_login(org.clerk.user)
    assert set(_ids(client, reverse("case_list") + "?hall=H01")) == {case.pk for case in here}
    assert _ids(client, reverse("case_list") + "?channel=phone_12366") == [there.pk]
    assert _ids(client, reverse("case_list") + "?state=closed") == []
    html = client.get(reverse("case_list") + "?hall=H99&state=nope").content.decode()
    assert html.count("message-warning") == 2
    assert "共 4 件案件" in html


# --- the hub sorts by its headers ----------------------------------------------------------------


def test_a_reversed_field_sorts_the_other_way():
    assert sort_parse("age", allowed=HUB_SORTS).order_by == ("-created_at", "-id")
    assert sort_parse("-age", allowed=HUB_SORTS).order_by == ("created_at", "id")


def test_the_hub_sorts_by_its_column_headers_and_keeps_its_filters(client, org, open_case):
    tasks = [_transferred(open_case, org, "immediate") for _ in range(3)]
    now = timezone.now()
    for offset, task in zip((3, 1, 2), tasks, strict=True):
        Task.objects.filter(pk=task.pk).update(due_at=now + dt.timedelta(days=offset))
    client.force_login(org.coordinator.user)
    url = reverse("middle_office:hub") + "?state=queued&sort=due_at"
    ids = _ids(client, url)
    ours = [pk for pk in ids if pk in {t.pk for t in tasks}]
    assert ours == [tasks[1].pk, tasks[2].pk, tasks[0].pk]
    html = client.get(url).content.decode()
    assert 'aria-sort="ascending"' in html and "state=queued&amp;sort=-due_at" in html
    assert '<input type="hidden" name="sort" value="due_at">' in html
    assert re.search(r'<td class="col-id" data-row-version="[\d.]+-queued-[^"]*">', html)


def test_each_task_row_carries_its_version(client, org, open_case):
    task = _mine(open_case, org)
    client.force_login(org.member.user)
    html = client.get(reverse("my_tasks")).content.decode()
    version = re.search(r'data-row-version="([^"]+)"', html).group(1)
    services.task_transition(task_id=task.pk, actor=org.member, name="accept")
    again = re.search(r'data-row-version="([^"]+)"', client.get(reverse("my_tasks")).content.decode()).group(1)
    assert version != again and again.endswith(f"-in_progress-{org.member.pk}")
