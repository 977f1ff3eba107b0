"""Rate limits on sign-in: per address (members and strangers alike) and per client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI

from listserv.db import Database
from listserv.web.ratelimit import Limit, WebLimits
from tests.web.conftest import ALICE, client_for
from tests.web.helpers import Clock, csrf_of, outbound_notices, request_link

UNKNOWN = "mallory@outside.example"


@pytest.fixture
def limits() -> WebLimits:
    return WebLimits(
        links_per_address=Limit(5, timedelta(hours=1)),
        requests_per_client=Limit(8, timedelta(minutes=10)),
    )


@pytest.mark.parametrize("address", [ALICE, UNKNOWN])
async def test_links_per_address_are_limited_alike_for_members_and_strangers(
    app: FastAPI, db: Database, clock: Clock, address: str
) -> None:
    answers = []
    for attempt in range(6):
        # Different clients, so only the per-address limit applies.
        async with client_for(app, f"192.0.2.{attempt + 1}") as browser:
            form = await browser.get("/signin")
            sent = await browser.post(
                "/signin", data={"email": address, "csrf_token": csrf_of(form), "next": "/"}
            )
            answers.append(sent.status_code)
    assert answers == [200] * 5 + [429]
    assert "too many sign-in requests" in sent.text
    assert len(await outbound_notices(db, address)) == (5 if address == ALICE else 0)
    clock.advance(timedelta(hours=1, seconds=1))
    async with client_for(app, "192.0.2.99") as browser:
        assert (await request_link(browser, address)).startswith("<!doctype html>")


async def test_requests_per_client_are_limited(app: FastAPI, clock: Clock) -> None:
    async with client_for(app, "198.51.100.7") as browser:
        form = await browser.get("/signin")
        statuses = []
        for number in range(9):
            sent = await browser.post(
                "/signin",
                data={"email": f"x{number}@outside.example", "csrf_token": csrf_of(form)},
            )
            statuses.append(sent.status_code)
        assert statuses == [200] * 8 + [429]
        assert sent.headers["content-type"].startswith("text/html")
    async with client_for(app, "198.51.100.8") as neighbour:
        assert "Check your mail" in await request_link(neighbour, ALICE)
