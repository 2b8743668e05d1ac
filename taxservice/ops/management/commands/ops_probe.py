"""`manage.py ops_probe beat|ready`: a healthcheck for processes that serve no HTTP.

- `beat`: beat has sent the robot's sweep within three of its intervals (and a minute):
  django_celery_beat's PeriodicTask.last_run_at, written after every send
  (CELERY_BEAT_SYNC_EVERY = 1). Exit 1 when it is late, disabled or missing.
- `ready`: the readiness checklist of /readyz, from this process (for a worker's host).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from taxservice.ops import selectors


class Command(BaseCommand):
    help = (
        "Exit 0 when the named process kind is healthy (beat: the robot's sweep is on time; ready: /readyz's checks)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("what", choices=["beat", "ready"])

    def handle(self, *args, **options) -> None:
        if options["what"] == "ready":
            result = selectors.readiness()
            self.stdout.write(str(result.as_dict()))
            if not result.ok:
                raise CommandError("not ready")
            return
        snapshot = selectors.ops_snapshot()
        if snapshot.beat_enabled is None:
            raise CommandError(f"beat has not written its {selectors.ROBOT_SWEEP_ENTRY!r} entry yet")
        if not snapshot.beat_enabled:
            raise CommandError(f"the {selectors.ROBOT_SWEEP_ENTRY!r} entry is disabled")
        if snapshot.beat_stale:
            raise CommandError(f"beat last sent the sweep at {snapshot.beat_last_sweep_at}: late")
        self.stdout.write(f"beat sent the sweep at {snapshot.beat_last_sweep_at}")
