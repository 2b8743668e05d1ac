"""Placing the demo's histories over the last eight weeks, on a working-hours clock.

The cases are played through the services twice, from the same state of the generator.
The first pass runs at the real time, inside a savepoint, while a `Timeline` notes which
log rows each service call wrote; `Timeline.plan` then spreads every history over the
weeks (open work mostly recent, gaps drawn per kind of step) and the savepoint is rolled
back. The second pass plays the same calls again, each at its planned time on the demo's
clock (`clock.DemoClock`), so every row (log rows, assignments, dispatch decisions, hub
alerts, due times) is written with its time once. Nothing is re-dated afterwards: the
transition log is append-only, in Python and in the database (docs/audit.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from taxservice.workflow.cases.models import (
    OPEN_STATES,
    Case,
    CaseTransition,
    Notification,
    Task,
    TaskState,
    TaskTransition,
)

from .clock import DemoClock, advance, retreat, snap_forward, working_minutes

# Working-time gaps in minutes before each step, (low, high).
GAPS = {
    "handle_on_spot": (3, 25),
    "transfer": (2, 30),
    "assign_system": (0.05, 1),  # the robot dispatches within seconds
    "assign": (15, 600),
    "accept": (5, 240),
    "return": (30, 480),
    "reassign": (30, 600),
    "request_materials": (60, 960),
    "receive_materials": (240, 2700),
    "escalate": (60, 1080),
    "submit_for_approval": (120, 1620),
    "approve": (60, 1080),
    "reject": (60, 1080),
    "complete": (60, 1620),
    "give_feedback": (10, 540),
    "cancel": (10, 1080),
}
OPEN_FOR_RECENCY = {*OPEN_STATES, TaskState.DONE}


@dataclass
class _Call:
    """What one service call of the first pass wrote: (row pk, task pk) of its task log
    rows, and (case pk, closes the case) of its case log rows."""

    task_rows: list[tuple[int, int]] = field(default_factory=list)
    case_rows: list[tuple[int, bool]] = field(default_factory=list)


class Timeline:
    """Where each of the case builder's service calls falls in the demo history."""

    def __init__(self) -> None:
        self.clock = DemoClock()
        self.calls: list[_Call] = []
        self.times: list[dt.datetime] | None = None  # planned: the second pass replays
        self.replayed = 0

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """Wrap each service call of the builder: noted in the first pass, timed in the second."""
        if self.times is None:
            last_task_row = TaskTransition.objects.aggregate(m=Max("pk"))["m"] or 0
            last_case_row = CaseTransition.objects.aggregate(m=Max("pk"))["m"] or 0
            yield
            self.calls.append(
                _Call(
                    task_rows=list(
                        TaskTransition.objects.filter(pk__gt=last_task_row).order_by("pk").values_list("pk", "task_id")
                    ),
                    case_rows=[
                        (case_id, to_state == Case.State.CLOSED)
                        for case_id, to_state in CaseTransition.objects.filter(pk__gt=last_case_row)
                        .order_by("pk")
                        .values_list("case_id", "to_state")
                    ],
                )
            )
            return
        if self.replayed < len(self.times):
            self.clock.moment = self.times[self.replayed]
        self.replayed += 1
        yield

    @contextlib.contextmanager
    def replaying(self) -> Iterator[None]:
        """The second pass: the builder's calls run at their planned times."""
        if self.times is None:
            raise RuntimeError("Plan the timeline (first pass) before replaying it.")
        self.replayed = 0
        with self.clock.running():
            yield
        self.clock.moment = None
        if self.replayed != len(self.times):
            raise RuntimeError(
                f"The demo's second pass made {self.replayed} service calls, the first {len(self.times)}: "
                "the build is not repeatable."
            )

    def plan(self, rng: random.Random, case_ids: list[int]) -> None:
        """After the first pass: draw each history's place in the last eight weeks and give
        every noted call its time. Writes nothing."""
        row_at, created, closed = _spread(rng, case_ids)
        times: list[dt.datetime] = []
        last_of_task: dict[int, dt.datetime] = {}
        moment = timezone.now()
        for call in self.calls:
            if call.task_rows:
                moment = min(row_at[pk] for pk, _ in call.task_rows)
            elif call.case_rows:
                moment = created[call.case_rows[0][0]]
            for case_id, closes in call.case_rows:
                if closes and case_id in closed:
                    moment = max(moment, closed[case_id])
            for _, task_id in call.task_rows:  # a task's rows never go back in time
                moment = max(moment, last_of_task.get(task_id, moment))
            for _, task_id in call.task_rows:
                last_of_task[task_id] = moment
            times.append(moment)
        self.times = times


