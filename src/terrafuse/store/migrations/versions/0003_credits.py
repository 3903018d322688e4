"""Credit ledger: per-organisation accounts, open holds and the ledger entries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from terrafuse.store.tables import CreditAmount, UTCDateTime

revision = "0003"
down_revision = "0002"
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
    # One row per organisation: spending is a conditional UPDATE of this row (row lock on
    # PostgreSQL, BEGIN IMMEDIATE on SQLite), so concurrent reservations cannot overdraw it.
    op.create_table(
        "credit_accounts",
        sa.Column(
            "organisation_id",
            sa.String(36),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("balance", CreditAmount(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    # Open reservations; settle/release DELETE the row, and only the caller whose DELETE found it
    # writes the entries (idempotent settlement).
    op.create_table(
        "credit_holds",
        sa.Column("reference", sa.String(100), primary_key=True),
        _organisation_fk(),
        sa.Column("amount", CreditAmount(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_credit_holds_amount_positive"),
    )
    op.create_index("ix_credit_holds_organisation_id", "credit_holds", ["organisation_id"])
    op.create_table(
        "credit_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        _organisation_fk(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount", CreditAmount(), nullable=False),
        sa.Column("reference", sa.String(100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organisation_id", "kind", "reference", name="uq_credit_entries_org_kind_ref"),
    )
    op.create_index("ix_credit_entries_org_created", "credit_entries", ["organisation_id", "created_at"])


def downgrade() -> None:
    op.drop_table("credit_entries")
    op.drop_table("credit_holds")
    op.drop_table("credit_accounts")
