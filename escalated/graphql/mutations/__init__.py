"""Mutations, grouped by what they change."""
