"""Attachments: uploads through GraphQL multipart requests and form posts, every limit and
refusal, storage under generated names, and clean-up when the change does not commit."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.test import Client

from escalated.models import Attachment, Counter, Reply
from escalated.services import tickets
from escalated.services.references import TICKET_COUNTER
from tests import files
from tests.conftest import World, data_of, gid, stored_files

REPLY = """mutation($input: TicketReplyInput!) { ticketReply(input: $input) {
    reply { id attachments { filename contentType size } }
    errors { field code message } } }"""


def _reply_with(gql: Any, world: World, uploads: list[Any], user: Any = None) -> dict[str, Any]:
    variables = {
        "input": {"ticketId": gid(world.ticket), "body": "See attached", "attachments": None}
    }
    variables["input"]["attachments"] = [None] * len(uploads)
    paths = {f"variables.input.attachments.{n}": f for n, f in enumerate(uploads)}
    result = gql.multipart(REPLY, variables, paths, user=user or world.customer)
    return data_of(result)["ticketReply"]


def test_a_customer_attaches_files_to_a_reply(world: World, gql: Any, file_store: Any) -> None:
    uploads = [
        files.upload("photo.png", files.png(), "image/png"),
        files.upload("receipt.pdf", files.pdf(), "application/octet-stream"),
        files.upload("notes.txt", files.TEXT, "text/plain"),
    ]

    payload = _reply_with(gql, world, uploads)

    assert payload["errors"] == []
    assert payload["reply"]["attachments"] == [
        {"filename": "photo.png", "contentType": "image/png", "size": len(files.png())},
        # The type comes from the bytes, not from the client's claim.
        {"filename": "receipt.pdf", "contentType": "application/pdf", "size": len(files.pdf())},
        {"filename": "notes.txt", "contentType": "text/plain", "size": len(files.TEXT)},
    ]
    rows = list(Attachment.objects.order_by("pk"))
    assert {row.ticket_id for row in rows} == {world.ticket.pk}
    assert all(row.storage == "escalated_test" for row in rows)
    on_disk = stored_files(file_store)
    assert on_disk == sorted(row.storage_name for row in rows)
    # Stored names are generated: nothing of the uploader's name reaches the storage.
    assert all(name.startswith("escalated/attachments/") for name in on_disk)
    assert not any("photo" in name or "." in name.rsplit("/", 1)[-1] for name in on_disk)
    assert (file_store / rows[0].storage_name).read_bytes() == files.png()


def test_ticket_create_and_note_add_take_attachments(
    world: World, gql: Any, file_store: Any
) -> None:
    create = """mutation($input: TicketCreateInput!) { ticketCreate(input: $input) {
        ticket { attachments { filename } } errors { code } } }"""
    note = """mutation($input: TicketNoteAddInput!) { ticketNoteAdd(input: $input) {
        reply { isInternalNote attachments { filename } } errors { code } } }"""

    created = gql.multipart(
        create,
        {"input": {"subject": "Broken", "attachments": [None]}},
        {"variables.input.attachments.0": files.upload("broken.png", files.png())},
        user=world.customer,
    )
    noted = gql.multipart(
        note,
        {"input": {"ticketId": gid(world.ticket), "body": "Refund form", "attachments": [None]}},
        {"variables.input.attachments.0": files.upload("form.pdf", files.pdf())},
        user=world.agent,
    )

    assert data_of(created)["ticketCreate"]["ticket"]["attachments"] == [{"filename": "broken.png"}]
    assert data_of(noted)["ticketNoteAdd"]["reply"] == {
        "isInternalNote": True,
        "attachments": [{"filename": "form.pdf"}],
    }
    assert len(stored_files(file_store)) == 2


def _nothing_stored(world: World, file_store: Any, replies_before: int) -> None:
    assert Attachment.objects.count() == 0
    assert Reply.objects.count() == replies_before
    assert stored_files(file_store) == []


def test_too_many_files_are_refused_and_nothing_is_stored(
    world: World, gql: Any, file_store: Any, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "MAX_ATTACHMENTS": 2}
    before = Reply.objects.count()
    uploads = [files.upload(f"p{n}.png", files.png()) for n in range(3)]

    payload = _reply_with(gql, world, uploads)

    assert payload["reply"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("attachments", "TOO_MANY_ATTACHMENTS")
    ]
    assert "at most 2" in payload["errors"][0]["message"]
    _nothing_stored(world, file_store, before)


def test_a_file_over_the_size_limit_is_refused(
    world: World, gql: Any, file_store: Any, settings: Any
) -> None:
    settings.ESCALATED = {**settings.ESCALATED, "MAX_ATTACHMENT_SIZE_KB": 1}
    before = Reply.objects.count()
    big = files.TEXT * 40  # a little over 2 KiB

    payload = _reply_with(
        gql, world, [files.upload("ok.txt", files.TEXT), files.upload("big.txt", big)]
    )

    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("attachments.1", "ATTACHMENT_TOO_LARGE")
    ]
    assert "big.txt" in payload["errors"][0]["message"]
    _nothing_stored(world, file_store, before)


@pytest.mark.parametrize(
    ("name", "data", "claimed"),
    [
        ("photo.png", files.HTML, "image/png"),  # HTML dressed as an image
        ("logo.png", files.SVG, "image/png"),  # SVG runs script
        ("report.pdf", files.elf(), "application/pdf"),  # an executable dressed as a PDF
        ("run.bat", b"@echo off\r\ndel /q C:\\*\r\n", "text/plain"),  # blocked by its name
        ("setup.exe", files.TEXT, "text/plain"),  # blocked by its name, whatever the bytes
    ],
)
def test_dangerous_types_are_refused_by_content_and_name(
    world: World, gql: Any, file_store: Any, name: str, data: bytes, claimed: str
) -> None:
    before = Reply.objects.count()

    payload = _reply_with(
        gql, world, [files.upload("fine.txt", files.TEXT), files.upload(name, data, claimed)]
    )

    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("attachments.1", "ATTACHMENT_TYPE_NOT_ALLOWED")
    ]
    _nothing_stored(world, file_store, before)


def test_every_bad_file_is_reported_at_once(world: World, file_store: Any) -> None:
    from escalated.errors import DomainError

    with pytest.raises(DomainError) as refused:
        tickets.ticket_reply(
            ticket=world.ticket,
            author=world.customer,
            body="Files",
            attachments=[
                files.upload("empty.txt", b""),
                files.upload("page.html", files.HTML),
                files.upload("fine.png", files.png()),
            ],
        )

    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("attachments.0", "attachment_empty"),
        ("attachments.1", "attachment_type_not_allowed"),
    ]
    assert stored_files(file_store) == []


def test_the_allowed_list_decides_and_blocked_types_always_win(
    world: World, file_store: Any, settings: Any
) -> None:
    from escalated.errors import DomainError

    settings.ESCALATED = {
        **settings.ESCALATED,
        "ATTACHMENT_ALLOWED_TYPES": ["text/*", "image/*"],
    }

    tickets.ticket_reply(
        ticket=world.ticket,
        author=world.customer,
        body="ok",
        attachments=[files.upload("a.png", files.png())],
    )
    with pytest.raises(DomainError):  # text/* would admit text/html; the blocked list does not
        tickets.ticket_reply(
            ticket=world.ticket,
            author=world.customer,
            body="no",
            attachments=[files.upload("a.txt", files.HTML)],
        )
    with pytest.raises(DomainError):  # a PDF is no longer on the allowed list
        tickets.ticket_reply(
            ticket=world.ticket,
            author=world.customer,
            body="no",
            attachments=[files.upload("a.pdf", files.pdf())],
        )


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\cora\\Desktop\\notes.txt", "notes.txt"),
        ("/var/www/../shell.txt", "shell.txt"),
        ("..\\..\\boot.txt", "boot.txt"),
        ("evil\x00name\r\n.txt", "evilname.txt"),
        ("\u202eexe.txt", "exe.txt"),  # a right-to-left override would disguise the extension
        ("...hidden.txt", "hidden.txt"),
        ("../", "attachment"),
        ("a" * 300 + ".txt", "a" * 251 + ".txt"),
    ],
)
def test_path_like_names_are_sanitised_and_never_reach_the_storage(
    world: World, file_store: Any, given: str, kept: str
) -> None:
    # A ContentFile keeps any name, as an in-process caller (say, inbound email) might pass.
    reply = tickets.ticket_reply(
        ticket=world.ticket,
        author=world.customer,
        body="name games",
        attachments=[ContentFile(files.TEXT, name=given)],
    )

    attachment = reply.attachments.get()
    assert attachment.filename == kept
    assert stored_files(file_store) == [attachment.storage_name]
    assert (file_store / attachment.storage_name).resolve().is_relative_to(file_store.resolve())


def test_path_like_names_over_graphql_are_sanitised(
    world: World, gql: Any, file_store: Any
) -> None:
    upload = files.upload("notes.txt", files.TEXT)
    upload.name = "..\\..\\windows\\win.txt"  # what a hostile client puts in the part header

    payload = _reply_with(gql, world, [upload])

    assert [a["filename"] for a in payload["reply"]["attachments"]] == ["win.txt"]
    assert stored_files(file_store) == [Attachment.objects.get().storage_name]


def test_files_are_deleted_when_an_enclosing_transaction_rolls_back(
    world: World, file_store: Any
) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        tickets.ticket_reply(
            ticket=world.ticket,
            author=world.customer,
            body="with a file",
            attachments=[files.upload("photo.png", files.png())],
        )
        assert len(stored_files(file_store)) == 1  # written inside the transaction
        raise Abort

    assert stored_files(file_store) == []
    assert Attachment.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_files_follow_the_outermost_transaction(file_store: Any) -> None:
    from tests.conftest import make_user

    customer = make_user("carl")
    ticket = tickets.ticket_create(actor=customer, subject="Broken")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        tickets.ticket_reply(
            ticket=ticket,
            author=customer,
            body="rolled back",
            attachments=[files.upload("gone.png", files.png())],
        )
        raise Abort
    assert stored_files(file_store) == []

    kept = tickets.ticket_reply(
        ticket=ticket,
        author=customer,
        body="committed",
        attachments=[files.upload("kept.png", files.png())],
    )
    assert stored_files(file_store) == [kept.attachments.get().storage_name]


# --- form posts -------------------------------------------------------------------------------


def test_a_plain_multipart_form_posts_a_reply_with_files(world: World, file_store: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.customer)
    client.get("/support/graphql/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value

    def form() -> dict[str, Any]:
        return {
            "ticketId": gid(world.ticket),
            "body": "From the page",
            "attachments": [files.upload("a.png", files.png()), files.upload("b.pdf", files.pdf())],
        }

    refused = client.post("/support/forms/ticket-reply/", form())
    posted = client.post("/support/forms/ticket-reply/", form(), headers={"X-CSRFToken": token})

    assert refused.status_code == 403  # a session-signed post needs Django's CSRF token
    payload = posted.json()["data"]["ticketReply"]
    assert payload["errors"] == []
    reply = Reply.objects.get(body="From the page")
    assert [a.filename for a in reply.attachments.all()] == ["a.png", "b.pdf"]


def test_a_form_post_reports_payload_errors_like_graphql(world: World, file_store: Any) -> None:
    client = Client()
    client.force_login(world.customer)

    posted = client.post(
        "/support/forms/ticket-reply/",
        {
            "ticketId": gid(world.ticket),
            "body": "x",
            "attachments": [files.upload("p.html", files.HTML)],
        },
    )

    assert posted.status_code == 200
    errors = posted.json()["data"]["ticketReply"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("attachments.0", "ATTACHMENT_TYPE_NOT_ALLOWED")
    ]
    assert Client().post("/support/forms/no-such-form/", {}).status_code == 404


class CounterWatchingStorage(FileSystemStorage):
    """A file system storage that notes the ticket reference counter whenever it writes."""

    seen: ClassVar[list[int | None]] = []

    def _save(self, name: str, content: Any) -> str:
        counter = Counter.objects.filter(name=TICKET_COUNTER).values_list("value", flat=True)
        self.seen.append(counter.first())
        return super()._save(name, content)


def test_a_new_tickets_files_are_written_before_it_takes_a_number(
    world: World, settings: Any, tmp_path: Any
) -> None:
    # The counter row stays locked from numbering until commit: a slow upload (S3) must not sit
    # inside that window, or every other ticket being opened waits for it.
    settings.STORAGES = {
        **settings.STORAGES,
        "watching": {
            "BACKEND": f"{__name__}.CounterWatchingStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    settings.ESCALATED = {**settings.ESCALATED, "ATTACHMENT_STORAGE": "watching"}
    CounterWatchingStorage.seen.clear()
    before = Counter.objects.get(name=TICKET_COUNTER).value

    ticket = tickets.ticket_create(
        actor=world.customer,
        subject="Screenshot",
        attachments=[ContentFile(files.png(), name="shot.png")],
    )

    assert CounterWatchingStorage.seen == [before]
    assert ticket.reference.endswith(str(before + 1))
    assert Attachment.objects.filter(ticket=ticket, reply=None).count() == 1


@pytest.mark.parametrize(
    "name",
    [
        "b.bat.",  # Windows drops trailing dots
        "b.bat . .",  # and trailing spaces
        "b.bat ",
        "invoice.bat:Zone.Identifier",  # an NTFS stream of b.bat
        "invoice.bat::$DATA",
        "report.exe.txt",  # every suffix of a multi-dot name
        "photo.php.jpg",
        "page.mht",
        "page.MHTML",
        "setup.\uff45\uff58\uff45",  # full-width letters fold to exe
        "setup\uff0eexe",  # a full-width dot
        "gpj.\u202eexe",  # a right-to-left override
        "shortcut.settingcontent-ms",
        "disk.iso",
    ],
)
def test_names_are_judged_as_a_desktop_saves_them(name: str) -> None:
    from escalated.errors import DomainError, ErrorCode
    from escalated.services.attachments import attachments_check

    with pytest.raises(DomainError) as refused:
        attachments_check([files.upload(name, files.TEXT, "text/plain")])

    assert [p.code for p in refused.value.problems] == [ErrorCode.ATTACHMENT_TYPE_NOT_ALLOWED]


@pytest.mark.parametrize(
    ("given", "saved"),
    [
        ("b.txt.", "b.txt"),
        ("notes.txt:hidden", "notes.txt_hidden"),
        ("\uff52\uff45\uff50\uff4f\uff52\uff54.txt", "report.txt"),
    ],
)
def test_names_are_stored_as_a_desktop_saves_them(given: str, saved: str) -> None:
    from escalated.services.attachments import attachments_check

    (checked,) = attachments_check([files.upload(given, files.TEXT, "text/plain")])

    assert checked.filename == saved
