"""SQLAlchemy table models. Private to ``store``: rows never leave it (repositories map them)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; naive values are refused (they are a bug upstream)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of all tables."""


class CreditAmount(TypeDecorator[Decimal]):
    """Credits, exact on every backend: NUMERIC(20, 6) on PostgreSQL, integer micro-credits on SQLite.

    SQLite has no exact decimal type (NUMERIC columns hold doubles, so ``balance - 0.1`` drifts);
    its 64-bit integers are exact, and ``balance - :x`` / ``SUM(amount)`` stay integer arithmetic.
    """

    impl = Numeric(20, 6)
    cache_ok = True
    _SCALE = 6  # = terrafuse.core.credits.CREDIT_PLACES (tables stay free of core imports)

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """BIGINT micro-credits on SQLite, NUMERIC(20, 6) elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(20, self._SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Decimal | int | None:
        """Store exactly; floats are refused (they are a bug upstream)."""
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("float given as credits")
        number = Decimal(value)
        if dialect.name == "sqlite":
            micro = number.scaleb(self._SCALE)
            if micro != micro.to_integral_value():
                raise ValueError(f"{value} has more than {self._SCALE} decimal places")
            return int(micro)
        return number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Decimals with exactly six places."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self._SCALE)
        return Decimal(value).quantize(Decimal(1).scaleb(-self._SCALE))


class OrganisationRow(Base):
    """An organisation (tenant)."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    namespace: Mapped[str] = mapped_column(String(63), unique=True)
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Since 0002 (accounts): the Fusion organisation fields.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    address_line_1: Mapped[str] = mapped_column(String(200), default="", server_default="")
    address_line_2: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address_town_city: Mapped[str] = mapped_column(String(200), default="", server_default="")
    address_post_zip_code: Mapped[str] = mapped_column(String(200), default="", server_default="")
    address_country: Mapped[str] = mapped_column(String(200), default="", server_default="")
    maximum_output_storage_period: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ExecutionRow(Base):
    """An execution (OGC job)."""

    __tablename__ = "executions"
    __table_args__ = (
        Index("ix_executions_org_created", "organisation_id", "created_at"),
        Index("ix_executions_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    service_id: Mapped[str] = mapped_column(String(100))
    service_version: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Since 0006 (processes): the run of a process this execution belongs to, its slice of a
    # group, its share of the price and when its outputs are deleted.
    process_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    group_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    group_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    group_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    aggregator: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    price: Mapped[Decimal | None] = mapped_column(CreditAmount(), nullable=True)
    delete_expiry: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delete_warning_status: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    stopped: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    executed_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ExecutionTaskRow(Base):
    """Progress of one parallel unit of an execution (combined into the execution's progress)."""

    __tablename__ = "execution_tasks"

    execution_id: Mapped[str] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)


class ExecutionLogRow(Base):
    """A log line of an execution."""

    __tablename__ = "execution_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"), index=True)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message: Mapped[str] = mapped_column(Text)
    # Since 0006: the component that wrote the line (None: the execution itself).
    component_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


class UserRow(Base):
    """A user account. ``email`` is stored lower-case (unique regardless of case)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    given_name: Mapped[str] = mapped_column(String(100), default="")
    family_name: Mapped[str] = mapped_column(String(100), default="")
    telephone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    role: Mapped[int] = mapped_column(Integer, default=0)
    default_output_storage_period: Mapped[int] = mapped_column(Integer, default=30)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(20), default="en")
    units: Mapped[str] = mapped_column(String(16), default="metric")
    # {"notification_account": ["email"], ...}: channel lists per notification kind.
    notifications: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_request_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MembershipRow(Base):
    """A user's privileges in an organisation (``privileges``: comma-separated names)."""

    __tablename__ = "memberships"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    privileges: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SessionRow(Base):
    """A signed-in session. Only SHA-256 hashes of its tokens are stored, never the tokens."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LoginAttemptRow(Base):
    """One sign-in attempt, counted per key (``user:<email>`` or ``ip:<address>``) to throttle."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "attempted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    success: Mapped[bool] = mapped_column(Boolean)


