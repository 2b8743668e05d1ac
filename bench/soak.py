"""Soak: the whole service on one machine under load, then its invariants (issue #16).

    .venv/bin/python bench/soak.py --short     # CI (.ci/run): about a minute and a half
    .venv/bin/python bench/soak.py             # five minutes of load
    .venv/bin/python bench/soak.py --help

What runs: PostgreSQL database `soak` (dropped and created; the name must contain "soak"),
Redis db 14 (flushed), two gunicorn servers on their own ports (two processes each,
prometheus multiprocess mode), two Celery workers and beat (the robot's sweep every few
seconds), all with JSON logs into a temporary directory. The demo city (`seed_demo`, small)
gives the people and taxpayers; every client uses an API token.

Clients, for a bounded time, each pinned to one server (alternating): integrators push
tasks into the hub (`POST /api/v1/tasks/`), clerks open cases (`POST /api/v1/cases/`),
the online team's members accept and complete what the robot gives them, coordinators read
the hub's queue, and one coordinator uploads a CSV file and waits for it.

Meanwhile a third, short-lived server reaches PostgreSQL through a loopback proxy this
script owns: /readyz must answer 200, then 503 while the proxy refuses connections (the
database is unreachable), then 200 again once it forwards again.

Afterwards (the exit status is 1 when any fails):
- every acknowledged write exists exactly once (each intake's and case's unique note,
  each acknowledged transition's log row, each uploaded row);
- no task was assigned more than once, and every staff member's open-task count is exact;
- the queues drain: the robot's backlog is empty, the Celery queue is empty, no upload is
  unfinished; /readyz answers 200 on both servers;
- no request failed with a 5xx or a broken connection.
Then the figures: requests, errors, p50/p95/p99 per kind, tasks dispatched per worker.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from _live import (
    BIN,
    METRICS_TOKEN,
    Client,
    Processes,
    Stats,
    django_setup,
    free_port,
    get_json,
    manage,
    percentile,
    service_env,
    wait_ready,
)

TOKEN = METRICS_TOKEN


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[soak +{time.monotonic() - STARTED:5.1f}s] {message}", flush=True)


# --- a loopback proxy to PostgreSQL that can be switched off ----------------------------------


class Proxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL while `up`; when down, refuses and cuts every
    connection: for the server behind it the database is unreachable."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.up = True
        self.pairs: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def down(self) -> None:
        self.up = False
        with self.lock:
            for s in self.pairs:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.pairs.clear()

    def close(self) -> None:
        self.down()
        self.listener.close()


# --- the soak -------------------------------------------------------------------------------


@dataclass
class Acked:
    """What the service acknowledged: each must be in the database exactly once."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    intakes: list[tuple[str, int]] = field(default_factory=list)  # (note, task id)
    cases: list[tuple[str, int]] = field(default_factory=list)  # (note, case id)
    transitions: Counter = field(default_factory=Counter)  # (task id, name, username) -> n
    uploads: list[tuple[int, list[str]]] = field(default_factory=list)  # (batch id, notes)


