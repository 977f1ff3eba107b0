"""moderation: hold rules, tokens, decisions, notice limits

Revision ID: 0003_moderation
Revises: 0002_archive
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_moderation"
down_revision = "0002_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_log",
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", "kind"),
    )
    op.create_table(
        "moderation_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("token_digest", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_message.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
    )
    with op.batch_alter_table("moderation_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_moderation_token_inbound_id"), ["inbound_id"], unique=False
        )

    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moderated_by", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column("moderation_reason", sa.String(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("moderation_via", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("bytes_deleted_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("preview_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("preview_flags", sa.JSON(), nullable=False, server_default="[]")
        )

    with op.batch_alter_table("mailing_list", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "first_post_moderated", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("soft_size_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("allowed_attachment_types", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "require_authentication", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("token_expiry_days", sa.Integer(), nullable=False, server_default="14")
        )
        batch_op.add_column(
            sa.Column("held_retention_days", sa.Integer(), nullable=False, server_default="30")
        )

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("moderated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("posts_accepted", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("posts_accepted")
        batch_op.drop_column("moderated")

    with op.batch_alter_table("mailing_list", schema=None) as batch_op:
        batch_op.drop_column("held_retention_days")
        batch_op.drop_column("token_expiry_days")
        batch_op.drop_column("require_authentication")
        batch_op.drop_column("allowed_attachment_types")
        batch_op.drop_column("soft_size_limit")
        batch_op.drop_column("first_post_moderated")

    with op.batch_alter_table("inbound_message", schema=None) as batch_op:
        batch_op.drop_column("preview_flags")
        batch_op.drop_column("preview_text")
        batch_op.drop_column("bytes_deleted_at")
        batch_op.drop_column("held_at")
        batch_op.drop_column("moderation_via")
        batch_op.drop_column("moderation_reason")
        batch_op.drop_column("moderated_by")

    op.create_table(
        "archive_fts_data",
        sa.Column("id", sa.INTEGER(), nullable=True),
        sa.Column("block", sa.BLOB(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "archive_fts_config",
        sa.Column("k", sa.NullType(), nullable=False),
        sa.Column("v", sa.NullType(), nullable=True),
        sa.PrimaryKeyConstraint("k"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "archive_fts_docsize",
        sa.Column("id", sa.INTEGER(), nullable=True),
        sa.Column("sz", sa.BLOB(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "archive_fts",
        sa.Column("subject", sa.NullType(), nullable=True),
        sa.Column("text", sa.NullType(), nullable=True),
    )
    op.create_table(
        "archive_fts_idx",
        sa.Column("segid", sa.NullType(), nullable=False),
        sa.Column("term", sa.NullType(), nullable=False),
        sa.Column("pgno", sa.NullType(), nullable=True),
        sa.PrimaryKeyConstraint("segid", "term"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("moderation_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderation_token_inbound_id"))

    op.drop_table("moderation_token")
    op.drop_table("notice_log")
