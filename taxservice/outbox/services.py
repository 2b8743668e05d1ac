"""Write, publish, relay and purge outbox messages (docs/outbox-and-webhooks.md).

- `enqueue(...)` writes one message in the caller's transaction (or on its own outside one).
- `nudge(ids)` publishes those messages right away; it runs after the commit and never
  raises: a broker error is logged, stored on the row and retried later by the relay.
- `relay()` publishes every due message in batches (Celery beat every few seconds, and
  `manage.py relay_outbox`), with exponential backoff after each failure.
- `purge_sent(days)` deletes the messages sent more than `days` ago.

Claiming: a publisher selects due rows with `select_for_update(skip_locked=True)` (row locks
on PostgreSQL; SQLite ignores it and serialises writers) and takes each one with a conditional
UPDATE that sets a lease (`locked_until`). Only the publisher whose UPDATE matched publishes
the row, outside any transaction; a publisher that dies leaves the row to the next relay once
the lease ends. So a message is published at least once, and in practice once; the tasks it
names are idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from celery import current_app  # type: ignore[import-untyped]
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from taxservice.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

OUTBOX_RELAY = "taxservice.outbox.tasks.relay"
OUTBOX_PURGE = "taxservice.outbox.tasks.purge"
MAX_BACKOFF_SECONDS = 600
BASE_BACKOFF_SECONDS = 5


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def enqueue(
    task_name: str,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    dedupe_key: str = "",
    delay: dt.timedelta | None = None,
) -> OutboxMessage | None:
    """Write a message for `task_name(*args, **kwargs)`; it becomes due after `delay`.

    Inside a transaction the row commits or rolls back with the change. With a `dedupe_key`
    already waiting, nothing is added and None is returned.
    """
    now = timezone.now()
    message = OutboxMessage(
        task_name=task_name,
        args=list(args),
        kwargs=dict(kwargs or {}),
        dedupe_key=dedupe_key,
        created_at=now,
        available_at=now + (delay or dt.timedelta(0)),
    )
    if not dedupe_key:
        message.save()
        return message
    if OutboxMessage.objects.filter(dedupe_key=dedupe_key, sent_at__isnull=True).exists():
        return None
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:  # another writer added the same key meanwhile
        return None
    return message


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 5 s, 10 s, 20 s, … at most 10 minutes."""
    return dt.timedelta(seconds=min(BASE_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def _due(now: dt.datetime) -> Q:
    return Q(sent_at__isnull=True, available_at__lte=now) & (Q(locked_until__isnull=True) | Q(locked_until__lt=now))


def _claim(*, now: dt.datetime, ids: Iterable[int] | None, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages (of `ids`, if given) under a lease."""
    lease = now + dt.timedelta(seconds=_setting("TAXSERVICE_OUTBOX_LEASE_SECONDS", 300))
    claimed: list[OutboxMessage] = []
    with transaction.atomic():
        rows = OutboxMessage.objects.select_for_update(skip_locked=True).filter(_due(now))
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        for message in rows.order_by("available_at", "id")[:limit]:
            # Conditional: on SQLite (no row locks) a concurrent publisher may have taken it.
            taken = OutboxMessage.objects.filter(_due(now), pk=message.pk).update(
                locked_until=lease, attempts=F("attempts") + 1
            )
            if taken:
                message.locked_until = lease
                message.attempts += 1
                claimed.append(message)
    return claimed


def _publish(message: OutboxMessage) -> bool:
    """Hand one claimed message to Celery. True when it went; a failure is stored, never raised."""
    try:
        task = current_app.tasks[message.task_name]
        # retry=False: with the broker down, fail at once and leave the retry to the relay.
        task.apply_async(args=message.args, kwargs=message.kwargs, retry=False)
    except Exception as exc:  # any broker, connection or (eagerly run) task error
        now = timezone.now()
        wait = backoff(message.attempts)
        logger.warning(
            "Outbox message %s (%s) not published, attempt %s; next try in %ss: %r",
            message.pk,
            message.task_name,
            message.attempts,
            int(wait.total_seconds()),
            exc,
        )
        try:
            OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
                locked_until=None, available_at=now + wait, last_error=repr(exc)[:2000]
            )
        except Exception:  # the database is gone too: the lease runs out and the relay retries
            logger.exception("Outbox message %s: could not record the failure", message.pk)
        return False
    try:
        OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now(), locked_until=None, last_error="")
    except Exception:  # published but not marked: the relay may publish it again (tasks are idempotent)
        logger.exception("Outbox message %s published but not marked sent", message.pk)
    return True


@dataclass(frozen=True)
class RelayResult:
    sent: int
    failed: int


def publish(ids: Iterable[int], *, now: dt.datetime | None = None) -> RelayResult:
    """Publish the given messages if they are due and free; never raises."""
    ids = list(ids)
    if not ids:
        return RelayResult(0, 0)
    try:
        claimed = _claim(now=now or timezone.now(), ids=ids, limit=len(ids))
    except Exception:
        logger.exception("Outbox: could not claim messages %s; the relay will publish them", ids)
        return RelayResult(0, 0)
    results = [_publish(message) for message in claimed]
    return RelayResult(sent=sum(results), failed=len(results) - sum(results))


def nudge(ids: Iterable[int]) -> None:
    """After the commit: publish these messages now. Never raises into the request.

    In the embedded setup (tasks run in-process, no beat) it also relays a few other due
    messages, so one that failed earlier is retried by the next write's nudge.
    """
    try:
        publish(ids)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            relay(batch_size=_setting("TAXSERVICE_OUTBOX_NUDGE_RELAY", 20), max_batches=1)
    except Exception:  # belt and braces: nothing the outbox does may fail a committed request
        logger.exception("Outbox nudge failed; the relay will publish the messages")


def relay(*, batch_size: int | None = None, max_batches: int = 50, now: dt.datetime | None = None) -> RelayResult:
    """Publish the due messages, oldest first, `batch_size` at a time."""
    batch_size = batch_size or _setting("TAXSERVICE_OUTBOX_BATCH", 100)
    sent = failed = 0
    for _batch in range(max_batches):
        claimed = _claim(now=now or timezone.now(), ids=None, limit=batch_size)
        for message in claimed:
            if _publish(message):
                sent += 1
            else:
                failed += 1
        if len(claimed) < batch_size:
            break
    if sent or failed:
        logger.info("Outbox relay: %s sent, %s failed", sent, failed)
    return RelayResult(sent=sent, failed=failed)


def purge_sent(*, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete the messages sent more than `days` ago. Returns how many."""
    days = days if days is not None else _setting("TAXSERVICE_OUTBOX_RETENTION_DAYS", 7)
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    return deleted


@dataclass(frozen=True)
class Backlog:
    pending: int  # not sent yet
    failing: int  # not sent, and at least one attempt failed
    oldest: dt.datetime | None  # the oldest pending message's creation

    def age_seconds(self, now: dt.datetime) -> float:
        return max((now - self.oldest).total_seconds(), 0.0) if self.oldest else 0.0


def backlog() -> Backlog:
    """The messages waiting to be published (the operations page and /metrics)."""
    pending = OutboxMessage.objects.filter(sent_at__isnull=True)
    figures = pending.aggregate(oldest=Min("created_at"))
    return Backlog(
        pending=pending.count(),
        failing=pending.exclude(last_error="").count(),
        oldest=figures["oldest"],
    )
