"""Fault suite: kill what a real installation loses, then prove nothing was lost or doubled (issue #14).

    .venv/bin/python bench/faults.py            # CI (.ci/run): about three minutes
    .venv/bin/python bench/faults.py --help

What runs: PostgreSQL database `faults` (dropped and created; the name must contain
"faults"), Redis db 11 (flushed), one gunicorn server (2 processes × 4 threads), one
Celery worker and beat (robot sweep every 5 s, outbox relay every 2 s, stuck-upload sweep
every 5 s), the demo city with its integrators' and a coordinator's API tokens. Redis
redelivers a dead worker's messages after 20 s (TAXSERVICE_BROKER_VISIBILITY_TIMEOUT).

Four fault runs, one after the other:
  a. dispatch: a batch of intakes; the worker is killed with SIGKILL (its whole process
     group) while the robot dispatches them, and started again.
  b. upload: a CSV of --upload-rows rows; the worker is killed while it imports, and
     started again.
  c. database: intake load while every connection to the database is terminated
     (pg_terminate_backend) every --terminate-every seconds (3).
  d. broker: gunicorn restarted with CELERY_BROKER_URL at a closed port, intake load,
     then gunicorn restarted with the real broker.
Clients behave like a careful integrator: every intake carries an Idempotency-Key, and on a
5xx or a broken connection the same request is sent again with the same key.

Afterwards (exit status 1 when any fails): every intake the API acknowledged is in the
database exactly once, with the task id the API returned; no task of the suite was assigned
twice and none is left for the robot; every upload ended (`done` with all its rows, or
`failed` with a reason); the outbox drains to 0 unsent messages; no answer was a 5xx other
than 503, and no connection broke except while gunicorn restarted (run d).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from _live import (
    Client,
    Processes,
    Stats,
    beat_argv,
    django_setup,
    drop_database,
    free_port,
    fresh_database,
    get_json,
    gunicorn_argv,
    intake_pairs,
    manage,
    service_env,
    tokens_for,
    usernames_with_role,
    wait_ready,
    worker_argv,
)

STARTED = time.monotonic()
CLOSED_BROKER = "redis://127.0.0.1:1/0"


def log(message: str) -> None:
    print(f"[faults +{time.monotonic() - STARTED:5.1f}s] {message}", flush=True)


@dataclass
class Run:
    """One fault run's figures and what the API acknowledged in it."""

    name: str
    stats: Stats = field(default_factory=Stats)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[str, int] = field(default_factory=dict)  # idempotency key -> task id
    gave_up: list[str] = field(default_factory=list)
    retries: int = 0
    replayed: int = 0
    notes: list[str] = field(default_factory=list)  # what happened, for the report
    uploads: list[tuple[int, list[str]]] = field(default_factory=list)
    allow_broken_connections: bool = False
    seconds: float = 0.0


