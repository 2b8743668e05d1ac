#!/usr/bin/env python
"""Dispatch benchmark: the auto-dispatch robot against one hand-written SQL statement writing the same rows.

    .venv/bin/python bench/dispatch.py [--tasks 100000] [--staff 40] [--branches 3] [--workers 4]
        [--database postgres://postgres@127.0.0.1:5432/taxservice_bench]

It creates (and at the end drops) a dedicated PostgreSQL database, migrates it, generates
an organisation and a backlog of queued auto-dispatch tasks with bulk inserts, drains the
backlog with W parallel `manage.py robot_sweep` processes, checks the result (double
assignments, lost tasks, territorial priority, conflicts, load spread), then resets the
same tasks and times one set-based SQL statement that assigns them round-robin and writes
every row the robot writes (decision, audit row, assignment, notification, open-task
counts) into the same tables with the same constraints: the baseline, measured in the
same run on the same data. It prints figures; it never asserts a timing.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/taxservice_bench"
TARGET_RATIO = 0.5
PROGRESS_SECONDS = 3.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000, help="queued tasks to dispatch (default %(default)s)")
    parser.add_argument("--staff", type=int, default=40, help="staff members (default %(default)s)")
    parser.add_argument("--branches", type=int, default=3, help="tax-source branches (default %(default)s)")
    parser.add_argument("--workers", type=int, default=4, help="parallel robot_sweep processes (default %(default)s)")
    parser.add_argument("--batch", type=int, default=None, help="robot_sweep --batch (default: TAXSERVICE_ROBOT_BATCH)")
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help="PostgreSQL URL; the database is dropped and created (default %(default)s)",
    )
    parser.add_argument(
        "--capacity", type=int, default=10_000, help="capacity of every staff member (default %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=20240601, help="random seed of the generated data (default %(default)s)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=0,
        help="stop the dispatch after this many seconds and report the partial rate (0: never)",
    )
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=None,
        help="run ANALYZE on the task tables every S seconds during the dispatch, standing in for autoanalyze\n"
        "(default: 30 when the server runs with autovacuum off, else 0 = never)",
    )
    parser.add_argument(
        "--baseline-runs",
        type=int,
        default=3,
        help="time the baseline this many times, each on a fresh reset; the median counts (default %(default)s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database at the end (default: drop it)")
    args = parser.parse_args(argv)
    if (
        args.baseline_runs < 1
        or args.tasks < 2
        or args.staff < 3 + args.branches
        or args.branches < 1
        or args.workers < 1
    ):
        parser.error("need --tasks >= 2, --branches >= 1, --workers >= 1 and --staff >= branches + 3")
    return args


_T0 = time.perf_counter()


def say(message: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", flush=True)


# --- the dedicated database ------------------------------------------------------------------


def database_name(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit("--database must be a postgres:// URL")
    name = parsed.path.lstrip("/")
    # Never the test database or anyone's real data: the benchmark drops what it names.
    if not name or "bench" not in name or name in {"test", "postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop and create database {name!r}: its name must contain 'bench'")
    return name


def maintenance_dsn(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/postgres", scheme="postgresql"))


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(maintenance_dsn(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_dsn(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url))))


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # Measure what production runs: no per-query SQL capture (DEBUG), unless asked for.
    os.environ.setdefault("DJANGO_DEBUG", "false")
    # DEBUG off refuses the public development key (docs/security.md): a key of this run's own.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(60))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taxservice.settings")
    import django

    django.setup()


# --- data generation -------------------------------------------------------------------------


@dataclass
class World:
    city_id: int = 0
    post_id: int = 0
    online_id: int = 0
    source_ids: list[int] = field(default_factory=list)
    group_of_branch: dict[int, int] = field(default_factory=dict)  # source branch -> dispatched group
    team_names: dict[int, str] = field(default_factory=dict)
    staff_count: int = 0
    taxpayer_count: int = 0
    moved_forward_tasks: int = 0
    city_tasks: int = 0
    conflicts: int = 0
    capacity: int = 0


def credit_code(number: int) -> str:
    from stdnum.cn import uscc

    body = f"91330100{number:09d}"
    return body + uscc.calc_check_digit(body)


def generate(args: argparse.Namespace) -> World:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from taxservice.catalogue.models import Item
    from taxservice.org.models import Branch, Role, Staff, StaffRole, Team, Tier
    from taxservice.taxpayers.models import Taxpayer
    from taxservice.workflow.cases.models import Task, TaskState
    from taxservice.workflow.routing.models import StaffConflict

    rng = random.Random(args.seed)
    world = World()
    moved_forward = list(Item.objects.filter(moved_forward=True, active=True).order_by("code"))
    city_items = list(
        Item.objects.filter(
            high_frequency=True,
            handling_list="assisted",
            moved_forward=False,
            team_kind=Team.Kind.ONLINE_PROCESSING,
            active=True,
        ).order_by("code")
    )
    if not moved_forward or not city_items:
        raise SystemExit("the migrated catalogue has no moved-forward or no high-frequency online-processing items")

    with transaction.atomic():
        # Organisation: the city bureau, a district, a tax-service branch and N tax-source branches.
        city = Branch.objects.create(code="BENCH-CITY", name="市税务局", kind=Branch.Kind.CITY)
        district = Branch.objects.create(code="BENCH-D01", name="城区税务局", kind=Branch.Kind.DISTRICT, parent=city)
        service = Branch.objects.create(
            code="BENCH-SVC", name="纳税服务分局", kind=Branch.Kind.SERVICE, parent=district
        )
        sources = Branch.objects.bulk_create(
            [
                Branch(
                    code=f"BENCH-SRC{i + 1:02d}",
                    name=f"第{i + 1}税源管理分局",
                    kind=Branch.Kind.SOURCE,
                    parent=district,
                )
                for i in range(args.branches)
            ]
        )
        post = Team.objects.create(
            code="BENCH-POST", name="任务统筹岗", kind=Team.Kind.COORDINATION_POST, tier=Tier.MIDDLE, branch=service
        )
        online = Team.objects.create(
            code="BENCH-ONLINE",
            name="市局线上办理团队",
            kind=Team.Kind.ONLINE_PROCESSING,
            tier=Tier.MIDDLE,
            branch=city,
        )
        groups = Team.objects.bulk_create(
            [
                Team(
                    code=f"BENCH-DISP{i + 1:02d}",
                    name=f"{src.name}派驻组",
                    kind=Team.Kind.DISPATCHED,
                    tier=Tier.MIDDLE,
                    branch=service,
                    home_branch=src,
                )
                for i, src in enumerate(sources)
            ]
        )
        world.city_id, world.post_id, world.online_id = city.pk, post.pk, online.pk
        world.source_ids = [src.pk for src in sources]
        world.group_of_branch = {src.pk: group.pk for src, group in zip(sources, groups, strict=True)}
        world.team_names = {post.pk: post.code, online.pk: online.code, **{g.pk: g.code for g in groups}}

        # Staff: two coordinators at the post; the rest split between the city team and the groups
        # in proportion to their work (half the tasks each), one team each.
        handlers = args.staff - 2
        online_size = handlers // 2
        per_group = [(handlers - online_size) // args.branches] * args.branches
        for i in range((handlers - online_size) % args.branches):
            per_group[i] += 1
        # (team, home branch, role) for every staff member.
        plan: list[tuple[Team, Branch, str]] = [(post, service, Role.COORDINATOR)] * 2
        plan += [(online, city, Role.TEAM_MEMBER)] * online_size
        for src, group, size in zip(sources, groups, per_group, strict=True):
            plan += [(group, src, Role.TEAM_MEMBER)] * size

        world.moved_forward_tasks = args.tasks // 2
        world.city_tasks = args.tasks - world.moved_forward_tasks
        heaviest = max(
            world.city_tasks / online_size, *(world.moved_forward_tasks / args.branches / s for s in per_group)
        )
        capacity = args.capacity
        if heaviest * 1.2 > capacity:
            capacity = min(32767, int(heaviest * 1.5))
            say(f"capacity {args.capacity} would stop the run (about {heaviest:.0f} tasks a person); using {capacity}")
        world.capacity = capacity

        User = get_user_model()  # noqa: N806
        users = User.objects.bulk_create(
            [User(username=f"bench{i:04d}", password="!", is_active=True) for i in range(len(plan))]
        )
        staff = Staff.objects.bulk_create(
            [
                Staff(user=user, name=f"员工{i:03d}", home_branch=home, on_duty=True, capacity=capacity)
                for i, (user, (_team, home, _role)) in enumerate(zip(users, plan, strict=True))
            ]
        )
        Staff.teams.through.objects.bulk_create(
            [Staff.teams.through(staff_id=s.pk, team_id=team.pk) for s, (team, _h, _r) in zip(staff, plan, strict=True)]
        )
        StaffRole.objects.bulk_create(
            [StaffRole(staff=s, role=role) for s, (_t, _h, role) in zip(staff, plan, strict=True)]
        )
        world.staff_count = len(staff)
        members: dict[int, list[int]] = {}
        for s, (team, _h, _r) in zip(staff, plan, strict=True):
            members.setdefault(team.pk, []).append(s.pk)

        # Taxpayers, round-robin over the source branches.
        taxpayer_count = max(50, args.tasks // 4)
        Taxpayer.objects.bulk_create(
            [
                Taxpayer(
                    credit_code=credit_code(i + 1),
                    name=f"基准纳税人{i + 1:06d}有限公司",
                    competent_branch_id=world.source_ids[i % args.branches],
                    classification=rng.choice(Taxpayer.Classification.values),
                    grade=rng.choice(Taxpayer.Grade.values),
                )
                for i in range(taxpayer_count)
            ],
            batch_size=5000,
        )
        taxpayer_rows = list(Taxpayer.objects.order_by("pk").values_list("pk", "competent_branch_id"))
        world.taxpayer_count = len(taxpayer_rows)
    say(f"organisation: {args.branches} source branches, {world.staff_count} staff, {world.taxpayer_count} taxpayers")

    # Tasks: distinct (taxpayer, item) pairs, as intake merging keeps them for open tasks.
    if world.moved_forward_tasks > taxpayer_count * len(moved_forward) or world.city_tasks > taxpayer_count * len(
        city_items
    ):
        raise SystemExit("not enough distinct (taxpayer, item) pairs for that many tasks")
    jobs: list[tuple[int, int, int, str]] = []  # (taxpayer, item, team, source)
    for pair in rng.sample(range(taxpayer_count * len(moved_forward)), world.moved_forward_tasks):
        taxpayer_id, branch_id = taxpayer_rows[pair // len(moved_forward)]
        item = moved_forward[pair % len(moved_forward)]
        jobs.append(
            (
                taxpayer_id,
                item.pk,
                world.group_of_branch[branch_id],
                rng.choice(["business", "data_governance", "risk"]),
            )
        )
    for pair in rng.sample(range(taxpayer_count * len(city_items)), world.city_tasks):
        taxpayer_id, _branch = taxpayer_rows[pair // len(city_items)]
        item = city_items[pair % len(city_items)]
        jobs.append((taxpayer_id, item.pk, online.pk, rng.choice(["business", "hotline_12345"])))
    rng.shuffle(jobs)  # the two kinds interleave in arrival order, as they would in the hub

    now = timezone.now()
    first = now - dt.timedelta(milliseconds=10 * len(jobs)) - dt.timedelta(minutes=1)
    table = Task._meta.db_table
    columns = [
        "case_id",
        "taxpayer_id",
        "item_id",
        "note",
        "source",
        "tier",
        "team_id",
        "assignee_id",
        "state",
        "auto_dispatch",
        "has_open_alert",
        "due_at",
        "result",
        "feedback_channel",
        "created_at",
        "updated_at",
    ]
    started = time.perf_counter()
    with connection.cursor() as cursor, transaction.atomic():
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for n, (taxpayer_id, item_id, team_id, source) in enumerate(jobs):
                created = first + dt.timedelta(milliseconds=10 * n)
                copy.write_row(
                    (
                        None,
                        taxpayer_id,
                        item_id,
                        "",
                        source,
                        Tier.MIDDLE,
                        team_id,
                        None,
                        TaskState.QUEUED,
                        True,
                        False,
                        created + dt.timedelta(days=5),
                        "",
                        "",
                        created,
                        created,
                    )
                )
                if n and n % 25_000 == 0:
                    say(f"  tasks written: {n}")
    say(
        f"tasks: {len(jobs)} queued ({world.moved_forward_tasks} moved-forward, {world.city_tasks} city) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    # A few declared conflicts of interest between handlers and taxpayers with queued tasks.
    conflict_rows = []
    for taxpayer_id, _item, team_id, _source in rng.sample(jobs, min(8, len(jobs))):
        staff_id = rng.choice(members[team_id])
        conflict_rows.append(StaffConflict(staff_id=staff_id, taxpayer_id=taxpayer_id, reason="亲属关系（基准数据）"))
    StaffConflict.objects.bulk_create(conflict_rows, ignore_conflicts=True)
    world.conflicts = StaffConflict.objects.count()

    with connection.cursor() as cursor:
        # What the baseline resets to.
        cursor.execute(f"CREATE TABLE bench_original AS SELECT id, team_id, tier FROM {table}")
        # Both runs start from a vacuumed, analysed backlog: the baseline runs after a
        # reset that vacuums (reset_tasks), and a backlog on a production server has been
        # through autovacuum. Measured without it, the dispatch paid alone for the first
        # touch of every freshly loaded row (hint bits, visibility map).
        cursor.execute("VACUUM ANALYZE")
    return world


# --- the dispatch: W parallel robot_sweep processes ------------------------------------------


def backlog() -> int:
    from taxservice.workflow.routing.services import robot_backlog

    return robot_backlog().count()


@dataclass
class DispatchRun:
    seconds: float = 0.0
    rounds: int = 0
    timed_out: bool = False
    dispatched: int = 0
    analyzes: int = 0
    analyze_seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def run_dispatch(args: argparse.Namespace, url: str) -> DispatchRun:
    command = [sys.executable, str(ROOT / "manage.py"), "robot_sweep", "--trigger", "manual"]
    if args.batch:
        command += ["--batch", str(args.batch)]
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    run = DispatchRun()
    total = backlog()
    say(f"dispatching {total} tasks with {args.workers} × {shlex.join(command[1:])}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        while run.rounds < 3:
            before = backlog()
            if before == 0:
                break
            run.rounds += 1
            procs = []
            for i in range(args.workers):
                out = open(Path(tmp) / f"round{run.rounds}-worker{i + 1}.log", "w+")  # closed below
                procs.append((subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT), out))
            last_left, last_at = before, time.perf_counter()
            last_analyze = last_at
            while any(proc.poll() is None for proc, _out in procs):
                time.sleep(0.2)
                now = time.perf_counter()
                if args.analyze_every and now - last_analyze >= args.analyze_every:
                    run.analyze_seconds += analyze_task_tables()
                    run.analyzes += 1
                    last_analyze = time.perf_counter()
                if args.timeout and now - started > args.timeout:
                    run.timed_out = True
                    for proc, _out in procs:
                        if proc.poll() is None:
                            proc.terminate()
                    for proc, _out in procs:
                        proc.wait()
                    say(f"timeout after {now - started:.0f} s: workers stopped")
                    break
                if now - last_at >= PROGRESS_SECONDS:
                    left = backlog()
                    say(
                        f"  backlog {left:>7}  ({(last_left - left) / (now - last_at):7.1f} tasks/s over the last "
                        f"{now - last_at:.0f} s, {now - started:5.0f} s elapsed)"
                    )
                    last_left, last_at = left, now
            for i, (proc, out) in enumerate(procs):
                out.seek(0)
                text = out.read().strip()
                out.close()
                run.outputs.append(f"round {run.rounds} worker {i + 1} (exit {proc.returncode}): {text}")
                if proc.returncode != 0 and not run.timed_out:
                    run.failures.append(f"round {run.rounds} worker {i + 1} exited {proc.returncode}")
            after = backlog()
            if run.timed_out or after == before:
                break
    run.seconds = time.perf_counter() - started
    run.dispatched = total - backlog()  # left the backlog: assigned, or sent to the coordination post
    return run


def autovacuum_on() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0] == "on"


def analyze_task_tables() -> float:
    """What autoanalyze would do as the dispatch changes the tables: fresh planner statistics."""
    from django.db import connection

    t = tables()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        names = ", ".join(t[name] for name in ("task", "transition", "assignment", "decision", "notification"))
        cursor.execute(f"ANALYZE {names}")
    return time.perf_counter() - started


# --- checks after the dispatch ---------------------------------------------------------------


def scalar(sql: str, params: list | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def tables() -> dict[str, str]:
    from taxservice.catalogue.models import Item
    from taxservice.org.models import Staff, StaffRole
    from taxservice.taxpayers.models import Taxpayer
    from taxservice.workflow.cases.models import Notification, Task, TaskAssignment, TaskTransition
    from taxservice.workflow.routing.models import DispatchDecision, HubAlert, StaffConflict

    return {
        "task": Task._meta.db_table,
        "transition": TaskTransition._meta.db_table,
        "assignment": TaskAssignment._meta.db_table,
        "notification": Notification._meta.db_table,
        "decision": DispatchDecision._meta.db_table,
        "alert": HubAlert._meta.db_table,
        "item": Item._meta.db_table,
        "taxpayer": Taxpayer._meta.db_table,
        "staff": Staff._meta.db_table,
        "staff_teams": Staff.teams.through._meta.db_table,
        "role": StaffRole._meta.db_table,
        "conflict": StaffConflict._meta.db_table,
    }


def check(world: World) -> tuple[list[tuple[str, int | str]], list[tuple[str, list[int]]]]:
    t = tables()
    figures: list[tuple[str, int | str]] = [
        ("tasks assigned", scalar(f"SELECT count(*) FROM {t['task']} WHERE state = 'assigned'")),
        (
            "tasks still queued for the robot (lost)",
            scalar(f"SELECT count(*) FROM {t['task']} WHERE state = 'queued' AND auto_dispatch"),
        ),
        (
            "tasks sent to the coordination post",
            scalar(f"SELECT count(*) FROM {t['task']} WHERE state = 'queued' AND team_id = %s", [world.post_id]),
        ),
        (
            "double: tasks with > 1 'assign' log row",
            scalar(
                f"SELECT count(*) FROM (SELECT task_id FROM {t['transition']} WHERE transition = 'assign' "
                f"GROUP BY task_id HAVING count(*) > 1) x"
            ),
        ),
        (
            "double: tasks with > 1 active assignment",
            scalar(
                f"SELECT count(*) FROM (SELECT task_id FROM {t['assignment']} WHERE active GROUP BY task_id HAVING count(*) > 1) x"
            ),
        ),
        (
            "assignee not a member of the task's team",
            scalar(
                f"SELECT count(*) FROM {t['task']} k WHERE k.assignee_id IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {t['staff_teams']} m WHERE m.staff_id = k.assignee_id AND m.team_id = k.team_id)"
            ),
        ),
        (
            "assigned without an 'assign' log row",
            scalar(
                f"SELECT count(*) FROM {t['task']} k WHERE k.state = 'assigned' AND NOT EXISTS "
                f"(SELECT 1 FROM {t['transition']} r WHERE r.task_id = k.id AND r.transition = 'assign')"
            ),
        ),
        (
            "assigned without an active assignment row",
            scalar(
                f"SELECT count(*) FROM {t['task']} k WHERE k.state = 'assigned' AND NOT EXISTS "
                f"(SELECT 1 FROM {t['assignment']} a WHERE a.task_id = k.id AND a.active AND a.staff_id = k.assignee_id)"
            ),
        ),
        (
            "assignee differs from the decision's choice",
            scalar(
                f"SELECT count(*) FROM {t['task']} k JOIN {t['decision']} d ON d.task_id = k.id AND d.outcome = 'assigned' "
                f"WHERE d.chosen_id IS DISTINCT FROM k.assignee_id"
            ),
        ),
        (
            "territorial-priority violations",
            scalar(
                f"SELECT count(*) FROM {t['task']} k JOIN {t['item']} i ON i.id = k.item_id "
                f"JOIN {t['taxpayer']} p ON p.id = k.taxpayer_id JOIN {t['staff']} s ON s.id = k.assignee_id "
                f"WHERE i.moved_forward AND s.home_branch_id <> p.competent_branch_id"
            ),
        ),
        (
            "conflict-of-interest violations",
            scalar(
                f"SELECT count(*) FROM {t['task']} k JOIN {t['conflict']} c "
                f"ON c.staff_id = k.assignee_id AND c.taxpayer_id = k.taxpayer_id"
            ),
        ),
        (
            "staff whose open-task count is off",
            scalar(
                f"SELECT count(*) FROM {t['staff']} s WHERE s.open_tasks <> (SELECT count(*) FROM {t['task']} k "
                f"WHERE k.assignee_id = s.id AND k.state IN ('assigned', 'in_progress', 'awaiting_materials', 'awaiting_approval'))"
            ),
        ),
        ("dispatch decisions written", scalar(f"SELECT count(*) FROM {t['decision']}")),
        ("notifications written", scalar(f"SELECT count(*) FROM {t['notification']}")),
        ("hub alerts raised", scalar(f"SELECT count(*) FROM {t['alert']}")),
    ]
    # Assigned tasks per handling member of each team (members with none count as 0).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.team_id, m.staff_id, count(k.id) FROM {t['staff_teams']} m "
            f"JOIN {t['role']} r ON r.staff_id = m.staff_id AND r.role IN ('team_member', 'expert') "
            f"LEFT JOIN {t['task']} k ON k.assignee_id = m.staff_id AND k.team_id = m.team_id AND k.state = 'assigned' "
            f"GROUP BY m.team_id, m.staff_id ORDER BY m.team_id, m.staff_id"
        )
        loads: dict[int, list[int]] = {}
        for team_id, _staff_id, count in cursor.fetchall():
            loads.setdefault(team_id, []).append(count)
    spread = [(world.team_names[team_id], counts) for team_id, counts in sorted(loads.items())]
    return figures, spread


# --- the baseline: the same rows, written by one hand-written SQL statement ------------------


def reset_tasks() -> int:
    """Put every task back as generated: queued, unassigned, in its original team; empty what dispatch wrote."""
    from django.db import connection, transaction

    t = tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {t['task']} k SET state = 'queued', assignee_id = NULL, team_id = o.team_id, tier = o.tier, "
            f"auto_dispatch = true, has_open_alert = false FROM bench_original o WHERE o.id = k.id"
        )
        restored = cursor.rowcount
        cursor.execute(f"UPDATE {t['staff']} SET open_tasks = 0")
        # The setup wrote none of these rows: all of them are the dispatch's. TRUNCATE, not
        # DELETE: a DELETE of the audit log would run the notification's foreign-key check
        # once per deleted row.
        names = ", ".join(t[name] for name in ("notification", "assignment", "transition", "decision", "alert"))
        cursor.execute(f"TRUNCATE {names}")
    with connection.cursor() as cursor:
        # The staff rows too: the dispatch updated each person's open-task count once per
        # batch, and on a server without autovacuum those dead row versions would slow
        # the baseline's foreign-key checks on assignee_id (unfairly, in the robot's favour).
        for name in ("task", "staff"):
            cursor.execute(f"VACUUM ANALYZE {t[name]}")
    return restored


def remember_rules() -> int:
    """Which routing rule (id, version, chooser) the robot used for each team, for the baseline's decisions."""
    from django.db import connection

    t = tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE bench_team_rule AS SELECT DISTINCT ON (team_id) team_id, rule_id, rule_version, chooser "
            f"FROM {t['decision']} WHERE outcome = 'assigned' ORDER BY team_id, id"
        )
        return cursor.rowcount


