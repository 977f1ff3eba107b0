"""Fixtures for the web tests: a migrated SQLite database, lists, the app, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from listserv.config import Settings, load_settings
from listserv.db import Database
from listserv.keys import Keys
from listserv.web.app import create_app
from listserv.web.ratelimit import WebLimits
from tests.support.server import write_config
from tests.web.helpers import Clock, add_list

LIST = "ciso@lists.example"
OTHER = "board@lists.example"
ALICE = "alice@operator-a.example"
BOB = "bob@operator-b.example"  # moderator of LIST
CAROL = "carol@cert-c.example"
DAVE = "dave@operator-d.example"  # member of OTHER only
BASE = "https://lists.example"


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    return load_settings(write_config(tmp_path, extra={"web": {"base_url": BASE}}))


@pytest.fixture
async def db(web_settings: Settings) -> AsyncIterator[Database]:
    database = Database(web_settings.database_url)
    await database.migrate()
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def keys(web_settings: Settings) -> Keys:
    Keys.create(web_settings.secret_key_path)
    return Keys.load(web_settings.secret_key_path)


@pytest.fixture
async def lists(db: Database) -> None:
    await add_list(db, LIST, [(ALICE, "member"), (BOB, "moderator"), (CAROL, "member")])
    await add_list(db, OTHER, [(DAVE, "member")])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limits() -> WebLimits:
    return WebLimits()


@pytest.fixture
def app(
    web_settings: Settings, db: Database, keys: Keys, clock: Clock, limits: WebLimits, lists: None
) -> FastAPI:
    return create_app(web_settings, db, keys, clock=clock, limits=limits)


def client_for(app: FastAPI, address: str = "192.0.2.10") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE, follow_redirects=False)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as browser:
        yield browser
