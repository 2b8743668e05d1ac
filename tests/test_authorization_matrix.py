"""The authorization matrix (taxservice/authz.py), checked against what the product does.

Every account of a small organisation (every role, two branches, a team lead, a deputy)
against every transition on tasks in every state in both branches, every page and every
API list, and the task and case details of both branches. The expected answer comes from
the matrix's cell for the account's role, evaluated by this test's own reading of the facts
(roles, teams, branch scope, holder, the log's actors), not by asking the policy.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from django_fsm import can_proceed
from rest_framework.test import APIClient

from taxservice import access, authz
from taxservice.org.models import Branch, Delegation, Role, Staff, Team
from taxservice.workflow.cases import policy, selectors, services
from taxservice.workflow.cases.models import Task, TaskAssignment, TaskState
from taxservice.workflow.cases.transitions import TRANSITIONS, method_of
from tests.factories import StaffFactory, TaxpayerFactory

S = TaskState
DOC = Path(__file__).resolve().parent.parent / "docs" / "authorization.md"

# --- the document ------------------------------------------------------------------------------


def test_the_committed_document_is_the_generated_one():
    assert DOC.read_text(encoding="utf-8") == authz.document(), (
        "docs/authorization.md is stale: run manage.py authz_matrix --write docs/authorization.md"
    )


def test_the_command_prints_the_table_and_writes_the_document(tmp_path):
    out = StringIO()
    call_command("authz_matrix", stdout=out)
    assert out.getvalue() == authz.matrix_markdown()
    target = tmp_path / "authorization.md"
    call_command("authz_matrix", "--write", str(target), stdout=StringIO())
    assert target.read_text(encoding="utf-8") == authz.document()


def test_the_matrix_has_a_row_for_every_transition_and_rule_and_a_cell_for_every_role():
    rows = authz.matrix()
    assert [row.action for row in rows] == [*TRANSITIONS, *(rule.name for rule in authz.ALL_RULES)]
    for row in rows:
        assert set(row.cells) == set(Role.values)
        for alternatives in row.cells.values():
            for relations in alternatives:
                assert relations and relations <= set(authz.RELATIONS), (row.action, relations)
    # The findings of issue #15 in the matrix's words: four eyes binds the administrator; a
    # clerk cancels only at the counter; a city-bureau member acts only in their scope.
    assert authz.row("approve").cells[Role.ADMIN] == (frozenset({authz.NOT_HANDLED}),)
    assert authz.row("cancel").cells[Role.CLERK] == (frozenset({authz.VISIBLE, authz.AT_COUNTER}),)
    assert authz.VISIBLE in authz.row("give_feedback").cells[Role.TEAM_MEMBER][0]


# --- the organisation ---------------------------------------------------------------------------


@pytest.fixture
def world(org, items):
    """Both branches' back-office work in every state, and some of the city team's."""
    items["joint"].approval_levels = 2
    items["joint"].save()
    lead = StaffFactory(
        user__username="lead", name="组长林", home_branch=org.source, roles=[Role.TEAM_LEAD], teams=[org.basic]
    )
    clerk2 = StaffFactory(user__username="clerk2", name="前台何", home_branch=org.hall2, roles=[Role.CLERK])
    deputy = StaffFactory(
        user__username="deputy", name="代理吕", home_branch=org.source, roles=[Role.TEAM_MEMBER], teams=[org.basic]
    )
    now = timezone.now()
    Delegation.objects.create(
        chief=org.chief,
        deputy=deputy,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=2),
        reason="出差",
        created_by=org.chief,
    )
    branches = {
        "A": (TaxpayerFactory(competent_branch=org.source), org.hall, org.clerk, org.back_member, lead, org.chief),
        "B": (
            TaxpayerFactory(competent_branch=org.source2),
            org.hall2,
            clerk2,
            org.back_member2,
            org.chief2,
            org.coordinator,
        ),
    }
    tasks: dict[str, Task] = {}

    def move(task: Task, actor: Staff, name: str, **kwargs) -> Task:
        return services.task_transition(task_id=task.pk, actor=actor, name=name, **kwargs)

    for key, (taxpayer, hall, clerk, worker, first_approver, final_approver) in branches.items():

        def fresh(kind: str = "joint", taxpayer=taxpayer, hall=hall, clerk=clerk) -> Task:
            case = services.case_open(
                actor=clerk,
                taxpayer=taxpayer.credit_code,
                channel="hall_window",
                hall=hall.code,
                items=[services.RequestedItem(item=items[kind].code)],
            )
            return case.tasks.get()

        tasks[f"{key}:received"] = fresh()
        tasks[f"{key}:cancelled"] = move(fresh(), clerk, "cancel", reason="撤回")
        queued = move(fresh(), clerk, "transfer")
        assert queued.state == S.QUEUED and queued.team.branch_id == taxpayer.competent_branch_id
        tasks[f"{key}:queued"] = queued
        tasks[f"{key}:assigned"] = move(move(fresh(), clerk, "transfer"), worker, "assign")

        def working(clerk=clerk, worker=worker, fresh=fresh) -> Task:
            return move(move(move(fresh(), clerk, "transfer"), worker, "assign"), worker, "accept")

        tasks[f"{key}:in_progress"] = working()
        tasks[f"{key}:materials"] = move(working(), worker, "request_materials", reason="补正")
        tasks[f"{key}:extension"] = move(working(), worker, "request_extension", days=1, reason="复杂")
        step1 = move(working(), worker, "submit_for_approval", result="已核实")
        tasks[f"{key}:approval_step1"] = step1
        step2 = move(move(working(), worker, "submit_for_approval", result="已核实"), first_approver, "approve")
        assert step2.state == S.AWAITING_APPROVAL
        tasks[f"{key}:approval_step2"] = step2
        done = move(move(move(working(), worker, "submit_for_approval", result="已核实"), first_approver, "approve"),
                    final_approver, "approve")  # fmt: skip
        assert done.state == S.DONE
        tasks[f"{key}:done"] = done
        city = move(fresh("assisted"), clerk, "transfer")
        tasks[f"{key}:city_queued"] = city
    tasks["A:city_assigned"] = move(
        move(fresh_city(org, items, branches["A"]), org.clerk, "transfer"), org.member, "assign"
    )
    people = [value for value in vars(org).values() if isinstance(value, Staff)] + [lead, clerk2, deputy]
    return people, tasks


def fresh_city(org, items, branch) -> Task:
    taxpayer, hall, clerk, *_rest = branch
    case = services.case_open(
        actor=clerk,
        taxpayer=taxpayer.credit_code,
        channel="hall_window",
        hall=hall.code,
        items=[services.RequestedItem(item=items["assisted"].code)],
    )
    return case.tasks.get()


# --- the oracle: the facts, read by the test ----------------------------------------------------

WORK = {"accept", "complete", "submit_for_approval", "request_materials", "receive_materials", "handle_on_spot"}


def role_of(staff: Staff) -> str:
    def read() -> str:
        (role,) = staff.roles
        return role

    return _once("role", staff.pk, read)


# Facts read once per staff member or task (the test's own queries), keyed by id.
_FACTS: dict[tuple[str, int], object] = {}


def _once(kind: str, pk: int, read):
    if (kind, pk) not in _FACTS:
        _FACTS[kind, pk] = read()
    return _FACTS[kind, pk]


@pytest.fixture(autouse=True)
def _fresh_facts():
    _FACTS.clear()
    yield
    _FACTS.clear()


def team_ids(staff: Staff) -> set[int]:
    return _once("teams", staff.pk, lambda: set(Team.objects.filter(members=staff).values_list("pk", flat=True)))


def scope(staff: Staff) -> set[int]:
    def read() -> set[int]:
        home = staff.home_branch
        ids = {home.pk}
        if home.kind != Branch.Kind.HALL:
            ids |= set(Branch.objects.filter(parent=home).values_list("pk", flat=True))
        return ids

    return _once("scope", staff.pk, read)


def is_city(staff: Staff) -> bool:
    return staff.home_branch.kind == Branch.Kind.CITY


def sees(staff: Staff, task: Task) -> bool:
    if role_of(staff) in {Role.COORDINATOR, Role.ADMIN, Role.QUALITY_INSPECTOR} or is_city(staff):
        return True
    mine, branches = team_ids(staff), scope(staff)
    case = task.case
    return (
        task.assignee_id == staff.pk
        or task.team_id in mine
        or (task.team is not None and task.team.branch_id in branches)
        or (case is not None and (case.hall_id in branches or case.accepted_by_id == staff.pk))
        or (case is not None and case.accepted_by is not None and case.accepted_by.home_branch_id in branches)
    )


def in_scope(staff: Staff, task: Task) -> bool:
    """Sees it and may act on it: a city-bureau member only on their teams' work or what they hold."""
    if role_of(staff) in {Role.COORDINATOR, Role.ADMIN}:
        return True
    if is_city(staff):
        return task.assignee_id == staff.pk or task.team_id in team_ids(staff)
    return sees(staff, task)


