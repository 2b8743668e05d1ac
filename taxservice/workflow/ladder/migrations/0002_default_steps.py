"""The ladder the product ships (/work/shared/DOMAIN.md §7, docs/ladder.md): a reminder one
working day before the promise, 催办 to the assignee the working day after it, 督办 to
the branch chiefs three working days after, 通报 five working days after. Administrators
edit them afterwards (every edit audited). Reverse deletes exactly these steps by code,
with their change rows, while nothing was sent with them.
"""

from django.db import migrations

STEPS = [
    # code, name, action, offset in working days, tell the assignee, tell the branch chiefs
    ("remind-before-1", "到期前1个工作日提醒", "remind", -1, True, False),
    ("urge-after-1", "逾期1个工作日催办", "urge", 1, True, False),
    ("supervise-after-3", "逾期3个工作日督办", "supervise", 3, False, True),
    ("notice-after-5", "逾期5个工作日通报", "notice", 5, True, True),
]


def load(apps, schema_editor) -> None:  # noqa: ANN001
    Step = apps.get_model("ladder", "EscalationStep")
    Change = apps.get_model("ladder", "EscalationStepChange")
    for order, (code, name, action, offset, to_assignee, to_chiefs) in enumerate(STEPS, start=1):
        values = {
            "name": name,
            "action": action,
            "watch": "promise",
            "offset_days": offset,
            "to_assignee": to_assignee,
            "to_chiefs": to_chiefs,
            "active": True,
            "order": order * 10,
        }
        step, created = Step.objects.get_or_create(code=code, defaults=values)
        if created:
            Change.objects.create(step=step, changed_by=None, before=None, after={"code": code, **values})


def unload(apps, schema_editor) -> None:  # noqa: ANN001
    Step = apps.get_model("ladder", "EscalationStep")
    Change = apps.get_model("ladder", "EscalationStepChange")
    codes = [code for code, *_rest in STEPS]
    Change.objects.filter(step__code__in=codes).delete()
    Step.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("ladder", "0001_escalation_ladder")]

    operations = [migrations.RunPython(load, unload)]
