"""What the live benchmarks share (bench/soak.py, bench/intake.py, bench/faults.py).

A fresh PostgreSQL database and Redis db, the environment the service's processes run
with, the processes themselves (gunicorn, Celery), a keep-alive HTTP client with a token,
the request figures, and the people of the demo city with their API tokens.
Not a test helper: each script runs the real processes on this machine.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
METRICS_TOKEN = "soak-metrics-token"


# --- processes ------------------------------------------------------------------------------


class Processes:
    def __init__(self, logdir: Path, env: dict[str, str]) -> None:
        self.logdir = logdir
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        out = open(self.logdir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env or self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running[name] = proc
        return proc

    def stop(self, name: str) -> None:
        proc = self.running.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def kill(self, name: str) -> None:
        """kill -9 the process and its children (a worker's pool too): the machine lost it."""
        proc = self.running.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def dead(self) -> list[str]:
        return [name for name, proc in self.running.items() if proc.poll() is not None]


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def gunicorn_argv(port: int, workers: int = 2, threads: int = 4) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "taxservice.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]


def worker_argv(name: str, concurrency: int = 2) -> list[str]:
    return [str(BIN / "celery"), "-A", "taxservice", "worker", "-n", f"{name}@%h", "-c", str(concurrency), "-l", "info"]


def beat_argv(workdir: Path) -> list[str]:
    return [str(BIN / "celery"), "-A", "taxservice", "beat", "-l", "info", "--schedule", str(workdir / "beat-schedule")]


# --- a database, a Redis db and the environment of the service ------------------------------


def fresh_database(database_url: str, must_contain: str) -> str:
    """Drop and create the database of `database_url` (its name must contain `must_contain`)."""
    import psycopg

    db = urlsplit(database_url)
    dbname = db.path.lstrip("/")
    if must_contain not in dbname:
        raise SystemExit(f"refusing to drop and create {dbname!r}: the database name must contain {must_contain!r}")
    with psycopg.connect(admin_url(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return dbname


def drop_database(database_url: str) -> None:
    import psycopg

    dbname = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(admin_url(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def admin_url(database_url: str) -> str:
    return urlsplit(database_url)._replace(path="/postgres").geturl()


def service_env(database_url: str, redis_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of every process of a live run: production-like, its own secret key,
    JSON logs in `workdir`, no API rate limit (tests/test_throttle.py measures that)."""
    multiproc = workdir / "prometheus"
    multiproc.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "CACHE_URL": redis_url,
        "TAXSERVICE_VAR_DIR": str(workdir),
        "TAXSERVICE_PRODUCTION": "false",
        "DJANGO_DEBUG": "false",
        # DEBUG off refuses the public development key (docs/security.md): a key of this run's own.
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        # The runs measure the service, not the API's rate limit (tests/test_throttle.py does).
        "TAXSERVICE_API_RATE": "1000000",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_FORMAT": "json",
        "TAXSERVICE_ACCESS_LOG": "true",
        "TAXSERVICE_METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "TAXSERVICE_ROBOT_SWEEP_SECONDS": "5",
        "DB_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def django_setup(env: dict[str, str]) -> None:
    """This process reads and checks the database through the ORM, with the same settings."""
    os.environ.update({k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"})
    os.environ["DJANGO_SETTINGS_MODULE"] = "taxservice.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def tokens_for(usernames: list[str], name: str) -> dict[str, str]:
    """A write-scoped API token for each of these demo people."""
    from taxservice.org.models import Staff
    from taxservice.signin.services import token_create

    tokens = {}
    for staff in Staff.objects.filter(user__username__in=set(usernames)).select_related("user"):
        tokens[staff.user.username] = token_create(actor=None, owner=staff, name=name, scope="write").key
    return tokens


def usernames_with_role(role: str, limit: int) -> list[str]:
    from taxservice.org.models import Staff

    return list(
        Staff.objects.filter(role_rows__role=role)
        .order_by("user__username")
        .values_list("user__username", flat=True)[:limit]
    )


def intake_pairs(limit: int) -> list[tuple[str, str]]:
    """Distinct (taxpayer credit code, robot item code) pairs: intakes that screening does not merge."""
    from taxservice.catalogue.models import Item
    from taxservice.taxpayers.models import Taxpayer

    taxpayers = list(Taxpayer.objects.order_by("id").values_list("credit_code", flat=True))
    items = list(Item.objects.filter(high_frequency=True, active=True).order_by("code").values_list("code", flat=True))
    if not taxpayers or not items:
        raise SystemExit("the demo city has no taxpayers or no high-frequency items")
    return [(t, i) for i in items for t in taxpayers][:limit]


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def add(self, kind: str, status: int, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[(kind, status)] += 1
            if status >= 500 or status == 0:
                self.errors.append(f"{kind} {status} {detail[:200]}")


STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class Client:
    """One keep-alive connection to one server, with one token."""

    def __init__(self, port: int, token: str, stats: Stats, prefix: str = "soak") -> None:
        self.port = port
        self.token = token
        self.stats = stats
        self.prefix = prefix
        self.conn: http.client.HTTPConnection | None = None

    def call(self, kind: str, method: str, path: str, body=None, headers=None) -> tuple[int, dict | None]:
        headers = {
            "Authorization": f"Token {self.token}",
            "X-Request-ID": f"{self.prefix}-{uuid.uuid4().hex[:16]}",
            **(headers or {}),
        }
        if isinstance(body, dict | list):
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        for reused in (self.conn is not None, False):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                status = response.status
                break
            except (OSError, http.client.HTTPException) as exc:
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                # A keep-alive connection the server closed while idle: send again on a new
                # one, as every HTTP client library does (the server never saw the request).
                if reused and isinstance(exc, STALE):
                    continue
                self.stats.add(kind, 0, time.perf_counter() - started, repr(exc))
                return 0, None
        self.stats.add(kind, status, time.perf_counter() - started, raw.decode(errors="replace"))
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def get_json(port: int, path: str, headers=None, timeout: float = 5) -> tuple[int, dict | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, {"text": raw.decode(errors="replace")}
    except OSError:
        return 0, None
    finally:
        conn.close()


def wait_ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if get_json(port, "/readyz")[0] == 200:
            return
        time.sleep(0.5)
    raise SystemExit(f"the server on port {port} did not become ready: {get_json(port, '/readyz')}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
