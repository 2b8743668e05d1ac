"""The dispatch pipeline: filters narrow a team to eligible people, then a chooser picks one.

`load_context` reads, in a fixed handful of queries, everything a batch of tasks needs;
`evaluate` is then pure Python per task, so a batch of hundreds costs the same few
queries as a batch of one. `choose` is a pure function of the stored inputs, so
`replay(decision)` gives the same assignee for any recorded decision.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from taxservice.cases.models import Task, TaskAssignment, TaskState
from taxservice.org.models import Role, Staff
from taxservice.routing.models import Chooser, DispatchDecision, StaffConflict, StaffLeave

# States in which a task counts against its assignee's capacity.
LOAD_STATES = [TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.AWAITING_MATERIALS, TaskState.AWAITING_APPROVAL]
HANDLING_ROLES = (Role.TEAM_MEMBER, Role.EXPERT)


@dataclass
class PipelineResult:
    candidates: list[int]
    removed: list[dict] = field(default_factory=list)
    eligible: list[int] = field(default_factory=list)
    loads: dict[str, int] = field(default_factory=dict)
    chooser: str = Chooser.RANDOM
    chooser_state: dict = field(default_factory=dict)
    seed: int | None = None
    chosen_id: int | None = None


@dataclass
class BatchContext:
    """What the filters need for a batch of tasks, loaded once. Updated as choices are made."""

    now: dt.datetime
    in_hours: bool
    members: dict[int, list[Staff]]  # team id -> members in pk order
    leaves: dict[int, dt.date]  # staff id -> last day of the current leave
    loads: dict[int, int]  # staff id -> open tasks
    conflicts: dict[tuple[int, int], str]  # (staff id, taxpayer id) -> reason
    last_handler: dict[tuple[int, int], int]  # (taxpayer id, item id) -> staff id
    round_robin: dict[int, int | None]  # team id -> last chosen staff id

    def record_choice(self, *, task: Task, staff_id: int) -> None:
        self.loads[staff_id] = self.loads.get(staff_id, 0) + 1
        self.last_handler[(task.taxpayer_id, task.item_id)] = staff_id
        self.round_robin[task.team_id] = staff_id


def working_hours() -> tuple[dt.time, dt.time] | None:
    """TAXSERVICE_WORKING_HOURS, e.g. "08:30-17:30"; empty means staff on duty are always available."""
    raw = getattr(settings, "TAXSERVICE_WORKING_HOURS", "")
    if not raw:
        return None
    start, end = raw.split("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


def within_working_hours(now: dt.datetime) -> bool:
    hours = working_hours()
    if hours is None:
        return True
    local = timezone.localtime(now)
    return local.weekday() < 5 and hours[0] <= local.time() < hours[1]


def staff_loads(staff_ids) -> dict[int, int]:  # noqa: ANN001 - any iterable of ids
    staff_ids = list(staff_ids)
    rows = (
        Task.objects.filter(assignee_id__in=staff_ids, state__in=LOAD_STATES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    loads = dict.fromkeys(staff_ids, 0)
    loads.update({row["assignee_id"]: row["n"] for row in rows})
    return loads


def load_context(*, tasks: list[Task], now: dt.datetime, need_round_robin: bool = True) -> BatchContext:
    team_ids = {task.team_id for task in tasks}
    members: dict[int, list[Staff]] = defaultdict(list)
    staff_by_id: dict[int, Staff] = {}
    through = Staff.teams.through.objects.filter(team_id__in=team_ids).values_list("team_id", "staff_id")
    pairs = list(through)
    for staff in Staff.objects.filter(pk__in={s for _, s in pairs}).prefetch_related("role_rows"):
        staff_by_id[staff.pk] = staff
    for team_id, staff_id in sorted(pairs, key=lambda pair: pair[1]):
        members[team_id].append(staff_by_id[staff_id])
    staff_ids = set(staff_by_id)
    today = timezone.localdate(now)
    leaves = dict(
        StaffLeave.objects.filter(staff_id__in=staff_ids, starts_on__lte=today, ends_on__gte=today).values_list(
            "staff_id", "ends_on"
        )
    )
    taxpayer_ids = {task.taxpayer_id for task in tasks}
    conflicts = {
        (staff_id, taxpayer_id): reason
        for staff_id, taxpayer_id, reason in StaffConflict.objects.filter(
            taxpayer_id__in=taxpayer_ids, staff_id__in=staff_ids
        ).values_list("staff_id", "taxpayer_id", "reason")
    }
    last_handler = last_handlers(tasks)
    round_robin: dict[int, int | None] = dict.fromkeys(team_ids)
    if need_round_robin:
        round_robin.update(_last_choices(team_ids))
    return BatchContext(
        now=now,
        in_hours=within_working_hours(now),
        members=dict(members),
        leaves=leaves,
        loads=staff_loads(staff_ids),
        conflicts=conflicts,
        last_handler=last_handler,
        round_robin=round_robin,
    )


def last_handlers(tasks: list[Task]) -> dict[tuple[int, int], int]:
    """Who last held each (taxpayer, item) of the batch, other than the batch's own tasks.

    One query joined to a VALUES list, so it walks the (taxpayer, item) index rather
    than an OR of hundreds of conditions.
    """
    pairs = sorted({(task.taxpayer_id, task.item_id) for task in tasks})
    if not pairs:
        return {}
    task_table = Task._meta.db_table
    assignment_table = TaskAssignment._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(pairs))
    batch_ids = [task.pk for task in tasks]
    sql = (
        f"SELECT t.taxpayer_id, t.item_id, a.staff_id FROM {assignment_table} a "  # noqa: S608 - table names are ours
        f"JOIN {task_table} t ON t.id = a.task_id "
        f"JOIN (VALUES {values}) AS v ON t.taxpayer_id = v.column1 AND t.item_id = v.column2 "
        f"WHERE a.task_id NOT IN ({', '.join(['%s'] * len(batch_ids))}) "
        "ORDER BY a.assigned_at, a.id"
    )
    params = [value for pair in pairs for value in pair] + batch_ids
    handlers: dict[tuple[int, int], int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for taxpayer_id, item_id, staff_id in cursor.fetchall():
            handlers[(taxpayer_id, item_id)] = staff_id  # the latest wins
    return handlers


def _last_choices(team_ids) -> list[tuple[int, int]]:  # noqa: ANN001
    rows = []
    for team_id in team_ids:
        chosen = (
            DispatchDecision.objects.filter(team_id=team_id, chosen__isnull=False)
            .order_by("-at", "-id")
            .values_list("chosen_id", flat=True)
            .first()
        )
        if chosen is not None:
            rows.append((team_id, chosen))
    return rows


def evaluate(
    *, task: Task, filters: list[str], chooser: str, seed: int | None, ctx: BatchContext
) -> PipelineResult:
    """Run the filters and the chooser for one task against the batch context. No queries."""
    members = ctx.members.get(task.team_id, [])
    state = {"last": ctx.round_robin.get(task.team_id)} if chooser == Chooser.ROUND_ROBIN else {}
    result = PipelineResult(candidates=[m.pk for m in members], chooser=chooser, seed=seed, chooser_state=state)
    alive = members

    def keep(predicate, filter_name: str, reason_of) -> None:  # noqa: ANN001
        nonlocal alive
        kept = []
        for staff in alive:
            if predicate(staff):
                kept.append(staff)
            else:
                result.removed.append(
                    {"staff": staff.pk, "name": staff.name, "filter": filter_name, "reason": reason_of(staff)}
                )
        alive = kept

    if "membership" in filters:
        keep(lambda s: s.has_role(*HANDLING_ROLES), "membership", lambda s: "no handling role in the team")
    if "on_duty" in filters:
        keep(lambda s: s.on_duty, "on_duty", lambda s: "not on duty")
        keep(lambda s: s.pk not in ctx.leaves, "on_duty", lambda s: f"on leave until {ctx.leaves[s.pk]}")
        keep(lambda s: ctx.in_hours, "on_duty", lambda s: "outside working hours")
    if "capacity" in filters:
        keep(
            lambda s: ctx.loads.get(s.pk, 0) < s.capacity,
            "capacity",
            lambda s: f"at capacity ({ctx.loads.get(s.pk, 0)}/{s.capacity})",
        )
    if "conflict" in filters:
        keep(
            lambda s: (s.pk, task.taxpayer_id) not in ctx.conflicts,
            "conflict",
            lambda s: f"conflict of interest: {ctx.conflicts[(s.pk, task.taxpayer_id)]}",
        )
    if "rotation" in filters and len(alive) > 1:
        last = ctx.last_handler.get((task.taxpayer_id, task.item_id))
        if last is not None and any(s.pk != last for s in alive):
            keep(lambda s: s.pk != last, "rotation", lambda s: "handled this taxpayer's item last time")
    result.eligible = [s.pk for s in alive]
    result.loads = {str(s.pk): ctx.loads.get(s.pk, 0) for s in alive}
    result.chosen_id = choose(chooser=chooser, eligible=result.eligible, loads=result.loads, seed=seed, state=state)
    return result


def choose(*, chooser: str, eligible: list[int], loads: dict[str, int], seed: int | None, state: dict) -> int | None:
    """Pick one of `eligible` (staff ids in ascending order). Deterministic in its inputs."""
    if not eligible:
        return None
    if chooser == Chooser.LEAST_LOADED:
        return min(eligible, key=lambda pk: (loads.get(str(pk), 0), pk))
    if chooser == Chooser.ROUND_ROBIN:
        last = state.get("last")
        after = [pk for pk in eligible if last is None or pk > last]
        return (after or eligible)[0]
    return random.Random(seed).choice(eligible)  # noqa: S311 - fairness, not secrecy


def replay(decision: DispatchDecision) -> int | None:
    """The assignee the recorded inputs give: equal to `decision.chosen_id` for any honest record."""
    return choose(
        chooser=decision.chooser,
        eligible=list(decision.eligible),
        loads=dict(decision.loads),
        seed=decision.seed,
        state=dict(decision.chooser_state),
    )


