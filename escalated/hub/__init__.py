"""The hub role (``ESCALATED["HUB"] = {"ENABLED": True}``): this helpdesk keeps the tickets of
the sites that sync to it, and of the cloud-mode sites that keep none themselves.

* :mod:`escalated.hub.receive`: ``POST /<ROUTE_PREFIX>/hub/api/v1/events``, a site's events,
  authenticated by the site's key, applied once each and in each ticket's order;
* :mod:`escalated.hub.callbacks`: changes the hub's agents make to a site's ticket go back to the
  site's webhook through the outbox, signed with the site's secret;
* :mod:`escalated.hub.viewers`: a cloud-mode site's forwarded operations (HTTP and relayed
  websockets), authenticated by the site's key and a signed viewer assertion, run as the hub's
  person for the site's user, within the site's tickets.

Sites themselves are managed through :mod:`escalated.services.sites` (GraphQL ``sites``,
``siteCreate``, ``siteUpdate``, ``siteRevoke``).
"""
