"""Check every staff member's open-task count against the tasks, and repair any that are off."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from taxservice.workflow.cases.assignments import staff_recount_open_tasks


class Command(BaseCommand):
    help = "Recount Staff.open_tasks from the tasks (the services keep it; this checks and repairs)."

    def handle(self, *args, **options) -> None:
        off = staff_recount_open_tasks()
        self.stdout.write(
            f"{off} staff member(s) had a wrong open-task count; repaired."
            if off
            else "All open-task counts are right."
        )
