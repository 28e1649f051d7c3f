"""Escalated's settings: one table of options, each with its default, its check and its meaning.

A host configures the helpdesk with a single dict in its Django settings::

    ESCALATED = {"REFERENCE_PREFIX": "HELP", "AGENT_SCOPE": "all"}

Every key is read through :data:`escalated_settings`, which merges the host's values over the
defaults at the moment of reading (so ``override_settings`` in tests works). The system check in
:mod:`escalated.checks` refuses unknown keys and bad values at start-up, naming the key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

Check = Callable[[Any], str | None]

PRIORITIES = ("low", "medium", "high", "urgent", "critical")
STATUSES = (
    "open",
    "in_progress",
    "waiting_on_customer",
    "waiting_on_agent",
    "escalated",
    "resolved",
    "closed",
    "reopened",
)


@dataclass(frozen=True)
class Option:
    default: Any
    check: Check
    doc: str
    # For dict options: the sub-options, merged one level deep over the defaults.
    children: Mapping[str, Option] | None = None
    # When set, an ``ESCALATED_<KEY>`` environment variable is the fallback for a key the host
    # does not set; this turns its text into the value.
    env: Callable[[str], Any] | None = None


# --- value checks: each returns a description of the problem, or None -------------------------


def _is_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


def _is_str(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _is_optional_str(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "must be a string or None"


def _is_optional_bool(value: Any) -> str | None:
    return None if value is None or isinstance(value, bool) else "must be True, False or None"


def _positive_int(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return None if ok else "must be a positive integer"


def _positive_seconds(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 300
    return None if ok else "must be a number of seconds above 0 and at most 300"


def _optional_positive_int(value: Any) -> str | None:
    return None if value is None else _positive_int(value)


def _non_negative_int(value: Any) -> str | None:
    """For counts where 0 turns the thing off (no warnings, no attachments)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return None if ok else "must be an integer, 0 or more"


