"""The audit trail is append-only in Python and, on PostgreSQL, in the database: the app's
runtime role can read and add audit rows but never change, delete or truncate them."""

# ruff: noqa: S608 (the SQL names the models' own tables)

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from taxservice.audit import ROW_TRIGGER, TRUNCATE_TRIGGER, append_only_models
from taxservice.changes.models import ChangeLog
from taxservice.workflow.cases.models import CaseTransition, TaskTransition
from taxservice.workflow.routing.models import DispatchDecision, RoutingRuleChange

RUNTIME_ROLE = "taxservice_test_runtime"
RUNTIME_PASSWORD = "runtime-role-in-tests"  # used where the server asks for one (not under trust)


def test_every_append_only_model_is_found_by_walking_the_registry():
    found = set(append_only_models())
    assert {TaskTransition, CaseTransition, ChangeLog, RoutingRuleChange, DispatchDecision} <= found
    assert all(not model._meta.abstract for model in found)


def test_a_queryset_cannot_update_or_delete_audit_rows(open_case):
    case = open_case("assisted")
    rows = TaskTransition.objects.filter(task__case=case)
    with pytest.raises(ValidationError, match="append-only"):
        rows.update(at=timezone.now())
    with pytest.raises(ValidationError, match="append-only"):
        rows.delete()
    with pytest.raises(ValidationError, match="append-only"):
        CaseTransition.objects.filter(case=case).update(actor=None)
    row = rows.get()
    with pytest.raises(ValidationError, match="append-only"):
        row.save()
    with pytest.raises(ValidationError, match="append-only"):
        row.delete()
    assert TaskTransition.objects.filter(task__case=case).count() == 1


def test_the_runtime_role_command_refuses_sqlite(db):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only: on PostgreSQL the command runs (the tests below)")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("grant_runtime_role", RUNTIME_ROLE)


def _as_runtime_role():
    """A second session on the test database, logged in as the runtime role."""
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=RUNTIME_ROLE,
        password=RUNTIME_PASSWORD,
        autocommit=True,
    )


def _refused(session, sql: str, params=()) -> str:
    import psycopg

    with pytest.raises(psycopg.Error) as caught:
        session.execute(sql, params)
    return str(caught.value)


@pytest.mark.django_db(transaction=True)
def test_every_append_only_table_has_its_triggers():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL triggers: runs in the PostgreSQL pass of .ci/run (SQLite keeps the Python guard)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname IN (%s, %s)",
            [ROW_TRIGGER, TRUNCATE_TRIGGER],
        )
        present = set(cursor.fetchall())
    for model in append_only_models():
        table = model._meta.db_table
        assert {(table, ROW_TRIGGER), (table, TRUNCATE_TRIGGER)} <= present, table


@pytest.mark.django_db(transaction=True)
def test_the_runtime_role_reads_and_adds_audit_rows_but_never_changes_them(org, open_case, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL roles and triggers: runs in the PostgreSQL pass of .ci/run")
    monkeypatch.setenv("TAXSERVICE_RUNTIME_DB_PASSWORD", RUNTIME_PASSWORD)
    call_command("grant_runtime_role", RUNTIME_ROLE)
    call_command("grant_runtime_role", RUNTIME_ROLE)  # idempotent
    case = open_case("assisted")
    task = case.tasks.get()
    task_table, case_table = TaskTransition._meta.db_table, CaseTransition._meta.db_table

    with _as_runtime_role() as session:
        assert session.execute(f"SELECT count(*) FROM {task_table} WHERE task_id = %s", [task.pk]).fetchone() == (1,)
        columns = ", ".join(f.column for f in TaskTransition._meta.concrete_fields if not f.primary_key)
        session.execute(
            f"INSERT INTO {task_table} ({columns}) SELECT {columns} FROM {task_table} WHERE task_id = %s", [task.pk]
        )
        assert "append-only" in _refused(session, f"UPDATE {task_table} SET at = now() WHERE task_id = %s", [task.pk])
        assert "append-only" in _refused(session, f"DELETE FROM {task_table} WHERE task_id = %s", [task.pk])
        assert "append-only" in _refused(
            session, f"UPDATE {case_table} SET actor_id = NULL WHERE case_id = %s", [case.pk]
        )
        assert "append-only" in _refused(session, f"DELETE FROM {case_table} WHERE case_id = %s", [case.pk])
        # No TRUNCATE right; and were it granted (here on a table nothing refers to), the
        # trigger still refuses.
        assert "permission denied" in _refused(session, f"TRUNCATE {task_table} CASCADE")
        log_table = ChangeLog._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f'GRANT TRUNCATE ON {log_table} TO "{RUNTIME_ROLE}"')
        assert "append-only" in _refused(session, f"TRUNCATE {log_table}")
        # Ordinary tables stay writable: the app works.
        session.execute("UPDATE org_staff SET on_duty = NOT on_duty WHERE id = %s", [org.member.pk])

    assert TaskTransition.objects.filter(task=task).count() == 2
    assert CaseTransition.objects.filter(case=case).count() == 1
    # The owner (migrations, the test flush, the demo's reset) still may.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {task_table} SET reason = 'owner' WHERE task_id = %s", [task.pk])
        assert cursor.rowcount == 2


@pytest.mark.django_db(transaction=True)
def test_the_command_refuses_to_make_the_owner_or_a_superuser_the_runtime_role():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL roles: runs in the PostgreSQL pass of .ci/run")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError, match="owner"):
        call_command("grant_runtime_role", owner)
