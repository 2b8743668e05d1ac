"""The taxpayers' hand-written SQL, behind a small interface: the taxpayers' counterpart of
taxservice/workflow/sql.py, one layer down (import-linter's layers put taxpayers under
workflow, so they cannot use that module).

This is the one module of the taxpayers app that writes SQL by hand or asks which
database it runs on (`connection.vendor`). Production is PostgreSQL; SQLite is the
embedded default. Each PostgreSQL fast path has a plain-ORM version that writes the same
rows: the reference, used on every other database, and compared with the fast path on
PostgreSQL by tests/test_classification.py.

- `regrade_range(compiled, lo=…, hi=…, rule_set_id=…, run_id=…, at=…)`: give every
  taxpayer with `lo <= id <= hi` the category and service grade of the rules, and write a
  TaxpayerGradeChange row for each one whose values changed; rows already right are
  neither rewritten nor logged. On PostgreSQL one statement: an `UPDATE … FROM (SELECT …
  CASE …) … RETURNING` whose returned rows a data-modifying CTE inserts into the history.
  Returns how many taxpayers changed.

- `grid_history_insert(taxpayers, grid_id=…, …)`: one `TaxpayerGridChange` row for each
  taxpayer of the queryset, the grid before read from its own row, by one `INSERT …
  SELECT` (the same statement on every database). Returns the rows written, or -1 where
  the driver does not count them.

Every function runs in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q, QuerySet

from taxservice.taxpayers.classification import Compiled, sql_case
from taxservice.taxpayers.models import Taxpayer, TaxpayerGradeChange, TaxpayerGridChange


def regrade_range(
    compiled: Compiled, *, lo: int, hi: int, rule_set_id: int, run_id: int | None, at: dt.datetime
) -> int:
    if connection.vendor == "postgresql":
        return _regrade_range_postgresql(compiled, lo=lo, hi=hi, rule_set_id=rule_set_id, run_id=run_id, at=at)
    return regrade_range_orm(compiled, lo=lo, hi=hi, rule_set_id=rule_set_id, run_id=run_id, at=at)


def regrade_range_orm(
    compiled: Compiled, *, lo: int, hi: int, rule_set_id: int, run_id: int | None, at: dt.datetime
) -> int:
    """The reference: read the rows that change (with their old and new values), write their
    history, then one `UPDATE … SET … = CASE …` over the same rows. The rows are locked
    first (PostgreSQL; SQLite's writers queue for the database), so the read and the
    update see the same values."""
    category, grade = compiled.category_case(), compiled.grade_case()
    differs = ~Q(category=category) | ~Q(service_grade=grade)
    in_range = Taxpayer.objects.filter(pk__gte=lo, pk__lte=hi)
    list(in_range.select_for_update().order_by("pk").values_list("pk", flat=True))
    changing = list(
        in_range.filter(differs)
        .annotate(new_category=category, new_grade=grade)
        .order_by("pk")
        .values_list("pk", "category", "service_grade", "new_category", "new_grade")
    )
    if not changing:
        return 0
    TaxpayerGradeChange.objects.bulk_create(
        [
            TaxpayerGradeChange(
                taxpayer_id=pk,
                before_category=before_category,
                after_category=after_category,
                before_grade=before_grade,
                after_grade=after_grade,
                rule_set_id=rule_set_id,
                run_id=run_id,
                at=at,
            )
            for pk, before_category, before_grade, after_category, after_grade in changing
        ],
        batch_size=1000,
    )
    in_range.filter(differs).update(category=category, service_grade=grade)
    return len(changing)


def _regrade_range_postgresql(
    compiled: Compiled, *, lo: int, hi: int, rule_set_id: int, run_id: int | None, at: dt.datetime
) -> int:
    category_sql, category_params = sql_case(compiled.category_rules, compiled.default_category, alias="o")
    grade_sql, grade_params = sql_case(compiled.grade_rules, compiled.default_grade, alias="o")
    taxpayers = Taxpayer._meta.db_table
    history = TaxpayerGradeChange._meta.db_table
    # `o` is the row as it was (the UPDATE's RETURNING sees only the new values of `t`).
    # Formatted in: the table names and the generated CASE; every value is a parameter.
    statement = f"""
        WITH changed AS (
            UPDATE {taxpayers} AS t
               SET category = n.new_category, service_grade = n.new_grade
              FROM (
                    SELECT o.id, o.category, o.service_grade,
                           ({category_sql}) AS new_category, ({grade_sql}) AS new_grade
                      FROM {taxpayers} AS o
                     WHERE o.id BETWEEN %s AND %s
                   ) AS n
             WHERE t.id = n.id
               AND (n.category IS DISTINCT FROM n.new_category OR n.service_grade IS DISTINCT FROM n.new_grade)
            RETURNING t.id, n.category, n.service_grade, n.new_category, n.new_grade
        )
        INSERT INTO {history}
               (taxpayer_id, before_category, after_category, before_grade, after_grade, rule_set_id, run_id, at)
        SELECT id, category, new_category, service_grade, new_grade, %s, %s, %s FROM changed
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, [*category_params, *grade_params, lo, hi, rule_set_id, run_id, at])
        return cursor.rowcount


def grid_history_insert(
    taxpayers: QuerySet[Taxpayer],
    *,
    grid_id: int,
    method: str,
    reason: str,
    batch: str,
    actor_id: int | None,
    at: dt.datetime,
) -> int:
    ids_sql, ids_params = taxpayers.values("pk").query.sql_with_params()
    history = TaxpayerGridChange._meta
    payer = Taxpayer._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(getattr(history.get_field(name), "column", name))
        for name in ("taxpayer", "before", "after", "method", "reason", "batch", "actor", "at")
    )
    grid_column = quote(getattr(payer.get_field("grid"), "column", "grid_id"))
    # Names from the models' metadata, values as parameters: nothing here comes from input.
    statement = (
        f"INSERT INTO {quote(history.db_table)} ({columns}) "  # noqa: S608
        f"SELECT t.{quote(payer.pk.column)}, t.{grid_column}, %s, %s, %s, %s, %s, %s "
        f"FROM {quote(payer.db_table)} t WHERE t.{quote(payer.pk.column)} IN ({ids_sql})"
    )
    params = [grid_id, method, reason, batch, actor_id, connection.ops.adapt_datetimefield_value(at), *ids_params]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount
