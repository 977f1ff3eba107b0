"""Migration 0004_web matches the web's SQLModel tables; start_web refuses a busy port clearly."""

from __future__ import annotations

import asyncio
import socket

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import listserv.web.models  # noqa: F401  (registers the web tables)
from listserv.config import Settings, settings_from_dict
from listserv.db import Database, head_revision
from listserv.directory import Directory
from listserv.errors import ConfigError
from listserv.keys import Keys
from listserv.web.server import start_web

WEB_TABLES = {"web_signin_token", "web_session", "web_rate_event"}


def _differences(connection: Connection) -> list[object]:
    """What autogenerate would change in the web tables (the FTS tables are hand-made DDL)."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    found = compare_metadata(context, SQLModel.metadata)
    return [d for d in found if any(table in repr(d) for table in WEB_TABLES)]


async def test_the_migration_creates_exactly_the_modelled_web_tables(db: Database) -> None:
    assert await db.revision() == head_revision()
    async with db.engine.connect() as connection:
        tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        assert tables >= WEB_TABLES
        assert await connection.run_sync(_differences) == []


async def test_a_busy_web_port_is_one_clear_error(web_settings: Settings, keys: Keys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = settings_from_dict(
            {
                "database": {"url": web_settings.database.url},
                "web": {"host": "127.0.0.1", "port": port},
                "security": {"secret_key_file": str(web_settings.secret_key_path)},
            },
            source="test",
            base_dir=web_settings.base_dir,
        )
        db = Database(settings.database_url)
        try:
            with pytest.raises(ConfigError, match=rf"\[web\] cannot listen on 127.0.0.1:{port}"):
                await start_web(settings, db, Directory(db), keys, asyncio.Event())
        finally:
            await db.dispose()
