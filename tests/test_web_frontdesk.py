"""Front desk: find or register the taxpayer, open a consultation, handle or transfer each item."""

from __future__ import annotations

import pytest
from django.urls import reverse
from stdnum.cn import uscc

from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases.models import Case, Task, TaskTransition
from tests.factories import credit_code

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# A valid code with letters in it, as many licences have.
LETTERED = "91330100MA27XQ2B5" + uscc.calc_check_digit("91330100MA27XQ2B5")


@pytest.fixture
def clerk_client(client, org):
    client.force_login(org.clerk.user)
    return client


def _register(client, org, **overrides):
    data = {
        "credit_code": credit_code(424242),
        "name": "杭州新登记科技有限公司",
        "competent_branch": org.source.code,
        "classification": "small_scale",
        "grade": "B",
        **overrides,
    }
    return client.post(reverse("frontdesk:consult"), data)


def test_it_finds_a_taxpayer_by_credit_code_or_by_name(clerk_client, taxpayer):
    by_code = clerk_client.get(reverse("frontdesk:consult"), {"q": taxpayer.credit_code}).content.decode()
    assert taxpayer.name in by_code
    assert reverse("frontdesk:open_case", args=[taxpayer.credit_code]) in by_code
    by_name = clerk_client.get(reverse("frontdesk:consult"), {"q": taxpayer.name[2:6]}).content.decode()
    assert taxpayer.credit_code in by_name
    nothing = clerk_client.get(reverse("frontdesk:consult"), {"q": "不存在的企业"}).content.decode()
    assert "没有匹配的纳税人" in nothing


def test_it_registers_a_taxpayer_and_goes_on_to_the_consultation(clerk_client, org):
    response = _register(clerk_client, org)
    code = credit_code(424242)
    assert response.status_code == 302
    assert response["Location"] == reverse("frontdesk:open_case", args=[code])
    assert Taxpayer.objects.get(credit_code=code).competent_branch == org.source
    page = clerk_client.get(response["Location"]).content.decode()
    assert "已登记纳税人" in page and "杭州新登记科技有限公司" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (credit_code(424242)[:-1] + ("0" if credit_code(424242)[-1] != "0" else "1"), "校验码错误"),
        # Lower case, full-width letters and digits and spaces are normalised at the
        # counter (tests/test_counter_codes.py); other characters are still refused.
        (LETTERED[:8] + "-" + LETTERED[9:], "半角数字和大写字母"),
        ("（" + credit_code(424242)[1:], "半角数字和大写字母"),
        (credit_code(424242)[:17], "应为 18 位"),
    ],
    ids=["check-digit", "hyphen", "full-width-bracket", "too-short"],
)
def test_it_shows_what_is_wrong_with_the_credit_code_and_registers_nothing(clerk_client, org, typed, message):
    before = Taxpayer.objects.count()
    response = _register(clerk_client, org, credit_code=typed)
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page and "纳税人未登记" in page
    assert "杭州新登记科技有限公司" in page  # what was typed stays in the form
    assert Taxpayer.objects.count() == before


def test_it_names_every_missing_field_when_registering(clerk_client, org):
    response = _register(clerk_client, org, name="", competent_branch="")
    assert response.status_code == 400
    assert response.context["register"].errors.keys() >= {"name", "competent_branch"}
    assert "请填写名称" in response.content.decode()


def test_a_taxpayer_is_registered_only_once(clerk_client, org, taxpayer):
    response = _register(clerk_client, org, credit_code=taxpayer.credit_code)
    assert response.status_code == 400
    assert "该统一社会信用代码的纳税人已登记" in response.content.decode()


def test_the_consultation_form_defaults_to_the_clerks_own_hall(clerk_client, taxpayer, org):
    response = clerk_client.get(reverse("frontdesk:open_case", args=[taxpayer.credit_code]))
    assert response.context["form"]["hall"].value() == org.hall.code
    assert response.context["form"]["channel"].value() == "hall_window"


def test_the_picker_finds_items_by_code_or_name_grouped_by_list(clerk_client, items):
    response = clerk_client.get(reverse("frontdesk:item_picker"), {"q": "发票"}, **HTMX)
    groups = {group["value"]: [item.code for item in group["items"]] for group in response.context["groups"]}
    assert "I001" in groups["immediate"] and "A002" in groups["assisted"]
    page = response.content.decode()
    assert page.index("一问即办") < page.index("一问辅办") < page.index("一问联办")
    by_code = clerk_client.get(reverse("frontdesk:item_picker"), {"q": "j001"}, **HTMX)
    assert [item.code for group in by_code.context["groups"] for item in group["items"]] == ["J001"]


def test_the_picker_marks_chosen_items_and_the_chosen_box_adds_and_removes(clerk_client, items):
    picker = clerk_client.get(reverse("frontdesk:item_picker"), {"q": "I001", "items": ["I001"]}, **HTMX)
    assert "disabled" in picker.content.decode()
    added = clerk_client.get(
        reverse("frontdesk:chosen_items"), {"add": "A001", "items": ["I001"], "note_I001": "带了发票"}, **HTMX
    )
    assert [item.code for item in added.context["chosen"]] == ["I001", "A001"]
    assert 'value="带了发票"' in added.content.decode()
    assert added["HX-Trigger-After-Settle"] == "chosenChanged"
    again = clerk_client.get(reverse("frontdesk:chosen_items"), {"add": "A001", "items": ["I001", "A001"]}, **HTMX)
    assert [item.code for item in again.context["chosen"]] == ["I001", "A001"]
    removed = clerk_client.get(reverse("frontdesk:chosen_items"), {"remove": "I001", "items": ["I001", "A001"]}, **HTMX)
    assert [item.code for item in removed.context["chosen"]] == ["A001"]


