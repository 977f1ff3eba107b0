"""archive tables, with full-text search (SQLite FTS5 or PostgreSQL tsvector)

Revision ID: 0002_archive
Revises: 0001_baseline
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_archive"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("root_id", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("post_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["mailing_list.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("archive_thread", schema=None) as batch_op:
        batch_op.create_index("ix_archive_thread_recent", ["list_id", "last_at"], unique=False)

    op.create_table(
        "archive_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_message.id"],
        ),
        sa.ForeignKeyConstraint(["list_id"], ["mailing_list.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("archive_hold", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_archive_hold_inbound_id"), ["inbound_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_archive_hold_list_id"), ["list_id"], unique=False)

    op.create_table(
        "archive_message_index",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("keyed_id", sa.String(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["list_id"], ["mailing_list.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["thread_id"], ["archive_thread.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("list_id", "keyed_id"),
    )
    with op.batch_alter_table("archive_message_index", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_archive_message_index_thread_id"), ["thread_id"], unique=False
        )

    op.create_table(
        "archive_participant",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("member_digest", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["archive_thread.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("thread_id", "member_digest"),
        sa.UniqueConstraint("thread_id", "label"),
    )
    op.create_table(
        "archive_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("parent_post_id", sa.Integer(), nullable=True),
        sa.Column("in_reply_to", sa.String(), nullable=True),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("participant", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("form", sa.LargeBinary(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["mailing_list.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["thread_id"], ["archive_thread.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("list_id", "message_id"),
    )
    with op.batch_alter_table("archive_post", schema=None) as batch_op:
        batch_op.create_index("ix_archive_post_thread", ["thread_id", "seq"], unique=False)

    op.create_table(
        "archive_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["archive_post.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("archive_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_archive_attachment_post_id"), ["post_id"], unique=False
        )

    op.create_table(
        "archive_reader",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("reader_digest", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["archive_post.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "reader_digest"),
    )
    _create_search()


SQLITE_SEARCH = [
    # An external-content FTS5 table over archive_post (subject, text), kept in
    # step by triggers; diacritics are folded so "Muller" finds "Müller".
    """CREATE VIRTUAL TABLE archive_fts USING fts5(
        subject, text, content='archive_post', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER archive_post_ai AFTER INSERT ON archive_post BEGIN
        INSERT INTO archive_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text);
    END""",
    """CREATE TRIGGER archive_post_ad AFTER DELETE ON archive_post BEGIN
        INSERT INTO archive_fts(archive_fts, rowid, subject, text)
        VALUES ('delete', old.id, old.subject, old.text);
    END""",
    """CREATE TRIGGER archive_post_au AFTER UPDATE OF subject, text ON archive_post BEGIN
        INSERT INTO archive_fts(archive_fts, rowid, subject, text)
        VALUES ('delete', old.id, old.subject, old.text);
        INSERT INTO archive_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text);
    END""",
]

POSTGRES_SEARCH = [
    # The 'simple' configuration: the community writes in many languages, so
    # no single stemmer fits; unaccent is not assumed to be installed.
    """ALTER TABLE archive_post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(subject, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(text, '')), 'B')) STORED""",
    "CREATE INDEX ix_archive_post_search ON archive_post USING gin (search_vector)",
]


def _create_search() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_SEARCH if dialect == "sqlite" else POSTGRES_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("archive_post_ai", "archive_post_ad", "archive_post_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS archive_fts")
    op.drop_table("archive_reader")
    with op.batch_alter_table("archive_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_attachment_post_id"))

    op.drop_table("archive_attachment")
    with op.batch_alter_table("archive_post", schema=None) as batch_op:
        batch_op.drop_index("ix_archive_post_thread")

    op.drop_table("archive_post")
    op.drop_table("archive_participant")
    with op.batch_alter_table("archive_message_index", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_message_index_thread_id"))

    op.drop_table("archive_message_index")
    with op.batch_alter_table("archive_hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_hold_list_id"))
        batch_op.drop_index(batch_op.f("ix_archive_hold_inbound_id"))

    op.drop_table("archive_hold")
    with op.batch_alter_table("archive_thread", schema=None) as batch_op:
        batch_op.drop_index("ix_archive_thread_recent")

    op.drop_table("archive_thread")
