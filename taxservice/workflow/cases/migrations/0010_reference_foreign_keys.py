"""Every reference of the audit log, the assignments and the notifications is a database
foreign key again (docs/decisions.md §11), on PostgreSQL and SQLite: the statement-level
checks of cases 0008 (triggers and their two functions) are dropped, and the audit row's
task, the assignment's task and staff member, and the notification's recipient, task
and transition get foreign-key constraints.

Depends on routing 0006, which drops the last trigger using the functions.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

# The trigger helpers and function bodies of the migration that installed them (a migration never changes).
checks = importlib.import_module("taxservice.workflow.cases.migrations.0008_set_based_reference_checks")


def drop_checks(apps, schema_editor) -> None:  # noqa: ANN001
    checks.backwards(apps, schema_editor)  # its triggers, then its functions


def restore_checks(apps, schema_editor) -> None:  # noqa: ANN001
    checks.forwards(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_case_transition'),
        ('org', '0002_staff_open_tasks'),
        ('routing', '0006_reference_foreign_keys'),
    ]

    operations = [
        # First, so that going backwards the checks come back after the constraints are gone.
        migrations.RunPython(drop_checks, restore_checks),
        migrations.AlterField(
            model_name='notification',
            name='recipient',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='org.staff'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='task',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='cases.task'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='transition',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='cases.tasktransition'),
        ),
        migrations.AlterField(
            model_name='taskassignment',
            name='staff',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='assignments', to='org.staff'),
        ),
        migrations.AlterField(
            model_name='taskassignment',
            name='task',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='assignments', to='cases.task'),
        ),
        migrations.AlterField(
            model_name='tasktransition',
            name='task',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='transitions', to='cases.task', verbose_name='task'),
        ),
    ]