class Suite:
    def __init__(self, args, env: dict[str, str], procs: Processes, workdir: Path) -> None:
        self.args = args
        self.env = env
        self.procs = procs
        self.workdir = workdir
        self.port = free_port()
        self.pairs = iter(intake_pairs(1_000_000))
        self.pairs_lock = threading.Lock()
        self.runs: list[Run] = []
        self.worker_starts = 0

    # --- processes ---------------------------------------------------------------------

    def start_web(self, env: dict[str, str] | None = None) -> None:
        self.procs.start("web", gunicorn_argv(self.port), env)
        if env is None:
            wait_ready(self.port)
            return
        # Without a broker /readyz answers 503 (its broker check fails): wait for any answer.
        deadline = time.monotonic() + 60
        while get_json(self.port, "/readyz")[0] == 0:
            if time.monotonic() > deadline:
                raise SystemExit(f"the server on port {self.port} does not answer")
            time.sleep(0.5)

    def start_worker(self) -> None:
        self.worker_starts += 1
        self.procs.start("worker", worker_argv(f"faults{self.worker_starts}"))

    def kill_worker(self) -> None:
        self.procs.kill("worker")

    # --- clients -------------------------------------------------------------------------

    def next_pair(self) -> tuple[str, str]:
        with self.pairs_lock:
            pair = next(self.pairs, None)
        if pair is None:
            raise SystemExit("out of distinct (taxpayer, item) pairs: raise --taxpayers")
        return pair

    def intake(self, run: Run, client: Client) -> None:
        """One intake, sent again with its key until the API answers it (at most 2 minutes)."""
        key = uuid.uuid4().hex
        taxpayer, item = self.next_pair()
        body = {"source": "risk", "taxpayer": taxpayer, "item": item, "notes": f"faults-{run.name}-{key}"}
        deadline = time.monotonic() + 120
        attempt = 0
        while True:
            attempt += 1
            status, answer = client.call(run.name, "POST", "/api/v1/tasks/", body, {"Idempotency-Key": key})
            if status in (200, 201) and answer:
                with run.lock:
                    run.acked[key] = answer["id"]
                    run.retries += attempt - 1
                    run.replayed += attempt > 1
                return
            if (status and status < 500) or time.monotonic() > deadline:
                with run.lock:
                    run.gave_up.append(f"{key}: {status} {answer}")
                return
            time.sleep(0.2)

    def load(self, run: Run, clients: int, seconds: float | None = None, count: int | None = None) -> None:
        """`clients` integrators send intakes for `seconds`, or `count` intakes in all."""
        stop = threading.Event()
        budget = iter(range(count)) if count is not None else None
        budget_lock = threading.Lock()

        def loop(n: int) -> None:
            client = Client(self.port, self.tokens[n % len(self.tokens)], run.stats, prefix=f"faults-{run.name}")
            while not stop.is_set():
                if budget is not None:
                    with budget_lock:
                        if next(budget, None) is None:
                            return
                self.intake(run, client)
            client.close()

        threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(clients)]
        for thread in threads:
            thread.start()
        if seconds is not None:
            time.sleep(seconds)
            stop.set()
        for thread in threads:
            thread.join(timeout=300)

    # --- waiting for the work to settle ----------------------------------------------------

    def settle(self, run: Run, seconds: float = 90) -> bool:
        """Until the robot's backlog, the outbox's unsent messages and unfinished uploads are 0."""
        from django.db import connection

        from taxservice.outbox.models import OutboxMessage
        from taxservice.workflow.routing.models import UploadBatch
        from taxservice.workflow.routing.services import robot_backlog

        started = time.monotonic()
        while True:
            try:
                backlog = robot_backlog().count()
                pending = OutboxMessage.objects.filter(sent_at__isnull=True).count()
                uploads = UploadBatch.objects.filter(state__in=["pending", "validating", "importing"]).count()
            except Exception:  # run c terminates this process's connection too
                connection.close()
                time.sleep(0.5)
                continue
            finally:
                connection.close()
            if backlog == 0 and pending == 0 and uploads == 0:
                run.notes.append(f"settled {time.monotonic() - started:.1f}s after the fault")
                return True
            if time.monotonic() - started > seconds:
                run.notes.append(
                    f"NOT settled after {seconds:.0f}s: robot backlog {backlog}, outbox unsent {pending}, "
                    f"uploads unfinished {uploads}"
                )
                return False
            time.sleep(0.5)

    # --- the four fault runs ---------------------------------------------------------------

    def run_dispatch(self) -> Run:
        """a. kill -9 the worker while the robot dispatches a batch of intakes."""
        from taxservice.workflow.cases.models import Task

        run = Run("dispatch")
        loader = threading.Thread(target=self.load, args=(run, 16), kwargs={"count": self.args.dispatch_intakes})
        started = time.monotonic()
        loader.start()
        while len(run.acked) < self.args.dispatch_intakes // 3 and loader.is_alive():
            time.sleep(0.05)
        assigned = Task.objects.filter(intakes__notes__startswith="faults-dispatch-", assignee__isnull=False).count()
        self.kill_worker()
        run.notes.append(f"worker killed (SIGKILL) after {len(run.acked)} intakes acknowledged, {assigned} dispatched")
        time.sleep(2)
        self.start_worker()
        loader.join()
        run.notes.append(f"worker restarted; {len(run.acked)} intakes acknowledged in all")
        self.settle(run)
        run.seconds = time.monotonic() - started
        return run

    def run_upload(self) -> Run:
        """b. kill -9 the worker while it imports a bulk upload."""
        run = Run("upload")
        started = time.monotonic()
        notes = [f"faults-upload-{uuid.uuid4().hex}" for _ in range(self.args.upload_rows)]
        rows = ["source,taxpayer,item,notes"]
        for note in notes:
            taxpayer, item = self.next_pair()
            rows.append(f"business,{taxpayer},{item},{note}")
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="faults.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n" + "\n".join(rows) + f"\r\n--{boundary}--\r\n"
        ).encode()
        client = Client(self.port, self.coordinator_token, run.stats, prefix="faults-upload")
        status, answer = client.call(
            "upload",
            "POST",
            "/api/v1/hub/uploads/",
            body,
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        if status != 202 or not answer:
            run.gave_up.append(f"upload refused: {status} {answer}")
            return run
        batch_id = answer["id"]
        run.uploads.append((batch_id, notes))
        seen = answer
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, seen = client.call("upload_poll", "GET", f"/api/v1/hub/uploads/{batch_id}/")
            if seen and (seen["state"] == "importing" or seen["state"] in ("done", "failed")):
                break
            time.sleep(0.05)
        self.kill_worker()
        run.notes.append(
            f"upload {batch_id} of {len(notes)} rows; worker killed (SIGKILL) while it was "
            f"{(seen or {}).get('state')} ({(seen or {}).get('processed_rows')} rows processed)"
        )
        time.sleep(2)
        self.start_worker()
        self.settle(run, seconds=self.args.upload_wait)
        status, seen = client.call("upload_poll", "GET", f"/api/v1/hub/uploads/{batch_id}/")
        run.notes.append(
            f"upload {batch_id} ended {(seen or {}).get('state')}: {(seen or {}).get('created_count')} created, "
            f"{(seen or {}).get('merged_count')} merged"
        )
        client.close()
        run.seconds = time.monotonic() - started
        return run

    def run_database(self) -> Run:
        """c. terminate every database connection, again and again, under intake load."""
        import psycopg

        run = Run("database")
        started = time.monotonic()
        stop = threading.Event()
        terminated = Counter()

        def terminator() -> None:
            dbname = self.args.database.rsplit("/", 1)[1]
            with psycopg.connect(self.args.database.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                while not stop.wait(self.args.terminate_every):
                    rows = conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()",
                        [dbname],
                    ).fetchall()
                    terminated["rounds"] += 1
                    terminated["connections"] += len(rows)

        killer = threading.Thread(target=terminator, daemon=True)
        killer.start()
        self.load(run, 16, seconds=self.args.load_seconds)
        stop.set()
        killer.join(timeout=10)
        run.notes.append(
            f"{terminated['connections']} connections terminated in {terminated['rounds']} rounds "
            f"during {self.args.load_seconds:.0f}s of load"
        )
        self.settle(run)
        run.seconds = time.monotonic() - started
        return run

    def run_broker(self) -> Run:
        """d. the web servers' broker is a closed port for a while."""
        from taxservice.outbox.models import OutboxMessage

        run = Run("broker", allow_broken_connections=True)
        started = time.monotonic()
        self.procs.stop("web")
        self.start_web({**self.env, "CELERY_BROKER_URL": CLOSED_BROKER})
        run.notes.append(f"gunicorn restarted with CELERY_BROKER_URL={CLOSED_BROKER}")
        self.load(run, 8, seconds=self.args.load_seconds / 2)
        unsent = OutboxMessage.objects.filter(sent_at__isnull=True).count()
        run.notes.append(f"{len(run.acked)} intakes acknowledged with the broker down; {unsent} outbox messages unsent")
        loader = threading.Thread(target=self.load, args=(run, 8), kwargs={"seconds": self.args.load_seconds / 2})
        loader.start()
        time.sleep(1)
        self.procs.stop("web")
        self.start_web()
        run.notes.append("gunicorn restarted with the real broker under load")
        loader.join()
        self.settle(run)
        run.seconds = time.monotonic() - started
        return run


# --- the checks ---------------------------------------------------------------------------------


def check(suite: Suite) -> list[str]:
    from django.db.models import Count, Q

    from taxservice.outbox.models import OutboxMessage
    from taxservice.workflow.cases.models import Task, TaskAssignment, TaskIntake
    from taxservice.workflow.routing.models import UploadBatch
    from taxservice.workflow.routing.services import robot_backlog

    failures = []
    for run in suite.runs:
        for key, task_id in run.acked.items():
            rows = list(TaskIntake.objects.filter(notes=f"faults-{run.name}-{key}").values_list("task_id", flat=True))
            if rows != [task_id]:
                failures.append(f"{run.name}: acknowledged intake {key} (T{task_id}) is in the database as {rows}")
        written = TaskIntake.objects.filter(notes__startswith=f"faults-{run.name}-").count()
        if written != len(run.acked) and not run.gave_up:
            failures.append(f"{run.name}: {written} intake rows for {len(run.acked)} acknowledged intakes")
        failures += [f"{run.name}: gave up on {what}" for what in run.gave_up]
        for (kind, status), n in run.stats.statuses.items():
            if status >= 500 and status != 503:
                failures.append(f"{run.name}: {n} × {status} on {kind}")
            if status == 0 and not run.allow_broken_connections:
                failures.append(f"{run.name}: {n} broken connections on {kind}")
        for batch_id, notes in run.uploads:
            batch = UploadBatch.objects.get(pk=batch_id)
            if batch.state == "done":
                found = Counter(TaskIntake.objects.filter(notes__in=notes).values_list("notes", flat=True))
                if batch.created_count + batch.merged_count != len(notes) or any(found[n] != 1 for n in notes):
                    failures.append(f"upload {batch_id} is done but not every row is in the database exactly once")
            elif batch.state == "failed":
                if not batch.errors:
                    failures.append(f"upload {batch_id} failed without a reason")
            else:
                failures.append(f"upload {batch_id} did not end: {batch.state}")
    ours = Task.objects.filter(intakes__notes__startswith="faults-").distinct()
    twice = (
        Task.objects.filter(pk__in=ours.values("pk"))
        .annotate(n=Count("transitions", filter=Q(transitions__transition__in=["assign", "reassign"])))
        .filter(n__gt=1)
    )
    if twice.exists():
        failures.append(
            f"{twice.count()} tasks were assigned more than once: {list(twice.values_list('pk', flat=True)[:10])}"
        )
    doubled = TaskAssignment.objects.filter(active=True).values("task").annotate(n=Count("id")).filter(n__gt=1)
    if doubled.exists():
        failures.append(f"{doubled.count()} tasks have two active assignments")
    left = robot_backlog().filter(pk__in=ours.values("pk")).count()
    if left:
        failures.append(f"{left} of the suite's tasks still wait for the robot")
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    if unsent:
        failures.append(f"the outbox did not drain: {unsent} unsent messages")
    print(
        f"\nchecked {ours.count()} tasks of the suite: "
        f"{TaskAssignment.objects.filter(task__in=ours.values('pk')).count()} assignments, "
        f"{left} left for the robot, {unsent} outbox messages unsent, "
        f"{OutboxMessage.objects.count()} outbox messages in all"
    )
    return failures


def report(suite: Suite) -> None:
    print(
        f"\n{'run':<10}{'seconds':>8}{'acked':>7}{'requests':>9}{'2xx':>6}{'503':>6}{'other 5xx':>10}"
        f"{'broken':>7}{'retried':>8}{'replayed':>9}"
    )
    for run in suite.runs:
        by = Counter()
        for (_kind, status), n in run.stats.statuses.items():
            by[
                "2xx"
                if 200 <= status < 300
                else "503"
                if status == 503
                else "5xx"
                if status >= 500
                else "broken"
                if status == 0
                else "other"
            ] += n
        print(
            f"{run.name:<10}{run.seconds:>8.1f}{len(run.acked):>7}{sum(by.values()):>9}{by['2xx']:>6}{by['503']:>6}"
            f"{by['5xx']:>10}{by['broken']:>7}{run.retries:>8}{run.replayed:>9}"
        )
    for run in suite.runs:
        for note in run.notes:
            print(f"  {run.name}: {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/faults")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--taxpayers", type=int, default=250, help="demo city size (pairs = taxpayers × items)")
    parser.add_argument("--dispatch-intakes", type=int, default=300)
    parser.add_argument("--upload-rows", type=int, default=1000)
    parser.add_argument("--upload-wait", type=float, default=300, help="seconds the upload may take to end")
    parser.add_argument("--load-seconds", type=float, default=20, help="load of runs c and d")
    parser.add_argument("--terminate-every", type=float, default=3, help="run c: seconds between terminations")
    parser.add_argument("--runs", default="dispatch,upload,database,broker", help="which fault runs, in order")
    parser.add_argument("--keep", action="store_true", help="keep the database, Redis db and logs")
    args = parser.parse_args()

    import redis

    dbname = fresh_database(args.database, "faults")
    redis_client = redis.Redis.from_url(args.redis)
    redis_client.flushdb()
    workdir = Path(tempfile.mkdtemp(prefix="taxservice-faults-"))
    env = service_env(
        args.database,
        args.redis,
        workdir,
        TAXSERVICE_BROKER_VISIBILITY_TIMEOUT="20",
        TAXSERVICE_OUTBOX_RELAY_SECONDS="2",
        TAXSERVICE_UPLOAD_SWEEP_SECONDS="5",
        TAXSERVICE_UPLOAD_STALE_MINUTES="1",
    )
    procs = Processes(workdir, env)
    failures: list[str] = []
    try:
        log(f"database {dbname}, redis {args.redis}, logs in {workdir}")
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--taxpayers", str(args.taxpayers), "--cases", "10")
        django_setup(env)
        from taxservice.org.models import Role, Staff

        # The suite tests delivery, not a full team: the robot always finds room.
        Staff.objects.filter(teams__code="CITY-ONLINE", on_duty=True).update(capacity=5000)
        integrators = usernames_with_role(Role.INTEGRATOR, 8)
        coordinator = usernames_with_role(Role.COORDINATOR, 1)
        tokens = tokens_for(integrators + coordinator, "faults")
        suite = Suite(args, env, procs, workdir)
        suite.tokens = [tokens[u] for u in integrators]
        suite.coordinator_token = tokens[coordinator[0]]
        log(f"migrated and seeded; {len(suite.tokens)} integrators")

        suite.start_web()
        suite.start_worker()
        procs.start("beat", beat_argv(workdir))
        log(f"gunicorn on {suite.port}, a worker and beat are up")
        faults = {"dispatch": suite.run_dispatch, "upload": suite.run_upload}
        faults |= {"database": suite.run_database, "broker": suite.run_broker}
        for fault in [faults[name] for name in args.runs.split(",")]:
            run = fault()
            suite.runs.append(run)
            log(f"{run.name}: {len(run.acked)} acknowledged in {run.seconds:.0f}s; " + "; ".join(run.notes))
        final = Run("final")
        suite.settle(final, seconds=300)
        log("; ".join(final.notes))
        if procs.dead():
            failures.append(f"processes died: {procs.dead()}")
        failures += check(suite)
        report(suite)
    finally:
        procs.stop_all()
        if not args.keep:
            drop_database(args.database)
            redis_client.flushdb()
    if failures:
        print("\nFAULT SUITE FAILED:")
        for failure in failures[:40]:
            print(f"  - {failure}")
        print(f"logs: {workdir}")
        return 1
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nFAULT SUITE PASSED in {time.monotonic() - STARTED:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
