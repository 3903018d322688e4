"""List query parameters -> ListQuery: defaults, every modifier, cursors, and bad input."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from terrafuse.api.fusion.wire import parse_list_query
from terrafuse.core.listing import Filter, ListQuery, Modifier
from terrafuse.errors import InvalidParameter

FIELDS = {"id", "name", "size", "created_at", "keywords", "group_id"}
CURSOR = ("created_at", "id")


def parse(params: object) -> ListQuery:
    return parse_list_query(params, filterable=FIELDS, cursor_keys=CURSOR)  # type: ignore[arg-type]


def test_defaults() -> None:
    assert parse({}) == ListQuery(limit=24, reverse=False, search=None, filters=(), last=None)


def test_limit_reverse_search() -> None:
    query = parse({"limit": "1", "reverse": "True", "search": "  glasgow "})
    assert (query.limit, query.reverse, query.search) == (1, True, "glasgow")
    assert parse({"limit": "1000"}).limit == 1000
    for text, flag in [
        ("False", False),
        ("false", False),
        ("TRUE", True),
        ("true", True),
        ("1", True),
        ("0", False),
    ]:
        assert parse({"reverse": text}).reverse is flag
    assert parse({"search": ""}).search is None


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", "", "2.5"])
def test_bad_limits(limit: str) -> None:
    with pytest.raises(InvalidParameter, match="limit must be a whole number from 1 to 1000"):
        parse({"limit": limit})


@pytest.mark.parametrize("flag", ["yes", "", "None", "2"])
def test_bad_reverse(flag: str) -> None:
    with pytest.raises(InvalidParameter, match="reverse must be True or False"):
        parse({"reverse": flag})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("id__eq", "abc", Filter("id", Modifier.EQ, ("abc",))),
        ("name__ne", "x", Filter("name", Modifier.NE, ("x",))),
        ("size__le", "5", Filter("size", Modifier.LE, ("5",))),
        ("size__lt", "5", Filter("size", Modifier.LT, ("5",))),
        ("size__ge", "5", Filter("size", Modifier.GE, ("5",))),
        ("size__gt", "5", Filter("size", Modifier.GT, ("5",))),
        ("name__begins_with", "Gla", Filter("name", Modifier.BEGINS_WITH, ("Gla",))),
        ("keywords__contains", "water", Filter("keywords", Modifier.CONTAINS, ("water",))),
        ("name__not_contains", "x", Filter("name", Modifier.NOT_CONTAINS, ("x",))),
        ("group_id__null", "True", Filter("group_id", Modifier.NULL, ())),
        ("group_id__not_null", "", Filter("group_id", Modifier.NOT_NULL, ())),
        ("size__in", "1,2,3", Filter("size", Modifier.IN, ("1", "2", "3"))),
        ("name__in", "solo", Filter("name", Modifier.IN, ("solo",))),
        ("size__between", "1,9", Filter("size", Modifier.BETWEEN, ("1", "9"))),
        ("name", "exact", Filter("name", Modifier.EQ, ("exact",))),  # a bare field means eq
        ("name__contains", "", Filter("name", Modifier.CONTAINS, ("",))),
    ],
)
def test_every_modifier(key: str, value: str, expected: Filter) -> None:
    query = parse({f"filter[{key}]": value})
    assert query.filters == (expected,)
    assert expected.key == f"{expected.field}__{expected.modifier}"


def test_several_filters_and_a_cursor_from_starlette_query_params() -> None:
    params = QueryParams(
        "limit=24&reverse=False&filter%5Bname__begins_with%5D=Gl&filter%5Bsize__gt%5D=3"
        "&last%5Bcreated_at%5D=2026-03-01T12%3A00%3A00%2B00%3A00&last%5Bid%5D=abc&service_id=s-1"
    )
    query = parse(params)
    assert query.filters == (
        Filter("name", Modifier.BEGINS_WITH, ("Gl",)),
        Filter("size", Modifier.GT, ("3",)),
    )
    assert query.last == {"created_at": "2026-03-01T12:00:00+00:00", "id": "abc"}
    assert parse([("filter[id__eq]", "x"), ("limit", "2")]).limit == 2  # pairs work too


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"filter[name__like]": "x"},
            r"unknown filter modifier 'like' in filter\[name__like\]; use one of eq, ne",
        ),
        (
            {"filter[colour__eq]": "x"},
            r"cannot filter on 'colour' in filter\[colour__eq\]; filterable: created_at",
        ),
        ({"filter[colour]": "x"}, r"cannot filter on 'colour'"),
        ({"filter[]": "x"}, r"malformed query parameter 'filter\[\]'"),
        ({"filter[name": "x"}, r"malformed query parameter 'filter\[name'"),
        ({"filter[size__between]": "1"}, r"filter\[size__between\] needs two comma-separated values"),
        ({"filter[size__between]": "1,2,3"}, r"needs two comma-separated values"),
        ({"last[created_at]": "x"}, r"incomplete cursor: last\[...\] needs created_at, id"),
        ({"last[rank]": "x"}, r"unknown cursor key in 'last\[rank\]'; expected created_at, id"),
        ([("limit", "1"), ("limit", "2")], r"'limit' is given more than once"),
        ([("filter[id__eq]", "a"), ("filter[id__eq]", "b")], r"'filter\[id__eq\]' is given more than once"),
    ],
)
def test_bad_parameters_are_explained(params: object, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse(params)


def test_other_parameters_are_left_to_the_route() -> None:
    assert parse({"preview": "True", "service_id": "s"}) == ListQuery()
