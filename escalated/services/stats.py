"""Statistics computed in the database: elapsed seconds between two timestamps, and the count,
mean, median and 90th percentile of such durations, in one statement.

PostgreSQL has ``PERCENTILE_CONT``; SQLite has no percentile function, so there the rows are
ranked with window functions and the two rows around each percentile are interpolated, the way
``PERCENTILE_CONT`` does. Both give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import NotSupportedError, connections
from django.db.models import Aggregate, Avg, Count, Expression, FloatField, Func, QuerySet

PERCENTILES = (0.5, 0.9)


class Seconds(Func):
    """The seconds from ``start`` to ``end`` (datetime expressions), as a float."""

    output_field = FloatField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def _operands(self, compiler: Any) -> tuple[str, str, tuple[Any, ...]]:
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        return end_sql, start_sql, (*end_params, *start_params)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        end, start, params = self._operands(compiler)
        return f"EXTRACT(EPOCH FROM ({end} - {start}))::double precision", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        end, start, params = self._operands(compiler)
        return f"((julianday({end}) - julianday({start})) * 86400.0)", params

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        raise NotSupportedError("Escalated's reports run on PostgreSQL and SQLite.")


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile of ``expression`` (``fraction`` between 0 and 1)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)))


@dataclass(frozen=True)
class Summary:
    """Durations in whole seconds; None when there were none."""

    count: int
    average: int | None
    median: int | None
    p90: int | None


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def summarise(queryset: QuerySet[Any], seconds: Expression | Func) -> Summary:
    """Count, mean, median and 90th percentile of ``seconds`` over ``queryset``'s rows (rows
    where it is null are left out), in one SQL statement."""
    rows = queryset.annotate(_seconds=seconds).filter(_seconds__isnull=False)
    if connections[queryset.db].vendor == "postgresql":
        found = rows.aggregate(
            count=Count("pk"),
            average=Avg("_seconds"),
            p50=PercentileCont("_seconds", fraction=PERCENTILES[0]),
            p90=PercentileCont("_seconds", fraction=PERCENTILES[1]),
        )
        values = found["count"], found["average"], found["p50"], found["p90"]
    else:
        values = _ranked_summary(rows)
    count, average, median, p90 = values
    return Summary(count or 0, _seconds(average), _seconds(median), _seconds(p90))


def _interpolated(fraction: float) -> str:
    """The SQL for PERCENTILE_CONT(fraction) over ``ranked`` rows (d, i = 0-based rank, n = row
    count, the same on every row: SQLite lets it stand bare beside the aggregates)."""
    position = f"((n - 1) * {fraction!r})"
    below = f"CAST({position} AS INTEGER)"
    low = f"MAX(CASE WHEN i = {below} THEN d END)"
    high = f"COALESCE(MAX(CASE WHEN i = {below} + 1 THEN d END), {low})"
    return f"({low} + ({position} - {below}) * ({high} - {low}))"


def _ranked_summary(rows: QuerySet[Any]) -> tuple[Any, ...]:
    inner, params = rows.order_by().values("_seconds").query.sql_with_params()
    connection = connections[rows.db]
    column = connection.ops.quote_name("_seconds")
    percentiles = ", ".join(_interpolated(p) for p in PERCENTILES)
    sql = (
        f"SELECT COUNT(*), AVG(d), {percentiles} FROM ("  # noqa: S608 (no user text in the SQL)
        f"SELECT {column} AS d, ROW_NUMBER() OVER (ORDER BY {column}) - 1 AS i, "
        f"COUNT(*) OVER () AS n FROM ({inner}) AS durations) AS ranked"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(cursor.fetchone())
