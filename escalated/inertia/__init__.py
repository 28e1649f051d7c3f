"""The support UI's door: the shared Vue pages served through Inertia.

Every page is one named GraphQL operation (``operations/*.graphql``) run in-process against the
API's schema with the request's user, then reshaped into the props the pages read
(:mod:`escalated.inertia.pages`). Every form post runs a mutation of the same schema
(:mod:`escalated.inertia.forms`). Nothing here reads or writes models for a page: permissions
are the API's, because the API answers.

Modules: ``routes`` (the Ziggy-style route table the pages' ``route()`` reads), ``csrf`` (the
header names the pages send), ``execute`` (running an operation for a request), ``shape``
(GraphQL results into the pages' props), ``shared`` (props every page gets), ``pages`` (the page
registry), ``forms`` (form posts into mutations), ``views`` and ``urls``.
"""
