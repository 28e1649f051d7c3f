"""Raw MIME to the facts processing needs, parsed by anymail's AnymailInboundMessage (the
standard library's parser with the default policy, so encoded words and charsets are decoded)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message

from anymail.inbound import AnymailInboundMessage
from django.core.files.base import ContentFile

from escalated.services.message_ids import is_own_message_id

# Precedence values that mark list and bulk mail (RFC 2076; "auto_reply" is sent by some MTAs).
_BULK = {"bulk", "junk", "list", "auto_reply"}
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond")


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    sender: str
    sender_name: str
    recipients: list[str]
    # (display name, lower-cased address) of everyone copied (Cc), in order.
    cc: list[tuple[str, str]]
    subject: str
    in_reply_to: str
    references: str
    # To, Cc and Delivered-To header values, where a signed reply address may be.
    address_headers: tuple[str, ...]
    text: str | None
    html: str | None
    # Attachments and inline images alike, named as the sender named them.
    files: list[ContentFile[bytes]] = field(default_factory=list)
    # "bounced" or "ignored", with why; None for mail a person wrote.
    verdict: tuple[str, str] | None = None


def raw_message_id(message: Message, raw: bytes) -> str:
    """The Message-ID, or one made from the bytes, so a message without one still dedupes."""
    value = " ".join(str(message.get("Message-ID", "")).split())
    if value:
        return value[:500]
    return f"<sha256:{hashlib.sha256(raw).hexdigest()}@escalated>"


def parse(raw: bytes) -> ParsedEmail:
    message = AnymailInboundMessage.parse_raw_mime_bytes(raw)
    sender = message.from_email
    recipients = [a.addr_spec for a in (*message.to, *message.cc)]
    return ParsedEmail(
        message_id=raw_message_id(message, raw),
        sender=(sender.addr_spec if sender else "").lower(),
        sender_name=(sender.display_name if sender else "") or "",
        recipients=recipients,
        cc=[(a.display_name or "", a.addr_spec.lower()) for a in message.cc if a.addr_spec],
        subject=" ".join(str(message.subject or "").split()),
        in_reply_to=str(message.get("In-Reply-To", "")),
        references=str(message.get("References", "")),
        address_headers=tuple(
            str(v) for name in ("To", "Cc", "Delivered-To") for v in message.get_all(name, [])
        ),
        text=_text(message, "text/plain"),
        html=_text(message, "text/html"),
        files=_files(message),
        verdict=_verdict(message),
    )


def _text(message: AnymailInboundMessage, content_type: str) -> str | None:
    """The first body part of that type, decoded by its declared charset; a charset Python does
    not know is read as UTF-8 with replacement rather than failing the message."""
    for part in message.walk():
        if part.get_content_type() == content_type and not part.is_attachment():
            try:
                return str(part.get_content_text())
            except LookupError:
                return str(part.get_content_text(charset="utf-8", errors="replace"))
    return None


def _files(message: AnymailInboundMessage) -> list[ContentFile[bytes]]:
    files = []
    for part in message.walk():
        if part.is_multipart() or not (part.is_attachment() or part.is_inline()):
            continue
        if part.get_content_maintype() == "text" and not part.get_filename():
            continue  # an inline text part is body, not a file
        content = part.get_content_bytes() or b""
        files.append(ContentFile(content, name=part.get_filename() or "attachment"))
    return files


def _verdict(message: AnymailInboundMessage) -> tuple[str, str] | None:
    """Mail no person wrote, which must never open a ticket or be answered (no loops)."""
    content_type = message.get_content_type()
    report = str(message.get_param("report-type", "", header="Content-Type")).lower()
    if content_type == "multipart/report" and report == "delivery-status":
        return "bounced", "delivery status notification"
    if content_type == "message/delivery-status":
        return "bounced", "delivery status notification"
    if str(message.get("Return-Path", "x")).strip() in ("<>", ""):
        return "bounced", "empty Return-Path (a bounce or other automatic mail)"
    if is_own_message_id(str(message.get("Message-ID", ""))):
        return "ignored", "our own message came back"
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return "ignored", f"Auto-Submitted: {auto}"
    if str(message.get("Precedence", "")).strip().lower() in _BULK:
        return "ignored", f"Precedence: {str(message['Precedence']).strip().lower()}"
    if any(message.get(name) is not None for name in _AUTO_HEADERS):
        return "ignored", "auto-reply"
    if message.get("List-Id") is not None or message.get("List-Unsubscribe") is not None:
        return "ignored", "mailing list"
    if message.get("X-Escalated-Ticket") is not None:
        return "ignored", "our own message came back"
    return None


SUBJECT_REFERENCE = re.compile(r"\[([A-Z][A-Z0-9]{0,9}-\d+)\]")
