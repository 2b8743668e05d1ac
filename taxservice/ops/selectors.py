"""What an operator looks at, read once: the one source of the operations page and /metrics.

`ops_snapshot()` reads the queues, the robot, the uploads, overdue work and beat from the
database at the moment it is called. The Prometheus collector (`ops.metrics`) and the
operations page (`ops.views.status`) both call it, so a number on the page is the number
an alert fires on. Every figure is a handful of indexed GROUP BY / aggregate queries:
cheap enough for a scrape every 15 seconds.

`readiness()` is the checklist behind /readyz.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from taxservice.outbox import services as outbox
from taxservice.workflow.cases.models import OPEN_STATES, Task, TaskState
from taxservice.workflow.routing.models import RobotRun, RobotSettings, UploadBatch
from taxservice.workflow.routing.selectors import HUB_STATES

# The beat entry of the robot's sweep (settings.CELERY_BEAT_SCHEDULE).
ROBOT_SWEEP_ENTRY = "robot-sweep"
NO_TEAM = "-"
UPLOADS_IN_PROGRESS = (UploadBatch.State.PENDING, UploadBatch.State.VALIDATING, UploadBatch.State.IMPORTING)


@dataclass(frozen=True)
class RobotFigures:
    paused: bool
    backlog: int
    runs: dict[str, int]  # by trigger, every run ever logged
    dispatched: int
    skipped: int
    last_run_at: dt.datetime | None


@dataclass(frozen=True)
class Snapshot:
    at: dt.datetime
    hub: dict[tuple[str, str], int]  # (state, team code or "-") -> tasks
    overdue: dict[str, int]  # tier -> open tasks past their promised time
    uploads_in_progress: int
    uploads_stuck: int
    robot: RobotFigures
    beat_last_sweep_at: dt.datetime | None
    beat_enabled: bool | None  # None: the sweep's entry is not in the database yet
    outbox: outbox.Backlog | None = None  # follow-ups waiting to be published (taxservice/outbox)

    @property
    def hub_by_state(self) -> dict[str, int]:
        totals = {str(state): 0 for state in HUB_STATES}
        for (state, _team), count in self.hub.items():
            totals[state] = totals.get(state, 0) + count
        return totals

    @property
    def hub_by_team(self) -> list[tuple[str, list[int], int]]:
        """[(team, [count in each of HUB_STATES], total)] sorted by team, for the page's table."""
        teams: dict[str, dict[str, int]] = {}
        for (state, team), count in self.hub.items():
            teams.setdefault(team, {})[state] = count
        return [
            (team, [states.get(str(state), 0) for state in HUB_STATES], sum(states.values()))
            for team, states in sorted(teams.items())
        ]

    @property
    def hub_states(self) -> list[tuple[str, str, int]]:
        """[(state, its label, count over every team)] in HUB_STATES order."""
        totals = self.hub_by_state
        return [(str(state), str(state.label), totals[str(state)]) for state in HUB_STATES]

    @property
    def hub_total(self) -> int:
        return sum(self.hub.values())

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue.values())

    @property
    def beat_stale(self) -> bool:
        """Beat has not sent the sweep for three of its intervals (and a minute's grace)."""
        if self.beat_last_sweep_at is None:
            return True
        return self.at - self.beat_last_sweep_at > beat_allowance()


def beat_allowance() -> dt.timedelta:
    return dt.timedelta(seconds=3 * settings.TAXSERVICE_ROBOT_SWEEP_SECONDS + 60)