def test_opening_a_case_with_no_items_shows_an_error_and_creates_nothing(clerk_client, taxpayer, org):
    url = reverse("frontdesk:open_case", args=[taxpayer.credit_code])
    response = clerk_client.post(url, {"channel": "hall_window", "hall": org.hall.code, "notes": "咨询发票"})
    assert response.status_code == 400
    assert "请至少添加一个事项" in response.content.decode()
    assert response.context["form"]["notes"].value() == "咨询发票"
    assert not Case.objects.exists() and not Task.objects.exists()


def test_one_bad_item_keeps_the_whole_case_out(clerk_client, taxpayer, org, items):
    url = reverse("frontdesk:open_case", args=[taxpayer.credit_code])
    response = clerk_client.post(url, {"channel": "hall_window", "hall": org.hall.code, "items": ["I001", "NOPE"]})
    assert response.status_code == 400
    assert "未知事项：NOPE" in response.content.decode()
    assert [item.code for item in response.context["chosen"]] == ["I001", "NOPE"]
    assert not Case.objects.exists()


def test_it_opens_a_case_with_every_chosen_item_and_shows_the_consultation(clerk_client, taxpayer, org, items):
    url = reverse("frontdesk:open_case", args=[taxpayer.credit_code])
    response = clerk_client.post(
        url,
        {
            "channel": "hall_window",
            "hall": org.hall2.code,
            "notes": "来厅咨询",
            "items": ["I001", "A001"],
            "note_A001": "材料齐全",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("frontdesk:case", args=[case.pk])
    assert case.cross_hall and case.notes == "来厅咨询" and case.accepted_by == org.clerk
    assert sorted(case.tasks.values_list("item__code", flat=True)) == ["A001", "I001"]
    assert case.tasks.get(item__code="A001").note == "材料齐全"
    page = clerk_client.get(response["Location"]).content.decode()
    assert "异厅通办" in page and "当场办结" in page and "受理并转办" in page


def test_handling_on_the_spot_swaps_the_row_and_closes_the_task(clerk_client, open_case):
    case = open_case("immediate")
    task = case.tasks.get()
    response = clerk_client.post(
        reverse("frontdesk:counter_step", args=[task.pk]),
        {"transition": "handle_on_spot", "expected_state": "received", "result": "已当场发放发票"},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "caseChanged"
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="task-row-{task.pk}"') and "已关闭" in row
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.state == "closed" and task.result == "已当场发放发票"
    assert case.state == Case.State.CLOSED
    summary = clerk_client.get(reverse("frontdesk:case_summary", args=[case.pk]), **HTMX).content.decode()
    assert "已关闭" in summary


def test_handling_on_the_spot_without_a_result_says_so_in_the_row_and_changes_nothing(clerk_client, open_case):
    task = open_case("immediate").tasks.get()
    response = clerk_client.post(
        reverse("frontdesk:counter_step", args=[task.pk]),
        {"transition": "handle_on_spot", "expected_state": "received", "result": "  "},
        **HTMX,
    )
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "请记录告知纳税人的办理结果" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "received"
    assert TaskTransition.objects.filter(task=task).count() == 1


def test_an_assisted_item_cannot_be_handled_on_the_spot(clerk_client, open_case):
    task = open_case("assisted").tasks.get()
    page = clerk_client.get(reverse("frontdesk:case", args=[task.case_id])).content.decode()
    assert 'value="handle_on_spot"' not in page
    response = clerk_client.post(
        reverse("frontdesk:counter_step", args=[task.pk]),
        {"transition": "handle_on_spot", "expected_state": "received", "result": "x"},
        **HTMX,
    )
    assert "只有一问即办事项可以当场办结" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "received"


def test_transfer_from_the_consultation_screen_queues_the_task(clerk_client, open_case, org):
    task = open_case("assisted").tasks.get()
    response = clerk_client.post(
        reverse("frontdesk:counter_step", args=[task.pk]),
        {"transition": "transfer", "expected_state": "received"},
        **HTMX,
    )
    assert response.status_code == 200 and "排队中" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "queued" and task.team == org.online


def test_without_htmx_the_counter_redirects_with_a_message(clerk_client, open_case):
    task = open_case("assisted").tasks.get()
    response = clerk_client.post(
        reverse("frontdesk:counter_step", args=[task.pk]),
        {"transition": "transfer", "expected_state": "received"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("frontdesk:case", args=[task.case_id])
    assert "转办：已完成" in response.content.decode()


def test_a_second_transfer_from_a_stale_screen_is_refused(clerk_client, open_case):
    task = open_case("assisted").tasks.get()
    url = reverse("frontdesk:counter_step", args=[task.pk])
    clerk_client.post(url, {"transition": "transfer", "expected_state": "received"}, **HTMX)
    response = clerk_client.post(url, {"transition": "transfer", "expected_state": "received"}, **HTMX)
    assert "他人已先处理了此任务" in response.content.decode()
    assert TaskTransition.objects.filter(task=task, transition="transfer").count() == 1
