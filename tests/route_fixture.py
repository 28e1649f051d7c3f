"""The route table the frontend adapter's vitest suite runs against, taken from the demo project.

    python -m tests.route_fixture     # rewrites frontend-adapter/test/fixtures/routes.json

The fixture is what `GET /support/routes.json` answers in the demo (host 127.0.0.1:8000), so
the adapter is tested against the real names, URIs and parameters Django serves;
tests/test_route_fixture.py fails when a route in it no longer matches.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[1] / "frontend-adapter/test/fixtures/routes.json"
HOST = "127.0.0.1:8000"
URLCONF = "demo.urls"


def live_table() -> dict[str, Any]:
    """The demo's route table as its routes.json endpoint serves it."""
    from django.test import Client, override_settings

    with override_settings(ROOT_URLCONF=URLCONF):
        response = Client().get("/support/routes.json", HTTP_HOST=HOST)
    assert response.status_code == 200, response.status_code
    table: dict[str, Any] = response.json()
    return table


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    FIXTURE.write_text(json.dumps(live_table(), indent=2) + "\n")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
