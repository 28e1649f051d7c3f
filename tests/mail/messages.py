"""Mail as clients and servers write it, built with the standard library's EmailMessage."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

# The smallest valid PNG (1x1), so libmagic reads it as image/png.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def message(
    *,
    sender: str = "Cora Customer <cora@example.com>",
    to: str = "support@help.example.com",
    subject: str = "Printer on fire",
    text: str | None = "It is on fire.\n\nPlease help.",
    html: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    charset: str = "utf-8",
    cte: str | None = None,
    cc: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    for name, value in (headers or {}).items():
        msg[name] = value
    if text is not None:
        msg.set_content(text, charset=charset, cte=cte)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html", charset=charset)
        else:
            msg.add_alternative(html, subtype="html", charset=charset)
    return msg


def attach(
    msg: EmailMessage, data: bytes, filename: str, mime: str = "application/octet-stream"
) -> EmailMessage:
    maintype, subtype = mime.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def with_inline_image(msg: EmailMessage, cid: str = "logo@mail.example.com") -> EmailMessage:
    """An HTML body showing an inline image, as mail clients send a pasted picture."""
    html_part = msg.get_body(("html",))
    assert html_part is not None
    html_part.add_related(PNG, maintype="image", subtype="png", cid=f"<{cid}>", filename="logo.png")
    return msg


def bounce(original_to: str = "gone@example.org") -> bytes:
    """A delivery status notification (RFC 3464), as an MTA sends it."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: support@help.example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.com')}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; {original_to}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "--b1--\r\n"
    ).encode()
