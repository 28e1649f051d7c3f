"""Inbound email, a door above the core: provider webhooks and IMAP polling store each message
first (:mod:`.store`), then :mod:`.processing` turns it into a ticket or a reply through the
services. Nothing in ``services/``, ``models/`` or ``events.py`` imports this package.

* :mod:`.parsing`: raw MIME to a :class:`~.parsing.ParsedEmail` (through anymail's parser),
  and what kind of mail it is (auto-reply, bounce, list mail, our own);
* :mod:`.bodies`: the text to keep (plain text preferred, HTML sanitised, quotes trimmed);
* :mod:`.threading`: which ticket a message answers, and whether its sender may act on it;
* :mod:`.webhooks` and :mod:`.sns`: Mailgun, Postmark and SES endpoints;
* :mod:`.imap`: one polling pass, and the daemon loop of ``poll_imap --continuous``.
"""
