"""Webhooks for integrators (docs/outbox-and-webhooks.md), against a real HTTP receiver on
loopback: signed deliveries, retries with the same event id, replay, the delivery log, and
the refusal of private addresses in production."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from taxservice.outbox import services as outbox
from taxservice.outbox.models import OutboxMessage
from taxservice.webhooks import services
from taxservice.webhooks.models import WebhookDelivery, WebhookSubscription
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.cases.models import TaskTransition


class Receiver:
    """An HTTP server on 127.0.0.1 (random port) that records every POST and answers with the
    next status of `answers` (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def subscribe(api, staff, url, events=("task.state_changed", "case.closed")):
    response = api(staff).post("/api/v1/webhooks/", {"url": url, "events": list(events)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def verify(secret: str, request: dict) -> bool:
    headers = request["headers"]
    expected = hmac.new(
        secret.encode(), headers["X-Taxservice-Timestamp"].encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["X-Taxservice-Signature"], f"sha256={expected}")


def test_a_transition_is_posted_signed_to_the_subscriber_after_the_commit(
    api, org, open_case, receiver, django_capture_on_commit_callbacks
):
    created = subscribe(api, org.integrator, receiver.url)
    assert len(created["secret"]) == 64
    listed = api(org.integrator).get("/api/v1/webhooks/").json()
    assert [row["id"] for row in listed["results"]] == [created["id"]]
    assert "secret" not in listed["results"][0]  # shown once

    task = open_case("joint").tasks.get()
    with django_capture_on_commit_callbacks(execute=True):
        case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
        assert receiver.requests == []  # nothing before the commit
    log = TaskTransition.objects.get(task=task, transition="transfer")
    posted = [r for r in receiver.requests if json.loads(r["body"])["data"].get("transition_id") == log.pk]
    assert len(posted) == 1
    request = posted[0]
    assert verify(created["secret"], request)
    assert not verify("another secret", request)
    headers, body = request["headers"], json.loads(request["body"])
    assert headers["X-Taxservice-Event"] == "task.state_changed" == body["type"]
    assert headers["X-Taxservice-Delivery"] == body["id"]
    assert body["data"] == {
        "task": task.pk,
        "case": task.case_id,
        "transition_id": log.pk,
        "transition": "transfer",
        "from_state": log.from_state,
        "to_state": log.to_state,
        "at": log.at.isoformat(),
    }
    delivery = WebhookDelivery.objects.get(event_id=body["id"])
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    log_rows = api(org.integrator).get(f"/api/v1/webhooks/{created['id']}/deliveries/").json()["results"]
    assert body["id"] in [row["event_id"] for row in log_rows]


def test_a_closed_case_is_an_event_of_its_own(api, org, open_case, receiver, django_capture_on_commit_callbacks):
    subscribe(api, org.integrator, receiver.url, events=["case.closed"])
    case = open_case("immediate")
    with django_capture_on_commit_callbacks(execute=True):
        case_services.task_transition(
            task_id=case.tasks.get().pk, actor=org.clerk, name="handle_on_spot", result="已领用发票"
        )
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["type"] for b in bodies] == ["case.closed"]  # not subscribed to task.state_changed
    assert bodies[0]["data"]["case"] == case.pk


def test_a_500_is_retried_later_with_the_same_event_id_until_delivered(
    api, org, open_case, receiver, django_capture_on_commit_callbacks
):
    subscribe(api, org.integrator, receiver.url, events=["task.state_changed"])
    receiver.answers = [500]
    task = open_case("joint").tasks.get()
    with django_capture_on_commit_callbacks(execute=True):
        case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    first = receiver.requests[0]
    delivery = WebhookDelivery.objects.get(event_id=json.loads(first["body"])["id"])
    assert (delivery.state, delivery.attempts, delivery.last_status, delivery.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    retry = OutboxMessage.objects.get(args=[delivery.pk], sent_at__isnull=True)
    assert retry.available_at == delivery.next_attempt_at > timezone.now()  # backed off

    assert outbox.relay().sent == 0  # not due yet
    outbox.relay(now=delivery.next_attempt_at + dt.timedelta(seconds=1))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)
    again = [r for r in receiver.requests[1:] if r["headers"]["X-Taxservice-Delivery"] == str(delivery.event_id)]
    assert len(again) == 1 and again[0]["body"] == first["body"]
    assert services.deliver(delivery.pk) == "delivered"  # a redelivered message posts nothing more
    assert len(receiver.requests) == 1 + len(receiver.requests[1:])


def test_after_the_last_attempt_the_delivery_gives_up(org, receiver, settings):
    settings.TAXSERVICE_WEBHOOK_MAX_ATTEMPTS = 2
    services.subscription_create(actor=org.integrator, url=receiver.url, events=["report.ready"])
    receiver.answers = [503, 503]
    [delivery] = services.emit_report_ready(report="weekly", report_id=1)
    assert services.deliver(delivery.pk) == "pending"
    assert services.deliver(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.failed_at is not None and delivery.attempts == 2 and delivery.last_status == 503
    assert services.deliver(delivery.pk) == "failed" and len(receiver.requests) == 2


def test_a_delivery_is_replayed_as_a_new_delivery_of_the_same_event(
    api, org, receiver, django_capture_on_commit_callbacks
):
    created = subscribe(api, org.integrator, receiver.url, events=["report.ready"])
    with django_capture_on_commit_callbacks(execute=True):
        services.emit_report_ready(report="weekly", report_id=7, url="/reports/7/")
    original = WebhookDelivery.objects.get()
    assert original.state == "delivered" and len(receiver.requests) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = api(org.integrator).post(f"/api/v1/webhooks/deliveries/{original.pk}/replay/")
    assert response.status_code == 202, response.json()
    replayed = WebhookDelivery.objects.get(replay_of=original)
    assert response.json()["id"] == replayed.pk
    assert replayed.event_id == original.event_id and replayed.state == "delivered"
    assert [r["headers"]["X-Taxservice-Delivery"] for r in receiver.requests] == [str(original.event_id)] * 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    rows = api(org.integrator).get(f"/api/v1/webhooks/{created['id']}/deliveries/").json()["results"]
    assert [row["id"] for row in rows] == [replayed.pk, original.pk]


def test_private_and_loopback_urls_are_refused_in_production_unless_allow_listed(api, org, receiver, settings):
    settings.PRODUCTION = True
    client = api(org.integrator)
    for url in (receiver.url, "http://10.0.0.8/hook", "http://169.254.169.254/latest", "http://[::1]:8080/"):
        response = client.post("/api/v1/webhooks/", {"url": url, "events": ["case.closed"]}, format="json")
        assert response.status_code == 400, url
        assert response.json()["code"] == "url_not_allowed"
    assert not WebhookSubscription.objects.exists()
    response = client.post("/api/v1/webhooks/", {"url": "ftp://example.com/", "events": ["case.closed"]}, format="json")
    assert response.status_code == 400

    settings.TAXSERVICE_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]
    assert (
        client.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["case.closed"]}, format="json").status_code
        == 201
    )


