"""Worker task outcomes, counted where every process can add to them and /metrics can read them.

Celery workers run on several machines, each with several pool processes, and none of them
serves /metrics. So each finished task adds one to a Redis hash on the broker's Redis
(`HINCRBY`, one round trip), and the web process reads the whole hash at scrape time: the
figures are the fleet's, whichever process is scraped, and survive a worker's restart.
Without Redis (the embedded setup: tasks run in the web process) the counts stay in the
process. docs/operations.md, "Metrics".
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

KEY = "taxservice:ops:celery_tasks"
SEPARATOR = "|"
OUTCOMES = ("success", "failure", "retry")

_local: Counter[tuple[str, str]] = Counter()
_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def _url() -> str:
    url = getattr(settings, "TAXSERVICE_TASK_STATS_URL", "") or ""
    return url if url.startswith(("redis://", "rediss://")) else ""


def _client(url: str) -> redis.Redis:
    # One client per process (redis-py's pool notices a fork and reconnects in the child).
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client


def record(*, task: str, outcome: str) -> None:
    """Count one outcome of a task. Never raises: a metric must not fail the task."""
    url = _url()
    if not url:
        with _lock:
            _local[(task, outcome)] += 1
        return
    try:
        _client(url).hincrby(KEY, f"{task}{SEPARATOR}{outcome}", 1)
    except redis.RedisError:
        logger.warning("Could not count a task outcome in Redis", exc_info=True)


def read() -> dict[tuple[str, str], int]:
    """Every count so far: {(task name, outcome): n}."""
    url = _url()
    if not url:
        with _lock:
            return dict(_local)
    counts: dict[tuple[str, str], int] = {}
    for field, value in _client(url).hgetall(KEY).items():
        task, _sep, outcome = field.decode().rpartition(SEPARATOR)
        counts[(task, outcome)] = int(value)
    return counts


def reset() -> None:
    """Forget every count (tests)."""
    with _lock:
        _local.clear()
    url = _url()
    if url:
        _client(url).delete(KEY)
