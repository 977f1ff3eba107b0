"""web: sign-in links, sessions and rate-limit records (digests only)

Revision ID: 0004_web
Revises: 0003_moderation
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_web"
down_revision = "0003_moderation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_signin_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.Text(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("next_path", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
    )
    with op.batch_alter_table("web_signin_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_signin_token_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_digest", sa.Text(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_digest"),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "web_rate_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_rate_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_rate_event_at"), ["at"], unique=False)
        batch_op.create_index("ix_web_rate_event_bucket_at", ["bucket", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_rate_event", schema=None) as batch_op:
        batch_op.drop_index("ix_web_rate_event_bucket_at")
        batch_op.drop_index(batch_op.f("ix_web_rate_event_at"))
    op.drop_table("web_rate_event")
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_session_expires_at"))
    op.drop_table("web_session")
    with op.batch_alter_table("web_signin_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_signin_token_expires_at"))
    op.drop_table("web_signin_token")
