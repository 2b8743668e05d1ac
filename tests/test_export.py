"""Every list exports what it shows to Excel: the same rows under the same filters (all of
its pages), the table's own headers, and nothing built past the row cap."""

from __future__ import annotations

import datetime as dt
import re
from io import BytesIO

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from taxservice.web import export, queries
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Notification, TaskTransition
from tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db

NOT_EXPORTED = {"", "操作"}  # the actions column and the hub's tick box


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch):
    # Two rows a page, so each list below spans pages and the export must hold them all.
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)


def _transferred(open_case, org, key="assisted"):
    task = open_case(key).tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    return task


def _workbook_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"] == export.XLSX_CONTENT_TYPE
    assert re.match(r'attachment; filename="[a-z-]+-\d{8}-\d{4}\.xlsx"$', response["Content-Disposition"])
    sheet = load_workbook(BytesIO(response.content), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def _table_headers(html: str) -> list[str]:
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>|[▲▼]", "", cell).strip() for cell in re.findall(r"<th\b.*?</th>", head, re.S)]
    return [cell for cell in cells if cell not in NOT_EXPORTED]


def _check_export_matches_page(client, url: str) -> list[tuple]:
    page = client.get(url)
    assert page.status_code == 200
    shown = page.context["page"]
    assert shown.paginator.count > len(shown.object_list)  # more than one page
    separator = "&" if "?" in url else "?"
    rows = _workbook_rows(client.get(f"{url}{separator}export=xlsx"))
    assert list(rows[0]) == _table_headers(page.content.decode())
    assert len(rows) - 1 == shown.paginator.count
    return rows


def test_my_tasks_export_every_open_task_i_hold(client, org, open_case):
    for _ in range(3):
        task = _transferred(open_case, org)
        services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    _transferred(open_case, org)  # queued, not mine
    client.force_login(org.member.user)
    rows = _check_export_matches_page(client, reverse("my_tasks"))
    assert len(rows) == 1 + 3 and f"T{task.pk}" in {row[0] for row in rows}


def test_the_case_list_export_keeps_its_filters(client, org, open_case, taxpayer):
    for _ in range(3):
        open_case("assisted")
    other = TaxpayerFactory(competent_branch=org.source)
    services.case_open(
        actor=org.clerk,
        taxpayer=other.credit_code,
        channel="hall_window",
        hall=org.hall.code,
        items=[services.RequestedItem(item="A001")],
    )
    client.force_login(org.clerk.user)
    url = reverse("case_list") + f"?q={taxpayer.credit_code}&state=open"
    rows = _check_export_matches_page(client, url)
    assert len(rows) == 1 + 3 and all(taxpayer.credit_code in row[1] for row in rows[1:])


def test_the_middle_office_queue_export_keeps_its_filters(client, org, open_case):
    for _ in range(3):
        _transferred(open_case, org)
    assigned = _transferred(open_case, org)
    services.task_transition(task_id=assigned.pk, actor=org.member, name="assign")
    client.force_login(org.member.user)
    rows = _check_export_matches_page(client, reverse("middle_office:queue") + "?state=queued")
    assert f"T{assigned.pk}" not in {row[0] for row in rows}
    assert len(rows) == 1 + 3


def test_the_hub_export_is_the_filtered_hub_list(client, org, open_case):
    for _ in range(3):
        _transferred(open_case, org, "immediate")  # no rule: they wait at the hub
    client.force_login(org.coordinator.user)
    rows = _check_export_matches_page(client, reverse("middle_office:hub") + "?state=queued")
    assert len(rows) >= 1 + 3


def test_the_approval_queue_export(client, org, open_case):
    for _ in range(3):
        task = _transferred(open_case, org, "joint")
        for name in ("assign", "accept"):
            services.task_transition(task_id=task.pk, actor=org.back_member, name=name)
        services.task_transition(
            task_id=task.pk, actor=org.back_member, name="submit_for_approval", result="核查无异常"
        )
    client.force_login(org.chief.user)
    rows = _check_export_matches_page(client, reverse("back_office:approvals"))
    assert len(rows) == 1 + 3


def test_the_inbox_export_keeps_the_unread_filter(client, org, open_case):
    task = open_case("assisted").tasks.get()
    now = timezone.now()
    for minutes, read in ((1, False), (2, False), (3, False), (4, True)):
        log = TaskTransition.objects.create(task=task, transition="assign", from_state="queued", to_state="assigned")
        Notification.objects.create(
            recipient=org.member,
            task=task,
            transition=log,
            message=f"m{minutes}",
            created_at=now - dt.timedelta(minutes=minutes),
            read_at=now if read else None,
        )
    client.force_login(org.member.user)
    rows = _check_export_matches_page(client, reverse("inbox") + "?show=unread")
    assert [row[1] for row in rows[1:]] == ["m1", "m2", "m3"]


def test_each_list_page_links_its_export_with_the_current_filters(client, org, open_case):
    _transferred(open_case, org)
    client.force_login(org.member.user)
    html = client.get(reverse("middle_office:queue") + "?state=queued&page=1").content.decode()
    assert "?state=queued&amp;export=xlsx" in html and "导出 Excel" in html


def test_the_cap_refuses_before_reading_a_row():
    class Rows:
        def count(self):
            return export.EXPORT_MAX_ROWS + 1

        def __iter__(self):
            raise AssertionError("a row was read past the cap")

        iterator = None

    with pytest.raises(export.ExportTooLarge):
        export.xlsx_response(filename="x.xlsx", columns=[("No.", lambda row: row)], rows=Rows())


def test_over_the_cap_the_list_comes_back_with_a_message_and_no_file(client, org, open_case, monkeypatch):
    for _ in range(3):
        _transferred(open_case, org)
    monkeypatch.setattr(export, "EXPORT_MAX_ROWS", 2)

    def no_workbook(*args, **kwargs):
        raise AssertionError("a workbook was built past the cap")

    monkeypatch.setattr(export, "Workbook", no_workbook)
    client.force_login(org.member.user)
    url = reverse("middle_office:queue") + "?state=queued"
    response = client.get(url + "&export=xlsx")
    assert response.status_code == 302 and response["Location"] == url
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert "3" in message and "2" in message


def test_times_are_written_as_the_local_wall_clock():
    aware = dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC)

    class Rows(list):
        def count(self):  # a queryset's count(), not list.count(x)
            return len(self)

    response = export.xlsx_response(filename="t.xlsx", columns=[("When", lambda row: row)], rows=Rows([aware]))
    sheet = load_workbook(BytesIO(response.content), read_only=True).active
    (_header, (value,)) = list(sheet.iter_rows(values_only=True))
    assert value == timezone.localtime(aware).replace(tzinfo=None)
