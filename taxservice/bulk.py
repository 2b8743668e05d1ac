"""Set-based writes for the dispatcher's hot path.

`insert_rows` writes many rows of one model and returns their ids in order. On
PostgreSQL it takes the ids from the table's sequence in one query and streams the rows
with `COPY … FROM STDIN`, which costs a fraction of an `INSERT … VALUES` with thousands
of bound parameters (bench/README.md). Elsewhere (SQLite) it falls back to
`bulk_create`. Either way it runs in the caller's transaction and skips `save()` and
signals, like `bulk_create`; callers pass plain column values (`task_id`, not `task`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models

# One encoder for every row: json.dumps with options builds a new encoder per call.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=DjangoJSONEncoder().default).encode


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence], *, returning: bool = True
) -> list[int]:
    """Insert `rows` (one value per name in `fields`, attnames for foreign keys).

    Returns the new ids in order, or [] with `returning=False` (which on PostgreSQL
    saves drawing them from the sequence first).
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = model.objects.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in rows])
        return [obj.pk for obj in objs] if returning else []
    opts = model._meta
    table = connection.ops.quote_name(opts.db_table)
    columns = [opts.get_field(name) for name in fields]
    json_at = [i for i, field in enumerate(columns) if isinstance(field, models.JSONField)]
    column_list = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    pk_column = connection.ops.quote_name(opts.pk.column)
    with connection.cursor() as cursor:
        if returning:
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [_sequence(cursor, opts), len(rows)]
            )
            ids = [row[0] for row in cursor.fetchall()]
            column_list = f"{pk_column}, {column_list}"
        else:
            ids = []
        with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:  # noqa: S608 - our own names
            for n, row in enumerate(rows):
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = _encode_json(row[i])
                copy.write_row((ids[n], *row) if returning else row)
    return ids


_sequences: dict[str, str] = {}


def _sequence(cursor, opts) -> str:  # noqa: ANN001
    """The table's id sequence, looked up once per process (per row it would cost more than nextval)."""
    if opts.db_table not in _sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [opts.db_table, opts.pk.column])
        _sequences[opts.db_table] = cursor.fetchone()[0]
    return _sequences[opts.db_table]


def id_list_sql(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """`column IN (…)` for many ids: one array parameter on PostgreSQL, a list elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)
