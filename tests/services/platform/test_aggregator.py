"""Statistics Aggregator: one CSV row per slice and output raster, readable by pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from terrafuse.core.refs import object_ref
from terrafuse.errors import ExecutionFailed
from terrafuse.services.base import GroupMember, OutputFile
from terrafuse.services.platform import AGGREGATOR
from terrafuse.services.platform.aggregator import COLUMNS
from tests.services.platform.context import TestRunContext


def _selector(minimum: float, maximum: float, histogram: list[int]) -> dict:
    return {
        "selector": "band 1",
        "minimum": minimum,
        "maximum": maximum,
        "mean": (minimum + maximum) / 2,
        "sd": 0.5,
        "histogram_minimum": 0.0,
        "histogram_maximum": 3.0,
        "histogram": histogram,
    }


def _raster(name: str, histogram: list[int], data_id: str) -> OutputFile:
    return OutputFile(
        data_id, f"file-{data_id}", f"k/{data_id}/{name}", name, "GeoTIFF", (_selector(0, 3, histogram),)
    )


HISTS = [[10, 0, 0, 5, 0, 0, 2, 0, 0, 1], [4, 0, 0, 0, 0, 0, 9, 0, 0, 3]]


def _members() -> list[GroupMember]:
    csv_out = OutputFile("csv-1", "f", "k/csv-1/x.csv", "x.csv", "CSV", ())
    return [
        GroupMember("ex-b", 1, "successful", 12.5, (_raster("cloud_classification.tif", HISTS[1], "d1"),)),
        GroupMember(
            "ex-a", 0, "successful", 20.25, (_raster("cloud_classification.tif", HISTS[0], "d0"), csv_out)
        ),
        GroupMember("ex-c", 2, "failed", 3.0, ()),
    ]


def test_writes_one_row_per_slice_sorted_by_index(tmp_path: Path) -> None:
    ctx = TestRunContext(tmp_path, "unused", execution_id="agg-1", members=_members())
    result = AGGREGATOR.run(ctx, {})
    (component,) = ctx.components
    assert component.name == "Statistics Aggregator" and component.success
    (out,) = component.outputs
    assert result == {"statistics": object_ref(out.key)}
    assert (out.file_name, out.file_type) == ("statistics.csv", "CSV")
    table = pd.read_csv(ctx.output_path(out))
    assert tuple(table.columns) == COLUMNS
    assert list(table["group_index"]) == [0, 1, 2]
    assert list(table["execution_id"]) == ["ex-a", "ex-b", "ex-c"]
    assert list(table["status"]) == ["successful", "successful", "failed"]
    assert list(table["area_km2"]) == [20.25, 12.5, 3.0]
    assert table.loc[0, "file_name"] == "cloud_classification.tif"
    hist_columns = [f"hist_{i}" for i in range(10)]
    assert table.loc[[0, 1], hist_columns].to_numpy().tolist() == HISTS
    # Summing the slices' histograms gives the group's class counts (bins 0, 3, 6, 9).
    totals = table[hist_columns].sum()
    assert [totals["hist_0"], totals["hist_3"], totals["hist_6"], totals["hist_9"]] == [14, 5, 11, 4]
    # The failed slice has a row with empty statistics.
    assert table.loc[2, ["minimum", "maximum", "mean", "sd", "hist_0"]].isna().all()
    assert table.loc[0, "maximum"] == 3 and table.loc[0, "mean"] == 1.5
    # The rasters the statistics came from are the component's inputs.
    assert sorted(component.inputs) == ["d0", "d1"]


def test_fails_clearly_when_no_slice_succeeded(tmp_path: Path) -> None:
    members = [GroupMember("ex-a", 0, "failed", 1.0, ()), GroupMember("ex-b", 1, "dismissed", 1.0, ())]
    ctx = TestRunContext(tmp_path, "unused", members=members)
    with pytest.raises(ExecutionFailed, match=r"no slice of the group succeeded.*1 dismissed, 1 failed"):
        AGGREGATOR.run(ctx, {})
    assert ctx.components[0].success is False


def test_fails_clearly_without_group(tmp_path: Path) -> None:
    with pytest.raises(ExecutionFailed, match="none found"):
        AGGREGATOR.run(TestRunContext(tmp_path, "unused"), {})


def test_not_in_the_catalogue() -> None:
    assert AGGREGATOR.description.id == "statistics-aggregator"
    assert AGGREGATOR.description.platform is None
    AGGREGATOR.check_inputs({"anything": 1})
