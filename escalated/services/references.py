"""Human-friendly ticket references (ESC-00042), gap-free and unique under concurrency."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from escalated.conf import escalated_settings
from escalated.models import Counter

TICKET_COUNTER = "ticket_reference"


def next_number(name: str) -> int:
    """Take the next value of the named counter.

    The UPDATE takes a row lock held until the caller's transaction ends, so concurrent callers
    queue behind one another and each sees a distinct value; a rolled-back caller gives its
    number back. Must run inside a transaction.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("next_number() must run inside transaction.atomic()")
    if _upserts_returning(connection):
        # The same, in one statement: the conflicting INSERT's UPDATE takes the same row lock.
        table = connection.ops.quote_name(Counter._meta.db_table)
        with connection.cursor() as cursor:
            sql = (
                f"INSERT INTO {table} (name, value) VALUES (%s, 1) "  # noqa: S608 (the model's table)
                f"ON CONFLICT (name) DO UPDATE SET value = {table}.value + 1 RETURNING value"
            )
            cursor.execute(sql, [name])
            return int(cursor.fetchone()[0])
    Counter.objects.bulk_create([Counter(name=name, value=0)], ignore_conflicts=True)
    Counter.objects.filter(name=name).update(value=F("value") + 1)
    return Counter.objects.values_list("value", flat=True).get(name=name)


def _upserts_returning(connection: Any) -> bool:
    """PostgreSQL, and SQLite from 3.35: ``INSERT … ON CONFLICT DO UPDATE … RETURNING``."""
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version_info >= (3, 35)
    return False


def next_ticket_reference() -> str:
    number = next_number(TICKET_COUNTER)
    digits = escalated_settings.REFERENCE_DIGITS
    return f"{escalated_settings.REFERENCE_PREFIX}-{number:0{digits}d}"
