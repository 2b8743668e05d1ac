"""The catalogue item of rectification tasks (整改), opened by a bad rating or a failed
quality inspection (docs/quality-loop.md). Data embedded on purpose; the reverse removes
the item only while no task uses it."""

from django.db import migrations

CODE = "ZG001"


def add_item(apps, schema_editor):
    Item = apps.get_model("catalogue", "Item")
    Item.objects.update_or_create(
        code=CODE,
        defaults={
            "name": "整改 Rectification",
            "handling_list": "joint",
            "tier": "back",
            "team_kind": "basic",
            "steps": ["原因核实", "整改落实", "整改报告"],
            "time_limit_days": 10,
            "needs_approval": False,
            "active": True,
        },
    )


def remove_item(apps, schema_editor):
    Item = apps.get_model("catalogue", "Item")
    Task = apps.get_model("cases", "Task")
    if not Task.objects.filter(item__code=CODE).exists():
        Item.objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("quality", "0001_ratings_inspections_rectifications"),
        ("catalogue", "0005_item_approval_levels"),
    ]

    operations = [migrations.RunPython(add_item, remove_item)]
