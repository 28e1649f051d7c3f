"""Live delivery: channel group names (``groups``), publishing ids after commit (``publish``),
websocket authentication (``auth``, ``consumer``) and the ASGI routing a host mounts
(``routing``); in a server process, one hub per event loop reading the channel layer
(``hub``), each event loaded once for all its subscribers (``delivery``), open sockets' access
re-read in batches (``rechecks``), and the garbage-collector settings a live server may apply
at start-up (``collector``).

This package root imports nothing heavy: :mod:`escalated.events` publishes through
:mod:`escalated.realtime.publish` without pulling in the GraphQL schema.
"""
