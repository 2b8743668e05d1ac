"""Recompute the open tasks' due times and clocks from their logs on today's calendar.

For upgrades (tasks opened before the clocks existed have empty clock columns until they
are recomputed) and after any repair of the calendar or the time limits by other means
than the services. Closed and cancelled tasks are never rewritten; each task whose due
times move gets a `recompute_due` row in its history. Running it again moves nothing.
"""

from __future__ import annotations

import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from taxservice.catalogue.models import Item
from taxservice.workdays.models import ClockRecompute
from taxservice.workflow.cases import clocks

POLL_SECONDS = 1.0


class Command(BaseCommand):
    help = "Recompute the open tasks' due times (all of them, or one item's) and print the progress."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--item", default="", help="Only this item's tasks (its code).")
        parser.add_argument("--cause", default="manual", help='Kept on the run and in each task\'s history ("manual").')

    def handle(self, *args, **options) -> None:
        item_code = options["item"].strip()
        if item_code and not Item.objects.filter(code=item_code).exists():
            raise CommandError(f"No item with the code {item_code!r}.")
        cause = options["cause"].strip()[:200] or "manual"
        run = ClockRecompute.objects.create(cause=cause, item_code=item_code)
        self.stdout.write(f"Recomputation #{run.pk}: {cause}" + (f" (item {item_code})" if item_code else ""))
        # The run commits its progress chunk by chunk; on a terminal a second thread reads it
        # back into one line that updates itself. Elsewhere (logs, tests) only the result.
        done = threading.Event()
        watcher = None
        if self.stdout.isatty():
            watcher = threading.Thread(target=self._watch, args=(run.pk, done), daemon=True)
            watcher.start()
        try:
            run = clocks.recompute(run.pk)
        except Exception as error:
            raise CommandError(f"Recomputation #{run.pk} failed: {error}") from error
        finally:
            done.set()
            if watcher is not None:
                watcher.join()
        self.stdout.write(
            self.style.SUCCESS(f"{run.done} of {run.total} open tasks checked; {run.moved} had their due times moved.")
        )

    def _watch(self, run_id: int, done: threading.Event) -> None:
        try:
            while not done.wait(POLL_SECONDS):
                run = ClockRecompute.objects.filter(pk=run_id).values("done", "total").first()
                if run and run["total"]:
                    percent = 100 * run["done"] // run["total"]
                    self.stdout.write(f"\r{run['done']} / {run['total']} ({percent}%)", ending="")
                    self.stdout.flush()
            self.stdout.write("\r", ending="")
        finally:
            connections.close_all()
