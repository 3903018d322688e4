"""Who may do what with data: privileges, tenant isolation, credits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import fusion_platform
import pytest

from terrafuse.core.data import Data
from tests.platform_data.conftest import Cast, Member

GLASGOW = Path(fusion_platform.EXAMPLE_GLASGOW_FILE).read_bytes()


def _routes(data_id: str, file_id: str) -> list[tuple[str, str, dict | None]]:
    """Every data route that names an item, with a body it would accept."""
    return [
        ("GET", f"/{data_id}", None),
        ("PATCH", f"/{data_id}", {"Data[name]": "Mine now"}),
        ("DELETE", f"/{data_id}", None),
        ("POST", f"/{data_id}/add_file", {"Data": {"name": "x.geojson", "file_type": "GeoJSON"}}),
        ("GET", f"/{data_id}/files", None),
        ("GET", f"/{data_id}/download_file/{file_id}", None),
        ("POST", f"/{data_id}/copy", {"Data": {"name": "Copy"}}),
    ]


def test_another_organisation_sees_nothing(cast: Cast) -> None:
    owner, outsider = cast.runner, cast.outsider
    data_id, file_id = owner.upload("glasgow.geojson", "GeoJSON", GLASGOW)
    owner.analysed(data_id)
    absent = (str(uuid.uuid4()), str(uuid.uuid4()))

    for method, path, body in _routes(data_id, file_id):
        # Through the owner's organisation (not theirs) and through their own organisation.
        for org in (cast.acme, cast.other):
            response = outsider.call(method, path, org=org, json=body)
            assert response.status_code == 404, (method, path, org, response.text)
            assert set(response.json()) == {"error_message"}
    for method, path, body in _routes(*absent):
        assert outsider.call(method, path, json=body).status_code == 404
    for path in ("/new", "/uploaded"):
        assert outsider.call("GET", path, org=cast.acme).status_code == 404
    assert outsider.call("POST", org=cast.acme, json={"Data[name]": "Sneaky"}).status_code == 404
    assert outsider.ok("GET", "/uploaded")["list"] == []
    assert outsider.ok("GET", "/uploaded", params={"filter[id__eq]": data_id})["list"] == []

    # Nothing changed for the owner.
    assert owner.ok("GET", f"/{data_id}")["model"]["name"] == "glasgow.geojson"
    assert [f["id"] for f in owner.files(data_id)] == [file_id]
    assert len(owner.ok("GET", "/uploaded")["list"]) == 1


def test_viewers_read_but_do_not_change(cast: Cast) -> None:
    data_id, file_id = cast.runner.upload("glasgow.geojson", "GeoJSON", GLASGOW)
    cast.runner.analysed(data_id)
    viewer = cast.viewer
    for method, path, body in _routes(data_id, file_id):
        response = viewer.call(method, path, json=body)
        expected = 200 if method == "GET" else 403
        assert response.status_code == expected, (method, path, response.text)
    assert viewer.call("POST", json={"Data[name]": "New"}).status_code == 403
    assert "'execute' privilege" in viewer.call("POST", json={"Data[name]": "New"}).json()["error_message"]
    assert viewer.ok("GET", "/new")["model"]["organisation_id"] == cast.acme


@pytest.mark.parametrize("who", ["anonymous", "bad token"])
def test_the_data_api_needs_a_signed_in_user(cast: Cast, who: str) -> None:
    member = Member(
        cast.runner.client, cast.acme, {} if who == "anonymous" else {"Authorization": "Bearer x"}
    )
    for method, path, body in [("GET", "/uploaded", None), ("POST", "", {"Data[name]": "x"})]:
        assert member.call(method, path, json=body).status_code == 401


def test_no_credits_no_uploads(cast: Cast) -> None:
    pauper, ctx = cast.pauper, cast.platform.data
    refused = pauper.call("POST", json={"Data[name]": "Region"})
    assert refused.status_code == 403
    assert "no credits left" in refused.json()["error_message"]

    # An item created while the organisation still had credits takes no more files.
    now = datetime.now(UTC)
    item = ctx.store.add(
        Data(id=str(uuid.uuid4()), organisation_id=cast.broke, name="Old", created_at=now, updated_at=now)
    )
    refused = pauper.call(
        "POST", f"/{item.id}/add_file", json={"Data": {"name": "a.geojson", "file_type": "GeoJSON"}}
    )
    assert refused.status_code == 403 and "no credits left" in refused.json()["error_message"]
    assert pauper.files(item.id) == []
    # Reading and deleting need no credits.
    assert pauper.ok("GET", f"/{item.id}")["model"]["name"] == "Old"
    assert pauper.ok("DELETE", f"/{item.id}")["model"]["id"] == item.id
