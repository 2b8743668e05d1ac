"""A task's clocks, derived from its transition log on the working-day calendar.

Four clocks, each with a start, a due time, a stop and the working time it allows:

- **promise** (办理时限, the task's `due_at`): from receipt (the case's opening at the hall,
  or the intake at the hub), the item's time limit in working days, or in working hours
  where the item says so. An item handled at the first ask (一问即办) is due when received;
  once transferred it is due `transfer_limit_days` after receipt instead. It stops when the
  work is done (or the task closes or is cancelled).
- **acceptance**: from each assignment (assign, reassign) to its acceptance.
- **handling**: from the first acceptance to done; its limit is the item's handling limit,
  or its time limit.
- **feedback**: from done to closed (the feedback to the taxpayer).

Waiting for the taxpayer's materials (request_materials → receive_materials) pauses the
promise and handling clocks: the working time waited is added to their due times. A
granted extension (approve_extension) moves them by the days granted. Nothing here reads
the clock on the wall except to say how much time is left: the same log on the same
calendar gives the same due times (`derive` is pure; `refresh` stores its answer).

A clock is **at risk** once less than AT_RISK_SHARE of its working time is left, and
**overdue** once its due time has passed while it runs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from taxservice.catalogue.models import Item
from taxservice.workdays.calendar import WorkCalendar
from taxservice.workdays.models import ClockRecompute
from taxservice.workflow import sql
from taxservice.workflow.cases.models import OPEN_STATES, ClockName, Task, TaskState, TaskTransition

S = TaskState
RECOMPUTE_DUE = "recompute_due"  # transitions.RECOMPUTE_DUE: the history row's name
AT_RISK_SHARE = 0.25
PROMISE = "promise"

# Which internal clock runs in each state (the others are stopped or not started).
RUNNING_IN_STATE: dict[str, str] = {
    S.ASSIGNED: ClockName.ACCEPTANCE,
    S.IN_PROGRESS: ClockName.HANDLING,
    S.AWAITING_MATERIALS: ClockName.HANDLING,  # paused, not stopped
    S.AWAITING_APPROVAL: ClockName.HANDLING,
    S.DONE: ClockName.FEEDBACK,
}
DONE_STATES = frozenset({S.DONE, S.CLOSED, S.CANCELLED})


@dataclass
class Clock:
    name: str
    started_at: dt.datetime
    due_at: dt.datetime
    stopped_at: dt.datetime | None = None
    paused_since: dt.datetime | None = None
    # The working time the clock allows from its start to its (current) due time.
    allowed_seconds: int = 0

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def paused(self) -> bool:
        return self.running and self.paused_since is not None

    def at_risk_at(self, cal: WorkCalendar) -> dt.datetime:
        return cal.add_working_seconds(self.due_at, -AT_RISK_SHARE * self.allowed_seconds)

    def remaining_seconds(self, cal: WorkCalendar, now: dt.datetime) -> int:
        """Working time left (negative once overdue); frozen while paused or stopped."""
        until = self.stopped_at or self.paused_since or now
        return cal.working_seconds_between(until, self.due_at)

    def overdue(self, now: dt.datetime) -> bool:
        end = self.stopped_at or self.paused_since or now
        return end > self.due_at

    def status(self, cal: WorkCalendar, now: dt.datetime) -> str:
        """ "overdue", "at_risk", "ok", "paused" (running) or "met", "late" (stopped)."""
        if not self.running:
            return "late" if self.stopped_at and self.stopped_at > self.due_at else "met"
        if self.overdue(now):
            return "overdue"
        if self.paused:
            return "paused"
        return "at_risk" if now >= self.at_risk_at(cal) else "ok"


@dataclass
class TaskClocks:
    promise: Clock
    acceptance: Clock | None = None
    handling: Clock | None = None
    feedback: Clock | None = None
    running: str = ""  # the internal clock that runs in the task's state ("" for none)
    extension_days: int = 0
    history: list[Clock] = field(default_factory=list)  # earlier acceptance clocks

    def get(self, name: str) -> Clock | None:
        return getattr(self, name, None) if name else None

    @property
    def current(self) -> Clock | None:
        return self.get(self.running)

    def internal(self) -> list[Clock]:
        return [clock for clock in (self.acceptance, self.handling, self.feedback) if clock is not None]


@dataclass(frozen=True)
class LogRow:
    transition: str
    from_state: str
    to_state: str
    at: dt.datetime
    details: dict


def _days_clock(cal: WorkCalendar, name: str, start: dt.datetime, days: int) -> Clock:
    due = cal.due_in_days(start, days)
    return Clock(name, start, due)


def _promise(
    cal: WorkCalendar, item: Item, received_at: dt.datetime, transferred: bool, limit_days: int | None = None
) -> Clock:
    if limit_days:  # a sub-task's own time limit, set when it was opened
        return _days_clock(cal, PROMISE, received_at, limit_days)
    if item.time_limit_hours:
        return Clock(PROMISE, received_at, cal.due_in_hours(received_at, item.time_limit_hours))
    days = item.time_limit_days
    if days <= 0 and transferred:
        days = item.transfer_limit_days
    return _days_clock(cal, PROMISE, received_at, days)


def derive(*, item: Item, state: str, received_at: dt.datetime, log: Sequence[LogRow], cal: WorkCalendar) -> TaskClocks:
    """The clocks of a task with this item, in this state, received then, with this log."""
    transferred = any(row.transition == "transfer" for row in log) and item.is_immediate
    limit_days = next((int(row.details["limit_days"]) for row in log[:1] if row.details.get("limit_days")), None)
    clocks = TaskClocks(promise=_promise(cal, item, received_at, transferred, limit_days))
    handling_days = item.handling_limit_days or item.time_limit_days or item.transfer_limit_days
    pause_started: dt.datetime | None = None

    def extended() -> list[Clock]:  # the clocks that pauses and extensions move
        return [clock for clock in (clocks.promise, clocks.handling) if clock is not None and clock.running]

    for row in log:
        if row.to_state == S.ASSIGNED and row.transition in ("assign", "reassign"):
            if clocks.acceptance is not None:
                if clocks.acceptance.running:
                    clocks.acceptance.stopped_at = row.at
                clocks.history.append(clocks.acceptance)
            clocks.acceptance = _days_clock(cal, ClockName.ACCEPTANCE, row.at, item.acceptance_limit_days)
        elif row.transition == "return" and clocks.acceptance is not None and clocks.acceptance.running:
            clocks.acceptance.stopped_at = row.at
        if row.transition == "accept":
            if clocks.acceptance is not None and clocks.acceptance.running:
                clocks.acceptance.stopped_at = row.at
            if clocks.handling is None:
                clocks.handling = _days_clock(cal, ClockName.HANDLING, row.at, handling_days)
        if row.to_state == S.AWAITING_MATERIALS and pause_started is None:
            pause_started = row.at
        elif row.from_state == S.AWAITING_MATERIALS and row.to_state != S.AWAITING_MATERIALS:
            if pause_started is not None:
                waited = cal.working_seconds_between(pause_started, row.at)
                for clock in extended():
                    clock.due_at = cal.add_working_seconds(clock.due_at, waited)
            pause_started = None
        if row.transition == "approve_extension":
            days = int(row.details.get("days") or 0)
            clocks.extension_days += days
            for clock in extended():
                clock.due_at = cal.shift_working_days(clock.due_at, days)
        if row.to_state in DONE_STATES and row.from_state not in DONE_STATES:
            for started in (clocks.promise, clocks.acceptance, clocks.handling):
                if started is not None and started.running:
                    started.stopped_at = row.at
            if row.to_state == S.DONE:
                clocks.feedback = _days_clock(cal, ClockName.FEEDBACK, row.at, item.feedback_limit_days)
        if row.to_state in (S.CLOSED, S.CANCELLED) and clocks.feedback is not None and clocks.feedback.running:
            clocks.feedback.stopped_at = row.at

    if pause_started is not None:
        for clock in extended():
            clock.paused_since = pause_started
    for clock in (clocks.promise, *clocks.internal()):
        clock.allowed_seconds = max(cal.working_seconds_between(clock.started_at, clock.due_at), 0)
    running = RUNNING_IN_STATE.get(state, "")
    current = clocks.get(running)
    clocks.running = running if current is not None and current.running else ""
    return clocks


def promise_due(item: Item, received_at: dt.datetime, cal: WorkCalendar) -> dt.datetime:
    """The due time of a task just received (no log yet): what a new task row starts with."""
    return _promise(cal, item, received_at, transferred=False).due_at


# --- reading and storing ------------------------------------------------------------------------


def start_acceptance(task_ids: Sequence[int], *, at: dt.datetime, cal: WorkCalendar | None = None) -> None:
    """What `refresh` stores after queued tasks are assigned at `at`, set-based: one read
    and one update per distinct acceptance limit (the robot's batch path; a test checks it
    against `refresh`). The promise does not move on an assignment."""
    cal = cal or WorkCalendar.load()
    by_limit: dict[int, list[int]] = defaultdict(list)
    for pk, days in Task.objects.filter(pk__in_ids=task_ids).values_list("pk", "item__acceptance_limit_days"):
        by_limit[days].append(pk)
    for days, ids in by_limit.items():
        clock = _days_clock(cal, ClockName.ACCEPTANCE, at, days)
        clock.allowed_seconds = max(cal.working_seconds_between(at, clock.due_at), 0)
        Task.objects.filter(pk__in_ids=ids).update(
            clock=ClockName.ACCEPTANCE, clock_due_at=clock.due_at, clock_at_risk_at=clock.at_risk_at(cal)
        )


def _rows(transitions: Iterable[TaskTransition]) -> list[LogRow]:
    return [LogRow(t.transition, t.from_state, t.to_state, t.at, t.details or {}) for t in transitions]


def for_task(task: Task, cal: WorkCalendar | None = None) -> TaskClocks:
    """A task's clocks, from its log (one query, or none when the log is prefetched)."""
    cal = cal or WorkCalendar.load()
    log = sorted(task.transitions.all(), key=lambda t: (t.at, t.pk))
    return derive(item=task.item, state=task.state, received_at=task.created_at, log=_rows(log), cal=cal)


