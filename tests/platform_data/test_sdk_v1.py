"""The published Fusion SDK 1.1.4, unchanged, in its own virtual environment, against a real
``terrafuse serve --demo`` process: upload a region in every supported format with
``create_data(name, file_type, files, wait=True)``, find it by id and by name, rename it, download
its file byte for byte and delete it.

1.1.4 predates upload progress, client-chosen data ids and ``search=`` (fusion-api.md §8), so the
script uses none of them. The files are made here with this interpreter's tools; the SDK's own
packaged Glasgow and Lake District examples are uploaded from its installation.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import fusion_platform
import pytest

from terrafuse.usecases.accounts import DEMO_EMAIL, DEMO_PASSWORD
from tests.platform_api.conftest import sdk_server, sdk_v1_python  # noqa: F401  (shared session fixtures)
from tests.platform_data.test_sdk import GLASGOW_BOUNDS, GLASGOW_KM2, LAKE_DISTRICT_KM2, _formats
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e
SCRIPT = Path(__file__).with_name("sdk_v1_data_script.py")


def _uploads(folder: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(file type, path or packaged example, expected) for every format; the packaged examples are
    the 1.1.4 installation's own files, named to the script as "glasgow" and "lake_district"."""
    packaged = {
        Path(fusion_platform.EXAMPLE_GLASGOW_FILE): "glasgow",
        Path(fusion_platform.EXAMPLE_LAKE_DISTRICT_FILE): "lake_district",
    }
    return [
        (file_type, packaged.get(path, str(path)), expected) for file_type, path, expected in _formats(folder)
    ]


def test_sdk_1_1_4_uploads_finds_renames_downloads_and_deletes(
    sdk_server: ServerProcess,  # noqa: F811
    sdk_v1_python: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    uploads = _uploads(tmp_path / "files")
    listing = tmp_path / "uploads.json"
    listing.write_text(json.dumps([[file_type, path] for file_type, path, _ in uploads]), encoding="utf-8")
    (tmp_path / "downloads").mkdir()
    done = subprocess.run(
        [str(sdk_v1_python), str(SCRIPT), f"{sdk_server.url}/api", DEMO_EMAIL, DEMO_PASSWORD,
         str(tmp_path / "downloads"), str(listing)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["version"] == "1.1.4" and seen["organisation"] == "Acme"
    assert [r["file_type"] for r in seen["uploads"]] == [file_type for file_type, _, _ in uploads]
    # The packaged examples really came from the 1.1.4 installation.
    venv = sdk_v1_python.parent.parent
    assert all(Path(r["path"]).is_relative_to(venv) for r in seen["uploads"][:2])

    for index, (record, (file_type, _, expected)) in enumerate(zip(seen["uploads"], uploads, strict=True)):
        label = f"{file_type} {Path(record['path']).name}"
        assert record["analysed"] is True and record["files"] == 1, label
        assert (record["file_name"], record["file_type_seen"]) == (Path(record["path"]).name, file_type), (
            label
        )
        assert record["size"] == record["downloaded_size"] == Path(record["path"]).stat().st_size, label
        assert (record["publishable"], record["error"]) == (True, False), label
        assert record["bytes_identical"] is True, label
        assert record["found_by_id"] == record["found_by_name"] == record["data_id"], label
        assert record["name_matches"] == [record["data_id"]] and record["listed"], label
        assert record["renamed"] == record["renamed_reloaded"] == f"SDK1 renamed {index}", label
        assert not record["old_name_found"], label
        assert record["found_after_delete"] is False, label
        if "crs" in expected:
            assert record["crs"] == expected["crs"] and len(record["bounds"]) == 4, label
        if "km2" in expected:
            assert record["area"] / 1e6 == pytest.approx(expected["km2"], rel=0.03), label
        if expected.get("km2") == GLASGOW_KM2:
            assert record["bounds"] == pytest.approx(GLASGOW_BOUNDS, abs=1e-3), label
        if file_type == fusion_platform.FILE_TYPE_GEOTIFF:
            assert record["resolution"] == expected["resolution"] and record["selectors"] == 1, label
        if file_type == fusion_platform.FILE_TYPE_CSV:
            assert record["bounds"] is None, label

    areas = {Path(r["path"]).name: round(r["area"] / 1e6) for r in seen["uploads"] if r["area"] is not None}
    print(f"SDK 1.1.4 areas (km²): {areas}")
    assert areas["lake_district.geojson"] == pytest.approx(LAKE_DISTRICT_KM2, rel=0.03)
    assert seen["left"] == []
