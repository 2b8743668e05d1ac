"""Webhook writes: subscriptions, events, deliveries and replays (docs/outbox-and-webhooks.md).

Events are emitted inside the transaction of the change that causes them: one
WebhookDelivery per matching subscription and one outbox message per delivery, so an event
exists exactly when its change committed. The delivery (`deliver`) POSTs the JSON envelope,
signed with the subscription's secret, and schedules its own retry through the outbox with
exponential backoff; every attempt carries the same event id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import scheduling
from taxservice.access import can_use_webhooks, require
from taxservice.changes.models import ChangeLog
from taxservice.changes.services import record_change, snapshot
from taxservice.errors import ConcurrentChange, InvalidInput, NotFound
from taxservice.org.models import Staff
from taxservice.outbox import services as outbox
from taxservice.webhooks.models import Event, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Taxservice-Signature"
MAX_SUBSCRIPTIONS_PER_OWNER = 20


# --- addresses -------------------------------------------------------------------------------


def _allowed_hosts() -> set[str]:
    return {host.strip().lower() for host in getattr(settings, "TAXSERVICE_WEBHOOK_ALLOW_HOSTS", []) if host.strip()}


def check_url(url: str) -> None:
    """Refuse a URL that is not http(s), and, in production, one whose host resolves to a
    private, loopback, link-local or otherwise non-public address unless allow-listed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            _("A webhook URL must be an http or https URL."),
            code="invalid_url",
            fields={"url": [_("Enter an http or https URL.")]},
        )
    if not settings.PRODUCTION:
        return  # development and tests: loopback receivers are fine
    host = parts.hostname.lower()
    if host in _allowed_hosts():
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):
        raise InvalidInput(
            _("The webhook URL's host does not resolve."),
            code="url_unresolvable",
            fields={"url": [_("The host does not resolve.")]},
        ) from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise InvalidInput(
                _("The webhook URL points to a private, loopback or link-local address."),
                code="url_not_allowed",
                fields={"url": [_("Private, loopback and link-local addresses are refused.")]},
            )


# --- subscriptions ---------------------------------------------------------------------------


def subscription_create(*, actor: Staff, url: str, events: list[str]) -> tuple[WebhookSubscription, str]:
    """Subscribe `url` to `events`. Returns the subscription and its secret (shown once)."""
    require(can_use_webhooks, actor)
    known = set(Event.values)
    wanted = list(dict.fromkeys(events))
    if not wanted or any(event not in known for event in wanted):
        raise InvalidInput(
            _("Choose one or more events among: %(events)s.") % {"events": ", ".join(Event.values)},
            code="invalid_events",
            fields={"events": [_("Unknown or missing event.")]},
        )
    check_url(url)
    with transaction.atomic():
        Staff.objects.select_for_update().get(pk=actor.pk)  # one creation at a time per owner
        if WebhookSubscription.objects.filter(owner=actor, active=True).count() >= MAX_SUBSCRIPTIONS_PER_OWNER:
            raise ConcurrentChange(
                _("At most %(count)s active webhook subscriptions per user.") % {"count": MAX_SUBSCRIPTIONS_PER_OWNER},
                code="too_many_subscriptions",
            )
        secret = secrets.token_hex(32)
        subscription = WebhookSubscription.objects.create(
            owner=actor, url=url, events=wanted, secret=secret, created_at=timezone.now()
        )
        record_change(
            actor=actor,
            obj=subscription,
            action=ChangeLog.Action.CREATED,
            before={},
            after=snapshot(subscription, ["url", "events", "active"]),
        )
    return subscription, secret


def _own_subscription(actor: Staff, subscription_id: int, *, lock: bool = False) -> WebhookSubscription:
    rows = WebhookSubscription.objects.filter(owner=actor)
    if lock:
        rows = rows.select_for_update()
    try:
        return rows.get(pk=subscription_id)
    except WebhookSubscription.DoesNotExist:
        raise NotFound(_("No such webhook subscription."), code="not_found") from None


def subscription_delete(*, actor: Staff, subscription_id: int) -> WebhookSubscription:
    """Stop a subscription: nothing more is delivered; its delivery log stays readable."""
    require(can_use_webhooks, actor)
    with transaction.atomic():
        subscription = _own_subscription(actor, subscription_id, lock=True)
        if not subscription.active:
            raise ConcurrentChange(_("This subscription is already deleted."), code="already_deleted")
        before = snapshot(subscription, ["active"])
        subscription.active = False
        subscription.save(update_fields=["active"])
        record_change(
            actor=actor,
            obj=subscription,
            action=ChangeLog.Action.CHANGED,
            before=before,
            after=snapshot(subscription, ["active"]),
        )
    return subscription


# --- events ----------------------------------------------------------------------------------


def emit(event: str, data: dict[str, Any], *, at: dt.datetime | None = None) -> list[WebhookDelivery]:
    """Write `event` for every active subscription that wants it, in the caller's
    transaction: a delivery row and an outbox message each. Nothing when nobody subscribed."""
    subscriptions = [row for row in WebhookSubscription.objects.filter(active=True) if event in row.events]
    if not subscriptions:
        return []
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = {"id": str(event_id), "type": event, "created_at": (at or now).isoformat(), "data": data}
    deliveries = []
    for subscription in subscriptions:
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, event_id=event_id, event=event, payload=payload, created_at=now
        )
        scheduling.after_commit(scheduling.WEBHOOK_DELIVER, delivery.pk)
        deliveries.append(delivery)
    return deliveries


