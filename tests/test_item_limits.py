"""An item's time limits (taxservice/catalogue/services.py and the admin): audited, and a
change recomputes the due times of that item's open tasks only; closed tasks keep theirs."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from taxservice.catalogue.models import Item, ItemLimitChange
from taxservice.catalogue.services import item_limits_change
from taxservice.errors import ActionForbidden, InvalidInput
from taxservice.workdays.models import ClockRecompute
from taxservice.workflow.cases import clocks
from taxservice.workflow.cases.models import TaskState, TaskTransition
from tests.test_services_transitions import drive

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")

S = TaskState
TZ = timezone.get_current_timezone()
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


def local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value, TZ)


@pytest.fixture
def tasks(org, open_case):
    with time_machine.travel(MONDAY, tick=False):
        return {
            "open": drive(org, open_case("assisted").tasks.get(), S.IN_PROGRESS),
            "closed": drive(org, open_case("assisted").tasks.get(), S.CLOSED),
            "other_item": drive(org, open_case("approval").tasks.get(), S.IN_PROGRESS),
        }


def test_a_longer_time_limit_moves_the_item_s_open_tasks_only(org, items, tasks, django_capture_on_commit_callbacks):
    before = {name: local(task.due_at) for name, task in tasks.items()}
    with django_capture_on_commit_callbacks(execute=True):
        change = item_limits_change(
            actor=org.admin, item_id=items["assisted"].pk, changes={"time_limit_days": 5}, reason="新规"
        )
    for task in tasks.values():
        task.refresh_from_db()
    assert local(tasks["open"].due_at) == dt.datetime(2026, 3, 9, 17, 30, tzinfo=TZ)  # 5 working days
    assert local(tasks["closed"].due_at) == before["closed"]
    assert local(tasks["other_item"].due_at) == before["other_item"]
    rows = TaskTransition.objects.filter(transition=clocks.RECOMPUTE_DUE)
    assert list(rows.values_list("task", flat=True)) == [tasks["open"].pk]
    assert (change.before, change.after, change.reason, change.actor) == (
        {"time_limit_days": 3}, {"time_limit_days": 5}, "新规", org.admin
    )  # fmt: skip
    run = ClockRecompute.objects.get()
    assert (run.item_code, run.state, run.total, run.moved) == ("A001", ClockRecompute.State.DONE, 1, 1)
    assert change.recompute == run


def test_an_unchanged_limit_writes_nothing_and_the_extension_cap_moves_no_clock(org, items):
    item = items["assisted"]
    assert item_limits_change(actor=org.admin, item_id=item.pk, changes={"time_limit_days": 3}) is None
    change = item_limits_change(actor=org.admin, item_id=item.pk, changes={"extension_cap_days": 4})
    assert change.after == {"extension_cap_days": 4} and change.recompute is None
    assert ItemLimitChange.objects.count() == 1 and not ClockRecompute.objects.exists()


def test_only_administrators_change_time_limits(org, items):
    for staff in (org.clerk, org.coordinator, org.chief):
        with pytest.raises(ActionForbidden):
            item_limits_change(actor=staff, item_id=items["assisted"].pk, changes={"time_limit_days": 9})
    assert Item.objects.get(pk=items["assisted"].pk).time_limit_days == 3
    assert not ItemLimitChange.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [{"time_limit_days": -1}, {"time_limit_days": "soon"}, {"time_limit_days": None}, {"name": "x"}, {"steps": []}],
)
def test_it_refuses_what_is_not_a_time_limit(org, items, changes):
    with pytest.raises(InvalidInput):
        item_limits_change(actor=org.admin, item_id=items["assisted"].pk, changes=changes)
    assert not ItemLimitChange.objects.exists()


def test_the_hours_and_the_handling_limit_may_be_emptied(org, items):
    item = items["assisted"]
    item_limits_change(actor=org.admin, item_id=item.pk, changes={"time_limit_hours": 4, "handling_limit_days": 2})
    change = item_limits_change(
        actor=org.admin, item_id=item.pk, changes={"time_limit_hours": "", "handling_limit_days": None}
    )
    assert change.before == {"time_limit_hours": 4, "handling_limit_days": 2}
    assert change.after == {"time_limit_hours": None, "handling_limit_days": None}


@pytest.fixture
def admin_client(client, org):
    user = org.admin.user
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(user)
    return client


def _admin_form(item: Item, **changes) -> dict:
    data = {
        "code": item.code,
        "name": item.name,
        "handling_list": item.handling_list,
        "tier": item.tier,
        "team_kind": item.team_kind,
        "steps": "[]",
        "time_limit_days": item.time_limit_days,
        "time_limit_hours": item.time_limit_hours or "",
        "transfer_limit_days": item.transfer_limit_days,
        "acceptance_limit_days": item.acceptance_limit_days,
        "handling_limit_days": item.handling_limit_days or "",
        "feedback_limit_days": item.feedback_limit_days,
        "extension_cap_days": item.extension_cap_days,
        "active": "on",
        "limit_change_reason": "",
    }
    return data | changes


def test_the_admin_changes_limits_through_the_service(
    admin_client, org, items, tasks, django_capture_on_commit_callbacks
):
    item = items["assisted"]
    url = reverse("admin:catalogue_item_change", args=[item.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and 'name="acceptance_limit_days"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, _admin_form(item, time_limit_days=5, name="改名", limit_change_reason="新规"))
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert (item.time_limit_days, item.name) == (5, "改名")
    change = ItemLimitChange.objects.get()
    assert (change.after, change.reason, change.actor) == ({"time_limit_days": 5}, "新规", org.admin)
    tasks["open"].refresh_from_db()
    assert local(tasks["open"].due_at) == dt.datetime(2026, 3, 9, 17, 30, tzinfo=TZ)


def test_the_admin_saves_other_fields_without_an_audit_row(admin_client, items):
    item = items["assisted"]
    response = admin_client.post(
        reverse("admin:catalogue_item_change", args=[item.pk]), _admin_form(item, name="只改名称")
    )
    assert response.status_code == 302
    assert not ItemLimitChange.objects.exists() and not ClockRecompute.objects.exists()


def test_a_django_staff_user_without_the_admin_role_cannot_change_limits_in_the_admin(client, org, items):
    user = org.coordinator.user
    user.is_staff = user.is_superuser = True  # every Django permission, but not the admin role
    user.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(user)
    item = items["assisted"]
    response = client.post(reverse("admin:catalogue_item_change", args=[item.pk]), _admin_form(item, time_limit_days=9))
    assert response.status_code == 200  # the form again, with the refusal
    assert "只有管理员可以修改工作日历和办理时限" in response.content.decode()
    item.refresh_from_db()
    assert item.time_limit_days == 3 and not ItemLimitChange.objects.exists()


def test_the_api_lists_an_item_s_time_limits(api, org, items):
    response = api(org.clerk).get("/api/v1/catalogue/items/")
    assert response.status_code == 200
    row = next(row for row in response.json()["results"] if row["code"] == "A001")
    assert row["time_limit_days"] == 3 and row["acceptance_limit_days"] == 1 and "extension_cap_days" in row
