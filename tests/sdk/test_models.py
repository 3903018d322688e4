"""The SDK's public surface and its model objects: exported names, docstrings that name their
endpoints, typed read-only attributes, ``find_*`` pairs, and the example regions."""

from __future__ import annotations

import inspect
import itertools
import json
import math
import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import fusion_platform
import pytest

import terrafuse
import terrafuse.sdk
from terrafuse.sdk.model import FrozenDict, find_first
from tests.sdk.fake_platform import FakePlatform

GUIDE_NAMES = {
    "login",
    "User",
    "Organisation",
    "Credit",
    "Data",
    "File",
    "Service",
    "Process",
    "Execution",
    "Component",
    "Log",
    "EXAMPLE_GLASGOW_FILE",
    "EXAMPLE_LAKE_DISTRICT_FILE",
    "FILE_TYPE_GEOJSON",
    "FILE_TYPE_GEOTIFF",
    "FILE_TYPE_ESRI_SHAPEFILE",
    "DATA_TYPE_NUMERIC",
    "DATA_TYPE_CURRENCY",
    "DATA_TYPE_BOOLEAN",
    "DATA_TYPE_DATETIME",
    "DATA_TYPE_STRING",
    "DATA_TYPE_CONSTRAINED",
    "RUN_TYPE_RUN_ONCE",
    "RUN_TYPE_RUN_SCHEDULE",
    "__version__",
    "__version_date__",
}
MODEL_CLASSES = [
    terrafuse.User,
    terrafuse.Organisation,
    terrafuse.Credit,
    terrafuse.Data,
    terrafuse.File,
    terrafuse.Service,
    terrafuse.Process,
    terrafuse.Execution,
    terrafuse.Component,
    terrafuse.Log,
]
_CALLS_API = re.compile(r"_session\.(model|request|pages)\(|session\.(model|request|pages)\(")
_NAMES_ENDPOINT = re.compile(r"\b(GET|POST|PATCH|PUT|DELETE) [~/{a-z]")


def test_the_package_exports_the_guide_names() -> None:
    assert set(terrafuse.__all__) >= GUIDE_NAMES
    assert set(terrafuse.__all__) == set(terrafuse.sdk.__all__) | {"__version__", "__version_date__"}
    for name in terrafuse.__all__:
        assert getattr(terrafuse, name) is not None, name
    assert (
        terrafuse.FILE_TYPE_ESRI_SHAPEFILE == "ESRI Shapefile" and terrafuse.RUN_TYPE_RUN_ONCE == "run_once"
    )
    # The published SDK's constants have the same wire values.
    for name in dir(fusion_platform):
        if name.startswith(("FILE_TYPE_", "DATA_TYPE_", "RUN_TYPE_")):
            assert getattr(terrafuse, name) == getattr(fusion_platform, name), name


def test_import_terrafuse_ogc_is_the_ogc_client() -> None:
    import terrafuse.ogc as ogc

    assert ogc.OGCClient is terrafuse.sdk.ogc.OGCClient and terrafuse.ogc is ogc
    assert set(ogc.__all__) == set(terrafuse.sdk.ogc.__all__) and all(hasattr(ogc, n) for n in ogc.__all__)


def test_importing_the_sdk_loads_no_server_package() -> None:
    heavy = (
        "fastapi",
        "starlette",
        "sqlalchemy",
        "rasterio",
        "numpy",
        "dask",
        "distributed",
        "shapely",
        "pystac",
    )
    heavy += ("pyproj", "terrafuse.api", "terrafuse.core")
    code = "import sys, terrafuse, terrafuse.ogc; terrafuse.login; "
    code += f"print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _public_callables(cls: type) -> list[tuple[str, object]]:
    found = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        target = member.fget if isinstance(member, property) else member
        if inspect.isfunction(target):
            found.append((name, target))
    return found


def test_every_public_object_says_what_it_does() -> None:
    for name in terrafuse.__all__:
        value = getattr(terrafuse, name)
        if inspect.isclass(value) or inspect.isfunction(value) or inspect.ismodule(value):
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"
        if inspect.isclass(value):
            for member, function in _public_callables(value):
                assert (function.__doc__ or "").strip(), f"{name}.{member} has no docstring"


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_methods_that_call_the_api_name_their_endpoint(cls: type) -> None:
    checked = 0
    for member, function in _public_callables(cls):
        source = inspect.getsource(function)  # type: ignore[arg-type]
        if _CALLS_API.search(source):
            checked += 1
            assert _NAMES_ENDPOINT.search(function.__doc__ or ""), (
                f"{cls.__name__}.{member}: {function.__doc__}"
            )
    assert checked or cls in (terrafuse.Credit, terrafuse.Log)
    assert "Endpoint" in (cls.__doc__ or "") or "~/" in (cls.__doc__ or "") or "GET" in (cls.__doc__ or "")


