"""Conversations remember the channel they came from (api, widget, slack, openai, cli...), so how long
they are kept can differ by channel (settings: retention).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Conversations from before this revision have no recorded channel (NULL): only a purge without a
    # channel, or one by age alone, reaches them.
    with op.batch_alter_table("conversations") as table:
        table.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_conversations_updated_at", table_name="conversations")
    with op.batch_alter_table("conversations") as table:
        table.drop_column("channel")
