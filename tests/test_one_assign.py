"""One assign: the set-based path writes exactly the rows the single transition writes.

`tasks_assign_bulk` (the robot's batches) does in a few statements what
`task_transition(name="assign")` does one task at a time, and the robot's batch does
what `task_dispatch` does for one task. Each test runs both ways on the same setup (built
in a savepoint and rolled back between the two), and requires the same task, audit,
assignment, decision, notification and alert rows, and the same open-task counts,
ignoring ids and times.
"""

from __future__ import annotations

import secrets

import pytest
from django.db import transaction

from taxservice.catalogue.models import HandlingList
from taxservice.org.models import Staff, Team, Tier
from taxservice.workflow.cases import assignments
from taxservice.workflow.cases import services as case_services
from taxservice.workflow.cases.models import Notification, Task, TaskAssignment, TaskIntake, TaskTransition
from taxservice.workflow.routing import services as routing_services
from taxservice.workflow.routing.models import DispatchDecision, HubAlert
from tests.factories import ItemFactory, TaxpayerFactory

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def snapshot(tasks: list[Task]) -> dict[str, list]:
    """Every row the assignment may write about these tasks, with ids and times taken out."""
    index = {task.pk: n for n, task in enumerate(tasks)}
    ids = list(index)
    decision_of = {
        pk: index[task_id]
        for pk, task_id in DispatchDecision.objects.filter(task_id__in=ids).values_list("pk", "task_id")
    }
    intake_of = {
        pk: index[task_id] for pk, task_id in TaskIntake.objects.filter(task_id__in=ids).values_list("pk", "task_id")
    }
    log_of = {
        pk: (index[task_id], name)
        for pk, task_id, name in TaskTransition.objects.filter(task_id__in=ids).values_list(
            "pk", "task_id", "transition"
        )
    }

    def text(message: str) -> str:
        for task_id, n in index.items():
            message = message.replace(f"T{task_id}", f"T#{n}")
        return message

    def details(value: dict) -> dict:
        value = {**value, "decision": decision_of[value["decision"]]} if "decision" in value else value
        return {**value, "intake": intake_of[value["intake"]]} if "intake" in value else value

    return {
        "tasks": sorted(
            (index[row[0]], *row[1:])
            for row in Task.objects.filter(pk__in=ids).values_list(
                "pk", "state", "assignee_id", "team_id", "tier", "auto_dispatch", "has_open_alert", "result"
            )
        ),
        "log": sorted(
            (index[task_id], name, src, dst, actor, reason, repr(sorted(details(value).items())))
            for task_id, name, src, dst, actor, reason, value in TaskTransition.objects.filter(
                task_id__in=ids
            ).values_list("task_id", "transition", "from_state", "to_state", "actor_id", "reason", "details")
        ),
        "assignments": sorted(
            (index[task_id], staff_id, active, ended is None)
            for task_id, staff_id, active, ended in TaskAssignment.objects.filter(task_id__in=ids).values_list(
                "task_id", "staff_id", "active", "ended_at"
            )
        ),
        "notifications": sorted(
            (recipient, index[task_id], log_of[log_id], text(message), read is None)
            for recipient, task_id, log_id, message, read in Notification.objects.filter(task_id__in=ids).values_list(
                "recipient_id", "task_id", "transition_id", "message", "read_at"
            )
        ),
        "decisions": sorted(
            (index[row[0]], *(repr(value) for value in row[1:]))
            for row in DispatchDecision.objects.filter(task_id__in=ids).values_list(
                "task_id",
                "actor_id",
                "rule_id",
                "rule_version",
                "team_id",
                "candidates",
                "removed",
                "eligible",
                "loads",
                "chooser",
                "chooser_state",
                "seed",
                "chosen_id",
                "outcome",
            )
        ),
        "alerts": sorted(
            (index[task_id], kind, message, resolved is None)
            for task_id, kind, message, resolved in HubAlert.objects.filter(task_id__in=ids).values_list(
                "task_id", "kind", "message", "resolved_at"
            )
        ),
        "open_tasks": sorted(Staff.objects.values_list("pk", "open_tasks")),
    }