def stuck_cutoff(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(minutes=settings.TAXSERVICE_STUCK_MINUTES)


def ops_snapshot(*, now: dt.datetime | None = None) -> Snapshot:
    """Every operator's figure, from the database, now."""
    now = now or timezone.now()
    hub = {
        (row["state"], row["team__code"] or NO_TEAM): row["n"]
        for row in Task.objects.filter(state__in=HUB_STATES)
        .values("state", "team__code")
        .annotate(n=Count("id"))
        .order_by()
    }
    overdue = {
        row["tier"]: row["n"]
        for row in Task.objects.filter(state__in=OPEN_STATES, due_at__lt=now)
        .values("tier")
        .annotate(n=Count("id"))
        .order_by()
    }
    uploads = UploadBatch.objects.filter(state__in=UPLOADS_IN_PROGRESS)
    runs = {row["trigger"]: row["n"] for row in RobotRun.objects.values("trigger").annotate(n=Count("id")).order_by()}
    totals = RobotRun.objects.aggregate(dispatched=Sum("dispatched"), skipped=Sum("skipped"), last=Max("started_at"))
    robot = RobotFigures(
        paused=RobotSettings.load().paused,
        backlog=Task.objects.filter(state=TaskState.QUEUED, auto_dispatch=True).count(),
        runs=runs,
        dispatched=totals["dispatched"] or 0,
        skipped=totals["skipped"] or 0,
        last_run_at=totals["last"],
    )
    beat_last, beat_enabled = _beat_sweep()
    return Snapshot(
        at=now,
        hub=hub,
        overdue=overdue,
        uploads_in_progress=uploads.count(),
        uploads_stuck=uploads.filter(created_at__lt=stuck_cutoff(now)).count(),
        robot=robot,
        beat_last_sweep_at=beat_last,
        beat_enabled=beat_enabled,
        outbox=outbox.backlog(),
    )


def _beat_sweep() -> tuple[dt.datetime | None, bool | None]:
    row = PeriodicTask.objects.filter(name=ROBOT_SWEEP_ENTRY).values("last_run_at", "enabled").first()
    if row is None:
        return None, None
    return row["last_run_at"], row["enabled"]


# --- readiness ---------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    ms: float = 0.0


@dataclass
class Readiness:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_dict(self) -> dict:
        return {
            "status": "ok" if self.ok else "unavailable",
            "checks": {
                check.name: {
                    "ok": check.ok,
                    "ms": round(check.ms, 1),
                    **({"detail": check.detail} if check.detail else {}),
                }
                for check in self.checks
            },
        }


# Migrations, once seen applied, are not read again for this long: the migration graph is
# the one costly part of the checklist, and the code it compares against does not change
# while the process runs.
MIGRATIONS_RECHECK_SECONDS = 60.0
_migrations_ok_until = 0.0


def _check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return ""


def _check_migrations() -> str:
    global _migrations_ok_until
    if time.monotonic() < _migrations_ok_until:
        return ""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(f"{len(plan)} migrations not applied")
    _migrations_ok_until = time.monotonic() + MIGRATIONS_RECHECK_SECONDS
    return ""


def broker_configured() -> bool:
    return not settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_BROKER_URL.startswith("memory://")


def _check_broker() -> str:
    with current_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=settings.TAXSERVICE_READY_BROKER_TIMEOUT)
    return ""


def _check_stuck_work() -> str:
    # There is no outbox yet; what can be stuck today is a bulk upload left half-way.
    # The outbox's check lands with the outbox (docs/operations.md).
    stuck = UploadBatch.objects.filter(state__in=UPLOADS_IN_PROGRESS, created_at__lt=stuck_cutoff(timezone.now()))
    count = stuck.count()
    if count:
        raise RuntimeError(f"{count} uploads unfinished after {settings.TAXSERVICE_STUCK_MINUTES} minutes")
    return ""


def readiness() -> Readiness:
    """Run the checks in order; once the database fails, the checks that need it are not run."""
    result = Readiness()

    def run(name: str, check: Callable[[], str]) -> bool:
        started = time.perf_counter()
        try:
            detail, ok = check(), True
        except Exception as exc:  # a readiness probe reports every failure, never raises
            detail, ok = f"{type(exc).__name__}: {exc}"[:200], False
        result.checks.append(Check(name=name, ok=ok, detail=detail, ms=(time.perf_counter() - started) * 1000))
        return ok

    if run("database", _check_database):
        run("migrations", _check_migrations)
        if settings.TAXSERVICE_STUCK_MINUTES > 0:
            run("stuck_work", _check_stuck_work)
    else:
        # A broken connection must not be reused by the next probe.
        connections[DEFAULT_DB_ALIAS].close_if_unusable_or_obsolete()
    if broker_configured():
        run("broker", _check_broker)
    return result
