"""Pure account rules: the guide's password policy, e-mail addresses, user changes, privileges."""

from __future__ import annotations

import pytest

from terrafuse.core.accounts import (
    SPECIAL_CHARACTERS,
    Privilege,
    check_password,
    check_user_changes,
    normalise_email,
    parse_privileges,
    password_problems,
    privileges_text,
)
from terrafuse.core.organisations import check_organisation_changes
from terrafuse.errors import InvalidInput


@pytest.mark.parametrize(
    "password",
    [
        "MyPassword123!",  # the guide's example
        "MyOldPassword123!",
        "MyNewPassword123!",
        "Aa1.aaaa",  # exactly 8 characters
        "Zz9_zzzz",
        "Pass word1~",
    ],
)
def test_passwords_that_meet_the_policy(password: str) -> None:
    assert check_password(password) == password


@pytest.mark.parametrize(
    ("password", "missing"),
    [
        ("Aa1.aaa", ["at least 8 characters"]),
        ("mypassword123!", ["an upper-case letter"]),
        ("MYPASSWORD123!", ["a lower-case letter"]),
        ("MyPassword!!!", ["a number"]),
        ("MyPassword123", ["a special character"]),
        ("MyPassword123 ", ["a special character"]),  # a space is not one of the guide's characters
        ("", ["at least 8", "upper-case", "lower-case", "a number", "a special character"]),
        ("abc", ["at least 8", "upper-case", "a number", "a special character"]),
    ],
)
def test_weak_passwords_name_everything_missing(password: str, missing: list[str]) -> None:
    with pytest.raises(InvalidInput) as info:
        check_password(password)
    for what in missing:
        assert what in info.value.detail
    assert len(password_problems(password)) == len(missing)


def test_every_special_character_of_the_guide_counts() -> None:
    # Both lists of the guide: `^ $ * . [ ] { } ( ) ? " ! @ # % & / \ , > < ' : ; | _ ~ ` = + -`.
    for char in "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-":
        assert check_password(f"Abcdefg1{char}")
    assert set(SPECIAL_CHARACTERS) == set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")


def test_email_addresses_are_compared_without_case() -> None:
    assert normalise_email("  Me@Org.COM ") == "me@org.com"
    for bad in ("", "me", "me@", "@org.com", "me@org", "a b@org.com", "me@@org.com"):
        with pytest.raises(InvalidInput):
            normalise_email(bad)


def test_user_changes_keep_editable_fields_and_ignore_the_rest() -> None:
    changes = check_user_changes(
        {
            "given_name": " Joe ",
            "family_name": "Bloggs",
            "email": "x@y.com",
            "id": "other",
            "role": 9,
            "created_at": "2020-01-01",
            "organisations": [],
            "notification_account": ["email", "sms", "email"],
            "notification_new_features": None,
            "telephone": "+44 7700 900123",
            "time_zone": "Europe/London",
            "locale": "en_GB",
            "units": "imperial",
            "default_output_storage_period": "14",
        }
    )
    assert changes == {
        "given_name": "Joe",
        "family_name": "Bloggs",
        "notification_account": ("email", "sms"),
        "notification_new_features": (),
        "telephone": "+44 7700 900123",
        "time_zone": "Europe/London",
        "locale": "en_GB",
        "units": "imperial",
        "default_output_storage_period": 14,
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"time_zone": "Mars/Olympus"},
        {"time_zone": "../../etc/passwd"},
        {"units": "furlongs"},
        {"locale": "english please"},
        {"telephone": "call me"},
        {"default_output_storage_period": 0},
        {"default_output_storage_period": True},
        {"notification_account": ["pigeon"]},
        {"notification_account": "email"},
        {"given_name": 3},
    ],
)
def test_bad_user_changes_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        check_user_changes(fields)


def test_organisation_changes() -> None:
    assert check_organisation_changes(
        {"name": " Acme Ltd ", "namespace": "evil", "allow_anonymous": True, "address_country": "UK"}
    ) == {"name": "Acme Ltd", "address_country": "UK"}
    assert check_organisation_changes({"allow_anonymous": True}, admin=True) == {"allow_anonymous": True}
    with pytest.raises(InvalidInput):
        check_organisation_changes({"name": "  "})


def test_privileges_parse_and_print() -> None:
    assert parse_privileges("execute, VIEW") == {Privilege.VIEW, Privilege.EXECUTE}
    assert parse_privileges("") == frozenset()
    assert privileges_text([Privilege.MANAGE, Privilege.VIEW]) == "view,manage"
    with pytest.raises(InvalidInput, match="admin"):
        parse_privileges("view,admin")