def log(task: Task) -> list:
    return _once("log", task.pk, lambda: list(task.transitions.order_by("at", "pk")))


def approval_step(task: Task) -> int:
    """The step the next decision takes: counted in the current round (1 outside one)."""
    if task.state != S.AWAITING_APPROVAL:
        return 1
    rows = log(task)
    start = max((i for i, row in enumerate(rows) if row.transition == "submit_for_approval"), default=-1)
    return 1 + sum(1 for row in rows[start + 1 :] if row.transition == "approve")


def handled(staff: Staff, task: Task) -> bool:
    held = _once(
        "held", task.pk, lambda: set(TaskAssignment.objects.filter(task=task).values_list("staff_id", flat=True))
    )
    if task.assignee_id == staff.pk or staff.pk in held:
        return True
    rows = log(task)
    start = max((i for i, row in enumerate(rows) if row.transition == "submit_for_approval"), default=0)
    return any(
        row.actor_id == staff.pk and (row.transition in WORK or (row.transition == "approve" and i > start))
        for i, row in enumerate(rows)
    )


def chiefs_for(staff: Staff) -> list[Staff]:
    def read() -> list[Staff]:
        now = timezone.now()
        rows = Delegation.objects.filter(deputy=staff, revoked_at=None, starts_at__lte=now, ends_at__gt=now)
        return [row.chief for row in rows if Role.BRANCH_CHIEF in row.chief.roles]

    return _once("chiefs", staff.pk, read)


