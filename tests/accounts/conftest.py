"""Account fixtures: a migrated database, a clock the tests move, a fast Argon2 hasher."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher

from terrafuse.core.clock import utcnow
from terrafuse.store.db import Database
from terrafuse.usecases.accounts import Accounts

SECRET = b"test-secret-0123456789abcdef0123456789abcdef"
PASSWORD = "Correct-Horse1"
# Cheap parameters: the tests hash hundreds of times. Production uses PasswordHasher() defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def accounts(db: Database, clock: Clock) -> Accounts:
    return make_accounts(db, clock)


def make_accounts(db: Database, clock: Clock, **kwargs: object) -> Accounts:
    return Accounts(db, SECRET, clock=clock, hasher=kwargs.pop("hasher", FAST_HASHER), **kwargs)  # type: ignore[arg-type]
