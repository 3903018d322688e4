"""The data routes in-process, on SQLite and PostgreSQL: items, uploads, analysis, downloads."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import fusion_platform
import pytest

from terrafuse.core.data import data_prefix
from tests.platform_data.conftest import Cast
from tests.support.ogc_api import path_of

GLASGOW = Path(fusion_platform.EXAMPLE_GLASGOW_FILE).read_bytes()


def test_upload_analyse_download_rename_delete(cast: Cast) -> None:
    me, platform = cast.runner, cast.platform
    template = me.ok("GET", "/new")["model"]
    assert template["organisation_id"] == cast.acme and "id" not in template

    chosen = str(uuid.uuid4())
    data = me.create("Glasgow", id=chosen, organisation_id="ignored", bounds="[1, 2, 3, 4]")
    assert (data["id"], data["name"], data["organisation_id"]) == (chosen, "Glasgow", cast.acme)
    assert data["bounds"] is None and data["deletable"] == "true"
    assert data["created_at"].endswith("+00:00")

    file_id, url = me.add_file(chosen, "some/folder/glasgow.geojson", "GeoJSON")
    waiting = me.files(chosen)
    assert [f["file_id"] for f in waiting] == [file_id]
    assert waiting[0]["file_name"] == "glasgow.geojson" and waiting[0]["state"] == "awaiting_upload"
    assert not {"size", "publishable", "error"} & set(waiting[0])
    assert me.call("GET", f"/{chosen}/download_file/{file_id}").status_code == 404

    assert me.put(url, GLASGOW).json()["size"] == len(GLASGOW)
    (file,) = me.analysed(chosen)
    assert (file["size"], file["publishable"], file["error"]) == (len(GLASGOW), True, False)
    assert file["crs"] == "EPSG:4326" and file["polygons"] == 1 and file["points"] == 0
    assert file["area"] == pytest.approx(229e6, rel=0.02)
    west, south, east, north = file["bounds"]
    assert (west, south, east, north) == pytest.approx((-4.4827, 55.7904, -4.0830, 55.9534), abs=1e-3)
    assert isinstance(file["geojson"], str) and '"Polygon"' in file["geojson"]
    assert file["selectors"] and all(len(s["histogram"] or [0] * 10) == 10 for s in file["selectors"])
    assert "error_message" not in file

    item = me.ok("GET", f"/{chosen}")["model"]
    assert item["bounds"] == pytest.approx([west, south, east, north])
    assert platform.data.stored_bytes(cast.acme) == len(GLASGOW)

    download = me.ok("GET", f"/{chosen}/download_file/{file_id}", params={"preview": "False"})
    assert download["model"]["downloads"] == 1
    expires = int(parse_qs(urlsplit(download["extras"]["url"]).query)["expires"][0])
    assert time.time() < expires <= time.time() + 3600
    assert me.client.get(path_of(download["extras"]["url"])).content == GLASGOW
    assert me.call("GET", f"/{chosen}/download_file/{file_id}", params={"preview": "True"}).status_code == 404

    body = {"Data[name]": "Glasgow city", "Data[id]": str(uuid.uuid4()), "Data[deletable]": "false"}
    renamed = me.ok("PATCH", f"/{chosen}", json=body)["model"]
    assert (renamed["id"], renamed["name"]) == (chosen, "Glasgow city")

    storage = platform.rt.storage
    stored = platform.data.store.file(cast.acme, chosen, file_id)
    assert stored is not None and storage.exists(stored.object_key)
    gone = me.ok("DELETE", f"/{chosen}")
    assert gone["model"]["id"] == chosen
    assert not storage.exists(stored.object_key)
    assert not (platform.rt.settings.resolved_storage_dir / data_prefix(cast.acme, chosen)).exists()
    assert me.call("GET", f"/{chosen}").status_code == 404
    assert me.call("DELETE", f"/{chosen}").status_code == 404
    assert platform.data.stored_bytes(cast.acme) == 0


def test_list_filters_search_and_pages(cast: Cast) -> None:
    me = cast.runner
    names = ["Lake District", "Lakes north", "Glasgow", "glasgow west", "Cairngorms"]
    ids = [me.create(name)["id"] for name in names]

    def listed(**params: str) -> list[str]:
        return [d["name"] for d in me.ok("GET", "/uploaded", params=params)["list"]]

    assert listed() == names
    assert listed(reverse="True") == names[::-1]
    assert listed(**{"filter[id__eq]": ids[2]}) == ["Glasgow"]
    assert listed(**{"filter[name__begins_with]": "Lake"}) == ["Lake District", "Lakes north"]
    assert listed(**{"filter[name__contains]": "lasgow"}) == ["Glasgow", "glasgow west"]
    assert listed(search="GLASGOW") == ["Glasgow", "glasgow west"]

    seen, params = [], {"limit": "2"}
    while True:
        page = me.ok("GET", "/uploaded", params=params)
        seen += [d["id"] for d in page["list"]]
        if not page["last"]:
            break
        params = {"limit": "2", **{f"last[{k}]": v for k, v in page["last"].items()}}
    assert seen == ids

    assert me.call("GET", "/uploaded", params={"filter[colour__eq]": "red"}).status_code == 400
    assert me.call("GET", "/uploaded", params={"limit": "0"}).status_code == 400


def test_bad_requests(cast: Cast) -> None:
    me = cast.runner
    data_id = me.create("Region")["id"]
    problems = [
        ("POST", "", {"Data[name]": "  "}, "needs a name"),
        ("POST", "", {"Data[name]": "x" * 201}, "longer than 200"),
        ("POST", "", {"Data[name]": "Region", "Data[id]": "not-a-uuid"}, "is not a UUID"),
        ("POST", "", {"Data[name]": ["a", "list"]}, "must be a single value"),
        (
            "POST",
            f"/{data_id}/add_file",
            {"Data": {"name": "a.tif", "file_type": "TIFF"}},
            "unknown file type",
        ),
        ("POST", f"/{data_id}/add_file", {"Data": {"name": "/", "file_type": "GeoTIFF"}}, "needs a name"),
        ("POST", f"/{data_id}/add_file", {"Data": {"file_type": "GeoTIFF"}}, "must be text"),
        ("PATCH", f"/{data_id}", {"Data[name]": ""}, "needs a name"),
        ("POST", f"/{data_id}/copy", {"Data": {}}, "must be text"),
    ]
    for method, path, body, message in problems:
        response = me.call(method, path, json=body)
        assert response.status_code == 400, (path, body, response.text)
        assert message in response.json()["error_message"], response.text
    taken = me.call("POST", json={"Data[name]": "Again", "Data[id]": data_id.upper()})
    assert taken.status_code == 409 and "already exists" in taken.json()["error_message"]
    assert me.call("GET", f"/{data_id}/download_file/{uuid.uuid4()}").status_code == 404
    assert me.call("GET", f"/{data_id}/download_file/x", params={"preview": "maybe"}).status_code == 400
    assert me.client.get(me.url("/uploaded")).status_code == 401


def test_delete_is_refused_while_a_process_uses_the_data(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    me = cast.runner
    data_id = me.create("Busy")["id"]
    monkeypatch.setattr(cast.platform.data, "in_use", lambda d: d == data_id)
    assert me.ok("GET", f"/{data_id}")["model"]["deletable"] == "false"
    refused = me.call("DELETE", f"/{data_id}")
    assert refused.status_code == 409 and "used by a process" in refused.json()["error_message"]
    assert me.ok("GET", f"/{data_id}")["model"]["id"] == data_id
