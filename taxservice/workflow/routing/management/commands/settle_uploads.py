"""`python manage.py settle_uploads`: end the bulk uploads whose import was interrupted.

With a broker, a worker that dies mid-import has its message redelivered, and the
redelivery settles the batch. In the embedded setup the import runs on a thread of the
web process, and nothing redelivers it: run this after such a process stopped. A batch
whose import is still running is left alone (docs/routing.md, "Into the hub").
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from taxservice.workflow.routing.models import UploadBatch
from taxservice.workflow.routing.uploads import upload_settle_interrupted


class Command(BaseCommand):
    help = "Mark bulk uploads left 'importing' by a stopped worker as failed (nothing was imported)."

    def handle(self, *args, **options) -> None:
        ids = list(UploadBatch.objects.filter(state=UploadBatch.State.IMPORTING).values_list("pk", flat=True))
        settled = [pk for pk in ids if upload_settle_interrupted(batch_id=pk).state == UploadBatch.State.FAILED]
        self.stdout.write(f"Settled {len(settled)} interrupted upload(s); {len(ids) - len(settled)} still importing.")
