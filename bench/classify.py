#!/usr/bin/env python
"""Classification benchmark: the product's bulk recomputation of a million taxpayers against one hand-written UPDATE.

    .venv/bin/python bench/classify.py [--taxpayers 1000000] [--quick]
        [--database postgres://postgres@127.0.0.1:5432/taxservice_classify_bench]

It creates (and at the end drops) a dedicated PostgreSQL database, migrates it (the shipped
classification rules, version 1), and generates N taxpayers in one `INSERT … SELECT … FROM
generate_series` (kinds, scales, industries, risk levels and credit grades spread by hashes
of the row number; every one of the tax-source branch row's taxpayers, a real foreign key).
Then, each time from the same starting state (every taxpayer ungraded, no history, the
table vacuumed and analysed), it times:

- the **product**: `classification_run_start` + `classification_run`, the code the job
  runs: id chunks of TAXSERVICE_CLASSIFY_CHUNK (50,000), one generated set-based statement
  per chunk (taxservice/taxpayers/sql.py), each in its own transaction with the run's
  progress, printed as a bar; peak Python memory (tracemalloc);
- the **baseline**: one hand-written statement over every taxpayer at once, with the
  shipped rules typed in as CASE expressions, that writes the same rows: the taxpayers'
  UPDATE and, as a data-modifying CTE, the same history rows (a baseline that did not
  write the history would do less work than the product).

It checks that both gave every taxpayer the same category and grade and wrote as many
history rows, prints both times and the ratio baseline ÷ product (target ≥ 0.5), then
times a second product run, which finds nothing to change. It never asserts a timing.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import dispatch as generator  # noqa: E402 - bench/dispatch.py: the dedicated database

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/taxservice_classify_bench"
TARGET_RATIO = 0.5
BAR = 40
say = generator.say

# The shipped rules (taxservice/taxpayers/migrations/0004_default_classification_rules.py),
# typed by hand: the baseline does not use the product's generator.
BASELINE = """
WITH changed AS (
    UPDATE taxpayers_taxpayer AS t
       SET category = n.new_category, service_grade = n.new_grade
      FROM (
            SELECT o.id, o.category, o.service_grade,
                   CASE WHEN o.kind = 'individual_business' THEN 'individual_business'
                        WHEN o.kind = 'natural_person' THEN 'natural_person'
                        WHEN o.scale = 'large' THEN 'key_enterprise'
                        WHEN o.scale = 'medium' THEN 'ordinary_enterprise'
                        ELSE 'small_micro_enterprise' END AS new_category,
                   CASE WHEN o.risk_level = 'high' OR o.grade = 'D' THEN 'D'
                        WHEN o.grade = 'C' OR o.risk_level = 'medium' THEN 'C'
                        WHEN o.kind = 'enterprise' AND o.scale IN ('large', 'medium')
                             AND o.risk_level = 'low' AND o.grade = 'A' THEN 'A'
                        ELSE 'B' END AS new_grade
              FROM taxpayers_taxpayer AS o
           ) AS n
     WHERE t.id = n.id
       AND (n.category IS DISTINCT FROM n.new_category OR n.service_grade IS DISTINCT FROM n.new_grade)
    RETURNING t.id, n.category, n.service_grade, n.new_category, n.new_grade
)
INSERT INTO taxpayers_taxpayergradechange
       (taxpayer_id, before_category, after_category, before_grade, after_grade, rule_set_id, run_id, at)
SELECT id, category, new_category, service_grade, new_grade, %(rule_set)s, NULL, now() FROM changed
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taxpayers", type=int, default=1_000_000, help="taxpayers (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="100,000 taxpayers: checks that it runs")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="dropped and created (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args(argv)
    if args.quick:
        args.taxpayers = 100_000
    if args.taxpayers < 1000:
        parser.error("need --taxpayers >= 1000")
    return args


def generate(n: int) -> None:
    """One tax-source branch and N taxpayers, in one statement. The credit codes are unique
    and well-formed in length, not check-digit valid (the database does not check them)."""
    from django.db import connection

    from taxservice.org.models import Branch

    city = Branch.objects.create(code="CB-CITY", name="市税务局", kind=Branch.Kind.CITY)
    source = Branch.objects.create(code="CB-SRC1", name="第一税源管理分局", kind=Branch.Kind.SOURCE, parent=city)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO taxpayers_taxpayer (
                credit_code, name, competent_branch_id, classification, grade, address, created_at,
                kind, industry, scale, risk_level, category, service_grade)
            SELECT '91330100' || lpad(g::text, 9, '0') || 'X', '基准纳税人' || g, %(branch)s,
                   CASE WHEN g %% 10 < 7 THEN 'small_scale' ELSE 'individual_business' END,
                   CASE WHEN (g * 31) %% 100 < 15 THEN 'A' WHEN (g * 31) %% 100 < 63 THEN 'B'
                        WHEN (g * 31) %% 100 < 85 THEN 'M' WHEN (g * 31) %% 100 < 95 THEN 'C' ELSE 'D' END,
                   '', now(),
                   CASE WHEN g %% 10 < 7 THEN 'enterprise' WHEN g %% 10 < 9 THEN 'individual_business'
                        ELSE 'natural_person' END,
                   (ARRAY['A','C','C','E','F','F','G','H','I','K'])[1 + (g * 13) %% 10],
                   (ARRAY['large','medium','medium','small','small','small','micro','micro','micro','micro'])
                       [1 + (g * 7) %% 10],
                   CASE WHEN (g * 7919) %% 100 < 80 THEN 'low' WHEN (g * 7919) %% 100 < 94 THEN 'medium'
                        ELSE 'high' END,
                   '', ''
            FROM generate_series(1, %(n)s::bigint) AS g
            """,
            {"branch": source.pk, "n": n},
        )


def reset() -> None:
    """The same starting state for every timed run: everyone ungraded, no history, vacuumed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE taxpayers_taxpayergradechange")
        cursor.execute("UPDATE taxpayers_taxpayer SET category = '', service_grade = ''")
        cursor.execute("VACUUM ANALYZE taxpayers_taxpayer")
        cursor.execute("VACUUM ANALYZE taxpayers_taxpayergradechange")


