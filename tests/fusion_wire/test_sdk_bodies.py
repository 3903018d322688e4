"""Bodies and list queries produced by the real Fusion SDK (2.2.5), parsed by our wire helpers.

The SDK runs unchanged against ``FakeFusion``, which swaps only ``requests`` underneath it; so
these are the exact bytes the SDK sends (``Session.request``: ``json.dumps(body,
default=json_default)``; ``Model.__build_body`` for flat bodies; nested bodies in ``login``,
``Data.__add_file``, ``User.change_password``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import fusion_platform
import pytest
from fusion_platform import session as sdk_session
from starlette.datastructures import QueryParams

from terrafuse.api.fusion.wire import Shape, decode_json_body, parse_body, parse_list_query
from terrafuse.core.listing import Filter, ListQuery, Modifier
from tests.fusion_wire.fake_fusion import API, FakeFusion

DATA_WRITABLE = {"id": Shape.VALUE, "name": Shape.VALUE}
USER_WRITABLE = {
    "given_name": Shape.VALUE,
    "family_name": Shape.VALUE,
    "telephone": Shape.VALUE,
    "notification_account": Shape.LIST,
    "notification_new_features": Shape.LIST,
}
PROCESS_WRITABLE = {
    "name": Shape.VALUE,
    "inputs": Shape.LIST,
    "options": Shape.LIST,
    "dispatchers": Shape.LIST,
    "run_type": Shape.VALUE,
    "repeat_count": Shape.VALUE,
    "repeat_start": Shape.VALUE,
    "repeat_end": Shape.VALUE,
    "repeat_gap": Shape.VALUE,  # relativedelta text: JSON from us, its repr when the SDK echoes it
    "repeat_offset": Shape.VALUE,
    "output_storage_period": Shape.VALUE,
}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFusion]:
    server = FakeFusion()
    monkeypatch.setattr(sdk_session.requests, "request", server.request)
    monkeypatch.setattr(sdk_session.requests, "put", server.put)
    yield server


def test_login_and_user_update(fake: FakeFusion) -> None:
    user = fusion_platform.login(email="me@example.org", password="Secret123!", api_url=API)
    login = decode_json_body(fake.bodies("POST", "/users/login")[0])
    assert parse_body(login, "User", {"email", "user_id", "password"}) == {
        "email": "me@example.org",
        "user_id": None,
        "password": "Secret123!",
    }
    user.update(given_name="Grace", notification_account=["email", "sms"])
    patch = decode_json_body(fake.bodies("PATCH", f"/users/{fake.user_id}")[0])
    assert patch["User[id]"] == fake.user_id  # the SDK echoes read-only fields...
    assert parse_body(patch, "User", USER_WRITABLE) == {  # ...which we ignore
        "given_name": "Grace",
        "family_name": "Lovelace",
        "notification_account": ["email", "sms"],
        "notification_new_features": [],
    }
    user.change_password(old="Secret123!", new="Secret456!")
    change = decode_json_body(fake.bodies("POST", rf"/users/{fake.user_id}/change_password")[0])
    assert parse_body(change, "User", {"old_password", "new_password"}) == {
        "old_password": "Secret123!",
        "new_password": "Secret456!",
    }


def test_create_data_upload_and_rename(fake: FakeFusion, tmp_path: Path) -> None:
    user = fusion_platform.login(email="me@example.org", password="Secret123!", api_url=API)
    organisation = next(user.organisations)
    region = tmp_path / "region.geojson"
    region.write_text('{"type": "FeatureCollection", "features": []}')
    chosen = "2f7c3c64-2a2b-4f77-9a59-4a5d8f7e1a11"
    data = organisation.create_data(
        name="Glasgow", file_type=fusion_platform.FILE_TYPE_GEOJSON, files=[str(region)], wait=True, id=chosen
    )
    create = decode_json_body(fake.bodies("POST", rf"/organisations/{fake.org_id}/data")[0])
    assert create["Data[organisation_id]"] == fake.org_id
    assert parse_body(create, "Data", DATA_WRITABLE) == {"name": "Glasgow", "id": chosen}
    add_file = decode_json_body(fake.bodies("POST", r"/organisations/.+/data/.+/add_file")[0])
    assert parse_body(add_file, "Data", {"name", "file_type"}) == {
        "name": "region.geojson",
        "file_type": "GeoJSON",
    }
    data.update(name="Glasgow city")
    patch = decode_json_body(fake.bodies("PATCH", rf"/organisations/{fake.org_id}/data/.+")[0])
    assert set(patch) >= {"Data[id]", "Data[created_at]", "Data[name]"}
    assert parse_body(patch, "Data", {"name"}) == {"name": "Glasgow city"}


def test_process_create_sends_lists_and_schedule(fake: FakeFusion, tmp_path: Path) -> None:
    user = fusion_platform.login(email="me@example.org", password="Secret123!", api_url=API)
    organisation = next(user.organisations)
    region = tmp_path / "region.geojson"
    region.write_text("{}")
    data = organisation.create_data(name="R", file_type="GeoJSON", files=[str(region)], wait=True)
    service, _ = organisation.find_services(name="Elev", keyword="dem", search="Terrain")
    process = organisation.new_process(name="My process", service=service)
    process.update(input_number=1, data=data)
    process.update(option_name="latest_date", value=True)
    process.update(option_name="start_date", value=datetime(2026, 3, 1, tzinfo=UTC))
    process.create()
    body = decode_json_body(fake.bodies("POST", rf"/organisations/{fake.org_id}/processes")[0])
    got = parse_body(body, "Process", PROCESS_WRITABLE)
    assert got["name"] == "My process"
    assert got["inputs"][0]["id"] == str(data.id) and got["inputs"][0]["ssd_id"] == fake.ssd_id
    assert [(o["name"], o["value"]) for o in got["options"]] == [
        ("latest_date", "true"),
        ("start_date", "2026-03-01T00:00:00Z"),
    ]
    assert got["repeat_start"] == "2026-03-01T12:00:00+00:00"
    assert got["repeat_gap"] == "relativedelta(days=+1)"  # str() of the SDK's relativedelta
    assert got["repeat_offset"] == "1:00:00"  # str() of the SDK's timedelta
    assert (got["run_type"], got["repeat_count"], got["output_storage_period"]) == ("run_once", 0, 30)
    assert "price" not in got and body["Process[price]"] == Decimal("12.5")  # read-only, ignored


def test_list_queries_of_the_sdk(fake: FakeFusion) -> None:
    user = fusion_platform.login(email="me@example.org", password="Secret123!", api_url=API)
    organisation = next(user.organisations)
    organisation.find_services(id="s-1", ssd_id="d-1", name="Elev", keyword="dem", search="Terrain")
    first = [s for s in fake.sent if s.path.endswith("/services/latest")]
    assert first[0].query.startswith("limit=1&reverse=False&search=terrain&filter%5Bid__eq%5D=s-1")
    query = parse_list_query(
        QueryParams(first[0].query),
        filterable={"id", "ssd_id", "name", "keywords"},
        cursor_keys=("created_at", "id"),
    )
    assert query == ListQuery(
        limit=1,
        reverse=False,
        search="terrain",
        filters=(
            Filter("id", Modifier.EQ, ("s-1",)),
            Filter("ssd_id", Modifier.EQ, ("d-1",)),
            Filter("name", Modifier.BEGINS_WITH, ("Elev",)),
            Filter("keywords", Modifier.CONTAINS, ("dem",)),
        ),
    )
    list(organisation.services)  # plain listing: defaults only
    plain = parse_list_query(QueryParams(fake.sent[-1].query), filterable=set())
    assert fake.sent[-1].query == "limit=24&reverse=False"
    assert plain == ListQuery()
