"""Hostile archive content stays inert; headers and form tokens protect every page."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
from fastapi import FastAPI

from filters.deattribute import ArchivedAttachment
from listserv.db import Database
from listserv.keys import Keys
from listserv.web.security import CONTENT_SECURITY_POLICY
from tests.web.conftest import ALICE, LIST, client_for
from tests.web.helpers import archive_post, csrf_of, sign_in

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(document.cookie)"
LINK = '<a href="javascript:alert(1)">click</a>'
STYLE = "<style>body{display:none}</style><iframe src=https://evil.example/></iframe>"
REMOTE = "https://tracker.example/pixel.png"


class Elements(HTMLParser):
    """Every element and attribute a browser would build from a page."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


# The elements our templates use; a post can add none.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "link", "body", "a", "header", "div", "nav", "ul", "li",
    "form", "input", "span", "button", "main", "h1", "h2", "h3", "p", "table", "thead", "tbody",
    "tr", "th", "td", "time", "ol", "article", "footer", "mark", "label", "select", "option",
    "strong", "section", "dl", "dt", "dd",
}  # fmt: skip


def assert_inert(page: str) -> None:
    """No element, event handler or foreign URL from the payloads became live markup."""
    parsed = Elements(page)
    assert parsed.tags <= TEMPLATE_TAGS, parsed.tags - TEMPLATE_TAGS
    for tag, name, value in parsed.attributes:
        assert not name.startswith("on"), (tag, name)
        if name in ("href", "src", "action"):
            assert value.startswith(("/", "#", "?")), (tag, name, value)
    assert "<script" not in page


async def test_hostile_subjects_bodies_and_filenames_are_rendered_inert(
    client: httpx.AsyncClient, db: Database, keys: Keys
) -> None:
    body = f"{IMG}\n{SCRIPT}\n{LINK}\nsee {JS_URL} and {REMOTE}\n> {STYLE}\n\u202eevil\u202c"
    post = await archive_post(
        db,
        keys,
        LIST,
        original_id="<xss@x>",
        subject=f"{SCRIPT} {IMG}",
        text=body,
        attachments=[ArchivedAttachment(f"{IMG}.pdf", 'text/html"><script>', b"%PDF-1.4\n")],
    )
    await sign_in(client, db, ALICE)
    pages = [
        await client.get(f"/lists/{LIST}/"),
        await client.get(f"/lists/{LIST}/threads/{post.token}"),
        await client.get(f"/lists/{LIST}/posts/{post.token}"),
        await client.get("/search", params={"q": "alert"}),
        await client.get("/search", params={"q": SCRIPT}),
    ]
    for page in pages:
        assert page.status_code == 200
        assert_inert(page.text)
    thread = pages[1].text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in thread or (
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in thread
    )
    assert f"see {JS_URL} and {REMOTE}" in thread  # shown as text, never as a link
    assert "\u202e" not in thread
    search = pages[3].text
    assert "<mark>alert</mark>" in search
    # The download keeps neither the hostile name nor the hostile type.
    download = await client.get(f"/lists/{LIST}/posts/{post.token}/attachments/1")
    assert download.headers["content-disposition"] == 'attachment; filename="attachment-1"'
    assert download.headers["content-type"] == "application/octet-stream"


async def test_every_page_carries_the_security_headers(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    anonymous = [
        await client.get("/signin"),
        await client.get("/lists/x@y.example/"),
        await client.get("/static/style.css"),
        await client.get("/nothing"),
    ]
    await sign_in(client, db, ALICE)
    signed_in = [
        await client.get("/"),
        await client.get(f"/lists/{LIST}/"),
        await client.get(f"/lists/{LIST}/posts/aaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ]
    for answer in anonymous + signed_in:
        headers = answer.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, answer.url
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" in headers  # the base URL is https
    for answer in signed_in:
        assert answer.headers["cache-control"] == "no-store"
    policy = CONTENT_SECURITY_POLICY
    for directive in (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in policy
    page = signed_in[0].text
    assert '<html lang="en">' in page
    assert '<meta name="viewport"' in page
    assert "<script" not in page


async def test_the_sign_in_form_needs_its_pre_session_token(app: FastAPI) -> None:
    async with client_for(app) as browser:
        form = await browser.get("/signin")
        token = csrf_of(form)
        assert any(
            name == "set-cookie" and "listserv_presession=" in value and "HttpOnly" in value
            for name, value in form.headers.multi_items()
        )
        forged = await browser.post("/signin", data={"email": ALICE, "csrf_token": "x" * 64})
        assert forged.status_code == 403
        missing = await browser.post("/signin", data={"email": ALICE})
        assert missing.status_code == 403
    # A token without the cookie it belongs to (another site posting for the visitor).
    async with client_for(app) as other:
        refused = await other.post("/signin", data={"email": ALICE, "csrf_token": token})
        assert refused.status_code == 403
        assert "did not come from this site" in refused.text


async def test_signed_in_forms_refuse_missing_or_wrong_tokens(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    await sign_in(client, db, ALICE)
    home = await client.get("/")
    for path in ("/signout", f"/lists/{LIST}/leave"):
        for data in ({}, {"csrf_token": "wrong"}):
            refused = await client.post(path, data=data)
            assert refused.status_code == 403, (path, data)
    # Alice's token does not work in another browser's session.
    async with client_for(app) as carol:
        await sign_in(carol, db, "carol@cert-c.example")
        refused = await carol.post("/signout", data={"csrf_token": csrf_of(home)})
        assert refused.status_code == 403
    assert (await client.get("/")).status_code == 200  # Alice is still signed in
