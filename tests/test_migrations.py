"""Issue 2: the schema comes from Alembic, and later changes migrate existing data."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import archive.models  # noqa: F401  (registers the archive tables)
import listserv.models  # noqa: F401
from listserv.db import Database, alembic_config, head_revision, include_object


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_object": include_object,
            "compare_type": True,
        },
    )
    return list(compare_metadata(context, SQLModel.metadata))


def test_a_baseline_database_with_data_upgrades_to_head(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001_baseline")
        connection.execute(
            text(
                "INSERT INTO mailing_list (address, name, tlp_floor, nonmember_policy,"
                " red_policy, archive_date_rounding, created_at)"
                " VALUES ('ciso@lists.example', 'CISO', 'AMBER', 'hold', 'allow', 'hour',"
                " '2024-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO member (list_id, email, name, organisation, org_domains, aliases,"
                " role, delivery_enabled, bounce_score, joined_at)"
                " VALUES (1, 'alice@operator-a.example', 'Alice', 'Operator A', '[]', '[]',"
                " 'owner', 1, 0, '2024-01-01 00:00:00')"
            )
        )
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
        row = connection.execute(
            text("SELECT token_expiry_days, first_post_moderated FROM mailing_list")
        ).one()
        member = connection.execute(text("SELECT moderated, posts_accepted FROM member")).one()
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert tuple(row) == (14, 0)
    assert tuple(member) == (0, 0)
    assert version == head_revision()


def test_the_models_match_the_migrations_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    with engine.connect() as connection:
        assert _differences(connection) == []
    engine.dispose()


@pytest.mark.postgres
async def test_the_models_match_the_migrations_on_postgresql(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        await db.migrate()
        await db.migrate()  # idempotent
        async with db.engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
        assert await db.revision() == head_revision()
    finally:
        await db.dispose()
