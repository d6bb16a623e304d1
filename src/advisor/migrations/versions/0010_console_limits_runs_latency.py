"""A chat rate limit per widget key (set in the admin console; none means the widget settings'
default); the ingest runs the console starts, with their progress, so any replica can show it; how
long each answer took, for the console's latency chart; and each indexed document's topics and
updated date, for the console's document list.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("widget_keys") as batch:
        batch.add_column(sa.Column("rate_limit", sa.String(length=64), nullable=True))
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("key_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ingest_runs_started_at", "ingest_runs", ["started_at"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("latency_ms", sa.Integer(), nullable=True))
    with op.batch_alter_table("indexed_documents") as batch:
        batch.add_column(sa.Column("topics", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("updated", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("indexed_documents") as batch:
        batch.drop_column("updated")
        batch.drop_column("topics")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("latency_ms")
    op.drop_index("ix_ingest_runs_started_at", table_name="ingest_runs")
    op.drop_table("ingest_runs")
    with op.batch_alter_table("widget_keys") as batch:
        batch.drop_column("rate_limit")
