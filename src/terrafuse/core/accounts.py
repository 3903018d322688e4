"""Accounts: users, their privileges in organisations, the password policy. No I/O.

Rules from the guide (section 2.1 and 4): every user is linked to an e-mail address and signs
in with it (or the user id) and a password; a user is a member of organisations with
privileges to view and to execute (and, for the organisation's manager, to manage).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from terrafuse.errors import InvalidInput


class Privilege(enum.StrEnum):
    """What a member may do in an organisation (each is granted on its own; none implies another)."""

    VIEW = "view"  # see the organisation's data, processes, executions and outputs
    EXECUTE = "execute"  # create and run processes, dismiss executions
    MANAGE = "manage"  # change the organisation itself


ALL_PRIVILEGES = frozenset(Privilege)


def parse_privileges(text: str | Iterable[str]) -> frozenset[Privilege]:
    """``"view,execute"`` (or an iterable of names) as privileges; unknown names are refused."""
    names = text.split(",") if isinstance(text, str) else list(text)
    names = [n.strip().lower() for n in names if n.strip()]
    unknown = sorted(set(names) - {p.value for p in Privilege})
    if unknown:
        valid = ", ".join(p.value for p in Privilege)
        raise InvalidInput(f"unknown privilege(s) {', '.join(unknown)}: use {valid}")
    return frozenset(Privilege(n) for n in names)


def privileges_text(privileges: Iterable[Privilege]) -> str:
    """The stored form: names in a fixed order, comma-separated."""
    chosen = set(privileges)
    return ",".join(p.value for p in Privilege if p in chosen)


# -- password policy (guide, section 4) -----------------------------------------------------------
MIN_PASSWORD_LENGTH = 8
# The guide lists the special characters twice: `^ $ * . [ ] { } ( ) ? " ! @ # % & / \ , > < ' : ;
# | _ ~ ` = + -` (its text lost `_` and the backtick to typesetting) and the subset
# `. [ ] { } ( ) ? - ! @ # % & , > < : ; | _ ~`. Any character of the larger list counts.
SPECIAL_CHARACTERS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"


def password_problems(password: str) -> list[str]:
    """What the password lacks under the policy (empty when it complies)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if not any(c.isupper() for c in password):
        problems.append("an upper-case letter")
    if not any(c.islower() for c in password):
        problems.append("a lower-case letter")
    if not any(c.isdecimal() for c in password):
        problems.append("a number")
    if not any(c in SPECIAL_CHARACTERS for c in password):
        problems.append(f"a special character (one of {SPECIAL_CHARACTERS})")
    return problems


def check_password(password: str) -> str:
    """Return ``password`` if it complies with the policy; else raise ``InvalidInput`` naming
    everything that is missing."""
    if not isinstance(password, str):
        raise InvalidInput("the password must be text")
    problems = password_problems(password)
    if problems:
        raise InvalidInput("the password is too weak: it needs " + _join(problems))
    return password


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# -- users ----------------------------------------------------------------------------------------
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@(localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")


def normalise_email(email: str) -> str:
    """The canonical form of an e-mail address (trimmed, lower-case); ``InvalidInput`` if it is
    not one. E-mail addresses are unique and compared without regard to case."""
    if not isinstance(email, str):
        raise InvalidInput("the e-mail address must be text")
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise InvalidInput(f"{email!r} is not a valid e-mail address")
    return value


NOTIFICATION_FIELDS = (
    "notification_service_status",
    "notification_account",
    "notification_processing_chain",
    "notification_new_features",
    "notification_contact",
)
NOTIFICATION_CHANNELS = ("email", "sms")
UNITS = ("metric", "imperial")
MAX_OUTPUT_STORAGE_PERIOD = 3650
MAX_TIME_ZONE_LENGTH = 64  # the longest IANA name is about 30 characters


@dataclass(frozen=True)
class User:
    """A user account (the password hash is not part of it: it never leaves the store)."""

    id: str
    email: str
    created_at: datetime
    updated_at: datetime
    given_name: str = ""
    family_name: str = ""
    telephone: str | None = None
    role: int = 0
    default_output_storage_period: int = 30  # days
    time_zone: str = "UTC"
    locale: str = "en"
    units: str = "metric"
    notification_service_status: tuple[str, ...] = ("email",)
    notification_account: tuple[str, ...] = ("email",)
    notification_processing_chain: tuple[str, ...] = ("email",)
    notification_new_features: tuple[str, ...] = ()
    notification_contact: tuple[str, ...] = ("email",)
    last_request_at: datetime | None = None


# Fields a user may change on their own account (guide section 4); everything else is read-only.
USER_EDITABLE_FIELDS = frozenset(
    {
        "given_name",
        "family_name",
        "telephone",
        "time_zone",
        "locale",
        "units",
        "default_output_storage_period",
        *NOTIFICATION_FIELDS,
    }
)
_TELEPHONE_RE = re.compile(r"^\+?[0-9 ()-]{3,31}$")
_LOCALE_RE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})?$")


