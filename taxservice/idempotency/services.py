"""Claim an idempotency key, store its answer, free it again, purge the expired.

Every write here is its own short transaction (or savepoint), separate from the view's:
the claim is committed before the view runs, so a concurrent request with the same key
sees it at once, and the view's own transaction commits or rolls back on its own.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from taxservice.idempotency.models import IdempotencyRecord

# Response headers replayed with the stored body.
STORED_HEADERS = ("Content-Type", "Location", "Content-Language")
POLL_SECONDS = 0.1


def ttl() -> timedelta:
    return timedelta(hours=getattr(settings, "TAXSERVICE_IDEMPOTENCY_HOURS", 24))


def wait_seconds() -> float:
    return float(getattr(settings, "TAXSERVICE_IDEMPOTENCY_WAIT_SECONDS", 30))


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "TAXSERVICE_IDEMPOTENCY_STALE_SECONDS", 300))


def fingerprint(*, method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode()):
        digest.update(part)
        digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


@dataclass(frozen=True)
class Claim:
    """What a request with a key may do: run (`owned`), replay `record`, or neither."""

    outcome: str  # "owned", "replay", "mismatch", "in_progress"
    record: IdempotencyRecord | None = None


def claim(*, user, key: str, method: str, path: str, digest: str) -> Claim:
    """Insert the key's record, or wait (bounded) for the request that did and replay it."""
    deadline = time.monotonic() + wait_seconds()
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=method,
                    path=path,
                    fingerprint=digest,
                    created_at=now,
                    expires_at=now + ttl(),
                )
            return Claim("owned", record)
        except IntegrityError:
            pass
        found = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if found is None:
            if time.monotonic() >= deadline:
                return Claim("in_progress")
            continue  # freed (a failed first try) between our insert and this read: try again
        if found.expires_at <= now:
            _delete(found, expires_at__lte=now)
            continue
        if found.fingerprint != digest:
            return Claim("mismatch", found)
        if found.state == IdempotencyRecord.State.DONE:
            return Claim("replay", found)
        if found.created_at <= now - stale_after():
            # Its request died without freeing the key (a killed worker): take it over.
            _delete(found, state=IdempotencyRecord.State.IN_PROGRESS, created_at=found.created_at)
            continue
        if time.monotonic() >= deadline:
            return Claim("in_progress", found)
        time.sleep(POLL_SECONDS)


def finish(record: IdempotencyRecord, *, status: int, headers: dict[str, str], body: bytes) -> None:
    """Store the answer to replay."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).update(
        state=IdempotencyRecord.State.DONE,
        response_status=status,
        response_headers={name: headers[name] for name in STORED_HEADERS if name in headers},
        response_body=body,
    )


def release(record: IdempotencyRecord) -> None:
    """Free the key: the request failed (5xx or an exception), so a retry runs it anew."""
    _delete(record, state=IdempotencyRecord.State.IN_PROGRESS)


def purge_expired(*, now=None) -> int:
    """Delete every record past its expiry; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def _delete(record: IdempotencyRecord, **conditions) -> None:
    with transaction.atomic():
        IdempotencyRecord.objects.filter(pk=record.pk, **conditions).delete()
