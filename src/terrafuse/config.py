"""One settings tree for the whole platform (environment prefix ``TERRAFUSE_``).

Settings are plain data: the server passes them (as a dict) to workers, which build their own
connections from them. Nothing connects at import time.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Platform settings; every field can be set as ``TERRAFUSE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TERRAFUSE_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".terrafuse"), description="Folder for the SQLite file, objects, demo data."
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir.")
    storage_dir: Path | None = Field(
        default=None, description="Local object store folder; default data_dir/objects."
    )
    secret_key: str | None = Field(
        default=None,
        description="Key for signed URLs; default a random key kept in data_dir/secret.key. Set it when "
        "several servers share one store.",
    )
    dask_scheduler: str | None = Field(
        default=None, description="tcp://host:port of an existing Dask scheduler."
    )
    dask_workers: int = Field(default=2, ge=1, description="Workers of the LocalCluster the server starts.")
    dask_threads_per_worker: int = Field(default=1, ge=1)
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(default=None, description="Public root URL, when behind a proxy.")
    default_namespace: str = Field(
        default="public", description="Organisation served at /ogc-api without prefix."
    )
    demo: bool = False
    demo_resolution: float = Field(
        default=20.0, gt=0, description="Pixel size (m) of the generated demo scenes."
    )
    max_body_bytes: int = Field(default=10 * 1024 * 1024, description="Largest accepted JSON request body.")
    max_object_bytes: int = Field(
        default=5 * 1024**3, description="Largest object accepted through a signed PUT."
    )
    result_url_ttl: int = Field(default=24 * 3600, description="Lifetime (s) of signed URLs in results.")
    job_lease_seconds: float = Field(
        default=60.0, description="A running execution whose heartbeat is older than this is considered lost."
    )
    max_attempts: int = Field(
        default=2, ge=1, description="Runs of an execution before a lost worker fails it."
    )
    callback_timeout: float = 10.0
    remote_read_timeout: float = 30.0
    storage_credits_per_gb_day: Decimal = Field(
        default=Decimal("0.01"),
        ge=0,
        description="Credits charged per day for each GB (10^9 bytes) an organisation stores; 0 = free.",
    )
    storage_grace_days: float = Field(
        default=7,
        ge=0,
        description="Days an organisation out of credits keeps its stored files before they are deleted.",
    )

    stac_catalog: str | None = Field(
        default=None,
        description="URL or path of the STAC catalog (catalog.json) in which services find imagery; "
        "default: the demo catalog in the data folder.",
    )
    slice_max_km2: float = Field(
        default=600.0,
        gt=0,
        description="Regions larger than this (km²) are cut into slices that run in parallel as a group.",
    )
    scheduler_tick_seconds: float = Field(
        default=1.0, gt=0, description="How often the scheduler looks for processes due to run."
    )
    expiry_warning_hours: float = Field(
        default=24.0, ge=0, description="Warn this long before an execution's outputs are deleted."
    )
    expiry_sweep_seconds: float = Field(
        default=60.0, gt=0, description="How often expired executions are looked for (and warned about)."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail notifications.")
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_from: str = Field(default="terrafuse <noreply@localhost>", description="Sender of e-mails.")
    sms_webhook_url: str | None = Field(
        default=None, description="HTTP endpoint that sends text messages (JSON POST: to, message)."
    )

    @field_validator("data_dir", "storage_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'terrafuse.db'}"

    @property
    def resolved_storage_dir(self) -> Path:
        """The local object store folder."""
        return self.storage_dir or self.data_dir / "objects"

    @property
    def demo_stac_dir(self) -> Path:
        """Where the demo STAC catalog is generated and served from."""
        return self.data_dir / "demo" / "stac"

    @property
    def resolved_stac_catalog(self) -> str:
        """Where services search for imagery."""
        return self.stac_catalog or str(self.demo_stac_dir / "catalog.json")

    @property
    def scratch_dir(self) -> Path:
        """Scratch space for running work."""
        return self.data_dir / "scratch"

    def secret_bytes(self) -> bytes:
        """The signing key; created once in the data folder when not configured."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".secret-{secrets.token_hex(4)}")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            # link() fails if another process created the key first: theirs wins, ours is dropped.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
            tmp.unlink()
        return path.read_text().strip().encode()

    def to_wire(self) -> dict[str, Any]:
        """Plain data to hand to workers (they rebuild ``Settings`` from it)."""
        return self.model_dump(mode="json")
