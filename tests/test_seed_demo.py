"""The deterministic demo city (`manage.py seed_demo`, taxservice.demo)."""

from __future__ import annotations

import ast
import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from taxservice.demo import city as demo
from taxservice.demo.organisation import DEMO_PASSWORD, SOURCES, USERNAMES
from taxservice.org.models import Branch, Role, Staff, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.taxpayers.validators import validate_credit_code
from taxservice.workflow.cases.models import Case, Task, TaskAssignment, TaskState, TaskTransition
from taxservice.workflow.routing.dispatch import replay
from taxservice.workflow.routing.models import DispatchDecision

pytestmark = pytest.mark.django_db

SMALL = ["--taxpayers", "50", "--cases", "40"]


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed_demo(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def task_rows() -> list[tuple]:
    """Every task's item, state and assignee, in creation order."""
    return list(Task.objects.order_by("pk").values_list("item__code", "state", "assignee__user__username"))


def taxpayer_rows() -> list[tuple]:
    return list(
        Taxpayer.objects.order_by("credit_code").values_list(
            "credit_code", "name", "competent_branch__code", "classification", "grade"
        )
    )


@pytest.fixture
def built() -> str:
    return seed_demo("--seed", "7", *SMALL)


def test_it_prints_progress_and_a_table_of_logins_with_the_password(built):
    assert "cases" in built and "40/40" in built
    for username in ("clerk1", "coordinator1", "chief1", "admin", "integrator1"):
        assert username in built
    assert DEMO_PASSWORD in built


def test_every_role_has_a_login_with_the_demo_password(built):
    for role in Role.values:
        member = Staff.objects.filter(role_rows__role=role).select_related("user").first()
        assert member is not None, role
        assert member.user.check_password(DEMO_PASSWORD), role
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert Staff.objects.get(user__username="admin").has_role(Role.ADMIN)
    assert Staff.objects.filter(on_duty=False).exists()
    assert Staff.objects.get(user__username="coordinator1").teams.filter(code="HUB").exists()


def test_every_taxpayer_has_a_valid_credit_code(built):
    codes = list(Taxpayer.objects.values_list("credit_code", flat=True))
    assert len(codes) == 50
    for code in codes:
        validate_credit_code(code)
    branches = set(Taxpayer.objects.values_list("competent_branch__code", flat=True))
    assert branches <= set(SOURCES)


def test_the_organisation_has_the_three_tiers(built):
    assert Branch.objects.get(code="C00").kind == Branch.Kind.CITY
    assert Branch.objects.get(code="S01").kind == Branch.Kind.SERVICE
    hub = Team.objects.get(code="HUB")
    assert (hub.kind, hub.tier, hub.branch.code) == (Team.Kind.COORDINATION_POST, Tier.MIDDLE, "S01")
    expected_hall = {"SRC1": "H01", "SRC2": "H01", "SRC3": "H02"}
    for source in Branch.objects.filter(kind=Branch.Kind.SOURCE):
        assert source.home_hall.code == expected_hall[source.code]
        kinds = set(source.teams.filter(tier=Tier.BACK).values_list("kind", flat=True))
        assert kinds >= {Team.Kind.COORDINATION, Team.Kind.BASIC, Team.Kind.RISK, Team.Kind.SERVICE}
        group = Team.objects.get(kind=Team.Kind.DISPATCHED, home_branch=source)
        assert group.branch.code == "S01" and group.tier == Tier.MIDDLE
        assert group.members.filter(home_branch=source).count() == 2
        assert source.teams.filter(kind=Team.Kind.GRID, tier=Tier.GRID).exists()
    city_kinds = set(Team.objects.filter(branch__code="C00").values_list("kind", flat=True))
    assert city_kinds >= {"online_consultation", "online_processing", "expert", "publicity", "anchor", "quality"}


def test_every_task_state_appears(built):
    states = set(Task.objects.values_list("state", flat=True))
    assert states == set(TaskState.values)
    assert Case.objects.count() == 40
    assert Case.objects.filter(cross_hall=True).exists()


def test_every_transition_log_is_a_consistent_history(built):
    now = timezone.now()
    tasks = Task.objects.select_related("case").prefetch_related("transitions")
    assert tasks.exists()
    for task in tasks:
        rows = list(task.transitions.all())  # ordered by (at, id)
        assert rows[0].transition == "receive" and rows[0].from_state == ""
        assert rows[0].at == task.created_at
        # A task pushed in by intake (the demo's grid tasks) has no case; a sub-task is
        # received when its parent's holder opens it (taxservice/demo/back_office.py).
        assert task.case is None or task.parent_id is not None or rows[0].at == task.case.created_at
        previous = ""
        for row in rows:
            assert row.from_state == previous, (task.pk, row.transition)
            previous = row.to_state
        assert previous == task.state
        assert [row.at for row in rows] == sorted(row.at for row in rows)
        assert now - dt.timedelta(days=60) < rows[0].at and rows[-1].at <= now
        if task.assignee_id is not None:
            for row in rows:
                if row.transition == "approve":
                    assert row.actor_id != task.assignee_id


def test_the_robot_dispatches_what_screening_marked_and_leaves_nothing_queued_for_it(built):
    robot = TaskTransition.objects.filter(transition="assign", actor__isnull=True)
    assert robot.exists()
    assert not Task.objects.filter(state=TaskState.QUEUED, auto_dispatch=True).exists()
    for decision in DispatchDecision.objects.filter(outcome=DispatchDecision.Outcome.ASSIGNED):
        assert replay(decision) == decision.chosen_id


def test_rows_that_hang_off_a_task_are_dated_inside_its_history(built):
    for assignment in TaskAssignment.objects.select_related("task"):
        times = list(
            assignment.task.transitions.filter(transition__in=["assign", "reassign"]).values_list("at", flat=True)
        )
        assert assignment.assigned_at in times
        if assignment.ended_at is not None:
            assert assignment.ended_at >= assignment.assigned_at
    for decision in DispatchDecision.objects.select_related("task"):
        first, last = (row.at for row in (decision.task.transitions.first(), decision.task.transitions.last()))
        assert first <= decision.at <= last


def test_each_case_log_is_dated_with_its_case(built):
    for case in Case.objects.prefetch_related("transitions"):
        rows = list(case.transitions.all())  # ordered by (at, id)
        assert (rows[0].transition, rows[0].at) == ("open", case.created_at)
        if case.state == Case.State.CLOSED:
            assert (rows[-1].transition, rows[-1].at) == ("close", case.closed_at)
        else:
            assert len(rows) == 1


def test_the_same_seed_gives_the_same_taxpayers_and_histories(built):
    first = taxpayer_rows()
    first_tasks = task_rows()
    first_steps = list(TaskTransition.objects.order_by("task_id", "at", "id").values_list("transition", flat=True))
    seed_demo("--seed", "7", "--reset", *SMALL)
    assert taxpayer_rows() == first
    assert task_rows() == first_tasks
    assert (
        list(TaskTransition.objects.order_by("task_id", "at", "id").values_list("transition", flat=True)) == first_steps
    )
    seed_demo("--seed", "8", "--reset", *SMALL)
    assert taxpayer_rows() != first


def test_a_second_run_without_reset_changes_nothing(built):
    counts = [model.objects.count() for model in (Branch, Team, Staff, Taxpayer, Case, Task, TaskTransition)]
    output = seed_demo("--seed", "9", *SMALL)
    assert "already exists" in output and "clerk1" in output
    assert [model.objects.count() for model in (Branch, Team, Staff, Taxpayer, Case, Task, TaskTransition)] == counts


def test_reset_removes_the_demo_entirely(built):
    demo.demo_reset()
    assert not demo.demo_exists()
    assert not Taxpayer.objects.exists() and not Case.objects.exists() and not TaskTransition.objects.exists()
    assert not get_user_model().objects.filter(username__in=USERNAMES).exists()


def test_recount_open_tasks_repairs_a_count_that_is_off(org):
    Staff.objects.filter(pk=org.member.pk).update(open_tasks=3)
    out = StringIO()
    call_command("recount_open_tasks", stdout=out)
    assert "1 staff member(s) had a wrong open-task count; repaired." in out.getvalue()
    assert Staff.objects.get(pk=org.member.pk).open_tasks == 0
    out = StringIO()
    call_command("recount_open_tasks", stdout=out)
    assert "All open-task counts are right." in out.getvalue()


def test_org_imports_nothing_from_the_layers_above_it():
    """org is the lowest core app: the demo and the operators' commands live above it."""
    above = ("taxservice.taxpayers", "taxservice.catalogue", "taxservice.workflow", "taxservice.demo")
    root = Path(__file__).resolve().parent.parent / "taxservice" / "org"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name == layer or name.startswith(layer + ".") for name in names for layer in above):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
