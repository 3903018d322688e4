"""ListQuery applied to SQL on SQLite and PostgreSQL: every modifier, search, key-set paging."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, Numeric, String, Table, func, insert, select

from terrafuse.api.fusion.wire import dumps, list_envelope, parse_list_query
from terrafuse.core.listing import ListQuery
from terrafuse.errors import InvalidParameter
from terrafuse.store.db import Database
from terrafuse.store.listing import ListSpec, fetch_page
from terrafuse.store.tables import UTCDateTime

META = MetaData()
WIDGETS = Table(
    "widgets",
    META,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("score", Numeric(10, 2), nullable=False),
    Column("flag", Boolean, nullable=True),
    Column("note", String(100), nullable=True),
    Column("keywords", JSON, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)
W = WIDGETS.c
SPEC = ListSpec(
    filters={"id": W.id, "name": W.name, "size": W.size, "score": W.score, "flag": W.flag, "note": W.note,
             "keywords": W.keywords, "created_at": W.created_at},
    search=(W.name, W.note),
    order=(("created_at", W.created_at), ("id", W.id)),
)  # fmt: skip
NAMES = [
    "Alpha", "alpha", "ALPHA beta", "Beta", "beta_2", "beta%2", "betaX2", "Gamma", "100% water", "a_b",
    "aXb", "Éclair", "éclair", "delta", "Delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau",
]  # fmt: skip
BASE = datetime(2026, 1, 1, tzinfo=UTC)
ROWS: list[dict[str, Any]] = [
    {
        "id": f"w{(i * 7) % 30:02d}",  # ids not in insertion order, so the tie-break matters
        "name": name,
        "size": i * 10 - 50,
        "score": Decimal(i) / 4,
        "flag": [True, False, None][i % 3],
        "note": None if i % 4 == 0 else f"Note {i}",
        "keywords": None if i % 5 == 0 else (["water", "Lakes"] if i % 2 else ["land", f"k{i}"]),
        "created_at": BASE + timedelta(hours=i // 2),  # pairs share a timestamp
    }
    for i, name in enumerate(NAMES)
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The backends of ``database_url``, but one database per module: these tests only read."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('listing') / 'widgets.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        if server is None:
            pytest.skip("PostgreSQL binaries are not installed")
        url = server.create_database()
    database = Database(url)
    META.create_all(database.engine)
    with database.write_conn() as conn:
        conn.execute(insert(WIDGETS), ROWS)
    yield database
    database.dispose()


def ids(db: Database, query: ListQuery) -> set[str]:
    with db.read_conn() as conn:
        rows, last = fetch_page(conn, select(WIDGETS), query, SPEC)
    assert last is None
    return {r.id for r in rows}


def where(test: Callable[[dict[str, Any]], bool]) -> set[str]:
    return {r["id"] for r in ROWS if test(r)}


def query(**filters: str) -> ListQuery:
    params = {f"filter[{k}]": v for k, v in filters.items()} | {"limit": "1000"}
    return parse_list_query(params, filterable=SPEC.filter_names, cursor_keys=SPEC.cursor_keys)


CASES: list[tuple[dict[str, str], Callable[[dict[str, Any]], bool]]] = [
    ({"name__eq": "Alpha"}, lambda r: r["name"] == "Alpha"),
    ({"name": "alpha"}, lambda r: r["name"] == "alpha"),
    ({"name__ne": "Alpha"}, lambda r: r["name"] != "Alpha"),
    ({"note__ne": "Note 1"}, lambda r: r["note"] != "Note 1"),  # rows without a note included
    ({"size__lt": "0"}, lambda r: r["size"] < 0),
    ({"size__le": "0"}, lambda r: r["size"] <= 0),
    ({"size__gt": "100"}, lambda r: r["size"] > 100),
    ({"size__ge": "100"}, lambda r: r["size"] >= 100),
    ({"score__ge": "2.5"}, lambda r: r["score"] >= Decimal("2.5")),
    ({"created_at__lt": "2026-01-01T03:00:00+00:00"}, lambda r: r["created_at"] < BASE + timedelta(hours=3)),
    ({"created_at__ge": "2026-01-01T05:00:00+02:00"}, lambda r: r["created_at"] >= BASE + timedelta(hours=3)),
    ({"created_at__gt": "2026-01-01T03:00:00"}, lambda r: r["created_at"] > BASE + timedelta(hours=3)),
    ({"flag__eq": "true"}, lambda r: r["flag"] is True),
    ({"flag__eq": "False"}, lambda r: r["flag"] is False),
    ({"flag__null": ""}, lambda r: r["flag"] is None),
    ({"name__begins_with": "beta_"}, lambda r: r["name"].startswith("beta_")),
    ({"name__begins_with": "beta%"}, lambda r: r["name"].startswith("beta%")),
    ({"name__begins_with": "Beta"}, lambda r: r["name"].startswith("Beta")),  # case-sensitive
    ({"name__begins_with": "a_"}, lambda r: r["name"].startswith("a_")),
    ({"name__begins_with": "É"}, lambda r: r["name"].startswith("É")),
    ({"name__contains": "%"}, lambda r: "%" in r["name"]),
    ({"name__contains": "_"}, lambda r: "_" in r["name"]),
    ({"name__contains": "lph"}, lambda r: "lph" in r["name"]),
    ({"name__not_contains": "a"}, lambda r: "a" not in r["name"]),
    ({"note__not_contains": "1"}, lambda r: r["note"] is None or "1" not in r["note"]),
    ({"note__null": "True"}, lambda r: r["note"] is None),
    ({"note__not_null": "ignored"}, lambda r: r["note"] is not None),
    ({"size__in": "-50,0,10,999"}, lambda r: r["size"] in (-50, 0, 10, 999)),
    ({"name__in": "Alpha,Beta,nobody"}, lambda r: r["name"] in ("Alpha", "Beta")),
    ({"size__between": "-10,40"}, lambda r: -10 <= r["size"] <= 40),
    (
        {"created_at__between": "2026-01-01T01:00:00Z,2026-01-01T02:00:00Z"},
        lambda r: BASE + timedelta(hours=1) <= r["created_at"] <= BASE + timedelta(hours=2),
    ),
    ({"keywords__contains": "water"}, lambda r: r["keywords"] is not None and "water" in r["keywords"]),
    ({"keywords__contains": "lakes"}, lambda r: False),  # membership, case-sensitive
    ({"keywords__not_contains": "water"}, lambda r: r["keywords"] is None or "water" not in r["keywords"]),
    ({"keywords__null": ""}, lambda r: r["keywords"] is None),
    ({"keywords__not_null": ""}, lambda r: r["keywords"] is not None),
    ({"size__ge": "0", "name__contains": "a"}, lambda r: r["size"] >= 0 and "a" in r["name"]),
]


@pytest.mark.parametrize(("filters", "test"), CASES, ids=[",".join(c[0]) for c in CASES])
def test_every_modifier(
    db: Database, filters: dict[str, str], test: Callable[[dict[str, Any]], bool]
) -> None:
    expected = where(test)
    assert ids(db, query(**filters)) == expected
    assert expected or filters == {"keywords__contains": "lakes"}  # each case selects something


@pytest.mark.parametrize("term", ["ALPHA", "alpha", "note 1", "100%", "a_", "%", "_", "X2", "nothing"])
def test_search_is_case_insensitive_on_name_and_note(db: Database, term: str) -> None:
    expected = where(lambda r: any(term.lower() in (v or "").lower() for v in (r["name"], r["note"])))
    assert ids(db, ListQuery(limit=1000, search=term)) == expected


def test_search_folds_non_ascii_letters(db: Database) -> None:
    with db.read_conn() as conn:
        if conn.dialect.name == "postgresql" and conn.execute(select(func.lower("É"))).scalar() != "é":
            pytest.skip("this PostgreSQL's locale does not fold non-ASCII letters")
    assert ids(db, ListQuery(limit=1000, search="éclair")) == where(lambda r: r["name"].lower() == "éclair")
    assert len(ids(db, ListQuery(limit=1000, search="ÉCLAIR"))) == 2


def page_through(db: Database, limit: int, reverse: bool, **filters: str) -> list[str]:
    """Follow ``last`` like the SDK: JSON reply -> query parameters -> next page."""
    seen: list[str] = []
    cursor: dict[str, Any] = {}
    for _ in range(100):
        params = {"limit": str(limit), "reverse": str(reverse)} | {
            f"filter[{k}]": v for k, v in filters.items()
        }
        params |= {f"last[{k}]": str(v) for k, v in cursor.items()}
        lq = parse_list_query(params, filterable=SPEC.filter_names, cursor_keys=SPEC.cursor_keys)
        with db.read_conn() as conn:
            rows, last = fetch_page(conn, select(WIDGETS), lq, SPEC)
        reply = json.loads(dumps(list_envelope([{"id": r.id} for r in rows], last)))
        assert len(reply["list"]) <= limit
        seen.extend(item["id"] for item in reply["list"])
        if not reply["last"]:
            return seen
        cursor = reply["last"]
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("limit", [1, 4, 30, 31])
@pytest.mark.parametrize("reverse", [False, True])
def test_paging_visits_every_row_once_in_order(db: Database, limit: int, reverse: bool) -> None:
    expected = [r["id"] for r in sorted(ROWS, key=lambda r: (r["created_at"], r["id"]), reverse=reverse)]
    assert page_through(db, limit, reverse) == expected


def test_paging_with_a_filter(db: Database) -> None:
    expected = [r["id"] for r in sorted(ROWS, key=lambda r: (r["created_at"], r["id"])) if r["size"] >= 0]
    assert page_through(db, 3, False, size__ge="0") == expected
    assert page_through(db, 3, True, size__ge="0") == expected[::-1]


def test_an_exact_last_page_ends_without_an_empty_page(db: Database) -> None:
    with db.read_conn() as conn:
        rows, last = fetch_page(conn, select(WIDGETS), ListQuery(limit=30), SPEC)
        assert len(rows) == 30 and last is None
        rows, last = fetch_page(conn, select(WIDGETS), ListQuery(limit=29), SPEC)
        assert len(rows) == 29 and last is not None and last["created_at"].tzinfo is not None


def test_the_callers_own_conditions_are_kept(db: Database) -> None:
    with db.read_conn() as conn:
        rows, _ = fetch_page(conn, select(WIDGETS).where(W.size > 200), query(name__contains="a"), SPEC)
    assert {r.id for r in rows} == where(lambda r: r["size"] > 200 and "a" in r["name"])


@pytest.mark.parametrize(
    ("lq", "message"),
    [
        (query(size__eq="ten"), r"filter\[size__eq\]: 'ten' is not a valid int"),
        (query(score__lt="abc"), r"filter\[score__lt\]: 'abc' is not a valid number"),
        (query(flag__eq="maybe"), r"filter\[flag__eq\]: 'maybe' is not a valid bool"),
        (query(created_at__gt="yesterday"), r"filter\[created_at__gt\]: 'yesterday' is not a valid datetime"),
        (query(size__begins_with="1"), r"filter\[size__begins_with\]: size is not text"),
        (query(keywords__eq="water"), r"filter\[keywords__eq\]: keywords is a list; use contains"),
        (ListQuery(last={"created_at": "soon", "id": "w01"}), r"last\[created_at\]: 'soon' is not a valid"),
        (ListQuery(last={"id": "w01"}), r"incomplete cursor: last\[created_at\] is missing"),
    ],
)
def test_bad_values_are_invalid_parameters(db: Database, lq: ListQuery, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message), db.read_conn() as conn:
        fetch_page(conn, select(WIDGETS), lq, SPEC)


def test_unknown_fields_and_unsearchable_lists(db: Database) -> None:
    no_search = ListSpec(filters={"id": W.id}, order=(("id", W.id),))
    with db.read_conn() as conn:
        with pytest.raises(InvalidParameter, match="cannot filter on 'size'"):
            fetch_page(conn, select(WIDGETS), query(size__eq="1"), no_search)
        with pytest.raises(InvalidParameter, match="cannot be searched"):
            fetch_page(conn, select(WIDGETS), ListQuery(search="x"), no_search)
