"""The demo's built support pages in its Inertia layout, read from Vite's manifest.

A host with its own Vite set-up would use django-vite (dev server, HMR) or its own pipeline;
the demo only ever serves a production build, and reading the manifest's one entry is what
that needs, so it carries no dependency for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

ENTRY = "src/main.js"
STATIC_PREFIX = "escalated-demo"  # the STATICFILES_DIRS prefix of the build (vite.config.js `base`)


@dataclass(frozen=True)
class Frontend:
    built: bool
    tags: SafeString
    reason: str = ""


def _manifest_path() -> Path:
    return Path(settings.DEMO_FRONTEND_DIST) / ".vite" / "manifest.json"


def _css_of(manifest: dict[str, Any], key: str, seen: set[str]) -> list[str]:
    """The entry's stylesheets and those of every chunk it imports, in order, each once."""
    if key in seen:
        return []
    seen.add(key)
    chunk = manifest[key]
    files = list(chunk.get("css", []))
    for imported in chunk.get("imports", []):
        files += _css_of(manifest, imported, seen)
    return files


def _url(file: str) -> str:
    return static(f"{STATIC_PREFIX}/{file}")


@register.simple_tag
def demo_frontend() -> Frontend:
    path = _manifest_path()
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return Frontend(
            built=False,
            tags=SafeString(""),
            reason=f"the demo frontend is not built ({path} is missing): run `make demo-frontend`",
        )
    styles = format_html_join(
        "",
        '<link rel="stylesheet" href="{}">',
        ((_url(file),) for file in _css_of(manifest, ENTRY, set())),
    )
    script = format_html('<script type="module" src="{}"></script>', _url(manifest[ENTRY]["file"]))
    return Frontend(built=True, tags=styles + script)
