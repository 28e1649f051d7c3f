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


def test_a_streamed_result_with_an_unexpected_error_is_masked() -> None:
    from graphql import ExecutionResult, GraphQLError

    from escalated.graphql.schema import _MaskErrors, _should_mask

    mask = _MaskErrors(should_mask_error=_should_mask)
    leaked = GraphQLError("password=hunter2", original_error=RuntimeError("password=hunter2"))
    failed = ExecutionResult(data=None, errors=[leaked])
    clean = ExecutionResult(data={"ticketEvents": {"kind": "UPDATED"}}, errors=None)

    for result in (failed, clean):
        hook = mask.on_stream_result(result)
        next(hook)

    assert failed.errors is not None
    assert [e.message for e in failed.errors] == ["Unexpected error."]
    assert clean.data == {"ticketEvents": {"kind": "UPDATED"}}
    assert clean.errors is None
