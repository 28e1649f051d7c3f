"""Attachments: checked against the limits before anything is written, stored under generated
names through Django's storage API, and deleted again when the change carrying them does not
commit.

Types are decided by the bytes, not by what the client claims: libmagic (through python-magic)
sniffs each file, and the sniffed type must be allowed and not blocked. The file name must not
carry a blocked extension either, because a desktop opens a ``.bat`` by its name whatever its
bytes look like.
"""

from __future__ import annotations

import hmac
import logging
import unicodedata
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from escalated.access import GuestActor
from escalated.conf import escalated_settings
from escalated.errors import ErrorCode, Problem, collect
from escalated.events import person
from escalated.models import Attachment, GuestAccess, Reply, Ticket

logger = logging.getLogger(__name__)

# libmagic reads at most this much of a file by default; more would not change its answer.
SNIFF_BYTES = 1024 * 1024
MAX_FILENAME = 255
LINK_SALT = "escalated.attachment-link"


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every limit, with what was learnt about it."""

    upload: Any  # a django.core.files.File: an UploadedFile from a request, or a ContentFile
    filename: str
    content_type: str
    size: int


# --- checking ---------------------------------------------------------------------------------


def _as_saved(name: str | None) -> str:
    """The name as a desktop would save it: compatibility forms folded (a full-width dot or
    letter is a dot or letter: NFKC), no directories (either slash), no control or format
    characters (such as the right-to-left override that shows ``gpj.exe`` as ``exe.jpg``), runs
    of white space as one space, and no leading or trailing dots and spaces (Windows drops the
    trailing ones, so ``b.bat.`` is saved as ``b.bat``)."""
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return " ".join(name.split()).strip(". ")


def sanitize_filename(name: str | None) -> str:
    """A display name safe to show and to put in a Content-Disposition header: saved as a
    desktop would (:func:`_as_saved`), with ``:`` (an NTFS stream on Windows, a folder separator
    in old macOS) replaced by ``_`` as browsers do, at most 255 characters with the extension
    kept."""
    name = _as_saved(name).replace(":", "_")
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME]
    return name or "attachment"


def sniff_content_type(upload: Any) -> str:
    """The content type libmagic reads from the file's first bytes."""
    import magic  # python-magic; imported here so a missing libmagic fails uploads, not imports

    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return str(magic.from_buffer(head, mime=True))


def _matches(content_type: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(content_type, pattern) for pattern in patterns)


def content_type_allowed(content_type: str) -> bool:
    if _matches(content_type, escalated_settings.ATTACHMENT_BLOCKED_TYPES):
        return False
    return _matches(content_type, escalated_settings.ATTACHMENT_ALLOWED_TYPES)


def blocked_extension(name: str | None) -> str | None:
    """The first blocked extension the name carries, judged on the name as a desktop saves it:
    each part of an NTFS stream name (``a.bat:x.png`` writes to ``a.bat``), each with its
    trailing dots and spaces dropped, and every suffix of a multi-dot name (``a.php.jpg`` runs
    as PHP where a server maps both, ``a.exe.txt`` hides its first one)."""
    blocked = set(escalated_settings.ATTACHMENT_BLOCKED_EXTENSIONS)
    for part in _as_saved(name).casefold().split(":"):
        _stem, *suffixes = part.strip(". ").split(".")
        for suffix in suffixes:
            if suffix.strip() in blocked:
                return suffix.strip()
    return None


def attachments_check(
    files: Sequence[Any] | None, *, field: str = "attachments"
) -> list[CheckedFile]:
    """Check every file against the limits and return them as :class:`CheckedFile`; or raise
    one DomainError naming every file at fault. Nothing is written either way."""
    files = list(files or [])
    limit = escalated_settings.MAX_ATTACHMENTS
    if len(files) > limit:
        collect(
            [
                Problem(
                    f"{len(files)} files attached; at most {limit} are allowed on one message.",
                    ErrorCode.TOO_MANY_ATTACHMENTS,
                    field,
                )
            ]
        )
    max_bytes = escalated_settings.MAX_ATTACHMENT_SIZE_KB * 1024
    checked: list[CheckedFile] = []
    problems: list[Problem] = []
    for index, upload in enumerate(files):
        at = f"{field}.{index}"
        filename = sanitize_filename(getattr(upload, "name", None))
        size = int(upload.size)
        if size == 0:
            problems.append(Problem(f"{filename} is empty.", ErrorCode.ATTACHMENT_EMPTY, at))
            continue
        if size > max_bytes:
            problems.append(
                Problem(
                    f"{filename} is {_kib(size)}; the largest file allowed is {_kib(max_bytes)}.",
                    ErrorCode.ATTACHMENT_TOO_LARGE,
                    at,
                )
            )
            continue
        extension = blocked_extension(getattr(upload, "name", None))
        if extension is not None:
            problems.append(
                Problem(
                    f"{filename}: .{extension} files cannot be attached.",
                    ErrorCode.ATTACHMENT_TYPE_NOT_ALLOWED,
                    at,
                )
            )
            continue
        content_type = sniff_content_type(upload)
        if not content_type_allowed(content_type):
            problems.append(
                Problem(
                    f"{filename} contains {content_type}, which cannot be attached.",
                    ErrorCode.ATTACHMENT_TYPE_NOT_ALLOWED,
                    at,
                )
            )
            continue
        checked.append(CheckedFile(upload, filename, content_type, size))
    collect(problems)
    return checked


