"""Account use cases: sign-in, sessions, the user's own account, organisations and privileges.

Passwords are hashed with Argon2 and re-hashed when the hasher's parameters change. A sign-in
answers the same, in about the same time, whether the account exists or not. Failed sign-ins
are counted in the database per account and per client address, so every server sees them.

Sessions: an opaque access token (only its SHA-256 hash is stored) that lasts one day, plus an
``id_token`` JWT (HS256, settings secret) whose ``sub`` names the user, as Fusion clients expect.

Another organisation answers exactly as one that does not exist (``NotFound``); a member who
lacks a privilege gets ``Forbidden``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from terrafuse.core.accounts import (
    ALL_PRIVILEGES,
    Membership,
    Principal,
    Privilege,
    User,
    check_password,
    check_user_changes,
    normalise_email,
    parse_privileges,
)
from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.organisations import Organisation, check_organisation_changes
from terrafuse.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    TerrafuseError,
    TooManyRequests,
    Unauthorized,
)
from terrafuse.store.accounts import LoginAttempts, Memberships, Sessions, Users
from terrafuse.store.db import Database
from terrafuse.store.organisations import Organisations

SESSION_LIFETIME = timedelta(days=1)  # guide, section 4: sessions last at most one day
LAST_REQUEST_INTERVAL = timedelta(minutes=1)  # last_request_at is written at most this often
ISSUER = "terrafuse"
BAD_CREDENTIALS = "wrong e-mail address, user id or password"
# The guide's example account (Quick Example); created by ``serve --demo``.
DEMO_EMAIL = "me@org.com"
DEMO_PASSWORD = "MyPassword123!"


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failed sign-ins within ``window`` block further attempts."""

    window: timedelta = timedelta(minutes=15)
    max_account_failures: int = 5
    max_address_failures: int = 20


@dataclass(frozen=True)
class LoginResult:
    """What a sign-in hands the client."""

    access_token: str
    id_token: str
    refresh_token: str  # stored hashed; not accepted anywhere yet (sessions are not refreshable)
    user_id: str
    expires_at: datetime


class Accounts:
    """What the account use cases act on: repositories, signing key, clock, hasher, policy."""

    def __init__(
        self,
        db: Database,
        secret: bytes | None = None,
        organisations: Organisations | None = None,
        clock: Callable[[], datetime] = utcnow,
        hasher: PasswordHasher | None = None,
        throttle: ThrottlePolicy | None = None,
    ) -> None:
        self.users = Users(db)
        self.memberships = Memberships(db)
        self.sessions = Sessions(db)
        self.attempts = LoginAttempts(db)
        self.organisations = organisations or Organisations(db)
        self.secret = secret  # None: sign-in is disabled (the admin CLI needs no key)
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.throttle = throttle or ThrottlePolicy()

    @functools.cached_property
    def dummy_hash(self) -> str:
        """A hash to verify against when the account does not exist (same work either way)."""
        return self.hasher.hash(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    """How a token is stored: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- sign-in --------------------------------------------------------------------------------------
def login(
    ctx: Accounts,
    *,
    email: str | None = None,
    user_id: str | None = None,
    password: str | None,
    client_address: str | None = None,
) -> LoginResult:
    """Sign in by e-mail address (any case) or user id, and open a one-day session."""
    if ctx.secret is None:
        raise TerrafuseError("sign-in is not configured on this server (no signing key)")
    user = _verify(ctx, email, user_id, password, client_address)
    now = ctx.clock()
    expires_at = now + SESSION_LIFETIME
    access_token = secrets.token_urlsafe(32)
    refresh_token = secrets.token_urlsafe(32)
    ctx.sessions.add(
        new_id(),
        user.id,
        hash_token(access_token),
        hash_token(refresh_token),
        now,
        expires_at,
        client_address,
    )
    claims = {
        "sub": user.id,
        "email": user.email,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "iss": ISSUER,
    }
    id_token = jwt.encode(claims, ctx.secret, algorithm="HS256")
    return LoginResult(access_token, id_token, refresh_token, user.id, expires_at)


def authenticate(ctx: Accounts, token: str) -> Principal:
    """The principal of a live session's access token (``Unauthorized`` if expired, revoked or
    unknown)."""
    now = ctx.clock()
    grant = ctx.sessions.active(hash_token(token), now) if token and len(token) <= 512 else None
    if grant is None:
        raise Unauthorized("the access token is not valid (it may have expired): sign in again")
    _touch(ctx, grant.user, now)
    return Principal.of(grant.user, ctx.memberships.for_user(grant.user.id), grant.session_id)


def authenticate_password(
    ctx: Accounts, username: str, password: str, client_address: str | None = None
) -> Principal:
    """The principal of an e-mail address (or user id) and password, without opening a session
    (HTTP Basic). Throttled like a sign-in."""
    by_email = "@" in username
    user = _verify(
        ctx, username if by_email else None, None if by_email else username, password, client_address
    )
    _touch(ctx, user, ctx.clock())
    return Principal.of(user, ctx.memberships.for_user(user.id))


def logout(ctx: Accounts, principal: Principal) -> None:
    """End the principal's session (nothing to do for HTTP Basic or anonymous)."""
    if principal.session_id is not None:
        ctx.sessions.revoke(principal.session_id, ctx.clock())