def _spread(
    rng: random.Random, case_ids: list[int]
) -> tuple[dict[int, dt.datetime], dict[int, dt.datetime], dict[int, dt.datetime]]:
    """Each first-pass log row's time in the demo history, and each case's opening and
    closing time. Reads the first pass's rows; writes nothing."""
    now = timezone.localtime(timezone.now()).replace(microsecond=0)
    cases = {c.pk: c for c in Case.objects.filter(pk__in=case_ids)}
    tasks = list(Task.objects.filter(case_id__in=case_ids).select_related("item").order_by("pk"))
    logs: dict[int, list[TaskTransition]] = {}
    for row in TaskTransition.objects.filter(task__case_id__in=case_ids).order_by("task_id", "at", "id"):
        logs.setdefault(row.task_id, []).append(row)
    by_case: dict[int, list[Task]] = {}
    for task in tasks:
        by_case.setdefault(task.case_id, []).append(task)

    row_at: dict[int, dt.datetime] = {}
    created: dict[int, dt.datetime] = {}
    closed: dict[int, dt.datetime] = {}
    for case_id in case_ids:
        case = cases[case_id]
        case_tasks = by_case.get(case_id, [])
        gaps = {task.pk: [_gap(rng, row) for row in logs[task.pk][1:]] for task in case_tasks}
        longest = max((sum(g) for g in gaps.values()), default=0.0)
        is_recent = any(task.state in OPEN_FOR_RECENCY for task in case_tasks)
        latest_end = now - dt.timedelta(minutes=rng.uniform(5, 180))
        earliest = now - dt.timedelta(days=9 if is_recent else 56)
        available = working_minutes(earliest, latest_end)
        if longest > available * 0.9:
            scale = available * 0.9 / longest
            gaps = {pk: [g * scale for g in values] for pk, values in gaps.items()}
            longest *= scale
        latest_start = retreat(latest_end, longest)
        span = working_minutes(earliest, latest_start)
        if span <= 0:
            offset = 0.0
        elif is_recent:
            offset = rng.triangular(0, span, span)  # open work is mostly recent
        else:
            offset = rng.uniform(0, span)
        start = advance(snap_forward(earliest), offset).replace(microsecond=0)
        start += dt.timedelta(seconds=rng.randint(0, 59))
        created[case_id] = start
        ends = []
        for task in case_tasks:
            rows = logs[task.pk]
            row_at[rows[0].pk] = start
            at = start
            for row, gap in zip(rows[1:], gaps[task.pk], strict=True):
                at = advance(at, gap).replace(microsecond=0)
                row_at[row.pk] = at
            ends.append(at)
        if case.state == Case.State.CLOSED:
            closed[case_id] = max(ends, default=start)
    return row_at, created, closed


def _gap(rng: random.Random, row: TaskTransition) -> float:
    key = "assign_system" if row.transition == "assign" and row.actor_id is None else row.transition
    low, high = GAPS.get(key, (5, 60))
    return round(rng.uniform(low, high) * 60) / 60  # whole seconds


def date_notifications(rng: random.Random, case_ids: list[int]) -> None:
    """Date each notification at its transition; mark those on finished tasks as read."""
    rows = list(
        Notification.objects.filter(task__case_id__in=case_ids).select_related("transition", "task").order_by("pk")
    )
    for row in rows:
        row.created_at = row.transition.at
        if row.task.state not in OPEN_STATES:
            row.read_at = row.created_at + dt.timedelta(minutes=rng.uniform(2, 600))
    with transaction.atomic():
        Notification.objects.bulk_update(rows, ["created_at", "read_at"], batch_size=500)
