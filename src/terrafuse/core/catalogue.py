"""The platform face of a service: what the Fusion-style catalogue shows and a Process configures.

A service that users run over a region (Elevation, cloud classification, ...) describes its
numbered file inputs, its typed options (with the validation mini-language of
``terrafuse.core.options``), its price formula, the names of the components its executions are
made of, and whether large regions are sliced into a group. The OGC face of the same service is
derived from this (``terrafuse.core.options.ogc_inputs``): one registry serves both APIs.

Pure data, no I/O.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# ssd_ids are UUIDv5 of the service's stable key in this namespace: stable across versions and
# installations, so scripts that pin an ssd_id keep working.
SSD_NAMESPACE = uuid.UUID("6f1d3c1e-93b4-4a8e-9a57-0c1f6c2b7e41")
PRICE_PLACES = Decimal("0.000001")


def ssd_id_for(key: str) -> str:
    """The stable ssd_id of the service with this key (e.g. ``"elevation"``)."""
    return str(uuid.uuid5(SSD_NAMESPACE, f"ssd:{key}"))


def service_id_for(key: str, version: str) -> str:
    """The id of one version of a service."""
    return str(uuid.uuid5(SSD_NAMESPACE, f"service:{key}:{version}"))


class DataType(enum.StrEnum):
    """Option data types (the SDK's ``DATA_TYPE_*``)."""

    NUMERIC = "numeric"
    CURRENCY = "currency"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    STRING = "string"
    CONSTRAINED = "constrained"


@dataclass(frozen=True)
class OptionSpec:
    """One typed option of a service.

    ``default`` is a Python value of the type (bool, Decimal, datetime, str) or None. A
    ``required`` option must have a non-None value when a process is created. ``validation`` is
    the mini-language text (``format=...`` for datetimes, ``values=...;names=...`` for
    constrained, ``min=...;max=...`` for numbers).
    """

    name: str
    data_type: DataType
    title: str
    description: str
    default: Any = None
    required: bool = False
    validation: str | None = None
    advanced: bool = False


@dataclass(frozen=True)
class FileInputSpec:
    """One numbered file input (``number`` starts at 1). ``name`` is its OGC input id."""

    number: int
    name: str
    file_type: str
    title: str
    description: str


@dataclass(frozen=True)
class Price:
    """Credits for one run over a region: ``base + per_km2 * area + per_scene * scenes``,
    at least ``minimum``, rounded to six places."""

    base: Decimal = Decimal(0)
    per_km2: Decimal = Decimal(0)
    per_scene: Decimal = Decimal(0)
    minimum: Decimal = Decimal(0)

    def total(self, area_km2: float, scenes: int = 0) -> Decimal:
        """The price of one run over ``area_km2`` using ``scenes`` scenes."""
        value = self.base + self.per_km2 * Decimal(str(round(area_km2, 6))) + self.per_scene * scenes
        return max(value, self.minimum).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Documentation:
    """The service's documentation fields as the catalogue shows them."""

    summary: str
    description: str
    assumptions: str = ""
    performance: str = ""
    actions: str = ""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformFace:
    """How a service appears in the platform catalogue and runs as a Process.

    ``chain`` names the components each execution records, in order (ingestion first).
    ``sliced`` services cut regions larger than the configured area into a group of executions,
    plus one ``Statistics Aggregator`` execution when ``aggregator`` is set. ``aliases`` are
    earlier names the catalogue also finds by name prefix (e.g. the 1.1 guide's names).
    """

    key: str
    name: str
    version: str
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    documentation: Documentation
    inputs: tuple[FileInputSpec, ...]
    options: tuple[OptionSpec, ...]
    price: Price
    chain: tuple[str, ...]
    sliced: bool = False
    aggregator: bool = False
    aliases: tuple[str, ...] = ()
    featured: bool = False

    @property
    def ssd_id(self) -> str:
        """Stable across versions."""
        return ssd_id_for(self.key)

    @property
    def service_id(self) -> str:
        """This version's id."""
        return service_id_for(self.key, self.version)

    def option(self, name: str) -> OptionSpec | None:
        """The option called ``name``, if any."""
        return next((o for o in self.options if o.name == name), None)
