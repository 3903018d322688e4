"""Statistics Aggregator: one CSV of per-slice statistics for a sliced execution group.

Runs as the extra execution of a group, after its slices. ``statistics.csv`` has one row per
slice and output raster (one row per slice for services with one raster output; a slice without
raster outputs, e.g. a failed one, still gets a row with empty statistics)::

    group_index, execution_id, status, area_km2, file_name,
    minimum, maximum, mean, sd, hist_0 … hist_9

The statistics are those of each raster's first selector (its first band), as the platform's
file analysis computed them; histograms of services with a fixed histogram range (cloud classes,
NDVI, water masks) can be summed over the rows.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Any

from terrafuse.core.executions import ExecutionStatus
from terrafuse.core.refs import object_ref
from terrafuse.errors import ExecutionFailed
from terrafuse.services.base import GroupMember, OutputFile, RunContext, ServiceDescription
from terrafuse.services.platform.common import component_dir, csv_output

SERVICE_ID = "statistics-aggregator"
COMPONENT = "Statistics Aggregator"
OUTPUT = "statistics"
FILE_NAME = "statistics.csv"
HISTOGRAM_BINS = 10
RASTER_TYPES = frozenset({"GeoTIFF", "DEM", "JPEG2000"})
STATISTICS = ("minimum", "maximum", "mean", "sd")
COLUMNS = (
    "group_index",
    "execution_id",
    "status",
    "area_km2",
    "file_name",
    *STATISTICS,
    *(f"hist_{i}" for i in range(HISTOGRAM_BINS)),
)

DESCRIPTION = ServiceDescription(
    id=SERVICE_ID,
    version="1.0.0",
    title=COMPONENT,
    description=(
        "Summarises the slices of a sliced execution group: one CSV row per slice and output raster with "
        "its status, area, and the statistics and 10-bin histogram of the raster's first band."
    ),
    inputs={},
    outputs={
        OUTPUT: csv_output("Statistics", "statistics.csv: per-slice statistics of the group's rasters.")
    },
    keywords=("statistics", "aggregator"),
    job_control=("async-execute", "dismiss"),
)


class StatisticsAggregator:
    """The group aggregator (not in the catalogue: the platform adds it to sliced groups)."""

    description = DESCRIPTION

    def check_inputs(self, inputs: dict[str, Any]) -> None:
        """Nothing to check: the aggregator reads its group, not its inputs."""

    def run(self, ctx: RunContext, inputs: dict[str, Any]) -> dict[str, Any]:
        """Write ``statistics.csv``; returns ``{"statistics": <ref of the CSV>}``.

        Raises:
            ExecutionFailed: when no slice of the group succeeded.
        """
        with ctx.component(COMPONENT, share=1.0) as c:
            members = sorted(ctx.group_members(), key=lambda m: m.group_index)
            succeeded = [m for m in members if m.status == ExecutionStatus.SUCCESSFUL]
            if not succeeded:
                raise ExecutionFailed(
                    f"no slice of the group succeeded ({len(members)} slice(s): "
                    f"{_status_summary(members) or 'none found'}); there are no statistics to aggregate"
                )
            for member in succeeded:
                for output in _rasters(member):
                    c.add_input(output.data_id)
            path = component_dir(ctx, "aggregator") / FILE_NAME
            rows = [row for member in members for row in statistics_rows(member)]
            with path.open("w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(rows)
            c.log(f"{len(succeeded)} of {len(members)} slice(s) succeeded; {len(rows)} row(s) written")
            out = c.add_output(
                path, "CSV", title="Statistics", description="Per-slice statistics of the group."
            )
            c.progress(1.0)
        return {OUTPUT: object_ref(out.key)}


def statistics_rows(member: GroupMember) -> list[dict[str, Any]]:
    """The CSV rows of one slice: one per raster output, or one with empty statistics."""
    base: dict[str, Any] = {
        "group_index": member.group_index,
        "execution_id": member.execution_id,
        "status": str(member.status),
        "area_km2": round(float(member.area_km2), 6),
    }
    rasters = _rasters(member)
    if not rasters:
        return [{**base, **dict.fromkeys(COLUMNS[4:], "")}]
    return [{**base, "file_name": r.file_name, **_selector_columns(r.selectors[0])} for r in rasters]


def _rasters(member: GroupMember) -> list[OutputFile]:
    return [o for o in member.outputs if o.file_type in RASTER_TYPES and o.selectors]


def _selector_columns(selector: Mapping[str, Any]) -> dict[str, Any]:
    columns: dict[str, Any] = {name: _number(selector.get(name)) for name in STATISTICS}
    histogram = selector.get("histogram") or ()
    for i in range(HISTOGRAM_BINS):
        columns[f"hist_{i}"] = _number(histogram[i]) if i < len(histogram) else ""
    return columns


def _number(value: Any) -> Any:
    """Numbers as numbers (selectors may hold Decimals or strings); missing as empty."""
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _status_summary(members: list[GroupMember]) -> str:
    counts: dict[str, int] = {}
    for m in members:
        counts[str(m.status)] = counts.get(str(m.status), 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


STATISTICS_AGGREGATOR = StatisticsAggregator()