def _verify(
    ctx: Accounts,
    email: str | None,
    user_id: str | None,
    password: str | None,
    client_address: str | None,
) -> User:
    """The user these credentials name; every failure looks the same and takes as long."""
    named = email or user_id
    if not named:
        raise InvalidInput("an e-mail address or a user id is required to sign in")
    if not isinstance(named, str) or "\x00" in named:  # (PostgreSQL cannot compare NUL text)
        raise InvalidInput("the e-mail address or user id must be text without NUL characters")
    if not isinstance(password, str) or not password:
        raise InvalidInput("a password is required to sign in")
    identifier = named.strip().lower()[:254]
    try:
        found = (
            ctx.users.credentials(email=normalise_email(email))
            if email
            else ctx.users.credentials(user_id=identifier)
        )
    except InvalidInput:
        found = None
    # One counter per account however it is named (e-mail address or id).
    account_key = f"user:{found[0].email if found else identifier}"
    address_key = f"ip:{client_address}" if client_address else None
    now = ctx.clock()
    policy = ctx.throttle
    account_failures = _check_throttle(ctx, account_key, policy.max_account_failures, now)
    if address_key is not None:
        # A success does not reset the address counter: one valid account must not buy an
        # attacker fresh guesses at others.
        _check_throttle(ctx, address_key, policy.max_address_failures, now)

    stored_hash = found[1] if found else ctx.dummy_hash
    try:
        ok = ctx.hasher.verify(stored_hash, password) and found is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None:
        keys = [account_key] + ([address_key] if address_key else [])
        ctx.attempts.record(keys, now, False, now - policy.window)
        raise Unauthorized(BAD_CREDENTIALS)
    user, stored_hash = found
    if account_failures:
        ctx.attempts.record([account_key], now, True, now - policy.window)
    if ctx.hasher.check_needs_rehash(stored_hash):
        ctx.users.set_password_hash(user.id, ctx.hasher.hash(password))
    return user


def _check_throttle(ctx: Accounts, key: str, limit: int, now: datetime) -> int:
    """How many failures count against ``key``; ``TooManyRequests`` once they reach ``limit``."""
    window = ctx.throttle.window
    failures = ctx.attempts.recent_failures(key, now - window, limit)
    if len(failures) >= limit:
        retry_at = failures[-1] + window  # then fewer than ``limit`` failures remain in the window
        seconds = max(1, math.ceil((retry_at - now).total_seconds()))
        what = "account" if key.startswith("user:") else "address"
        raise TooManyRequests(
            f"too many failed sign-ins for this {what}: try again in {seconds} s "
            f"(after {retry_at.strftime('%Y-%m-%dT%H:%M:%SZ')})",
            retry_after=seconds,
        )
    return len(failures)