def _kib(size: int) -> str:
    return f"{size / 1024:,.0f} KiB" if size >= 1024 else f"{size} bytes"


# --- storing ----------------------------------------------------------------------------------


def attachments_store(
    *, ticket: Ticket, reply: Reply | None, files: Sequence[CheckedFile], uploader: Any
) -> list[Attachment]:
    """Write checked files and their rows. Call inside the change's transaction: a file whose
    transaction rolls back (this one or any enclosing one) is deleted from the storage again."""
    return attachments_attach(
        attachments_write(files=files, uploader=uploader), ticket=ticket, reply=reply
    )


def attachments_write(*, files: Sequence[CheckedFile], uploader: Any) -> list[Attachment]:
    """Write checked files to the storage and return their rows, not saved yet (see
    :func:`attachments_attach`). Call inside the change's transaction, as for
    :func:`attachments_store`. Writing first lets a new ticket's files be uploaded (to S3, say)
    before the ticket takes its reference number, whose counter stays locked until commit."""
    if not files:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("attachments_write() must run inside the change's transaction")
    alias = escalated_settings.ATTACHMENT_STORAGE
    storage = storages[alias]
    now = timezone.now()
    rows = []
    for checked in files:
        generated = f"escalated/attachments/{now:%Y/%m}/{uuid.uuid4().hex}"
        checked.upload.seek(0)
        stored_name = storage.save(generated, checked.upload)
        delete_unless_committed(storage, stored_name)
        rows.append(
            Attachment(
                uploaded_by=person(uploader),
                filename=checked.filename,
                content_type=checked.content_type,
                size=checked.size,
                storage=alias,
                storage_name=stored_name,
            )
        )
    return rows


def attachments_attach(
    rows: Sequence[Attachment], *, ticket: Ticket, reply: Reply | None
) -> list[Attachment]:
    """Save rows from :func:`attachments_write` on ``ticket`` (and ``reply``, if any)."""
    for row in rows:
        row.ticket, row.reply = ticket, reply
    return Attachment.objects.bulk_create(rows) if rows else []


def delete_unless_committed(storage: Storage, name: str) -> None:
    """Delete the stored file ``name`` if the current transaction does not commit.

    Django has no rollback hook, but it does drop its on-commit callbacks when a transaction
    or savepoint rolls back. So the callback registered here marks the file as kept when it
    runs, and a finaliser on that callback deletes the file when the callback goes away without
    having run.
    """
    state = {"kept": False}

    def keep() -> None:
        state["kept"] = True

    def delete_if_dropped() -> None:
        if state["kept"]:
            return
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not delete the rolled-back attachment %s", name)

    transaction.on_commit(keep)
    weakref.finalize(keep, delete_if_dropped)


# --- downloads --------------------------------------------------------------------------------


def attachment_open(attachment: Attachment) -> Any:
    return storages[attachment.storage].open(attachment.storage_name, "rb")


def attachment_path(attachment: Attachment) -> str:
    """The permission-checked download address; the caller's own credentials decide."""
    return reverse("escalated:attachment_download", args=[attachment.pk])


def attachment_link(
    attachment: Attachment, *, guest: GuestActor | None = None, expires_in: timedelta | None = None
) -> str:
    """A signed download address that works without credentials until it expires.

    For a guest, the link is bound to their current token: rotating or claiming the ticket
    revokes it with the token. Links for email use ``expires_in`` to outlive the default.
    """
    lifetime = expires_in or timedelta(minutes=escalated_settings.ATTACHMENT_LINK_EXPIRY_MINUTES)
    claims: dict[str, Any] = {
        "a": attachment.pk,
        "x": int((timezone.now() + lifetime).timestamp()),
    }
    if guest is not None:
        claims["g"] = [guest.access_id, _guest_binding(guest.token_hash)]
    signature = signing.dumps(claims, salt=LINK_SALT, compress=True)
    return f"{attachment_path(attachment)}?{urlencode({'sig': signature})}"


def _guest_binding(token_hash: str) -> str:
    return signing.Signer(salt=f"{LINK_SALT}.guest").signature(token_hash)[:22]


class LinkExpired(Exception):
    """A genuine link past its expiry: worth telling the person, unlike a forged one."""


def attachment_from_link(attachment_id: int, signature: str) -> Attachment | None:
    """The attachment a signed link names, if the link is genuine and still valid; raises
    :class:`LinkExpired` for a genuine link that has run out."""
    try:
        claims = signing.loads(signature, salt=LINK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(claims, dict) or claims.get("a") != attachment_id:
        return None
    expires = claims.get("x")
    if not isinstance(expires, int):
        return None
    if expires <= timezone.now().timestamp():
        raise LinkExpired
    attachment = (
        Attachment.objects.select_related("reply", "ticket").filter(pk=attachment_id).first()
    )
    if attachment is None:
        return None
    guest = claims.get("g")
    if guest is not None and not _guest_link_valid(attachment, guest):
        return None
    return attachment


def _guest_link_valid(attachment: Attachment, guest: Any) -> bool:
    if not (isinstance(guest, list) and len(guest) == 2):
        return False
    access_id, binding = guest
    access = GuestAccess.objects.filter(pk=access_id, ticket_id=attachment.ticket_id).first()
    if access is None or not access.token_is_live or access.token_hash is None:
        return False
    return not attachment.is_internal and hmac.compare_digest(
        str(binding), _guest_binding(access.token_hash)
    )
