"""The workflow's hand-written SQL and row locks, behind a small interface.

This is the one module outside migrations that writes SQL by hand, asks which database
it runs on (`connection.vendor`), or locks task and staff rows. The services call the
functions below and read as the ORM.

Production is PostgreSQL; SQLite is the embedded default. Where a fast path exists only
for PostgreSQL, the other side is the plain ORM statement that writes the same rows (the
reference: tests/test_sql.py runs both on PostgreSQL and compares), never a second
hand-tuned copy.

**Locks** (saleor's habit: one named helper per model, always ascending primary key).
The protocol (docs/routing.md): task rows first, then staff rows in one ascending pass,
then only writes. Every lock is `FOR NO KEY UPDATE`, which excludes other writers of the
row but not the `KEY SHARE` locks that foreign-key checks take on it, so inserting an
audit row that points at a locked task or person never waits. On SQLite these lock
nothing: its transactions start `IMMEDIATE` and writers queue for the database instead.

- `tasks_for_update()` / `staff_for_update()`: the locking querysets, to filter further
  (one task with its related rows, or `skip_locked`);
- `lock_tasks(ids)` / `lock_staff(ids)`: lock those rows, ascending;
- `claim_tasks(queryset, size)`: the robot's claim, `SKIP LOCKED` (it never waits, so its
  order is free: oldest first);
- `check_constraints_now()`: foreign keys checked per statement from here on, not at
  the commit (PostgreSQL).

**Writes and reads of the dispatcher's hot path** (bench/README.md says what each saved):

- `insert_rows(model, fields, rows)`: `COPY … FROM STDIN` on PostgreSQL with ids drawn
  from the sequence in one query; `bulk_create` elsewhere;
- `assign_queued(pairs, now=…)`: the `assign` transition's task UPDATE for a batch, one
  statement joined to two arrays on PostgreSQL;
- `end_active_assignments(task_ids, now=…)`: a probe of the partial unique index per task
  on PostgreSQL;
- `assignments_of_pairs(pairs)`: every assignment of the tasks of some (taxpayer, item)
  pairs, from an index walk per pair on PostgreSQL;
- the `in_ids` lookup: `filter(pk__in_ids=ids)` binds one array on PostgreSQL, not one
  parameter per id.

**The escalation ladder's scan** (docs/ladder.md):

- `ladder_escalate(…)`: one step of the ladder for every task that has reached it, with
  its history row and its notifications: one statement on PostgreSQL (an
  `INSERT … SELECT … ON CONFLICT DO NOTHING` into the escalations, and the log and inbox
  rows of exactly the escalations it created, as data-modifying CTEs); elsewhere the ORM
  in four statements, finding its own rows by the scan's token.

Every function runs in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import QuerySet
from django.utils import timezone

from taxservice.catalogue.models import Item
from taxservice.org.models import Staff, Team
from taxservice.workflow.cases.models import (
    OPEN_STATES,
    Case,
    Notification,
    Task,
    TaskAssignment,
    TaskState,
    TaskTransition,
)
from taxservice.workflow.ladder.models import Escalation, EscalationStep, Watch


def _fast() -> bool:
    """Whether the PostgreSQL fast paths apply."""
    return connection.vendor == "postgresql"


# --- locks ------------------------------------------------------------------------------------


def tasks_for_update(*, skip_locked: bool = False) -> QuerySet[Task]:
    """Task rows to lock `FOR NO KEY UPDATE` (only the task rows, whatever is select_related), ascending."""
    return Task.objects.select_for_update(of=("self",), no_key=True, skip_locked=skip_locked).order_by("pk")


def staff_for_update() -> QuerySet[Staff]:
    """Staff rows to lock `FOR NO KEY UPDATE`, ascending."""
    return Staff.objects.select_for_update(of=("self",), no_key=True).order_by("pk")


def lock_tasks(ids: Iterable[int]) -> list[int]:
    """Lock these tasks' rows in ascending id order; returns the ids that exist, ascending."""
    return list(tasks_for_update().filter(pk__in=set(ids)).values_list("pk", flat=True))


def lock_staff(ids: Iterable[int]) -> list[int]:
    """Lock these staff rows in ascending id order; returns the ids that exist, ascending."""
    return list(staff_for_update().filter(pk__in=set(ids)).values_list("pk", flat=True))


