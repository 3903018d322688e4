"""Parsing an OGC execute request: body, ``Prefer`` header, execution mode."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from terrafuse.core.executions import ExecutionRequest, OutputRequest, ResponseForm, Subscriber
from terrafuse.errors import InvalidInput
from terrafuse.services.base import ServiceDescription
from terrafuse.usecases.executions import Mode


@dataclass(frozen=True)
class Preferences:
    """What a ``Prefer`` header (RFC 7240) asks for."""

    respond_async: bool = False
    return_: str | None = None  # "representation" | "minimal"
    wait: int | None = None


def parse_prefer(values: list[str]) -> Preferences:
    """Parse ``Prefer`` header values token by token (``respond-async;return=representation``).

    Unknown preferences are ignored and only the first occurrence of a preference counts, as
    RFC 7240 (section 2) requires.
    """
    respond_async = False
    return_: str | None = None
    wait: int | None = None
    seen: set[str] = set()
    for value in values:
        for token in value.replace(",", ";").split(";"):
            name, _, arg = token.strip().partition("=")
            name = name.strip().lower()
            arg = arg.strip().strip('"').lower()
            if name in seen:
                continue
            seen.add(name)
            if name == "respond-async":
                respond_async = True
            elif name == "return" and arg in ("representation", "minimal"):
                return_ = arg
            elif name == "wait" and arg.isdigit():
                wait = int(arg)
    return Preferences(respond_async, return_, wait)


def choose_mode(prefs: Preferences, desc: ServiceDescription, asks_async: bool = False) -> Mode:
    """OGC 1.0 rules: async-only or sync-only processes decide; otherwise honour ``respond-async``
    (or the legacy body member ``mode: async``)."""
    can_sync = "sync-execute" in desc.job_control
    can_async = "async-execute" in desc.job_control
    if can_async and (prefs.respond_async or asks_async or not can_sync):
        return Mode.ASYNC
    return Mode.SYNC


def preference_applied(prefs: Preferences, mode: Mode, request: ExecutionRequest) -> str:
    """The ``Preference-Applied`` value: the preferences that were honoured (RFC 7240)."""
    applied = []
    if mode is Mode.ASYNC and prefs.respond_async:
        applied.append("respond-async")
    if prefs.return_ == "representation" and request.response is ResponseForm.DOCUMENT:
        applied.append("return=representation")
    elif prefs.return_ == "minimal" and request.response is ResponseForm.RAW:
        applied.append("return=minimal")
    return ", ".join(applied)


def _unwrap(value: Any) -> Any:
    """Turn the wire forms of an input value into the domain value."""
    if isinstance(value, dict):
        if "value" in value and "href" not in value:
            return value["value"]
        if isinstance(value.get("href"), str):
            out = {"href": value["href"]}
            media_type = value.get("type") or (value.get("format") or {}).get("mediaType")
            if media_type:
                out["type"] = media_type
            return out
    return value


def _check_uri(name: str, value: Any) -> str:
    if (
        not isinstance(value, str)
        or urlparse(value).scheme not in ("http", "https")
        or not urlparse(value).netloc
    ):
        raise InvalidInput(f"subscriber {name} must be an http(s) URL")
    return value


@dataclass(frozen=True)
class ParsedExecute:
    """An execute request, split into domain inputs and the rest of the request."""

    inputs: dict[str, Any]
    request: ExecutionRequest
    asks_async: bool  # legacy body member ``mode: async`` (still sent by some clients)


def parse_execute(body: bytes, desc: ServiceDescription, prefs: Preferences) -> ParsedExecute:
    """Parse and check the shape of an execute body (values are validated by the use case).

    Raises:
        InvalidInput: malformed JSON or a malformed execute document.
    """
    try:
        doc = json.loads(body) if body.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidInput("the request body must be a JSON object with an 'inputs' member")
    unknown = sorted(set(doc) - {"inputs", "outputs", "response", "subscriber", "mode", "process"})
    if unknown:
        raise InvalidInput(f"unknown member(s) in the execute request: {', '.join(unknown)}")
    raw_inputs = doc.get("inputs", {})
    if not isinstance(raw_inputs, dict):
        raise InvalidInput("'inputs' must be an object keyed by input id")
    inputs = {
        name: [_unwrap(v) for v in value]
        if isinstance(value, list) and desc.inputs.get(name) and desc.inputs[name].max_occurs != 1
        else _unwrap(value)
        for name, value in raw_inputs.items()
    }

    outputs = None
    if doc.get("outputs") is not None:
        if not isinstance(doc["outputs"], dict):
            raise InvalidInput("'outputs' must be an object keyed by output id")
        outputs = {}
        for name, spec in doc["outputs"].items():
            if name not in desc.outputs:
                raise InvalidInput(f"no output {name!r}; outputs of {desc.id!r}: {', '.join(desc.outputs)}")
            spec = spec if isinstance(spec, dict) else {}
            transmission = spec.get("transmissionMode", "value")
            if transmission not in ("value", "reference"):
                raise InvalidInput(f"output {name!r}: transmissionMode must be 'value' or 'reference'")
            fmt = spec.get("format") if isinstance(spec.get("format"), dict) else {}
            outputs[name] = OutputRequest(transmission=transmission, media_type=fmt.get("mediaType"))
        outputs = outputs or None  # an empty object means "all outputs" in 1.0

    response = doc.get("response")
    if response is None:
        # ZOO-DRU's reading of the 2.0 draft: return=representation asks for the results document.
        response = "document" if prefs.return_ == "representation" else "raw"
    if response not in ("raw", "document"):
        raise InvalidInput("'response' must be 'raw' or 'document'")

    subscriber = None
    if doc.get("subscriber") is not None:
        sub = doc["subscriber"]
        if not isinstance(sub, dict):
            raise InvalidInput("'subscriber' must be an object")
        subscriber = Subscriber(
            success_uri=_check_uri("successUri", sub["successUri"]) if sub.get("successUri") else None,
            in_progress_uri=_check_uri("inProgressUri", sub["inProgressUri"])
            if sub.get("inProgressUri")
            else None,
            failed_uri=_check_uri("failedUri", sub["failedUri"]) if sub.get("failedUri") else None,
        )
    return ParsedExecute(
        inputs=inputs,
        request=ExecutionRequest(response=ResponseForm(response), outputs=outputs, subscriber=subscriber),
        asks_async=doc.get("mode") == "async",
    )
