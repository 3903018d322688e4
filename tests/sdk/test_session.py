"""The SDK's HTTP session: sign-in, typed errors with the server's message, retries with
exponential back-off (on a fake clock), which requests may be retried, and paging."""

from __future__ import annotations

import json
import random

import httpx
import pytest

import terrafuse
from terrafuse.sdk.session import Session, SessionOptions
from terrafuse.sdk.timing import RetryPolicy
from tests.sdk.fake_platform import API, PASSWORD, FakeClock, FakePlatform


def _login(platform: FakePlatform, options: SessionOptions, **kwargs: object) -> terrafuse.User:
    arguments = {"email": "me@org.com", "password": PASSWORD, **kwargs}
    return terrafuse.login(api_url=API, session_options=options, transport=platform.transport, **arguments)


def test_login_signs_in_and_loads_the_user(platform: FakePlatform, options: SessionOptions) -> None:
    user = _login(platform, options)
    assert user.id == platform.user_id and user.email == "me@org.com"
    login, get_user = platform.requests[:2]
    assert json.loads(login.content) == {
        "User": {"email": "me@org.com", "user_id": None, "password": PASSWORD}
    }
    assert "authorization" not in login.headers
    assert get_user.url.path == f"/api/users/{platform.user_id}"
    assert get_user.headers["authorization"] == "Bearer token-1"


@pytest.mark.parametrize("name", ["user_id", "id"])
def test_login_by_user_id(platform: FakePlatform, options: SessionOptions, name: str) -> None:
    user = terrafuse.login(
        password=PASSWORD, api_url=API, session_options=options, transport=platform.transport, **{name: "u-1"}
    )
    assert user.id == platform.user_id  # the id token names the user
    assert json.loads(platform.requests[0].content)["User"]["user_id"] == "u-1"


def test_refused_login_carries_the_server_message(platform: FakePlatform, options: SessionOptions) -> None:
    with pytest.raises(terrafuse.AuthenticationError) as caught:
        _login(platform, options, password="wrong")
    assert caught.value.status == 401
    assert caught.value.message == "wrong e-mail address or password"
    assert "wrong e-mail address or password" in str(caught.value)


def test_login_needs_an_identity_and_a_password(platform: FakePlatform, options: SessionOptions) -> None:
    with pytest.raises(terrafuse.ModelError, match="email= or user_id="):
        terrafuse.login(password=PASSWORD, api_url=API, transport=platform.transport)
    with pytest.raises(ValueError, match="password="):
        terrafuse.login(email="me@org.com", api_url=API, transport=platform.transport)
    assert platform.requests == []


def test_session_options_take_the_fusion_name_of_the_poll_interval(platform: FakePlatform) -> None:
    user = terrafuse.login(
        email="me@org.com",
        password=PASSWORD,
        api_url=API,
        transport=platform.transport,
        session_options={"api_update_wait_period": 0.5},
        timeout=42,
        progress=False,
    )
    assert user.session.options.poll_interval == 0.5
    assert user.session.options.wait_timeout == 42 and user.session.options.progress is False
    with pytest.raises(terrafuse.ModelError, match="unknown session options"):
        terrafuse.login(email="x", password="y", session_options={"poll": 1})


def test_transient_statuses_are_retried_with_exponential_back_off(
    platform: FakePlatform, options: SessionOptions, clock: FakeClock
) -> None:
    platform.break_next("GET", r"/users/", lambda r: httpx.Response(503, text="busy"), times=3)
    user = _login(platform, options)
    assert user.given_name == "Me"
    assert len(platform.sent("GET", r"/users/")) == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_retry_after_is_honoured(platform: FakePlatform, options: SessionOptions, clock: FakeClock) -> None:
    platform.break_next("GET", r"/users/", lambda r: httpx.Response(429, headers={"Retry-After": "7"}))
    _login(platform, options)
    assert clock.sleeps == [7.0]


