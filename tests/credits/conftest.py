"""Fixtures of the credit tests: a migrated database (SQLite and PostgreSQL) and organisations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from terrafuse.store.credits import Credits
from terrafuse.store.db import Database
from terrafuse.store.organisations import Organisations


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def credits(db: Database) -> Credits:
    return Credits(db)


@pytest.fixture
def org(db: Database) -> str:
    return Organisations(db).ensure("Acme", "acme", allow_anonymous=False).id


@pytest.fixture
def other_org(db: Database) -> str:
    return Organisations(db).ensure("Other", "other", allow_anonymous=False).id