# The bureau's language (LANGUAGE_CODE zh-hans): the robot's notification text, per task.
MESSAGE = "'任务 T' || l.task_id || '（' || i.name || '）已分派给您。'"


def baseline_sql(*, bare: bool) -> str:
    """The baseline: every queued task assigned round-robin within its team by one statement.

    `bare=False` (the baseline): one statement that writes what the robot writes for each
    task, into the same tables with the same constraints and indexes: the task's
    assignment (state, assignee, alert flag), a dispatch decision (the team's candidates
    and loads, the rule, a random seed, the choice), the `assign` audit row with the
    robot's details, the active assignment row, the assignee's notification, and the
    assignees' open-task counts. `bare=True`: only the task UPDATE, the baseline of
    earlier rounds, kept for information and for comparison with their figures.
    """
    t = tables()
    head = f"""
        WITH members AS (
            SELECT m.team_id, m.staff_id, s.open_tasks,
                   row_number() OVER (PARTITION BY m.team_id ORDER BY m.staff_id) - 1 AS slot,
                   count(*) OVER (PARTITION BY m.team_id) AS size
            FROM {t["staff_teams"]} m
            JOIN {t["staff"]} s ON s.id = m.staff_id AND s.on_duty
            WHERE EXISTS (SELECT 1 FROM {t["role"]} r WHERE r.staff_id = m.staff_id AND r.role IN ('team_member', 'expert'))
        ),
        queue AS (
            SELECT k.id, k.team_id, row_number() OVER (PARTITION BY k.team_id ORDER BY k.created_at, k.id) - 1 AS n
            FROM {t["task"]} k
            WHERE k.state = 'queued' AND k.auto_dispatch
        )"""
    update = f"""
        UPDATE {t["task"]} k SET state = 'assigned', assignee_id = m.staff_id, updated_at = now(), has_open_alert = false
        FROM queue q JOIN members m ON m.team_id = q.team_id AND m.slot = q.n % m.size
        WHERE k.id = q.id AND k.state = 'queued'"""
    if bare:
        return head + update
    return f"""{head},
        teams AS (
            SELECT team_id, jsonb_agg(staff_id ORDER BY staff_id) AS ids,
                   jsonb_object_agg(staff_id::text, open_tasks) AS loads
            FROM members GROUP BY team_id
        ),
        done AS ({update} RETURNING k.id, k.team_id, k.item_id, k.assignee_id),
        decided AS (
            INSERT INTO {t["decision"]} (task_id, at, actor_id, rule_id, rule_version, team_id, candidates, removed,
                eligible, loads, chooser, chooser_state, seed, chosen_id, outcome)
            SELECT d.id, now(), NULL, r.rule_id, r.rule_version, d.team_id, g.ids, '[]', g.ids, g.loads, r.chooser,
                '{{}}', (random() * 281474976710656)::bigint, d.assignee_id, 'assigned'
            FROM done d JOIN teams g ON g.team_id = d.team_id JOIN bench_team_rule r ON r.team_id = d.team_id
            RETURNING id, task_id, chosen_id
        ),
        logged AS (
            INSERT INTO {t["transition"]} (task_id, transition, from_state, to_state, actor_id, at, reason, details)
            SELECT c.task_id, 'assign', 'queued', 'assigned', NULL, now(), '',
                jsonb_build_object('assignee', c.chosen_id, 'assignee_name', s.name, 'from_assignee', NULL, 'decision', c.id)
            FROM decided c JOIN {t["staff"]} s ON s.id = c.chosen_id
            RETURNING id, task_id, (details ->> 'assignee')::bigint AS staff_id
        ),
        assigned AS (
            INSERT INTO {t["assignment"]} (task_id, staff_id, active, assigned_at, ended_at)
            SELECT id, assignee_id, true, now(), NULL FROM done
        ),
        notified AS (
            INSERT INTO {t["notification"]} (recipient_id, task_id, transition_id, message, created_at, read_at)
            SELECT l.staff_id, l.task_id, l.id, {MESSAGE}, now(), NULL
            FROM logged l JOIN done d ON d.id = l.task_id JOIN {t["item"]} i ON i.id = d.item_id
        )
        UPDATE {t["staff"]} s SET open_tasks = s.open_tasks + c.n
        FROM (SELECT assignee_id, count(*) AS n FROM done GROUP BY assignee_id) c WHERE s.id = c.assignee_id"""


