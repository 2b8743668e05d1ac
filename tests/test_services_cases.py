"""Opening cases: whole or not at all, cross-hall, due times."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from taxservice.errors import ActionForbidden, InvalidInput
from taxservice.taxpayers.services import taxpayer_register
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Case, Task, TaskTransition
from tests.factories import credit_code


def _open(org, taxpayer, *, items, hall=None, channel="hall_window", actor=None):
    return services.case_open(
        actor=actor or org.clerk,
        taxpayer=taxpayer.credit_code,
        channel=channel,
        hall=hall or org.hall.code,
        items=[services.RequestedItem(item=code) for code in items],
    )


def test_it_opens_a_case_with_one_received_task_per_item(org, taxpayer, items):
    case = _open(org, taxpayer, items=["I001", "A001"])
    assert case.state == Case.State.OPEN
    assert case.accepted_by == org.clerk
    assert sorted(case.tasks.values_list("item__code", "state")) == [("A001", "received"), ("I001", "received")]
    assert TaskTransition.objects.filter(task__case=case, transition="receive").count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"items": []}, "items"),
        ({"items": ["I001", "NOPE"]}, "items"),
        ({"items": ["I001", "I001"]}, "items"),
        ({"items": ["I001"], "hall": "NOPE"}, "hall"),
        ({"items": ["I001"], "hall": "SRC1"}, "hall"),  # a branch, not a hall
        ({"items": ["I001"], "channel": "fax"}, "channel"),
    ],
)
def test_it_refuses_bad_input_and_writes_nothing(org, taxpayer, items, kwargs, field):
    with pytest.raises(InvalidInput) as error:
        _open(org, taxpayer, **kwargs)
    assert field in error.value.fields
    assert Case.objects.count() == 0
    assert Task.objects.count() == 0


def test_it_refuses_an_unknown_taxpayer(org, items):
    with pytest.raises(InvalidInput) as error:
        services.case_open(
            actor=org.clerk,
            taxpayer=credit_code(999),
            channel="hall_window",
            hall="H01",
            items=[services.RequestedItem(item="I001")],
        )
    assert "taxpayer" in error.value.fields
    assert Case.objects.count() == 0


def test_only_front_desk_roles_open_cases(org, taxpayer, items):
    with pytest.raises(ActionForbidden):
        _open(org, taxpayer, items=["I001"], actor=org.member)
    assert _open(org, taxpayer, items=["I001"], actor=org.integrator).pk


def test_a_visit_to_another_hall_is_cross_hall(org, taxpayer, items):
    assert _open(org, taxpayer, items=["I001"], hall="H01").cross_hall is False  # SRC1's own hall
    assert _open(org, taxpayer, items=["I001"], hall="H02").cross_hall is True


def test_due_times_count_working_days(org, taxpayer, items, monkeypatch):
    friday = timezone.make_aware(dt.datetime(2026, 11, 27, 15, 0))
    monkeypatch.setattr(timezone, "now", lambda: friday)
    case = _open(org, taxpayer, items=["I001", "A001"])
    immediate = case.tasks.get(item__code="I001")
    assisted = case.tasks.get(item__code="A001")  # 3 working days
    assert immediate.due_at == friday
    assert timezone.localtime(assisted.due_at).replace(tzinfo=None) == dt.datetime(2026, 12, 2, 17, 30)


class TestTaxpayerRegister:
    def test_it_registers_a_valid_code(self, org):
        taxpayer = taxpayer_register(
            actor=org.clerk, credit_code=credit_code(5), name="某某公司", competent_branch_code="SRC1"
        )
        assert taxpayer.competent_branch == org.source

    @pytest.mark.parametrize(
        "code",
        [
            credit_code(5)[:-1] + ("0" if credit_code(5)[-1] != "0" else "1"),  # wrong check digit
            credit_code(5)[:-1],  # too short
            "91330100MA2ABCDEFX".lower(),  # lowercase
            "９１３３０１００" + credit_code(5)[8:],  # full-width digits
            " " + credit_code(5)[1:],
        ],
    )
    def test_it_rejects_bad_codes(self, org, code):
        with pytest.raises(InvalidInput) as error:
            taxpayer_register(actor=org.clerk, credit_code=code, name="某某公司", competent_branch_code="SRC1")
        assert "credit_code" in error.value.fields

    def test_it_rejects_a_duplicate_and_an_unknown_branch(self, org, taxpayer):
        with pytest.raises(InvalidInput) as error:
            taxpayer_register(actor=org.clerk, credit_code=taxpayer.credit_code, name="x", competent_branch_code="NOPE")
        assert set(error.value.fields) == {"credit_code", "competent_branch"}

    def test_back_office_staff_may_not_register(self, org):
        with pytest.raises(ActionForbidden):
            taxpayer_register(actor=org.back_member, credit_code=credit_code(6), name="x", competent_branch_code="SRC1")


def test_a_clerk_acts_on_cases_accepted_at_any_hall_of_their_branch(org, taxpayer, items):
    case = _open(org, taxpayer, items=["I001"], hall="H02")
    task = services.task_transition(task_id=case.tasks.get().pk, actor=org.clerk, name="handle_on_spot", result="ok")
    assert task.state == "closed"
