"""Create an API token for an account from the command line (operations); prints the key once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from taxservice.errors import ServiceError
from taxservice.org.models import Staff
from taxservice.signin.models import ApiToken
from taxservice.signin.services import token_create, token_revoke


class Command(BaseCommand):
    help = "Create an API token for a staff account and print its key (shown this once only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what uses the token (default: 'created by manage.py')")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)
        parser.add_argument("--days", type=int, default=None, help="days until it expires (default: 90)")
        parser.add_argument(
            "--replace", action="store_true", help="revoke the account's active tokens of the same name first"
        )

    def handle(self, *args, **options) -> None:
        owner = Staff.objects.select_related("user").filter(user__username=options["username"]).first()
        if owner is None:
            raise CommandError(f"no staff account named {options['username']!r}")
        name = options["name"] or "created by manage.py"
        try:
            if options["replace"]:
                for token in ApiToken.objects.filter(user=owner.user, name=name, revoked_at__isnull=True):
                    token_revoke(
                        actor=None, token_id=token.pk, reason="replaced (manage.py create_api_token --replace)"
                    )
            created = token_create(
                actor=None,
                owner=owner,
                name=name,
                scope=options["scope"],
                days=options["days"],
            )
        except ServiceError as error:
            raise CommandError(f"{error.detail} {error.fields}") from error
        token = created.token
        self.stderr.write(
            f"token {token.prefix}… for {owner.user.username}: {token.scope}, expires {token.expires_at:%Y-%m-%d}"
        )
        self.stdout.write(created.key)
