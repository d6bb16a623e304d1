"""The corpus is a set of named sources (the bundled knowledge folder, further folders): each indexed
document remembers its source, and each source the folder it is read from, so ingesting one source
never removes another's documents.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Documents indexed before sources had names came from the default folder, `knowledge`.
    with op.batch_alter_table("indexed_documents") as table:
        table.add_column(
            sa.Column("source_name", sa.String(length=64), nullable=False, server_default="knowledge")
        )
    op.create_table(
        "corpus_sources",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("corpus_sources")
    with op.batch_alter_table("indexed_documents") as table:
        table.drop_column("source_name")
