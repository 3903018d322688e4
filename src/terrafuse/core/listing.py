"""List queries: the typed form of "which page of which records" (Fusion list parameters).

The API parses the wire form (``limit``, ``reverse``, ``search``, ``filter[<field>__<modifier>]``,
``last[<key>]``) into a :class:`ListQuery`; the store applies it to SQL. It lives in ``core`` so
that both sides can use it without ``store`` importing ``api`` or the other way round.

Filter and cursor values stay text here: only the store knows each column's type, so it converts
them (and reports bad values as :class:`~terrafuse.errors.InvalidParameter`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_LIMIT = 24
MAX_LIMIT = 1000


class Modifier(enum.StrEnum):
    """How a filter compares a field with its value(s)."""

    EQ = "eq"
    NE = "ne"
    LE = "le"
    LT = "lt"
    GE = "ge"
    GT = "gt"
    BEGINS_WITH = "begins_with"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    NULL = "null"
    NOT_NULL = "not_null"
    IN = "in"
    BETWEEN = "between"


@dataclass(frozen=True)
class Filter:
    """One ``filter[<field>__<modifier>]=<value>`` condition.

    ``values`` holds one text value, except: ``in`` any number (comma-separated on the wire),
    ``between`` exactly two (lower, upper; inclusive), ``null``/``not_null`` none.
    """

    field: str
    modifier: Modifier
    values: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The wire name, for messages: ``<field>__<modifier>``."""
        return f"{self.field}__{self.modifier.value}"


@dataclass(frozen=True)
class ListQuery:
    """A page request: size, direction, free-text search, filters (all must hold) and cursor.

    ``last`` is the cursor copied from the previous page's ``last`` object (key -> text value),
    or None for the first page.
    """

    limit: int = DEFAULT_LIMIT
    reverse: bool = False
    search: str | None = None
    filters: tuple[Filter, ...] = ()
    last: Mapping[str, str] | None = field(default=None)
