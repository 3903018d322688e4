"""Applying a :class:`~terrafuse.core.listing.ListQuery` to SQL: filters, search, key-set pages.

The answers are the same on SQLite and PostgreSQL:

* Text filters (``eq``, ``begins_with``, ``contains``...) are case-sensitive, as Fusion documents
  them. SQLite's LIKE ignores case, so ``begins_with``/``contains`` use ``substr``/``instr`` there
  (no wildcards at all); PostgreSQL uses LIKE with ``%``/``_`` escaped, and ``strpos``.
* ``search`` is case-insensitive: ``lower(column)`` contains the lower-cased term, ``%``/``_``
  escaped. SQLite's own ``lower()`` folds ASCII only, so there it is Python's ``str.lower``
  (registered on the connection), which matches PostgreSQL with a UTF-8 locale.
* ``ne`` and ``not_contains`` include rows with no value (null is "not equal").
* On JSON list columns (e.g. ``keywords``), ``contains``/``not_contains`` test membership.
* Pages are key-set pages over ``ListSpec.order`` (columns that are never null; the last one
  unique, e.g. ``(created_at, id)``): ``limit + 1`` rows are read to know if another page follows.

Filter and cursor values arrive as text and are converted with the column's type; a value that
does not convert is an :class:`~terrafuse.errors.InvalidParameter` naming the parameter.
"""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    not_,
    or_,
)
from sqlalchemy import select as sql_select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from terrafuse.core.listing import Filter, ListQuery, Modifier
from terrafuse.errors import InvalidParameter

_SQLITE_LOWER = "terrafuse_lower"
_COMPARISONS: dict[Modifier, Callable[[Any, Any], Any]] = {
    Modifier.LE: operator.le,
    Modifier.LT: operator.lt,
    Modifier.GE: operator.ge,
    Modifier.GT: operator.gt,
}


@dataclass(frozen=True)
class ListSpec:
    """What a list allows: filterable fields, searched columns and the key-set order.

    ``order`` pairs each cursor key (the name in ``last``) with its column.
    """

    filters: Mapping[str, ColumnElement[Any]]
    order: Sequence[tuple[str, ColumnElement[Any]]]
    search: Sequence[ColumnElement[Any]] = ()

    @property
    def filter_names(self) -> frozenset[str]:
        """The fields ``filter[...]`` may name."""
        return frozenset(self.filters)

    @property
    def cursor_keys(self) -> tuple[str, ...]:
        """The keys of ``last``."""
        return tuple(key for key, _ in self.order)


def fetch_page(
    conn: Connection, stmt: Select[Any], query: ListQuery, spec: ListSpec
) -> tuple[list[Row[Any]], dict[str, Any] | None]:
    """One page of ``stmt`` (which must select the order columns) and the next page's cursor.

    The cursor is None on the last page; otherwise it holds the last row's order values
    (Python values: the JSON encoder turns them into text, :func:`fetch_page` parses them back).
    """
    if not spec.order:
        raise ValueError("a list needs an order to page through")
    dialect = conn.dialect.name
    conditions = [_condition(spec.filters, flt, dialect) for flt in query.filters]
    if query.search:
        conditions.append(_search(conn, spec.search, query.search))
    if query.last:
        conditions.append(_after(spec.order, query.last, query.reverse))
    if conditions:
        stmt = stmt.where(*conditions)
    ordering = [col.desc() if query.reverse else col.asc() for _, col in spec.order]
    rows = list(conn.execute(stmt.order_by(*ordering).limit(query.limit + 1)).all())
    if len(rows) <= query.limit:
        return rows, None
    rows = rows[: query.limit]
    tail = rows[-1]._mapping
    return rows, {key: tail[col] for key, col in spec.order}


# -- filters --------------------------------------------------------------------------------
def _condition(filters: Mapping[str, ColumnElement[Any]], flt: Filter, dialect: str) -> ColumnElement[bool]:
    col = filters.get(flt.field)
    if col is None:
        raise InvalidParameter(f"cannot filter on {flt.field!r}; filterable: {', '.join(sorted(filters))}")
    what = f"filter[{flt.key}]"
    kind = _kind(col.type)
    modifier = flt.modifier
    if modifier in (Modifier.NULL, Modifier.NOT_NULL):
        null = or_(col.is_(None), cast(col, String) == "null") if kind is JSON else col.is_(None)
        return null if modifier is Modifier.NULL else not_(null)
    if kind is JSON:
        if modifier not in (Modifier.CONTAINS, Modifier.NOT_CONTAINS):
            raise InvalidParameter(
                f"{what}: {flt.field} is a list; use contains, not_contains, null or not_null"
            )
        has = _json_has(col, flt.values[0], dialect)
        return has if modifier is Modifier.CONTAINS else or_(not_(has), col.is_(None))
    values = [_coerce(kind, text, what) for text in flt.values]
    if modifier in (Modifier.BEGINS_WITH, Modifier.CONTAINS, Modifier.NOT_CONTAINS):
        if kind is not str:
            raise InvalidParameter(f"{what}: {flt.field} is not text")
        if modifier is Modifier.BEGINS_WITH:
            return _begins_with(col, values[0], dialect)
        has = _contains(col, values[0], dialect)
        return has if modifier is Modifier.CONTAINS else or_(not_(has), col.is_(None))
    if modifier is Modifier.EQ:
        return col == values[0]
    if modifier is Modifier.NE:
        return or_(col != values[0], col.is_(None))
    if modifier is Modifier.IN:
        return col.in_(values)
    if modifier is Modifier.BETWEEN:
        return col.between(values[0], values[1])
    return _COMPARISONS[modifier](col, values[0])


