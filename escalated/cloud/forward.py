"""Cloud mode, site side: an operation is forwarded to the hub's GraphQL endpoint
(``{HOSTED_API_URL}/graphql``) with the site key and a fresh viewer assertion, and the hub's
answer is the answer.

The hub slow, down or refusing the site gives :class:`HubUnavailable`: the caller turns it into
a GraphQL error with code ``HUB_UNAVAILABLE`` (or a page saying the helpdesk is unreachable).
One deadline (``HOSTED_TIMEOUT_SECONDS``) bounds the whole call, connecting and reading.

The hub's address is the operator's setting, not an admin-entered URL, so the webhook rules of
:mod:`escalated.safe_http` (public addresses only) do not apply; redirects are not followed
(an answer other than the hub's GraphQL JSON is a failure).
"""

from __future__ import annotations

import http.client
import json
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from escalated import __version__
from escalated.access import Role, role_of
from escalated.cloud import assertion
from escalated.conf import escalated_settings

logger = logging.getLogger(__name__)

CODE = "HUB_UNAVAILABLE"
MAX_ANSWER_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024

# The role a site's user has by the site's own rule, as the assertion names it. A guest's link
# is the hub's (it travels as is), so a guest never needs an assertion.
_ASSERTED = {
    Role.CUSTOMER: "customer",
    Role.AGENT: "agent",
    Role.ADMIN: "admin",
    Role.SYSTEM: "admin",
}


class HubUnavailable(Exception):
    """The hub could not answer: down, too slow, refusing this site, or answering nonsense."""

    def __init__(self, reason: str, *, status: int = 503) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    # The hub's WWW-Authenticate header: it comes with a refused site key, not a refused guest
    # link (authentication.authenticate), which tells the two 401s apart.
    challenge: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def is_cloud() -> bool:
    return escalated_settings.MODE == "cloud"


def graphql_url() -> str:
    return f"{str(escalated_settings.HOSTED_API_URL).rstrip('/')}/graphql"


def viewer_assertion(user: Any) -> str:
    """A fresh assertion of the site's ``user`` (anonymous when not signed in)."""
    from escalated.events import display_name

    secret = str(escalated_settings.HOSTED_SIGNING_SECRET or "")
    role = _ASSERTED.get(role_of(user))
    if role is None or getattr(user, "pk", None) is None:
        return assertion.issue(secret, sub=None, email="", name="", role="anonymous")
    return assertion.issue(
        secret,
        sub=str(user.pk),
        email=str(getattr(user, "email", "") or ""),
        name=display_name(user),
        role=role,
    )


def hub_headers(user: Any, *, guest_token: str | None = None) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {escalated_settings.HOSTED_API_KEY or ''}",
        "User-Agent": f"escalated-django/{__version__} (cloud)",
        "Accept": "application/json",
    }
    if guest_token is not None:
        from escalated.authentication import GUEST_TOKEN_HEADER

        headers[GUEST_TOKEN_HEADER] = guest_token
    else:
        headers[assertion.HEADER] = viewer_assertion(user)
    return headers


def call(
    *,
    user: Any,
    body: bytes | None,
    content_type: str = "application/json",
    query_string: str = "",
    guest_token: str | None = None,
) -> Answer:
    """Send one operation to the hub as ``user``: POST ``body`` (JSON or multipart, as the
    client sent it), or GET with ``query_string`` when ``body`` is None."""
    headers = hub_headers(user, guest_token=guest_token)
    url = graphql_url()
    if body is not None:
        headers["Content-Type"] = content_type
    elif query_string:
        url = f"{url}?{query_string}"
    answer = _exchange("POST" if body is not None else "GET", url, body, headers)
    if guest_token is not None and answer.status == 401 and not answer.challenge:
        return answer  # the guest's link is invalid or expired: the hub's answer to the guest
    if answer.status in (401, 403):
        logger.error("The hub refused this site (HTTP %s): %s", answer.status, _excerpt(answer))
        raise HubUnavailable("The helpdesk service refused this site's credentials.", status=502)
    if answer.status not in (200, 400) or not answer.content_type.startswith("application/json"):
        logger.error("The hub answered HTTP %s: %s", answer.status, _excerpt(answer))
        raise HubUnavailable(f"The helpdesk service answered HTTP {answer.status}.", status=502)
    return answer


def operation(
    user: Any,
    query: str,
    variables: dict[str, Any],
    operation_name: str | None,
    *,
    guest_token: str | None = None,
) -> dict[str, Any]:
    """Run one operation on the hub as ``user`` (or, with ``guest_token``, as the holder of
    that guest link, which is the hub's); its result (``data``, ``errors``). Files in the
    variables (a form post's attachments) go as a GraphQL multipart request."""
    files: dict[str, Any] = {}
    plain = _without_files(variables, "variables", files)
    payload = {"query": query, "variables": plain, "operationName": operation_name}
    if files:
        body, content_type = _multipart(payload, files)
        answer = call(user=user, body=body, content_type=content_type, guest_token=guest_token)
    else:
        answer = call(user=user, body=json.dumps(payload).encode("utf-8"), guest_token=guest_token)
    try:
        result = answer.json()
    except ValueError as error:
        raise HubUnavailable(
            "The helpdesk service answered with broken JSON.", status=502
        ) from error
    if not isinstance(result, dict):
        raise HubUnavailable("The helpdesk service answered with broken JSON.", status=502)
    return result


