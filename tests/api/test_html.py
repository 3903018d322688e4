"""HTML views (the OGC ``html`` class): ``?f=html`` or a browser's Accept; JSON stays the default."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.ogc_api import ROOT, execute, json_of, media_type, monitor_url

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Rendering does not depend on the database: SQLite only (no PostgreSQL variant)."""
    return f"sqlite:///{tmp_path / 'terrafuse.db'}"


@pytest.fixture
def job(client: TestClient) -> str:
    response = execute(client)
    assert response.status_code == 200
    return monitor_url(response).rsplit("/", 1)[-1]


def _pages(job: str) -> list[tuple[str, str, list[str]]]:
    """(path, schema of its JSON form, texts its HTML form must show)."""
    return [
        (f"{ROOT}/", "landingPage", ["terrafuse", "/ogc-api/processes", "/ogc-api/conformance"]),
        (
            f"{ROOT}/conformance",
            "confClasses",
            ["http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core"],
        ),
        (f"{ROOT}/processes", "processList", ["echo", "water-bodies"]),
        (f"{ROOT}/processes/echo", "process", ["echo", "string_input", "binary_input", "pause"]),
        (f"{ROOT}/jobs", "jobList", [job, "successful"]),
        (f"{ROOT}/jobs/{job}", "statusInfo", [job, "successful"]),
        ("/acme/ogc-api/processes", "processList", ["echo"]),
    ]


@pytest.mark.parametrize("how", ["f=html", "accept", "browser"])
def test_html_pages(client: TestClient, job: str, how: str) -> None:
    for path, _, texts in _pages(job):
        if how == "f=html":
            response = client.get(path, params={"f": "html"})
        else:
            response = client.get(path, headers={"Accept": "text/html" if how == "accept" else BROWSER})
        assert response.status_code == 200, (path, response.text)
        assert media_type(response) == "text/html", path
        assert response.text.lstrip().lower().startswith("<!doctype html>")
        for text in texts:
            assert text in response.text, (path, text)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept": "*/*"}, {"Accept": "application/json"}, {"Accept": "application/json, text/html"}],
)
def test_json_is_the_default(client: TestClient, job: str, headers: dict[str, str]) -> None:
    for path, schema, _ in _pages(job):
        json_of(client.get(path, headers=headers), schema)


def test_f_json_wins_over_accept(client: TestClient, job: str) -> None:
    response = client.get(f"{ROOT}/jobs/{job}", params={"f": "json"}, headers={"Accept": "text/html"})
    assert json_of(response, "statusInfo")["jobID"] == job


def test_html_links_point_to_html_views(client: TestClient, job: str) -> None:
    doc = client.get(f"{ROOT}/jobs/{job}").json()
    alternate = next(lk for lk in doc["links"] if lk["rel"] == "alternate")
    assert alternate["type"] == "text/html" and alternate["href"].endswith("f=html")
    page = client.get(f"{ROOT}/jobs", params={"f": "html"})
    assert f"/jobs/{job}?f=html" in page.text