def claim_tasks(queryset: QuerySet[Task], size: int) -> QuerySet[Task]:
    """The first `size` rows of `queryset` that no one else holds, locked: `SKIP LOCKED` never waits."""
    return queryset.select_for_update(of=("self",), skip_locked=True, no_key=True)[:size]


def check_constraints_now() -> None:
    """Check deferred foreign keys as each statement writes its rows, not at the commit.

    The robot calls this before its writes, so that the checks run while it holds only
    task locks, not at the commit, when it also holds the chosen people's rows. SQLite
    checks its deferred keys at the commit; it has no per-statement mode to switch to.
    """
    if _fast():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


# --- inserts ----------------------------------------------------------------------------------

# One encoder for every row: json.dumps with options builds a new encoder per call.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=DjangoJSONEncoder().default).encode


class RawJSON(str):
    """A value for a JSONField that is already JSON text: `insert_rows` writes it as it is.

    Lets a caller encode a value shared by many rows (a team's candidate list) once.
    """

    __slots__ = ()


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence], *, returning: bool = True
) -> list[int]:
    """Insert `rows` (one value per name in `fields`, attnames for foreign keys).

    Values are what psycopg adapts (None, bool, int, str, datetime…), or for JSON fields
    anything JSON-encodable or a `RawJSON`. Returns the new ids in order, or [] with
    `returning=False` (which on PostgreSQL saves drawing them from the sequence). Skips
    `save()` and signals, like `bulk_create`, which it is on other databases.

    On PostgreSQL the ids come from the table's sequence in one query and the rows stream
    through `COPY … FROM STDIN` (psycopg's C row writer; JSON encoded once here, each
    distinct time formatted once): a fraction of the cost of an `INSERT … VALUES` with
    thousands of bound parameters.
    """
    if not rows:
        return []
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    json_at = [i for i, field in enumerate(columns) if isinstance(field, models.JSONField)]
    if not _fast():
        objs = model.objects.bulk_create([model(**_python_values(fields, row, json_at)) for row in rows])
        return [obj.pk for obj in objs] if returning else []
    # A batch stamps its rows with one or two times: each is formatted once, not per row.
    time_at = [i for i, field in enumerate(columns) if isinstance(field, models.DateTimeField)]
    times: dict = {}
    table = connection.ops.quote_name(opts.db_table)
    column_list = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    with connection.cursor() as cursor:
        ids: list[int] = []
        if returning:
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [_sequence(cursor, opts), len(rows)]
            )
            ids = [row[0] for row in cursor.fetchall()]
            column_list = f"{connection.ops.quote_name(opts.pk.column)}, {column_list}"
        # On psycopg's own cursor, so its errors are turned into Django's (IntegrityError…) here.
        with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
            write = copy.write_row
            for n, row in enumerate(rows):
                if json_at or time_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = _json_text(row[i])
                    for i in time_at:
                        value = row[i]
                        if isinstance(value, dt.datetime):  # anything else goes to psycopg as it is
                            text = times.get(value)
                            if text is None:
                                text = times[value] = _time_text(value)
                            row[i] = text
                write((ids[n], *row) if ids else row)
    return ids


def _time_text(value: dt.datetime) -> str:
    """A timestamptz as COPY text: ISO 8601 with its offset, which PostgreSQL reads whatever its TimeZone."""
    if timezone.is_naive(value):
        raise ValueError(f"insert_rows needs aware datetimes (USE_TZ), got {value!r}")
    return value.isoformat()


def _json_text(value) -> str:
    if isinstance(value, RawJSON):
        return value
    if not value and isinstance(value, (list, dict)):
        return "[]" if isinstance(value, list) else "{}"
    return _encode_json(value)


def _python_values(fields: Sequence[str], row: Sequence, json_at: list[int]) -> dict:
    values = dict(zip(fields, row, strict=True))
    for i in json_at:
        if isinstance(row[i], RawJSON):
            values[fields[i]] = json.loads(row[i])
    return values


_sequences: dict[str, str] = {}


