"""Logs in production (issue #16): one JSON object a line, each with the request id of the work
it belongs to (also inside the Celery tasks the request sent), the user's id and role, never a
credit code or a password; an ordinary 4xx is one line without a traceback; no line twice.

The tests read what the configured console handler prints, switched to the JSON formatter
as LOG_FORMAT=json configures it (settings.LOGGING)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.exceptions import BadRequest
from django.urls import include, path

from taxservice import log
from taxservice.ops import celery_signals

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_ops_logging")]

page_logger = logging.getLogger("taxservice.tests.page")


def _speaks(request):
    from django.http import HttpResponse

    page_logger.warning("Looked up taxpayer 91350100M000100Y43 with password=hunter2")
    return HttpResponse("ok")


def _boom(request):
    raise RuntimeError("the database went away")


def _bad(request):
    raise BadRequest("Malformed filter")


urlpatterns = [
    path("test-ops-logging/speaks/", _speaks, name="speaks"),
    path("test-ops-logging/boom/", _boom),
    path("test-ops-logging/bad/", _bad),
    path("", include("taxservice.urls")),
]


@pytest.fixture
def json_lines(settings):
    """Every line the root's console handler prints, in JSON, with the access log on."""
    settings.TAXSERVICE_ACCESS_LOG = True
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and not type(h).__module__.startswith("_pytest")
    )
    buffer = io.StringIO()
    stream = handler.setStream(buffer)
    formatter = handler.formatter
    handler.setFormatter(log.JsonFormatter())
    root_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.INFO)

    def read() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield read
    handler.setStream(stream)
    handler.setFormatter(formatter)
    logging.getLogger().setLevel(root_level)


def test_a_page_logs_json_lines_with_the_request_id_user_and_role(client, org, json_lines):
    client.force_login(org.coordinator.user)
    response = client.get("/test-ops-logging/speaks/", HTTP_X_REQUEST_ID="req-42")
    assert response["X-Request-ID"] == "req-42"
    lines = json_lines()
    assert [line["logger"] for line in lines] == ["taxservice.tests.page", "taxservice.request"]
    said, access = lines
    assert said["request_id"] == access["request_id"] == "req-42"
    assert said["user_id"] == access["user_id"] == org.coordinator.user.pk
    assert access["role"] == "coordinator"
    assert access["status"] == 200 and access["view"] == "speaks" and access["duration_ms"] >= 0
    # Never a credit code or a password.
    assert "91350100M000100Y43" not in said["message"] and "hunter2" not in said["message"]
    assert "91**" in said["message"] and "password=***" in said["message"]


def test_an_api_call_logs_the_token_users_id(api, org, json_lines):
    response = api(org.coordinator).get("/api/v1/me/")
    assert response.status_code == 200
    (access,) = [line for line in json_lines() if line["logger"] == "taxservice.request"]
    assert access["user_id"] == org.coordinator.user.pk
    assert access["request_id"] == response["X-Request-ID"]


def test_a_403_is_one_json_line_without_a_traceback(client, org, json_lines):
    client.force_login(org.clerk.user)
    response = client.get("/back-office/")
    assert response.status_code == 403
    (line,) = json_lines()
    assert line["logger"] == "django.request" and line["level"] == "WARNING" and line["status"] == 403
    assert line["request_id"] == response["X-Request-ID"]
    assert "exc" not in line


def test_a_400_is_one_line_and_a_500_keeps_its_traceback_in_one_line(client, json_lines):
    assert client.get("/test-ops-logging/bad/").status_code == 400
    client.raise_request_exception = False
    assert client.get("/test-ops-logging/boom/").status_code == 500
    bad, boom = json_lines()
    assert bad["status"] == 400 and "exc" not in bad
    assert boom["status"] == 500
    assert boom["exc"].startswith("Traceback") and "RuntimeError: the database went away" in boom["exc"]


def test_development_keeps_the_plain_message(settings):
    """LOG_FORMAT=text (the development default) prints the message alone, as before."""
    assert settings.LOG_FORMAT == "text"
    assert "formatter" not in settings.LOGGING["handlers"]["console"]


# --- into Celery --------------------------------------------------------------------------------


class _Request:
    def __init__(self, **headers) -> None:
        self.__dict__.update(headers)


class _Task:
    name = "taxservice.tests.task"

    def __init__(self, **headers) -> None:
        self.request = _Request(**headers)


def test_the_request_id_goes_into_a_tasks_headers_and_becomes_its_context():
    token = log.set_context(log.LogContext(request_id="req-7", user_id=5, role="coordinator"))
    try:
        headers: dict = {}
        celery_signals._publish(headers=headers)
    finally:
        log.reset_context(token)
    assert headers == {"taxservice_request_id": "req-7", "taxservice_user_id": 5, "taxservice_role": "coordinator"}

    # In the worker: the task's lines carry the request's id, and it is gone afterwards.
    assert log.current_context() is None
    celery_signals._prerun(task_id="t1", task=_Task(**headers))
    record = logging.LogRecord("x", logging.INFO, "", 0, "in the task", None, None)
    log.RequestContextFilter().filter(record)
    assert (record.request_id, record.user_id, record.role) == ("req-7", 5, "coordinator")
    celery_signals._postrun(task_id="t1")
    assert log.current_context() is None


def test_a_task_no_request_sent_gets_an_id_of_its_own():
    celery_signals._prerun(task_id="t2", task=_Task(taxservice_request_id="bad id with spaces"))
    context = log.current_context()
    assert context is not None and context.request_id.startswith("task-")
    celery_signals._postrun(task_id="t2")


def test_a_task_run_eagerly_in_a_request_keeps_the_requests_id(
    client, org, open_case, json_lines, django_capture_on_commit_callbacks
):
    """The embedded setup: the notification task runs in the request, and logs with its id."""
    task = open_case("assisted").tasks.get()
    token = log.set_context(log.LogContext(request_id="req-eager"))
    try:
        from taxservice.workflow.cases import services as case_services

        with django_capture_on_commit_callbacks(execute=True):
            case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    finally:
        log.reset_context(token)
    task_lines = [line for line in json_lines() if line["logger"].startswith("celery")]
    assert task_lines, "the eager task logged nothing"
    assert {line["request_id"] for line in task_lines} == {"req-eager"}
