"""The printed SDL in schema/escalated.graphql is what the code serves."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from escalated.management.commands.export_escalated_schema import DEFAULT_PATH, printed_schema

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schema_is_current() -> None:
    committed = (ROOT / DEFAULT_PATH).read_text()

    assert committed == printed_schema(), (
        "schema/escalated.graphql is stale: run `make schema` and commit the result"
    )


def test_the_check_command_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: String }\n")

    with pytest.raises(CommandError, match="stale"):
        call_command("export_escalated_schema", "--check", "--path", str(stale))

    call_command("export_escalated_schema", "--path", str(stale))
    call_command("export_escalated_schema", "--check", "--path", str(stale))
