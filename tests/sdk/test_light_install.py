"""``pip install terrafuse`` without extras is a light client: a fresh virtual environment gets the
SDK and its three dependencies, no server package, and the SDK works from there against a server.

The environment is built from a copy of the project (so nothing is written into the working tree)
and kept in pytest's cache folder, keyed by a hash of what it installs: the SDK's sources and
``pyproject.toml``. A lock keeps parallel runs from building it twice; a marker written last means
a half-built one is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.server import ServerProcess
from tests.support.venvs import cached_environment, clean_env

ROOT = Path(__file__).parents[2]
SERVER_PACKAGES = (
    "fastapi", "starlette", "uvicorn", "sqlalchemy", "rasterio", "numpy", "dask", "distributed", "shapely",
    "pyproj", "pystac", "alembic", "jinja2", "typer",
)  # fmt: skip


def _inputs() -> list[Path]:
    sdk = sorted(
        p
        for p in (ROOT / "src" / "terrafuse" / "sdk").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    top = [ROOT / "src" / "terrafuse" / name for name in ("__init__.py", "ogc.py")]
    return [ROOT / "pyproject.toml", *top, *sdk]


def _key() -> str:
    digest = hashlib.sha256()
    for path in _inputs():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _copy_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    shutil.copy2(ROOT / "README.md", target / "README.md")
    shutil.copytree(ROOT / "src", target / "src", ignore=ignore)
    return target


@pytest.fixture(scope="session")
def light_python(request: pytest.FixtureRequest) -> Path:
    """The Python of a fresh virtual environment where only ``pip install <project>`` ran."""
    with tempfile.TemporaryDirectory() as folder:
        project = _copy_project(Path(folder))
        return cached_environment(request, "terrafuse-light-sdk", [str(project)], key=_key())


def _run(python: Path, code: str, *args: str) -> str:
    done = subprocess.run(
        [str(python), "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=clean_env(),
        cwd=tempfile.gettempdir(),
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


IMPORT_CHECK = """
import importlib.util, json, os, sys
import terrafuse
import terrafuse.ogc
packages = json.loads(sys.argv[1])
examples = (terrafuse.EXAMPLE_GLASGOW_FILE, terrafuse.EXAMPLE_LAKE_DISTRICT_FILE)
print(json.dumps({
    "file": terrafuse.__file__,
    "login": callable(terrafuse.login),
    "example": all(map(os.path.isfile, examples)),
    "loaded": [m for m in packages if m in sys.modules],
    "installed": [m for m in packages if importlib.util.find_spec(m) is not None],
    "client": terrafuse.ogc.OGCClient.__name__,
}))
"""


def test_the_sdk_installs_and_imports_without_server_packages(light_python: Path) -> None:
    report = json.loads(_run(light_python, IMPORT_CHECK, json.dumps(SERVER_PACKAGES)))
    assert Path(report["file"]).is_relative_to(light_python.parents[1])  # the installed copy, not src/
    assert report["login"] and report["example"] and report["client"] == "OGCClient"
    assert report["loaded"] == [] and report["installed"] == []


def test_pystac_is_asked_for_only_when_needed(light_python: Path) -> None:
    code = (
        "from terrafuse.sdk.ogc_results import Results\n"
        "try:\n"
        "    Results({'o': {'type': 'FeatureCollection', 'features': []}}).item_collection()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    assert "pip install 'terrafuse[ogc]'" in _run(light_python, code)


LIGHT_SESSION = """
import sys
import terrafuse
user = terrafuse.login(email="me@org.com", password="MyPassword123!", api_url=sys.argv[1])
organisation = next(user.organisations)
data = organisation.create_data(name="Light client", file_type=terrafuse.FILE_TYPE_GEOJSON,
                                files=[terrafuse.EXAMPLE_GLASGOW_FILE], wait=True)
service, _ = organisation.find_services(keyword="Elevation")
process = organisation.new_process(name="Light client", service=service)
process.update(input_number=1, data=data).update(option_name="resolution", value=240).create()
process.execute(wait=True, timeout=300)
names = [component.name for component in next(process.executions).components]
process.delete()
data.delete()
print(",".join(names))
"""


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_the_light_client_runs_a_process(light_python: Path, terrafuse_server: ServerProcess) -> None:
    assert (
        _run(light_python, LIGHT_SESSION, f"{terrafuse_server.url}/api").strip() == "DEM Ingestion,Elevation"
    )
