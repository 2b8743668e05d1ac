"""A deterministic demo city: organisation, staff, taxpayers and cases with real histories.

`demo_build(seed=...)` builds the whole city from one seed. Every random choice goes
through one `random.Random(seed)`, never the global generator, and every list it draws
from has a fixed order, so the same seed gives the same data (only the timestamps move
with the clock, since histories end "now").

Cases and tasks are written only through the services (`case_open`, `task_transition`,
and the robot's `task_dispatch` for tasks screening marks for auto-dispatch, with a seed
drawn from the demo's generator) with actors the policy allows, so the demo exercises
the same rules as the product. Afterwards the timestamps of each history are spread
over the last eight weeks on a working-hours clock, with bulk updates of the demo's own
rows (the transition log refuses `save()` on existing rows by design; re-dating a
freshly built demo history is the one exception). Rows that hang off a task with a
timestamp of their own (assignments, dispatch decisions, hub alerts, notifications)
are moved along with the history they belong to.

This module is the entry point (build, list the logins, reset); the pieces live beside
it: `organisation`, `taxpayers`, `cases` (with `scenarios`), `histories` (with `clock`).
The management command `seed_demo` is a thin wrapper around this module.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import ProtectedError, Q, RestrictedError

from taxservice.audit import AppendOnly
from taxservice.changes.models import ChangeLog
from taxservice.org.models import Branch, Staff, Team
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases.models import (
    Case,
    CaseTransition,
    Notification,
    Task,
    TaskIntake,
    TaskState,
    TaskTransition,
)
from taxservice.workflow.ladder.models import Escalation
from taxservice.workflow.ladder.services import ladder_scan
from taxservice.workflow.routing.models import RobotSettings, RoutingRule, RoutingRuleChange

from .back_office import USERNAMES as BACK_OFFICE_USERNAMES
from .back_office import build_back_office, delete_demo_back_office, detach_demo_subtasks
from .cases import CaseBuilder
from .classification import classify_demo_taxpayers, delete_demo_classification
from .fieldchecks import build_field_checks, delete_demo_field_checks
from .grids import build_grid_tasks, build_grids, delete_demo_grids
from .histories import Timeline, date_notifications
from .nearby import build_nearby_work, build_service_points, delete_demo_nearby, delete_demo_points
from .organisation import BRANCH_CODES, CITY, TEAM_CODES, USERNAMES, build_organisation
from .quality import build_quality, delete_demo_quality
from .taxpayers import build_taxpayers

DEFAULT_SEED = 2026
DEFAULT_TAXPAYERS = 2000
DEFAULT_CASES = 300

Progress = Callable[[str, int, int], None]


@dataclass
class Login:
    username: str
    roles: list[str]
    name: str
    home_branch: str
    on_duty: bool


@dataclass
class DemoSummary:
    taxpayers: int = 0
    cases: int = 0
    tasks: int = 0
    transitions: int = 0
    robot_dispatched: int = 0
    states: dict[str, int] = field(default_factory=dict)


class DemoResetError(RuntimeError):
    """Something outside the demo still refers to demo data, so it cannot be deleted."""


def demo_exists() -> bool:
    """Whether a demo city is already there (its city bureau or any demo login)."""
    return Branch.objects.filter(code=CITY).exists() or get_user_model().objects.filter(username__in=USERNAMES).exists()


def demo_logins() -> list[Login]:
    usernames = [*USERNAMES, *BACK_OFFICE_USERNAMES]
    staff = (
        Staff.objects.filter(user__username__in=usernames)
        .select_related("user", "home_branch")
        .prefetch_related("role_rows")
    )
    by_username = {member.user.username: member for member in staff}
    logins = []
    for username in usernames:  # the builder's order: admin first, then by office; the back office's last
        member = by_username.get(username)
        if member is not None:
            logins.append(Login(username, sorted(member.roles), member.name, member.home_branch.name, member.on_duty))
    return logins


def demo_reset() -> None:
    """Delete the demo city and everything that hangs off it (cases, tasks, logs, users).

    Raises DemoResetError, deleting nothing, when data outside the demo still refers to it.
    """
    try:
        with transaction.atomic():
            _delete_demo()
    except (ProtectedError, RestrictedError) as exc:
        blocking = sorted({f"{obj._meta.label} #{obj.pk}" for obj in list(exc.args[1])[:10]})
        raise DemoResetError(
            "Data outside the demo still refers to it; remove it first: " + ", ".join(blocking)
        ) from None


def _delete_demo() -> None:
    branches = list(Branch.objects.filter(code__in=BRANCH_CODES).values_list("pk", flat=True))
    teams = list(
        Team.objects.filter(Q(code__in=TEAM_CODES) | Q(branch__in=branches) | Q(home_branch__in=branches)).values_list(
            "pk", flat=True
        )
    )
    staff = list(
        Staff.objects.filter(Q(user__username__in=USERNAMES) | Q(home_branch__in=branches)).values_list("pk", flat=True)
    )
    taxpayers = list(Taxpayer.objects.filter(competent_branch__in=branches).values_list("pk", flat=True))
    # Every task that touches the demo, and whole cases around them.
    touching = Task.objects.filter(
        Q(case__hall__in=branches)
        | Q(case__accepted_by__in=staff)
        | Q(taxpayer__in=taxpayers)
        | Q(team__in=teams)
        | Q(assignee__in=staff)
        | Q(transitions__actor__in=staff)
    )
    case_ids = set(
        Case.objects.filter(Q(hall__in=branches) | Q(taxpayer__in=taxpayers) | Q(accepted_by__in=staff)).values_list(
            "pk", flat=True
        )
    )
    case_ids.update(pk for pk in touching.values_list("case_id", flat=True) if pk is not None)
    task_ids = set(touching.values_list("pk", flat=True))
    task_ids.update(Task.objects.filter(case_id__in=case_ids).values_list("pk", flat=True))

    delete_demo_nearby(branches=branches, staff=staff, taxpayers=taxpayers)
    delete_demo_field_checks(task_ids=task_ids)  # before the tasks and the history rows they point at
    delete_demo_quality(task_ids=task_ids, case_ids=case_ids)  # before the tasks and cases it rates
    TaskIntake.objects.filter(task_id__in=task_ids).delete()
    Escalation.objects.filter(task_id__in=task_ids).delete()  # before the history rows they point at
    Notification.objects.filter(Q(task_id__in=task_ids) | Q(recipient__in=staff)).delete()
    # A queryset delete never calls TaskTransition.delete() or CaseTransition.delete():
    # dropping whole demo histories together with their tasks and cases is the one
    # sanctioned way to remove log rows.
    AppendOnly.purge(TaskTransition.objects.filter(task_id__in=task_ids))
    detach_demo_subtasks(task_ids=task_ids)  # Task.parent protects: sub-tasks go with their parents
    Task.objects.filter(pk__in=task_ids).delete()  # assignments, decisions and alerts cascade
    AppendOnly.purge(CaseTransition.objects.filter(case_id__in=case_ids))
    Case.objects.filter(pk__in=case_ids).delete()
    delete_demo_points(branches=branches)
    delete_demo_grids(branches=branches, taxpayers=taxpayers, staff=staff)
    delete_demo_classification(taxpayers=taxpayers)
    delete_demo_back_office(staff=staff)  # declarations, delegations, the department
    Taxpayer.objects.filter(pk__in=taxpayers).delete()
    # Configuration survives the demo; only its "changed by" forgets the demo logins.
    RoutingRule.objects.filter(updated_by__in=staff).update(updated_by=None)
    RoutingRuleChange.objects.filter(changed_by__in=staff).update(changed_by=None)
    RobotSettings.objects.filter(changed_by__in=staff).update(changed_by=None)
    # The change log's rows by demo logins go with them (as the owner: docs/audit.md).
    AppendOnly.purge(ChangeLog.objects.filter(actor__in=staff))
    user_ids = list(Staff.objects.filter(pk__in=staff).values_list("user_id", flat=True))
    Staff.objects.filter(pk__in=staff).delete()
    get_user_model().objects.filter(Q(pk__in=user_ids) | Q(username__in=USERNAMES)).delete()
    Team.objects.filter(pk__in=teams).delete()
    Branch.objects.filter(pk__in=branches).update(home_hall=None)
    # Children before parents: the parent link protects.
    for code in reversed(BRANCH_CODES):
        Branch.objects.filter(code=code).delete()


def demo_build(
    *,
    seed: int = DEFAULT_SEED,
    taxpayers: int = DEFAULT_TAXPAYERS,
    cases: int = DEFAULT_CASES,
    progress: Progress | None = None,
) -> DemoSummary:
    """Build the demo city. Call on a database without demo data (see `demo_exists`)."""
    rng = random.Random(seed)
    report = progress or (lambda stage, done, total: None)
    with transaction.atomic():
        organisation = build_organisation()
        report("organisation", 1, 1)
        payers = build_taxpayers(rng, taxpayers, branches=organisation.branches)
        report("taxpayers", taxpayers, taxpayers)
        classify_demo_taxpayers(payers, seed=seed)  # kind, industry, scale, risk; graded by the rules
        grids = build_grids(seed=seed, organisation=organisation)  # streets, grids, groups; everyone in a grid
        points = build_service_points(organisation.branches)
        # The cases twice from the same generator state: first at the real time, to plan
        # where each history falls (rolled back), then each call at its planned time, so
        # every row is written with its time (histories.py; the audit rows are never re-dated).
        timeline, before = Timeline(), rng.getstate()
        first_pass = transaction.savepoint()
        case_ids = CaseBuilder(
            rng=rng,
            organisation=organisation,
            taxpayers=payers,
            progress=lambda done, total: report("cases", done, total),
            points=points,
            timeline=timeline,
        ).build(cases)
        timeline.plan(rng, case_ids)
        after = rng.getstate()
        transaction.savepoint_rollback(first_pass)
        rng.setstate(before)
        with timeline.replaying():
            case_ids = CaseBuilder(
                rng=rng,
                organisation=organisation,
                taxpayers=payers,
                progress=lambda done, total: None,
                points=points,
                timeline=timeline,
            ).build(cases)
        rng.setstate(after)
        report("timestamps", 1, 1)
        build_nearby_work(rng, organisation, case_ids)  # after the grids: visits, collected materials
        build_grid_tasks(rng=random.Random(seed), organisation=organisation, grids=grids)
        build_field_checks(random.Random(seed), case_ids)  # 实地核查 on open back-office tasks, with attachments
        build_quality(random.Random(seed), case_ids)  # ratings, return visits, a week's sample, rectifications
        build_back_office(random.Random(seed), organisation, case_ids)  # leads, deputy, department, 回避, sub-tasks
    # Follow-up work runs on commit (notifications; the robot finds nothing left to
    # dispatch), so notifications are dated afterwards.
    date_notifications(rng, case_ids)
    # The escalation ladder's first scan over the demo's open work: reminders, 催办, 督办 and
    # the 通报 list, as beat would send them now (the product's own scan).
    ladder_scan()
    report("ladder", 1, 1)
    return _summary(taxpayers=len(payers), case_ids=case_ids)


def _summary(*, taxpayers: int, case_ids: list[int]) -> DemoSummary:
    tasks = Task.objects.filter(case_id__in=case_ids)
    states = dict.fromkeys(TaskState.values, 0)
    for state in tasks.values_list("state", flat=True):
        states[state] += 1
    logs = TaskTransition.objects.filter(task__in=tasks)
    return DemoSummary(
        taxpayers=taxpayers,
        cases=len(case_ids),
        tasks=tasks.count(),
        transitions=logs.count(),
        robot_dispatched=logs.filter(transition="assign", actor__isnull=True).count(),
        states=states,
    )