def check_user_changes(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The valid changes among ``fields``: read-only and unknown names are ignored (clients send
    every field they hold); a bad value of an editable field raises ``InvalidInput``."""
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in USER_EDITABLE_FIELDS:
            continue
        if name in ("given_name", "family_name"):
            changes[name] = _text(name, value, 100)
        elif name == "telephone":
            phone = None if value is None else _text(name, value, 32)
            if phone and not _TELEPHONE_RE.match(phone):
                raise InvalidInput(f"{phone!r} is not a telephone number")
            changes[name] = phone or None
        elif name == "time_zone":
            changes[name] = _time_zone(value)
        elif name == "locale":
            locale = _text(name, value, 20)
            if not _LOCALE_RE.match(locale):
                raise InvalidInput(f"{locale!r} is not a locale such as 'en' or 'en_GB'")
            changes[name] = locale
        elif name == "units":
            if value not in UNITS:
                raise InvalidInput(f"units must be one of {', '.join(UNITS)}")
            changes[name] = value
        elif name == "default_output_storage_period":
            changes[name] = _storage_period(value)
        else:
            changes[name] = _channels(name, value)
    return changes


def _text(name: str, value: Any, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInput(f"{name} is longer than {max_length} characters")
    return value


def _time_zone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput("time_zone must be an IANA time zone name such as 'Europe/London'")
    if len(value) > MAX_TIME_ZONE_LENGTH:
        raise InvalidInput(f"unknown time zone {value[:MAX_TIME_ZONE_LENGTH]!r}...")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: names the file system refuses
        raise InvalidInput(f"unknown time zone {value!r}") from None
    return value


def _storage_period(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_OUTPUT_STORAGE_PERIOD:
        raise InvalidInput(
            f"default_output_storage_period must be a whole number of days, 1-{MAX_OUTPUT_STORAGE_PERIOD}"
        )
    return value


def _channels(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidInput(f"{name} must be a list of channels ({', '.join(NOTIFICATION_CHANNELS)})")
    unknown = [v for v in value if v not in NOTIFICATION_CHANNELS]
    if unknown:
        raise InvalidInput(f"{name}: unknown channel(s) {unknown}; use {', '.join(NOTIFICATION_CHANNELS)}")
    return tuple(dict.fromkeys(value))


# -- memberships and principals -------------------------------------------------------------------
@dataclass(frozen=True)
class Membership:
    """A user's privileges in one organisation."""

    user_id: str
    organisation_id: str
    privileges: frozenset[Privilege] = frozenset()


@dataclass(frozen=True)
class Principal:
    """Who acts: a signed-in user with their memberships, or nobody (``ANONYMOUS``).

    ``session_id`` is set when the user presented an access token (not for HTTP Basic).
    """

    user: User | None = None
    memberships: Mapping[str, Membership] = field(default_factory=dict)
    session_id: str | None = None

    @property
    def anonymous(self) -> bool:
        """Whether nobody signed in."""
        return self.user is None

    @property
    def user_id(self) -> str | None:
        """The signed-in user's id, or ``None`` for anonymous callers."""
        return self.user.id if self.user is not None else None

    def membership(self, organisation_id: str) -> Membership | None:
        """The membership in an organisation, if the user has one."""
        return self.memberships.get(organisation_id)

    @classmethod
    def of(cls, user: User, memberships: Iterable[Membership], session_id: str | None = None) -> Principal:
        """A signed-in user's principal."""
        return cls(user, {m.organisation_id: m for m in memberships}, session_id)


ANONYMOUS = Principal()
