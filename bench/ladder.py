#!/usr/bin/env python
"""Escalation ladder benchmark: the ladder's scan over a million open tasks, against a plain count.

    .venv/bin/python bench/ladder.py [--sizes 100000,1000000] [--quick]
        [--database postgres://postgres@127.0.0.1:5432/taxservice_ladder_bench]

It creates (and at the end drops) a dedicated PostgreSQL database and migrates it (the
shipped ladder: reminder 1 working day before the promise, 催办 1, 督办 3 and 通报 5
working days after). For each size N it empties the task tables and generates N open
tasks with one `INSERT … SELECT … FROM generate_series` (most due in the coming weeks, 1%
due on the next working day, 2% one to fifteen days overdue; a tenth queued without an
assignee, 3% awaiting materials), vacuums and analyses, then times, at a fixed "now":

- the **first scan** (`taxservice.workflow.ladder.services.ladder_scan`, the product's
  function: everything due is sent, with its history rows and notifications);
- the **steady-state scan**: the same scan again, which finds nothing new (median of
  `--repeat`);
- the **baseline**: a plain `SELECT count(*)` over the same open tasks (median of
  `--repeat`), in the same run on the same data;

and prints each time, its ratio to the baseline (target: the scan ≤ 5×), the statements
the scan ran, and its peak Python memory (tracemalloc), which should not grow with N.
It never asserts a timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import dispatch as generator  # noqa: E402 - bench/dispatch.py: the dedicated database

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/taxservice_ladder_bench"
TARGET_RATIO = 5.0
HANDLERS = 200
TAXPAYERS = 5000
say = generator.say


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="100000,1000000", help="open-task counts, comma-separated (default %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (2,000 and 20,000): checks that it runs")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of the steady scan and the count")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="dropped and created (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args(argv)
    args.sizes = [2_000, 20_000] if args.quick else [int(size) for size in args.sizes.split(",")]
    if min(args.sizes) < 100 or args.repeat < 1:
        parser.error("need sizes >= 100 and --repeat >= 1")
    return args


def organisation() -> dict:
    """A district with two tax-source branches, each with a team, handlers and a chief."""
    from django.contrib.auth import get_user_model

    from taxservice.catalogue.models import Item
    from taxservice.org.models import Branch, Role, Staff, StaffRole, Team, Tier
    from taxservice.taxpayers.models import Taxpayer

    city = Branch.objects.create(code="LB-CITY", name="市税务局", kind=Branch.Kind.CITY)
    district = Branch.objects.create(code="LB-D01", name="城区税务局", kind=Branch.Kind.DISTRICT, parent=city)
    sources = [
        Branch.objects.create(code=f"LB-SRC{i}", name=f"第{i}税源管理分局", kind=Branch.Kind.SOURCE, parent=district)
        for i in (1, 2)
    ]
    teams = [
        Team.objects.create(code=f"LB-BASIC{i}", name=f"基础团队{i}", kind=Team.Kind.BASIC, tier=Tier.BACK, branch=b)
        for i, b in enumerate(sources, start=1)
    ]
    User = get_user_model()  # noqa: N806
    users = User.objects.bulk_create([User(username=f"ladder{i:04d}", password="!") for i in range(HANDLERS + 2)])
    staff = Staff.objects.bulk_create(
        [
            Staff(user=user, name=f"员工{i:04d}", home_branch=sources[i % 2], capacity=32767)
            for i, user in enumerate(users)
        ]
    )
    chiefs, handlers = staff[:2], staff[2:]
    StaffRole.objects.bulk_create(
        [StaffRole(staff=s, role=Role.BRANCH_CHIEF) for s in chiefs]
        + [StaffRole(staff=s, role=Role.TEAM_MEMBER) for s in handlers]
    )
    Staff.teams.through.objects.bulk_create(
        [Staff.teams.through(staff_id=s.pk, team_id=teams[i % 2].pk) for i, s in enumerate(handlers)]
    )
    Taxpayer.objects.bulk_create(
        [
            Taxpayer(
                credit_code=generator.credit_code(i + 1),
                name=f"基准纳税人{i + 1:06d}有限公司",
                competent_branch=sources[i % 2],
            )
            for i in range(TAXPAYERS)
        ],
        batch_size=5000,
    )
    item = Item.objects.filter(active=True).order_by("code").first()
    if item is None:
        raise SystemExit("the migrated catalogue has no active item")
    return {
        "teams": [t.pk for t in teams],
        "handlers": [s.pk for s in handlers],
        "taxpayer_min": Taxpayer.objects.order_by("pk").values_list("pk", flat=True).first(),
        "item": item.pk,
    }


def generate(n: int, world: dict, now: dt.datetime) -> None:
    """N open tasks in one statement. Due at 17:30 local: r = a hash of the row number decides
    whether it is due in 2-40 days (97%), tomorrow (1%) or 1-15 days ago (2%)."""
    from django.db import connection

    from taxservice.workflow.cases.models import Task

    today = now.date()
    handlers = world["handlers"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE ladder_escalation, cases_notification, cases_tasktransition, {Task._meta.db_table} "
            "RESTART IDENTITY CASCADE"
        )
        cursor.execute(
            f"""
            INSERT INTO {Task._meta.db_table} (
                note, source, tier, state, due_at, result, feedback_channel, created_at, updated_at,
                assignee_id, case_id, item_id, taxpayer_id, team_id, auto_dispatch, has_open_alert, feedback,
                clock, clock_due_at, clock_at_risk_at, extension_granted_days, extension_requested_days)
            SELECT '', 'business', 'back', s.state, s.due_at, '', '', s.due_at - interval '20 days',
                   s.due_at - interval '20 days',
                   CASE WHEN s.state = 'queued' THEN NULL ELSE (%(handlers)s::bigint[])[1 + g %% %(h)s] END,
                   NULL, %(item)s, %(taxpayer)s + g %% %(taxpayers)s, (%(teams)s::bigint[])[1 + g %% 2],
                   false, false, '',
                   CASE WHEN s.state = 'queued' THEN '' ELSE 'handling' END,
                   CASE WHEN s.state = 'queued' THEN NULL ELSE s.due_at END, NULL, 0, NULL
            FROM generate_series(1, %(n)s::bigint) AS g
            CROSS JOIN LATERAL (SELECT (g * 7919) %% 1000 AS r) AS h
            CROSS JOIN LATERAL (
                SELECT CASE WHEN g %% 10 = 0 THEN 'queued' WHEN g %% 33 = 1 THEN 'awaiting_materials'
                            ELSE 'in_progress' END AS state,
                       (((%(today)s::date + (CASE WHEN h.r < 970 THEN 2 + g %% 39
                                                  WHEN h.r < 980 THEN 1
                                                  ELSE -(1 + g %% 15) END)::int)
                         + time '17:30') AT TIME ZONE %(tz)s) AS due_at
            ) AS s
            """,
            {
                "handlers": generator_ids(handlers),
                "h": len(handlers),
                "item": world["item"],
                "taxpayer": world["taxpayer_min"],
                "taxpayers": TAXPAYERS,
                "teams": generator_ids(world["teams"]),
                "n": n,
                "today": today,
                "tz": str(now.tzinfo),
            },
        )
        cursor.execute("VACUUM ANALYZE")


def generator_ids(ids: list[int]) -> str:
    return "{" + ",".join(map(str, ids)) + "}"


def measure(n: int, world: dict, now: dt.datetime, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from taxservice.workflow.cases.models import OPEN_STATES
    from taxservice.workflow.ladder import services

    started = time.perf_counter()
    generate(n, world, now)
    say(f"{n:,} open tasks generated and vacuumed in {time.perf_counter() - started:.1f} s")

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_task WHERE state = ANY(%s)", [[str(s) for s in OPEN_STATES]])
            return cursor.fetchone()[0]

    count()  # warm, as the scan's pages are after the vacuum
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        first = services.ladder_scan(now=now)
        first_s = time.perf_counter() - started
    _size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_delta = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    statements = len(queries.captured_queries)

    steady, counts = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        again = services.ladder_scan(now=now)
        steady.append(time.perf_counter() - started)
        assert again.sent == 0, "a second scan sent something"
        started = time.perf_counter()
        rows = count()
        counts.append(time.perf_counter() - started)
    return {
        "n": n,
        "rows": rows,
        "sent": first.sent,
        "notified": first.notified,
        "by_step": first.by_step,
        "first": first_s,
        "steady": statistics.median(steady),
        "count": statistics.median(counts),
        "statements": statements,
        "peak_kib": peak / 1024,
        "rss_delta_kib": rss_delta,
    }


def report(result: dict) -> None:
    base = result["count"]
    say(f"N = {result['n']:,}: count(*) = {result['rows']:,} open tasks in {base * 1000:.1f} ms (baseline, median)")
    say(
        f"  first scan:  {result['first'] * 1000:8.1f} ms  = {result['first'] / base:6.1f} × baseline; "
        f"sent {result['sent']:,} steps ({result['by_step']}), {result['notified']:,} notifications"
    )
    verdict = "meets" if result["steady"] / base <= TARGET_RATIO else "misses"
    say(
        f"  steady scan: {result['steady'] * 1000:8.1f} ms  = {result['steady'] / base:6.1f} × baseline "
        f"({verdict} the target ≤ {TARGET_RATIO:.0f}×); sent nothing"
    )
    say(
        f"  first scan: {result['statements']} SQL statements; peak Python memory {result['peak_kib']:.0f} KiB "
        f"(tracemalloc), max RSS grew {result['rss_delta_kib']:,} KiB"
    )


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    generator.database_name(args.database)  # refuses a name without "bench" before anything else
    say(f"database {args.database}: dropped and created")
    generator.recreate_database(args.database)
    try:
        generator.setup_django(args.database)
        from django.core.management import call_command
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        world = organisation()
        # A Wednesday morning: the shipped steps all have tasks to reach.
        now = timezone.make_aware(dt.datetime(2026, 12, 9, 10, 0), timezone.get_current_timezone())
        say(f"now = {now.isoformat()}; {HANDLERS} handlers, 2 chiefs, {TAXPAYERS:,} taxpayers")
        results = [measure(n, world, now, args.repeat) for n in args.sizes]
        print()
        for result in results:
            report(result)
        if len(results) > 1:
            low, high = results[0], results[-1]
            say(
                f"memory from {low['n']:,} to {high['n']:,} tasks: peak Python {low['peak_kib']:.0f} → "
                f"{high['peak_kib']:.0f} KiB; statements {low['statements']} → {high['statements']}"
            )
    finally:
        if args.keep:
            say(f"kept {args.database}")
        else:
            from django.db import connections

            connections.close_all()
            generator.drop_database(args.database)


if __name__ == "__main__":
    main(sys.argv[1:])
