"""Cloud mode, site side: the site's GraphQL endpoint forwards each operation to the hub with the
site key and a fresh viewer assertion and answers with the hub's answer; a hub that is down,
slow or refusing gives HUB_UNAVAILABLE within the timeout, never a 500."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from escalated.cloud import assertion
from escalated.models import ApiToken
from escalated.services.tokens import api_token_create
from tests.conftest import make_user

SECRET = "site-signing-secret-0123456789"
KEY = "esk_abcdef012345_secret"
QUERY = "{ viewer { role } }"


@dataclass
class StandIn:
    """A real HTTP server standing where the hub would: records what it is sent and answers
    with ``status``, ``content_type`` and ``body`` after ``delay`` seconds."""

    status: int = 200
    content_type: str = "application/json"
    body: bytes = b'{"data": {"viewer": {"role": "CUSTOMER"}}}'
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: bytes) -> None:
                stand_in.calls.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                time.sleep(stand_in.delay)
                self.send_response(stand_in.status)
                self.send_header("Content-Type", stand_in.content_type)
                self.send_header("Content-Length", str(len(stand_in.body)))
                for name, value in stand_in.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(stand_in.body)

            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

            def do_GET(self) -> None:
                self._answer(b"")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/support/hub/api/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _cloud(settings: Any, url: str, timeout: float = 5) -> None:
    settings.ESCALATED = {
        **settings.ESCALATED,
        "MODE": "cloud",
        "HOSTED_API_URL": url,
        "HOSTED_API_KEY": KEY,
        "HOSTED_SIGNING_SECRET": SECRET,
        "HOSTED_TIMEOUT_SECONDS": timeout,
    }


@pytest.fixture
def stand_in(settings: Any) -> Iterator[StandIn]:
    server = StandIn()
    _cloud(settings, server.url)
    try:
        yield server
    finally:
        server.stop()


def _post(client: Client, query: str = QUERY, **headers: str) -> Any:
    return client.post(
        "/support/graphql/", {"query": query}, content_type="application/json", headers=headers
    )


def test_an_operation_goes_to_the_hub_with_the_key_and_the_viewers_assertion(
    stand_in: StandIn, db: Any
) -> None:
    user = make_user("cora", first="Cora", last="Customer")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/support/graphql/")  # served here, not forwarded: sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    response = _post(client, **{"X-CSRFToken": token})

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"role": "CUSTOMER"}}}
    [call] = stand_in.calls
    assert call["path"] == "/support/hub/api/v1/graphql"
    assert call["headers"]["Authorization"] == f"Bearer {KEY}"
    assert json.loads(call["body"]) == {"query": QUERY}
    seen = assertion.verify(SECRET, call["headers"][assertion.HEADER])
    assert (seen.sub, seen.email, seen.name, seen.role) == (
        str(user.pk),
        "cora@example.com",
        "Cora Customer",
        "customer",
    )
    assert seen.exp - seen.iat == assertion.LIFETIME
    assert "Cookie" not in call["headers"], "the site's session cookie went to the hub"


def test_each_operation_carries_a_new_assertion_and_the_sites_role_rule(
    stand_in: StandIn, db: Any
) -> None:
    admin = make_user("root", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)

    _post(client)
    _post(client)

    first, second = (
        assertion.verify(SECRET, c["headers"][assertion.HEADER]) for c in stand_in.calls
    )
    assert first.role == second.role == "admin"
    assert first.jti != second.jti


def test_a_signed_out_visitor_is_asserted_anonymous_and_a_guest_link_travels_as_is(
    stand_in: StandIn, db: Any
) -> None:
    _post(Client())
    _post(Client(), **{"X-Escalated-Guest-Token": "guest-token-from-the-hub"})

    anonymous, guest = stand_in.calls
    seen = assertion.verify(SECRET, anonymous["headers"][assertion.HEADER])
    assert (seen.sub, seen.role) == (None, "anonymous")
    assert guest["headers"]["X-Escalated-Guest-Token"] == "guest-token-from-the-hub"
    assert assertion.HEADER not in guest["headers"]


def test_a_multipart_upload_is_forwarded_as_the_client_sent_it(stand_in: StandIn, db: Any) -> None:
    client = Client()
    client.force_login(make_user("cora"))
    operations = json.dumps(
        {"query": "mutation($f: Upload!) { x(f: $f) }", "variables": {"f": None}}
    )

    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        "/support/graphql/",
        {
            "operations": operations,
            "map": json.dumps({"0": ["variables.f"]}),
            "0": SimpleUploadedFile("a.txt", b"hello file", content_type="text/plain"),
        },
    )

    [call] = stand_in.calls
    assert call["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b"hello file" in call["body"] and operations.encode() in call["body"]


def test_a_bearer_token_of_the_site_authenticates_without_writing_its_table(
    stand_in: StandIn, db: Any
) -> None:
    user = make_user("cora")
    _, raw = api_token_create(actor=user, name="cli")
    before = list(ApiToken.objects.values())

    response = _post(Client(), Authorization=f"Bearer {raw}")

    assert response.status_code == 200
    assert assertion.verify(SECRET, stand_in.calls[0]["headers"][assertion.HEADER]).sub == str(
        user.pk
    )
    assert list(ApiToken.objects.values()) == before


def test_the_sites_own_refusals_come_first(stand_in: StandIn, db: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("cora"))

    no_csrf = _post(client)
    bad_token = _post(Client(), Authorization="Bearer esc_nope")

    assert no_csrf.status_code == 403 and bad_token.status_code == 401
    assert stand_in.calls == []


def _unavailable(response: Any) -> str:
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "HUB_UNAVAILABLE"}
    assert "Traceback" not in response.content.decode()
    return str(error["message"])


def test_a_hub_that_is_down_gives_hub_unavailable(settings: Any, db: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _cloud(settings, f"http://127.0.0.1:{port}/support/hub/api/v1")

    response = _post(Client())

    assert response.status_code == 503
    assert "cannot be reached" in _unavailable(response)


def test_a_hub_that_does_not_answer_in_time_gives_hub_unavailable_at_the_timeout(
    settings: Any, db: Any
) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does), never answers
    _cloud(settings, f"http://127.0.0.1:{silent.getsockname()[1]}/api", timeout=0.5)
    try:
        started = time.monotonic()
        response = _post(Client())
        took = time.monotonic() - started
    finally:
        silent.close()

    assert response.status_code == 504
    assert "in time" in _unavailable(response)
    assert 0.5 <= took < 3


def test_a_hub_answering_slowly_is_cut_off_at_the_timeout(
    stand_in: StandIn, settings: Any, db: Any
) -> None:
    stand_in.delay = 2
    settings.ESCALATED = {**settings.ESCALATED, "HOSTED_TIMEOUT_SECONDS": 0.5}

    started = time.monotonic()
    response = _post(Client())

    assert response.status_code == 504 and time.monotonic() - started < 1.8
    _unavailable(response)


@pytest.mark.parametrize(
    ("status", "content_type", "body", "says"),
    [
        (500, "text/html", b"<h1>Server Error</h1>", "HTTP 500"),
        (401, "application/json", b'{"errors": [{"message": "revoked"}]}', "refused"),
        (200, "text/html", b"<html>a login page</html>", "HTTP 200"),
        (302, "text/html", b"", "HTTP 302"),
    ],
)
def test_a_hub_answering_something_else_than_graphql_gives_hub_unavailable(
    stand_in: StandIn, db: Any, status: int, content_type: str, body: bytes, says: str
) -> None:
    stand_in.status, stand_in.content_type, stand_in.body = status, content_type, body

    response = _post(Client())

    assert response.status_code == 502
    assert says in _unavailable(response)


def test_the_hubs_graphql_errors_reach_the_client_unchanged(stand_in: StandIn, db: Any) -> None:
    stand_in.status = 400
    stand_in.body = b'{"data": null, "errors": [{"message": "Syntax Error", "extensions": {}}]}'

    response = _post(Client(), query="{ nope")

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Syntax Error"


def test_the_sites_own_pages_are_unaffected_when_the_hub_is_down(settings: Any, db: Any) -> None:
    _cloud(settings, "http://127.0.0.1:9/api", timeout=0.5)
    settings.ESCALATED = {**settings.ESCALATED, "GRAPHIQL": True}

    assert Client().get("/accounts/login/").status_code == 200
    # GraphiQL's page is the site's own, served without asking the hub.
    page = Client().get("/support/graphql/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"graphiql" in page.content.lower()


def test_a_pages_files_go_to_the_hub_as_a_graphql_multipart_request(
    stand_in: StandIn, db: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from escalated.cloud import forward

    upload = SimpleUploadedFile("notes.txt", b"file body", content_type="text/plain")
    variables = {"input": {"ticketId": "VGlj", "body": "See file", "attachments": [upload]}}

    forward.operation(make_user("cora"), "mutation M { x }", variables, "M")

    [call] = stand_in.calls
    kind = call["headers"]["Content-Type"]
    assert kind.startswith("multipart/form-data; boundary=")
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {kind}\r\n\r\n".encode() + call["body"]
    )
    parts = {
        part.get_param("name", header="content-disposition"): part for part in message.iter_parts()
    }
    operations = json.loads(parts["operations"].get_content())
    assert operations["variables"]["input"] == {
        "ticketId": "VGlj",
        "body": "See file",
        "attachments": [None],
    }
    assert json.loads(parts["map"].get_content()) == {"0": ["variables.input.attachments.0"]}
    assert parts["0"].get_filename() == "notes.txt"
    assert parts["0"].get_content() == "file body"


def test_a_download_streams_from_the_hub_with_its_headers(stand_in: StandIn, db: Any) -> None:
    stand_in.content_type = "application/pdf"
    stand_in.body = b"%PDF-1.4 the file"
    stand_in.headers = {
        "Content-Disposition": 'attachment; filename="invoice.pdf"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Set-Cookie": "hub=1",
    }
    client = Client()
    user = make_user("cora")
    client.force_login(user)

    response = client.get("/support/attachments/5/")
    signed = Client().get("/support/attachments/5/?sig=abc:def")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 the file"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "hub" not in response.cookies, "a hub cookie reached the site's client"
    first, second = stand_in.calls
    assert first["path"] == "/support/hub/api/v1/attachments/5/"
    assert assertion.verify(SECRET, first["headers"][assertion.HEADER]).sub == str(user.pk)
    assert second["path"] == "/support/hub/api/v1/attachments/5/?sig=abc:def"
    assert signed.status_code == 200


def test_a_download_the_hub_refuses_or_cannot_serve(
    stand_in: StandIn, settings: Any, db: Any
) -> None:
    stand_in.status, stand_in.content_type, stand_in.body = 404, "text/html", b"No such attachment."
    assert Client().get("/support/attachments/5/").status_code == 404

    _cloud(settings, "http://127.0.0.1:9/api", timeout=0.5)
    down = Client().get("/support/attachments/5/")
    assert down.status_code == 503 and b"unreachable" in down.content


def test_a_form_post_runs_its_mutation_on_the_hub(stand_in: StandIn, db: Any) -> None:
    stand_in.body = b'{"data": {"ticketCreate": {"ticket": null, "errors": []}}}'
    client = Client()
    client.force_login(make_user("cora"))

    response = client.post("/support/forms/ticket-create/", {"subject": "From a form"})

    assert response.status_code == 200
    assert response.json() == {"data": {"ticketCreate": {"ticket": None, "errors": []}}}
    [call] = stand_in.calls
    sent = json.loads(call["body"])
    assert "ticketCreate(input: $input)" in sent["query"]
    assert sent["variables"] == {"input": {"subject": "From a form"}}
