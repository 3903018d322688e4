"""Deleting an organisation removes what it stored: uploaded files and job outputs."""

from __future__ import annotations

import json

from tests.platform_data.conftest import Cast


def test_deleting_an_organisation_removes_its_objects(cast: Cast) -> None:
    storage = cast.platform.rt.storage
    root = storage.root  # the local object store's folder

    def keys() -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    outsider = cast.outsider
    region = json.dumps({"type": "Point", "coordinates": [-4.25, 55.86]}).encode()
    outsider.upload("region.geojson", "GeoJSON", region)
    r = outsider.client.post(
        "/other/ogc-api/processes/echo/execution",
        json={"inputs": {"string_input": "x"}},
        headers=outsider.headers,
    )
    assert r.status_code == 200, r.text
    job_id = r.headers["Link"].split(">")[0].lstrip("<").rsplit("/", 1)[-1]
    storage.put_bytes(f"{job_id}/{job_id}/item/otsu.tif", b"mask")  # an output of that job
    kept_data, _ = cast.runner.upload("mine.geojson", "GeoJSON", region)  # another tenant's file
    assert any(key.startswith(f"data/{cast.other}/") for key in keys())

    response = outsider.client.delete(f"/api/organisations/{cast.other}", headers=outsider.headers)
    assert response.status_code == 200, response.text

    after = keys()
    assert not any(key.startswith(f"data/{cast.other}/") for key in after)
    assert not storage.exists(f"{job_id}/{job_id}/item/otsu.tif")
    assert any(key.startswith(f"data/{cast.acme}/{kept_data}/") for key in after)
    gone = outsider.client.get(f"/api/organisations/{cast.other}", headers=outsider.headers)
    assert gone.status_code in (401, 404)