def _without_files(value: Any, path: str, files: dict[str, Any]) -> Any:
    """``value`` with every uploaded file replaced by None, noting each under its path."""
    if hasattr(value, "read") and hasattr(value, "name"):
        files[path] = value
        return None
    if isinstance(value, dict):
        return {key: _without_files(item, f"{path}.{key}", files) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_files(item, f"{path}.{n}", files) for n, item in enumerate(value)]
    return value


def _multipart(payload: dict[str, Any], files: dict[str, Any]) -> tuple[bytes, str]:
    """The GraphQL multipart request spec's form: ``operations``, ``map``, then the files."""
    boundary = secrets.token_hex(16)
    names = {path: str(n) for n, path in enumerate(files)}
    fields = [
        ("operations", json.dumps(payload)),
        ("map", json.dumps({name: [path] for path, name in names.items()})),
    ]
    parts: list[bytes] = []
    for name, text in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + text.encode("utf-8")
            + b"\r\n"
        )
    for path, name in names.items():
        upload = files[path]
        upload.seek(0)
        filename = str(upload.name).rsplit("/", 1)[-1].replace('"', "")
        kind = getattr(upload, "content_type", None) or "application/octet-stream"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'
        )
        parts.append(head.encode("utf-8") + upload.read() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# The headers of a download that the client gets as the hub sent them.
DOWNLOAD_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Content-Disposition",
    "X-Content-Type-Options",
    "Content-Security-Policy",
    "Cache-Control",
    "Referrer-Policy",
)


@dataclass
class Download:
    """A download the hub is sending: its status, headers and body, read chunk by chunk."""

    status: int
    headers: dict[str, str]
    chunks: Iterator[bytes]


def download(
    *, user: Any, pk: int, query_string: str = "", guest_token: str | None = None
) -> Download:
    """Open the hub's download of attachment ``pk`` as ``user``; the body streams (each read
    bounded by the timeout). 200, 404 and 410 are the hub's answers; anything else is
    :class:`HubUnavailable`."""
    headers = hub_headers(user, guest_token=guest_token)
    headers["Accept"] = "*/*"
    url = f"{str(escalated_settings.HOSTED_API_URL).rstrip('/')}/attachments/{int(pk)}/"
    parts = urlsplit(url)
    timeout = float(escalated_settings.HOSTED_TIMEOUT_SECONDS)
    connection = _connection(parts.scheme, parts.netloc, timeout)
    target = parts.path + (f"?{query_string}" if query_string else "")
    try:
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        logger.warning("The hub cannot be reached: %s: %s", type(error).__name__, error)
        raise HubUnavailable("The helpdesk service cannot be reached.") from error
    if response.status not in (200, 404, 410):
        connection.close()
        logger.error("The hub answered a download with HTTP %s", response.status)
        raise HubUnavailable(f"The helpdesk service answered HTTP {response.status}.", status=502)
    kept = {name: value for name in DOWNLOAD_HEADERS if (value := response.getheader(name))}

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := response.read(_CHUNK):
                yield chunk
        except OSError as error:  # the client gets a cut-off file; nothing more can be said
            logger.warning("The hub's download broke off: %s", error)
        finally:
            connection.close()

    return Download(response.status, kept, chunks())


def _connection(scheme: str, netloc: str, timeout: float) -> http.client.HTTPConnection:
    if scheme == "https":
        return http.client.HTTPSConnection(netloc, timeout=timeout)
    return http.client.HTTPConnection(netloc, timeout=timeout)


def _excerpt(answer: Answer) -> str:
    return answer.body[:300].decode("utf-8", "replace")


def _exchange(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Answer:
    parts = urlsplit(url)
    deadline = time.monotonic() + float(escalated_settings.HOSTED_TIMEOUT_SECONDS)

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    connection = _connection(parts.scheme, parts.netloc, remaining())
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, target, body=body, headers=headers)
        if connection.sock is not None:
            connection.sock.settimeout(remaining())
        response = connection.getresponse()
        chunks: list[bytes] = []
        size = 0
        while True:
            if connection.sock is not None:
                connection.sock.settimeout(remaining())
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise HubUnavailable("The helpdesk service's answer is too large.", status=502)
            chunks.append(chunk)
        return Answer(
            response.status,
            response.getheader("Content-Type") or "",
            b"".join(chunks),
            response.getheader("WWW-Authenticate") or "",
        )
    except TimeoutError as error:
        logger.warning(
            "The hub did not answer within %ss", escalated_settings.HOSTED_TIMEOUT_SECONDS
        )
        raise HubUnavailable("The helpdesk service did not answer in time.", status=504) from error
    except (OSError, http.client.HTTPException) as error:
        logger.warning("The hub cannot be reached: %s: %s", type(error).__name__, error)
        raise HubUnavailable("The helpdesk service cannot be reached.") from error
    finally:
        connection.close()


def unavailable_body(error: HubUnavailable) -> dict[str, Any]:
    """The GraphQL answer a viewer gets when the hub could not answer."""
    return {
        "data": None,
        "errors": [
            {
                "message": f"The helpdesk is unreachable right now; try again shortly. ({error})",
                "extensions": {"code": CODE},
            }
        ],
    }