def holds(relation: str, staff: Staff, task: Task, action: str) -> bool:
    team = task.team
    facts = {
        authz.ANY: lambda: True,
        authz.VISIBLE: lambda: in_scope(staff, task),
        authz.HOLDER: lambda: task.assignee_id == staff.pk,
        authz.HOLDER_OR_FREE: lambda: task.assignee_id in (None, staff.pk),
        authz.HOLDABLE: lambda: staff.on_duty
        and (team is None or team.kind == Team.Kind.COORDINATION_POST or team.pk in team_ids(staff)),
        authz.OWN_TEAM: lambda: task.team_id in team_ids(staff),
        authz.AT_COUNTER: lambda: task.state == S.RECEIVED,
        authz.EARLY_STEP: lambda: approval_step(task) < task.item.approval_levels,
        authz.FINAL_STEP: lambda: approval_step(task) >= task.item.approval_levels,
        authz.NOT_HANDLED: lambda: not handled(staff, task),
        authz.DEPUTY: lambda: any(
            expected(chief, task, action, deputies=False) and not handled(chief, task) for chief in chiefs_for(staff)
        ),
    }
    return facts[relation]()


def expected(staff: Staff, task: Task, action: str, *, deputies: bool = True) -> bool:
    cell = authz.row(action).cells[role_of(staff)]
    return any(
        all(holds(relation, staff, task, action) for relation in relations)
        for relations in cell
        if deputies or authz.DEPUTY not in relations
    )


