"""The base of every audit record: written once, never changed.

Two guards, one in Python and one in the database:

- `AppendOnly.save()` refuses to save an existing row and `delete()` refuses to delete
  one; a queryset's `update()` and `delete()` refuse too (`AppendOnlyQuerySet`), so no
  ORM path rewrites history by accident.
- On PostgreSQL, `install_append_only_triggers` (run after every `migrate`, see
  `taxservice/changes/apps.py`) puts a trigger on every append-only table that refuses
  `UPDATE`, `DELETE` and `TRUNCATE` to every role except the table's owner: the
  migrations/maintenance role. The app's runtime role is not the owner (docs/audit.md), so
  raw SQL from the app cannot change a row either. The owner passes because Django's
  test flush and the demo's reset (which drops whole demo histories) run as it.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

TRIGGER_FUNCTION = "taxservice_refuse_audit_change"
ROW_TRIGGER = "taxservice_append_only_row"
TRUNCATE_TRIGGER = "taxservice_append_only_truncate"


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk writes that would rewrite history raise, like the model's own `save()`."""

    def update(self, **kwargs):
        raise ValidationError(f"{self.model._meta.verbose_name} rows are append-only: update() is refused.")

    def delete(self):
        raise ValidationError(f"{self.model._meta.verbose_name} rows are append-only: delete() is refused.")

    update.queryset_only = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


class AppendOnly(models.Model):
    """A record that is written once: saving an existing row or deleting one raises, and so
    do a queryset's `update()` and `delete()`. Maintenance that must drop whole histories
    (the demo's reset) says so with `AppendOnly.purge(queryset)`."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(f"{self._meta.verbose_name} rows are append-only.")
        self.keep_names()
        super().save(*args, **kwargs)

    # Name-as-it-was fields: (the name field, the staff reference it copies the name of).
    NAMED_REFERENCES: tuple[tuple[str, str], ...] = ()

    def keep_names(self) -> None:
        """Copy each referenced person's name as it is now into the row, so renaming someone
        later never rewrites who did what (`NAMED_REFERENCES`)."""
        for name_field, reference in self.NAMED_REFERENCES:
            if not getattr(self, name_field) and getattr(self, f"{reference}_id", None) is not None:
                setattr(self, name_field, getattr(self, reference).name[: self._meta.get_field(name_field).max_length])

    def delete(self, *args, **kwargs):
        raise ValidationError(f"{self._meta.verbose_name} rows are append-only.")

    @staticmethod
    def purge(queryset: models.QuerySet) -> int:
        """Delete audit rows on purpose (maintenance as the tables' owner only: the database
        refuses it to the runtime role). Returns how many rows went."""
        return models.QuerySet.delete(queryset)[0]


# Audit trails whose models do not subclass AppendOnly (yet): the database protects them
# too. Their Python guard is their owners' to add; once they subclass AppendOnly, drop
# them from here (the registry walk finds them).
ALSO_APPEND_ONLY = ("routing.RoutingRuleChange", "routing.DispatchDecision")


def append_only_models() -> list[type[models.Model]]:
    """Every installed concrete model that keeps an audit trail, in a fixed order."""
    found = {
        model
        for model in apps.get_models()
        if issubclass(model, AppendOnly) and not model._meta.proxy and model._meta.managed
    }
    for label in ALSO_APPEND_ONLY:
        try:
            found.add(apps.get_model(label))
        except LookupError:
            continue  # not installed in this version of the core
    return sorted(found, key=lambda model: model._meta.db_table)


# The owner of the table (and its members: the migrations role, superusers) passes; any
# other role is refused, whatever its grants.
_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {TRIGGER_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    table_owner oid;
BEGIN
    SELECT relowner INTO table_owner FROM pg_class WHERE oid = TG_RELID;
    IF pg_has_role(current_user, table_owner, 'MEMBER') THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        ELSIF TG_OP = 'UPDATE' THEN
            RETURN NEW;
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'taxservice: % on the append-only table % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit rows are written once. Only the tables'' owner (maintenance) may remove them.';
END
$$;
"""  # noqa: S608 (constants only)


def install_append_only_triggers(connection) -> list[str]:
    """Put the refusing triggers on every append-only table. PostgreSQL only: on other
    databases nothing happens and the Python guard stays the only one. Idempotent: the
    function is replaced every time (its body is what may change); a trigger is created
    only where it is missing, so a migrate on a running system takes no table lock on
    tables already covered. Returns the tables it covered."""
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    tables = [model._meta.db_table for model in append_only_models() if model._meta.db_table in existing]
    if not tables:
        return []
    quote = connection.ops.quote_name
    wanted = {
        ROW_TRIGGER: "BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW",
        TRUNCATE_TRIGGER: "BEFORE TRUNCATE ON {table} FOR EACH STATEMENT",
    }
    with connection.cursor() as cursor:
        cursor.execute(_FUNCTION_SQL)
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = ANY(%s) AND c.relnamespace = current_schema()::regnamespace",
            [list(wanted)],
        )
        present = set(cursor.fetchall())
        for table in tables:
            for trigger, when in wanted.items():
                if (table, trigger) in present:
                    continue
                cursor.execute(
                    f"CREATE TRIGGER {trigger} {when.format(table=quote(table))} EXECUTE FUNCTION {TRIGGER_FUNCTION}()"
                )
    return tables
