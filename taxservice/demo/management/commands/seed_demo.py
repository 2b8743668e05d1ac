"""`python manage.py seed_demo`: build a deterministic demo city from a seed."""

from __future__ import annotations

import logging
import time
import unicodedata

from django.core.management.base import BaseCommand, CommandError

from taxservice.demo import city as demo
from taxservice.demo.organisation import DEMO_PASSWORD
from taxservice.workflow.cases.assignments import staff_recount_open_tasks


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


class Command(BaseCommand):
    help = (
        "Build a demo city (bureau, branches, halls, teams, staff logins, taxpayers and cases with "
        "histories) from a seed. Without --reset, an existing demo is left alone."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="random seed (default %(default)s)")
        parser.add_argument(
            "--taxpayers", type=int, default=demo.DEFAULT_TAXPAYERS, help="number of taxpayers (default %(default)s)"
        )
        parser.add_argument(
            "--cases", type=int, default=demo.DEFAULT_CASES, help="number of cases (default %(default)s)"
        )
        parser.add_argument("--reset", action="store_true", help="delete the existing demo data first")

    def handle(self, *args, **options) -> None:
        if options["taxpayers"] < 1 or options["cases"] < 0:
            raise CommandError("--taxpayers must be at least 1 and --cases at least 0.")
        if options["reset"]:
            self.stdout.write("Deleting the existing demo data…")
            try:
                demo.demo_reset()
            except demo.DemoResetError as exc:
                raise CommandError(str(exc)) from None
        elif demo.demo_exists():
            self.stdout.write("Demo data already exists; nothing was changed (use --reset to rebuild it).")
            self._print_logins()
            return

        started = time.monotonic()
        self._last_step: dict[str, int] = {}
        # In-process (eager) Celery logs one line per notification task: thousands here.
        trace_logger = logging.getLogger("celery.app.trace")
        level = trace_logger.level
        trace_logger.setLevel(logging.WARNING)
        try:
            summary = demo.demo_build(
                seed=options["seed"],
                taxpayers=options["taxpayers"],
                cases=options["cases"],
                progress=self._progress,
            )
        finally:
            trace_logger.setLevel(level)
        # The services keep Staff.open_tasks; the demo also back-dates rows in bulk, so check.
        off = staff_recount_open_tasks()
        if off:
            self.stdout.write(f"Open-task counts repaired for {off} staff.")
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Built the demo city from seed {options['seed']} in {elapsed:.1f}s: {summary.taxpayers} taxpayers, "
                f"{summary.cases} cases, {summary.tasks} tasks, {summary.transitions} transitions "
                f"({summary.robot_dispatched} dispatched by the robot)."
            )
        )
        self.stdout.write("Tasks by state: " + ", ".join(f"{state} {n}" for state, n in summary.states.items()))
        self._print_logins()

    def _progress(self, stage: str, done: int, total: int) -> None:
        """A bar in steps of a tenth, one line per step, so logs stay readable."""
        step = done * 10 // total if total else 10
        if self._last_step.get(stage) == step:
            return
        self._last_step[stage] = step
        self.stdout.write(f"  {stage:<13} [{'#' * step}{'.' * (10 - step)}] {done}/{total}")

    def _print_logins(self) -> None:
        logins = demo.demo_logins()
        header = ("username", "role", "name", "home branch")
        rows = [
            (
                login.username,
                ",".join(login.roles),
                login.name + ("" if login.on_duty else " (off duty)"),
                login.home_branch,
            )
            for login in logins
        ]
        widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(4)]
        self.stdout.write("")
        self.stdout.write("  ".join(_pad(text, widths[i]) for i, text in enumerate(header)).rstrip())
        self.stdout.write("  ".join("-" * width for width in widths))
        for row in rows:
            self.stdout.write("  ".join(_pad(text, widths[i]) for i, text in enumerate(row)).rstrip())
        self.stdout.write("")
        self.stdout.write(f"Every demo login's password is: {DEMO_PASSWORD}")
