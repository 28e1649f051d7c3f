"""The polling worker's pacing: it rests in proportion to its work, and refuses odd settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from escalated.management.commands.escalated_worker import rest_after


def test_the_rest_makes_work_the_duty_cycles_share_of_the_time() -> None:
    assert rest_after(0.2, 0.5) == pytest.approx(0.2)
    assert rest_after(0.1, 0.25) == pytest.approx(0.3)
    assert rest_after(0.3, 1) == 0
    assert rest_after(-1, 0.5) == 0  # a clock step backwards rests nothing


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--duty-cycle", "0"], "--duty-cycle"),
        (["--duty-cycle", "1.5"], "--duty-cycle"),
        (["--nice", "-1"], "--nice"),
        (["--nice", "20"], "--nice"),
    ],
)
def test_a_duty_cycle_or_niceness_out_of_range_is_refused(
    arguments: list[str], message: str, db: Any
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("escalated_worker", "--once", *arguments)


def test_the_settings_refuse_a_duty_cycle_or_niceness_out_of_range(settings: Any) -> None:
    from escalated.conf import OUTBOX

    assert OUTBOX["WORKER_DUTY_CYCLE"].check(0) is not None
    assert OUTBOX["WORKER_DUTY_CYCLE"].check(0.5) is None
    assert OUTBOX["WORKER_NICE"].check(20) is not None
    assert OUTBOX["WORKER_NICE"].check(10) is None
