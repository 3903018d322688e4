"""Processes, their executions' group/price/expiry columns, components, and output data links.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from terrafuse.store.tables import CreditAmount, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.String(36),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("service_key", sa.String(100), nullable=False),
        sa.Column("service_id", sa.String(36), nullable=False),
        sa.Column("ssd_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("ogc_inputs", sa.JSON(), nullable=True),
        sa.Column("run_type", sa.String(16), nullable=False),
        sa.Column("repeat_count", sa.Integer(), nullable=False),
        sa.Column("repeat_start", UTCDateTime(), nullable=False),
        sa.Column("repeat_end", UTCDateTime(), nullable=True),
        sa.Column("repeat_gap", sa.Text(), nullable=True),
        sa.Column("repeat_offset", sa.Text(), nullable=True),
        sa.Column("output_storage_period", sa.Integer(), nullable=False),
        sa.Column("process_status", sa.String(16), nullable=False),
        sa.Column("process_status_at", UTCDateTime(), nullable=False),
        sa.Column("process_status_changed_by", sa.String(36), nullable=True),
        sa.Column("price", CreditAmount(), nullable=False),
        sa.Column("area_km2", sa.Float(), nullable=False),
        sa.Column("slices", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("next_run_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_processes_org_created", "processes", ["organisation_id", "created_at", "id"])
    op.create_index("ix_processes_next_run", "processes", ["next_run_at"])

    # Plain columns (no foreign keys): SQLite adds them without rebuilding the table; the use
    # cases delete a process's executions and an execution's data themselves.
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("process_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("group_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("group_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("group_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("aggregator", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("price", CreditAmount(), nullable=True))
        batch.add_column(sa.Column("delete_expiry", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("delete_warning_status", sa.String(16), nullable=False, server_default="none")
        )
        batch.add_column(sa.Column("stopped", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("executed_by", sa.String(36), nullable=True))
        batch.add_column(sa.Column("notified_at", UTCDateTime(), nullable=True))
    op.create_index("ix_executions_process_id", "executions", ["process_id"])
    op.create_index("ix_executions_group_id", "executions", ["group_id"])

    with op.batch_alter_table("execution_logs") as batch:
        batch.add_column(sa.Column("component_id", sa.String(36), nullable=True))
    op.create_index("ix_execution_logs_component_id", "execution_logs", ["component_id"])

    with op.batch_alter_table("data") as batch:
        batch.add_column(sa.Column("execution_id", sa.String(36), nullable=True))
    op.create_index("ix_data_execution_id", "data", ["execution_id"])

    op.create_table(
        "components",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "execution_id",
            sa.String(36),
            sa.ForeignKey("executions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("chain_index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("runtime", sa.Float(), nullable=True),
        sa.Column("cpu", sa.Float(), nullable=True),
        sa.Column("memory", sa.Integer(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
    )
    op.create_index("ix_components_execution", "components", ["execution_id", "chain_index"])
    op.create_index("ix_components_organisation_id", "components", ["organisation_id"])


def downgrade() -> None:
    op.drop_table("components")
    op.drop_index("ix_data_execution_id", "data")
    with op.batch_alter_table("data") as batch:
        batch.drop_column("execution_id")
    op.drop_index("ix_execution_logs_component_id", "execution_logs")
    with op.batch_alter_table("execution_logs") as batch:
        batch.drop_column("component_id")
    op.drop_index("ix_executions_group_id", "executions")
    op.drop_index("ix_executions_process_id", "executions")
    with op.batch_alter_table("executions") as batch:
        for name in (
            "notified_at", "executed_by", "stopped", "delete_warning_status", "delete_expiry",
            "price", "aggregator", "group_count", "group_index", "group_id", "process_id",
        ):  # fmt: skip
            batch.drop_column(name)
    op.drop_table("processes")