def _sequence(cursor, opts) -> str:
    """The table's id sequence, looked up once per process (per row it would cost more than nextval)."""
    if opts.db_table not in _sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [opts.db_table, opts.pk.column])
        _sequences[opts.db_table] = cursor.fetchone()[0]
    return _sequences[opts.db_table]


# --- the assignment's statements ----------------------------------------------------------------


def assign_queued(pairs: Sequence[tuple[int, int]], *, now: dt.datetime) -> int:
    """The task side of `assign` for a batch of (task id, staff id): returns how many tasks changed.

    Sets the state and assignee and clears `has_open_alert`, on tasks still queued only
    (ConcurrentTransitionMixin's optimistic check, for the whole batch). On PostgreSQL one
    UPDATE joined to the pairs as two arrays: the ORM's CASE/WHEN form of it cost more
    to build than to run (bench/README.md). Elsewhere one ORM update per assignee.
    """
    if not pairs:
        return 0
    if _fast():
        return _assign_queued_pg(pairs, now=now)
    return _assign_queued_orm(pairs, now=now)


def _assign_queued_pg(pairs: Sequence[tuple[int, int]], *, now: dt.datetime) -> int:
    table = connection.ops.quote_name(Task._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, assignee_id = v.staff_id, updated_at = %s, has_open_alert = false "  # noqa: S608
            f"FROM unnest(%s::bigint[], %s::bigint[]) AS v(task_id, staff_id) "
            f"WHERE {table}.id = v.task_id AND {table}.state = %s",
            [
                TaskState.ASSIGNED,
                now,
                id_array(task_id for task_id, _staff in pairs),
                id_array(staff_id for _task, staff_id in pairs),
                TaskState.QUEUED,
            ],
        )
        return cursor.rowcount


def _assign_queued_orm(pairs: Sequence[tuple[int, int]], *, now: dt.datetime) -> int:
    tasks_of: dict[int, list[int]] = defaultdict(list)
    for task_id, staff_id in pairs:
        tasks_of[staff_id].append(task_id)
    return sum(
        Task.objects.filter(pk__in=task_ids, state=TaskState.QUEUED).update(
            state=TaskState.ASSIGNED, assignee_id=staff_id, updated_at=now, has_open_alert=False
        )
        for staff_id, task_ids in tasks_of.items()
    )


def end_active_assignments(task_ids: Sequence[int], *, now: dt.datetime) -> int:
    """End the active assignment of these tasks, if any; returns how many were ended.

    On PostgreSQL the rows are found task by task through the partial unique index
    `one_active_assignment_per_task` (a LATERAL probe per id; `LIMIT 1`, which the index
    guarantees anyway, keeps PostgreSQL from flattening the probe into a join), then
    updated by primary key. As a plain `task_id = ANY(…) AND active`, the planner, with
    statistics taken while the table was small, scanned every assignment for each batch
    (bench/README.md). Elsewhere the plain ORM update.
    """
    if not task_ids:
        return 0
    if _fast():
        return _end_active_assignments_pg(task_ids, now=now)
    return _end_active_assignments_orm(task_ids, now=now)


