"""Readiness assessments: the initiative, the answers the user chose, and the last scorecard (as the
API returns it), optionally tied to a conversation whose answers then use it (its weak topics are
kept on the conversation, so a turn reads them with the conversation).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("api_key_id", sa.String(length=128), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("initiative", sa.Text(), nullable=False),
        sa.Column("chosen", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_assessments_conversation_id", "assessments", ["conversation_id"])
    # The weak topics of the conversation's assessment, read with the conversation on every turn.
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("readiness", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("readiness")
    op.drop_index("ix_assessments_conversation_id", table_name="assessments")
    op.drop_table("assessments")
