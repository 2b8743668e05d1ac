"""Intake load benchmark: hub intakes against a trivial endpoint of the same server (issue #14).

    .venv/bin/python bench/intake.py                 # 32 clients, 20 s per endpoint
    .venv/bin/python bench/intake.py --seconds 5     # CI (.ci/run)
    .venv/bin/python bench/intake.py --help

What runs: PostgreSQL database `intake_bench` (dropped and created; the name must contain
"intake"), Redis db 13 (flushed) as broker and cache, the demo city (seed_demo, 300
taxpayers), one gunicorn server (2 processes × 4 threads, as the soak) with the API's rate
limit off (TAXSERVICE_API_RATE). No Celery worker: the intakes' dispatch messages wait in
Redis, so the figures are the request's own cost (screening, the task, its audit rows, the
outbox row and its publication), not the robot's.

The same `--clients` threads (http.client, one keep-alive connection each, an integrator's
token) first call `GET /api/v1/me/` (authentication, one staff lookup, JSON) for
`--seconds`, then `POST /api/v1/tasks/` for `--seconds`: every intake a distinct
(taxpayer, item) pair, so screening creates a task rather than merging, and an
`Idempotency-Key` of its own, as an integrator sends. A short warm-up precedes each phase.

Prints per endpoint: requests, errors, requests/s, p50/p95/p99; then the ratios against the
issue's targets (intake ≥ 40 % of the trivial endpoint's throughput, intake p99 ≤ 4× its
p99, 0 errors). Exit status 1 when any request failed (a status other than 200/201, or a
broken connection); the ratios fail the run only with --enforce-targets (docs/operations.md,
"Intake benchmark", says why CI does not).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _live import (
    Client,
    Processes,
    Stats,
    django_setup,
    drop_database,
    free_port,
    fresh_database,
    gunicorn_argv,
    intake_pairs,
    manage,
    percentile,
    service_env,
    tokens_for,
    usernames_with_role,
    wait_ready,
)

STARTED = time.monotonic()
THROUGHPUT_TARGET = 0.40
P99_TARGET = 4.0


def log(message: str) -> None:
    print(f"[intake +{time.monotonic() - STARTED:5.1f}s] {message}", flush=True)


def hammer(port: int, tokens: list[str], clients: int, seconds: float, request, stats: Stats) -> float:
    """`clients` threads call `request(client)` until `seconds` have passed; the wall time."""
    stop = threading.Event()

    def loop(n: int) -> None:
        client = Client(port, tokens[n % len(tokens)], stats, prefix="intake-bench")
        while not stop.is_set():
            request(client)
        client.close()

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/intake_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured seconds before each phase")
    parser.add_argument("--taxpayers", type=int, default=300, help="demo city size (pairs = taxpayers × items)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--enforce-targets", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the database, Redis db and logs")
    args = parser.parse_args()

    import redis

    dbname = fresh_database(args.database, "intake")
    redis_client = redis.Redis.from_url(args.redis)
    redis_client.flushdb()
    workdir = Path(tempfile.mkdtemp(prefix="taxservice-intake-"))
    env = service_env(args.database, args.redis, workdir)
    procs = Processes(workdir, env)
    failed = False
    try:
        log(f"database {dbname}, redis {args.redis}, logs in {workdir}")
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--taxpayers", str(args.taxpayers), "--cases", "10")
        django_setup(env)
        from taxservice.org.models import Role

        integrators = usernames_with_role(Role.INTEGRATOR, 8)
        tokens = list(tokens_for(integrators, "intake-bench").values())
        pairs = iter(intake_pairs(1_000_000))
        pairs_lock = threading.Lock()
        log(f"migrated and seeded; {len(tokens)} integrator tokens")

        port = free_port()
        procs.start("web", gunicorn_argv(port, args.web_workers, args.web_threads))
        wait_ready(port)
        log(f"gunicorn on {port} ({args.web_workers} processes × {args.web_threads} threads); {args.clients} clients")

        def me(client: Client) -> None:
            client.call("me", "GET", "/api/v1/me/")

        def intake(client: Client) -> None:
            with pairs_lock:
                pair = next(pairs, None)
            if pair is None:
                raise SystemExit("out of distinct (taxpayer, item) pairs: raise --taxpayers")
            body = {"source": "risk", "taxpayer": pair[0], "item": pair[1], "notes": f"intake-bench-{uuid.uuid4().hex}"}
            client.call("intake", "POST", "/api/v1/tasks/", body, {"Idempotency-Key": uuid.uuid4().hex})

        stats, wall = Stats(), {}
        for kind, request in (("me", me), ("intake", intake)):
            hammer(port, tokens, args.clients, args.warmup, request, Stats())
            wall[kind] = hammer(port, tokens, args.clients, args.seconds, request, stats)
            log(f"{kind}: {len(stats.latencies[kind])} requests in {wall[kind]:.1f}s")

        print(f"\n{'endpoint':<24}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
        figures = {}
        for kind, label, ok in (("me", "GET /api/v1/me/", {200}), ("intake", "POST /api/v1/tasks/", {200, 201})):
            values = stats.latencies[kind]
            errors = sum(n for (k, status), n in stats.statuses.items() if k == kind and status not in ok)
            rate = len(values) / wall[kind]
            p = {q: percentile(values, q) * 1000 for q in (50, 95, 99)}
            figures[kind] = (rate, p[99], errors)
            print(f"{label:<24}{len(values):>9}{errors:>8}{rate:>9.1f}{p[50]:>9.1f}{p[95]:>9.1f}{p[99]:>9.1f}")
        created = sum(n for (k, status), n in stats.statuses.items() if k == "intake" and status == 201)
        merged = sum(n for (k, status), n in stats.statuses.items() if k == "intake" and status == 200)
        print(f"intakes: {created} created (201), {merged} merged (200)")

        throughput = figures["intake"][0] / figures["me"][0] if figures["me"][0] else 0.0
        p99_ratio = figures["intake"][1] / figures["me"][1] if figures["me"][1] else float("inf")
        errors = figures["me"][2] + figures["intake"][2]
        checks = [
            (
                f"intake throughput ≥ {THROUGHPUT_TARGET:.0%} of the trivial endpoint's",
                throughput >= THROUGHPUT_TARGET,
                f"{throughput:.0%}",
            ),
            (f"intake p99 ≤ {P99_TARGET:g}× the trivial endpoint's", p99_ratio <= P99_TARGET, f"{p99_ratio:.2f}×"),
            ("0 errors", errors == 0, str(errors)),
        ]
        print()
        for label, met, value in checks:
            print(f"  {'met    ' if met else 'MISSED '} {label}: {value}")
        for error in stats.errors[:10]:
            print(f"  error: {error}")
        failed = errors > 0 or (args.enforce_targets and not all(met for _l, met, _v in checks))
        if procs.dead():
            print(f"processes died: {procs.dead()}")
            failed = True
    finally:
        procs.stop_all()
        if not args.keep:
            drop_database(args.database)
            redis_client.flushdb()
    if failed:
        print(f"\nINTAKE BENCHMARK FAILED (logs: {workdir})")
        return 1
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nINTAKE BENCHMARK PASSED in {time.monotonic() - STARTED:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
