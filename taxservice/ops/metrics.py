"""Prometheus metrics: what the web processes count, and what the database says at scrape time.

Two kinds of figures, each made where it cannot lie under several gunicorn processes:

- **Request counts and latencies** are counted by each process as it answers
  (`observe_request`, called by the request middleware). With PROMETHEUS_MULTIPROC_DIR set
  (production: gunicorn runs several processes), prometheus_client's multiprocess mode
  writes them to files in that directory and a scrape of any process sums every process's
  files. Without it (one process: runserver, the tests) they live in the process.
- **Everything else is read at scrape time**: queue depths, the robot, uploads, overdue
  tasks and beat from the database (`selectors.ops_snapshot`, the operations page's own
  numbers), worker task outcomes from Redis (`taskstats`). They are the same whichever
  process answers the scrape.

Labels are bounded: view *names* (never raw paths), HTTP methods, status codes, task states,
team codes, tiers, robot triggers, Celery task names. No task ids, no taxpayer codes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from taxservice.ops import taskstats
from taxservice.ops.selectors import Snapshot, ops_snapshot

CONTENT_TYPE = CONTENT_TYPE_LATEST
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no URL pattern answered (a 404, a static file served by WhiteNoise)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# The process's own counters live in a registry of their own: /metrics builds its answer
# from it (or from the multiprocess files), never from prometheus_client's global default.
_REGISTRY = CollectorRegistry(auto_describe=True)
HTTP_REQUESTS = Counter(
    "taxservice_http_requests",
    "HTTP requests answered, by view name, method and status code.",
    ["view", "method", "status"],
    registry=_REGISTRY,
)
HTTP_LATENCY = Histogram(
    "taxservice_http_request_duration_seconds",
    "Time to answer an HTTP request, by view name and method.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
    registry=_REGISTRY,
)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def observe_request(*, view: str, method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "OTHER"
    HTTP_REQUESTS.labels(view=view or UNMATCHED, method=method, status=str(status)).inc()
    HTTP_LATENCY.labels(view=view or UNMATCHED, method=method).observe(seconds)


def _ts(moment) -> float:
    return moment.timestamp() if moment is not None else 0.0


def snapshot_metrics(snapshot: Snapshot) -> Iterator[Metric]:
    """The database's figures as Prometheus metric families."""
    hub = GaugeMetricFamily(
        "taxservice_hub_tasks", "Open tasks the hub watches, by state and team code.", labels=["state", "team"]
    )
    for (state, team), count in sorted(snapshot.hub.items()):
        hub.add_metric([state, team], count)
    yield hub
    overdue = GaugeMetricFamily(
        "taxservice_overdue_tasks", "Open tasks past the time promised to the taxpayer, by tier.", labels=["tier"]
    )
    for tier, count in sorted(snapshot.overdue.items()):
        overdue.add_metric([tier], count)
    yield overdue
    yield GaugeMetricFamily(
        "taxservice_robot_backlog_tasks", "Queued tasks waiting for the robot.", value=snapshot.robot.backlog
    )
    yield GaugeMetricFamily("taxservice_robot_paused", "1 while the robot is paused.", value=int(snapshot.robot.paused))
    runs = CounterMetricFamily("taxservice_robot_runs", "Robot runs logged, by trigger.", labels=["trigger"])
    for trigger, count in sorted(snapshot.robot.runs.items()):
        runs.add_metric([trigger], count)
    yield runs
    yield CounterMetricFamily(
        "taxservice_robot_dispatched",
        "Tasks the robot dispatched, over every logged run.",
        value=snapshot.robot.dispatched,
    )
    yield CounterMetricFamily(
        "taxservice_robot_skipped",
        "Tasks the robot left for people, over every logged run.",
        value=snapshot.robot.skipped,
    )
    yield GaugeMetricFamily(
        "taxservice_robot_last_run_timestamp_seconds",
        "When the last logged robot run started (Unix time; 0: never).",
        value=_ts(snapshot.robot.last_run_at),
    )
    yield GaugeMetricFamily(
        "taxservice_uploads_in_progress",
        "Bulk uploads waiting, being checked or importing.",
        value=snapshot.uploads_in_progress,
    )
    yield GaugeMetricFamily(
        "taxservice_uploads_stuck",
        "Bulk uploads unfinished for longer than TAXSERVICE_STUCK_MINUTES.",
        value=snapshot.uploads_stuck,
    )
    yield GaugeMetricFamily(
        "taxservice_beat_last_sweep_timestamp_seconds",
        "When beat last sent the robot's sweep (Unix time; 0: never).",
        value=_ts(snapshot.beat_last_sweep_at),
    )
    if snapshot.outbox is not None:
        yield GaugeMetricFamily(
            "taxservice_outbox_pending_messages",
            "Follow-up messages written but not yet published to the broker (the outbox's backlog).",
            value=snapshot.outbox.pending,
        )
        yield GaugeMetricFamily(
            "taxservice_outbox_oldest_pending_age_seconds",
            "Age of the oldest unpublished outbox message (0: none waiting).",
            value=snapshot.outbox.age_seconds(snapshot.at),
        )


def task_metrics(counts: dict[tuple[str, str], int]) -> Iterator[Metric]:
    tasks = CounterMetricFamily(
        "taxservice_celery_tasks",
        "Celery tasks finished by the workers, by task name and outcome.",
        labels=["task", "outcome"],
    )
    for (task, outcome), count in sorted(counts.items()):
        tasks.add_metric([task, outcome], count)
    yield tasks


class _Scrape:
    """What one scrape answers: the request metrics (this process's, or every process's
    files), then the figures read now."""

    def collect(self) -> Iterator[Metric]:
        if multiprocess_dir():
            yield from MultiProcessCollector(None, path=multiprocess_dir()).collect()
        else:
            yield from _REGISTRY.collect()
        yield from snapshot_metrics(ops_snapshot())
        yield from task_metrics(taskstats.read())


def render() -> bytes:
    """The exposition text of one scrape."""
    return generate_latest(_Scrape())  # type: ignore[arg-type]
