"""Print the authorization matrix, or write docs/authorization.md (taxservice/authz.py)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from taxservice import authz


class Command(BaseCommand):
    help = "Print the authorization matrix as Markdown, or write the whole document with --write PATH."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--write", metavar="PATH", help="Write docs/authorization.md's text to PATH.")

    def handle(self, *args, write: str | None = None, **options) -> None:
        if write:
            Path(write).write_text(authz.document(), encoding="utf-8")
            self.stdout.write(f"Wrote {write}.")
        else:
            self.stdout.write(authz.matrix_markdown(), ending="")
