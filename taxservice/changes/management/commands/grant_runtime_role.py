"""`manage.py grant_runtime_role <role>`: the app's runtime database role (PostgreSQL).

Run it as the tables' owner (the migrations role, docs/audit.md). Idempotent: it creates
the role when it is missing (LOGIN, with the password from
TAXSERVICE_RUNTIME_DB_PASSWORD when that is set) and grants it, on this database's schema,
SELECT/INSERT/UPDATE/DELETE on every table and USAGE/SELECT on every sequence, now and
for the tables and sequences the owner creates later (default privileges). The role
never owns anything, so the audit tables' triggers refuse it UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

PASSWORD_VARIABLE = "TAXSERVICE_RUNTIME_DB_PASSWORD"  # noqa: S105 (the variable's name)


class Command(BaseCommand):
    help = "Create (if missing) and grant the app's runtime database role: DML only, never the tables' owner."

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="the runtime role's name, e.g. taxservice_app")
        parser.add_argument("--schema", default="public", help="the schema of the tables (default %(default)s)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="the connection to run as (the owner)")

    def handle(self, *args, role: str, schema: str, database: str, **options) -> None:
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("grant_runtime_role is for PostgreSQL; SQLite has no roles.")
        quote = connection.ops.quote_name
        password = os.environ.get(PASSWORD_VARIABLE, "")
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            owner, dbname = cursor.fetchone()
            if role == owner:
                raise CommandError(f"{role} is the role running this command (the owner): pick another name.")
            cursor.execute(
                "SELECT rolsuper, pg_has_role(%s, %s, 'MEMBER') FROM pg_roles WHERE rolname = %s", [role, owner, role]
            )
            found = cursor.fetchone()
            if found is None:
                cursor.execute(f"CREATE ROLE {quote(role)} LOGIN")
                created = True
            else:
                created = False
                if found[0] or found[1]:
                    raise CommandError(
                        f"{role} is a superuser or a member of {owner}: the audit triggers would let it through."
                    )
            if password:
                cursor.execute(f"ALTER ROLE {quote(role)} LOGIN PASSWORD %s", [password])
            r, s = quote(role), quote(schema)
            for statement in (
                f"GRANT CONNECT ON DATABASE {quote(dbname)} TO {r}",
                f"GRANT USAGE ON SCHEMA {s} TO {r}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
                f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
            ):
                cursor.execute(statement)
        self.stdout.write(
            f"{'Created' if created else 'Updated'} the runtime role {role}: data rights on {dbname}.{schema}, "
            f"owned by {owner}; the audit tables refuse it UPDATE, DELETE and TRUNCATE."
        )
