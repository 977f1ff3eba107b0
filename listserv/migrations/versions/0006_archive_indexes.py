"""archive indexes: the next sequence number and the thread list by label

Revision ID: 0006_archive_indexes
Revises: 0005_search
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0006_archive_indexes"
down_revision = "0005_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # archive.store numbers posts with max(seq) per list: without this index
    # that scanned every post of the list (over a second at 100,000 posts).
    op.create_index("ix_archive_post_list_seq", "archive_post", ["list_id", "seq"])
    op.create_index("ix_archive_thread_label", "archive_thread", ["list_id", "label"])


def downgrade() -> None:
    op.drop_index("ix_archive_thread_label", table_name="archive_thread")
    op.drop_index("ix_archive_post_list_seq", table_name="archive_post")
