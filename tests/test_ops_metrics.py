"""Prometheus metrics (issue #16): a token guards /metrics; requests are counted by view name;
queue depths, the robot, uploads, overdue tasks and beat come from the database at scrape time
(the operations page's own numbers); worker task outcomes are counted; labels stay bounded;
and with several processes (multiprocess mode) the counts add up instead of lying."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from taxservice.ops import selectors, taskstats
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.cases.models import Task
from taxservice.workflow.routing.models import RobotRun, UploadBatch

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def scrape(client, **headers) -> dict[str, list]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples, name: str, **labels) -> float:
    return sum(v for got, v in samples.get(name, []) if all(got.get(k) == w for k, w in labels.items()))


def test_requests_are_counted_by_view_name_never_by_raw_path(client, org, open_case):
    task = open_case("assisted").tasks.get()
    client.force_login(org.clerk.user)
    before = value(scrape(client), "taxservice_http_requests_total", view="task_detail", status="200")
    assert client.get(f"/tasks/{task.pk}/").status_code == 200
    client.get("/no-such-page/")
    samples = scrape(client)
    assert (
        value(samples, "taxservice_http_requests_total", view="task_detail", method="GET", status="200") == before + 1
    )
    assert value(samples, "taxservice_http_requests_total", view="unmatched", status="404") >= 1
    assert value(samples, "taxservice_http_request_duration_seconds_count", view="task_detail") >= 1
    views = {labels["view"] for labels, _v in samples["taxservice_http_requests_total"]}
    assert not any("/" in view or str(task.pk) in view for view in views)


def test_the_token_guards_metrics(client, settings):
    settings.TAXSERVICE_METRICS_TOKEN = "s3cret-token"
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.json()["code"] == "metrics_token_required"
    assert missing["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert (wrong.status_code, wrong.json()["code"]) == (403, "metrics_token_invalid")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token s3cret-token").status_code == 401
    assert "taxservice_robot_backlog_tasks" in scrape(client, HTTP_AUTHORIZATION="Bearer s3cret-token")


def test_production_without_a_token_keeps_metrics_closed(client, settings):
    settings.PRODUCTION = True
    settings.TAXSERVICE_METRICS_TOKEN = ""
    response = client.get("/metrics")
    assert (response.status_code, response.json()["code"]) == (404, "metrics_disabled")


def test_the_figures_are_the_operations_pages_and_the_databases(client, org, open_case, taxpayer):
    task = open_case("assisted").tasks.get()
    case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    UploadBatch.objects.create(uploaded_by=org.coordinator, filename="a.csv", state="importing")
    RobotRun.objects.create(trigger="sweep", dispatched=3, skipped=2)
    RobotRun.objects.create(trigger="transfer", dispatched=1, skipped=0)

    samples = scrape(client)
    snapshot = selectors.ops_snapshot()
    assert value(samples, "taxservice_hub_tasks", state="queued", team=org.online.code) == 1
    assert snapshot.hub[("queued", org.online.code)] == 1
    assert value(samples, "taxservice_overdue_tasks") == snapshot.overdue_total == 1
    assert value(samples, "taxservice_uploads_in_progress") == snapshot.uploads_in_progress == 1
    assert value(samples, "taxservice_uploads_stuck") == 0
    assert value(samples, "taxservice_robot_runs_total", trigger="sweep") == 1
    assert value(samples, "taxservice_robot_dispatched_total") == snapshot.robot.dispatched == 4
    assert value(samples, "taxservice_robot_skipped_total") == 2
    assert value(samples, "taxservice_robot_backlog_tasks") == snapshot.robot.backlog
    assert value(samples, "taxservice_robot_paused") == 0
    assert value(samples, "taxservice_robot_last_run_timestamp_seconds") > 0
    # No task id, no taxpayer code, no name anywhere in the exposition's labels.
    text = client.get("/metrics").content.decode()
    assert taxpayer.credit_code not in text
    for labels, _v in samples["taxservice_hub_tasks"]:
        assert set(labels) == {"state", "team"}


def test_worker_task_outcomes_are_counted(client, org, open_case, django_capture_on_commit_callbacks):
    taskstats.reset()
    task = open_case("assisted").tasks.get()
    # A transition's notification runs as a Celery task after the commit (eagerly here).
    with django_capture_on_commit_callbacks(execute=True):
        case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    samples = scrape(client)
    outcomes = {(labels["task"], labels["outcome"]): v for labels, v in samples["taxservice_celery_tasks_total"]}
    assert outcomes[("taxservice.cases.tasks.notify_transition", "success")] >= 1
    assert {outcome for _task, outcome in outcomes} <= set(taskstats.OUTCOMES)


def test_several_processes_add_up_in_multiprocess_mode(tmp_path):
    """Two 'gunicorn processes' count requests into the same directory; a third scrapes the
    sum. (Gauges are read from the database at scrape time, so they need no such care.)"""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "taxservice.settings"}
    count = (
        "import django; django.setup()\n"
        "from taxservice.ops import metrics\n"
        "for _ in range({n}): metrics.observe_request(view='home', method='GET', status=200, seconds=0.01)\n"
    )
    for n in (3, 4):
        subprocess.run([sys.executable, "-c", count.format(n=n)], env=env, cwd=ROOT, check=True, timeout=60)  # noqa: S603
    read = (
        "import django; django.setup()\n"
        "from prometheus_client.multiprocess import MultiProcessCollector\n"
        "from taxservice.ops import metrics\n"
        "for family in MultiProcessCollector(None, path=metrics.multiprocess_dir()).collect():\n"
        "    for s in family.samples:\n"
        "        if s.name == 'taxservice_http_requests_total': print(s.labels['view'], s.value)\n"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", read], env=env, cwd=ROOT, check=True, timeout=60, capture_output=True
    )
    assert out.stdout.decode().split() == ["home", "7.0"]