def _apply(task: Task, clocks: TaskClocks, cal: WorkCalendar) -> list[str]:
    """Copy the derived times onto the task's columns; the names of those that changed."""
    current = clocks.current
    wanted = {
        "due_at": clocks.promise.due_at,
        "clock": clocks.running,
        "clock_due_at": current.due_at if current is not None else None,
        "clock_at_risk_at": current.at_risk_at(cal) if current is not None else None,
    }
    changed = [name for name, value in wanted.items() if getattr(task, name) != value]
    for name in changed:
        setattr(task, name, wanted[name])
    return changed


def refresh(task: Task, cal: WorkCalendar | None = None) -> list[str]:
    """Recompute and store the task's clocks, in the caller's transaction (the task row is
    locked by it). Returns the columns that changed."""
    cal = cal or WorkCalendar.load()
    changed = _apply(task, for_task(task, cal), cal)
    if changed:
        Task.objects.filter(pk=task.pk).update(**{name: getattr(task, name) for name in changed})
    return changed


def refresh_many(task_ids: Sequence[int], cal: WorkCalendar | None = None) -> list[tuple[Task, dict]]:
    """`refresh` for many tasks at once: two reads and one bulk update. Returns the tasks
    whose promise changed, each with its before/after due times (for the audit rows)."""
    cal = cal or WorkCalendar.load()
    tasks = list(Task.objects.filter(pk__in=task_ids).select_related("item"))
    logs: dict[int, list[TaskTransition]] = defaultdict(list)
    for row in TaskTransition.objects.filter(task_id__in=task_ids).order_by("task_id", "at", "id"):
        logs[row.task_id].append(row)
    changed_tasks: list[Task] = []
    moved: list[tuple[Task, dict]] = []
    fields: set[str] = set()
    for task in tasks:
        before = {"due_at": task.due_at, "clock_due_at": task.clock_due_at}
        clocks = derive(
            item=task.item, state=task.state, received_at=task.created_at, log=_rows(logs[task.pk]), cal=cal
        )
        changed = _apply(task, clocks, cal)
        if changed:
            changed_tasks.append(task)
            fields.update(changed)
            if "due_at" in changed or "clock_due_at" in changed:
                moved.append((task, before))
    if changed_tasks:
        Task.objects.bulk_update(changed_tasks, sorted(fields), batch_size=500)
    return moved


