"""`manage.py relay_outbox`: publish the waiting outbox messages now (for operators)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from taxservice.outbox import services


class Command(BaseCommand):
    help = "Publish the due outbox messages to Celery (what beat's outbox-relay does every few seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None, help="Messages per batch.")
        parser.add_argument("--all", action="store_true", help="Also publish messages still waiting out their backoff.")

    def handle(self, *args, batch_size=None, all=False, **options):
        if all:
            from django.utils import timezone

            from taxservice.outbox.models import OutboxMessage

            OutboxMessage.objects.filter(sent_at__isnull=True, available_at__gt=timezone.now()).update(
                available_at=timezone.now()
            )
        result = services.relay(batch_size=batch_size)
        left = services.backlog()
        self.stdout.write(f"sent {result.sent}, failed {result.failed}, still pending {left.pending}")