def emit_task_state_changed(task: Any, log: Any) -> list[WebhookDelivery]:
    """`task.state_changed`, from a task's transition log row (in its transaction)."""
    return emit(
        Event.TASK_STATE_CHANGED,
        {
            "task": task.pk,
            "case": task.case_id,
            "transition_id": log.pk,
            "transition": log.transition,
            "from_state": log.from_state,
            "to_state": log.to_state,
            "at": log.at.isoformat(),
        },
        at=log.at,
    )


def emit_case_closed(case: Any) -> list[WebhookDelivery]:
    """`case.closed`, when a case's last open task ends (in its transaction)."""
    closed_at = case.closed_at or timezone.now()
    return emit(Event.CASE_CLOSED, {"case": case.pk, "closed_at": closed_at.isoformat()}, at=closed_at)


def emit_report_ready(*, report: str, report_id: int | str, url: str = "") -> list[WebhookDelivery]:
    """`report.ready`, for a generated report (its kind, id and where to fetch it)."""
    return emit(Event.REPORT_READY, {"report": report, "id": report_id, "url": url})


# --- delivery --------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: sha256=<hex HMAC-SHA256 of "timestamp.body">."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, … at most 6 hours."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer like any other non-2xx: never followed


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST once. Returns the HTTP status (None without an answer) and an error text."""
    # check_url allowed http and https only (S310).
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    timeout = getattr(settings, "TAXSERVICE_WEBHOOK_TIMEOUT_SECONDS", 5)
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except Exception as exc:  # connection refused, timeout, TLS, DNS …
        return None, repr(exc)[:500]


def deliver(delivery_id: int) -> str:
    """Attempt one delivery; on failure, schedule the next attempt through the outbox.

    Idempotent: a delivered (or abandoned) delivery is left alone. Returns its state.
    """
    try:
        delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    except WebhookDelivery.DoesNotExist:
        return "missing"
    if delivery.state != "pending":
        return delivery.state
    subscription = delivery.subscription
    status: int | None = None
    error = ""
    if not subscription.active:
        error, final = "subscription deleted", True
    else:
        try:
            check_url(subscription.url)  # again: a host may resolve elsewhere by now
        except InvalidInput as exc:
            error, final = f"refused: {exc.detail}", True
        else:
            body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
            timestamp = str(int(timezone.now().timestamp()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "taxservice-webhooks/1",
                "X-Taxservice-Event": delivery.event,
                "X-Taxservice-Delivery": str(delivery.event_id),
                "X-Taxservice-Timestamp": timestamp,
                SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
            }
            status, error = _post(subscription.url, body, headers)
            final = False
    return _record_attempt(delivery_id, status=status, error=error, final=final)


def _record_attempt(delivery_id: int, *, status: int | None, error: str, final: bool) -> str:
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.state != "pending":  # a concurrent attempt finished it first
            return delivery.state
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status = status
        ok = status is not None and 200 <= status < 300
        delivery.last_error = "" if ok else error
        delivery.next_attempt_at = None
        if ok:
            delivery.delivered_at = now
        elif final or delivery.attempts >= settings.TAXSERVICE_WEBHOOK_MAX_ATTEMPTS:
            delivery.failed_at = now
        else:
            message = outbox.enqueue(scheduling.WEBHOOK_DELIVER, [delivery.pk], delay=retry_delay(delivery.attempts))
            delivery.next_attempt_at = message.available_at if message is not None else None
        delivery.save()
    if not ok:
        logger.warning(
            "Webhook delivery %s to subscription %s failed (attempt %s): %s",
            delivery.pk,
            delivery.subscription_id,
            delivery.attempts,
            error,
        )
    return delivery.state


def replay(*, actor: Staff, delivery_id: int) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery with the same event id."""
    require(can_use_webhooks, actor)
    with transaction.atomic():
        try:
            original = WebhookDelivery.objects.select_related("subscription").get(
                pk=delivery_id, subscription__owner=actor
            )
        except WebhookDelivery.DoesNotExist:
            raise NotFound(_("No such webhook delivery."), code="not_found") from None
        if not original.subscription.active:
            raise ConcurrentChange(
                _("The subscription is deleted; nothing can be replayed."), code="subscription_deleted"
            )
        delivery = WebhookDelivery.objects.create(
            subscription=original.subscription,
            event_id=original.event_id,
            event=original.event,
            payload=original.payload,
            created_at=timezone.now(),
            replay_of=original,
        )
        record_change(
            actor=actor,
            obj=delivery,
            action=ChangeLog.Action.CREATED,
            before={},
            after={"replay_of": original.pk, "event_id": str(original.event_id)},
        )
        scheduling.after_commit(scheduling.WEBHOOK_DELIVER, delivery.pk)
    return delivery
