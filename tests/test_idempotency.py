"""Idempotency-Key on every POST under /api/v1/ (Stripe's semantics): retries are safe."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from taxservice.idempotency import services as idempotency
from taxservice.idempotency.models import IdempotencyRecord
from taxservice.idempotency.tasks import idempotency_purge
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases.models import Case, TaskTransition
from tests.factories import credit_code

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def case_payload(taxpayer, n: int = 0) -> dict:
    return {
        "taxpayer": taxpayer.credit_code,
        "channel": "hall_window",
        "hall": "H01",
        "notes": f"第{n}次",
        "items": [{"item": "I001"}],
    }


def post(client, path, payload, key):
    return client.post(path, payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


class TestReplay:
    def test_100_cases_each_sent_three_times_make_100(self, api, org, taxpayer, items):
        client = api(org.clerk)
        first_bodies = {}
        for n in range(100):
            for attempt in range(3):
                response = post(client, "/api/v1/cases/", case_payload(taxpayer, n), key=f"case-{n}")
                assert response.status_code == 201, response.content[:300]
                if attempt == 0:
                    assert "Idempotent-Replayed" not in response
                    first_bodies[n] = response.json()
                else:
                    assert response["Idempotent-Replayed"] == "true"
                    assert response.json() == first_bodies[n]
        assert Case.objects.count() == 100
        assert len({body["id"] for body in first_bodies.values()}) == 100

    def test_a_retried_transition_replays_its_200_instead_of_409(self, api, org, open_case):
        task = open_case("assisted").tasks.get()
        client = api(org.clerk)
        first = post(client, f"/api/v1/tasks/{task.pk}/transitions/", {"transition": "transfer"}, key="t-1")
        assert first.status_code == 200, first.json()
        again = post(client, f"/api/v1/tasks/{task.pk}/transitions/", {"transition": "transfer"}, key="t-1")
        assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true")
        assert again.json() == first.json()
        assert TaskTransition.objects.filter(task=task, transition="transfer").count() == 1
        # Without the key, the same retry is the conflict it always was.
        plain = client.post(f"/api/v1/tasks/{task.pk}/transitions/", {"transition": "transfer"}, format="json")
        assert plain.status_code == 409

    def test_a_retried_taxpayer_registration_replays_201(self, api, org):
        client = api(org.clerk)
        payload = {"credit_code": credit_code(42), "name": "杭州某某科技有限公司", "competent_branch": "SRC2"}
        first = post(client, "/api/v1/taxpayers/", payload, key="tp-42")
        again = post(client, "/api/v1/taxpayers/", payload, key="tp-42")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again["Idempotent-Replayed"] == "true" and again["Content-Type"] == first["Content-Type"]
        assert again.content == first.content
        assert Taxpayer.objects.filter(credit_code=credit_code(42)).count() == 1

    def test_a_4xx_is_stored_and_replayed_too(self, api, org, taxpayer, items):
        client = api(org.clerk)
        bad = {**case_payload(taxpayer), "channel": "pigeon"}
        assert post(client, "/api/v1/cases/", bad, key="bad").status_code == 400
        again = post(client, "/api/v1/cases/", bad, key="bad")
        assert (again.status_code, again["Idempotent-Replayed"]) == (400, "true")


class TestRefusals:
    def test_the_same_key_with_another_body_is_422_and_writes_nothing(self, api, org, taxpayer, items):
        client = api(org.clerk)
        assert post(client, "/api/v1/cases/", case_payload(taxpayer, 1), key="k").status_code == 201
        response = post(client, "/api/v1/cases/", case_payload(taxpayer, 2), key="k")
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused" and response.json()["detail"]
        assert Case.objects.count() == 1

    def test_the_same_key_on_another_path_is_422(self, api, org, taxpayer, items, open_case):
        client = api(org.clerk)
        assert post(client, "/api/v1/cases/", case_payload(taxpayer), key="k").status_code == 201
        task = open_case("assisted").tasks.get()
        response = post(client, f"/api/v1/tasks/{task.pk}/transitions/", {"transition": "transfer"}, key="k")
        assert response.status_code == 422

    @pytest.mark.parametrize("key", ["", "x" * 256, "a\tb"])
    def test_a_malformed_key_is_400(self, api, org, taxpayer, items, key):
        response = post(api(org.clerk), "/api/v1/cases/", case_payload(taxpayer), key=key)
        assert (response.status_code, response.json()["code"]) == (400, "invalid_idempotency_key")
        assert not Case.objects.exists()

    def test_still_running_past_the_wait_is_409(self, api, org, taxpayer, items, settings):
        settings.TAXSERVICE_IDEMPOTENCY_WAIT_SECONDS = 0
        payload = case_payload(taxpayer)
        running = _record(org.clerk.user, "busy", payload)
        response = post(api(org.clerk), "/api/v1/cases/", payload, key="busy")
        assert (response.status_code, response.json()["code"]) == (409, "idempotency_in_progress")
        assert response["Retry-After"] == "1"
        assert not Case.objects.exists()
        assert IdempotencyRecord.objects.get().pk == running.pk

    def test_an_anonymous_post_with_a_key_is_refused_by_the_view(self, client, db):
        response = client.post("/api/v1/cases/", {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
        assert response.status_code == 401
        assert not IdempotencyRecord.objects.exists()


class TestKeyLifecycle:
    def test_without_the_header_nothing_is_stored(self, api, org, taxpayer, items):
        client = api(org.clerk)
        for _ in range(2):
            assert client.post("/api/v1/cases/", case_payload(taxpayer), format="json").status_code == 201
        assert Case.objects.count() == 2
        assert not IdempotencyRecord.objects.exists()

    def test_keys_are_per_user(self, api, org, taxpayer, items):
        assert post(api(org.clerk), "/api/v1/cases/", case_payload(taxpayer), key="same").status_code == 201
        other = post(api(org.admin), "/api/v1/cases/", case_payload(taxpayer), key="same")
        assert other.status_code == 201 and "Idempotent-Replayed" not in other
        assert Case.objects.count() == 2

    def test_a_5xx_frees_the_key_for_the_retry(self, api, org, taxpayer, items):
        from taxservice.workflow.cases import services

        client = api(org.clerk)
        client.raise_request_exception = False
        real = services.case_open
        with mock.patch.object(services, "case_open", side_effect=RuntimeError("boom")):
            failed = post(client, "/api/v1/cases/", case_payload(taxpayer), key="retry-me")
        assert failed.status_code == 500 and failed.json()["code"] == "server_error"
        assert not IdempotencyRecord.objects.exists()
        assert services.case_open is real
        retried = post(client, "/api/v1/cases/", case_payload(taxpayer), key="retry-me")
        assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
        assert Case.objects.count() == 1

    def test_an_expired_key_runs_anew(self, api, org, taxpayer, items):
        client = api(org.clerk)
        assert post(client, "/api/v1/cases/", case_payload(taxpayer), key="old").status_code == 201
        IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        again = post(client, "/api/v1/cases/", case_payload(taxpayer), key="old")
        assert again.status_code == 201 and "Idempotent-Replayed" not in again
        assert Case.objects.count() == 2

    def test_an_abandoned_in_progress_key_is_taken_over(self, api, org, taxpayer, items, settings):
        settings.TAXSERVICE_IDEMPOTENCY_WAIT_SECONDS = 0
        payload = case_payload(taxpayer)
        _record(org.clerk.user, "dead", payload, age=timedelta(minutes=10))
        response = post(api(org.clerk), "/api/v1/cases/", payload, key="dead")
        assert response.status_code == 201
        assert IdempotencyRecord.objects.get().state == IdempotencyRecord.State.DONE

    def test_the_purge_deletes_only_expired_records(self, api, org, taxpayer, items):
        client = api(org.clerk)
        for key in ("a", "b"):
            post(client, "/api/v1/cases/", case_payload(taxpayer), key=key)
        IdempotencyRecord.objects.filter(key="a").update(expires_at=timezone.now() - timedelta(minutes=1))
        assert idempotency_purge.apply().get() == 1
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["b"]

    def test_the_record_keeps_24_hours(self, api, org, taxpayer, items):
        post(api(org.clerk), "/api/v1/cases/", case_payload(taxpayer), key="ttl")
        record = IdempotencyRecord.objects.get()
        assert record.expires_at - record.created_at == timedelta(hours=24)
        assert (record.method, record.path, record.response_status) == ("POST", "/api/v1/cases/", 201)


def test_every_post_in_the_schema_documents_the_header(api, org):
    schema = api(org.admin).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    posts = [(path, ops["post"]) for path, ops in schema["paths"].items() if "post" in ops]
    assert len(posts) >= 10
    for path, operation in posts:
        names = {(p["name"], p["in"]) for p in operation.get("parameters", [])}
        assert ("Idempotency-Key", "header") in names, path
        assert "422" in operation["responses"], path


def _record(user, key, payload, *, age=timedelta(0)):
    """An in-progress record for `payload` as the test client sends it (DRF's JSON rendering)."""
    now = timezone.now() - age
    return IdempotencyRecord.objects.create(
        user=user,
        key=key,
        method="POST",
        path="/api/v1/cases/",
        fingerprint=idempotency.fingerprint(
            method="POST", path="/api/v1/cases/", query="", body=JSONRenderer().render(payload)
        ),
        created_at=now,
        expires_at=now + timedelta(hours=24),
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_make_one_case_each(org, taxpayer, items, api):
    """100 keys, each sent by 3 threads at once: 100 cases, and every answer the same."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent inserts on one unique key: runs in the PostgreSQL pass of .ci/run")
    clients = [api(org.clerk) for _ in range(3)]
    answers: dict[int, list] = {n: [] for n in range(100)}
    lock = threading.Lock()

    def send(client, keys):
        try:
            for n in keys:
                response = post(client, "/api/v1/cases/", case_payload(taxpayer, n), key=f"c-{n}")
                with lock:
                    answers[n].append((response.status_code, response.json().get("id")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(client, range(100))) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    assert Case.objects.count() == 100
    for n, got in answers.items():
        assert len(got) == 3, n
        assert {status for status, _ in got} == {201}, got
        assert len({case_id for _, case_id in got}) == 1, got
