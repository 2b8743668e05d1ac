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
from django.utils import timezone

from taxservice import access
from taxservice.org.models import Staff, StaffRole
from taxservice.workdays.calendar import WorkCalendar
from taxservice.workflow import sql
from taxservice.workflow.cases.models import Task, TaskState
from taxservice.workflow.routing.models import Chooser, DispatchDecision, StaffConflict, StaffLeave

# States in which a task counts against its assignee's capacity.
LOAD_STATES = [TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.AWAITING_MATERIALS, TaskState.AWAITING_APPROVAL]


@dataclass(slots=True)
class TaskRef:
    """What the pipeline needs of a queued task. The robot reads these, not model instances."""

    id: int
    team_id: int
    taxpayer_id: int
    item_id: int
    source: str
    classification: str  # of the taxpayer: with `grade`, what the rules match on
    grade: str
    competent_branch_id: int
    has_open_alert: bool

    # Names for Task.objects.values_list, in field order.
    FIELDS = (
        "id",
        "team_id",
        "taxpayer_id",
        "item_id",
        "source",
        "taxpayer__classification",
        "taxpayer__grade",
        "taxpayer__competent_branch_id",
        "has_open_alert",
    )

    @classmethod
    def of(cls, task: Task) -> TaskRef:
        taxpayer = task.taxpayer
        return cls(
            task.pk,
            task.team_id,
            task.taxpayer_id,
            task.item_id,
            task.source,
            taxpayer.classification,
            taxpayer.grade,
            taxpayer.competent_branch_id,
            task.has_open_alert,
        )


def task_refs(queryset) -> list[TaskRef]:
    return [TaskRef(*row) for row in queryset.values_list(*TaskRef.FIELDS)]


@dataclass(slots=True)
class Member:
    """A team member as the filters see them."""

    pk: int
    name: str
    on_duty: bool
    capacity: int
    handling: bool  # holds a handling role (team member or expert)
    key: str = ""  # str(pk): the key of the decision record's `loads`

    def __post_init__(self) -> None:
        self.key = str(self.pk)


# Why a filter removed someone: a code, with the values the sentence needs. The screens
# turn these into sentences in the reader's language (taxservice/web/decisions.py).
REASON_NO_HANDLING_ROLE = "no_handling_role"
REASON_OFF_DUTY = "off_duty"
REASON_ON_LEAVE = "on_leave"
REASON_OUTSIDE_HOURS = "outside_hours"
REASON_AT_CAPACITY = "at_capacity"
REASON_CONFLICT = "conflict"
REASON_HANDLED_LAST = "handled_last"


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
    members: dict[int, list[Member]]  # team id -> members in pk order
    leaves: dict[int, dt.date]  # staff id -> last day of the current leave
    loads: dict[int, int]  # staff id -> open tasks
    conflicts: dict[tuple[int, int], str]  # (staff id, taxpayer id) -> reason
    last_handler: dict[tuple[int, int], int]  # (taxpayer id, item id) -> staff id
    round_robin: dict[int, int | None]  # team id -> last chosen staff id
    # (team id, filters) -> (removed by the filters that do not depend on the task, still in)
    _static: dict[tuple[int, tuple[str, ...]], tuple[list[dict], list[Member]]] = field(default_factory=dict)
    _candidates: dict[int, list[int]] = field(default_factory=dict)
    conflicted_taxpayers: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.conflicted_taxpayers = {taxpayer_id for _staff, taxpayer_id in self.conflicts}

    def record_choice(self, *, task: TaskRef, staff_id: int) -> None:
        self.loads[staff_id] = self.loads.get(staff_id, 0) + 1
        self.last_handler[(task.taxpayer_id, task.item_id)] = staff_id
        self.round_robin[task.team_id] = staff_id

    def candidates(self, team_id: int) -> list[int]:
        """The team's member ids in ascending order (one list per team, shared by its decisions)."""
        if team_id not in self._candidates:
            self._candidates[team_id] = [m.pk for m in self.members.get(team_id, [])]
        return self._candidates[team_id]

    def static_filters(self, team_id: int, filters: tuple[str, ...]) -> tuple[list[dict], list[Member]]:
        """Membership and duty do not depend on the task: worked out once per team and batch."""
        key = (team_id, filters)
        if key not in self._static:
            removed: list[dict] = []
            alive = self.members.get(team_id, [])

            def keep(filter_name: str, verdict) -> None:
                nonlocal alive
                kept = []
                for member in alive:
                    why = verdict(member)
                    if why is None:
                        kept.append(member)
                    else:
                        removed.append({"staff": member.pk, "filter": filter_name, **why})
                alive = kept

            if "membership" in filters:
                keep("membership", lambda m: None if m.handling else {"code": REASON_NO_HANDLING_ROLE})
            if "on_duty" in filters:
                keep("on_duty", lambda m: None if m.on_duty else {"code": REASON_OFF_DUTY})
                keep(
                    "on_duty",
                    lambda m: None
                    if m.pk not in self.leaves
                    else {"code": REASON_ON_LEAVE, "until": self.leaves[m.pk].isoformat()},
                )
                keep("on_duty", lambda m: None if self.in_hours else {"code": REASON_OUTSIDE_HOURS})
            self._static[key] = (removed, alive)
        return self._static[key]


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
    return WorkCalendar.load().is_working_day(local.date()) and hours[0] <= local.time() < hours[1]


