"""Escalated for Django: an embeddable, GraphQL-first helpdesk."""

__version__ = "0.8.0.dev0"
