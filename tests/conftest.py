"""Shared fixtures: a recording relay, a configured workspace, the real server."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from listserv.config import Settings, load_settings
from listserv.db import Database
from tests.support.postgres import PostgresServer
from tests.support.relay import RecordingRelay
from tests.support.server import MemberSpec, write_config

LIST = "ciso@lists.example"
ALICE = MemberSpec(
    "alice@operator-a.example", "Alice Müller", "Operator A GmbH", ("operator-a.example",)
)
BOB = MemberSpec(
    "bob@operator-b.example", "Bob Brown", "Operator B Ltd", ("operator-b.example",), "moderator"
)
CAROL = MemberSpec("carol@cert-c.example", "Carol Jones", "CERT C", ("cert-c.example",))
MEMBERS = (ALICE, BOB, CAROL)


@pytest.fixture
async def relay() -> AsyncIterator[RecordingRelay]:
    sink = await RecordingRelay().start()
    try:
        yield sink
    finally:
        await sink.stop()


@pytest.fixture
def config_path(tmp_path: Path, relay: RecordingRelay) -> Path:
    return write_config(tmp_path, relay_port=relay.port)


@pytest.fixture
def settings(config_path: Path) -> Settings:
    return load_settings(config_path)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """A second connection to the server's database, for looking at its rows."""
    database = Database(settings.database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer.start()
    except (FileNotFoundError, subprocess.CalledProcessError, RuntimeError) as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL server could be started here: {error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database()
