"""search: a narrow index for search visibility (SQLite), tsvectors kept in the row (PostgreSQL)

Revision ID: 0005_search
Revises: 0004_web
Create Date: 2026-11-25

SQLite: search walks FTS5 matches newest first and checks each one's list,
label and AMBER+STRICT flag (archive.search). Read from archive_post itself,
that check loads a wide row (text, archive form) per match; this covering
index holds just those columns, so a reader of a small list on a server with
a large one costs index pages, not post pages.

PostgreSQL: search matches newest-first windows of posts (archive.search),
so `@@` and `ts_rank` read many posts' `search_vector`. Stored out of line
(TOAST), each read is two more index and heap lookups; `STORAGE MAIN` keeps
it compressed in the row and lets the long text and archive form move out
instead. It applies to rows written from now on; `VACUUM FULL archive_post`
rewrites the existing ones.
"""

from __future__ import annotations

from alembic import op

revision = "0005_search"
down_revision = "0004_web"
branch_labels = None
depends_on = None

# Named with a prefix listserv.db.SEARCH_OBJECTS excludes from model comparison:
# search structures are hand-written DDL, like the FTS5 table itself.
SQLITE_VISIBILITY_INDEX = "ix_archive_post_search_visible"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE INDEX {SQLITE_VISIBILITY_INDEX}"
            " ON archive_post (id, list_id, label, restricted)"
        )
    else:
        op.execute("ALTER TABLE archive_post ALTER COLUMN search_vector SET STORAGE MAIN")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP INDEX IF EXISTS {SQLITE_VISIBILITY_INDEX}")
    else:
        op.execute("ALTER TABLE archive_post ALTER COLUMN search_vector SET STORAGE EXTENDED")
