"""Unit tests of the execute request parsing: ``Prefer`` (RFC 7240), execution mode, body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from terrafuse.api.ogc.execute import Preferences, choose_mode, parse_execute, parse_prefer
from terrafuse.core.executions import OutputRequest, ResponseForm
from terrafuse.errors import InvalidInput
from terrafuse.services.base import InputDescription, OutputDescription, ServiceDescription
from terrafuse.usecases.executions import Mode


def _desc(job_control: tuple[str, ...] = ("sync-execute", "async-execute", "dismiss")) -> ServiceDescription:
    return ServiceDescription(
        id="p",
        version="1",
        title="P",
        description="",
        inputs={
            "text": InputDescription(title="t", schema={"type": "string"}),
            "many": InputDescription(title="m", schema={"type": "string"}, max_occurs="unbounded"),
            "file": InputDescription(title="f", schema={"type": "string", "contentMediaType": "image/tiff"}),
        },
        outputs={
            "out": OutputDescription(title="o", schema={"type": "string"}),
            "other": OutputDescription(title="o2", schema={"type": "number"}),
        },
        job_control=job_control,  # type: ignore[arg-type]
    )


DESC = _desc()
NONE = Preferences()


def _parse(body: Any, prefs: Preferences = NONE, desc: ServiceDescription = DESC) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_execute(raw, desc, prefs)


# -- Prefer -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], Preferences()),
        ([""], Preferences()),
        (["respond-async"], Preferences(respond_async=True)),
        (["respond-async "], Preferences(respond_async=True)),
        (["Respond-Async"], Preferences(respond_async=True)),
        (["respond-async;return=representation"], Preferences(True, "representation")),
        (["respond-async; return=representation"], Preferences(True, "representation")),
        (["respond-async , return=representation"], Preferences(True, "representation")),
        (["RETURN=REPRESENTATION;RESPOND-ASYNC"], Preferences(True, "representation")),
        (['return="representation"'], Preferences(return_="representation")),
        (["return = minimal"], Preferences(return_="minimal")),
        (["respond-async", "return=minimal"], Preferences(True, "minimal")),
        (["wait=10"], Preferences(wait=10)),
        (["respond-async, wait=5"], Preferences(respond_async=True, wait=5)),
        (["wait=soon", "wait=-1"], Preferences()),
        (["return=everything"], Preferences()),
        (["handling=lenient", "foo", "x-respond-async", "respond-sync"], Preferences()),
        ([";;, ,;"], Preferences()),
    ],
)
def test_parse_prefer(values: list[str], expected: Preferences) -> None:
    assert parse_prefer(values) == expected


def test_parse_prefer_first_occurrence_wins() -> None:
    # RFC 7240 section 2: a preference given more than once counts the first time only.
    assert parse_prefer(["return=minimal, return=representation"]).return_ == "minimal"
    assert parse_prefer(["return=representation", "return=minimal"]).return_ == "representation"
    assert parse_prefer(["wait=3, wait=60"]).wait == 3


@pytest.mark.parametrize(
    ("job_control", "prefs", "mode"),
    [
        (("sync-execute", "async-execute"), NONE, Mode.SYNC),
        (("sync-execute", "async-execute"), Preferences(respond_async=True), Mode.ASYNC),
        (("sync-execute", "async-execute"), Preferences(return_="representation"), Mode.SYNC),
        (("sync-execute",), Preferences(respond_async=True), Mode.SYNC),
        (("sync-execute",), NONE, Mode.SYNC),
        (("async-execute",), NONE, Mode.ASYNC),
        (("async-execute", "dismiss"), Preferences(respond_async=True), Mode.ASYNC),
    ],
)
def test_choose_mode(job_control: tuple[str, ...], prefs: Preferences, mode: Mode) -> None:
    assert choose_mode(prefs, _desc(job_control)) is mode


# -- execute body -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"  \n", b"{}"])
def test_empty_body_means_no_inputs(body: bytes) -> None:
    parsed = _parse(body)
    assert parsed.inputs == {}
    assert parsed.request.response is ResponseForm.RAW
    assert parsed.request.outputs is None and parsed.request.subscriber is None
    assert not parsed.asks_async


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"\xff\xfe",
        b"[]",
        b"42",
        b'"text"',
        b"null",
        {"invalid-execute-request": "true)"},
        {"inputs": {}, "id": "p"},
        {"inputs": []},
        {"inputs": "text=1"},
        {"outputs": []},
        {"outputs": {"nope": {}}},
        {"outputs": {"out": {"transmissionMode": "ref"}}},
        {"response": "json"},
        {"response": None, "outputs": {"out": {"transmissionMode": None}}},
        {"subscriber": []},
        {"subscriber": {"successUri": "mailto:a@b.c"}},
        {"subscriber": {"inProgressUri": "//host/path"}},
        {"subscriber": {"failedUri": 3}},
    ],
)
def test_malformed_bodies(body: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        _parse(body)
    assert info.value.detail


def test_input_forms_are_unwrapped() -> None:
    parsed = _parse(
        {
            "inputs": {
                "text": {"value": "v", "mediaType": "text/plain"},
                "many": ["a", {"value": "b"}],
                "file": {"href": "http://h/x.tif", "format": {"mediaType": "image/tiff"}},
            }
        }
    )
    assert parsed.inputs == {
        "text": "v",
        "many": ["a", "b"],
        "file": {"href": "http://h/x.tif", "type": "image/tiff"},
    }


def test_link_type_and_plain_values_kept() -> None:
    parsed = _parse({"inputs": {"file": {"href": "http://h/x.tif", "type": "image/tiff", "rel": "x"}}})
    assert parsed.inputs["file"] == {"href": "http://h/x.tif", "type": "image/tiff"}
    parsed = _parse({"inputs": {"file": {"href": "http://h/x.tif"}, "text": ["not", "unwrapped"]}})
    assert parsed.inputs == {"file": {"href": "http://h/x.tif"}, "text": ["not", "unwrapped"]}


def test_unknown_inputs_are_left_to_the_use_case() -> None:
    # parse_execute checks the shape; which inputs exist is validated with the values.
    assert _parse({"inputs": {"nope": 1}}).inputs == {"nope": 1}


def test_outputs() -> None:
    parsed = _parse(
        {
            "outputs": {
                "out": {"transmissionMode": "reference", "format": {"mediaType": "text/plain"}},
                "other": {},
            }
        }
    )
    assert parsed.request.outputs == {
        "out": OutputRequest(transmission="reference", media_type="text/plain"),
        "other": OutputRequest(transmission="value", media_type=None),
    }
    # An empty object means "all outputs" in 1.0.
    assert _parse({"outputs": {}}).request.outputs is None
    assert _parse({"outputs": None}).request.outputs is None


@pytest.mark.parametrize(
    ("body", "prefs", "form"),
    [
        ({}, NONE, ResponseForm.RAW),
        ({}, Preferences(return_="representation"), ResponseForm.DOCUMENT),
        ({}, Preferences(respond_async=True, return_="representation"), ResponseForm.DOCUMENT),
        ({}, Preferences(return_="minimal"), ResponseForm.RAW),
        ({"response": "document"}, NONE, ResponseForm.DOCUMENT),
        ({"response": "document"}, Preferences(return_="minimal"), ResponseForm.DOCUMENT),
        ({"response": "raw"}, Preferences(return_="representation"), ResponseForm.RAW),
    ],
)
def test_response_form(body: dict[str, Any], prefs: Preferences, form: ResponseForm) -> None:
    assert _parse(body, prefs).request.response is form


def test_subscriber() -> None:
    parsed = _parse(
        {
            "subscriber": {
                "successUri": "https://h/ok",
                "inProgressUri": "http://127.0.0.1:9/p?x=1",
            }
        }
    )
    sub = parsed.request.subscriber
    assert sub is not None
    assert (sub.success_uri, sub.in_progress_uri, sub.failed_uri) == (
        "https://h/ok",
        "http://127.0.0.1:9/p?x=1",
        None,
    )
    assert _parse({"subscriber": {}}).request.subscriber is not None


def test_legacy_mode_and_process_members() -> None:
    parsed = _parse({"mode": "async", "process": "http://h/processes/p"})
    assert parsed.asks_async
    assert not _parse({"mode": "sync"}).asks_async