def both_ways(build, one_by_one, as_a_batch, capture) -> tuple[dict, dict]:
    """Build the same tasks twice, each time in a savepoint rolled back afterwards, and act on them each way."""
    snapshots = []
    for act in (one_by_one, as_a_batch):
        with transaction.atomic():
            tasks = build()
            # The single path's notification is written by a Celery task after the commit.
            with capture(execute=True):
                act(tasks)
            snapshots.append(snapshot(tasks))
            transaction.set_rollback(True)
    return snapshots[0], snapshots[1]


def queued_tasks(org, open_case) -> list[Task]:
    """Three tasks queued in the online team; the second has an open hub alert."""
    tasks = []
    for _ in range(3):
        task = open_case("assisted").tasks.get()
        tasks.append(case_services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer"))
    HubAlert.raise_once(task=tasks[1], kind=HubAlert.Kind.NO_CANDIDATE, message="nobody", now=tasks[1].updated_at)
    return tasks


@pytest.mark.parametrize("actor", ["system", "coordinator"])
def test_the_bulk_assign_writes_what_the_assign_transition_writes(
    org, open_case, actor, django_capture_on_commit_callbacks
):
    who = None if actor == "system" else org.coordinator
    chosen = [org.member, org.member2, org.member]

    def one_by_one(tasks: list[Task]) -> None:
        for task, person in zip(tasks, chosen, strict=True):
            case_services.task_transition(task_id=task.pk, actor=who, name="assign", assignee_id=person.pk)

    def as_a_batch(tasks: list[Task]) -> None:
        assignments.tasks_assign_bulk(
            actor=who,
            rows=[
                assignments.BulkAssignment(
                    task_id=task.pk, staff_id=person.pk, staff_name=person.name, item_name=task.item.name, details={}
                )
                for task, person in zip(tasks, chosen, strict=True)
            ],
        )

    single, bulk = both_ways(
        lambda: queued_tasks(org, open_case), one_by_one, as_a_batch, django_capture_on_commit_callbacks
    )
    assert single["notifications"] and single["assignments"]  # the comparison is not of empty lists
    assert bulk == single


def test_the_robots_batch_writes_what_dispatching_each_task_writes(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    hot = ItemFactory(
        code="H001",
        name="高频事项",
        handling_list=HandlingList.ASSISTED,
        tier=Tier.MIDDLE,
        team_kind=Team.Kind.ONLINE_PROCESSING,
        high_frequency=True,
    )
    seeds = {"next": 0}

    def seed(_bits: int) -> int:
        seeds["next"] += 1
        return seeds["next"]

    # The same random seeds both ways (1, 2, 3, …), so that random choices are the same too.
    monkeypatch.setattr(secrets, "randbits", seed)

    def build() -> list[Task]:
        seeds["next"] = 0
        tasks = []
        for _ in range(4):
            task, _merged = routing_services.task_intake(
                actor=org.integrator,
                source="business",
                taxpayer=TaxpayerFactory(competent_branch=org.source).credit_code,
                item=hot.code,
            )
            tasks.append(task)
        assert all(task.auto_dispatch and task.state == "queued" for task in tasks)
        HubAlert.raise_once(task=tasks[2], kind=HubAlert.Kind.NO_CANDIDATE, message="nobody", now=tasks[2].created_at)
        return tasks

    def one_by_one(tasks: list[Task]) -> None:
        for task in tasks:
            routing_services.task_dispatch(task_id=task.pk)

    def as_a_batch(tasks: list[Task]) -> None:
        run = routing_services.robot_run(trigger="manual", task_ids=[task.pk for task in tasks])
        assert run.dispatched == len(tasks)

    single, batch = both_ways(build, one_by_one, as_a_batch, django_capture_on_commit_callbacks)
    assert single["decisions"] and single["notifications"]
    assert batch == single
