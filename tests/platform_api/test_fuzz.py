"""Schemathesis fuzzes the users, organisations, credits and data routes of a real server: no 5xx.

The server is started without demo data; its account and organisation are made with the admin
CLI (``credits add`` included), as an operator would, and a data item with one uploaded GeoJSON
file through the API, as the SDK makes it. Fuzzing signs in badly many times, which
throttles sign-ins from loopback, so it gets a server of its own.

Three runs, all with the account's Bearer token and a fixed seed:

1. every operation with generated ids (sign-in included; deletions hit nothing);
2. every operation but DELETE with the real user, organisation, data and file ids, so the generated bodies
   reach validation and the database (including changes that succeed);
3. last, the deletions with the real ids (they delete the data item, the organisation and the
   account).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from terrafuse.cli import app
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "fuzz@example.com", "Fuzz-Pass123!"
# Users, organisations, credits and the data routes (``/api/organisations/{organisation_id}/data...``).
PATHS = r"^/api/(users/|organisations/\{organisation_id\}((/credits/\{credit_id\})?$|/data(/|$)))"
EXAMPLES = 30


@dataclass
class FuzzTarget:
    server: ServerProcess
    token: str
    user_id: str
    organisation_id: str
    data_id: str
    file_id: str


REGION = (
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
    b'{"type": "Polygon", "coordinates": [[[-4.3, 55.8], [-4.1, 55.8], [-4.1, 55.9], [-4.3, 55.8]]]}}]}'
)


def _uploaded_region(url: str, headers: dict[str, str], organisation_id: str) -> tuple[str, str]:
    """(data id, file id) of a data item holding one uploaded GeoJSON file, as the SDK makes it."""
    root = f"{url}/api/organisations/{organisation_id}/data"
    data = httpx.post(root, headers=headers, json={"Data": {"name": "Fuzz region"}})
    assert data.status_code == 200, data.text
    data_id = data.json()["model"]["id"]
    added = httpx.post(
        f"{root}/{data_id}/add_file",
        headers=headers,
        json={"Data": {"name": "region.geojson", "file_type": "GeoJSON"}},
    )
    assert added.status_code == 200, added.text
    extras = added.json()["extras"]
    put = httpx.put(extras["url"], content=REGION)
    assert put.status_code in (200, 201, 204), put.text
    return data_id, extras["file"]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    runner = CliRunner()
    for args in (
        ["user", "create", "--email", EMAIL, "--password", PASSWORD],
        ["org", "create", "--name", "Fuzz", "--namespace", "fuzz"],
        ["org", "add-member", "--org", "fuzz", "--email", EMAIL, "--privileges", "view,execute,manage"],
        ["credits", "add", "--org", "fuzz", "--amount", "100"],
    ):
        result = runner.invoke(app, ["admin", *args, "--data-dir", str(data)])
        assert result.exit_code == 0, result.output
    server = ServerProcess(data, demo=False, env={"TERRAFUSE_DASK_WORKERS": "1"}).start()
    try:
        tokens = httpx.post(
            f"{server.url}/api/users/login", json={"User": {"email": EMAIL, "password": PASSWORD}}
        ).json()
        user_id = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"]
        me = httpx.get(
            f"{server.url}/api/users/{user_id}", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).json()["model"]
        organisation_id = me["organisations"][0]["id"]
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        data_id, file_id = _uploaded_region(server.url, headers, organisation_id)
        yield FuzzTarget(server, tokens["access_token"], user_id, organisation_id, data_id, file_id)
    finally:
        server.stop()


def _schemathesis(target: FuzzTarget, workdir: Path, *options: str, ids: bool = False) -> tuple[int, int]:
    """Run the schemathesis CLI; (generated, passed) test cases. Fails the test on any failure."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "schemathesis.toml"
    config.write_text(
        "[parameters]\n"
        + "".join(
            f'"path.{name}" = "{value}"\n'
            for name, value in (
                ("user_id", target.user_id),
                ("organisation_id", target.organisation_id),
                ("credit_id", target.organisation_id),
                ("data_id", target.data_id),
                ("file_id", target.file_id),
            )
        )
        if ids
        else ""
    )
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
        f"{target.server.url}/api/openapi.json",
        "-H", f"Authorization: Bearer {target.token}",
        "--checks", "not_a_server_error",
        "-n", str(EXAMPLES), "--seed", "1",
        "--include-path-regex", PATHS,
        "--request-timeout", "20",
        *options,
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=240, env={**os.environ, "NO_COLOR": "1"}
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts is not None, output[-3000:]
    generated, passed = int(counts.group(1)), int(counts.group(2))
    assert generated == passed > 0, output[-3000:]
    return generated, passed


def test_fuzzing_finds_no_server_errors(target: FuzzTarget, tmp_path: Path) -> None:
    generated = [
        _schemathesis(target, tmp_path / "generated-ids")[0],
        _schemathesis(target, tmp_path / "real-ids", "--exclude-method", "DELETE", ids=True)[0],
        _schemathesis(target, tmp_path / "deletions", "--include-method", "DELETE", ids=True)[0],
    ]
    print(f"schemathesis test cases (generated ids, real ids, deletions): {generated}")
    assert sum(generated) > 1000, generated
    # The server agrees: no request answered 5xx, no unhandled error was logged.
    log = target.server.logs()
    assert "Traceback" not in log and "unhandled error" not in log
    assert not re.search(r'HTTP/1\.1" 5\d\d', log)
    assert re.search(r'"PATCH /api/organisations/\S+ HTTP/1\.1" 200', log)  # real changes were made
    assert re.search(r'"DELETE /api/users/\S+ HTTP/1\.1" 200', log)  # and the account went last
    # The data routes were reached with the real ids, and changes there succeeded too.
    data = f"/api/organisations/{target.organisation_id}/data/{target.data_id}"
    for request in (f"PATCH {data}", f"POST {data}/copy", f"GET {data}/download_file/{target.file_id}"):
        assert re.search(rf'"{re.escape(request)}\S* HTTP/1\.1" 200', log), request
