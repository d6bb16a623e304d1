"""Deliveries remember what was asked, the reply posted and whether the answer went out, so a
question whose answer was cut short (a crash, a restart) is answered later instead of lost.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_events") as table:
        table.add_column(sa.Column("payload", sa.Text(), nullable=True))
        table.add_column(sa.Column("reply_ts", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
    # Everything recorded before this revision was handled when it was recorded.
    op.execute("UPDATE processed_events SET answered_at = created_at, claimed_at = created_at")
    op.create_index("ix_processed_events_answered_at", "processed_events", ["answered_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_answered_at", table_name="processed_events")
    with op.batch_alter_table("processed_events") as table:
        for column in ("attempts", "answered_at", "claimed_at", "reply_ts", "payload"):
            table.drop_column(column)
