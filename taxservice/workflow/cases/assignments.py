"""Who holds a task, and how many open tasks each person holds.

`tasks_assign_bulk` is the `assign` transition for many queued tasks at once (the
dispatcher's set-based path); `staff_adjust_open_tasks` keeps `Staff.open_tasks`, which
dispatch reads for capacity, exact under the staff row locks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice.errors import ConcurrentChange
from taxservice.org.models import Staff
from taxservice.workflow import sql
from taxservice.workflow.cases import clocks, notifications
from taxservice.workflow.cases.models import Task, TaskAssignment, TaskState, TaskTransition
from taxservice.workflow.routing.models import HubAlert

# States that count against a person's capacity: leaving them frees room for the backlog.
LOAD_STATES = {TaskState.ASSIGNED, TaskState.IN_PROGRESS, TaskState.AWAITING_MATERIALS, TaskState.AWAITING_APPROVAL}


def holder(task: Task) -> int | None:
    """The staff member whose open-task count this task is part of, if any."""
    return task.assignee_id if task.assignee_id is not None and task.state in LOAD_STATES else None


def staff_adjust_open_tasks(deltas: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Add `deltas` to the staff members' `open_tasks`; returns {id: (open_tasks, capacity)} after.

    Call inside the transaction that changes the tasks. It locks the rows in ascending id
    order first (routing.services: task rows, then staff rows, ascending), so two writers
    adjusting overlapping people cannot deadlock, and each count is exact at commit.
    """
    deltas = {staff_id: delta for staff_id, delta in deltas.items() if delta}
    if not deltas:
        return {}
    ids = sql.lock_staff(deltas)
    Staff.objects.filter(pk__in=ids).update(
        open_tasks=F("open_tasks")
        + Case(*(When(pk=staff_id, then=Value(deltas[staff_id])) for staff_id in ids), output_field=IntegerField())
    )
    return {
        staff_id: (load, capacity)
        for staff_id, load, capacity in Staff.objects.filter(pk__in=ids).values_list("pk", "open_tasks", "capacity")
    }


def staff_recount_open_tasks(staff_ids: list[int] | None = None) -> int:
    """Set `open_tasks` from the tasks themselves; returns how many people were off.

    The services keep the counts; this is the check and the repair (after a bulk load or
    a hand edit of the database), run by `seed_demo` and `manage.py recount_open_tasks`.
    """
    staff = Staff.objects.all() if staff_ids is None else Staff.objects.filter(pk__in=staff_ids)
    counts = dict(
        Task.objects.filter(assignee__isnull=False, state__in=LOAD_STATES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("assignee_id", "n")
    )
    wrong = [person for person in staff.only("pk", "open_tasks") if person.open_tasks != counts.get(person.pk, 0)]
    for person in wrong:
        person.open_tasks = counts.get(person.pk, 0)
    Staff.objects.bulk_update(wrong, ["open_tasks"], batch_size=500)
    return len(wrong)


@dataclass(frozen=True, slots=True)
class BulkAssignment:
    task_id: int
    staff_id: int
    staff_name: str
    item_name: str  # for the assignee's notification
    details: dict


def tasks_assign_bulk(*, actor: Staff | None, rows: list[BulkAssignment]) -> dict[int, tuple[int, int]]:
    """The `assign` transition for many queued tasks at once: the dispatcher's set-based path.

    Call inside `transaction.atomic` holding the row locks of every task (and, to keep
    capacity exact, of every assignee). It writes what `task_transition` writes for
    `assign` (the state and assignee, one audit row per task, the active TaskAssignment,
    the assignee's notification, the hub's alerts on the task resolved) in a fixed number
    of statements, whatever the number of tasks (tests/test_one_assign.py compares the
    two). The notifications are written in the same transaction rather than by a
    Celery task after the commit (docs/decisions.md §4): they commit or roll back with
    the assignments, so no retry and no read-back of the audit rows is needed.
    The caller has checked the actor's permission and the assignees' eligibility.
    Every task must still be queued: otherwise ConcurrentChange, and the caller's
    transaction must roll back. Returns each assignee's (open_tasks, capacity) after the
    batch, counted under their row locks (`staff_adjust_open_tasks`).
    """
    if not rows:
        return {}
    now = timezone.now()
    updated = sql.assign_queued([(row.task_id, row.staff_id) for row in rows], now=now)
    if updated != len(rows):
        raise ConcurrentChange(_("Someone else changed one of these tasks first. Nothing was assigned."))
    task_ids = [row.task_id for row in rows]
    sql.end_active_assignments(task_ids, now=now)
    # Someone holds the task now: the hub need not look any more (assign_queued cleared the flag).
    HubAlert.objects.filter(task_id__in_ids=task_ids, resolved_at__isnull=True).update(resolved_at=now)
    sql.insert_rows(
        TaskAssignment,
        ("task_id", "staff_id", "active", "assigned_at", "ended_at"),
        [(row.task_id, row.staff_id, True, now, None) for row in rows],
        returning=False,
    )
    actor_id = actor.pk if actor else None
    log_ids = sql.insert_rows(
        TaskTransition,
        ("task_id", "transition", "from_state", "to_state", "actor_id", "at", "reason", "details"),
        [
            (
                row.task_id,
                "assign",
                TaskState.QUEUED,
                TaskState.ASSIGNED,
                actor_id,
                now,
                "",
                {"assignee": row.staff_id, "assignee_name": row.staff_name, "from_assignee": None, **row.details},
            )
            for row in rows
        ],
    )
    notifications.notify_assigned(
        [(row.staff_id, row.task_id, log_id, row.item_name) for row, log_id in zip(rows, log_ids, strict=True)],
        now=now,
    )
    clocks.start_acceptance(task_ids, at=now)
    return staff_adjust_open_tasks(Counter(row.staff_id for row in rows))