def load_context(*, tasks: list[TaskRef], now: dt.datetime, need_round_robin: bool = True) -> BatchContext:
    team_ids = {task.team_id for task in tasks}
    pairs = list(Staff.teams.through.objects.filter(team_id__in=team_ids).values_list("team_id", "staff_id"))
    staff_ids = {staff_id for _team, staff_id in pairs}
    handling = set(
        StaffRole.objects.filter(staff_id__in=staff_ids, role__in=access.HANDLERS).values_list("staff_id", flat=True)
    )
    by_id: dict[int, Member] = {}
    loads: dict[int, int] = {}
    for pk, name, on_duty, capacity, open_tasks in Staff.objects.filter(pk__in=staff_ids).values_list(
        "pk", "name", "on_duty", "capacity", "open_tasks"
    ):
        by_id[pk] = Member(pk, name, on_duty, capacity, pk in handling)
        loads[pk] = open_tasks
    members: dict[int, list[Member]] = defaultdict(list)
    for team_id, staff_id in sorted(pairs, key=lambda pair: pair[1]):
        members[team_id].append(by_id[staff_id])
    today = timezone.localdate(now)
    leaves = dict(
        StaffLeave.objects.filter(
            staff_id__in=staff_ids, starts_on__lte=today, ends_on__gte=today, withdrawn_at__isnull=True
        ).values_list("staff_id", "ends_on")
    )
    taxpayer_ids = {task.taxpayer_id for task in tasks}
    conflicts = {
        (staff_id, taxpayer_id): reason
        for staff_id, taxpayer_id, reason in StaffConflict.objects.filter(
            taxpayer_id__in_ids=taxpayer_ids, staff_id__in=staff_ids, withdrawn_at__isnull=True
        ).values_list("staff_id", "taxpayer_id", "reason")
    }
    round_robin: dict[int, int | None] = dict.fromkeys(team_ids)
    if need_round_robin:
        round_robin.update(_last_choices(team_ids))
    return BatchContext(
        now=now,
        in_hours=within_working_hours(now),
        members=dict(members),
        leaves=leaves,
        loads=loads,
        conflicts=conflicts,
        last_handler=last_handlers(tasks),
        round_robin=round_robin,
    )


def last_handlers(tasks: list[TaskRef]) -> dict[tuple[int, int], int]:
    """Who last held each (taxpayer, item) of the batch, other than the batch's own tasks.

    The batch's own tasks are left out here, in Python, not by a `task_id <> ALL(…)`
    condition: with a thousand ids the planner cannot estimate that condition from
    statistics taken while the assignment table was small, and it then hashed every
    assignment ever written for each batch, a cost growing with the table (bench/README.md).
    """
    batch_ids = {task.id for task in tasks}
    handlers: dict[tuple[int, int], int] = {}
    for taxpayer_id, item_id, task_id, staff_id in sql.assignments_of_pairs(
        (task.taxpayer_id, task.item_id) for task in tasks
    ):
        if task_id not in batch_ids:
            handlers[(taxpayer_id, item_id)] = staff_id  # oldest first: the latest wins
    return handlers


