"""The demo host project keeps what it writes in demo/ (gitignored): uploads, mails, tokens."""

from __future__ import annotations

import os
import subprocess

from tests.realtime.servers import ROOT, python_json

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import get_connection
print(json.dumps({
    "upload": default_storage.path("escalated/attachments/x"),
    "mail_backend": type(get_connection()).__module__,
    "mail_folder": str(settings.EMAIL_FILE_PATH),
    "tokens": str(settings.DEMO_TOKENS_FILE),
    "site": settings.ESCALATED["SITE_URL"],
}))
"""


def _demo(port: str = "8000") -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "demo.settings",
        "PYTHONPATH": str(ROOT),
        "DEMO_PORT": port,
    }
    result: dict[str, str] = python_json(["-c", PROBE], env, timeout=60)
    return result


def _ignored(path: str) -> bool:
    done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
    return done.returncode == 0


def test_uploads_mails_and_tokens_stay_in_the_demo_folder_and_out_of_git() -> None:
    demo = _demo()

    for key in ("upload", "mail_folder", "tokens"):
        assert demo[key].startswith(str(ROOT / "demo") + os.sep), (key, demo[key])
        assert _ignored(demo[key]), demo[key]
    assert demo["mail_backend"] == "django.core.mail.backends.filebased"


def test_the_demo_links_to_the_port_it_serves() -> None:
    assert _demo("8151")["site"] == "http://127.0.0.1:8151"
