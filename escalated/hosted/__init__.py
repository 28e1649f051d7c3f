"""The hosting modes, site side.

``synced`` (this package): the local database stays the source of truth; every ticket event is
written to the outbox with the change and pushed to the hub (:mod:`escalated.hosted.push`); the
hub's changes come back to a signed webhook (:mod:`escalated.hosted.webhook`) and are applied
through the services. :mod:`escalated.hosted.wire` holds what both ends of the wire share.

:mod:`escalated.hosted.export` sends a self-hosted site's tickets to the hub as those same events
(``manage.py escalated_export_to_hub``), for a site that moves to ``cloud`` mode.
"""
