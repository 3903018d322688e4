"""Response envelopes and the JSON encoder (offsets, exact Decimals, omitted keys)."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from fusion_platform.models.credit import CreditSchema
from fusion_platform.models.data_file import DataFileSchema

from terrafuse.api.fusion.wire import OMIT, FusionJSONResponse, dumps, list_envelope, model_envelope


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def test_envelopes() -> None:
    assert model_envelope({"id": "x"}) == {"model": {"id": "x"}, "extras": {}}
    assert model_envelope({"id": "x"}, {"url": "u"}) == {"model": {"id": "x"}, "extras": {"url": "u"}}
    assert list_envelope(iter([{"id": 1}]), {"id": 1}) == {
        "list": [{"id": 1}],
        "last": {"id": 1},
        "extras": {},
    }
    assert list_envelope([], None, {"dispatchers": []}) == {
        "list": [],
        "last": None,
        "extras": {"dispatchers": []},
    }
    assert list_envelope([], {}) == {"list": [], "last": None, "extras": {}}  # empty cursor ends paging


def test_datetimes_carry_their_offset_and_naive_ones_are_refused() -> None:
    stamp = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    assert dumps(stamp) == '"2026-03-01T12:30:05.123456+00:00"'
    plus_two = datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert dumps({"at": plus_two}) == '{"at":"2026-03-01T14:30:00+02:00"}'
    assert datetime.fromisoformat(json.loads(dumps(plus_two))) == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert dumps(date(2026, 3, 1)) == '"2026-03-01"'
    with pytest.raises(ValueError, match="naive datetime"):
        dumps({"model": {"created_at": datetime(2026, 3, 1)}})


def test_decimals_are_exact_json_numbers() -> None:
    text = dumps({"a": Decimal("0.1") + Decimal("0.2"), "b": Decimal("86.250000"), "c": Decimal("1E+3")})
    assert text == '{"a":0.3,"b":86.250000,"c":1000}'
    assert json.loads(text, parse_float=Decimal) == {"a": Decimal("0.3"), "b": Decimal("86.25"), "c": 1000}
    assert dumps(Decimal("123456789012.123456")) == "123456789012.123456"  # beyond a float's digits
    assert dumps(Decimal("-0.000001")) == "-0.000001"
    for bad in (Decimal("NaN"), Decimal("Infinity"), float("nan"), float("inf")):
        with pytest.raises(ValueError):
            dumps(bad)


def test_scalars_and_containers() -> None:
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    value = {
        "id": ident,
        "n": 3,
        "f": 0.5,
        "t": True,
        "no": None,
        "s": 'é "q"\n',
        "e": Colour.RED,
        "l": Level.HIGH,
        "tuple": (1, 2),
    }
    assert json.loads(dumps(value)) == {
        "id": str(ident),
        "n": 3,
        "f": 0.5,
        "t": True,
        "no": None,
        "s": 'é "q"\n',
        "e": "red",
        "l": 3,
        "tuple": [1, 2],
    }
    with pytest.raises(TypeError):
        dumps({"x": object()})
    with pytest.raises(TypeError):
        dumps({1: "x"})


def test_omit_leaves_keys_out_but_null_stays() -> None:
    file = {"id": "f", "size": OMIT, "publishable": OMIT, "error": None, "nested": {"a": OMIT, "b": 1}}
    assert json.loads(dumps(file)) == {"id": "f", "error": None, "nested": {"b": 1}}
    assert dumps({"only": OMIT}) == "{}"
    assert repr(OMIT) == "OMIT" and not OMIT
    with pytest.raises(ValueError, match="OMIT inside a list"):
        dumps([1, OMIT])


def test_the_response_class_renders_with_dumps() -> None:
    response = FusionJSONResponse(model_envelope({"price": Decimal("1.50"), "size": OMIT}))
    assert response.body == b'{"model":{"price":1.50},"extras":{}}'
    assert response.media_type == "application/json"


def test_the_sdk_loads_what_we_send() -> None:
    """Our encoding of a credit and of an unanalysed file, loaded by the SDK's own schemas."""
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    org = str(uuid.uuid4())
    credit = {
        "id": org,
        "organisation_id": org,
        "created_at": now,
        "updated_at": now,
        "any_credits": Decimal("86.250000"),
        "cloud_storage_credits": Decimal("0.000000"),
        "registry_storage_credits": Decimal("0.000000"),
        "runtime_any_credits": Decimal("0.000000"),
        "runtime_ssds": [],
        "spend": [{"month": datetime(2026, 3, 1, tzinfo=UTC), "credits": Decimal("1.5")}],
        "reserved": Decimal("3"),
    }
    loaded = CreditSchema().load(json.loads(dumps(model_envelope(credit)))["model"])
    assert loaded["any_credits"] == Decimal("86.25")
    assert loaded["created_at"] == now and loaded["spend"][0]["month"].tzinfo is not None
    file = {
        "id": str(uuid.uuid4()),
        "created_at": now,
        "updated_at": now,
        "data_id": str(uuid.uuid4()),
        "file_id": str(uuid.uuid4()),
        "file_type": "GeoJSON",
        "size": OMIT,
        "publishable": OMIT,
        "error": OMIT,
    }
    loaded_file = DataFileSchema().load(json.loads(dumps(file)))
    assert "size" not in loaded_file and "publishable" not in loaded_file  # "not analysed yet"
