"""The web app inside the real `listserv serve`: bound port, mail by the real relay, shutdown."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from listserv.config import Settings, load_settings
from listserv.db import Database
from listserv.models import NonMemberPolicy
from tests.conftest import ALICE, BOB, LIST, MEMBERS
from tests.support.mail import post, send
from tests.support.relay import RecordingRelay
from tests.support.server import prepare, running, write_config
from tests.web.helpers import csrf_of, path_of, wait_for_archived, wait_for_link


@pytest.fixture
def http_settings(tmp_path, relay: RecordingRelay) -> Settings:  # type: ignore[no-untyped-def]
    # An http base URL: the test client talks plain HTTP to 127.0.0.1, and
    # Secure cookies would not come back over it.
    return load_settings(
        write_config(
            tmp_path, relay_port=relay.port, extra={"web": {"base_url": "http://127.0.0.1"}}
        )
    )


async def test_serve_runs_the_web_app_and_signs_in_through_the_relay(
    http_settings: Settings, relay: RecordingRelay, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await prepare(http_settings, lists={LIST: MEMBERS}, nonmember=NonMemberPolicy.HOLD)
    db = Database(http_settings.database_url)
    try:
        async with running(http_settings) as server:
            assert server.web_port
            await send(
                server.smtp_port,
                post(f"Alice Müller <{ALICE.email}>", LIST),
                mail_from=ALICE.email,
                recipients=[LIST],
            )
            [archived] = await wait_for_archived(db, 1)
            base = f"http://127.0.0.1:{server.web_port}"
            async with httpx.AsyncClient(base_url=base) as browser:
                form = await browser.get("/signin")
                assert form.status_code == 200
                await browser.post(
                    "/signin", data={"email": BOB.email, "csrf_token": csrf_of(form)}
                )
                link = await wait_for_link(relay, BOB.email)
                assert link.startswith("http://127.0.0.1/signin/link/")
                page = await browser.get(path_of(link))
                used = await browser.post(path_of(link), data={"csrf_token": csrf_of(page)})
                assert used.status_code == 303
                thread = await browser.get(f"/lists/{LIST}/threads/{archived.token}")
                assert thread.status_code == 200
                assert "Participant A" in thread.text
                assert "Alice" not in thread.text
                # An idle keep-alive connection stays open while the server stops.
                stopping = asyncio.get_running_loop().time()
                await server.stop()
                assert asyncio.get_running_loop().time() - stopping < 10
                with pytest.raises(httpx.ConnectError):
                    await browser.get("/signin")
    finally:
        await db.dispose()
    # No access log: nothing ties a client address to an archive path.
    assert not [r for r in caplog.records if r.name.startswith("uvicorn.access")]
    server_side = ("uvicorn", "listserv", "fastapi", "starlette")
    for record in caplog.records:
        if record.levelno >= logging.INFO and record.name.startswith(server_side):
            assert "/lists/" not in record.getMessage(), record.getMessage()
            assert "/signin/link/" not in record.getMessage(), record.getMessage()
