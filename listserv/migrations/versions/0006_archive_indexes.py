"""archive: a sequence counter per list, and the thread list by label

Revision ID: 0006_archive_indexes
Revises: 0005_search
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_archive_indexes"
down_revision = "0005_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # archive.store numbered posts with max(seq) over the list's posts, which
    # read every post of the list (over a second at 100,000 posts); a counter
    # row per list makes it one update.
    op.create_table(
        "archive_sequence",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["mailing_list.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("list_id"),
    )
    op.execute(
        "INSERT INTO archive_sequence (list_id, last_seq)"
        " SELECT list_id, max(seq) FROM archive_post GROUP BY list_id"
    )
    op.create_index("ix_archive_thread_label", "archive_thread", ["list_id", "label"])


def downgrade() -> None:
    op.drop_index("ix_archive_thread_label", table_name="archive_thread")
    op.drop_table("archive_sequence")
