"""Give each fed-back task its feedback back, and its handler's result.

Until 0011, `give_feedback` wrote the text returned to the taxpayer over `Task.result`,
the handler's own result. Both are in the transition log: the feedback in the
`give_feedback` row's details, the handler's result in the last `complete` or
`submit_for_approval` row's details (where one was written). Nothing is dropped: a task
whose handler wrote no result keeps an empty one, and the text it held is its feedback.
"""

from django.db import migrations

HANDLER_STEPS = ("complete", "submit_for_approval")


def split(apps, schema_editor):
    Task = apps.get_model("cases", "Task")
    TaskTransition = apps.get_model("cases", "TaskTransition")
    fed_back = set(TaskTransition.objects.filter(transition="give_feedback").values_list("task_id", flat=True))
    if not fed_back:
        return
    latest: dict[int, dict[str, str]] = {}
    rows = (
        TaskTransition.objects.filter(task_id__in=fed_back, transition__in=(*HANDLER_STEPS, "give_feedback"))
        .order_by("task_id", "at", "id")
        .values_list("task_id", "transition", "details")
    )
    for task_id, name, details in rows.iterator(chunk_size=2000):
        text = (details or {}).get("result") or ""
        key = "feedback" if name == "give_feedback" else "result"
        if text or key == "feedback":
            latest.setdefault(task_id, {})[key] = text
    changed = []
    for task in Task.objects.filter(pk__in=fed_back).only("pk", "result", "feedback").iterator(chunk_size=2000):
        found = latest.get(task.pk, {})
        task.feedback = found.get("feedback", task.result)
        task.result = found.get("result", "")
        changed.append(task)
    Task.objects.bulk_update(changed, ["result", "feedback"], batch_size=1000)


def merge(apps, schema_editor):
    Task = apps.get_model("cases", "Task")
    changed = []
    for task in Task.objects.exclude(feedback="").only("pk", "result", "feedback").iterator(chunk_size=2000):
        task.result, task.feedback = task.feedback, ""
        changed.append(task)
    Task.objects.bulk_update(changed, ["result", "feedback"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_task_feedback")]

    operations = [migrations.RunPython(split, merge)]
