"""Sign-in, sessions, tokens and throttling, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import jwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text

from terrafuse.core.accounts import Principal, User
from terrafuse.errors import InvalidInput, NotFound, TooManyRequests, Unauthorized
from terrafuse.store.db import Database
from terrafuse.store.tables import SessionRow
from terrafuse.usecases import accounts as uc
from terrafuse.usecases.accounts import Accounts, ThrottlePolicy

from .conftest import FAST_HASHER, PASSWORD, SECRET, Clock, make_accounts


@pytest.fixture
def user(accounts: Accounts) -> User:
    return uc.create_user(accounts, "Alice@Example.com", PASSWORD, "Alice", "Liddell")


def test_passwords_are_stored_as_argon2_hashes(accounts: Accounts, db: Database, user: User) -> None:
    with db.read_conn() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored != PASSWORD and PASSWORD not in stored
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, PASSWORD)


def test_login_by_email_in_any_case_and_by_user_id(accounts: Accounts, user: User) -> None:
    assert user.email == "alice@example.com"
    for email in ("alice@example.com", "ALICE@example.COM", " Alice@Example.com "):
        result = uc.login(accounts, email=email, password=PASSWORD)
        assert result.user_id == user.id
    result = uc.login(accounts, user_id=user.id, password=PASSWORD)
    me = uc.authenticate(accounts, result.access_token)
    assert me.user is not None and me.user.id == user.id
    assert uc.get_user(accounts, me, user.id).email == "alice@example.com"


def test_wrong_password_and_unknown_user_look_the_same(accounts: Accounts, user: User) -> None:
    attempts = [
        {"email": "alice@example.com", "password": "Wrong-Password1"},
        {"email": "nobody@example.com", "password": PASSWORD},
        {"email": "not an address", "password": PASSWORD},
        {"user_id": "00000000-0000-0000-0000-000000000000", "password": PASSWORD},
    ]
    errors = []
    for attempt in attempts:
        with pytest.raises(Unauthorized) as info:
            uc.login(accounts, **attempt)  # type: ignore[arg-type]
        errors.append((type(info.value), info.value.detail))
    assert len(set(errors)) == 1
    with pytest.raises(InvalidInput):
        uc.login(accounts, password=PASSWORD)
    with pytest.raises(InvalidInput):
        uc.login(accounts, email="alice@example.com", password="")
    for odd in ({"email": 42}, {"user_id": ["x"]}, {"email": "alice@example.com", "password": 1}):
        with pytest.raises(InvalidInput):
            uc.login(accounts, **{"password": PASSWORD, **odd})  # type: ignore[arg-type]


def test_id_token_is_a_jwt_signed_with_the_secret(accounts: Accounts, user: User) -> None:
    result = uc.login(accounts, email="alice@example.com", password=PASSWORD)
    claims = jwt.decode(result.id_token, SECRET, algorithms=["HS256"], issuer="terrafuse")
    assert claims["sub"] == user.id
    assert claims["email"] == "alice@example.com"
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert claims["exp"] == int(result.expires_at.timestamp())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(result.id_token, b"another-secret-0123456789abcdef0123", algorithms=["HS256"])
    # What the Fusion SDK does: decode without verifying, read `sub`.
    assert jwt.decode(result.id_token, options={"verify_signature": False})["sub"] == user.id


def test_tokens_are_stored_only_as_hashes(accounts: Accounts, db: Database, user: User) -> None:
    result = uc.login(accounts, email="alice@example.com", password=PASSWORD, client_address="10.0.0.1")
    with db.read() as s:
        rows = list(s.scalars(select(SessionRow)))
    assert len(rows) == 1
    stored = " ".join(str(getattr(rows[0], c.name)) for c in SessionRow.__table__.c)
    assert result.access_token not in stored and result.refresh_token not in stored
    assert rows[0].token_hash == uc.hash_token(result.access_token)
    assert rows[0].client_address == "10.0.0.1"


def test_sessions_expire_after_one_day(accounts: Accounts, clock: Clock, user: User) -> None:
    result = uc.login(accounts, email="alice@example.com", password=PASSWORD)
    clock.advance(hours=23, minutes=59)
    assert uc.authenticate(accounts, result.access_token).user.id == user.id  # type: ignore[union-attr]
    clock.advance(minutes=1, seconds=1)
    with pytest.raises(Unauthorized):
        uc.authenticate(accounts, result.access_token)


def test_unknown_tokens_are_refused(accounts: Accounts, user: User) -> None:
    for token in ("", "nope", "x" * 10_000):
        with pytest.raises(Unauthorized):
            uc.authenticate(accounts, token)


def test_logout_revokes_the_session_only(accounts: Accounts, user: User) -> None:
    first = uc.login(accounts, email="alice@example.com", password=PASSWORD)
    second = uc.login(accounts, email="alice@example.com", password=PASSWORD)
    uc.logout(accounts, uc.authenticate(accounts, first.access_token))
    with pytest.raises(Unauthorized):
        uc.authenticate(accounts, first.access_token)
    assert uc.authenticate(accounts, second.access_token).user is not None


def test_change_password_enforces_the_policy_and_ends_other_sessions(accounts: Accounts, user: User) -> None:
    mine = uc.login(accounts, email="alice@example.com", password=PASSWORD)
    other = uc.login(accounts, email="alice@example.com", password=PASSWORD)
    me = uc.authenticate(accounts, mine.access_token)
    with pytest.raises(InvalidInput, match="upper-case"):
        uc.change_password(accounts, me, user.id, PASSWORD, "weakpassword1!")
    with pytest.raises(InvalidInput, match="old password"):
        uc.change_password(accounts, me, user.id, "Not-The-Old1", "MyNewPassword123!")
    assert uc.authenticate(accounts, other.access_token)  # nothing changed yet
    with pytest.raises(NotFound):
        uc.change_password(accounts, me, "someone-else", PASSWORD, "MyNewPassword123!")

    uc.change_password(accounts, me, user.id, PASSWORD, "MyNewPassword123!")
    with pytest.raises(Unauthorized):
        uc.authenticate(accounts, other.access_token)
    assert uc.authenticate(accounts, mine.access_token).user is not None
    with pytest.raises(Unauthorized):
        uc.login(accounts, email="alice@example.com", password=PASSWORD)
    assert uc.login(accounts, email="alice@example.com", password="MyNewPassword123!")


def test_hashes_are_upgraded_when_the_parameters_change(db: Database, clock: Clock) -> None:
    cheap = make_accounts(db, clock)
    user = uc.create_user(cheap, "bob@example.com", PASSWORD)
    old_hash = cheap.users.credentials(user_id=user.id)[1]  # type: ignore[index]
    assert FAST_HASHER.check_needs_rehash(old_hash) is False
    strong = PasswordHasher()
    assert strong.check_needs_rehash(old_hash)
    uc.login(make_accounts(db, clock, hasher=strong), email="bob@example.com", password=PASSWORD)
    new_hash = cheap.users.credentials(user_id=user.id)[1]  # type: ignore[index]
    assert new_hash != old_hash and not strong.check_needs_rehash(new_hash)
    assert uc.login(cheap, email="bob@example.com", password=PASSWORD)


def test_last_request_is_recorded_at_most_once_a_minute(accounts: Accounts, clock: Clock, user: User) -> None:
    token = uc.login(accounts, email="alice@example.com", password=PASSWORD).access_token
    first_seen = clock.now
    uc.authenticate(accounts, token)
    assert accounts.users.get(user.id).last_request_at == first_seen  # type: ignore[union-attr]
    clock.advance(seconds=30)
    uc.authenticate(accounts, token)
    assert accounts.users.get(user.id).last_request_at == first_seen  # type: ignore[union-attr]
    clock.advance(seconds=31)
    uc.authenticate(accounts, token)
    assert accounts.users.get(user.id).last_request_at == clock.now  # type: ignore[union-attr]


def test_http_basic_credentials_open_no_session(accounts: Accounts, db: Database, user: User) -> None:
    principal = uc.authenticate_password(accounts, "ALICE@example.com", PASSWORD, "10.0.0.2")
    assert principal.user is not None and principal.user.id == user.id and principal.session_id is None
    assert uc.authenticate_password(accounts, user.id, PASSWORD).user is not None
    with db.read_conn() as conn:
        assert conn.execute(text("SELECT count(*) FROM sessions")).scalar_one() == 0
    with pytest.raises(Unauthorized):
        uc.authenticate_password(accounts, "alice@example.com", "Wrong-Password1")


# -- throttling -----------------------------------------------------------------------------------
def _fail(ctx: Accounts, email: str = "alice@example.com", address: str | None = "10.0.0.1") -> None:
    with pytest.raises(Unauthorized):
        uc.login(ctx, email=email, password="Wrong-Password1", client_address=address)


def test_throttling_per_account_is_shared_by_servers(database_url: str, clock: Clock) -> None:
    # Two Database objects on one database: two servers.
    db1, db2 = Database(database_url), Database(database_url)
    try:
        db1.migrate()
        one, two = make_accounts(db1, clock), make_accounts(db2, clock)
        uc.create_user(one, "alice@example.com", PASSWORD)
        for i in range(5):
            _fail(one if i % 2 else two, address=f"10.0.0.{i}")
        # Blocked everywhere, even with the right password, by e-mail address or by id.
        user_id = one.users.by_email("alice@example.com").id  # type: ignore[union-attr]
        for ctx in (one, two):
            with pytest.raises(TooManyRequests) as info:
                uc.login(ctx, email="Alice@example.com", password=PASSWORD, client_address="10.9.9.9")
            assert info.value.code == "too-many-requests"
            assert info.value.retry_after is not None and 0 < info.value.retry_after <= 15 * 60
            assert "try again in" in info.value.detail
            with pytest.raises(TooManyRequests):
                uc.login(ctx, user_id=user_id, password=PASSWORD)
        # Other accounts are not affected.
        uc.create_user(one, "bob@example.com", PASSWORD)
        assert uc.login(two, email="bob@example.com", password=PASSWORD)
        # The window passes: allowed again.
        clock.advance(minutes=15, seconds=1)
        assert uc.login(two, email="alice@example.com", password=PASSWORD)
    finally:
        db1.dispose()
        db2.dispose()


def test_a_success_resets_the_account_count(accounts: Accounts, clock: Clock, user: User) -> None:
    for _ in range(4):
        _fail(accounts)
    assert uc.login(accounts, email="alice@example.com", password=PASSWORD)
    for _ in range(4):
        clock.advance(seconds=1)
        _fail(accounts)
    assert uc.login(accounts, email="alice@example.com", password=PASSWORD)
    clock.advance(seconds=1)
    for _ in range(5):
        clock.advance(seconds=1)
        _fail(accounts)
    with pytest.raises(TooManyRequests):
        uc.login(accounts, email="alice@example.com", password=PASSWORD)


def test_the_window_slides(accounts: Accounts, clock: Clock, user: User) -> None:
    for _ in range(5):
        _fail(accounts)
        clock.advance(minutes=1)
    # Failures at t=0..4 min; now t=5 min: blocked until the oldest of them leaves the window.
    with pytest.raises(TooManyRequests) as info:
        uc.login(accounts, email="alice@example.com", password=PASSWORD)
    assert info.value.retry_after == 10 * 60
    clock.advance(minutes=10, seconds=1)
    assert uc.login(accounts, email="alice@example.com", password=PASSWORD)


def test_throttling_per_address(db: Database, clock: Clock) -> None:
    ctx = make_accounts(db, clock, throttle=ThrottlePolicy(max_account_failures=5, max_address_failures=8))
    uc.create_user(ctx, "alice@example.com", PASSWORD)
    for i in range(8):  # a different (unknown) account each time
        _fail(ctx, email=f"user{i}@example.com", address="192.0.2.7")
    with pytest.raises(TooManyRequests, match="address"):
        uc.login(ctx, email="alice@example.com", password=PASSWORD, client_address="192.0.2.7")
    with pytest.raises(TooManyRequests):
        uc.authenticate_password(ctx, "alice@example.com", PASSWORD, "192.0.2.7")
    # The account itself is fine from elsewhere.
    assert uc.login(ctx, email="alice@example.com", password=PASSWORD, client_address="198.51.100.1")
    clock.advance(minutes=16)
    assert uc.login(ctx, email="alice@example.com", password=PASSWORD, client_address="192.0.2.7")


def test_unknown_accounts_are_throttled_like_known_ones(accounts: Accounts) -> None:
    for _ in range(5):
        _fail(accounts, email="ghost@example.com", address=None)
    with pytest.raises(TooManyRequests):
        uc.login(accounts, email="ghost@example.com", password=PASSWORD)


def test_old_attempts_are_forgotten(accounts: Accounts, db: Database, clock: Clock, user: User) -> None:
    for _ in range(3):
        _fail(accounts)
    clock.advance(hours=1)
    _fail(accounts)
    with db.read_conn() as conn:
        # One row per key (account and address) for the newest failure only.
        assert conn.execute(text("SELECT count(*) FROM login_attempts")).scalar_one() == 2


# -- the user's own account -----------------------------------------------------------------------
def test_get_update_and_delete_own_account(accounts: Accounts, clock: Clock, user: User) -> None:
    token = uc.login(accounts, email="alice@example.com", password=PASSWORD).access_token
    me = uc.authenticate(accounts, token)
    assert uc.get_user(accounts, me, user.id).given_name == "Alice"
    clock.advance(seconds=5)
    updated = uc.update_user(
        accounts,
        me,
        user.id,
        {"given_name": "Joe", "family_name": "Bloggs", "email": "evil@example.com", "role": 1, "x": 1},
    )
    assert (updated.given_name, updated.family_name, updated.email, updated.role) == (
        "Joe",
        "Bloggs",
        "alice@example.com",
        0,
    )
    assert updated.updated_at == clock.now and updated.created_at == user.created_at
    updated = uc.update_user(accounts, me, user.id, {"notification_contact": ["sms"]})
    assert updated.notification_contact == ("sms",) and updated.notification_account == ("email",)
    with pytest.raises(InvalidInput):
        uc.update_user(accounts, me, user.id, {"time_zone": "Nowhere/Land"})
    other = uc.create_user(accounts, "bob@example.com", PASSWORD)
    for call in (
        lambda: uc.get_user(accounts, me, other.id),
        lambda: uc.update_user(accounts, me, other.id, {"given_name": "X"}),
        lambda: uc.delete_user(accounts, me, other.id),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(Unauthorized):
        uc.get_user(accounts, Principal(), user.id)

    uc.delete_user(accounts, me, user.id)
    with pytest.raises(Unauthorized):
        uc.authenticate(accounts, token)
    with pytest.raises(Unauthorized):
        uc.login(accounts, email="alice@example.com", password=PASSWORD)
    assert accounts.users.get(other.id) is not None


def test_user_defaults(user: User) -> None:
    assert (user.default_output_storage_period, user.time_zone, user.locale, user.units) == (
        30,
        "UTC",
        "en",
        "metric",
    )
    assert replace(user, given_name="x").email == user.email


def test_login_needs_the_signing_key(db: Database, clock: Clock) -> None:
    ctx = Accounts(db, None, clock=clock, hasher=FAST_HASHER)
    uc.create_user(ctx, "alice@example.com", PASSWORD)
    with pytest.raises(Exception, match="signing key"):
        uc.login(ctx, email="alice@example.com", password=PASSWORD)
