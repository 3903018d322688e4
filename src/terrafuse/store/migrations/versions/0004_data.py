"""Data items and their files (uploads, their analysis and where their bytes are).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from terrafuse.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _organisation_fk() -> sa.Column:
    return sa.Column(
        "organisation_id",
        sa.String(36),
        sa.ForeignKey("organisations.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "data",
        sa.Column("id", sa.String(36), primary_key=True),
        _organisation_fk(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("uploaded", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    # Key-set pages of an organisation's data items: (created_at, id).
    op.create_index("ix_data_org_created", "data", ["organisation_id", "created_at", "id"])
    op.create_table(
        "data_files",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("data_id", sa.String(36), sa.ForeignKey("data.id", ondelete="CASCADE"), nullable=False),
        _organisation_fk(),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("file_type", sa.String(32), nullable=False),
        sa.Column("object_key", sa.String(400), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        # Only the task holding the current token may record a result or beat.
        sa.Column("analysis_token", sa.String(36), nullable=True),
        sa.Column("analysis_heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("analysis_attempts", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("publishable", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("detected_type", sa.String(32), nullable=True),
        sa.Column("crs", sa.Text(), nullable=True),
        sa.Column("bounds", sa.JSON(), nullable=True),
        sa.Column("area", sa.Float(), nullable=True),
        sa.Column("length", sa.Float(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=True),
        sa.Column("polygons", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Float(), nullable=True),
        sa.Column("selectors", sa.JSON(), nullable=True),
        sa.Column("geojson", sa.Text(), nullable=True),
        sa.Column("csv_columns", sa.JSON(), nullable=True),
        sa.Column("csv_rows", sa.BigInteger(), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=True),
    )
    op.create_index("ix_data_files_data_created", "data_files", ["data_id", "created_at", "id"])
    # The daily storage charge sums stored bytes per organisation.
    op.create_index("ix_data_files_org", "data_files", ["organisation_id"])


def downgrade() -> None:
    op.drop_table("data_files")
    op.drop_table("data")
