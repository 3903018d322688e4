"""Request bodies: flat ``Model[field]`` keys, nested ``{"Model": {...}}`` objects, or both."""

from __future__ import annotations

from decimal import Decimal

import pytest

from terrafuse.api.fusion.wire import Shape, decode_json_body, parse_body
from terrafuse.errors import InvalidInput

WRITABLE = {"name": Shape.VALUE, "bounds": Shape.LIST, "inputs": Shape.LIST, "options": Shape.DICT}


def test_flat_keys_give_the_writable_fields() -> None:
    body = {"Data[name]": "Glasgow", "Data[organisation_id]": "o-1", "Data[id]": "d-1", "Data[unknown]": 1}
    assert parse_body(body, "Data", {"name", "id"}) == {"name": "Glasgow", "id": "d-1"}
    assert parse_body(body, "Data", {"name"}) == {"name": "Glasgow"}


def test_nested_and_mixed_bodies() -> None:
    assert parse_body({"Data": {"name": "x", "file_type": "GeoJSON"}}, "Data", {"name", "file_type"}) == {
        "name": "x",
        "file_type": "GeoJSON",
    }
    mixed = {"Data": {"name": "x"}, "Data[bounds]": [1, 2, 3, 4], "Data[name]": "x"}
    assert parse_body(mixed, "Data", WRITABLE) == {"name": "x", "bounds": [1, 2, 3, 4]}
    with pytest.raises(InvalidInput, match=r"Data\[name\] is given both flat and nested"):
        parse_body({"Data": {"name": "x"}, "Data[name]": "y"}, "Data", WRITABLE)
    # A read-only field given twice differently is ignored like any read-only field.
    assert parse_body({"Data": {"id": "a"}, "Data[id]": "b"}, "Data", WRITABLE) == {}


def test_other_models_and_foreign_keys_are_ignored() -> None:
    body = {"User[email]": "a@b.c", "User": {"password": "x"}, "csrf": "t", "Database[name]": "no"}
    assert parse_body(body, "Data", WRITABLE) == {}
    assert parse_body({}, "Data", WRITABLE) == {}
    assert parse_body(None, "Data", WRITABLE) == {}


def test_lists_and_dicts_may_arrive_as_json_text() -> None:
    body = {
        "Process[inputs]": '[{"ssd_id": "s", "input": 1, "id": null}]',
        "Process[bounds]": "[-4.48, 55.79, -4.08, 55.95]",
        "Process[options]": '{"a": 1}',
        "Process[name]": "[not a list]",  # a single value stays text, however it looks
    }
    got = parse_body(body, "Process", WRITABLE)
    assert got["inputs"] == [{"ssd_id": "s", "input": 1, "id": None}]
    assert got["bounds"] == [Decimal("-4.48"), Decimal("55.79"), Decimal("-4.08"), Decimal("55.95")]
    assert got["options"] == {"a": 1}
    assert got["name"] == "[not a list]"
    assert parse_body({"Process[inputs]": "null", "Process[bounds]": None}, "Process", WRITABLE) == {
        "inputs": None,
        "bounds": None,
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Data[name": "x"}, r"malformed body key 'Data\[name'"),
        ({"Data[]": "x"}, r"malformed body key 'Data\[\]'"),
        ({"Data[a][b]": "x"}, r"malformed body key 'Data\[a\]\[b\]'"),
        ({"Data[na me]": "x"}, r"malformed body key"),
        ({"Data": "x"}, r"'Data' in the request body must be a JSON object"),
        ({"Data[bounds]": "[1, 2"}, r"Data\[bounds\] must be a list \(or its JSON text\)"),
        ({"Data[bounds]": '{"a": 1}'}, r"Data\[bounds\] must be a list, not a dict"),
        ({"Data[bounds]": 5}, r"Data\[bounds\] must be a list, not a int"),
        ({"Data[options]": "[1]"}, r"Data\[options\] must be a dict, not a list"),
        ({"Data[name]": ["x"]}, r"Data\[name\] must be a single value, not a list"),
        ({"Data[name]": {"x": 1}}, r"Data\[name\] must be a single value, not a dict"),
    ],
)
def test_malformed_bodies_name_the_key(body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_body(body, "Data", WRITABLE)


def test_the_body_must_be_an_object() -> None:
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        parse_body([{"Data[name]": "x"}], "Data", WRITABLE)


def test_decoding_keeps_numbers_exact_and_refuses_garbage() -> None:
    assert decode_json_body(b"") == {} and decode_json_body(b"  ") == {}
    assert decode_json_body(b'{"Process[price]": 0.1}') == {"Process[price]": Decimal("0.1")}
    assert decode_json_body('{"n": 3}') == {"n": 3}
    for bad in (b"{", b"NaN", b'{"x": Infinity}', b"\xff"):
        with pytest.raises(InvalidInput, match="not valid JSON"):
            decode_json_body(bad)