def _end_active_assignments_pg(task_ids: Sequence[int], *, now: dt.datetime) -> int:
    table = connection.ops.quote_name(TaskAssignment._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT x.id FROM unnest(%s::bigint[]) AS v(task_id) CROSS JOIN LATERAL "  # noqa: S608 - our table name
            f"(SELECT id FROM {table} WHERE task_id = v.task_id AND active LIMIT 1) AS x",
            [id_array(task_ids)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        cursor.execute(
            f"UPDATE {table} SET active = false, ended_at = %s WHERE id = ANY(%s::bigint[])",  # noqa: S608
            [now, id_array(ids)],
        )
        return cursor.rowcount


def _end_active_assignments_orm(task_ids: Sequence[int], *, now: dt.datetime) -> int:
    return TaskAssignment.objects.filter(task_id__in=task_ids, active=True).update(active=False, ended_at=now)


def assignments_of_pairs(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Every assignment of every task of these (taxpayer id, item id) pairs, oldest first.

    Rows are (taxpayer id, item id, task id, staff id). On PostgreSQL one query starts
    from the pairs (two arrays) and walks the (taxpayer, item) index, then each task's
    assignments by task id: a plan that does not depend on fresh statistics. Elsewhere
    the ORM reads the assignments of the pairs' taxpayers and items and keeps the pairs.
    """
    wanted = sorted(set(pairs))
    if not wanted:
        return []
    if _fast():
        return _assignments_of_pairs_pg(wanted)
    return _assignments_of_pairs_orm(wanted)


def _assignments_of_pairs_pg(pairs: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    task_table = connection.ops.quote_name(Task._meta.db_table)
    assignment_table = connection.ops.quote_name(TaskAssignment._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.taxpayer_id, t.item_id, a.task_id, a.staff_id "  # noqa: S608 - table names are ours
            f"FROM unnest(%s::bigint[], %s::bigint[]) AS v(taxpayer_id, item_id) "
            f"JOIN {task_table} t ON t.taxpayer_id = v.taxpayer_id AND t.item_id = v.item_id "
            f"JOIN {assignment_table} a ON a.task_id = t.id "
            f"ORDER BY a.assigned_at, a.id",
            [id_array(p[0] for p in pairs), id_array(p[1] for p in pairs)],
        )
        return cursor.fetchall()


def _assignments_of_pairs_orm(pairs: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    wanted = set(pairs)
    rows = (
        TaskAssignment.objects.filter(
            task__taxpayer_id__in={taxpayer for taxpayer, _item in wanted},
            task__item_id__in={item for _t, item in wanted},
        )
        .order_by("assigned_at", "id")
        .values_list("task__taxpayer_id", "task__item_id", "task_id", "staff_id")
    )
    return [row for row in rows if (row[0], row[1]) in wanted]


# --- the escalation ladder -------------------------------------------------------------------

# The states whose due times the ladder watches: open, except awaiting the taxpayer's
# materials (the clocks are paused). The running clock also runs in `done` (feedback).
LADDER_SKIPPED = TaskState.AWAITING_MATERIALS
LADDER_STATES = {
    Watch.PROMISE: [str(state) for state in OPEN_STATES],  # the order of task_open_due_idx's predicate
    Watch.RUNNING: [*(str(state) for state in OPEN_STATES), str(TaskState.DONE)],
}
_TIME_FORMAT = "%Y-%m-%d %H:%M"  # the due time in messages and history details, local time
_PG_TIME_FORMAT = "YYYY-MM-DD HH24:MI"


def ladder_escalate(
    *,
    step: EscalationStep,
    due_before: dt.datetime,
    due_after: dt.datetime | None,
    chiefs: Sequence[tuple[int, int]],
    message: str,
    scan: uuid.UUID,
    now: dt.datetime,
) -> tuple[int, int]:
    """Send `step` for every task whose watched due time is before `due_before` (and after
    `due_after`, when given) and that has not had it for that due time. Returns (escalations
    created, notifications written).

    For each: one `Escalation` row (unique per task, step and due time: a second scan, or
    one running at the same moment, creates nothing for it), one `TaskTransition` row named
    after the step's action (from and to the task's state, no actor: the system), pointing
    from the escalation, and one `Notification` per recipient pointing at that row.
    Recipients: the assignee when the step tells the assignee (the chiefs instead when the
    task has none) and the branch chiefs when it tells them; `chiefs` pairs a branch id
    with a chief's staff id, and a task's branch is its team's, or its case's hall without
    a team. `message` holds `{task}`, `{due}` and `{item}`, replaced in that order; it is
    cut to 200 characters. Tasks are taken in ascending id, so two scans inserting at once
    wait for each other in one order and cannot deadlock.

    Call inside a transaction: the rows commit together or not at all.
    """
    if _fast():
        return _ladder_escalate_pg(
            step=step, due_before=due_before, due_after=due_after, chiefs=chiefs, message=message, scan=scan, now=now
        )
    return _ladder_escalate_orm(
        step=step, due_before=due_before, due_after=due_after, chiefs=chiefs, message=message, scan=scan, now=now
    )


def ladder_due_text(value: dt.datetime) -> str:
    """A due time as messages and history details show it: local minutes (both paths agree)."""
    return timezone.localtime(value, zoneinfo.ZoneInfo(settings.TIME_ZONE)).strftime(_TIME_FORMAT)


def _ladder_message(template: str, *, task: int, due: str, item: str) -> str:
    return template.replace("{task}", str(task)).replace("{due}", due).replace("{item}", item)[:200]


def _ladder_escalate_pg(
    *,
    step: EscalationStep,
    due_before: dt.datetime,
    due_after: dt.datetime | None,
    chiefs: Sequence[tuple[int, int]],
    message: str,
    scan: uuid.UUID,
    now: dt.datetime,
) -> tuple[int, int]:
    q = connection.ops.quote_name
    task, esc, log, note = (q(model._meta.db_table) for model in (Task, Escalation, TaskTransition, Notification))
    team, case, item = (q(model._meta.db_table) for model in (Team, Case, Item))
    running = step.watch == Watch.RUNNING
    due = "clock_due_at" if running else "due_at"
    clock = "t.clock" if running else "'promise'"
    after = f"AND t.{due} > %(after)s" if due_after is not None else ""
    clock_running = "AND t.clock <> ''" if running else ""
    # nextval per candidate: the history row's id is known before it is written, so the
    # escalation points at it in the same statement (foreign keys are checked at the commit).
    statement = f"""
        WITH cand AS (
            SELECT t.id AS task_id, t.{due} AS due_at, t.state, t.assignee_id, t.item_id, t.team_id, t.case_id,
                   {clock} AS clock
            FROM {task} t
            WHERE t.state = ANY(%(states)s) AND t.state <> %(skipped)s
              AND t.{due} < %(before)s {after} {clock_running}
              AND NOT EXISTS (
                  SELECT 1 FROM {esc} e WHERE e.task_id = t.id AND e.step_id = %(step)s AND e.due_at = t.{due}
              )
        ),
        esc AS (
            INSERT INTO {esc} (task_id, step_id, due_at, transition_id, sent_at, scan)
            SELECT c.task_id, %(step)s, c.due_at, nextval(%(log_seq)s::regclass), %(now)s, %(scan)s
            FROM cand c ORDER BY c.task_id
            ON CONFLICT (task_id, step_id, due_at) DO NOTHING
            RETURNING task_id, transition_id, due_at
        ),
        sent AS (
            SELECT esc.task_id, esc.transition_id, c.state, c.assignee_id, c.item_id, c.team_id, c.case_id,
                   to_char(esc.due_at AT TIME ZONE %(tz)s, %(time_format)s) AS due_text
            FROM esc JOIN cand c ON c.task_id = esc.task_id
        ),
        log AS (
            INSERT INTO {log} (id, task_id, transition, from_state, to_state, actor_id, at, reason, details)
            SELECT s.transition_id, s.task_id, %(action)s, s.state, s.state, NULL, %(now)s, '',
                   jsonb_build_object('step', %(code)s, 'due_at', s.due_text)
            FROM sent s
        ),
        note AS (
            INSERT INTO {note} (recipient_id, task_id, transition_id, message, created_at, read_at)
            SELECT DISTINCT r.staff_id, s.task_id, s.transition_id,
                   left(replace(replace(replace(%(message)s, '{{task}}', s.task_id::text), '{{due}}', s.due_text),
                                '{{item}}', i.name), 200),
                   %(now)s, NULL::timestamptz
            FROM sent s
            JOIN {item} i ON i.id = s.item_id
            LEFT JOIN {team} tm ON tm.id = s.team_id
            LEFT JOIN {case} cs ON cs.id = s.case_id
            CROSS JOIN LATERAL (
                SELECT s.assignee_id AS staff_id WHERE %(to_assignee)s AND s.assignee_id IS NOT NULL
                UNION ALL
                SELECT ch.staff_id FROM unnest(%(chief_branches)s::bigint[], %(chief_staff)s::bigint[])
                    AS ch(branch_id, staff_id)
                WHERE ch.branch_id = COALESCE(tm.branch_id, cs.hall_id)
                  AND (%(to_chiefs)s OR (%(to_assignee)s AND s.assignee_id IS NULL))
            ) r
            ON CONFLICT DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM esc), (SELECT count(*) FROM note)
    """  # noqa: S608 - table and column names are ours
    with connection.cursor() as cursor:
        params = {
            "states": LADDER_STATES[Watch(step.watch)],
            "skipped": str(LADDER_SKIPPED),
            "before": due_before,
            "after": due_after,
            "step": step.pk,
            "log_seq": _sequence(cursor, TaskTransition._meta),
            "now": now,
            "scan": scan,
            "tz": settings.TIME_ZONE,
            "time_format": _PG_TIME_FORMAT,
            "action": step.action,
            "code": step.code,
            "message": message,
            "to_assignee": step.to_assignee,
            "to_chiefs": step.to_chiefs,
            "chief_branches": id_array(branch for branch, _staff in chiefs),
            "chief_staff": id_array(staff for _branch, staff in chiefs),
        }
        cursor.execute(statement, params)
        created, notified = cursor.fetchone()
    return created, notified


def _ladder_escalate_orm(
    *,
    step: EscalationStep,
    due_before: dt.datetime,
    due_after: dt.datetime | None,
    chiefs: Sequence[tuple[int, int]],
    message: str,
    scan: uuid.UUID,
    now: dt.datetime,
) -> tuple[int, int]:
    due = "clock_due_at" if step.watch == Watch.RUNNING else "due_at"
    tasks = Task.objects.filter(state__in=LADDER_STATES[Watch(step.watch)], **{f"{due}__lt": due_before}).exclude(
        state=LADDER_SKIPPED
    )
    if due_after is not None:
        tasks = tasks.filter(**{f"{due}__gt": due_after})
    if step.watch == Watch.RUNNING:
        tasks = tasks.exclude(clock="")
    sent = Escalation.objects.filter(task=models.OuterRef("pk"), step=step, due_at=models.OuterRef(due))
    candidates = tasks.exclude(models.Exists(sent)).order_by("pk").values_list("pk", due)
    Escalation.objects.bulk_create(
        [Escalation(task_id=pk, step=step, due_at=due_at, sent_at=now, scan=scan) for pk, due_at in candidates],
        ignore_conflicts=True,
    )
    created = list(
        Escalation.objects.filter(scan=scan, step=step)
        .select_related("task__item", "task__team", "task__case")
        .order_by("task_id")
    )
    if not created:
        return 0, 0
    logs = TaskTransition.objects.bulk_create(
        [
            TaskTransition(
                task_id=row.task_id,
                transition=step.action,
                from_state=row.task.state,
                to_state=row.task.state,
                actor=None,
                at=now,
                reason="",
                details={"step": step.code, "due_at": ladder_due_text(row.due_at)},
            )
            for row in created
        ]
    )
    for row, log in zip(created, logs, strict=True):
        row.transition = log
    Escalation.objects.bulk_update(created, ["transition"])
    chiefs_of: dict[int, list[int]] = defaultdict(list)
    for branch_id, staff_id in chiefs:
        chiefs_of[branch_id].append(staff_id)
    notes = []
    for row in created:
        task = row.task
        recipients: set[int] = set()
        if step.to_assignee and task.assignee_id is not None:
            recipients.add(task.assignee_id)
        if step.to_chiefs or (step.to_assignee and task.assignee_id is None):
            branch = task.team.branch_id if task.team is not None else (task.case.hall_id if task.case else None)
            recipients.update(chiefs_of.get(branch, []) if branch is not None else [])
        text = _ladder_message(message, task=task.pk, due=ladder_due_text(row.due_at), item=task.item.name)
        notes += [
            Notification(
                recipient_id=staff_id, task_id=task.pk, transition_id=row.transition_id, message=text, created_at=now
            )
            for staff_id in sorted(recipients)
        ]
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    return len(created), len(notes)


# --- long id lists ----------------------------------------------------------------------------


def id_array(ids: Iterable[int]) -> str:
    """A PostgreSQL array literal of integer ids, e.g. '{1,2,3}': bind it with ::bigint[]."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


@models.Field.register_lookup
class InIds(models.Lookup):
    """`field__in_ids=[…]`: `IN` for integer ids, bound as one array on PostgreSQL.

    psycopg and Django handle a list of a thousand parameters in Python, one by one; one
    array literal is a single parameter.
    """

    lookup_name = "in_ids"

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", list(lhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, id_array(self.rhs)]
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]


# Foreign keys keep a lookup registry of their own.
models.ForeignObject.register_lookup(InIds)