def run_clients(args, ports, tokens, data, stats: Stats, acked: Acked, stop: threading.Event) -> list[threading.Thread]:
    threads = []
    rng = random.Random(16)

    def pinned(i: int) -> int:
        return ports[i % len(ports)]

    def intake(i: int, username: str) -> None:
        client = Client(pinned(i), tokens[username], stats)
        while not stop.is_set():
            note = f"soak-intake-{uuid.uuid4().hex}"
            payload = {
                "source": "risk",
                "taxpayer": rng.choice(data["taxpayers"]),
                "item": rng.choice(data["robot_items"]),
                "notes": note,
            }
            status, body = client.call("intake", "POST", "/api/v1/tasks/", payload)
            if status in (200, 201) and body:
                with acked.lock:
                    acked.intakes.append((note, body["id"]))
            time.sleep(0.05)

    def case(i: int, username: str) -> None:
        client = Client(pinned(i), tokens[username], stats)
        while not stop.is_set():
            note = f"soak-case-{uuid.uuid4().hex}"
            payload = {
                "taxpayer": rng.choice(data["taxpayers"]),
                "channel": "hall_window",
                "hall": data["halls"][username],
                "notes": note,
                "items": [{"item": rng.choice(data["case_items"])}],
            }
            status, body = client.call("case", "POST", "/api/v1/cases/", payload)
            if status == 201 and body:
                with acked.lock:
                    acked.cases.append((note, body["id"]))
            time.sleep(0.2)

    def member(i: int, username: str) -> None:
        client = Client(pinned(i), tokens[username], stats)
        while not stop.is_set():
            worked = 0
            me = data["staff_ids"][username]
            for state, step in (("assigned", "accept"), ("in_progress", "complete")):
                status, body = client.call("read", "GET", f"/api/v1/tasks/?state={state}&assignee={me}")
                for task in (body or {}).get("results", [])[:5] if status == 200 else []:
                    if step not in task.get("available_transitions", []):
                        continue
                    request = {"transition": step, "expected_state": state}
                    if step == "complete":
                        request["result"] = "已办理并告知（soak）"
                    s, _b = client.call("transition", "POST", f"/api/v1/tasks/{task['id']}/transitions/", request)
                    if s == 200:
                        worked += 1
                        with acked.lock:
                            acked.transitions[(task["id"], step, username)] += 1
            if not worked:
                time.sleep(0.3)

    def reader(i: int, username: str) -> None:
        client = Client(pinned(i), tokens[username], stats)
        while not stop.is_set():
            client.call(
                "hub_read",
                "GET",
                rng.choice(["/api/v1/hub/queue/?state=queued", "/api/v1/hub/queue/?state=assigned", "/api/v1/staff/"]),
            )
            time.sleep(0.1)

    def uploader(i: int, username: str) -> None:
        client = Client(pinned(i), tokens[username], stats)
        notes = [f"soak-upload-{uuid.uuid4().hex}" for _ in range(args.upload_rows)]
        rows = ["source,taxpayer,item,notes"] + [
            f"business,{rng.choice(data['taxpayers'])},{rng.choice(data['robot_items'])},{note}" for note in notes
        ]
        boundary = uuid.uuid4().hex
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="soak.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n" + "\n".join(rows) + f"\r\n--{boundary}--\r\n"
        ).encode()
        status, answer = client.call(
            "upload",
            "POST",
            "/api/v1/hub/uploads/",
            body,
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        if status == 202 and answer:
            with acked.lock:
                acked.uploads.append((answer["id"], notes))

    roles = [
        (intake, data["integrators"]),
        (case, data["clerks"]),
        (member, data["members"]),
        (reader, data["coordinators"]),
    ]
    i = 0
    for target, users in roles:
        for username in users:
            threads.append(
                threading.Thread(target=target, args=(i, username), daemon=True, name=f"{target.__name__}-{username}")
            )
            i += 1
    threads.append(threading.Thread(target=uploader, args=(i, data["coordinators"][0]), daemon=True, name="uploader"))
    for thread in threads:
        thread.start()
    return threads


def readiness_flip(env: dict[str, str], procs: Processes, pg: tuple[str, int], database_url: str, result: dict) -> None:
    """A third server, on PostgreSQL through the proxy: ready, not ready, ready again."""
    proxy = Proxy(pg)
    port = free_port()
    parts = urlsplit(database_url)
    via_proxy = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    flip_env = {**env, "DATABASE_URL": via_proxy, "PROMETHEUS_MULTIPROC_DIR": env["PROMETHEUS_MULTIPROC_DIR"] + "-flip"}
    Path(flip_env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(exist_ok=True)
    procs.start(
        "web-flip",
        [str(BIN / "gunicorn"), "taxservice.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        flip_env,
    )
    seen = []
    try:
        wait_ready(port)
        seen.append(get_json(port, "/readyz")[0])
        proxy.down()
        time.sleep(0.5)
        status, body = get_json(port, "/readyz")
        seen.append(status)
        result["down_body"] = body
        proxy.up = True
        deadline = time.monotonic() + 20
        status = 0
        while time.monotonic() < deadline:
            status = get_json(port, "/readyz")[0]
            if status == 200:
                break
            time.sleep(0.5)
        seen.append(status)
    finally:
        result["seen"] = seen
        procs.stop("web-flip")
        proxy.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="CI's run: 30 s of load, small city")
    parser.add_argument(
        "--database", default=os.environ.get("SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/soak")
    )
    parser.add_argument("--redis", default=os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--seconds", type=int, default=None, help="load duration (30 with --short, else 300)")
    parser.add_argument("--upload-rows", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the database, Redis db and logs")
    args = parser.parse_args()
    seconds = args.seconds or (30 if args.short else 300)
    db = urlsplit(args.database)
    dbname = db.path.lstrip("/")
    if "soak" not in dbname:
        raise SystemExit(f"refusing to drop and create {dbname!r}: the soak's database name must contain 'soak'")
    started_all = time.monotonic()

    import psycopg
    import redis

    admin_url = db._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    redis_client = redis.Redis.from_url(args.redis)
    redis_client.flushdb()

    workdir = Path(tempfile.mkdtemp(prefix="taxservice-soak-"))
    env = service_env(args.database, args.redis, workdir)
    procs = Processes(workdir, env)
    failures: list[str] = []
    try:
        log(f"database {dbname}, redis {args.redis}, logs in {workdir}")
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--taxpayers", "60" if args.short else "300", "--cases", "10" if args.short else "60")
        log(f"migrated and seeded in {time.monotonic() - started_all:.0f}s")

        django_setup(env)
        data, tokens = setup_people()

        ports = [free_port(), free_port()]
        for n, port in enumerate(ports, start=1):
            procs.start(
                f"web{n}",
                [
                    str(BIN / "gunicorn"),
                    "taxservice.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                ],
            )
        for n in (1, 2):
            procs.start(
                f"worker{n}",
                [str(BIN / "celery"), "-A", "taxservice", "worker", "-n", f"soak{n}@%h", "-c", "2", "-l", "info"],
            )
        procs.start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "taxservice",
                "beat",
                "-l",
                "info",
                "--schedule",
                str(workdir / "beat-schedule"),
            ],
        )
        for port in ports:
            wait_ready(port)
        log(f"two servers ({ports[0]}, {ports[1]}), two workers and beat are up; {seconds}s of load")

        stats, acked, stop = Stats(), Acked(), threading.Event()
        flip: dict = {}
        flipper = threading.Thread(
            target=readiness_flip,
            args=(env, procs, (db.hostname or "127.0.0.1", db.port or 5432), args.database, flip),
            daemon=True,
        )
        flipper.start()
        load_started = time.monotonic()
        threads = run_clients(args, ports, tokens, data, stats, acked, stop)
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        flipper.join(timeout=60)
        load_seconds = time.monotonic() - load_started
        log(f"load stopped after {load_seconds:.0f}s; waiting for the queues to drain")

        drained = wait_drained(redis_client, acked, seconds=60)
        if not drained:
            failures.append("the queues did not drain within 60 s")
        if procs.dead():
            failures.append(f"processes died: {procs.dead()}")
        for port in ports:
            status, body = get_json(port, "/readyz")
            if status != 200:
                failures.append(f"server {port} not ready after the soak: {body}")
        if flip.get("seen") != [200, 503, 200]:
            failures.append(f"readiness did not flip 200 → 503 → 200 with the database cut off: {flip}")
        else:
            log(f"readiness flipped 200 → 503 ({flip['down_body']['checks']['database']['detail'][:60]}…) → 200")

        failures += check_invariants(acked)
        failures += [f"request failed: {error}" for error in stats.errors[:20]]
        metrics_status, _m = get_json(ports[0], "/metrics", {"Authorization": f"Bearer {TOKEN}"})
        metrics_text = metrics_text_of(ports[0])
        for name in (
            "taxservice_http_requests_total",
            "taxservice_hub_tasks",
            "taxservice_celery_tasks_total",
            "taxservice_robot_runs_total",
        ):
            if name not in metrics_text:
                failures.append(f"/metrics has no {name}")
        report(stats, acked, load_seconds, workdir, metrics_text)
    finally:
        procs.stop_all()
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            redis_client.flushdb()
    if failures:
        print("\nSOAK FAILED:")
        for failure in failures:
            print(f"  - {failure}")
        print(f"logs: {workdir}")
        return 1
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nSOAK PASSED in {time.monotonic() - started_all:.0f}s")
    return 0


def metrics_text_of(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    text = conn.getresponse().read().decode()
    conn.close()
    return text


def setup_people() -> tuple[dict, dict[str, str]]:
    """Tokens for the demo's people, room for the robot, and what the clients pick from."""
    from taxservice.catalogue.models import Item
    from taxservice.org.models import Role, Staff
    from taxservice.signin.services import token_create
    from taxservice.taxpayers.models import Taxpayer

    def usernames(role: str, limit: int) -> list[str]:
        return list(
            Staff.objects.filter(role_rows__role=role)
            .order_by("user__username")
            .values_list("user__username", flat=True)[:limit]
        )

    online = list(Staff.objects.filter(teams__code="CITY-ONLINE", on_duty=True).order_by("user__username"))
    # The soak measures the service, not a full team: the robot always finds room.
    Staff.objects.filter(pk__in=[s.pk for s in online]).update(capacity=5000)
    clerks = list(
        Staff.objects.filter(role_rows__role=Role.CLERK)
        .exclude(home_branch__kind="city")
        .select_related("home_branch")
        .order_by("user__username")[:3]
    )
    data = {
        "integrators": usernames(Role.INTEGRATOR, 2) * 2,  # two threads each
        "clerks": [s.user.username for s in clerks],
        "halls": {s.user.username: s.home_branch.code for s in clerks},
        "members": [s.user.username for s in online[:4]],
        "coordinators": usernames(Role.COORDINATOR, 2),
        "staff_ids": {s.user.username: s.pk for s in online},
        "taxpayers": list(Taxpayer.objects.order_by("id").values_list("credit_code", flat=True)[:60]),
        "robot_items": list(Item.objects.filter(high_frequency=True, active=True).values_list("code", flat=True)[:8]),
        "case_items": list(
            Item.objects.filter(handling_list="immediate", active=True).values_list("code", flat=True)[:8]
        ),
    }
    users = set(data["integrators"] + data["clerks"] + data["members"] + data["coordinators"])
    tokens = {}
    for staff in Staff.objects.filter(user__username__in=users).select_related("user"):
        tokens[staff.user.username] = token_create(actor=None, owner=staff, name="soak", scope="write").key
    for key in ("integrators", "clerks", "members", "coordinators", "taxpayers", "robot_items", "case_items"):
        if not data[key]:
            raise SystemExit(f"the demo city has no {key} for the soak")
    return data, tokens


def wait_drained(redis_client, acked: Acked, seconds: int) -> bool:
    from django.db import connection

    from taxservice.workflow.routing.models import UploadBatch
    from taxservice.workflow.routing.services import robot_backlog

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        backlog = robot_backlog().count()
        queued = redis_client.llen("taxservice")
        unacked = redis_client.hlen("unacked")
        uploads = UploadBatch.objects.filter(state__in=["pending", "validating", "importing"]).count()
        if backlog == 0 and queued == 0 and unacked == 0 and uploads == 0:
            log("drained: robot backlog 0, Celery queue 0, unacknowledged messages 0, uploads in progress 0")
            return True
        time.sleep(1)
        connection.close()
    log(f"not drained: backlog {backlog}, queue {queued}, unacked {unacked}, uploads {uploads}")
    return False


def check_invariants(acked: Acked) -> list[str]:
    from django.db.models import Count, Q

    from taxservice.org.models import Staff
    from taxservice.workflow.cases.assignments import LOAD_STATES
    from taxservice.workflow.cases.models import Case, Task, TaskAssignment, TaskIntake, TaskTransition
    from taxservice.workflow.routing.models import UploadBatch

    failures = []
    intake_rows = Counter(
        dict(TaskIntake.objects.filter(notes__startswith="soak-intake-").values_list("notes").annotate(n=Count("id")))
    )
    for note, _task_id in acked.intakes:
        if intake_rows.get(note) != 1:
            failures.append(f"acknowledged intake {note} is in the database {intake_rows.get(note, 0)} times")
    if sum(intake_rows.values()) != len(acked.intakes):
        failures.append(f"{sum(intake_rows.values())} intake rows for {len(acked.intakes)} acknowledged intakes")
    case_rows = Counter(
        dict(Case.objects.filter(notes__startswith="soak-case-").values_list("notes").annotate(n=Count("id")))
    )
    for note, _case_id in acked.cases:
        if case_rows.get(note) != 1:
            failures.append(f"acknowledged case {note} is in the database {case_rows.get(note, 0)} times")
    if sum(case_rows.values()) != len(acked.cases):
        failures.append(f"{sum(case_rows.values())} soak cases for {len(acked.cases)} acknowledged")
    for (task_id, name, username), n in acked.transitions.items():
        rows = TaskTransition.objects.filter(task_id=task_id, transition=name, actor__user__username=username).count()
        if rows != n:
            failures.append(f"T{task_id} {name} by {username}: acknowledged {n}, logged {rows}")
    for batch_id, notes in acked.uploads:
        batch = UploadBatch.objects.get(pk=batch_id)
        if batch.state != "done" or batch.created_count + batch.merged_count != len(notes):
            failures.append(
                f"upload {batch_id}: {batch.state}, {batch.created_count}+{batch.merged_count} of {len(notes)} rows"
            )
        found = Counter(TaskIntake.objects.filter(notes__in=notes).values_list("notes", flat=True))
        if any(found.get(note) != 1 for note in notes):
            failures.append(f"upload {batch_id}: some rows are not in the database exactly once")
    if not acked.uploads:
        failures.append("the upload was not acknowledged")
    # The soak's own tasks (the demo's histories include legitimate returns and reassignments)
    # are never returned or reassigned: each is assigned at most once.
    soak_tasks = Task.objects.filter(
        Q(intakes__notes__startswith="soak-") | Q(case__notes__startswith="soak-case-")
    ).distinct()
    twice = (
        Task.objects.filter(pk__in=soak_tasks.values("pk"))
        .annotate(n=Count("transitions", filter=Q(transitions__transition__in=["assign", "reassign"])))
        .filter(n__gt=1)
    )
    if twice.exists():
        failures.append(
            f"{twice.count()} of the soak's tasks were assigned more than once: {list(twice.values_list('pk', flat=True)[:10])}"
        )
    log(f"checked {soak_tasks.count()} tasks of the soak")
    active = TaskAssignment.objects.filter(active=True).values("task").annotate(n=Count("id")).filter(n__gt=1)
    if active.exists():
        failures.append(f"{active.count()} tasks have two active assignments")
    held = Counter(
        dict(
            Task.objects.filter(state__in=LOAD_STATES, assignee__isnull=False)
            .values_list("assignee")
            .annotate(n=Count("id"))
        )
    )
    for staff_id, open_tasks in Staff.objects.values_list("id", "open_tasks"):
        if open_tasks != held.get(staff_id, 0):
            failures.append(f"staff {staff_id}: open_tasks {open_tasks}, holds {held.get(staff_id, 0)}")
    if not acked.intakes or not acked.cases or not acked.transitions:
        failures.append(
            f"too little work got through: {len(acked.intakes)} intakes, {len(acked.cases)} cases, {sum(acked.transitions.values())} transitions"
        )
    return failures


SUCCEEDED = re.compile(r"Task (\S+)\[[^\]]+\] succeeded in [0-9.e-]+s: (\d+)")


def dispatched_per_worker(workdir: Path) -> dict[str, tuple[int, int]]:
    """{worker: (robot tasks run, tasks dispatched)} from each worker's JSON log lines."""
    figures = {}
    for path in sorted(workdir.glob("worker*.log")):
        runs = dispatched = 0
        for line in path.read_text(errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            match = SUCCEEDED.search(event.get("message", ""))
            if match and ".routing.tasks.robot_" in match.group(1):
                runs += 1
                dispatched += int(match.group(2))
        figures[path.stem] = (runs, dispatched)
    return figures


def report(stats: Stats, acked: Acked, seconds: float, workdir: Path, metrics_text: str) -> None:
    total = sum(stats.statuses.values())
    errors = sum(n for (_kind, status), n in stats.statuses.items() if status >= 500 or status == 0)
    print(f"\n{'kind':<12}{'requests':>9}{'2xx':>7}{'4xx':>7}{'5xx/conn':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind in sorted(stats.latencies):
        values = stats.latencies[kind]
        by = Counter()
        for (k, status), n in stats.statuses.items():
            if k == kind:
                by["5xx" if status >= 500 or status == 0 else f"{status // 100}xx"] += n
        print(
            f"{kind:<12}{len(values):>9}{by['2xx']:>7}{by['4xx']:>7}{by['5xx']:>9}"
            f"{percentile(values, 50) * 1000:>9.1f}{percentile(values, 95) * 1000:>9.1f}{percentile(values, 99) * 1000:>9.1f}"
        )
    every = [v for values in stats.latencies.values() for v in values]
    print(
        f"{'all':<12}{total:>9}{'':>14}{errors:>9}{percentile(every, 50) * 1000:>9.1f}"
        f"{percentile(every, 95) * 1000:>9.1f}{percentile(every, 99) * 1000:>9.1f}   ({total / seconds:.0f} requests/s)"
    )
    print(
        f"\nacknowledged: {len(acked.intakes)} intakes, {len(acked.cases)} cases, "
        f"{sum(acked.transitions.values())} transitions, {len(acked.uploads)} upload(s)"
    )
    for worker, (runs, dispatched) in dispatched_per_worker(workdir).items():
        print(f"{worker}: {runs} robot tasks, {dispatched} tasks dispatched")
    for line in metrics_text.splitlines():
        if line.startswith(
            ("taxservice_robot_dispatched_total", "taxservice_robot_backlog_tasks", "taxservice_celery_tasks_total")
        ):
            print(f"  /metrics {line}")


if __name__ == "__main__":
    sys.exit(main())
