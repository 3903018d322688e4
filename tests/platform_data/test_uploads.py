"""Uploads through signed URLs and their analysis on the Dask workers: limits, forgeries, hostile
content, uploads nobody reported, lost analyses, copies."""

from __future__ import annotations

import time
import zipfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import fusion_platform
import numpy as np
import pytest
import shapely
from sqlalchemy import update

from terrafuse import analysis
from terrafuse.core.clock import utcnow
from terrafuse.storage.local import LocalObjectStore
from terrafuse.store.tables import DataFileRow
from terrafuse.usecases.file_analysis import analyse_stored_file
from tests.analysis.makers import shapefile_zip, write_raster
from tests.analysis.test_safety import zeros_zip
from tests.platform_data.conftest import MAX_OBJECT_BYTES, Cast

GLASGOW = Path(fusion_platform.EXAMPLE_GLASGOW_FILE).read_bytes()


def _objects(cast: Cast) -> list[Path]:
    root = cast.platform.rt.settings.resolved_storage_dir / "data"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _state(cast: Cast, data_id: str) -> list[str]:
    return [f["state"] for f in cast.runner.files(data_id)]


def test_oversized_or_broken_uploads_store_nothing(cast: Cast) -> None:
    me = cast.runner
    data_id = me.create("Too big")["id"]
    _, url = me.add_file(data_id, "big.tif", "GeoTIFF")

    declared = me.put(url, b"\0" * (MAX_OBJECT_BYTES + 1))
    assert declared.status_code == 413

    def streamed() -> object:
        for _ in range(MAX_OBJECT_BYTES // 1024 + 1):
            yield b"\0" * 1024

    assert me.client.put(url.split("testserver", 1)[1], content=streamed()).status_code == 413
    assert _objects(cast) == []
    time.sleep(0.2)
    assert _state(cast, data_id) == ["awaiting_upload"]
    assert "size" not in me.files(data_id)[0]

    # The same URL still takes a proper upload.
    assert me.put(url, GLASGOW).status_code == 200
    assert me.analysed(data_id)[0]["size"] == len(GLASGOW)


def test_forged_expired_and_reused_urls_are_refused(cast: Cast) -> None:
    me, store = cast.runner, cast.platform.rt.storage
    assert isinstance(store, LocalObjectStore)
    data_id = me.create("Forgeries")["id"]
    file_id, url = me.add_file(data_id, "roi.geojson", "GeoJSON")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    key = parts.path.removeprefix("/objects/")
    other_key = key.replace(file_id, data_id)
    expired = store.signed_url(key, "PUT", -5, "http://testserver")
    forgeries = [
        f"{parts.path}?{urlencode({**query, 'signature': '0' * 64})}",
        f"{parts.path}?{urlencode({**query, 'expires': int(query['expires']) + 1})}",
        f"/objects/{other_key}?{parts.query}",
        expired.split("testserver", 1)[1],
        store.signed_url(key, "GET", 60, "http://testserver").split("testserver", 1)[1],
    ]
    for forged in forgeries:
        response = me.client.put(forged, content=GLASGOW)
        assert response.status_code == 403, (forged, response.text)
    assert _objects(cast) == []

    assert me.put(url, GLASGOW).status_code == 200
    again = me.put(url, b"{}")
    assert again.status_code == 409 and "already uploaded" in again.json()["detail"]
    me.analysed(data_id)
    download = me.ok("GET", f"/{data_id}/download_file/{file_id}")["extras"]["url"]
    assert me.client.get(download.split("testserver", 1)[1]).content == GLASGOW
    assert me.client.put(download.split("testserver", 1)[1], content=b"x").status_code == 403

    me.ok("DELETE", f"/{data_id}")
    late = me.put(url, GLASGOW)  # the signature is still valid, the file is gone
    assert late.status_code == 404
    assert _objects(cast) == []


def test_hostile_and_invalid_files_end_unpublishable(cast: Cast, tmp_path: Path) -> None:
    me = cast.runner
    shp = shapefile_zip(tmp_path / "a", [shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    slip = tmp_path / "slip.zip"
    slip.write_bytes(shp.read_bytes())
    with zipfile.ZipFile(slip, "a") as archive:
        archive.writestr(zipfile.ZipInfo("../evil.shp"), b"x")
    bomb = zeros_zip(tmp_path / "bomb.kmz", "doc.kml", 8 << 20)
    png = write_raster(tmp_path / "x.png", np.full((8, 8), 7, np.uint8), crs=None, driver="PNG")
    cases = [
        ("broken.geojson", "GeoJSON", b'{"type": "FeatureCollection", "features": [', "could not be read"),
        ("lie.tif", "GeoTIFF", png.read_bytes(), "declared GeoTIFF but the content is PNG"),
        ("slip.zip", "ESRI Shapefile", slip.read_bytes(), "path that leaves the archive"),
        ("bomb.kmz", "KMZ", bomb.read_bytes(), "this looks like a zip bomb"),
        ("nothing.csv", "CSV", b"", "the file is empty"),
        ("far.geojson", "GeoJSON", b'{"type":"Point","coordinates":[500000, 6000000]}', "WGS84"),
    ]
    data_id = me.create("Hostile")["id"]
    for name, file_type, content, _ in cases:
        me.upload(name, file_type, content, data_id=data_id)
    files = {f["file_name"]: f for f in me.analysed(data_id)}
    for name, file_type, content, message in cases:
        file = files[name]
        assert (file["publishable"], file["error"], file["size"]) == (False, True, len(content)), file
        assert message in file["error_message"] and file["description"] == file["error_message"], file
        assert file["file_type"] == file_type
        assert "/objects/" not in file["error_message"] and "terrafuse-analysis" not in file["error_message"]
    assert files["lie.tif"]["detected_file_type"] == "PNG"
    assert me.ok("GET", f"/{data_id}")["model"]["bounds"] is None


def test_uploads_nobody_reported_and_lost_analyses(cast: Cast) -> None:
    me, ctx = cast.runner, cast.platform.data
    data_id = me.create("Direct")["id"]
    file_id, _ = me.add_file(data_id, "glasgow.geojson", "GeoJSON")
    stored = ctx.store.file(cast.acme, data_id, file_id)
    assert stored is not None
    # As an S3 client uploading straight to the bucket: the API hears nothing about it.
    cast.platform.rt.storage.put_bytes(stored.object_key, GLASGOW)
    assert _state(cast, data_id) in (["analysing"], ["analysed"])
    assert me.analysed(data_id)[0]["publishable"] is True
    assert ctx.stored_bytes(cast.acme) == len(GLASGOW)

    # A run that stopped reporting (its server died) is started again...
    def lose(attempts: int) -> None:
        with cast.platform.rt.db.write_conn() as c:
            c.execute(
                update(DataFileRow)
                .where(DataFileRow.id == file_id)
                .values(
                    state="analysing",
                    analysis_token="lost-run",
                    analysis_heartbeat_at=utcnow() - timedelta(minutes=5),
                    analysis_attempts=attempts,
                    size=None,
                    publishable=None,
                )
            )

    lose(attempts=1)
    assert "size" not in me.files(data_id)[0]
    (file,) = me.analysed(data_id)
    assert file["publishable"] is True
    # ...and a lost run's late result does not count.
    assert not ctx.store.finish_analysis(file_id, "lost-run", ctx.store.file_by_id(file_id).result, utcnow())  # type: ignore[arg-type]

    # ...unless the runs keep getting lost.
    lose(attempts=3)
    (file,) = me.files(data_id)
    assert (file["publishable"], file["error"]) == (False, True)
    assert "did not finish after 3 attempts" in file["error_message"]


def test_analysis_starts_once(cast: Cast) -> None:
    me, ctx = cast.runner, cast.platform.data
    data_id, file_id = me.upload("glasgow.geojson", "GeoJSON", GLASGOW)
    for _ in range(3):
        me.files(data_id)
    me.analysed(data_id)
    stored = ctx.store.file_by_id(file_id)
    assert stored is not None and stored.analysis_attempts == 1
    assert ctx.store.start_analysis(file_id, None, utcnow()) is None


def test_copy(cast: Cast, tmp_path: Path) -> None:
    me = cast.runner
    tif = write_raster(tmp_path / "dem.tif", np.arange(64, dtype=np.float32).reshape(8, 8))
    data_id, _ = me.upload("dem.tif", "GeoTIFF", tif.read_bytes())
    waiting = me.create("Waiting")["id"]
    me.add_file(waiting, "x.geojson", "GeoJSON")
    refused = me.call("POST", f"/{waiting}/copy", json={"Data": {"name": "Too soon"}})
    assert refused.status_code == 409
    (original,) = me.analysed(data_id)
    assert original["resolution"] == 10 and original["crs"] == "EPSG:32630"
    assert original["selectors"][0]["histogram"] == [7, 6, 6, 7, 6, 6, 7, 6, 6, 7]

    copy = me.ok("POST", f"/{data_id}/copy", json={"Data": {"name": "Copy of DEM"}})["model"]
    assert copy["id"] != data_id and copy["name"] == "Copy of DEM"
    assert copy["bounds"] == me.ok("GET", f"/{data_id}")["model"]["bounds"]
    (copied,) = me.files(copy["id"])
    for field in ("size", "publishable", "crs", "bounds", "selectors", "resolution", "file_name"):
        assert copied[field] == original[field]
    assert copied["id"] != original["id"]
    assert cast.platform.data.stored_bytes(cast.acme) == 2 * tif.stat().st_size

    me.ok("DELETE", f"/{data_id}")
    url = me.ok("GET", f"/{copy['id']}/download_file/{copied['id']}")["extras"]["url"]
    assert me.client.get(url.split("testserver", 1)[1]).content == tif.read_bytes()


def test_analysis_failures_are_recorded_not_raised(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, settings = cast.platform.data, cast.platform.rt.settings
    me = cast.runner
    data_id = me.create("Unlucky")["id"]
    crashing, _ = me.add_file(data_id, "crash.geojson", "GeoJSON")
    missing, _ = me.add_file(data_id, "missing.geojson", "GeoJSON")
    for file_id in (crashing, missing):
        stored = ctx.store.file(cast.acme, data_id, file_id)
        assert stored is not None
        cast.platform.rt.storage.put_bytes(stored.object_key, GLASGOW)
    tokens = {f: ctx.store.start_analysis(f, len(GLASGOW), utcnow()) for f in (crashing, missing)}
    missing_file = ctx.store.file_by_id(missing)
    assert missing_file is not None
    cast.platform.rt.storage.delete_prefix(missing_file.object_key)

    def explode(*args: object, **kwargs: object) -> None:
        raise AttributeError("a bug in the analysis")

    monkeypatch.setattr(analysis, "analyse_file", explode)
    assert analyse_stored_file(ctx.store, ctx.storage, settings, crashing, "stale-token") == "skipped"
    for file_id, token in tokens.items():
        assert token is not None
        assert analyse_stored_file(ctx.store, ctx.storage, settings, file_id, token) == "analysed"
    files = {f["id"]: f for f in me.files(data_id)}
    assert files[crashing]["publishable"] is False
    assert "internal error" in files[crashing]["error_message"]
    assert files[missing]["error_message"] == "the uploaded file is missing from storage"
    assert files[missing]["size"] == len(GLASGOW)
