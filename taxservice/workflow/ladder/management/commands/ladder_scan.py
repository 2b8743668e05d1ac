"""`python manage.py ladder_scan`: run the escalation ladder's scan once (the embedded setup's
stand-in for Celery beat; safe to run at any time, and alongside beat)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from taxservice.workflow.ladder import services


class Command(BaseCommand):
    help = "Send every escalation-ladder step that is due and not sent yet, and print what was sent."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--at", default=None, help="scan as of this ISO time (default: now), e.g. for a replay")

    def handle(self, *args, **options) -> None:
        now: dt.datetime | None = None
        if options["at"]:
            now = parse_datetime(options["at"])
            if now is None or now.tzinfo is None:
                raise CommandError("--at needs an ISO date and time with its offset, e.g. 2025-06-02T09:00+08:00.")
        result = services.ladder_scan(now=now)
        self.stdout.write(
            f"Ladder scan {result.scan} at {result.at.isoformat()}: sent {result.sent}, notified {result.notified}"
        )
        for code, count in result.by_step.items():
            self.stdout.write(f"  {code:<24} {count:>8}")