def _touch(ctx: Accounts, user: User, now: datetime) -> None:
    stale = now - LAST_REQUEST_INTERVAL
    if user.last_request_at is None or user.last_request_at < stale:
        ctx.users.touch(user.id, now, stale)


# -- the user's own account -----------------------------------------------------------------------
def _own(principal: Principal, user_id: str) -> User:
    """The principal's user, if ``user_id`` names it; any other user does not exist for them."""
    if principal.user is None:
        raise Unauthorized("sign in first")
    if principal.user.id != user_id:
        raise NotFound(f"no user with id {user_id!r}")
    return principal.user


def get_user(ctx: Accounts, principal: Principal, user_id: str) -> User:
    """The principal's own account, as stored now."""
    _own(principal, user_id)
    user = ctx.users.get(user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id!r}")
    return user


def update_user(ctx: Accounts, principal: Principal, user_id: str, fields: Mapping[str, Any]) -> User:
    """Change names, telephone, notification preferences, time zone, locale, units or the default
    output storage period; other fields (read-only or unknown) are ignored."""
    _own(principal, user_id)
    user = ctx.users.update(user_id, check_user_changes(fields), ctx.clock())
    if user is None:
        raise NotFound(f"no user with id {user_id!r}")
    return user


def change_password(
    ctx: Accounts,
    principal: Principal,
    user_id: str,
    old: str,
    new: str,
    client_address: str | None = None,
) -> User:
    """Replace the password (the old one must be right, the new one must meet the policy) and end
    the user's other sessions; the account afterwards."""
    user = _own(principal, user_id)
    if not isinstance(old, str) or not old:
        raise InvalidInput("the old password is required")
    if not isinstance(new, str) or not new:
        raise InvalidInput("the new password is required")
    check_password(new)
    try:
        _verify(ctx, None, user.id, old, client_address)
    except Unauthorized:
        raise InvalidInput("the old password is not correct") from None
    now = ctx.clock()
    ctx.users.set_password_hash(user.id, ctx.hasher.hash(new), now)
    ctx.sessions.revoke_all(user.id, now, keep=principal.session_id)
    changed = ctx.users.get(user.id)
    if changed is None:  # deleted meanwhile
        raise NotFound(f"no user with id {user_id!r}")
    return changed


def delete_user(ctx: Accounts, principal: Principal, user_id: str) -> User:
    """Delete the principal's own account, with its sessions and memberships; the account as it
    was."""
    user = _own(principal, user_id)
    if not ctx.users.delete(user_id):
        raise NotFound(f"no user with id {user_id!r}")
    return user


# -- organisations and privileges -----------------------------------------------------------------
def require(principal: Principal, organisation_id: str, privilege: Privilege | None = None) -> Membership:
    """The principal's membership in the organisation, if it grants ``privilege`` (None: any
    membership). Non-members get ``NotFound``, as if the organisation did not exist."""
    membership = principal.membership(organisation_id)
    if membership is None:
        raise NotFound(f"no organisation with id {organisation_id!r}")
    if privilege is not None and privilege not in membership.privileges:
        raise Forbidden(f"this needs the '{privilege.value}' privilege in the organisation")
    return membership


WRITE_PRIVILEGES = frozenset({Privilege.EXECUTE, Privilege.MANAGE})


def require_write(principal: Principal, organisation_id: str) -> Membership:
    """The membership, if it may create and change things (``execute`` or ``manage``)."""
    membership = require(principal, organisation_id)
    if not membership.privileges & WRITE_PRIVILEGES:
        raise Forbidden("this needs the 'execute' privilege in the organisation")
    return membership


def organisations(ctx: Accounts, principal: Principal) -> list[Organisation]:
    """The organisations the principal is a member of."""
    return [] if principal.user is None else ctx.organisations.list_for_user(principal.user.id)


def get_organisation(ctx: Accounts, principal: Principal, organisation_id: str) -> Organisation:
    """An organisation the principal is a member of."""
    require(principal, organisation_id)
    org = ctx.organisations.by_id(organisation_id)
    if org is None:
        raise NotFound(f"no organisation with id {organisation_id!r}")
    return org