class CreditAccountRow(Base):
    """An organisation's available credits; the row every spending transaction updates (and locks)."""

    __tablename__ = "credit_accounts"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    balance: Mapped[Decimal] = mapped_column(CreditAmount())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CreditHoldRow(Base):
    """An open reservation: exists from ``reserve`` until ``settle`` or ``release`` deletes it."""

    __tablename__ = "credit_holds"
    __table_args__ = (CheckConstraint("amount > 0", name="ck_credit_holds_amount_positive"),)

    reference: Mapped[str] = mapped_column(String(100), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(CreditAmount())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CreditEntryRow(Base):
    """One ledger entry; ``amount`` is its signed effect on the available balance.

    (organisation, kind, reference) is unique, so a reference is charged, refunded, reserved or
    released at most once, and a retried daily job or webhook cannot count twice.
    """

    __tablename__ = "credit_entries"
    __table_args__ = (
        UniqueConstraint("organisation_id", "kind", "reference", name="uq_credit_entries_org_kind_ref"),
        Index("ix_credit_entries_org_created", "organisation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(CreditAmount())
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DataRow(Base):
    """A data item: a named set of files of one organisation (since 0004)."""

    __tablename__ = "data"
    __table_args__ = (Index("ix_data_org_created", "organisation_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    uploaded: Mapped[bool] = mapped_column(Boolean, default=True)
    # Since 0006: the execution whose component produced it (deleted with the execution).
    execution_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DataFileRow(Base):
    """One file of a data item: where its bytes are, its upload/analysis state and the analysis.

    ``organisation_id`` repeats the data item's so tenant checks and the stored-bytes sum need no
    join. The analysis columns stay null until ``state`` is ``analysed``.
    """

    __tablename__ = "data_files"
    __table_args__ = (
        Index("ix_data_files_data_created", "data_id", "created_at", "id"),
        Index("ix_data_files_org", "organisation_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    data_id: Mapped[str] = mapped_column(ForeignKey("data.id", ondelete="CASCADE"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_type: Mapped[str] = mapped_column(String(32))
    object_key: Mapped[str] = mapped_column(String(400))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stored_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    analysis_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    analysis_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    analysis_attempts: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    publishable: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    detected_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    crs: Mapped[str | None] = mapped_column(Text, nullable=True)
    bounds: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    area: Mapped[float | None] = mapped_column(Float, nullable=True)
    length: Mapped[float | None] = mapped_column(Float, nullable=True)
    points: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lines: Mapped[int | None] = mapped_column(Integer, nullable=True)
    polygons: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolution: Mapped[float | None] = mapped_column(Float, nullable=True)
    selectors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    geojson: Mapped[str | None] = mapped_column(Text, nullable=True)
    csv_columns: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    csv_rows: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    valid: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    notes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class StorageDeletionScheduleRow(Base):
    """An organisation's stored files, due for deletion because it ran out of credits (since 0005).

    One row per organisation, reused when it runs out again: the schedule is active while
    ``cancelled_at`` and ``deleted_at`` are both null. ``notified_at`` is set once the
    organisation was told (so it is told once per schedule).
    """

    __tablename__ = "storage_deletion_schedules"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delete_after: Mapped[datetime] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ProcessRow(Base):
    """A process: a service configured with inputs, options and a schedule (since 0006).

    ``next_run_at`` is when the scheduler fires it next (null: not scheduled); servers claim a
    firing with a compare-and-set on it, so a firing happens once however many servers run.
    """

    __tablename__ = "processes"
    __table_args__ = (
        Index("ix_processes_org_created", "organisation_id", "created_at", "id"),
        Index("ix_processes_next_run", "next_run_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    service_key: Mapped[str] = mapped_column(String(100))
    service_id: Mapped[str] = mapped_column(String(36))
    ssd_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    ogc_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    run_type: Mapped[str] = mapped_column(String(16))
    repeat_count: Mapped[int] = mapped_column(Integer)
    repeat_start: Mapped[datetime] = mapped_column(UTCDateTime())
    repeat_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    repeat_gap: Mapped[str | None] = mapped_column(Text, nullable=True)
    repeat_offset: Mapped[str | None] = mapped_column(Text, nullable=True)
    output_storage_period: Mapped[int] = mapped_column(Integer)
    process_status: Mapped[str] = mapped_column(String(16))
    process_status_at: Mapped[datetime] = mapped_column(UTCDateTime())
    process_status_changed_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    price: Mapped[Decimal] = mapped_column(CreditAmount())
    area_km2: Mapped[float] = mapped_column(Float)
    slices: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComponentRow(Base):
    """One step of an execution's chain (a Fusion ``ProcessServiceExecution``), since 0006."""

    __tablename__ = "components"
    __table_args__ = (Index("ix_components_execution", "execution_id", "chain_index"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    chain_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    runtime: Mapped[float | None] = mapped_column(Float, nullable=True)
    cpu: Mapped[float | None] = mapped_column(Float, nullable=True)
    memory: Mapped[int | None] = mapped_column(Integer, nullable=True)
    success: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    inputs: Mapped[list[str]] = mapped_column(JSON)
    outputs: Mapped[list[str]] = mapped_column(JSON)
