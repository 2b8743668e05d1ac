"""The robot's settings row exists from the start, so reading it never has to write it
(`RobotSettings.load` is a pure read, also on a GET of the hub's pages)."""

from django.db import migrations


def make_row(apps, schema_editor) -> None:
    RobotSettings = apps.get_model("routing", "RobotSettings")
    RobotSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0006_reference_foreign_keys"),
    ]

    # Reversing keeps the row: it may carry who paused the robot and why.
    operations = [migrations.RunPython(make_row, migrations.RunPython.noop)]