def test_a_delivery_to_an_address_refused_meanwhile_is_not_sent(org, receiver, settings):
    services.subscription_create(actor=org.integrator, url=receiver.url, events=["report.ready"])
    [delivery] = services.emit_report_ready(report="weekly", report_id=2)
    settings.PRODUCTION = True  # e.g. the host now resolves to a private address
    assert services.deliver(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("refused") and receiver.requests == []


def test_only_integrators_and_administrators_subscribe_and_each_sees_only_their_own(api, org, receiver):
    assert api(org.clerk).get("/api/v1/webhooks/").status_code == 403
    response = api(org.clerk).post("/api/v1/webhooks/", {"url": receiver.url, "events": ["case.closed"]}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    created = subscribe(api, org.integrator, receiver.url)
    admin = api(org.admin)
    assert admin.get("/api/v1/webhooks/").json()["results"] == []
    assert admin.get(f"/api/v1/webhooks/{created['id']}/deliveries/").status_code == 404
    assert admin.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 404
    bad = api(org.integrator).post("/api/v1/webhooks/", {"url": receiver.url, "events": ["nope"]}, format="json")
    assert bad.status_code == 400

    assert api(org.integrator).delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    again = api(org.integrator).delete(f"/api/v1/webhooks/{created['id']}/")
    assert again.status_code == 409 and again.json()["code"] == "already_deleted"
    assert services.emit_report_ready(report="weekly", report_id=3) == []  # nobody subscribed now


def test_the_webhook_endpoints_are_in_the_schema_with_their_errors(api, org):
    schema = api(org.integrator).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert set(paths["/api/v1/webhooks/"]["post"]["responses"]) >= {"201", "400", "403"}
    assert set(paths["/api/v1/webhooks/{subscription_id}/"]["delete"]["responses"]) >= {"204", "404", "409"}
    assert "404" in paths["/api/v1/webhooks/{subscription_id}/deliveries/"]["get"]["responses"]
    assert "404" in paths["/api/v1/webhooks/deliveries/{delivery_id}/replay/"]["post"]["responses"]
