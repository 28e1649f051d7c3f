"""Live delivery: channel group names, publishing ids after commit, websocket authentication and
the ASGI routing a host mounts (:mod:`escalated.realtime.routing`).

This package root imports nothing heavy: :mod:`escalated.events` publishes through
:mod:`escalated.realtime.publish` without pulling in the GraphQL schema.
"""
