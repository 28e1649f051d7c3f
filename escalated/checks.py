"""System checks: a bad ESCALATED setting stops start-up with a message naming the key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from escalated.conf import escalated_settings, inbound_email_problems, setting_problems


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
    """Only the self-hosted mode exists so far: say so rather than pretend to sync."""
    mode = escalated_settings.MODE
    if mode == "self_hosted":
        return []
    return [
        Warning(
            f"ESCALATED['MODE'] is {mode!r}, but only 'self_hosted' is implemented: tickets stay "
            "in this database and nothing is sent to HOSTED_API_URL.",
            id="escalated.W001",
        )
    ]


# --- inbound email ------------------------------------------------------------------------------


@register()
def check_inbound_email(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Inbound email that is switched on must have what its adapter needs to authenticate."""
    if setting_problems(getattr(settings, "ESCALATED", {})):
        return []  # E001 already names the bad values
    return [
        Error(problem, hint="See 'Inbound email' in Escalated's README.", id="escalated.E017")
        for problem in inbound_email_problems()
    ]
