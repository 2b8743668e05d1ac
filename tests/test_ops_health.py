"""Health and readiness (issue #16): /healthz answers while the process does; /readyz says
whether this process can do its work (database, migrations, broker, nothing stuck); both are
JSON, need no sign-in, and answer a load balancer's plain-HTTP call by an internal address.
The operations page is the administrators' one screen on the same figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.utils import OperationalError
from django.utils import timezone

from taxservice.ops import selectors
from taxservice.workflow.routing.models import UploadBatch

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_sign_in_and_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_lists_its_checks_and_is_ready_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "stuck_work"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_is_not_ready_while_the_database_fails(client, monkeypatch):
    def unreachable() -> str:
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "_check_database", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {
        "ok": False,
        "ms": body["checks"]["database"]["ms"],
        "detail": "OperationalError: connection refused",
    }
    # What needs the database is not asked once it is gone.
    assert "migrations" not in body["checks"]


def test_readyz_is_not_ready_with_migrations_left_to_apply(client, monkeypatch):
    monkeypatch.setattr(selectors, "_migrations_ok_until", 0.0)

    class Plan:
        def __init__(self, connection) -> None:
            self.loader = type("L", (), {"graph": type("G", (), {"leaf_nodes": lambda self: []})()})()

        def migration_plan(self, targets):
            return [("cases", "9999_future")]

    monkeypatch.setattr(selectors, "MigrationExecutor", Plan)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"]["detail"] == "RuntimeError: 1 migrations not applied"


def test_an_upload_left_importing_too_long_makes_it_not_ready(client, org, settings):
    settings.TAXSERVICE_STUCK_MINUTES = 30
    batch = UploadBatch.objects.create(uploaded_by=org.coordinator, filename="a.csv", state="importing")
    assert client.get("/readyz").status_code == 200  # a fresh upload is work in progress
    UploadBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - dt.timedelta(minutes=31))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["stuck_work"]["detail"] == "RuntimeError: 1 uploads unfinished after 30 minutes"
    settings.TAXSERVICE_STUCK_MINUTES = 0  # the check can be switched off
    assert "stuck_work" not in client.get("/readyz").json()["checks"]


def test_readyz_checks_the_broker_when_one_is_configured(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.TAXSERVICE_READY_BROKER_TIMEOUT = 1
    from celery import current_app

    current_app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        response = client.get("/readyz")
    finally:
        current_app.conf.broker_url = "memory://"
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_probes_answer_a_plain_http_call_by_an_internal_host_name(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["tax.example"]
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="web:8000").status_code == 200
    # Everything else still gets the host check.
    assert client.get("/login/", HTTP_HOST="web:8000").status_code == 400


def test_a_response_carries_the_request_id_it_was_given_or_a_new_one(client):
    given = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abc")
    assert given["X-Request-ID"] == "lb-1234.abc"
    made = client.get("/login/")
    assert len(made["X-Request-ID"]) == 32
    for unsafe in ["a" * 65, "two words", "<script>", "é"]:
        answered = client.get("/healthz", HTTP_X_REQUEST_ID=unsafe)["X-Request-ID"]
        assert answered != unsafe and len(answered) == 32


# --- the operations page ---------------------------------------------------------------------


def test_the_operations_page_is_for_administrators_only(client, org):
    client.force_login(org.coordinator.user)
    assert client.get("/operations/").status_code == 403
    assert "/operations/" not in client.get("/").content.decode()
    client.force_login(org.admin.user)
    home = client.get("/").content.decode()
    assert 'href="/operations/"' in home


def test_the_operations_page_shows_the_queues_robot_beat_and_readiness(client, org, open_case, settings):
    settings.LANGUAGE_CODE = "en"
    task = open_case("assisted").tasks.get()
    from taxservice.workflow.cases import services as case_services

    case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    client.force_login(org.admin.user)
    response = client.get("/operations/")
    assert response.status_code == 200
    page = response.content.decode()
    for section in [
        "ops-readiness",
        "ops-queues",
        "ops-workers",
        "ops-beat",
        "ops-robot",
        "ops-work",
        "ops-task-outcomes",
    ]:
        assert f'id="{section}"' in page
    snapshot = response.context["snapshot"]
    assert snapshot.hub == {("queued", org.online.code): 1}
    assert org.online.code in page
    # No broker in the tests: the page says tasks run in the web process instead of pinging.
    assert response.context["workers"] is None
    assert "No broker is configured" in page


# --- beat's healthcheck (manage.py ops_probe beat) -----------------------------------------------


def test_beats_probe_fails_until_the_sweep_is_sent_on_time(settings):
    from django.core.management import CommandError, call_command
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    settings.TAXSERVICE_ROBOT_SWEEP_SECONDS = 60
    with pytest.raises(CommandError, match="has not written"):
        call_command("ops_probe", "beat")
    every = IntervalSchedule.objects.create(every=60, period="seconds")
    entry = PeriodicTask.objects.create(name="robot-sweep", task="taxservice.routing.tasks.robot_sweep", interval=every)
    PeriodicTask.objects.filter(pk=entry.pk).update(last_run_at=timezone.now() - dt.timedelta(minutes=5))
    with pytest.raises(CommandError, match="late"):
        call_command("ops_probe", "beat")
    PeriodicTask.objects.filter(pk=entry.pk).update(last_run_at=timezone.now() - dt.timedelta(seconds=30))
    call_command("ops_probe", "beat")
