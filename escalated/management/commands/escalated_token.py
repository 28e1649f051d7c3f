"""Create, list and revoke API tokens from the command line."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from escalated.access import SystemActor
from escalated.errors import DomainError
from escalated.models import ApiToken, TokenScope
from escalated.services.tokens import api_token_create, api_token_revoke

ACTOR = SystemActor("command:escalated_token")


class Command(BaseCommand):
    help = "Manage Escalated API tokens: create, list, revoke."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Issue a token and print it once.")
        create.add_argument("username")
        create.add_argument("--name", default="CLI token")
        create.add_argument(
            "--scope",
            action="append",
            choices=TokenScope.values,
            dest="scopes",
            help="Repeat for several; default: read and write.",
        )
        create.add_argument("--days", type=int, help="Expire after this many days.")
        listing = sub.add_parser("list", help="List tokens (never their secret).")
        listing.add_argument("--user", dest="username")
        revoke = sub.add_parser("revoke", help="Revoke a token by id or visible prefix.")
        revoke.add_argument("token", help="The token's id or its visible prefix (esc_…).")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _create(
        self, username: str, name: str, scopes: list[str] | None, days: int | None, **_: Any
    ) -> None:
        user = self._user(username)
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            token, raw = api_token_create(
                actor=ACTOR,
                user=user,
                name=name,
                scopes=scopes or TokenScope.values,
                expires_at=expires_at,
            )
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Token #{token.pk} for {username} ({', '.join(token.scopes)}):")
        self.stdout.write(raw)

    def _list(self, username: str | None, **_: Any) -> None:
        tokens = ApiToken.objects.select_related("user")
        if username:
            tokens = tokens.filter(user=self._user(username))
        for token in tokens:
            state = "revoked" if token.revoked_at else ("live" if token.is_usable else "expired")
            self.stdout.write(
                f"#{token.pk}  {token.prefix}…  {token.user.get_username()}  {token.name}  "
                f"{','.join(token.scopes)}  {state}"
            )

    def _revoke(self, token: str, **_: Any) -> None:
        lookup = {"pk": int(token)} if token.isdigit() else {"prefix": token.rstrip("…")}
        matches = list(ApiToken.objects.filter(**lookup))
        if len(matches) != 1:
            raise CommandError(f"{len(matches)} tokens match {token!r}; give the token's id.")
        api_token_revoke(actor=ACTOR, token=matches[0])
        self.stdout.write(f"Revoked token #{matches[0].pk}.")

    def _user(self, username: str) -> Any:
        User = get_user_model()
        try:
            return User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist as error:
            raise CommandError(f"No user {username!r}.") from error