def test_retries_end_with_a_transport_error(
    platform: FakePlatform, options: SessionOptions, clock: FakeClock
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    platform.break_next("GET", r"/users/", refuse, times=99)
    with pytest.raises(terrafuse.TransportError) as caught:
        _login(platform, options)
    assert caught.value.attempts == 5 and "ConnectError" in str(caught.value)
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_back_off_is_capped_and_jittered() -> None:
    policy = RetryPolicy(attempts=10, base=1.0, cap=8.0, jitter=False)
    assert [policy.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    jittered = RetryPolicy(base=1.0, cap=8.0, _random=random.Random(7))
    for n in range(1, 7):
        assert 0.5 * policy.delay(n) <= jittered.delay(n) <= policy.delay(n)


def test_a_post_whose_answer_was_lost_is_not_sent_again(
    user: terrafuse.User, platform: FakePlatform, clock: FakeClock
) -> None:
    def lost(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    platform.break_next("POST", r"/data$", lost, times=5)
    organisation = next(user.organisations)
    with pytest.raises(terrafuse.TransportError) as caught:
        organisation.create_data("Region", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE])
    assert caught.value.attempts == 1
    assert len(platform.sent("POST", r"/data$")) == 1 and clock.sleeps == []


def test_a_post_that_never_left_is_retried(
    user: terrafuse.User, platform: FakePlatform, clock: FakeClock
) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    platform.break_next("POST", r"/data$", refused)
    data = next(user.organisations).create_data(
        "Region", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE], wait=True
    )
    assert data.name == "Region" and len(platform.data) == 1
    assert len(platform.sent("POST", r"/data$")) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, terrafuse.BadRequestError),
        (402, terrafuse.InsufficientCreditsError),
        (403, terrafuse.PermissionDeniedError),
        (404, terrafuse.NotFoundError),
        (409, terrafuse.ConflictError),
        (413, terrafuse.PayloadTooLargeError),
        (500, terrafuse.ServerError),
    ],
)
def test_error_statuses_raise_typed_errors_with_the_message(
    user: terrafuse.User, platform: FakePlatform, clock: FakeClock, status: int, error: type
) -> None:
    platform.break_next(
        "GET", r"/organisations/", lambda r: httpx.Response(status, json={"error_message": "why"})
    )
    with pytest.raises(error) as caught:
        next(user.organisations)
    assert caught.value.status == status and caught.value.message == "why"
    assert caught.value.method == "GET" and caught.value.url.endswith(f"/organisations/{platform.org_id}")
    assert isinstance(caught.value, terrafuse.RequestError) and clock.sleeps == []


def test_an_ogc_problem_detail_is_the_message(user: terrafuse.User, platform: FakePlatform) -> None:
    problem = {"type": "about:blank", "title": "Not found", "detail": "no such thing"}
    platform.break_next("GET", r"/organisations/", lambda r: httpx.Response(404, json=problem))
    with pytest.raises(terrafuse.NotFoundError, match="no such thing"):
        next(user.organisations)


def test_a_reply_that_is_not_json_is_a_server_error(user: terrafuse.User, platform: FakePlatform) -> None:
    platform.break_next("GET", r"/organisations/", lambda r: httpx.Response(200, text="<html>proxy</html>"))
    with pytest.raises(terrafuse.ServerError, match="not JSON"):
        next(user.organisations)


def test_lists_follow_the_last_cursor(options: SessionOptions) -> None:
    pages = {
        None: {"list": [{"n": 1}, {"n": 2}], "last": {"name": "b", "id": "2"}, "extras": {}},
        "2": {"list": [{"n": 3}], "last": None, "extras": {}},
    }
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=pages[request.url.params.get("last[id]")])

    session = Session(API, options, httpx.MockTransport(answer))
    assert [item["n"] for item in session.pages("things", {"limit": 2, "reverse": True})] == [1, 2, 3]
    assert seen[0].params.get("reverse") == "true" and seen[0].params.get("limit") == "2"
    assert seen[1].params.get("last[name]") == "b" and seen[1].params.get("last[id]") == "2"


def test_bodies_carry_offsets_and_exact_numbers(options: SessionOptions) -> None:
    from datetime import datetime
    from decimal import Decimal

    sent: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, json={"model": {}, "extras": {}})

    Session(API, options, httpx.MockTransport(answer)).model(
        "POST", "x", body={"when": datetime(2021, 3, 27), "price": Decimal("2.50"), "n": Decimal("3")}
    )
    assert json.loads(sent[0]) == {"when": "2021-03-27T00:00:00+00:00", "price": 2.5, "n": 3}
