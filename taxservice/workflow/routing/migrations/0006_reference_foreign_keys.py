"""Every reference of the dispatch decision is a database foreign key again
(docs/decisions.md §11): the statement-level check of its task (routing 0005) is dropped,
and the task, actor, rule, team and chosen person get foreign-key constraints, on
PostgreSQL and SQLite. The actor gets a partial index (the robot's rows have none).

cases 0010 drops the check functions once this trigger no longer uses them.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

# The trigger helpers of the migration that installed the check (a migration never changes).
checks = importlib.import_module("taxservice.workflow.cases.migrations.0008_set_based_reference_checks")

REFS = (("routing_dispatchdecision", "task_id", "cases_task"),)


def drop_checks(apps, schema_editor) -> None:  # noqa: ANN001
    checks.uninstall(schema_editor, REFS)


def restore_checks(apps, schema_editor) -> None:  # noqa: ANN001
    checks.install(schema_editor, REFS)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_case_transition'),
        ('org', '0002_staff_open_tasks'),
        ('routing', '0005_set_based_reference_checks'),
    ]

    operations = [
        # First, so that going backwards the trigger comes back after the constraints are gone.
        migrations.RunPython(drop_checks, restore_checks),
        migrations.AlterField(
            model_name='dispatchdecision',
            name='actor',
            field=models.ForeignKey(blank=True, db_index=False, help_text='Empty: the robot.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.staff'),
        ),
        migrations.AlterField(
            model_name='dispatchdecision',
            name='chosen',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.staff'),
        ),
        migrations.AlterField(
            model_name='dispatchdecision',
            name='rule',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='routing.routingrule'),
        ),
        migrations.AlterField(
            model_name='dispatchdecision',
            name='task',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='dispatch_decisions', to='cases.task'),
        ),
        migrations.AlterField(
            model_name='dispatchdecision',
            name='team',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.team'),
        ),
        migrations.AddIndex(
            model_name='dispatchdecision',
            index=models.Index(condition=models.Q(('actor__isnull', False)), fields=['actor'], name='decision_actor_idx'),
        ),
    ]
