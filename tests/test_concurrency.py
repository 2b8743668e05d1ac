"""Two people acting on one task at once: one wins, the other gets a clear refusal."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from taxservice.errors import ConcurrentChange, TransitionNotAllowed
from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import TaskTransition


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_assigns_never_double_assign(org, open_case):
    if connection.vendor != "postgresql":
        pytest.skip("needs real row locks: runs in the PostgreSQL pass of .ci/run")
    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")

    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def attempt(staff):
        try:
            barrier.wait()
            services.task_transition(task_id=task.pk, actor=staff, name="assign")
            outcomes[staff.name] = "assigned"
        except (TransitionNotAllowed, ConcurrentChange) as exc:
            outcomes[staff.name] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(staff,)) for staff in (org.member, org.member2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    results = list(outcomes.values())
    assert results.count("assigned") == 1
    loser = next(v for v in results if v != "assigned")
    assert isinstance(loser, TransitionNotAllowed | ConcurrentChange)
    assert TaskTransition.objects.filter(task=task, transition="assign").count() == 1
    task.refresh_from_db()
    assert task.assignee.name in outcomes and outcomes[task.assignee.name] == "assigned"


@pytest.mark.django_db(transaction=True)
def test_several_dispatchers_on_one_queue_never_double_assign_or_lose_a_task(org):
    """Four robots sweep the same backlog at once, each in its own database session."""
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED and row locks: runs in the PostgreSQL pass of .ci/run")
    from taxservice.catalogue.models import HandlingList
    from taxservice.org.models import Role, Team, Tier
    from taxservice.workflow.cases.models import Task, TaskAssignment
    from taxservice.workflow.routing import services as routing_services
    from taxservice.workflow.routing.models import RobotSettings, RoutingRule, Target
    from tests.factories import ItemFactory, StaffFactory, TaxpayerFactory

    hot = ItemFactory(
        code="H900",
        handling_list=HandlingList.ASSISTED,
        tier=Tier.MIDDLE,
        team_kind=Team.Kind.ONLINE_PROCESSING,
        high_frequency=True,
    )
    for _ in range(4):
        StaffFactory(roles=[Role.TEAM_MEMBER], teams=[org.online], home_branch=org.service_branch, capacity=1000)
    # A transactional test starts from a flushed database: the shipped rules may be gone.
    RoutingRule.objects.create(name="bench", priority=1, match_item=hot, target=Target.CITY, chooser="random")
    taxpayers = [TaxpayerFactory(competent_branch=org.source) for _ in range(20)]
    # Hold the robot while the backlog builds (intake would dispatch each task at once).
    RobotSettings.objects.update_or_create(pk=1, defaults={"paused": True})
    for i in range(160):
        routing_services.task_intake(
            actor=None, source="business", taxpayer=taxpayers[i % 20].credit_code, item=hot.code
        )
    queued = list(Task.objects.filter(auto_dispatch=True, state="queued").values_list("pk", flat=True))
    assert len(queued) == 20  # duplicates merged: one open task per taxpayer and item
    for _ in range(140):
        routing_services.task_intake(
            actor=None,
            source="business",
            taxpayer=TaxpayerFactory(competent_branch=org.source).credit_code,
            item=hot.code,
        )
    backlog = set(Task.objects.filter(auto_dispatch=True, state="queued").values_list("pk", flat=True))
    assert len(backlog) == 160

    RobotSettings.objects.filter(pk=1).update(paused=False)
    barrier = threading.Barrier(4)
    runs = []

    def robot():
        try:
            barrier.wait()
            runs.append(routing_services.robot_run(trigger="sweep", batch_size=10))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=robot) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sum(run.dispatched for run in runs) == 160
    assert not Task.objects.filter(pk__in=backlog, state="queued").exists()
    per_task = Counter(
        TaskTransition.objects.filter(task_id__in=backlog, transition="assign").values_list("task_id", flat=True)
    )
    assert set(per_task.values()) == {1}
    assert TaskAssignment.objects.filter(task_id__in=backlog, active=True).count() == 160
    from taxservice.workflow.cases.assignments import staff_recount_open_tasks

    assert staff_recount_open_tasks() == 0  # four robots' counter updates added up exactly
