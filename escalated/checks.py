"""System checks: a bad ESCALATED setting stops start-up with a message naming the key."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from escalated.conf import escalated_settings, setting_problems


@register()
def check_escalated_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    user = getattr(settings, "ESCALATED", {})
    return [
        Error(problem, hint="See the settings table in Escalated's README.", id="escalated.E001")
        for problem in setting_problems(user)
    ]


@register()
def check_content_sniffing(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Attachments are typed by libmagic; without it every upload would fail, so say so now."""
    try:
        import magic

        magic.from_buffer(b"%PDF-1.4", mime=True)
    except (ImportError, OSError) as error:
        return [
            Error(
                f"libmagic cannot be loaded ({error}); attachment types cannot be checked.",
                hint="Install libmagic: 'apt-get install libmagic1' on Debian and Ubuntu, "
                "'brew install libmagic' on macOS.",
                id="escalated.E002",
            )
        ]
    return []


@register()
def check_hosting_mode(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Synced mode needs the hub's URL, its key and the secret of its calls back; cloud mode is
    not built yet: say so rather than pretend to proxy."""
    mode = escalated_settings.MODE
    if mode == "synced":
        return [
            Error(problem, hint="See 'Synced mode and the hub' in the README.", id="escalated.E003")
            for problem in synced_problems()
        ]
    if mode == "cloud":
        return [
            Warning(
                "ESCALATED['MODE'] is 'cloud', which is not implemented yet: tickets stay in "
                "this database and nothing is sent to HOSTED_API_URL.",
                id="escalated.W001",
            )
        ]
    return []


def synced_problems() -> list[str]:
    from escalated.hosted.signing import MIN_SECRET_LENGTH

    url = escalated_settings.HOSTED_API_URL
    key = escalated_settings.HOSTED_API_KEY
    secret = escalated_settings.HOSTED_SIGNING_SECRET
    problems = []
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        problems.append(
            "ESCALATED['HOSTED_API_URL'] must be the hub's absolute http(s) API URL in synced mode."
        )
    if not key:
        problems.append("ESCALATED['HOSTED_API_KEY'] must be the site key the hub gave you.")
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            f"ESCALATED['HOSTED_SIGNING_SECRET'] must be the hub's signing secret for this site "
            f"(at least {MIN_SECRET_LENGTH} characters)."
        )
    return problems