def _share(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1
    return None if ok else "must be a number above 0 and at most 1"


def _niceness(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 19
    return None if ok else "must be an integer from 0 to 19"


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _list_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list | tuple):
            return "must be a list"
        unknown = [v for v in value if v not in choices]
        return (
            f"has unknown entries {unknown!r}; allowed: {', '.join(choices)}" if unknown else None
        )

    return check


def _reference_prefix(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z0-9]{0,9}", value):
        return None
    return "must be 1-10 upper-case letters or digits, starting with a letter (e.g. 'ESC')"


def _table_prefix(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,30}", value):
        return None
    return "must be lower-case letters, digits and underscores (e.g. 'escalated_')"


def _route_prefix(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_\-/]*", value):
        return None
    return "must be a URL path segment such as 'support'"


def _time_of_day(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return None
    return "must be a time of day as 'HH:MM'"


def _timezone(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be an IANA time zone name such as 'Europe/Berlin'"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"is not a known IANA time zone: {value!r}"
    return None


def _iso_weekdays(value: Any) -> str | None:
    ok = (
        isinstance(value, list | tuple)
        and all(isinstance(d, int) and 1 <= d <= 7 for d in value)
        and len(set(value)) == len(value)
    )
    return None if ok else "must be a list of distinct ISO weekdays, 1 (Monday) to 7 (Sunday)"


def _dotted_path_or_none(value: Any) -> str | None:
    """A callable, or the dotted path of one that imports now (not at the first request)."""
    if value is None or callable(value):
        return None
    if not (isinstance(value, str) and re.fullmatch(r"[\w.]+\.\w+", value)):
        return "must be a dotted path to a callable, a callable, or None"
    from django.utils.module_loading import import_string

    try:
        target = import_string(value)
    except ImportError as error:
        return f"{value!r} cannot be imported: {error}"
    return None if callable(target) else f"{value!r} is not callable"


def _alias_in(setting: str, kind: str) -> Check:
    """A name in one of Django's alias dicts (STORAGES, CACHES), read when checked."""

    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"must be the name of a {kind} in Django's {setting} setting"
        known = list(getattr(settings, setting, {}))
        if value in known:
            return None
        return f"is {value!r}, which is not a {kind} in {setting} (known: {', '.join(known)})"

    return check


def _transitions(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return "must be a dict of {status: [statuses it may move to]}"
    for source, targets in value.items():
        if source not in STATUSES:
            return f"has unknown status {source!r}"
        if not isinstance(targets, list | tuple) or any(t not in STATUSES for t in targets):
            return f"[{source!r}] must be a list of statuses drawn from {', '.join(STATUSES)}"
    return None


def _dict(value: Any) -> str | None:
    return None if isinstance(value, Mapping) else "must be a dict"


def _mime_patterns(value: Any) -> str | None:
    ok = isinstance(value, list | tuple) and all(
        isinstance(v, str) and re.fullmatch(r"[a-z0-9.+-]+/(\*|[a-z0-9.+-]+)", v) for v in value
    )
    return None if ok else "must be a list of MIME types such as 'image/png' or 'image/*'"


def _extensions(value: Any) -> str | None:
    ok = isinstance(value, list | tuple) and all(
        isinstance(v, str) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", v) for v in value
    )
    return None if ok else "must be a list of lower-case file extensions without dots, e.g. 'exe'"


def _absolute_url(value: Any) -> str | None:
    if isinstance(value, str) and re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        return None
    return "must be an absolute http(s) URL such as 'https://help.example.com'"


URL_PLACEHOLDERS = {"site_url": "", "route_prefix": "", "reference": "ESC-1", "id": 1}


def _url_template(value: Any) -> str | None:
    problem = f"must be a string using only the placeholders {{{'}, {'.join(URL_PLACEHOLDERS)}}}"
    if not isinstance(value, str):
        return problem
    try:
        value.format(**URL_PLACEHOLDERS)
    except (KeyError, IndexError, ValueError):
        return problem
    return None


def _optional_email(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and "@" in value):
        return None
    return "must be an email address (optionally 'Name <address>') or None"


def _optional_domain(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9.-]+", value)):
        return None
    return "must be a domain name such as 'help.example.com', or None"


def _holiday_dates(value: Any) -> str | None:
    problem = "must be a list of dates: 'YYYY-MM-DD' (once) or 'MM-DD' (every year)"
    if not isinstance(value, list | tuple):
        return problem
    for entry in value:
        if not isinstance(entry, str) or not re.fullmatch(r"(\d{4}-)?\d{2}-\d{2}", entry):
            return problem
        try:
            date.fromisoformat(entry if len(entry) == 10 else f"2000-{entry}")  # 2000: leap
        except ValueError:
            return f"has an impossible date {entry!r}"
    return None


def _holiday_country(value: Any) -> str | None:
    if value is None:
        return None
    import holidays

    if isinstance(value, str) and value in holidays.list_supported_countries():
        return None
    return "must be None or a country code the holidays package knows, e.g. 'US'"


def _origins(value: Any) -> str | None:
    if not isinstance(value, list | tuple) or not all(isinstance(o, str) for o in value):
        return "must be a list of origins such as 'https://app.example.com', or ['*']"
    from strawberry.http.websocket_origin import normalize_allowed_origins

    try:
        normalize_allowed_origins(value)
    except ValueError as error:
        return str(error)
    return None


# --- the options ------------------------------------------------------------------------------

BUSINESS_HOURS = {
    "START": Option("09:00", _time_of_day, "Start of the default working day."),
    "END": Option("17:00", _time_of_day, "End of the default working day."),
    "TIMEZONE": Option("UTC", _timezone, "IANA time zone of the default schedule."),
    "DAYS": Option([1, 2, 3, 4, 5], _iso_weekdays, "Working ISO weekdays (1 = Monday)."),
    "HOLIDAYS": Option(
        [], _holiday_dates, "Days off: 'YYYY-MM-DD' for one date, 'MM-DD' for every year."
    ),
    "HOLIDAY_COUNTRY": Option(
        None, _holiday_country, "Country code of a public-holiday calendar (holidays package)."
    ),
    "HOLIDAY_SUBDIVISION": Option(
        None, _is_optional_str, "State or region of that calendar, e.g. 'NY'."
    ),
}

NOTIFICATIONS = {
    event: Option(True, _is_bool, f"Send the {doc} email.")
    for event, doc in {
        "TICKET_CREATED": "new ticket (to the department's agents)",
        "CUSTOMER_REPLY": "customer reply (to the assignee)",
        "AGENT_REPLY": "agent reply (to the requester)",
        "TICKET_ASSIGNED": "assignment (to the new assignee)",
        "TICKET_RESOLVED": "ticket resolved, with a rating link (to the requester)",
        "SLA_WARNING": "SLA warning (to the assignee and the department's agents)",
        "SLA_BREACHED": "SLA breach (to the assignee and the department's agents)",
        "ESCALATION_NOTICE": "escalation rule notice (to whom the rule's notify action names)",
        "GUEST_LINK": "guest's magic link (to the guest, on a new guest ticket or a rotated link)",
    }.items()
}

OUTBOX = {
    "DELIVERY": Option(
        "immediate",
        _one_of("immediate", "worker", "celery"),
        "Who sends new deliveries: this process right after the commit ('immediate'), "
        "`manage.py escalated_worker` ('worker'), or a Celery task ('celery').",
    ),
    "MAX_ATTEMPTS": Option(8, _positive_int, "Attempts before a delivery is marked failed."),
    "RETRY_BASE_SECONDS": Option(30, _positive_int, "Delay before the first retry; doubles."),
    "RETRY_MAX_SECONDS": Option(6 * 3600, _positive_int, "Longest delay between two attempts."),
    "BATCH_SIZE": Option(20, _positive_int, "Deliveries a worker claims at once."),
    "LEASE_SECONDS": Option(
        300, _positive_int, "How long a claimed batch is a worker's before others may take it."
    ),
    "SMTP_TIMEOUT_SECONDS": Option(
        10,
        _positive_int,
        "Longest wait on each step of an SMTP exchange when Django's EMAIL_TIMEOUT is None.",
    ),
    "WORKER_DUTY_CYCLE": Option(
        0.5,
        _share,
        "Share of its time escalated_worker spends sending while a backlog lasts: after a batch "
        "in which it worked t seconds (not counting its waits on the peers' answers) it rests "
        "t x (1 - share) / share, so a long backlog (a hub coming back) drains beside the site's "
        "requests instead of taking a core from them. 1: no rest.",
    ),
    "WORKER_PACED_KINDS": Option(
        ["hub", "site"],
        _list_of("email", "webhook", "hub", "site"),
        "The delivery kinds WORKER_DUTY_CYCLE paces: while their rest lasts, escalated_worker "
        "sends only the other kinds. Default: the sync pushes (a site's events to its hub, a "
        "hub's changes back to a site), whose backlogs run to thousands; emails and webhooks are "
        "not held back by them.",
    ),
    "WORKER_NICE": Option(
        10,
        _niceness,
        "Niceness escalated_worker adds to its own process when it starts (0 to 19; 0: none), so "
        "the kernel runs the site's requests before it whenever both want the CPU.",
    ),
}

SLA = {
    "ENABLED": Option(True, _is_bool, "Compute SLA clocks for tickets."),
    "TARGETED": Option(False, _is_bool, "Only tickets matched by a policy get a clock."),
    "BUSINESS_HOURS_ONLY": Option(False, _is_bool, "Default targets count business hours."),
    "BUSINESS_HOURS": Option({}, _dict, "The default business schedule.", BUSINESS_HOURS),
    "WARNING_THRESHOLD_MINUTES": Option(
        30,
        _non_negative_int,
        "check_sla warns this many minutes before a clock runs out (0: no warnings).",
    ),
    "PAUSE_STATUSES": Option(
        ["waiting_on_customer"],
        _list_of(*STATUSES),
        "Statuses that pause a clock, for policies that do not choose their own.",
    ),
}

# Content types a message may carry, as sniffed from the bytes (libmagic), not as the client
# claims. Blocked types win over allowed ones, so widening the allowed list (say to "text/*")
# never lets these through.
ATTACHMENT_ALLOWED_TYPES = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "image/heic",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/json",
    "message/rfc822",
    "application/zip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "audio/mpeg",
    "video/mp4",
]
# Types that run code in a browser or on the desktop.
ATTACHMENT_BLOCKED_TYPES = [
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/javascript",
    "application/javascript",
    "text/x-shellscript",
    "text/x-msdos-batch",
    "text/x-php",
    "application/x-executable",
    "application/x-sharedlib",
    "application/x-pie-executable",
    "application/x-mach-binary",
    "application/x-dosexec",
    "application/vnd.microsoft.portable-executable",
    "application/x-msi",
    "application/java-archive",
]
# Names a desktop runs or renders when opened, whatever the bytes look like (a batch file is
# plain text): Microsoft's list of file types Outlook blocks, with web pages and scripts that
# browsers and shells run (html, svg, mht, php, sh…) and disk images that lose the downloaded
# mark on their contents (iso, img, vhd).
ATTACHMENT_BLOCKED_EXTENSIONS = sorted(
    {
        *("ade", "adp", "app", "application", "appref-ms", "appx", "appxbundle", "asp", "aspx"),
        *("asx", "bas", "bat", "bgi", "cab", "cer", "chm", "cmd", "cnt", "com", "cpl", "crt"),
        *("csh", "der", "diagcab", "dll", "exe", "fxp", "gadget", "grp", "hlp", "hpj", "hta"),
        *("htc", "htm", "html", "img", "inf", "ins", "iqy", "iso", "isp", "its", "jar", "jnlp"),
        *("js", "jse", "ksh", "library-ms", "lnk", "mad", "maf", "mag", "mam", "maq", "mar"),
        *("mas", "mat", "mau", "mav", "maw", "mcf", "mda", "mdb", "mde", "mdt", "mdw", "mdz"),
        *("mht", "mhtml", "msc", "msh", "msh1", "msh1xml", "msh2", "msh2xml", "mshxml", "msi"),
        *("msix", "msixbundle", "msp", "mst", "msu", "ops", "osd", "pcd", "php", "pif", "pl"),
        *("plg", "prf", "prg", "printerexport", "ps1", "ps1xml", "ps2", "ps2xml", "psc1"),
        *("psc2", "psd1", "psdm1", "psm1", "py", "pyc", "pyo", "pyw", "pyz", "pyzw", "reg"),
        *("scf", "scr", "sct", "searchconnector-ms", "settingcontent-ms", "sh", "shb", "shs"),
        *("shtml", "slk", "svg", "svgz", "theme", "url", "vb", "vbe", "vbp", "vbs", "vhd"),
        *("vhdx", "vsmacros", "vsw", "webpnp", "website", "ws", "wsc", "wsf", "wsh", "xbap"),
        *("xhtml", "xht", "xll", "xnk"),
    }
)

# Mutations per caller: an API token, else a signed-in user, else a guest link, else the client
# IP (issue 16). Counted in the named Django cache, like the guest limits.
MUTATION_RATE_LIMIT = {
    "PER_MINUTE": Option(
        120,
        _positive_int,
        "Mutations one API token, user, guest link or anonymous client IP may run per minute.",
    ),
    "CACHE": Option(
        "default",
        _is_str,
        "The Django cache alias holding the counters (a shared cache in production).",
    ),
}

# Replies and attachments per hour (issue 16), spent by customers and guests only (see
# escalated.services.ratelimit): through every door (GraphQL, the support pages, the guest
# portal, inbound email), per ticket and per requester (an account, or a guest's address).
MESSAGE_RATE_LIMIT = {
    "REPLIES_PER_TICKET": Option(
        30, _positive_int, "Replies customers and guests may add to one ticket per window."
    ),
    "REPLIES_PER_REQUESTER": Option(
        60, _positive_int, "Replies one customer or guest address may send per window."
    ),
    "ATTACHMENTS_PER_TICKET": Option(
        50, _positive_int, "Files customers and guests may attach to one ticket per window."
    ),
    "ATTACHMENTS_PER_REQUESTER": Option(
        100,
        _positive_int,
        "Files one customer or guest address may attach per window (new tickets included).",
    ),
    "WINDOW_SECONDS": Option(3600, _positive_int, "Length of the rate-limit window, in seconds."),
    "CACHE": Option(
        "default",
        _alias_in("CACHES", "cache"),
        "The Django cache alias holding the counters (a shared cache in production).",
    ),
}

# Websocket connections held open and operations per connection (issue 16).
REALTIME_RATE_LIMIT = {
    "CONNECTIONS_PER_USER": Option(
        20,
        _positive_int,
        "Websockets one account (by session or any of its tokens) or guest link may hold open.",
    ),
    "CONNECTIONS_PER_IP": Option(
        200, _positive_int, "Websockets one client IP address may hold open."
    ),
    "SUBSCRIPTIONS_PER_CONNECTION": Option(
        50,
        _positive_int,
        "Operations one websocket may run at once (subscriptions, and queries or mutations "
        "still running).",
    ),
    "CACHE": Option(
        "default",
        _alias_in("CACHES", "cache"),
        "The Django cache alias counting open connections (a shared cache in production).",
    ),
}

GUEST_RATE_LIMIT = {
    "PER_EMAIL": Option(3, _positive_int, "Guest tickets one email address may open per window."),
    "PER_IP": Option(10, _positive_int, "Guest tickets one client IP may open per window."),
    "WINDOW_SECONDS": Option(3600, _positive_int, "Length of the rate-limit window, in seconds."),
    "CACHE": Option(
        "default",
        _alias_in("CACHES", "cache"),
        "The Django cache alias holding the counters; production needs a shared cache "
        "(Redis, Memcached, database) so every process counts together.",
    ),
}

# --- inbound email (escalated.mail) -------------------------------------------------------------


def _env_bool(text: str) -> Any:
    """An environment flag: 1/true/yes/on or 0/false/no/off; anything else is kept, so the
    system check names the key."""
    return _ENV_FLAGS.get(text.strip().lower(), text)


_ENV_FLAGS = {"1": True, "true": True, "yes": True, "on": True}
_ENV_FLAGS.update({"0": False, "false": False, "no": False, "off": False})


def _env_int(text: str) -> Any:
    return int(text) if text.strip().isdigit() else text


def _env_str(text: str) -> Any:
    return text


def _optional_aws_region(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", value)):
        return None
    return "must be an AWS region such as 'eu-west-1', or None"


def _optional_topic_arn(value: Any) -> str | None:
    if value is None or (
        isinstance(value, str)
        and re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+", value)
    ):
        return None
    return "must be an SNS topic ARN such as 'arn:aws:sns:eu-west-1:123456789012:inbound', or None"


def _port(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536
    return None if ok else "must be a port number from 1 to 65535"


INBOUND_ADAPTERS = ("mailgun", "postmark", "ses", "imap")

INBOUND_EMAIL_OPTIONS: dict[str, Option] = {
    "INBOUND_EMAIL_ENABLED": Option(
        False, _is_bool, "Turn incoming email into tickets and replies.", env=_env_bool
    ),
    "INBOUND_EMAIL_ADAPTER": Option(
        "mailgun",
        _one_of(*INBOUND_ADAPTERS),
        "Where mail comes from: a provider's webhook (mailgun, postmark, ses) or an IMAP mailbox.",
        env=_env_str,
    ),
    "INBOUND_EMAIL_ADDRESS": Option(
        None,
        _optional_email,
        "The support address customers write to; when set, notification emails carry a signed "
        "Reply-To (local+token@domain) that threads a reply even without its headers.",
        env=_env_str,
    ),
    "MAILGUN_SIGNING_KEY": Option(
        None, _is_optional_str, "Mailgun's HTTP webhook signing key.", env=_env_str
    ),
    "POSTMARK_INBOUND_TOKEN": Option(
        None,
        _is_optional_str,
        "The 'user:password' Postmark sends as basic auth to the inbound webhook URL.",
        env=_env_str,
    ),
    "SES_REGION": Option(
        None,
        _optional_aws_region,
        "AWS region of the SNS topic; SNS certificates must come from sns.<region>.amazonaws.com.",
        env=_env_str,
    ),
    "SES_TOPIC_ARN": Option(
        None, _optional_topic_arn, "The SNS topic SES publishes received mail to.", env=_env_str
    ),
    "IMAP_HOST": Option(None, _is_optional_str, "IMAP server to poll.", env=_env_str),
    "IMAP_PORT": Option(993, _port, "IMAP server port.", env=_env_int),
    "IMAP_ENCRYPTION": Option(
        "ssl",
        _one_of("ssl", "starttls", "none"),
        "TLS from the start, STARTTLS, or none.",
        env=_env_str,
    ),
    "IMAP_USERNAME": Option(None, _is_optional_str, "IMAP login.", env=_env_str),
    "IMAP_PASSWORD": Option(None, _is_optional_str, "IMAP password.", env=_env_str),
    "IMAP_MAILBOX": Option("INBOX", _is_str, "Mailbox (folder) to read.", env=_env_str),
}


def inbound_email_problems() -> list[str]:
    """Combinations of the inbound email settings that cannot work, each naming the key."""
    user = getattr(settings, "ESCALATED", {}) or {}
    from_env = [
        f"ESCALATED_{key} (environment) {problem}"
        for key, option in INBOUND_EMAIL_OPTIONS.items()
        if key not in user
        and f"ESCALATED_{key}" in os.environ
        and (problem := option.check(getattr(escalated_settings, key)))
    ]
    if from_env:
        return from_env
    s = escalated_settings
    if not s.INBOUND_EMAIL_ENABLED:
        return []
    needed = {
        "mailgun": ["MAILGUN_SIGNING_KEY"],
        "postmark": ["POSTMARK_INBOUND_TOKEN"],
        "ses": ["SES_REGION", "SES_TOPIC_ARN"],
        "imap": ["IMAP_HOST", "IMAP_USERNAME", "IMAP_PASSWORD"],
    }.get(s.INBOUND_EMAIL_ADAPTER, [])
    adapter = s.INBOUND_EMAIL_ADAPTER
    problems = [
        f"ESCALATED[{key!r}] must be set when INBOUND_EMAIL_ADAPTER is {adapter!r}"
        for key in needed
        if not getattr(s, key)
    ]
    token = s.POSTMARK_INBOUND_TOKEN
    if adapter == "postmark" and token and ":" not in token:
        problems.append("ESCALATED['POSTMARK_INBOUND_TOKEN'] must be 'user:password'")
    arn, region = s.SES_TOPIC_ARN, s.SES_REGION
    if adapter == "ses" and arn and region and arn.split(":")[3] != region:
        problems.append("ESCALATED['SES_TOPIC_ARN'] must be a topic in SES_REGION")
    return problems


HUB = {
    "ENABLED": Option(
        False,
        _is_bool,
        "Run as a hub: register sites, take their events at /<ROUTE_PREFIX>/hub/api/v1/events "
        "and keep their tickets, labelled with the site, in this helpdesk.",
    ),
}

OPTIONS: dict[str, Option] = {
    "MODE": Option(
        "self_hosted",
        _one_of("self_hosted", "synced", "cloud"),
        "Hosting mode: run on this database, sync to a hub, or proxy through it.",
    ),
    "TABLE_PREFIX": Option("escalated_", _table_prefix, "Prefix of every Escalated table."),
    "ROUTE_PREFIX": Option("support", _route_prefix, "URL prefix the host mounts Escalated under."),
    "DEFAULT_PRIORITY": Option(
        "medium", _one_of(*PRIORITIES), "Priority of a new ticket when none is given."
    ),
    "ALLOW_CUSTOMER_CLOSE": Option(True, _is_bool, "Customers may close their own tickets."),
    "AUTO_CLOSE_RESOLVED_AFTER_DAYS": Option(
        7, _optional_positive_int, "Days after which resolved tickets are closed (None: never)."
    ),
    "MAX_ATTACHMENTS": Option(
        5, _non_negative_int, "Attachments allowed on one message (0: no attachments)."
    ),
    "MAX_ATTACHMENT_SIZE_KB": Option(10240, _positive_int, "Largest attachment, in KiB."),
    "SLA": Option({}, _dict, "Service level settings.", SLA),
    "NOTIFICATION_CHANNELS": Option(
        ["email"], _list_of("email", "webhook", "realtime"), "Channels notifications use."
    ),
    "WEBHOOK_URL": Option(None, _is_optional_str, "A URL every webhook event is also sent to."),
    "HOSTED_API_URL": Option(
        "https://cloud.escalated.dev/api/v1", _is_str, "The hub's API, for synced/cloud modes."
    ),
    "HOSTED_API_KEY": Option(None, _is_optional_str, "The hub's API key."),
    # Synced mode and the hub (issue 19).
    "HOSTED_SIGNING_SECRET": Option(
        None,
        _is_optional_str,
        "Secret the hub signs its calls to /<ROUTE_PREFIX>/cloud/webhook/ with (synced mode): "
        "the signing secret siteCreate showed.",
    ),
    "HUB": Option({}, _dict, "The hub role: this helpdesk keeps other sites' tickets.", HUB),
    # Cloud mode (issue 20).
    "HOSTED_TIMEOUT_SECONDS": Option(
        10,
        _positive_seconds,
        "Cloud mode: the longest a forwarded operation waits for the hub (connecting and "
        "answering together) before the viewer gets HUB_UNAVAILABLE.",
    ),
    "SYNC_ATTACHMENT_MAX_KB": Option(
        2048,
        _non_negative_int,
        "Largest file a synced event carries (base64, in the event): larger ones go as their "
        "name, type and size only; 0: never the bytes.",
    ),
    # Options this version adds.
    "REFERENCE_PREFIX": Option("ESC", _reference_prefix, "Prefix of ticket references."),
    "REFERENCE_DIGITS": Option(5, _positive_int, "Zero-padded width of the reference number."),
    "AGENT_SCOPE": Option(
        "departments",
        _one_of("departments", "all"),
        "'departments': agents see their departments' tickets and those in no department; "
        "'all': agents see every ticket.",
    ),
    "ROLE_RESOLVER": Option(
        None,
        _dotted_path_or_none,
        "Dotted path to a callable(user) -> escalated.access.Role that replaces the default rule.",
    ),
    "STATUS_TRANSITIONS": Option(
        None,
        _transitions,
        "Overrides of the allowed status transitions: {status: [statuses it may move to]}.",
    ),
    "GRAPHIQL": Option(None, _is_optional_bool, "Serve GraphiQL (None: follow DEBUG)."),
    "GRAPHIQL_ASSETS": Option(
        "local",
        _one_of("local", "cdn"),
        "Where GraphiQL's page loads React and GraphiQL from: this app ('local', works "
        "offline) or unpkg ('cdn', strawberry's own page unchanged).",
    ),
    "INTROSPECTION": Option(
        None,
        _is_optional_bool,
        "Allow GraphQL introspection queries and 'Did you mean' hints (None: follow DEBUG).",
    ),
    "MAX_PAGE_SIZE": Option(100, _positive_int, "Largest first/last on a connection."),
    "MAX_QUERY_DEPTH": Option(12, _positive_int, "Deepest GraphQL selection allowed."),
    "MAX_QUERY_TOKENS": Option(5000, _positive_int, "Largest GraphQL document, in tokens."),
    "MAX_ALIASES": Option(30, _positive_int, "Most aliases in one GraphQL operation."),
    "MAX_QUERY_COST": Option(
        20_000,
        _positive_int,
        "Most fields one GraphQL operation may fetch, counting each page a connection asks for.",
    ),
    "MASK_ERRORS": Option(
        None, _is_optional_bool, "Hide unexpected exception messages (None: when not DEBUG)."
    ),
    "API_TOKEN_EXPIRY_DAYS": Option(
        None, _optional_positive_int, "Default lifetime of new API tokens (None: no expiry)."
    ),
    "ATTACHMENT_STORAGE": Option(
        "default",
        _alias_in("STORAGES", "storage"),
        "Alias in Django's STORAGES that holds attachments (e.g. an S3 bucket via "
        "django-storages). Keep it private: downloads go through Escalated's checked view.",
    ),
    "ATTACHMENT_ALLOWED_TYPES": Option(
        ATTACHMENT_ALLOWED_TYPES,
        _mime_patterns,
        "Sniffed content types an attachment may have ('image/*' allows a major type).",
    ),
    "ATTACHMENT_BLOCKED_TYPES": Option(
        ATTACHMENT_BLOCKED_TYPES,
        _mime_patterns,
        "Sniffed content types always refused, even when the allowed list would admit them.",
    ),
    "ATTACHMENT_BLOCKED_EXTENSIONS": Option(
        ATTACHMENT_BLOCKED_EXTENSIONS,
        _extensions,
        "File name extensions always refused, whatever the content.",
    ),
    "ATTACHMENT_LINK_EXPIRY_MINUTES": Option(
        60, _positive_int, "Lifetime of a signed attachment download link."
    ),
    "GUEST_TICKETS_ENABLED": Option(
        False, _is_bool, "Anyone may open a ticket with a name and email (guestTicketCreate)."
    ),
    "GUEST_TOKEN_EXPIRY_DAYS": Option(
        30, _positive_int, "Days a guest's magic link works; staff can rotate it for a new one."
    ),
    "GUEST_LINK_URL": Option(
        None,
        _is_optional_str,
        "The guest ticket page a magic link opens, with {token} where the token goes, e.g. "
        "'https://help.example.com/guest/{token}'. None: '/<ROUTE_PREFIX>/guest/{token}'. A bare "
        "path is made absolute against SITE_URL, never against the request's Host header.",
    ),
    "GUEST_RATE_LIMIT": Option({}, _dict, "Limits on guestTicketCreate.", GUEST_RATE_LIMIT),
    "MUTATION_RATE_LIMIT": Option(
        {}, _dict, "Limits on mutations per caller.", MUTATION_RATE_LIMIT
    ),
    "MESSAGE_RATE_LIMIT": Option(
        {}, _dict, "Limits on replies and attachments per hour.", MESSAGE_RATE_LIMIT
    ),
    "REALTIME_RATE_LIMIT": Option(
        {}, _dict, "Limits on websocket connections and their operations.", REALTIME_RATE_LIMIT
    ),
    "GUEST_CLAIM_EMAIL_VERIFIED": Option(
        None,
        _dotted_path_or_none,
        "Dotted path to a callable(user) -> bool saying the user's email address is verified; "
        "guestTicketsClaim is refused while this is None.",
    ),
    "ACTIVITY_RETENTION_DAYS": Option(
        None,
        _optional_positive_int,
        "Days purge_activities keeps activity rows when run without --days (None: give --days).",
    ),
    "NOTIFICATIONS": Option({}, _dict, "Which notification emails are sent.", NOTIFICATIONS),
    "OUTBOX": Option({}, _dict, "How deliveries are sent and retried.", OUTBOX),
    "EMAIL_FROM": Option(
        None, _optional_email, "Sender of notification emails (None: DEFAULT_FROM_EMAIL)."
    ),
    "EMAIL_DOMAIN": Option(
        None,
        _optional_domain,
        "Domain of Message-IDs (None: the sender's domain). Keep it stable: replies thread by it.",
    ),
    "SITE_URL": Option(
        "http://localhost:8000", _absolute_url, "Absolute base URL for links in emails."
    ),
    "TICKET_URL": Option(
        "{site_url}/{route_prefix}/tickets/{reference}",
        _url_template,
        "Link to a ticket in emails.",
    ),
    "RATING_URL": Option(
        "{site_url}/{route_prefix}/tickets/{reference}/rate",
        _url_template,
        "Link to rate a resolved ticket, in the resolved email.",
    ),
    "WEBHOOK_SECRET": Option(
        None, _is_optional_str, "Secret that signs the calls to WEBHOOK_URL (None: unsigned)."
    ),
    "WEBHOOK_TIMEOUT_SECONDS": Option(5, _positive_int, "Connect and read timeout of a call."),
    "WEBHOOK_REQUIRE_HTTPS": Option(
        None, _is_optional_bool, "Refuse plain-http webhook URLs (None: when not DEBUG)."
    ),
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS": Option(
        False,
        _is_bool,
        "Allow webhook targets on loopback, private and link-local addresses (tests, intranets).",
    ),
    # Live queues (GraphQL subscriptions over websockets) and presence.
    "WEBSOCKET_ALLOWED_ORIGINS": Option(
        [],
        _origins,
        "Other origins whose pages may open the GraphQL websocket with the user's cookies "
        "(same-origin pages and clients sending no Origin header are always allowed).",
    ),
    "PRESENCE_TTL_SECONDS": Option(
        30,
        _positive_int,
        "How long a ticketPresence entry lives unless renewed; clients repeat VIEWING or TYPING "
        "well within it.",
    ),
    "REALTIME_ACCESS_RECHECK_SECONDS": Option(
        30,
        _positive_int,
        "How often an open subscription re-reads its subscriber's role and departments (the "
        "ticket itself is re-checked on every event).",
    ),
    **INBOUND_EMAIL_OPTIONS,
}


def _merge(options: Mapping[str, Option], user: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _value(option, user, name) for name, option in options.items()}


def _value(option: Option, user: Mapping[str, Any], name: str) -> Any:
    """The host's value of one option, or its default; defaults merged into one with children."""
    if name in user:
        value = user[name]
    elif option.env is not None and f"ESCALATED_{name}" in os.environ:
        value = option.env(os.environ[f"ESCALATED_{name}"])
    else:
        value = option.default
    if option.children is not None and isinstance(value, Mapping):
        value = _merge(option.children, value)
    return value


class EscalatedSettings:
    """Attribute access to the merged ESCALATED settings, e.g. ``escalated_settings.MODE``."""

    def __getattr__(self, name: str) -> Any:
        option = OPTIONS.get(name)
        if option is None:
            raise AttributeError(f"ESCALATED has no setting {name!r}")
        # Only the one key: hot paths read settings per event and per check.
        return _layered(name, option, self._user())

    def as_dict(self) -> dict[str, Any]:
        user = self._user()
        return {name: _layered(name, option, user) for name, option in OPTIONS.items()}

    @staticmethod
    def _user() -> Mapping[str, Any]:
        return getattr(settings, "ESCALATED", {}) or {}


escalated_settings = EscalatedSettings()


def table_name(suffix: str) -> str:
    """The database table for ``suffix`` under the configured TABLE_PREFIX."""
    return f"{escalated_settings.TABLE_PREFIX}{suffix}"


def setting_problems(
    user: Any, options: Mapping[str, Option] = OPTIONS, path: str = "ESCALATED"
) -> list[str]:
    """Every problem with the host's ESCALATED dict, each naming the offending key."""
    if not isinstance(user, Mapping):
        return [f"{path} must be a dict"]
    problems: list[str] = []
    for key in user:
        if key not in options:
            known = ", ".join(sorted(options))
            problems.append(f"{path}[{key!r}] is not a known setting (known: {known})")
    for key, option in options.items():
        if key not in user:
            continue
        value = user[key]
        problem = option.check(value)
        if problem:
            problems.append(f"{path}[{key!r}] {problem}")
        elif option.children is not None:
            problems.extend(setting_problems(value, option.children, f"{path}[{key!r}]"))
    return problems


# --- the support UI's options -------------------------------------------------------------------
# Kept apart from the table above so the settings store (escalated.settings_store) and the start-up
# checks can grow without editing the same lines.

OPTIONS["SHOW_POWERED_BY"] = Option(
    True, _is_bool, "Show 'Powered by Escalated' at the foot of the support pages."
)
OPTIONS["SETTINGS_STORE_CACHE"] = Option(
    "default",
    _is_str,
    "The Django cache alias through which processes learn that admins changed a setting; "
    "production with several processes needs a shared cache.",
)


_store: Any = None  # escalated.settings_store, imported at the first read (it imports this module)


def _layered(name: str, option: Option, user: Mapping[str, Any]) -> Any:
    """The value of ``name``: through the settings store for the keys admins may edit (the
    database, then ESCALATED, then the environment, then the default), else ESCALATED or the
    default."""
    global _store
    if _store is None:
        from escalated import settings_store

        _store = settings_store
    if name in _store.EDITABLE:
        return _store.layered_value(name, option, user)
    return _value(option, user, name)
