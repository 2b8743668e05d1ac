"""Two bad ratings of one case at the same moment, each in its own database session: one is
recorded and opens one rectification; the other answers `already_rated` and writes nothing."""

from __future__ import annotations

import threading
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection, connections

from taxservice.errors import ConcurrentChange
from taxservice.workflow.cases import services as task_services
from taxservice.workflow.cases.models import Task
from taxservice.workflow.quality import services
from taxservice.workflow.quality.models import RECTIFICATION_ITEM, CaseRating, Rectification


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("shipped_routing_rules")
def test_two_bad_ratings_at_once_open_one_rectification(org, open_case):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent sessions: runs in the PostgreSQL pass of .ci/run")
    # An earlier transactional test may have flushed the shipped rectification item.
    import_module("taxservice.workflow.quality.migrations.0002_rectification_item").add_item(apps, None)
    task = open_case("assisted").tasks.get()
    for name, actor, kwargs in (
        ("transfer", org.clerk, {}),
        ("assign", org.member, {}),
        ("accept", org.member, {}),
        ("complete", org.member, {"result": "已办结"}),
        ("give_feedback", org.clerk, {"result": "已告知"}),
    ):
        task = task_services.task_transition(task_id=task.pk, actor=actor, name=name, **kwargs)

    barrier = threading.Barrier(2)
    results: list[object] = []

    def rate(score: int) -> None:
        try:
            barrier.wait()
            results.append(services.case_rate(actor=org.clerk, case_id=task.case_id, score=score, channel="api"))
        except Exception as exc:  # reported by the assertions below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rate, args=(score,)) for score in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    recorded = [r for r in results if isinstance(r, CaseRating)]
    refused = [r for r in results if isinstance(r, ConcurrentChange)]
    assert len(recorded) == 1 and len(refused) == 1, results
    assert refused[0].code == "already_rated"
    assert CaseRating.objects.count() == 1
    assert Rectification.objects.get().rating_id == recorded[0].pk
    assert Task.objects.filter(item__code=RECTIFICATION_ITEM).count() == 1
