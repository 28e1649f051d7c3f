"""The text a message contributes: plain text preferred, else its HTML sanitised (nh3, through
the services' one cleaner); in a reply, the quoted history and signature are trimmed by
mail-parser-reply. A new ticket keeps its whole text: a forwarded chain is what it is about."""

from __future__ import annotations

import html as html_lib

import nh3
from mailparser_reply import EmailReplyParser

from escalated.mail.parsing import ParsedEmail

# Languages whose "On … wrote:" lines and signatures the reply parser recognises.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "ja"]


def _plain_from_html(markup: str) -> str:
    """Text of an HTML body: no tags at all, block ends as line breaks."""
    spaced = markup.replace("</p>", "</p>\n").replace("<br", "\n<br").replace("</div>", "</div>\n")
    return html_lib.unescape(nh3.clean(spaced, tags=set()))


def _as_html(text: str) -> str:
    """Plain text as the escaped paragraphs a reply body is stored as."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join("<p>" + html_lib.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def message_text(email: ParsedEmail) -> str:
    """The message's text, plain; from its HTML part when it has no plain one."""
    if email.text and email.text.strip():
        return email.text
    if email.html:
        return _plain_from_html(email.html)
    return ""


def reply_body(email: ParsedEmail) -> str:
    """The new part of a reply (quotes and signature trimmed), as safe HTML."""
    text = message_text(email)
    replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text=text).replies
    trimmed = replies[0].body if replies else ""
    return _as_html(trimmed or text)


def ticket_body(email: ParsedEmail) -> str:
    """The whole text of a message that opens a ticket, as safe HTML."""
    return _as_html(message_text(email))
