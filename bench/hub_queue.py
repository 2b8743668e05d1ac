#!/usr/bin/env python
"""Hub list benchmark: the coordinator's queue over a large backlog, against bare indexed SQL.

    .venv/bin/python bench/hub_queue.py [--tasks 1000000] [--repeat 5]
        [--database postgres://postgres@127.0.0.1:5432/taxservice_bench]

It creates (and at the end drops) a dedicated PostgreSQL database with the dispatch
benchmark's generator (bench/dispatch.py: organisation, taxpayers, queued tasks), flags
1% of the tasks with an open hub alert, vacuums and analyses, then times with a
coordinator's scope:

- the hub list's first page and a deep page (`routing.selectors.hub_tasks` + the app's
  paginator, taxservice.pagination: the page's rows and the total count), with the
  number of queries;
- the six facet counts of the unfiltered dashboard (`routing.selectors.hub_facets`: one
  GROUP BY scan for all of them);
- the baseline: the same first page and count as two hand-written SQL statements.

It prints the median of `--repeat` runs of each and the plan's index for the list. It
never asserts a timing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import dispatch as generator  # noqa: E402 - bench/dispatch.py: the database and the data

PAGE_SIZE = 50


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000, help="queued tasks (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measurement (default %(default)s)")
    parser.add_argument(
        "--database", default=generator.DEFAULT_DATABASE, help="dropped and created (default %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args(argv)
    if args.tasks < PAGE_SIZE * 2 or args.repeat < 1:
        parser.error(f"need --tasks >= {PAGE_SIZE * 2} and --repeat >= 1")
    # What bench/dispatch.py's generator reads.
    args.staff, args.branches, args.capacity = 40, 3, 10_000
    return args


def timed(repeat: int, work) -> tuple[float, int]:
    """Median milliseconds of `work()`, and the number of queries one run makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        work()  # also warms the cache: the median below is of warm runs
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), len(queries)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    url = args.database
    generator.database_name(url)
    generator.say(f"recreating database {generator.database_name(url)}")
    generator.recreate_database(url)
    generator.setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from taxservice.org.models import Role, Staff
    from taxservice.pagination import IdFirstPaginator
    from taxservice.workflow.cases.models import Task
    from taxservice.workflow.routing import selectors

    try:
        call_command("migrate", verbosity=0)
        generator.generate(args)
        table = Task._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET has_open_alert = true WHERE id % 100 = 0")
            cursor.execute(f"VACUUM ANALYZE {table}")
        coordinator = Staff.objects.filter(role_rows__role=Role.COORDINATOR).order_by("pk").first()
        clock = selectors.Clock.at(timezone.now())
        total = Task.objects.filter(state="queued").count()
        deep = max(1, total // PAGE_SIZE // 2)
        generator.say(f"{total} queued tasks; timing {args.repeat} runs of each (median, warm)")

        def page(number: int):
            def work() -> None:
                qs = selectors.hub_tasks(staff=coordinator, filters={}, clock=clock)
                paged = IdFirstPaginator(qs, PAGE_SIZE).page(number)
                list(paged.object_list)

            return work

        def facets() -> None:
            selectors.hub_facets(staff=coordinator, filters={}, clock=clock)

        def baseline() -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id FROM {table} WHERE state = 'queued' "
                    f"ORDER BY has_open_alert DESC, created_at, id LIMIT {PAGE_SIZE}"
                )
                cursor.fetchall()
                cursor.execute(f"SELECT count(*) FROM {table} WHERE state = 'queued'")
                cursor.fetchone()

        results = [
            ("baseline: bare SQL, first page + count", *timed(args.repeat, baseline)),
            ("hub list, first page (rows + count)", *timed(args.repeat, page(1))),
            (f"hub list, page {deep} (rows + count)", *timed(args.repeat, page(deep))),
            ("facet counts (all six)", *timed(args.repeat, facets)),
        ]
        plan_qs = selectors.hub_tasks(staff=coordinator, filters={}, clock=clock)[:PAGE_SIZE]
        plan = plan_qs.explain()
    finally:
        connection.close()
        if not args.keep:
            generator.drop_database(url)

    base_ms = results[0][1]
    print()
    print("=" * 78)
    print(
        f"Hub list benchmark: {total} queued tasks (1% with an open alert), page size {PAGE_SIZE}, "
        f"median of {args.repeat}"
    )
    print(f"command:  {' '.join([sys.executable, *sys.argv])}")
    print(f"code:     {generator.git_state()}")
    print()
    print(f"  {'':42} {'ms':>9} {'queries':>8} {'× baseline':>11}")
    for label, ms, queries in results:
        print(f"  {label:42} {ms:>9.1f} {queries:>8} {ms / base_ms:>11.1f}")
    print()
    uses = "task_hub_queue_idx" if "task_hub_queue_idx" in plan else "another plan (see below)"
    print(f"  the list's plan uses: {uses}")
    for line in plan.splitlines()[:8]:
        print(f"    {line}")
    print("=" * 78)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