def outcome() -> tuple[dict[tuple[str, str], int], int, str]:
    """(taxpayers by category and grade, history rows, a digest of every taxpayer's values)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT category, service_grade, count(*) FROM taxpayers_taxpayer GROUP BY 1, 2")
        counts = {(category, grade): n for category, grade, n in cursor.fetchall()}
        cursor.execute("SELECT count(*) FROM taxpayers_taxpayergradechange")
        history = cursor.fetchone()[0]
        cursor.execute(
            "SELECT md5(string_agg(id || category || service_grade, ',' ORDER BY id)) FROM taxpayers_taxpayer"
        )
        digest = cursor.fetchone()[0]
    return counts, history, digest


def bar(run) -> None:
    filled = int(BAR * run.done / run.total) if run.total else BAR
    sys.stdout.write(
        f"\r  [{'#' * filled}{'.' * (BAR - filled)}] {run.percent:3d}%  {run.done:,} of {run.total:,} checked, "
        f"{run.changed:,} changed"
    )
    sys.stdout.flush()


def product() -> tuple[float, int, object]:
    from taxservice.taxpayers.classification_services import classification_run, classification_run_start

    run = classification_run_start(actor=None, cause="benchmark", background=False)
    tracemalloc.start()
    started = time.perf_counter()
    run = classification_run(run_id=run.pk, on_chunk=bar)
    seconds = time.perf_counter() - started
    _size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print()
    return seconds, peak, run


def baseline() -> float:
    from django.db import connection, transaction

    from taxservice.taxpayers.models import ClassificationRuleSet

    rule_set = ClassificationRuleSet.objects.order_by("-version").first()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(BASELINE, {"rule_set": rule_set.pk})
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    generator.database_name(args.database)  # refuses a name without "bench" before anything else
    say(f"database {args.database}: dropped and created")
    generator.recreate_database(args.database)
    try:
        generator.setup_django(args.database)
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        generate(args.taxpayers)
        say(f"{args.taxpayers:,} taxpayers generated in {time.perf_counter() - started:.1f} s")
        chunk = getattr(settings, "TAXSERVICE_CLASSIFY_CHUNK", 50_000)

        reset()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        say(f"product: classification_run, chunks of {chunk:,} ids")
        product_s, peak, run = product()
        rss_delta = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        product_outcome = outcome()
        say(f"product: {run.state}, {run.changed:,} changed, {product_outcome[1]:,} history rows in {product_s:.2f} s")
        started = time.perf_counter()
        again = product()[2]
        say(f"second run (nothing to change): {again.changed:,} changed in {time.perf_counter() - started:.2f} s")

        reset()
        say("baseline: one hand-written UPDATE … RETURNING into the history, every taxpayer at once")
        baseline_s = baseline()
        baseline_outcome = outcome()
        say(f"baseline: {baseline_outcome[1]:,} history rows in {baseline_s:.2f} s")

        same = product_outcome == baseline_outcome
        ratio = baseline_s / product_s
        print()
        say(f"taxpayers: {args.taxpayers:,}; by grade: {grades(product_outcome[0])}")
        say(f"same grades, categories and history rows as the baseline: {'yes' if same else 'NO'}")
        say(
            f"product {product_s:.2f} s ({args.taxpayers / product_s:,.0f} taxpayers/s), "
            f"baseline {baseline_s:.2f} s ({args.taxpayers / baseline_s:,.0f}/s)"
        )
        verdict = "meets" if ratio >= TARGET_RATIO else "misses"
        say(f"ratio baseline ÷ product = {ratio:.2f} ({verdict} the target ≥ {TARGET_RATIO})")
        say(
            f"peak Python memory during the product's run: {peak / 1024:,.0f} KiB (tracemalloc); max RSS grew {rss_delta:,} KiB"
        )
    finally:
        if args.keep:
            say(f"kept {args.database}")
        else:
            from django.db import connections

            connections.close_all()
            generator.drop_database(args.database)


def grades(counts: dict[tuple[str, str], int]) -> str:
    by_grade: dict[str, int] = {}
    for (_category, grade), n in counts.items():
        by_grade[grade] = by_grade.get(grade, 0) + n
    return ", ".join(f"{grade} {n:,}" for grade, n in sorted(by_grade.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
