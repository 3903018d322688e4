"""Fusion wire shapes of users, organisations and credits, and the JSON schemas that document them.

Each ``*_model`` function turns a domain object into the ``model`` the Fusion SDK loads with its
marshmallow schemas (``fusion_platform.models.{user,organisation,credit}``): every field the SDK
requires is present and non-null, timestamps carry their UTC offset, credits are exact Decimals.
A few terrafuse fields ride along (``namespace``, ``reserved``); the SDK ignores unknown keys.

The schemas beside them are what ``/api/openapi.json`` publishes; the tests check real replies
against them, so the document and the wire cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from terrafuse.api.fusion.wire import OMIT
from terrafuse.core.accounts import NOTIFICATION_FIELDS, Membership, Privilege, User
from terrafuse.core.credits import Balance
from terrafuse.core.organisations import Organisation
from terrafuse.usecases.accounts import LoginResult

__all__ = [
    "CREDIT_SCHEMA",
    "ERROR_SCHEMA",
    "LOGIN_BODY_SCHEMA",
    "LOGIN_REPLY_SCHEMA",
    "ORGANISATION_SCHEMA",
    "USER_SCHEMA",
    "credit_model",
    "envelope_schema",
    "flat_body_schema",
    "login_reply",
    "nested_body_schema",
    "organisation_model",
    "user_model",
]


# -- models ---------------------------------------------------------------------------------
def user_model(user: User, organisation_ids: Iterable[str] | None) -> dict[str, Any]:
    """A ``User`` model; ``organisations`` is the hidden list the SDK walks to load them.

    terrafuse does not record which organisation a user picked last, so ``last`` marks the
    oldest membership, the one clients take first (``next(user.organisations)``). ``None`` leaves
    the list out (the reply to a deletion).
    """
    orgs: Any = OMIT
    if organisation_ids is not None:
        orgs = [{"id": org_id, "last": index == 0} for index, org_id in enumerate(organisation_ids)]
    return {
        "id": user.id,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "email": user.email,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "telephone": user.telephone,
        "role": user.role,
        "default_output_storage_period": user.default_output_storage_period,
        "time_zone": user.time_zone,
        "locale": user.locale,
        "units": user.units,
        **{name: list(getattr(user, name)) for name in NOTIFICATION_FIELDS},
        "organisations": orgs,
        "last_request_at": user.last_request_at,
    }


def organisation_model(org: Organisation, members: Sequence[tuple[Membership, str]] | None) -> dict[str, Any]:
    """An ``Organisation`` model; ``users`` lists the members with their privileges as roles
    (``None`` leaves it out: the reply to a deletion)."""
    users: Any = OMIT
    if members is not None:
        users = [
            {"id": m.user_id, "email": email, "roles": [p.value for p in Privilege if p in m.privileges]}
            for m, email in members
        ]
    return {
        "id": org.id,
        "created_at": org.created_at,
        "updated_at": org.updated_at or org.created_at,
        "name": org.name,
        "address_line_1": org.address_line_1,
        "address_line_2": org.address_line_2,
        "address_town_city": org.address_town_city,
        "address_post_zip_code": org.address_post_zip_code,
        "address_country": org.address_country,
        # Payment and income belong to Fusion's billing service; terrafuse sells credits offline.
        "payment_customer": None,
        "payment_valid": None,
        "income_customer": None,
        "income_valid": None,
        "income_tax_rate": None,
        "income_tax_reference": None,
        "currency": None,
        "users": users,
        "agreed_licenses": [],
        "offers": [],
        "maximum_output_storage_period": org.maximum_output_storage_period,
        "maximum_file_downloads": None,
        "namespace": org.namespace,  # terrafuse: the organisation's /{namespace}/ogc-api
    }


def credit_model(balance: Balance) -> dict[str, Any]:
    """A ``Credit`` model (its id is the organisation's id)."""
    return {
        "id": balance.id,
        "created_at": balance.created_at,
        "updated_at": balance.updated_at,
        "organisation_id": balance.organisation_id,
        "any_credits": balance.any_credits,
        "cloud_storage_credits": balance.cloud_storage_credits,
        "registry_storage_credits": balance.registry_storage_credits,
        "runtime_any_credits": balance.runtime_any_credits,
        "runtime_ssds": [dict(item) for item in balance.runtime_ssds],
        "spend": [{"month": s.month, "credits": s.credits} for s in balance.spend],
        "reserved": balance.reserved,  # terrafuse: credits held by running work
    }


def login_reply(result: LoginResult, expires_in: int) -> dict[str, Any]:
    """The flat sign-in reply: the SDK reads ``access_token`` and the ``sub`` of ``id_token``."""
    return {
        "access_token": result.access_token,
        "id_token": result.id_token,
        "refresh_token": result.refresh_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
    }


# -- schemas --------------------------------------------------------------------------------
_TEXT: dict[str, Any] = {"type": "string"}
_TEXT_OR_NULL: dict[str, Any] = {"type": ["string", "null"]}
_STAMP: dict[str, Any] = {"type": "string", "format": "date-time"}
_STAMP_OR_NULL: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
_ID: dict[str, Any] = {"type": "string", "format": "uuid"}
_NUMBER: dict[str, Any] = {"type": "number"}
_CHANNELS: dict[str, Any] = {"type": ["array", "null"], "items": {"type": "string", "enum": ["email", "sms"]}}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error_message"],
    "properties": {"error_message": _TEXT},
}

USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "created_at",
        "updated_at",
        "email",
        "given_name",
        "family_name",
        "default_output_storage_period",
        "time_zone",
        "locale",
        "units",
    ],
    "properties": {
        "id": _ID,
        "created_at": _STAMP,
        "updated_at": _STAMP,
        "email": {"type": "string", "format": "email"},
        "given_name": _TEXT,
        "family_name": _TEXT,
        "telephone": _TEXT_OR_NULL,
        "role": {"type": ["integer", "null"]},
        "default_output_storage_period": {"type": "integer", "minimum": 1},
        "time_zone": _TEXT,
        "locale": _TEXT,
        "units": {"type": "string", "enum": ["metric", "imperial"]},
        **dict.fromkeys(NOTIFICATION_FIELDS, _CHANNELS),
        "organisations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "last"],
                "properties": {"id": _ID, "last": {"type": "boolean"}},
            },
        },
        "last_request_at": _STAMP_OR_NULL,
    },
}

ORGANISATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "created_at",
        "updated_at",
        "name",
        "address_line_1",
        "address_town_city",
        "address_post_zip_code",
        "address_country",
    ],
    "properties": {
        "id": _ID,
        "created_at": _STAMP,
        "updated_at": _STAMP,
        "name": _TEXT,
        "address_line_1": _TEXT,
        "address_line_2": _TEXT_OR_NULL,
        "address_town_city": _TEXT,
        "address_post_zip_code": _TEXT,
        "address_country": _TEXT,
        "payment_customer": _TEXT_OR_NULL,
        "payment_valid": {"type": ["boolean", "null"]},
        "income_customer": _TEXT_OR_NULL,
        "income_valid": {"type": ["boolean", "null"]},
        "income_tax_rate": {"type": ["number", "null"]},
        "income_tax_reference": _TEXT_OR_NULL,
        "currency": _TEXT_OR_NULL,
        "users": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "email", "roles"],
                "properties": {
                    "id": _ID,
                    "email": {"type": "string", "format": "email"},
                    "roles": {"type": "array", "items": {"enum": [p.value for p in Privilege]}},
                },
            },
        },
        "agreed_licenses": {"type": "array", "items": _ID},
        "offers": {"type": "array", "items": _ID},
        "maximum_output_storage_period": {"type": ["integer", "null"]},
        "maximum_file_downloads": {"type": ["integer", "null"]},
        "namespace": {"type": "string", "description": "terrafuse: the URL name of its OGC API"},
    },
}

CREDIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "created_at",
        "updated_at",
        "organisation_id",
        "any_credits",
        "cloud_storage_credits",
        "registry_storage_credits",
        "runtime_any_credits",
    ],
    "properties": {
        "id": {**_ID, "description": "the organisation's id"},
        "created_at": _STAMP,
        "updated_at": _STAMP,
        "organisation_id": _ID,
        "any_credits": {**_NUMBER, "description": "available credits (exact decimal)"},
        "cloud_storage_credits": _NUMBER,
        "registry_storage_credits": _NUMBER,
        "runtime_any_credits": _NUMBER,
        "runtime_ssds": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["ssds", "credits"],
                "properties": {"ssds": {"type": "array", "items": _ID}, "credits": _NUMBER},
            },
        },
        "spend": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["month", "credits"],
                "properties": {"month": _STAMP, "credits": _NUMBER},
            },
        },
        "reserved": {**_NUMBER, "description": "terrafuse: credits held by running work"},
    },
}

LOGIN_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["User"],
    "properties": {
        "User": {
            "type": "object",
            "required": ["password"],
            "properties": {
                "email": {"type": ["string", "null"], "description": "e-mail address (or give user_id)"},
                "user_id": {"type": ["string", "null"], "description": "user id (or give email)"},
                "password": _TEXT,
            },
        }
    },
}

LOGIN_REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["access_token", "id_token", "refresh_token", "expires_in"],
    "properties": {
        "access_token": {**_TEXT, "description": "send as 'Authorization: Bearer <access_token>'"},
        "id_token": {**_TEXT, "description": "a JWT whose 'sub' claim is the user id"},
        "refresh_token": _TEXT,
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer", "description": "seconds until the session ends"},
    },
}


def envelope_schema(model: Mapping[str, Any]) -> dict[str, Any]:
    """``{"model": <model>, "extras": {...}}``."""
    return {
        "type": "object",
        "required": ["model", "extras"],
        "properties": {"model": dict(model), "extras": {"type": "object"}},
    }


def flat_body_schema(model: str, fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A create/patch body: flat ``Model[field]`` keys, or the same fields nested under ``Model``.

    Other keys are allowed and ignored (clients send every field they hold).
    """
    return {
        "type": "object",
        "properties": {
            **{f"{model}[{name}]": dict(schema) for name, schema in fields.items()},
            model: {"type": "object", "properties": {k: dict(v) for k, v in fields.items()}},
        },
    }


def nested_body_schema(model: str, fields: Mapping[str, Mapping[str, Any]], required: Sequence[str]) -> dict:
    """An action body: ``{"Model": {...}}``."""
    return {
        "type": "object",
        "required": [model],
        "properties": {
            model: {
                "type": "object",
                "required": list(required),
                "properties": {k: dict(v) for k, v in fields.items()},
            }
        },
    }
