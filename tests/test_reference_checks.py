"""Every reference in the project's models is a database foreign key, on SQLite and on
PostgreSQL (docs/decisions.md §11, and its table of references)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from taxservice.workflow.cases import services
from taxservice.workflow.routing.models import DispatchDecision

MISSING = 10**12


def project_foreign_keys() -> list[tuple[type[models.Model], models.ForeignKey]]:
    """Every ForeignKey (and OneToOneField) of every model the project defines, many-to-many tables included."""
    root = Path(settings.BASE_DIR).resolve()
    found = []
    for model in apps.get_models(include_auto_created=True):
        app_path = Path(apps.get_app_config(model._meta.app_label).path).resolve()
        if not app_path.is_relative_to(root) or ".venv" in app_path.relative_to(root).parts:
            continue
        if model._meta.proxy or not model._meta.managed:
            continue
        found += [(model, field) for field in model._meta.local_fields if isinstance(field, models.ForeignKey)]
    return found


REFERENCES = project_foreign_keys()


def test_the_project_has_the_references_this_checks():
    labels = {f"{model._meta.label}.{field.name}" for model, field in REFERENCES}
    # The eleven that once had no constraint, and a many-to-many table's.
    assert {
        "cases.Notification.recipient",
        "cases.Notification.task",
        "cases.Notification.transition",
        "routing.DispatchDecision.actor",
        "routing.DispatchDecision.rule",
        "routing.DispatchDecision.team",
        "routing.DispatchDecision.chosen",
        "routing.DispatchDecision.task",
        "cases.TaskTransition.task",
        "cases.TaskAssignment.task",
        "cases.TaskAssignment.staff",
        "org.Staff_teams.team",
    } <= labels


@pytest.mark.parametrize(
    ("model", "field"), REFERENCES, ids=[f"{model._meta.label}.{field.name}" for model, field in REFERENCES]
)
def test_every_reference_is_a_foreign_key_in_the_database(db, model, field):
    assert field.db_constraint, "db_constraint=False: the database does not check this reference"
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    target = (field.related_model._meta.db_table, field.target_field.column)
    assert [
        name
        for name, info in constraints.items()
        if info["columns"] == [field.column] and info["foreign_key"] == target
    ], f"no foreign key on {model._meta.db_table}.{field.column} → {target[0]}.{target[1]}"


@pytest.mark.django_db(transaction=True)
def test_a_decision_that_chose_nobody_is_refused(org, open_case):
    task = open_case("assisted").tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    task.refresh_from_db()
    decision = {
        "task_id": task.pk,
        "at": timezone.now(),
        "team_id": task.team_id,
        "chooser": "random",
        "outcome": DispatchDecision.Outcome.ASSIGNED,
    }
    # Deferred foreign keys are checked at the commit, on both databases.
    with pytest.raises(IntegrityError), transaction.atomic():
        DispatchDecision.objects.create(**decision, chosen_id=MISSING)
    assert not DispatchDecision.objects.exists()
    DispatchDecision.objects.create(**decision, chosen_id=org.member.pk)  # a real person is fine
