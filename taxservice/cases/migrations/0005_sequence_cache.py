"""Let each PostgreSQL session draw ids for the dispatcher's hot tables 1,000 at a time.

The robot writes a decision, an audit row, an assignment and a notification per task,
thousands per second; with the default CACHE 1 every id is a trip through the sequence
(and a WAL record every 32). Gaps in ids are harmless. SQLite has no sequences: a no-op.
"""

from django.db import migrations

HOT_TABLES = ["cases_tasktransition", "cases_taskassignment", "cases_notification", "routing_dispatchdecision"]


def cache_sequences(apps, schema_editor, cache=1000):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in HOT_TABLES:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            cursor.execute(f"ALTER SEQUENCE {sequence} CACHE {int(cache)}")


def uncache_sequences(apps, schema_editor):
    cache_sequences(apps, schema_editor, cache=1)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_hot_path_indexes"),
        ("routing", "0004_hot_path_indexes"),
    ]

    operations = [migrations.RunPython(cache_sequences, uncache_sequences)]
