"""Two ladder scans at the same moment, each in its own database session, send each step once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from importlib import import_module

import pytest
import time_machine
from django.apps import apps
from django.db import connection, connections
from django.utils import timezone

from taxservice.workflow.cases import services as task_services
from taxservice.workflow.cases.models import Notification, TaskTransition
from taxservice.workflow.ladder import services
from taxservice.workflow.ladder.models import Escalation, EscalationStep
from taxservice.workflow.routing.services import robot_set_paused

TZ = timezone.get_current_timezone()
TASKS = 24


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shipped_routing_rules")  # screening must send the joint item to SRC1's basic team
def test_two_scans_at_once_send_each_step_once(org, open_case):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent sessions: runs in the PostgreSQL pass of .ci/run")
    if not EscalationStep.objects.exists():  # an earlier transactional test flushed the shipped steps
        import_module("taxservice.workflow.ladder.migrations.0002_default_steps").load(apps, None)
    # Half the tasks must stay queued: the robot (a branch team's default) is paused.
    robot_set_paused(actor=org.coordinator, paused=True, reason="测试：保留排队任务")
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ), tick=False):
        tasks = []
        for n in range(TASKS):
            task = open_case("joint").tasks.get()
            task = task_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
            if n % 2:  # half assigned: the assignee is told; half queued: the chiefs are
                task = task_services.task_transition(task_id=task.pk, actor=org.back_member, name="assign")
            tasks.append(task)
    now = dt.datetime(2026, 12, 14, 9, 0, tzinfo=TZ)  # five working days past due: urge, supervise, notice

    barrier = threading.Barrier(2)
    results: list[object] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(services.ladder_scan(now=now))
        except Exception as exc:  # reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(result, services.ScanResult) for result in results), results
    assert sum(result.sent for result in results) == 3 * TASKS  # type: ignore[union-attr]
    per_step = Counter(Escalation.objects.values_list("task_id", "step__action"))
    assert len(per_step) == 3 * TASKS and set(per_step.values()) == {1}
    log = Counter(
        TaskTransition.objects.filter(transition__in=["urge", "supervise", "notice"]).values_list(
            "task_id", "transition"
        )
    )
    assert len(log) == 3 * TASKS and set(log.values()) == {1}
    notes = Counter(Notification.objects.values_list("recipient_id", "task_id", "transition__transition"))
    assert set(notes.values()) == {1}
    assert not Escalation.objects.filter(transition__isnull=True).exists()
    # And a third scan, afterwards, finds nothing left to send.
    assert services.ladder_scan(now=now).sent == 0
