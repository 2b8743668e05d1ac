"""`python manage.py settle_uploads`: restart or end the bulk uploads a stopped process left.

With a broker, a worker that dies mid-import has its message redelivered, and beat's
stuck-upload sweep is the backstop. In the embedded setup the import runs on a thread of
the web process, and nothing redelivers it: run this after such a process stopped. It
runs the sweep now, for every unfinished batch: a batch whose import is still running is
left alone, the others are restarted from a clean state or, after their last attempt,
failed (docs/routing.md, "Every batch ends").
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from taxservice.workflow.routing.uploads import upload_sweep


class Command(BaseCommand):
    help = "Restart, or fail after their last attempt, the bulk uploads a stopped process left unfinished."

    def handle(self, *args, **options) -> None:
        result = upload_sweep(stale_after=timedelta(0))
        self.stdout.write(
            f"Restarted {result.restarted} interrupted upload(s); failed {result.failed}; "
            f"{result.running} still importing."
        )
