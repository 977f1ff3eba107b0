"""The database: one async engine, sessions, and schema migrations.

SQLite is the embedded default: WAL mode with `synchronous=FULL`, so a commit
is on disk before we answer `250` (DESIGN: an accepted message is never
lost), and readers never block the writer. PostgreSQL (asyncpg) serves
several processes; work is then claimed with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from listserv.errors import ConfigError
from listserv.write_lock import WriteLock

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


def async_url(url: str) -> str:
    """The configured URL with the async driver this project uses."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError(f"[database] url is not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ConfigError(f"[database] url must be sqlite:/// or postgresql://, not {backend}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """The engine and a session factory; created at the edge, passed down."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        options: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            options.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        # SQLite has one writer at a time: see listserv/write_lock.py.
        self.write_lock: WriteLock | None = WriteLock() if self.is_sqlite else None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._sync_engine: Engine | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on leaving, rolled back on error."""
        async with self.writing(), self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def writing(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Hold this process's turn to write (SQLite); a no-op on PostgreSQL."""
        if self.write_lock is None:
            yield
            return
        async with self.write_lock.turn(urgent=urgent):
            yield

    async def write(self, work: Callable[[Session], T], *, urgent: bool = False) -> T:
        """Run `work` in one write transaction and return what it returns.

        Write transactions are plain functions on a blocking Session. On
        SQLite they run on this process's writer thread, one hop from the
        event loop for the whole transaction rather than one per statement,
        so the lock SQLite has one of is held for as short a time as the
        statements take. On PostgreSQL they run through the async driver
        (`run_sync`), and several processes write side by side.
        """
        if not self.is_sqlite:
            async with self._sessions() as session, session.begin():
                return await session.run_sync(work)
        async with self.writing(urgent=urgent):
            return await asyncio.get_running_loop().run_in_executor(
                self._writer, self._write_blocking, work
            )

    def _write_blocking(self, work: Callable[[Session], T]) -> T:
        if self._sync_engine is None:
            self._sync_engine = self._blocking_engine()
        with Session(self._sync_engine, expire_on_commit=False) as session, session.begin():
            return work(session)

    def _blocking_engine(self) -> Engine:
        sync_url = self.url.replace("sqlite+aiosqlite", "sqlite", 1)
        engine = create_engine(sync_url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade)

    async def revision(self) -> str | None:
        async with self.engine.connect() as connection:
            return await connection.run_sync(_current_revision)

    async def dispose(self) -> None:
        await self.engine.dispose()
        await asyncio.get_running_loop().run_in_executor(None, self._dispose_writer)

    def _dispose_writer(self) -> None:
        self._writer.shutdown(wait=True)
        if self._sync_engine is not None:
            self._sync_engine.dispose()


SEARCH_OBJECTS = ("archive_fts", "search_vector", "ix_archive_post_search")


def include_object(
    obj: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter: full-text search objects come from hand-written DDL, not models."""
    return not (name is not None and name.startswith(SEARCH_OBJECTS))


def alembic_config(connection: Connection | AsyncConnection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def require_current_schema(db: Database) -> None:
    """ConfigError unless the database has the schema this version needs."""
    try:
        current = await db.revision()
    except Exception as error:
        raise ConfigError(f"cannot open the database {db.url!r}: {error}") from None
    if current is None:
        raise ConfigError("the database is not set up yet; run `listserv init` first")
    if current != head_revision():
        raise ConfigError(
            f"the database schema is at {current}, this listserv needs {head_revision()};"
            " run `listserv init` to upgrade it"
        )
