"""The migrations build exactly the schema the table models describe (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from terrafuse.store.db import Database
from terrafuse.store.tables import Base


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def _differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(context, Base.metadata)
    # Server defaults are written by the migrations only (the models set Python defaults).
    return [d for d in diffs if not (isinstance(d, list) and d and d[0][0] == "modify_default")]


def test_migrated_schema_matches_the_table_models(db: Database) -> None:
    assert _differences(db) == []
