"""`python manage.py robot_sweep`: run the auto-dispatch robot over the backlog once, by hand.

A thin wrapper over `taxservice.workflow.routing.services.robot_run`: operators use it to drain
the backlog (for example after the robot was paused), and the dispatch benchmark
(bench/dispatch.py) runs several of these in parallel processes. It prints the figures
of the RobotRun it logged.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from taxservice.workflow.routing import services
from taxservice.workflow.routing.models import RobotRun


class Command(BaseCommand):
    # The system checks import every URLconf and view (about 0.35 s of CPU). A sweep
    # touches none of them, and the benchmark starts several sweeps at once.
    requires_system_checks: list[str] = []
    help = (
        "Dispatch the robot's backlog (queued tasks marked for auto-dispatch) oldest first, in batches "
        "claimed with SKIP LOCKED, and print what the run did. Safe to run in several processes at once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--batch",
            type=int,
            default=settings.TAXSERVICE_ROBOT_BATCH,
            help="tasks claimed per transaction (default TAXSERVICE_ROBOT_BATCH = %(default)s)",
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="stop after this many tasks (default: the whole backlog)"
        )
        parser.add_argument(
            "--trigger",
            choices=RobotRun.Trigger.values,
            default=RobotRun.Trigger.MANUAL,
            help="what the run is logged as (default %(default)s)",
        )

    def handle(self, *args, **options) -> None:
        batch, limit = options["batch"], options["limit"]
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        # Eager Celery logs a line per follow-up notification task; keep the output to the figures.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        run = services.robot_run(trigger=options["trigger"], batch_size=batch, limit=limit)
        self._report(run)

    def _report(self, run: RobotRun) -> None:
        if run.pk is None:
            self.stdout.write("Nothing was dispatched; no run was logged.")
            return
        if run.paused:
            self.stdout.write(
                self.style.WARNING(f"RobotRun #{run.pk} ({run.trigger}): the robot is paused; nothing dispatched.")
            )
            return
        seconds = run.duration_ms / 1000
        rate = f", {run.dispatched / seconds:.1f} tasks/s" if seconds > 0 and run.dispatched else ""
        self.stdout.write(
            f"RobotRun #{run.pk} ({run.trigger}): dispatched {run.dispatched}, skipped {run.skipped}, "
            f"duration {seconds:.3f} s{rate}"
        )
        for reason, count in sorted(run.skipped_reasons.items(), key=lambda pair: (-pair[1], pair[0])):
            self.stdout.write(f"  skipped {count:>7}  {reason}")