def _begins_with(col: ColumnElement[Any], value: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":  # LIKE ignores case on SQLite; substr and = do not
        return func.substr(col, 1, len(value)) == value
    return col.startswith(value, autoescape=True)


def _contains(col: ColumnElement[Any], value: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        return func.instr(col, value) > 0
    if dialect == "postgresql":
        return func.strpos(col, value) > 0
    return col.contains(value, autoescape=True)


def _json_has(col: ColumnElement[Any], value: str, dialect: str) -> ColumnElement[bool]:
    """Whether the JSON list in ``col`` has the text ``value`` as an element."""
    if dialect == "postgresql":  # jsonb containment: false (not an error) for non-lists
        return cast(col, JSONB).contains([value])
    elements = func.json_each(col).table_valued("value")
    return exists(sql_select(elements.c.value).where(elements.c.value == value))


# -- search ---------------------------------------------------------------------------------
def _search(conn: Connection, columns: Sequence[ColumnElement[Any]], term: str) -> ColumnElement[bool]:
    if not columns:
        raise InvalidParameter("this list cannot be searched")
    lower = func.lower
    if conn.dialect.name == "sqlite":
        info = conn.connection.info
        if not info.get(_SQLITE_LOWER):
            conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
                _SQLITE_LOWER, 1, _python_lower, deterministic=True
            )
            info[_SQLITE_LOWER] = True
        lower = getattr(func, _SQLITE_LOWER)
    needle = term.lower()
    return or_(
        *(
            lower(col if _kind(col.type) is str else cast(col, String), type_=String).contains(
                needle, autoescape=True
            )
            for col in columns
        )
    )


def _python_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


# -- cursors --------------------------------------------------------------------------------
def _after(order: Sequence[tuple[str, ColumnElement[Any]]], last: Mapping[str, str], reverse: bool) -> Any:
    """Rows strictly after the cursor in the page order: (a, b) > (la, lb), spelled out."""
    values = []
    for key, col in order:
        if key not in last:
            raise InvalidParameter(f"incomplete cursor: last[{key}] is missing")
        values.append(_coerce(_kind(col.type), last[key], f"last[{key}]"))
    beyond = operator.lt if reverse else operator.gt
    return or_(
        *(
            and_(*(c == v for (_, c), v in zip(order[:i], values[:i], strict=True)), beyond(col, values[i]))
            for i, (_, col) in enumerate(order)
        )
    )


# -- values ---------------------------------------------------------------------------------
def _kind(type_: TypeEngine[Any]) -> Any:
    """The Python type a column compares with (``JSON`` for JSON columns)."""
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, JSON):
        return JSON
    try:
        return type_.python_type
    except NotImplementedError:
        return str


_SPACE_OFFSET = re.compile(r" (\d\d:?\d\d)$")


def _coerce(kind: Any, text: str, what: str) -> Any:
    try:
        if kind is str:
            return text
        if kind is bool:
            flag = text.strip().lower()
            if flag not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return flag in ("true", "1")
        if kind is int:
            return int(text.strip())
        if kind is Decimal:
            number = Decimal(text.strip())
            if not number.is_finite():
                raise ValueError(text)
            return number
        if kind is float:
            real = float(text.strip())
            if real != real or real in (float("inf"), float("-inf")):
                raise ValueError(text)
            return real
        if kind is datetime:
            # An unencoded "+" in a query string arrives as a space: "...T10:00:00 00:00".
            stamp = datetime.fromisoformat(_SPACE_OFFSET.sub(r"+\1", text.strip()))
            return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
        if kind is date:
            return date.fromisoformat(text.strip())
        if kind is uuid.UUID:
            return uuid.UUID(text.strip())
    except (ValueError, InvalidOperation) as exc:
        name = getattr(kind, "__name__", str(kind)).replace("Decimal", "number").replace("float", "number")
        raise InvalidParameter(f"{what}: {text!r} is not a valid {name}") from exc
    return text
