"""``{% load escalated %}{% escalated_head %}``: what a layout's ``<head>`` needs for the pages.

It writes the CSRF meta tag the pages' own ``fetch()`` calls read, and the route table their
``route()`` helper reads (as JSON in a script element, escaped like ``json_script``).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.utils.html import format_html, json_script

from escalated.inertia.routes import route_table

register = template.Library()


@register.simple_tag(takes_context=True)
def escalated_head(context: Any) -> str:
    request = context["request"]
    return format_html(
        '<meta name="csrf-token" content="{}">\n{}',
        get_token(request),
        json_script(route_table(request), "escalated-routes"),
    )