def _last_choices(team_ids) -> list[tuple[int, int]]:
    rows = []
    for team_id in team_ids:
        chosen = (
            DispatchDecision.objects.filter(team_id=team_id, outcome=DispatchDecision.Outcome.ASSIGNED)
            .order_by("-at", "-id")
            .values_list("chosen_id", flat=True)
            .first()
        )
        if chosen is not None:
            rows.append((team_id, chosen))
    return rows


def evaluate(
    *, task: TaskRef, filters: tuple[str, ...], chooser: str, seed: int | None, ctx: BatchContext
) -> PipelineResult:
    """Run the filters and the chooser for one task against the batch context. No queries."""
    state = {"last": ctx.round_robin.get(task.team_id)} if chooser == Chooser.ROUND_ROBIN else {}
    static_removed, alive = ctx.static_filters(task.team_id, filters)
    removed = list(static_removed)
    result = PipelineResult(
        candidates=ctx.candidates(task.team_id), removed=removed, chooser=chooser, seed=seed, chooser_state=state
    )
    loads = ctx.loads
    at_capacity_filter = "capacity" in filters
    taxpayer_id = task.taxpayer_id
    conflicts = ctx.conflicts if "conflict" in filters and taxpayer_id in ctx.conflicted_taxpayers else None
    # One pass for the two filters that depend on the moment and the task: capacity, then
    # conflict of interest (someone both at capacity and conflicted is removed for capacity).
    kept: list[Member] = []
    record: dict[str, int] = {}  # the decision's loads: eligible staff id (as text) -> open tasks
    for m in alive:
        load = loads.get(m.pk, 0)
        if at_capacity_filter and load >= m.capacity:
            removed.append(
                {"staff": m.pk, "filter": "capacity", "code": REASON_AT_CAPACITY, "load": load, "capacity": m.capacity}
            )
            continue
        if conflicts is not None:
            why = conflicts.get((m.pk, taxpayer_id))
            if why is not None:
                removed.append({"staff": m.pk, "filter": "conflict", "code": REASON_CONFLICT, "reason": why})
                continue
        kept.append(m)
        record[m.key] = load
    alive = kept
    if "rotation" in filters and len(alive) > 1:
        last = ctx.last_handler.get((taxpayer_id, task.item_id))
        if last is not None and str(last) in record:
            removed.append({"staff": last, "filter": "rotation", "code": REASON_HANDLED_LAST})
            alive = [m for m in alive if m.pk != last]
            del record[str(last)]
    # Nobody removed: the eligible list is the team's shared candidate list (its JSON is
    # then encoded once per team and batch, services._dispatch_batch_locked).
    result.eligible = result.candidates if not removed else [m.pk for m in alive]
    result.loads = record
    if chooser == Chooser.LEAST_LOADED:
        result.chosen_id = least_loaded([(loads.get(m.pk, 0), m.pk) for m in alive])
    else:
        result.chosen_id = choose(chooser=chooser, eligible=result.eligible, loads=result.loads, seed=seed, state=state)
    return result


def least_loaded(pairs: list[tuple[int, int]]) -> int | None:
    """The id with the fewest open tasks, the lowest id on a tie: `pairs` are (load, id)."""
    return min(pairs)[1] if pairs else None


def choose(*, chooser: str, eligible: list[int], loads: dict[str, int], seed: int | None, state: dict) -> int | None:
    """Pick one of `eligible` (staff ids in ascending order). Deterministic in its inputs."""
    if not eligible:
        return None
    if chooser == Chooser.LEAST_LOADED:
        return least_loaded([(loads.get(str(pk), 0), pk) for pk in eligible])
    if chooser == Chooser.ROUND_ROBIN:
        last = state.get("last")
        after = [pk for pk in eligible if last is None or pk > last]
        return (after or eligible)[0]
    return random.Random(seed).choice(eligible)


def replay(decision: DispatchDecision) -> int | None:
    """The assignee the recorded inputs give: equal to `decision.chosen_id` for any honest record."""
    return choose(
        chooser=decision.chooser,
        eligible=list(decision.eligible),
        loads=dict(decision.loads),
        seed=decision.seed,
        state=dict(decision.chooser_state),
    )
