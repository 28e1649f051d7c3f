"""Counts the SQL statements of requests, on either side: run by bench/peers/run.py with a side's
interpreter and DJANGO_SETTINGS_MODULE, after the timing. Reads a JSON list of
{"page", "session", "method", "path", "body", "headers"} on stdin, replays each through Django's
test client (the same view, middleware and session, no server) and prints {page: statements}.
"""

import json
import sys

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

counted: dict[str, int] = {}
for call in json.load(sys.stdin):
    client = Client()
    client.cookies["sessionid"] = call["session"]
    headers = {
        key: value
        for key, value in call["headers"].items()
        if key.lower() not in ("cookie", "content-type", "x-csrftoken")
    }
    statements: list[str] = []

    def counting(execute, sql, *rest, seen=statements):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return execute(sql, *rest)

    with connection.execute_wrapper(counting):
        client.generic(
            call["method"],
            call["path"],
            data=call["body"].encode(),
            content_type=call["headers"].get("Content-Type", "application/octet-stream"),
            headers=headers,
        )
    counted[call["page"]] = counted.get(call["page"], 0) + len(statements)
print(json.dumps(counted))
