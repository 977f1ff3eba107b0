"""Sign-in by mailed one-time link: the mail, expiry, single use, sign-out, rate limits."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from listserv.db import Database
from listserv.web.models import WebSession, WebSignInToken
from tests.web.conftest import ALICE, BASE, LIST, client_for
from tests.web.helpers import (
    Clock,
    csrf_of,
    link_in,
    outbound_notices,
    path_of,
    request_link,
    sign_in,
    use_link,
)

UNKNOWN = "mallory@outside.example"


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_member_is_mailed_a_link_through_the_outbox(
    client: httpx.AsyncClient, db: Database
) -> None:
    page = await request_link(client, ALICE)
    assert "Check your mail" in page
    notices = await outbound_notices(db, ALICE)
    assert len(notices) == 1
    notice = notices[0]
    assert notice["To"] == ALICE
    assert notice["Auto-Submitted"] == "auto-generated"
    link = link_in(notice)
    assert link.startswith(f"{BASE}/signin/link/")
    assert "15 minutes" in notice.get_body(("plain",)).get_content()
    # The database keeps a digest of the token, never the token itself.
    token = link.rsplit("/", 1)[1]
    async with db.session() as session:
        stored = (await session.scalars(select(WebSignInToken))).all()
    assert len(stored) == 1
    assert stored[0].token_digest != token
    assert token not in stored[0].token_digest


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, db: Database
) -> None:
    known = await request_link(client, ALICE)
    unknown = await request_link(client, UNKNOWN)
    assert unknown.replace(UNKNOWN, "ADDRESS") == known.replace(ALICE, "ADDRESS")
    assert await outbound_notices(db, UNKNOWN) == []
    assert await count(db, WebSignInToken) == 1  # Alice's only: the other was rolled back


async def test_a_link_page_asks_before_it_signs_in_and_sets_a_strict_cookie(
    client: httpx.AsyncClient, db: Database
) -> None:
    await request_link(client, ALICE)
    link = link_in((await outbound_notices(db, ALICE))[-1])
    # A mail scanner fetching the link does not use it up.
    for _ in range(2):
        page = await client.get(path_of(link))
        assert page.status_code == 200
        assert '<button type="submit">Sign in</button>' in page.text
    signed_in = await client.post(path_of(link), data={"csrf_token": csrf_of(page)})
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/"
    cookie = next(
        value
        for name, value in signed_in.headers.multi_items()
        if name == "set-cookie" and value.startswith("__Host-listserv_session=")
    )
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= attributes
    home = await client.get("/")
    assert home.status_code == 200
    assert LIST in home.text
    secret = client.cookies["__Host-listserv_session"]
    async with db.session() as session:
        digests = (await session.scalars(select(WebSession.session_digest))).all()
    assert digests
    assert secret not in digests


async def test_a_link_works_once(client: httpx.AsyncClient, db: Database, app: FastAPI) -> None:
    await request_link(client, ALICE)
    link = link_in((await outbound_notices(db, ALICE))[-1])
    first = await use_link(client, link)
    assert first.status_code == 303
    async with client_for(app) as second_browser:
        again = await second_browser.get(path_of(link))
        assert again.status_code == 410
        assert "expired or was used already" in again.text
        form = await second_browser.get("/signin")
        reused = await second_browser.post(path_of(link), data={"csrf_token": csrf_of(form)})
        assert reused.status_code == 410
        assert "set-cookie" not in reused.headers or "listserv_session" not in str(
            reused.headers.get_list("set-cookie")
        )
        assert (await second_browser.get("/")).status_code == 303


async def test_a_link_expires_after_fifteen_minutes(
    client: httpx.AsyncClient, db: Database, clock: Clock, app: FastAPI
) -> None:
    await request_link(client, ALICE)
    early = link_in((await outbound_notices(db, ALICE))[-1])
    clock.advance(timedelta(minutes=14, seconds=59))
    async with client_for(app) as other_browser:
        assert (await use_link(other_browser, early)).status_code == 303

    await request_link(client, ALICE)
    late = link_in((await outbound_notices(db, ALICE))[-1])
    page = await client.get(path_of(late))
    clock.advance(timedelta(minutes=15))
    assert (await client.get(path_of(late))).status_code == 410
    used = await client.post(path_of(late), data={"csrf_token": csrf_of(page)})
    assert used.status_code == 410


async def test_signing_out_ends_the_session_on_the_server(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    await sign_in(client, db, ALICE)
    secret = client.cookies["__Host-listserv_session"]
    home = await client.get("/")
    out = await client.post("/signout", data={"csrf_token": csrf_of(home)})
    assert out.status_code == 303
    assert out.headers["location"] == "/signin?signed_out=1"
    assert await count(db, WebSession) == 0
    # The old cookie, replayed from elsewhere, opens nothing.
    async with client_for(app) as replay:
        replay.cookies.set("__Host-listserv_session", secret, domain="lists.example")
        refused = await replay.get(f"/lists/{LIST}/")
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/signin")


async def test_anonymous_visitors_see_only_the_sign_in_page(client: httpx.AsyncClient) -> None:
    for path in ("/", f"/lists/{LIST}/", "/search?q=phishing", f"/lists/{LIST}/held"):
        answer = await client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/signin")
    page = await client.get("/signin")
    assert page.status_code == 200
    assert LIST not in page.text
    assert "ciso" not in page.text.lower()
    # A list that does not exist is redirected just the same: existence is not confirmed.
    assert (await client.get("/lists/nothing@lists.example/")).status_code == 303


async def test_sign_in_returns_to_the_page_asked_for_and_never_elsewhere(
    client: httpx.AsyncClient, db: Database
) -> None:
    wanted = f"/lists/{LIST}/"
    redirect = await client.get(wanted)
    assert redirect.headers["location"] == f"/signin?next=/lists/{LIST}/"
    await request_link(client, ALICE, next_path=wanted)
    used = await use_link(client, link_in((await outbound_notices(db, ALICE))[-1]))
    assert used.headers["location"] == wanted

    for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        await client.post("/signout", data={"csrf_token": csrf_of(await client.get("/"))})
        await request_link(client, ALICE, next_path=hostile)
        used = await use_link(client, link_in((await outbound_notices(db, ALICE))[-1]))
        assert used.headers["location"] == "/", hostile
