"""Two people acting on one task at once: one wins, the other gets a clear refusal."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from taxservice.cases import services
from taxservice.cases.exceptions import ConcurrentChange, TransitionNotAllowed
from taxservice.cases.models import TaskTransition


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
