"""Set-based reads and writes for the dispatcher's hot path.

`insert_rows` writes many rows of one model and returns their ids in order. On
PostgreSQL it takes the ids from the table's sequence in one query and streams the rows
with `COPY … FROM STDIN` (psycopg's C row writer; JSON values encoded once here): this
costs a fraction of an `INSERT … VALUES` with thousands of bound parameters
(bench/README.md). Elsewhere (SQLite) it falls back to `bulk_create`. Either
way it runs in the caller's transaction and skips `save()` and signals, like
`bulk_create`; callers pass plain column values (`task_id`, not `task`).

Long id lists travel to PostgreSQL as one array literal (`id_array`, and the `in_ids`
lookup: `Task.objects.filter(pk__in_ids=ids)`) rather than as one bound parameter per
id, which psycopg and Django both handle in Python, id by id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

# One encoder for every row: json.dumps with options builds a new encoder per call.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=DjangoJSONEncoder().default).encode


class RawJSON(str):
    """A value for a JSONField that is already JSON text: `insert_rows` writes it as it is.

    Lets a caller encode a value shared by many rows (a team's candidate list) once.
    """

    __slots__ = ()


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence], *, returning: bool = True
) -> list[int]:
    """Insert `rows` (one value per name in `fields`, attnames for foreign keys).

    Values are what psycopg adapts (None, bool, int, str, datetime…), or for JSON fields
    anything JSON-encodable or a `RawJSON`. Returns the new ids in order, or [] with
    `returning=False` (which on PostgreSQL saves drawing them from the sequence).
    """
    if not rows:
        return []
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    json_at = [i for i, field in enumerate(columns) if isinstance(field, models.JSONField)]
    if connection.vendor != "postgresql":
        objs = model.objects.bulk_create([model(**_python_values(fields, row, json_at)) for row in rows])
        return [obj.pk for obj in objs] if returning else []
    # A batch stamps its rows with one or two times: each is formatted once, not per row.
    time_at = [i for i, field in enumerate(columns) if isinstance(field, models.DateTimeField)]
    times: dict = {}
    table = connection.ops.quote_name(opts.db_table)
    column_list = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    with connection.cursor() as cursor:
        ids: list[int] = []
        if returning:
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [_sequence(cursor, opts), len(rows)]
            )
            ids = [row[0] for row in cursor.fetchall()]
            column_list = f"{connection.ops.quote_name(opts.pk.column)}, {column_list}"
        # On psycopg's own cursor, so its errors are turned into Django's (IntegrityError…) here.
        with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:  # noqa: S608
            write = copy.write_row
            for n, row in enumerate(rows):
                if json_at or time_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = _json_text(row[i])
                    for i in time_at:
                        value = row[i]
                        if isinstance(value, dt.datetime):  # anything else goes to psycopg as it is
                            text = times.get(value)
                            if text is None:
                                text = times[value] = _time_text(value)
                            row[i] = text
                write((ids[n], *row) if ids else row)
    return ids


def _time_text(value: dt.datetime) -> str:
    """A timestamptz as COPY text: ISO 8601 with its offset, which PostgreSQL reads whatever its TimeZone."""
    if timezone.is_naive(value):
        raise ValueError(f"insert_rows needs aware datetimes (USE_TZ), got {value!r}")
    return value.isoformat()


def _json_text(value) -> str:  # noqa: ANN001
    if isinstance(value, RawJSON):
        return value
    if not value and isinstance(value, (list, dict)):
        return "[]" if isinstance(value, list) else "{}"
    return _encode_json(value)


def _python_values(fields: Sequence[str], row: Sequence, json_at: list[int]) -> dict:
    values = dict(zip(fields, row, strict=True))
    for i in json_at:
        if isinstance(row[i], RawJSON):
            values[fields[i]] = json.loads(row[i])
    return values


_sequences: dict[str, str] = {}


def _sequence(cursor, opts) -> str:  # noqa: ANN001
    """The table's id sequence, looked up once per process (per row it would cost more than nextval)."""
    if opts.db_table not in _sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [opts.db_table, opts.pk.column])
        _sequences[opts.db_table] = cursor.fetchone()[0]
    return _sequences[opts.db_table]


def id_array(ids: Iterable[int]) -> str:
    """A PostgreSQL array literal of integer ids, e.g. '{1,2,3}': bind it with ::bigint[]."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


def id_list_sql(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """`column IN (…)` for many ids: one array literal on PostgreSQL, a list elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [id_array(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


@models.Field.register_lookup
class InIds(models.Lookup):
    """`field__in_ids=[…]`: `IN` for integer ids, bound as one array on PostgreSQL."""

    lookup_name = "in_ids"

    def get_prep_lookup(self):  # noqa: ANN201
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):  # noqa: ANN001, ANN201 - Django's signature
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", list(lhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, id_array(self.rhs)]
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]


# Foreign keys keep a lookup registry of their own.
models.ForeignObject.register_lookup(InIds)