def test_help_describes_the_sdk() -> None:
    text = subprocess.run(
        [sys.executable, "-c", "import terrafuse; help(terrafuse); help(terrafuse.Process)"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "login" in text and "import terrafuse as fusion_platform" in text
    assert "POST ~/processes/{id}/execute" in text and "wait_for_next_execution" in text


def _data(**values: object) -> terrafuse.Data:
    return terrafuse.Data(None, {"id": "d-1", "organisation_id": "o-1", "name": "R", **values})  # type: ignore[arg-type]


def test_attributes_are_typed_from_the_wire() -> None:
    data = _data(created_at="2026-03-01T12:00:00Z", deletable="false", bounds=[-4.5, 55.8, -4.1, 55.9])
    assert data.created_at == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert data.deletable is False and data.bounds == (-4.5, 55.8, -4.1, 55.9)
    credit = terrafuse.Credit(None, {"id": "c", "any_credits": Decimal("12.50")})  # type: ignore[arg-type]
    assert credit.any_credits == Decimal("12.50") and isinstance(credit.any_credits, Decimal)
    naive = _data(updated_at="2026-03-01T12:00:00")
    assert naive.updated_at.tzinfo is not None


def test_absent_and_null_differ() -> None:
    data = _data(file_with_preview=None)
    assert data.file_with_preview is None
    with pytest.raises(AttributeError, match="not sent by the server"):
        _ = data.unlinked
    with pytest.raises(AttributeError, match="no attribute 'colour'"):
        _ = data.colour
    assert "file_with_preview" in data.attributes and "unlinked" not in data.attributes


def test_attributes_are_read_only_all_the_way_down() -> None:
    file = terrafuse.File(None, {"id": "f", "selectors": [{"histogram": [1, 2]}]})  # type: ignore[arg-type]
    with pytest.raises(terrafuse.ReadOnlyAttributeError, match=r"File\.file_name is read-only"):
        file.file_name = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del file.id
    with pytest.raises(TypeError):
        file.selectors[0]["histogram"] = []  # type: ignore[index]
    with pytest.raises(AttributeError):
        file.selectors[0]["histogram"].append(3)  # type: ignore[attr-defined]
    assert isinstance(file.selectors[0], FrozenDict)
    assert json.loads(json.dumps(file.selectors)) == [{"histogram": [1, 2]}]


def test_equality_compares_attributes() -> None:
    assert _data(name="A") == _data(name="A") and _data(name="A") != _data(name="B")
    assert repr(_data()) == "<Data id='d-1' name='R'>"


def test_find_first_gives_the_first_and_everything() -> None:
    first, everything = find_first(iter([1, 2, 3]))
    assert first == 1 and list(everything) == [1, 2, 3]
    first, everything = find_first(iter([]))
    assert first is None and list(everything) == []


def test_find_returns_the_first_match_and_all_matches(
    organisation: terrafuse.Organisation, platform: FakePlatform
) -> None:
    service, services = organisation.find_services(name="Clouds", keyword="Cloud")
    assert isinstance(service, terrafuse.Service) and service.id == platform.service_id
    assert [s.id for s in services] == [platform.service_id]
    request = platform.sent("GET", r"/services/latest")[-1]
    assert request.url.params["filter[name__begins_with]"] == "Clouds"
    assert request.url.params["filter[keywords__contains]"] == "Cloud"
    nothing, none = organisation.find_services(name="Nope")
    assert nothing is None and list(none) == []
    credit = organisation.credit
    assert credit.any_credits == Decimal("12.5")


def _ring(path: str) -> list[list[float]]:
    document = json.loads(Path(path).read_text())
    (feature,) = document["features"]
    assert feature["geometry"]["type"] == "Polygon"
    return feature["geometry"]["coordinates"][0]


def _area_km2(ring: list[list[float]]) -> float:
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
    xy = [(math.radians(x) * 6371.0 * math.cos(lat0), math.radians(y) * 6371.0) for x, y in ring]
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(xy))) / 2


@pytest.mark.parametrize(
    ("path", "box", "area"),
    [
        (terrafuse.EXAMPLE_GLASGOW_FILE, (-4.4827, 55.7904, -4.0830, 55.9534), 229),
        (terrafuse.EXAMPLE_LAKE_DISTRICT_FILE, (-3.50, 54.19, -2.58, 54.77), 2362),
    ],
)
def test_example_regions_are_our_own_and_inside_the_demo_imagery(path: str, box: tuple, area: float) -> None:
    ring = _ring(path)
    assert ring[0] == ring[-1] and len(ring) >= 30
    assert all(box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y in ring)
    assert 0.8 * area <= _area_km2(ring) <= 1.2 * area
    assert Path(path).is_relative_to(Path(terrafuse.sdk.__file__).parent / "examples")
    published = Path(fusion_platform.__file__).parent / Path(path).name
    assert Path(path).read_bytes() != published.read_bytes()
