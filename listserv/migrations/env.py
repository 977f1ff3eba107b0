"""Alembic environment: migrations run on the connection the server hands in.

`listserv init` (and `serve`) call `Database.migrate()`, which passes its own
connection in `config.attributes["connection"]`; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import archive.models  # noqa: F401  (registers the archive tables)
import listserv.models
import listserv.web.models  # noqa: F401  (registers the web tables)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through listserv.db.Database.migrate()")


def include_object(
    obj: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    # The full-text tables are made by hand-written DDL (0002_archive), not models.
    return not (kind == "table" and name is not None and name.startswith("archive_fts"))


context.configure(
    connection=connection,
    include_object=include_object,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