def members(ctx: Accounts, principal: Principal, organisation_id: str) -> list[tuple[Membership, str]]:
    """The organisation's members and their e-mail addresses (for members of it)."""
    require(principal, organisation_id)
    return ctx.memberships.for_organisation(organisation_id)


def update_organisation(
    ctx: Accounts, principal: Principal, organisation_id: str, fields: Mapping[str, Any]
) -> Organisation:
    """Change the organisation's name or address (needs ``manage``); other fields are ignored."""
    require(principal, organisation_id, Privilege.MANAGE)
    org = ctx.organisations.update(organisation_id, check_organisation_changes(fields))
    if org is None:
        raise NotFound(f"no organisation with id {organisation_id!r}")
    return org


def delete_organisation(ctx: Accounts, principal: Principal, organisation_id: str) -> Organisation:
    """Delete the organisation and everything it owns (needs ``manage``); the organisation as it
    was."""
    require(principal, organisation_id, Privilege.MANAGE)
    org = ctx.organisations.by_id(organisation_id)
    if org is None or not ctx.organisations.delete(organisation_id):
        raise NotFound(f"no organisation with id {organisation_id!r}")
    return org


# -- operator actions (admin CLI, demo) -----------------------------------------------------------
def create_user(
    ctx: Accounts, email: str, password: str, given_name: str = "", family_name: str = ""
) -> User:
    """A new account (``Conflict`` if the e-mail address is taken)."""
    email = normalise_email(email)
    check_password(password)
    names = check_user_changes({"given_name": given_name, "family_name": family_name})
    now = ctx.clock()
    user = User(id=new_id(), email=email, created_at=now, updated_at=now, **names)
    ctx.users.add(user, ctx.hasher.hash(password))
    return user


def find_user(ctx: Accounts, ref: str) -> User:
    """A user by e-mail address or id."""
    user = ctx.users.by_email(normalise_email(ref)) if "@" in ref else ctx.users.get(ref)
    if user is None:
        raise NotFound(f"no user {ref!r}")
    return user


def find_organisation(ctx: Accounts, ref: str) -> Organisation:
    """An organisation by namespace, id or (unique) name."""
    org = ctx.organisations.by_namespace(ref) or ctx.organisations.by_id(ref)
    if org is not None:
        return org
    named = ctx.organisations.by_name(ref)
    if len(named) > 1:
        raise InvalidInput(f"{len(named)} organisations are named {ref!r}: give the namespace instead")
    if not named:
        raise NotFound(f"no organisation {ref!r} (give its namespace, id or name)")
    return named[0]


def add_member(
    ctx: Accounts, org_ref: str, user_ref: str, privileges: str | frozenset[Privilege]
) -> tuple[Organisation, User, Membership, bool]:
    """Make the user a member with exactly these privileges; the last value says whether the
    membership is new (else its privileges were replaced)."""
    chosen = parse_privileges(privileges) if isinstance(privileges, str) else frozenset(privileges)
    org = find_organisation(ctx, org_ref)
    user = find_user(ctx, user_ref)
    created = ctx.memberships.set(user.id, org.id, chosen, ctx.clock())
    return org, user, Membership(user.id, org.id, chosen), created


def ensure_demo_account(ctx: Accounts, org: Organisation) -> User:
    """The guide's example user, a member of ``org`` with every privilege (idempotent; a changed
    password is kept)."""
    user = ctx.users.by_email(DEMO_EMAIL)
    if user is None:
        try:
            user = create_user(ctx, DEMO_EMAIL, DEMO_PASSWORD, "Demo", "User")
        except TerrafuseError:  # another server created it first
            user = ctx.users.by_email(DEMO_EMAIL)
            assert user is not None
    if ctx.memberships.get(user.id, org.id) is None:
        ctx.memberships.set(user.id, org.id, ALL_PRIVILEGES, ctx.clock())
    return user