def time_baseline(*, bare: bool) -> tuple[int, float]:
    from django.db import connection, transaction

    sql = baseline_sql(bare=bare)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    seconds = time.perf_counter() - started  # including the commit, where deferred foreign keys are checked
    t = tables()
    assigned = scalar(f"SELECT count(*) FROM {t['task']} WHERE state = 'assigned'")
    if not bare:
        written = [
            scalar(f"SELECT count(*) FROM {t[name]}")
            for name in ("decision", "transition", "assignment", "notification")
        ]
        if written != [assigned] * 4:
            say(
                f"warning: the baseline assigned {assigned} tasks but wrote {written} decision, log, assignment, notification rows"
            )
    return assigned, seconds


# --- the report ------------------------------------------------------------------------------


def git_state() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "taxservice"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' + uncommitted changes under taxservice/' if dirty else ''}"


def robot_runs() -> list[tuple[int, int, int, dict, int]]:
    from taxservice.workflow.routing.models import RobotRun

    return list(
        RobotRun.objects.order_by("pk").values_list("pk", "dispatched", "skipped", "skipped_reasons", "duration_ms")
    )


def median_run(runs: list[tuple[int, float]]) -> tuple[int, float]:
    return sorted(runs, key=lambda run: run[1])[len(runs) // 2]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    command_line = shlex.join([sys.executable, *sys.argv])
    url = args.database
    database_name(url)  # refuse a bad name before touching anything
    say(f"recreating database {database_name(url)}")
    recreate_database(url)
    setup_django(url)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        say(f"migrated in {time.perf_counter() - started:.1f} s (shipped routing rules and catalogue included)")
        started = time.perf_counter()
        world = generate(args)
        setup_seconds = time.perf_counter() - started
        say(f"generated in {setup_seconds:.1f} s")

        autovacuum = autovacuum_on()
        if args.analyze_every is None:
            args.analyze_every = 0 if autovacuum else 30
        if not autovacuum:
            say(
                f"the server runs with autovacuum off; ANALYZE every {args.analyze_every:g} s during the dispatch"
                if args.analyze_every
                else "the server runs with autovacuum off and --analyze-every is 0: "
                "planner statistics stay those of the freshly loaded, unassigned backlog"
            )
        run = run_dispatch(args, url)
        say(f"dispatch finished in {run.seconds:.1f} s ({run.rounds} round(s))")
        runs = robot_runs()
        figures, spread = check(world)
        figures_by_name = dict(figures)
        lost = int(figures_by_name["tasks still queued for the robot (lost)"])

        remember_rules()
        baselines: dict[bool, list[tuple[int, float]]] = {False: [], True: []}  # bare -> runs
        for i in range(args.baseline_runs):
            for bare in (False, True):
                restored = reset_tasks()
                rows, seconds = time_baseline(bare=bare)
                baselines[bare].append((rows, seconds))
                say(
                    f"baseline {i + 1}/{args.baseline_runs} {'bare UPDATE' if bare else 'same rows, one statement'}: "
                    f"{rows} tasks in {seconds:.3f} s (reset restored {restored})"
                )
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg_version = cursor.fetchone()[0]
    finally:
        connection.close()
        if not args.keep:
            drop_database(url)

    dispatch_rate = rate(run.dispatched, run.seconds)
    base_rows, base_seconds = median_run(baselines[False])
    bare_rows, bare_seconds = median_run(baselines[True])
    baseline_rate = rate(base_rows, base_seconds)
    ratio = dispatch_rate / baseline_rate
    robot_ms = sum(r[4] for r in runs)
    batch = args.batch or settings.TAXSERVICE_ROBOT_BATCH

    print()
    print("=" * 78)
    print("DISPATCH BENCHMARK")
    print("=" * 78)
    print(f"command:      {command_line}")
    print(f"code:         {git_state()}")
    print(f"database:     PostgreSQL {pg_version}, {database_name(url)} ({'kept' if args.keep else 'dropped'})")
    print(
        f"machine:      {os.cpu_count()} CPUs; DJANGO_DEBUG={os.environ.get('DJANGO_DEBUG')}, "
        f"Celery eager={settings.CELERY_TASK_ALWAYS_EAGER}"
    )
    print(
        f"data:         {args.tasks} queued tasks ({world.moved_forward_tasks} moved-forward in {args.branches} dispatched "
        f"groups, {world.city_tasks} high-frequency in the city online team), {world.staff_count} staff "
        f"(capacity {world.capacity}), {world.taxpayer_count} taxpayers, {world.conflicts} conflicts; "
        f"generated in {setup_seconds:.1f} s"
    )
    print(
        f"statistics:   autovacuum {'on' if autovacuum else 'off'} on the server; "
        + (
            f"ANALYZE of the task tables every {args.analyze_every:g} s during the dispatch "
            f"({run.analyzes} times, {run.analyze_seconds:.1f} s)"
            if args.analyze_every
            else "no ANALYZE during the dispatch (statistics as loaded)"
        )
    )
    print(
        f"dispatch:     {args.workers} × manage.py robot_sweep --batch {batch}, {run.rounds} round(s)"
        f"{'  ** STOPPED AT THE TIMEOUT: partial run **' if run.timed_out else ''}"
    )
    print()
    print(f"  {'':34} {'tasks':>8} {'seconds':>9} {'tasks/s':>10}")
    print(f"  {'robot dispatch (wall)':34} {run.dispatched:>8} {run.seconds:>9.2f} {dispatch_rate:>10.1f}")
    print(
        f"  {'baseline: same rows, one statement':34} {base_rows:>8} {base_seconds:>9.3f} {baseline_rate:>10.1f}"
        f"   runs: {', '.join(f'{sec:.3f}' for _n, sec in baselines[False])} s"
    )
    print(
        f"  {'(info) bare task UPDATE':34} {bare_rows:>8} {bare_seconds:>9.3f} {rate(bare_rows, bare_seconds):>10.1f}"
        f"   runs: {', '.join(f'{sec:.3f}' for _n, sec in baselines[True])} s"
    )
    print()
    print(
        f"  ratio dispatch / baseline = {ratio:.5f}   target >= {TARGET_RATIO}: "
        f"{'MET' if ratio >= TARGET_RATIO else 'NOT MET'}"
    )
    print(
        f"  ratio dispatch / bare UPDATE = {dispatch_rate / rate(bare_rows, bare_seconds):.5f} "
        "(information only: the baseline of earlier rounds)"
    )
    if runs:
        print(
            f"  time inside robot_run, summed over workers: {robot_ms / 1000:.1f} s "
            f"(wall × workers = {run.seconds * args.workers:.1f} s; the rest is process start-up and exit)"
        )
    print()
    print("Robot runs (RobotRun rows):")
    for pk, dispatched, skipped, reasons, ms in runs:
        why = f"  skipped: {reasons}" if reasons else ""
        print(
            f"  #{pk:<4} dispatched {dispatched:>7}  skipped {skipped:>5}  {ms / 1000:8.1f} s  "
            f"{rate(dispatched, ms / 1000):8.1f} tasks/s{why}"
        )
    if run.timed_out:
        print("  (workers stopped at the timeout log no RobotRun; their committed batches count in the wall figure)")
    for failure in run.failures:
        print(f"  FAILED: {failure}")
    print()
    print("Checks after the dispatch:")
    for name, value in figures:
        print(f"  {name:45} {value:>8}")
    if run.timed_out:
        print(
            f"  (the run was stopped: the {lost} tasks still queued are unfinished, not lost; notifications of the "
            "batches committed just before the stop may be missing: eager Celery writes them after the commit)"
        )
    print()
    print("Load per handling member, by team (assigned tasks):")
    print(f"  {'team':16} {'members':>7} {'assigned':>9} {'min':>7} {'max':>7} {'mean':>9} {'stdev':>8} {'cv':>7}")
    for name, counts in spread:
        mean = statistics.fmean(counts)
        stdev = statistics.pstdev(counts)
        cv = f"{stdev / mean:.3f}" if mean else "-"
        print(
            f"  {name:16} {len(counts):>7} {sum(counts):>9} {min(counts):>7} {max(counts):>7} {mean:>9.1f} {stdev:>8.1f} {cv:>7}"
        )
    print()
    print("Worker output:")
    for output in run.outputs:
        print("  " + output.replace("\n", "\n    "))
    print("=" * 78)
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