# --- the transitions ---------------------------------------------------------------------------


def test_every_account_against_every_transition_on_every_task_answers_as_the_matrix(world):
    people, tasks = world
    checked = admitted = 0
    staff_rows = list(
        Staff.objects.filter(pk__in=[person.pk for person in people])
        .select_related("home_branch", "user")
        .prefetch_related("role_rows", "teams")
    )
    for key, task in tasks.items():
        fresh = (
            Task.objects.select_related("team", "item", "case__accepted_by")
            .prefetch_related(*selectors.DECISION_PREFETCH)
            .get(pk=task.pk)
        )
        for staff in staff_rows:
            offered = set(selectors.allowed_transitions(staff=staff, task=fresh))
            for name in TRANSITIONS:
                want = expected(staff, fresh, name)
                got = policy.transition_denial(staff, fresh, name) is None
                assert got == want, (key, staff.user.username, name, "policy allows" if got else "policy refuses")
                assert (name in offered) == (want and can_proceed(method_of(fresh, name))), (key, staff.name, name)
                checked += 1
                admitted += want
    assert checked > 5000 and 0 < admitted < checked


# --- the pages and the API --------------------------------------------------------------------


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def _page_rule(func) -> tuple[bool, access.Rule | None]:
    """Whether the view is a `staff_page`, and its rule: read from the decorator's closure."""
    stack, seen = [func], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if getattr(current, "__qualname__", "").startswith("staff_page."):
            cells = dict(
                zip(current.__code__.co_freevars, (cell.cell_contents for cell in current.__closure__), strict=False)
            )
            return True, cells["rule"]
        for cell in getattr(current, "__closure__", None) or ():
            if callable(cell.cell_contents):
                stack.append(cell.cell_contents)
        if getattr(current, "__wrapped__", None) is not None:
            stack.append(current.__wrapped__)
    return False, None


def _api_rules(func) -> list[access.Rule] | None:
    """The named rules a DRF view's permission classes ask (None: not a DRF view)."""
    cls = getattr(func, "cls", None)
    if cls is None:
        return None
    by_name = {f"Requires_{rule.name}": rule for rule in authz.ALL_RULES}
    return [by_name[permission.__name__] for permission in cls.permission_classes if permission.__name__ in by_name]


def _routes():
    pages, endpoints = [], []
    for raw, pattern in _walk(get_resolver().url_patterns):
        route = raw.replace("^", "").replace("$", "")  # the API router's patterns are regular expressions
        if any(mark in route for mark in ("<", "(?P", "\\", "[")):
            continue
        if route.startswith("api/v1/"):
            rules = _api_rules(pattern.callback)
            if rules is not None and "get" in [m.lower() for m in pattern.callback.cls.http_method_names]:
                endpoints.append(("/" + route, rules))
        else:
            is_page, rule = _page_rule(pattern.callback)
            if is_page:
                pages.append(("/" + route, rule))
    return pages, endpoints


def admitted(staff: Staff, rule: access.Rule) -> bool:
    """The matrix's cell for the rule and the staff member's roles, by the test's facts."""
    kinds = set(Team.objects.filter(members=staff).values_list("kind", flat=True))
    facts = {
        authz.ANY: True,
        authz.GRID_MEMBER: Team.Kind.GRID in kinds,
        authz.DESK_TEAM: Team.Kind.COORDINATION in kinds,
        authz.DEPUTY: bool(chiefs_for(staff)),
    }
    cells = authz.row(rule.name).cells
    return any(all(facts[relation] for relation in relations) for role in staff.roles for relations in cells[role])


