"""Service options: the validation mini-language, wire text, JSON values and OGC input schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from terrafuse.core.catalogue import DataType, Documentation, FileInputSpec, OptionSpec, PlatformFace, Price
from terrafuse.core.options import (
    check_option,
    decode_option,
    encode_option,
    input_accepts,
    ogc_inputs,
    option_from_json,
    option_json,
    option_rules,
    parse_validation,
    resolve_options,
)
from terrafuse.errors import InvalidInput

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def spec(data_type: DataType, validation: str | None = None, **extra: Any) -> OptionSpec:
    return OptionSpec(
        name=extra.pop("name", "opt"),
        data_type=data_type,
        title="An option",
        description="For tests.",
        validation=validation,
        **extra,
    )


NUMERIC = spec(DataType.NUMERIC, "min=0;max=100", name="cover")
CURRENCY = spec(DataType.CURRENCY, "min=0.01", name="budget")
BOOLEAN = spec(DataType.BOOLEAN, name="latest_date", default=True)
DATETIME = spec(DataType.DATETIME, f"format={FORMAT}", name="start_date")
STRING = spec(DataType.STRING, "max_length=5;pattern=[a-z]+", name="label")
CONSTRAINED = spec(
    DataType.CONSTRAINED, "values=s2,l8;names=Sentinel-2,Landsat 8", name="sensor", default="s2"
)


# -- the mini-language ------------------------------------------------------------------------------


def test_items_split_at_the_first_equals_and_keys_ignore_case() -> None:
    parsed = parse_validation("Values=a,b=c;NAMES=A,B;;format=%H=%M")
    assert parsed == {"values": "a,b=c", "names": "A,B", "format": "%H=%M"}
    assert parse_validation(None) == {} and parse_validation("") == {}


@pytest.mark.parametrize("text", ["min", "=5", "min=1;min=2"])
def test_malformed_validation_items_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_validation(text)


@pytest.mark.parametrize(
    ("data_type", "validation", "words"),
    [
        (DataType.DATETIME, None, "format="),
        (DataType.DATETIME, "max=3", "not understood"),
        (DataType.CONSTRAINED, "names=A,B", "values="),
        (DataType.CONSTRAINED, "values=a,b;names=A", "1 names for 2"),
        (DataType.CONSTRAINED, "values=a,,b", "non-empty"),
        (DataType.DATETIME, "format=%Y;;", None),  # empty items are skipped
        (DataType.NUMERIC, "min=5;max=1", "greater than"),
        (DataType.NUMERIC, "min=lots", "must be a number"),
        (DataType.STRING, "pattern=[a-", "regular expression"),
        (DataType.STRING, "max_length=-1", "whole number"),
        (DataType.BOOLEAN, "values=true,false", "not understood"),
    ],
)
def test_bad_validations_name_the_option(
    data_type: DataType, validation: str | None, words: str | None
) -> None:
    option = spec(data_type, validation, name="the_option")
    if words is None:
        assert option_rules(option).format == "%Y"
        return
    with pytest.raises(InvalidInput) as caught:
        option_rules(option)
    assert "the_option" in caught.value.detail and words in caught.value.detail


def test_constrained_validations_longer_than_the_sdk_reads_are_refused() -> None:
    # The SDK ignores constrained validations of more than two raw items (a trailing ";" counts):
    # it would show no choices.
    with pytest.raises(InvalidInput, match="at most 2 ';'-separated items"):
        option_rules(spec(DataType.CONSTRAINED, "values=a,b;names=A,B;"))
    assert option_rules(spec(DataType.CONSTRAINED, "values=a,b;names=A,B")).names == ("A", "B")


# -- wire text -------------------------------------------------------------------------------------


def test_decoding_each_data_type() -> None:
    assert decode_option(NUMERIC, "12.5") == 12.5 and isinstance(decode_option(NUMERIC, "3"), float)
    assert decode_option(CURRENCY, "0.10") == Decimal("0.10")
    assert decode_option(BOOLEAN, "TRUE") is True and decode_option(BOOLEAN, "false") is False
    assert decode_option(STRING, "abc") == "abc"
    assert decode_option(CONSTRAINED, "l8") == "l8"
    for null in (None, "", "null", "None"):
        assert decode_option(NUMERIC, null) is None


def test_datetimes_read_by_format_or_iso_8601_are_aware_utc() -> None:
    expected = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    by_format = decode_option(DATETIME, "2026-03-01T10:30:00.000000Z")
    by_iso_offset = decode_option(DATETIME, "2026-03-01T12:30:00+02:00")
    naive_iso = decode_option(DATETIME, "2026-03-01T10:30:00")
    for value in (by_format, by_iso_offset, naive_iso):
        assert value == expected and value.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("option", "wire", "words"),
    [
        (NUMERIC, "ten", "must be a number"),
        (NUMERIC, "nan", "must be a number"),
        (CURRENCY, "1,5", "decimal amount"),
        (BOOLEAN, "yes", "true or false"),
        (DATETIME, "1st of March", FORMAT),
    ],
)
def test_undecodable_wire_text_names_option_and_form(option: OptionSpec, wire: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_option(option, wire)
    assert option.name in caught.value.detail and words in caught.value.detail


def test_encoding_each_data_type() -> None:
    assert encode_option(BOOLEAN, True) == "true" and encode_option(BOOLEAN, "FALSE") == "false"
    assert encode_option(NUMERIC, 2) == "2" and encode_option(NUMERIC, 0.25) == "0.25"
    assert encode_option(CURRENCY, 0.1) == "0.1"  # not the binary expansion of 0.1
    assert encode_option(CURRENCY, Decimal("12.50")) == "12.50"
    assert encode_option(STRING, "abc") == "abc"
    assert encode_option(NUMERIC, None) is None and encode_option(STRING, "null") is None
    local = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    assert encode_option(DATETIME, local) == "2026-03-01T10:30:00.000000Z"
    assert encode_option(DATETIME, "2026-03-01T12:30:00+02:00") == "2026-03-01T10:30:00.000000Z"


@pytest.mark.parametrize(("option", "value"), [(NUMERIC, True), (BOOLEAN, 1), (DATETIME, 5), (STRING, 5)])
def test_values_of_the_wrong_type_cannot_be_encoded(option: OptionSpec, value: Any) -> None:
    with pytest.raises(InvalidInput, match=option.name):
        encode_option(option, value)


def test_wire_text_agrees_with_the_published_sdk() -> None:
    """Our text is what the SDK writes for a value, and the SDK reads it back to our value."""
    process = pytest.importorskip("fusion_platform.models.process")
    sdk_encode = process.Option._Option__value_to_option
    sdk_decode = process.Option._Option__coerce_value
    cases = [
        (BOOLEAN, True),
        (BOOLEAN, False),
        (NUMERIC, 12.5),
        (CURRENCY, Decimal("3.25")),
        (STRING, "abc"),
        (CONSTRAINED, "l8"),
        (DATETIME, datetime(2026, 3, 1, 10, 30, 15, 250000, tzinfo=UTC)),
    ]
    for option, value in cases:
        ours = encode_option(option, value)
        assert ours == sdk_encode(value, option.data_type.value, option.validation), option.name
        assert sdk_decode(ours, option.data_type.value) == decode_option(option, ours) == value
    assert sdk_decode(None, "numeric") is None and decode_option(NUMERIC, None) is None


# -- rules -----------------------------------------------------------------------------------------


def test_rules_are_enforced_with_clear_messages() -> None:
    check_option(NUMERIC, 0.0)
    check_option(NUMERIC, 100)
    check_option(STRING, "abcde")
    check_option(CONSTRAINED, "l8")
    cases = [
        (spec(DataType.NUMERIC, required=True, name="needed"), None, "is required"),
        (NUMERIC, -0.5, "at least 0"),
        (NUMERIC, 100.01, "at most 100"),
        (CURRENCY, Decimal("0.001"), "at least 0.01"),
        (CONSTRAINED, "modis", "s2 (Sentinel-2), l8 (Landsat 8)"),
        (STRING, "abcdef", "at most 5 characters"),
        (STRING, "ab1", "pattern"),
        (BOOLEAN, "true", "true or false"),  # a decoded value is expected, not wire text
    ]
    for option, value, words in cases:
        with pytest.raises(InvalidInput) as caught:
            check_option(option, value)
        assert option.name in caught.value.detail and words in caught.value.detail


def test_resolving_options_fills_defaults_and_checks_the_rest() -> None:
    specs = [NUMERIC, BOOLEAN, DATETIME, CONSTRAINED]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    resolved = resolve_options(specs, {"cover": "20", "start_date": start})
    assert resolved == {
        "cover": "20.0",
        "latest_date": "true",
        "start_date": "2026-03-01T00:00:00.000000Z",
        "sensor": "s2",
    }
    with pytest.raises(InvalidInput, match="unknown option"):
        resolve_options(specs, {"clouds": "1"})
    with pytest.raises(InvalidInput, match="at most 100"):
        resolve_options(specs, {"cover": 101})
    with pytest.raises(InvalidInput, match="is required"):
        resolve_options([spec(DataType.STRING, required=True, name="needed")], {})


# -- JSON values and OGC inputs --------------------------------------------------------------------


def test_json_values_round_trip() -> None:
    moment = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    cases = [
        (BOOLEAN, True),
        (NUMERIC, 12.5),
        (CURRENCY, Decimal("3.25")),
        (STRING, "abc"),
        (DATETIME, moment),
    ]
    for option, value in cases:
        assert option_from_json(option, option_json(option, value)) == value
    assert option_json(DATETIME, moment) == "2026-03-01T10:30:00Z"
    assert option_json(CURRENCY, Decimal("4.00")) == 4 and isinstance(
        option_json(CURRENCY, Decimal("4")), int
    )
    assert option_from_json(BOOLEAN, "true") is True
    with pytest.raises(InvalidInput):
        option_from_json(BOOLEAN, 1)


def face(*options: OptionSpec) -> PlatformFace:
    return PlatformFace(
        key="test",
        name="Test",
        version="1",
        categories=(),
        keywords=(),
        documentation=Documentation(summary="s", description="d"),
        inputs=(
            FileInputSpec(number=2, name="dem", file_type="DEM", title="DEM", description="A DEM."),
            FileInputSpec(number=1, name="region", file_type="GeoJSON", title="Region", description="AOI."),
        ),
        options=options,
        price=Price(),
        chain=("Ingest",),
    )


RING = [[-3.2, 54.4], [-3.0, 54.4], [-3.0, 54.6], [-3.2, 54.4]]
POLYGON = {"type": "Polygon", "coordinates": [RING]}


def validator(schema: dict) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_region_inputs_accept_polygons_features_and_collections_only() -> None:
    inputs = ogc_inputs(face())
    assert list(inputs) == ["region", "dem"]  # by input number
    region = validator(inputs["region"].schema)
    feature = {"type": "Feature", "properties": None, "geometry": POLYGON}
    accepted = [
        POLYGON,
        {"type": "MultiPolygon", "coordinates": [[RING], [RING]]},
        feature,
        {"type": "FeatureCollection", "features": [feature, feature]},
    ]
    for value in accepted:
        assert region.is_valid(value), value
    refused = [
        {"type": "LineString", "coordinates": RING},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [0, 0]}},
        {"type": "FeatureCollection", "features": []},
        "POLYGON((0 0, 1 0, 1 1, 0 0))",
    ]
    for value in refused:
        assert not region.is_valid(value), value
    assert inputs["region"].schema["contentMediaType"] == "application/geo+json"
    assert inputs["dem"].schema["contentMediaType"].startswith("image/tiff")
    assert inputs["region"].min_occurs == inputs["dem"].min_occurs == 1


def test_option_inputs_carry_type_bounds_choices_nullability_and_defaults() -> None:
    required = spec(DataType.NUMERIC, "min=1", name="required_one", required=True)
    inputs = ogc_inputs(face(NUMERIC, BOOLEAN, DATETIME, CONSTRAINED, STRING, required))

    cover = validator(inputs["cover"].schema)
    assert cover.is_valid(0) and cover.is_valid(100) and cover.is_valid(None)
    assert not cover.is_valid(-1) and not cover.is_valid(101) and not cover.is_valid("5")
    latest = validator(inputs["latest_date"].schema)
    assert latest.is_valid(False) and not latest.is_valid("yes")
    assert inputs["latest_date"].schema["default"] is True
    assert inputs["start_date"].schema["format"] == "date-time"
    sensor = validator(inputs["sensor"].schema)
    assert sensor.is_valid("l8") and not sensor.is_valid("modis")
    label = validator(inputs["label"].schema)
    assert label.is_valid("abc") and not label.is_valid("abcdef") and not label.is_valid("ab1")
    needed = validator(inputs["required_one"].schema)
    assert needed.is_valid(1) and not needed.is_valid(None) and not needed.is_valid(0)
    assert "default" not in inputs["required_one"].schema
    assert [inputs[name].min_occurs for name in ("cover", "latest_date", "required_one")] == [0, 0, 1]


def test_an_option_may_not_shadow_a_file_input() -> None:
    with pytest.raises(ValueError, match="region"):
        ogc_inputs(face(spec(DataType.STRING, name="region")))


@pytest.mark.parametrize(
    ("input_type", "file_type", "accepted"),
    [
        ("GeoTIFF", "GeoTIFF", True),
        ("GeoTIFF", "DEM", True),
        ("GeoTIFF", "JPEG2000", True),
        ("GeoTIFF", "PNG", False),
        ("GeoJSON", "KML", True),
        ("GeoJSON", "KMZ", True),
        ("GeoJSON", "ESRI Shapefile", True),
        ("GeoJSON", "CSV", False),
        ("DEM", "GeoTIFF", False),  # substitution only goes one way
        ("CSV", "CSV", True),
    ],
)
def test_input_file_type_substitutions(input_type: str, file_type: str, accepted: bool) -> None:
    assert input_accepts(input_type, file_type) is accepted
