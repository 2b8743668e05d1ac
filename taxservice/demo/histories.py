"""Spreading the demo's histories over the last eight weeks, on a working-hours clock.

The cases are built through the services in a few seconds; afterwards each history is
re-dated with bulk updates of the demo's own rows. The transition log refuses `save()` on
existing rows by design; re-dating a freshly built demo history is the one exception.
Rows that hang off a task with a timestamp of their own (assignments, dispatch
decisions, hub alerts, notifications) move along with the history they belong to.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.utils import timezone

from taxservice.workflow.cases import clocks
from taxservice.workflow.cases.models import (
    OPEN_STATES,
    Case,
    CaseTransition,
    Notification,
    Task,
    TaskState,
    TaskTransition,
)

from .clock import advance, retreat, snap_forward, working_minutes

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
# Rows with a FK `task` and timestamps of their own, moved with the task's history.
SIDE_ROWS = [
    ("cases.TaskAssignment", ("assigned_at", "ended_at")),
    ("routing.DispatchDecision", ("at",)),
    ("routing.HubAlert", ("created_at", "resolved_at")),
]


def spread_timestamps(rng: random.Random, case_ids: list[int]) -> None:
    """Move every demo history into the last eight weeks, on a working-hours clock."""
    now = timezone.localtime(timezone.now()).replace(microsecond=0)
    cases = {c.pk: c for c in Case.objects.filter(pk__in=case_ids)}
    tasks = list(Task.objects.filter(case_id__in=case_ids).select_related("item").order_by("pk"))
    logs: dict[int, list[TaskTransition]] = {}
    for row in TaskTransition.objects.filter(task__case_id__in=case_ids).order_by("task_id", "at", "id"):
        logs.setdefault(row.task_id, []).append(row)
    by_case: dict[int, list[Task]] = {}
    for task in tasks:
        by_case.setdefault(task.case_id, []).append(task)

    # Per task: (time during the build, time in the demo history) of each log row.
    anchors: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    changed_cases, changed_tasks, changed_logs = [], [], []
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
        case.created_at = start
        ends = []
        for task in case_tasks:
            rows = logs[task.pk]
            anchors[task.pk] = [(rows[0].at, start)]
            rows[0].at = start
            changed_logs.append(rows[0])
            at = start
            requested_at = None
            for row, gap in zip(rows[1:], gaps[task.pk], strict=True):
                at = advance(at, gap).replace(microsecond=0)
                anchors[task.pk].append((row.at, at))
                row.at = at
                if row.transition == "request_materials":
                    requested_at = at
                if row.transition == "receive_materials" and requested_at is not None:
                    pause = at - requested_at
                    row.details = {**row.details, "paused_seconds": int(pause.total_seconds())}
                changed_logs.append(row)
            task.created_at = start
            task.updated_at = at
            changed_tasks.append(task)
            ends.append(at)
        if case.state == Case.State.CLOSED:
            case.closed_at = max(ends, default=start)
        changed_cases.append(case)

    Case.objects.bulk_update(changed_cases, ["created_at", "closed_at"], batch_size=500)
    _move_case_logs(cases)
    Task.objects.bulk_update(changed_tasks, ["created_at", "updated_at"], batch_size=500)
    TaskTransition.objects.bulk_update(changed_logs, ["at", "details"], batch_size=500)
    # The due times and clocks follow from the moved log, as for any task.
    clocks.refresh_many([task.pk for task in changed_tasks])
    _move_side_rows(anchors)


def _move_case_logs(cases: dict[int, Case]) -> None:
    """Date each case's own log rows with the case: opened when it was created, closed
    when it was closed (with its last task)."""
    rows = list(CaseTransition.objects.filter(case_id__in=cases.keys()).order_by("pk"))
    for row in rows:
        case = cases[row.case_id]
        if not row.from_state:
            row.at = case.created_at
        elif row.to_state == Case.State.CLOSED and case.closed_at is not None:
            row.at = case.closed_at
    CaseTransition.objects.bulk_update(rows, ["at"], batch_size=500)


def _move_side_rows(anchors: dict[int, list[tuple[dt.datetime, dt.datetime]]]) -> None:
    """Re-date rows that hang off a task, keeping their place in its history."""
    for label, fields in SIDE_ROWS:
        try:
            model = apps.get_model(label)
            for name in fields:
                model._meta.get_field(name)
        except (LookupError, FieldDoesNotExist):
            continue  # not installed in this version of the core
        rows = list(model.objects.filter(task_id__in=anchors.keys()).order_by("pk"))
        for row in rows:
            for name in fields:
                value = getattr(row, name)
                if value is not None:
                    setattr(row, name, _warp(anchors[row.task_id], value))
        model.objects.bulk_update(rows, list(fields), batch_size=500)


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


def _warp(anchors: list[tuple[dt.datetime, dt.datetime]], moment: dt.datetime) -> dt.datetime:
    """Map a time from the build onto the demo history: just after the last log row
    written before it, and never past the next one."""
    index = bisect.bisect_right([built for built, _ in anchors], moment) - 1
    if index < 0:
        return anchors[0][1]
    built, placed = anchors[index]
    offset = moment - built
    if index + 1 < len(anchors):
        offset = min(offset, max(anchors[index + 1][1] - placed, dt.timedelta(0)))
    return placed + offset
