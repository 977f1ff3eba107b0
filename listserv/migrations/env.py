"""Alembic environment: migrations run on the connection listserv hands in.

`listserv init` calls `Database.migrate()`, which passes its own connection in
`config.attributes["connection"]`; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import archive.models  # noqa: F401  (registers the archive tables)
import listserv.models
import listserv.web.models  # noqa: F401  (registers the web tables)
from listserv.db import include_object

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through listserv.db.Database.migrate()")

context.configure(
    connection=connection,
    include_object=include_object,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
