"""The GraphQL front door (Strawberry). Resolvers read through scoped querysets and write only by
calling :mod:`escalated.services`."""
