"""Cloud mode: the site keeps no tickets; its operations run on the hub.

Site side: :mod:`escalated.cloud.forward` sends an operation to the hub's GraphQL endpoint
with the site key and a viewer assertion (:mod:`escalated.cloud.assertion`), and
:mod:`escalated.cloud.views` is the site's GraphQL endpoint doing so. The hub's side is
:mod:`escalated.hub.viewers` (who the operation runs as) and
:mod:`escalated.services.cloud_viewers` (the hub's people for a site's users).
"""
