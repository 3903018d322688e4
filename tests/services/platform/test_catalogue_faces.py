"""The platform services' catalogue entries and OGC descriptions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shapely.geometry import box

from terrafuse.core.catalogue import DataType
from terrafuse.core.options import option_rules, resolve_options
from terrafuse.core.slicing import region_area_km2
from terrafuse.services.platform import AGGREGATOR, PLATFORM_SERVICES

BY_ID = {s.description.id: s for s in PLATFORM_SERVICES}
LAKE_DISTRICT = box(-3.50, 54.19, -2.58, 54.77)


def test_ids_keys_and_chains() -> None:
    assert set(BY_ID) == {
        "elevation",
        "cloud-classification",
        "cloud-classification-v1",
        "ndvi",
        "water-bodies-region",
    }
    chains = {sid: s.description.platform.chain for sid, s in BY_ID.items()}
    assert chains["elevation"] == ("DEM Ingestion", "Elevation")
    assert chains["cloud-classification"] == ("Sentinel-2 Ingestion", "Sentinel-2 Cloud Classification")
    assert chains["cloud-classification-v1"] == ("Sentinel-2 Ingestion", "Demo: Cloud Classification")
    names = {sid: s.description.platform.name for sid, s in BY_ID.items()}
    assert names["cloud-classification"] == "Demo: Sentinel-2 Cloud Classification"
    assert names["cloud-classification-v1"] == "Demo: Cloud Classification"
    assert names["elevation"] == "Elevation" and names["water-bodies-region"] == "Water Bodies"
    for sid, service in BY_ID.items():
        face = service.description.platform
        assert face.key == sid and face.version == "1.0.0" == service.description.version
        assert service.description.title == face.name
    ssd_ids = {s.description.platform.ssd_id for s in PLATFORM_SERVICES}
    assert len(ssd_ids) == len(PLATFORM_SERVICES)
    assert AGGREGATOR.description.platform is None


def test_elevation_is_found_by_keyword_and_not_sliced() -> None:
    face = BY_ID["elevation"].description.platform
    assert {"Elevation", "DEM"} <= set(face.keywords)
    assert not face.sliced and not face.aggregator
    for sid in ("cloud-classification", "cloud-classification-v1", "ndvi", "water-bodies-region"):
        assert BY_ID[sid].description.platform.sliced and BY_ID[sid].description.platform.aggregator


def test_one_geojson_region_input_numbered_1() -> None:
    for service in PLATFORM_SERVICES:
        (region,) = service.description.platform.inputs
        assert (region.number, region.name, region.file_type) == (1, "region", "GeoJSON")
        assert region.title and region.description


def test_options_follow_the_validation_language_and_the_sdk_needs() -> None:
    for service in PLATFORM_SERVICES:
        face = service.description.platform
        # Every default passes its own rules (what process templates start with).
        resolve_options(face.options, {})
        for option in face.options:
            assert option.title and option.description
            rules = option_rules(option)
            if option.data_type is DataType.DATETIME:
                assert rules.format  # the SDK crashes without format=
            if option.data_type is DataType.NUMERIC:
                assert rules.minimum is not None and rules.maximum is not None
    cloud = BY_ID["cloud-classification"].description.platform
    assert cloud.option("latest_date").default is True
    assert cloud.option("start_date").default is None and not cloud.option("start_date").required
    assert cloud.option("end_date").default is None
    elevation = BY_ID["elevation"].description.platform.option("resolution")
    assert elevation.default == Decimal(30)
    assert (option_rules(elevation).minimum, option_rules(elevation).maximum) == (10, 1000)


def test_ogc_inputs_are_derived_from_the_face() -> None:
    for service in PLATFORM_SERVICES:
        face = service.description.platform
        assert list(service.description.inputs) == ["region", *(o.name for o in face.options)]
        assert service.description.inputs["region"].min_occurs == 1
        assert service.description.outputs
        for output in service.description.outputs.values():
            assert output.schema["contentMediaType"].startswith("image/tiff")


@pytest.mark.parametrize(
    "sid", ["cloud-classification", "cloud-classification-v1", "ndvi", "water-bodies-region"]
)
def test_a_lake_district_run_costs_a_few_tens_at_most(sid: str) -> None:
    area = region_area_km2(LAKE_DISTRICT)
    price = BY_ID[sid].description.platform.price.total(area)
    assert Decimal(5) < price <= Decimal(50)


def test_elevation_of_a_city_is_cheap() -> None:
    glasgow = region_area_km2(box(-4.4827, 55.7904, -4.0830, 55.9534))
    price = BY_ID["elevation"].description.platform.price.total(glasgow)
    assert Decimal(1) <= price < Decimal(5)
