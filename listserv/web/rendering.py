"""Templates, and turning archive text into inert HTML.

Posts are stored as scrubbed plain text; HTML from a post is never rendered.
The only HTML we make from text is (a) quote lines wrapped in a span and
(b) search hits wrapped in <mark>; both are built from escaped text and then
passed through nh3 with an allowlist of exactly those elements, so nothing a
poster writes can become markup, a link, or a remote resource. URLs stay text:
in a security community they are as often indicators of compromise as links.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nh3
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from archive.search import Segment

TEMPLATES = Path(__file__).parent / "templates"

# FIRST TLP 2.0 colours, shown on black (CSS classes in static/style.css).
TLP_CLASSES = {
    "TLP:RED": "tlp-red",
    "TLP:AMBER+STRICT": "tlp-amber",
    "TLP:AMBER": "tlp-amber",
    "TLP:GREEN": "tlp-green",
    "TLP:CLEAR": "tlp-clear",
}
_QUOTE_LINE = re.compile(r"^[ \t]*>")
# Bidirectional overrides and isolates: they can make shown text read unlike what it is.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def tlp_class(label: str) -> str:
    return TLP_CLASSES.get(label, "tlp-unknown")


def _clean(markup: str, tags: set[str], attributes: dict[str, set[str]] | None = None) -> Markup:
    cleaned = nh3.clean(
        markup,
        tags=tags,
        attributes=attributes or {},
        url_schemes=set(),
        link_rel=None,
        strip_comments=True,
    )
    return Markup(cleaned)  # nh3 kept only the allowlisted elements


def post_text_html(text: str) -> Markup:
    """Plain post text as escaped HTML; `>` quote lines in <span class="quote">."""
    lines = []
    for line in _BIDI_CONTROLS.sub("", text).split("\n"):
        escaped = html.escape(line, quote=True)
        if _QUOTE_LINE.match(line):
            escaped = f'<span class="quote">{escaped}</span>'
        lines.append(escaped)
    return _clean("\n".join(lines), {"span"}, {"span": {"class"}})


def highlighted_html(parts: Iterable[Segment]) -> Markup:
    """Search segments as escaped HTML with hits in <mark>."""
    markup = "".join(
        f"<mark>{html.escape(part.text, quote=True)}</mark>"
        if part.hit
        else html.escape(part.text, quote=True)
        for part in parts
    )
    return _clean(markup, {"mark"})


def list_path(list_address: str) -> str:
    """A list's URL path, as List-Archive and Archived-At have it."""
    return "/lists/" + quote(list_address, safe="@")


def utc_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def utc_date(value: datetime) -> str:
    return value.strftime("%Y-%m-%d")


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size = size / 1024  # type: ignore[assignment]
    return f"{size} bytes"


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def make_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        tlp_class=tlp_class,
        post_text=post_text_html,
        highlighted=highlighted_html,
        utc_time=utc_time,
        utc_date=utc_date,
        human_size=human_size,
        list_path=list_path,
    )
    environment.globals["plural"] = plural
    return environment


class Pages:
    """Renders a template into a response, with what every page needs."""

    def __init__(self) -> None:
        self.environment = make_environment()

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        values: dict[str, Any] = {
            "request": request,
            "viewer": getattr(request.state, "viewer", None),
            "csrf_token": getattr(request.state, "csrf_token", ""),
            "title": "",
        }
        values.update(context or {})
        body = self.environment.get_template(name).render(values)
        return HTMLResponse(body, status_code=status_code)
