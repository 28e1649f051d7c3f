"""Write the printed GraphQL SDL to schema/escalated.graphql, or check that it is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalated.graphql.schema import schema

DEFAULT_PATH = Path("schema") / "escalated.graphql"


def printed_schema() -> str:
    return schema.as_str() + "\n"


class Command(BaseCommand):
    help = "Write Escalated's GraphQL schema (SDL) to a file; --check fails when it is stale."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
        parser.add_argument(
            "--check", action="store_true", help="Write nothing; exit 1 if the file is stale."
        )

    def handle(self, *args: Any, path: Path, check: bool, **options: Any) -> None:
        sdl = printed_schema()
        if check:
            current = path.read_text() if path.exists() else ""
            if current != sdl:
                raise CommandError(
                    f"{path} is stale: run `make schema` (manage.py export_escalated_schema)."
                )
            self.stdout.write(f"{path} is current.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sdl)
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}"))