RECOMPUTE_CHUNK = 1000


def recompute(run_id: int) -> ClockRecompute:
    """Run one ClockRecompute: every open task (or the item's), in chunks of RECOMPUTE_CHUNK,
    each chunk in its own transaction with its task rows locked. A task whose due times
    moved gets a `recompute_due` row in its history (before and after, and the cause).
    Closed and cancelled tasks are never read or rewritten. Idempotent: running it again
    on the same calendar moves nothing and writes no row."""
    run = ClockRecompute.objects.get(pk=run_id)
    if run.state == ClockRecompute.State.DONE:
        return run
    open_tasks = Task.objects.filter(state__in=[*OPEN_STATES, TaskState.DONE])
    if run.item_code:
        open_tasks = open_tasks.filter(item__code=run.item_code)
    ids = list(open_tasks.order_by("pk").values_list("pk", flat=True))
    ClockRecompute.objects.filter(pk=run.pk).update(state=ClockRecompute.State.RUNNING, total=len(ids), done=0)
    cal = WorkCalendar.load()
    moved_count = 0
    try:
        for start in range(0, len(ids), RECOMPUTE_CHUNK):
            chunk = ids[start : start + RECOMPUTE_CHUNK]
            with transaction.atomic():
                locked = list(
                    sql.tasks_for_update()
                    .filter(pk__in_ids=chunk, state__in=[*OPEN_STATES, TaskState.DONE])
                    .values_list("pk", flat=True)
                )
                moved = refresh_many(locked, cal)
                now = timezone.now()
                TaskTransition.objects.bulk_create(
                    [
                        TaskTransition(
                            task=task,
                            transition=RECOMPUTE_DUE,
                            from_state=task.state,
                            to_state=task.state,
                            actor_id=run.requested_by_id,
                            at=now,
                            reason=run.cause,
                            details={
                                "recompute": run.pk,
                                "due_at": [_iso(before["due_at"]), _iso(task.due_at)],
                                "clock_due_at": [_iso(before["clock_due_at"]), _iso(task.clock_due_at)],
                            },
                        )
                        for task, before in moved
                    ]
                )
                moved_count += len(moved)
                ClockRecompute.objects.filter(pk=run.pk).update(done=start + len(chunk), moved=moved_count)
    except Exception as error:
        ClockRecompute.objects.filter(pk=run.pk).update(
            state=ClockRecompute.State.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    ClockRecompute.objects.filter(pk=run.pk).update(
        state=ClockRecompute.State.DONE, done=len(ids), moved=moved_count, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- at a glance: what a list shows, from the stored columns alone (no query per row) -------------


@dataclass(frozen=True)
class Glance:
    status: str  # "overdue" | "at_risk" | "ok" | "paused" | "stopped"
    due_at: dt.datetime
    left_seconds: int  # working time left; negative once overdue
    clock: str  # "promise" or the running internal clock
    clock_status: str = ""  # the running internal clock's status, when one runs
    clock_due_at: dt.datetime | None = None
    clock_left_seconds: int = 0


def glance(task: Task, cal: WorkCalendar, now: dt.datetime) -> Glance:
    """The promise's countdown and the running internal clock's, from the task's columns."""
    if task.state not in OPEN_STATES and task.state != TaskState.DONE:
        return Glance("stopped", task.due_at, 0, PROMISE)
    paused = task.state == TaskState.AWAITING_MATERIALS
    left = cal.working_seconds_between(now, task.due_at)
    if paused:
        status = "paused"
    elif task.state == TaskState.DONE:
        status = "stopped"  # the promise was kept or not when the work was done
    elif now > task.due_at:
        status = "overdue"
    else:
        allowed = cal.working_seconds_between(task.created_at, task.due_at)
        status = "at_risk" if left <= AT_RISK_SHARE * allowed else "ok"
    glimpse = Glance(status, task.due_at, left, PROMISE)
    if task.clock and task.clock_due_at is not None:
        clock_left = cal.working_seconds_between(now, task.clock_due_at)
        if paused:
            clock_status = "paused"
        elif now > task.clock_due_at:
            clock_status = "overdue"
        elif task.clock_at_risk_at is not None and now >= task.clock_at_risk_at:
            clock_status = "at_risk"
        else:
            clock_status = "ok"
        glimpse = Glance(status, task.due_at, left, task.clock, clock_status, task.clock_due_at, clock_left)
    return glimpse


def split_seconds(seconds: int, cal: WorkCalendar) -> tuple[int, int, int]:
    """Working days, hours and minutes in `seconds` of working time (absolute value)."""
    seconds = abs(seconds)
    days, rest = divmod(seconds, cal.seconds_per_day)
    hours, rest = divmod(rest, 3600)
    return days, hours, rest // 60