@pytest.fixture
def accounts(org):
    lead = StaffFactory(user__username="lead", home_branch=org.source, roles=[Role.TEAM_LEAD], teams=[org.basic])
    deputy = StaffFactory(user__username="deputy", home_branch=org.source, roles=[Role.TEAM_MEMBER], teams=[org.basic])
    now = timezone.now()
    Delegation.objects.create(
        chief=org.chief,
        deputy=deputy,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=2),
        reason="出差",
        created_by=org.chief,
    )
    return [
        org.clerk, org.coordinator, org.member, org.back_member, org.expert, lead,
        org.chief, org.inspector, org.admin, org.integrator, deputy,
    ]  # fmt: skip


def test_every_page_and_api_list_answers_every_account_as_the_matrix(client, accounts):
    pages, endpoints = _routes()
    assert len(pages) > 20 and len(endpoints) > 10
    # GET only: a POST-only page answers 405 before anything else.
    pages = [(url, rule) for url, rule in pages if client.get(url).status_code != 405]
    for url, _rule in pages:
        assert client.get(url).status_code == 302, url  # anonymous: to the sign-in page
    anonymous = APIClient()
    for url, _rules in endpoints:
        assert anonymous.get(url).status_code == 401, url
    wrong = []
    for staff in accounts:
        client.force_login(staff.user)
        api = APIClient()
        api.force_authenticate(staff.user)
        for url, rule in pages:
            status = client.get(url).status_code
            want = Role.INTEGRATOR not in staff.roles and (rule is None or admitted(staff, rule))
            if (status == 403) == want or status >= 500:
                wrong.append(("page", url, staff.user.username, status, "admitted" if want else "refused"))
        # Endpoints whose view checks a rule in its body (no `requires(rule)`) are not read here.
        for url, rules in endpoints:
            status = api.get(url).status_code
            if not rules:
                if status >= 500:
                    wrong.append(("api", url, staff.user.username, status, "server error"))
                continue
            want = all(admitted(staff, rule) for rule in rules)
            if (status == 403) == want or status >= 500:
                wrong.append(("api", url, staff.user.username, status, "admitted" if want else "refused"))
    assert not wrong, "\n".join(map(str, wrong))


def test_another_branchs_task_and_case_are_404_on_the_page_and_in_the_api_alike(client, org, items, accounts):
    """Visible: 200 on both; not visible: 404 on both, never 403 (existence does not leak)."""
    clerk2 = StaffFactory(user__username="clerk2", home_branch=org.hall2, roles=[Role.CLERK])
    opened = []
    for taxpayer, hall, clerk in (
        (TaxpayerFactory(competent_branch=org.source), org.hall, org.clerk),
        (TaxpayerFactory(competent_branch=org.source2), org.hall2, clerk2),
    ):
        case = services.case_open(
            actor=clerk,
            taxpayer=taxpayer.credit_code,
            channel="hall_window",
            hall=hall.code,
            items=[services.RequestedItem(item=items["joint"].code)],
        )
        task = services.task_transition(task_id=case.tasks.get().pk, actor=clerk, name="transfer")
        opened.append((case, Task.objects.select_related("team", "case__accepted_by").get(pk=task.pk)))
    anonymous = APIClient()
    for _case, task in opened:
        assert client.get(f"/tasks/{task.pk}/").status_code == 302
        assert anonymous.get(f"/api/v1/tasks/{task.pk}/").status_code == 401
    hidden = 0
    for staff in [*accounts, clerk2]:
        client.force_login(staff.user)
        api = APIClient()
        api.force_authenticate(staff.user)
        for case, task in opened:
            want = 200 if sees(staff, task) else 404
            hidden += want == 404
            answers = {
                "task api": api.get(f"/api/v1/tasks/{task.pk}/").status_code,
                "case api": api.get(f"/api/v1/cases/{case.pk}/").status_code,
            }
            if Role.INTEGRATOR not in staff.roles:
                answers["task page"] = client.get(f"/tasks/{task.pk}/").status_code
                answers["case page"] = client.get(f"/cases/{case.pk}/").status_code
            assert set(answers.values()) == {want}, (staff.user.username, task.team.code, answers)
    assert hidden >= 4  # each branch's chief and clerk do not see the other's
