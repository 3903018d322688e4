"""A small client for any OGC API - Processes server (terrafuse, ZOO-Project, pygeoapi).

Five lines from a process to files on disk::

    from terrafuse.ogc import OGCClient
    client = OGCClient("http://127.0.0.1:8000/acme/ogc-api")
    job = client.execute("water-bodies", {"stac_items": [...], "aoi": "...", "bands": ["green", "nir"]})
    items = job.wait(timeout=600).results().item_collection()
    paths = client.download_assets(items, "water-bodies")

Requests are retried on transient failures; waits show progress and end at their timeout;
errors carry the server's explanation (an RFC 7807 ``detail``, or the ``description`` of an OGC
exception such as pygeoapi's).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from terrafuse.sdk.errors import JobFailedError, ModelError, RequestError, ServerError, error_for_status
from terrafuse.sdk.ogc_models import FINISHED, Link, ProcessDescription, ProcessSummary, StatusInfo
from terrafuse.sdk.ogc_results import Results, download_assets
from terrafuse.sdk.progress import ProgressBar
from terrafuse.sdk.session import SessionOptions, check, encode_json, send
from terrafuse.sdk.timing import Deadline, poll_until

__all__ = [
    "Job",
    "Link",
    "OGCClient",
    "ProcessDescription",
    "ProcessSummary",
    "Results",
    "StatusInfo",
]

_JSON = "application/json"
_MAX_PAGES = 1000  # a server whose "next" links loop must not keep the client forever


class OGCClient:
    """A client of one OGC API - Processes endpoint, e.g. ``http://host/acme/ogc-api``.

    Args:
        url: the API's landing page URL.
        token: a bearer token, sent as ``Authorization: Bearer <token>``.
        auth: ``(user, password)`` for HTTP Basic authentication.
        headers: more headers to send with every request.
        options: request timeout, poll interval, wait timeout, progress bars, retries, clock.
        transport: an ``httpx`` transport to talk through (tests pass an in-process one).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        options: SessionOptions | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.options = options or SessionOptions()
        sent = {"Accept": _JSON, **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            timeout=httpx.Timeout(self.options.request_timeout),
            transport=transport,
            headers=sent,
            auth=httpx.BasicAuth(*auth) if auth else None,
            follow_redirects=True,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def __enter__(self) -> OGCClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------------
    def _absolute(self, path_or_url: str) -> str:
        return path_or_url if "://" in path_or_url else f"{self.url}/{path_or_url.lstrip('/')}"

    def _send(self, method: str, path_or_url: str, **kwargs: Any) -> httpx.Response:
        return _check(send(self.http, self.options, method, self._absolute(path_or_url), **kwargs))

    def get_json(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET`` a JSON document (a path below the API, or any URL)."""
        # Only when given: httpx replaces a URL's own query (a "next" link's) with ``params``.
        extra = {"params": dict(params)} if params else {}
        response = self._send("GET", path_or_url, **extra)
        try:
            return response.json()
        except ValueError as exc:
            raise ServerError(
                response.status_code, "the reply is not JSON", "GET", str(response.url)
            ) from exc

    # -- discovery ----------------------------------------------------------------------------
    def landing(self) -> dict[str, Any]:
        """The landing page (``GET /``)."""
        return dict(self.get_json(""))

    def conformance(self) -> list[str]:
        """The conformance classes the server claims (``GET /conformance``)."""
        return list(self.get_json("conformance").get("conformsTo", []))

    def processes(self) -> list[ProcessSummary]:
        """Every process (``GET /processes``, following ``next`` links)."""
        found: list[ProcessSummary] = []
        url: str | None = "processes"
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            page = self.get_json(url)
            found += [ProcessSummary.model_validate(p) for p in page.get("processes", [])]
            url = next((link["href"] for link in page.get("links", []) if link.get("rel") == "next"), None)
        return found

    def describe(self, process_id: str) -> ProcessDescription:
        """A process's description with its inputs and outputs (``GET /processes/{id}``)."""
        return ProcessDescription.model_validate(self.get_json(f"processes/{process_id}"))

    # -- execution ----------------------------------------------------------------------------
    def execute(
        self,
        process_id: str,
        inputs: Mapping[str, Any],
        outputs: Mapping[str, Any] | None = None,
        asynchronous: bool = True,
        subscriber: Mapping[str, str] | None = None,
    ) -> Job:
        """Execute a process (``POST /processes/{id}/execution``); its job.

        Asks for asynchronous execution (``Prefer: respond-async``) unless ``asynchronous`` is
        False, and for results as a document. A server may still answer synchronously; the job
        then already holds its results (and has the id the server named in a ``monitor`` link or
        ``Location``, if any). Use :meth:`Job.wait` to wait for an asynchronous one.
        """
        body: dict[str, Any] = {"inputs": dict(inputs), "response": "document"}
        if outputs is not None:
            body["outputs"] = dict(outputs)
        if subscriber is not None:
            body["subscriber"] = dict(subscriber)
        # "respond-async" alone: that is OGC 1.0's exact wording, and pygeoapi compares the whole
        # header with it, so any added preference makes it run the job synchronously. The body's
        # "response" asks for a document already; "return=representation" only helps servers that
        # read the 2.0 draft (ZOO-DRU) pick a document for a synchronous answer.
        prefer = "respond-async" if asynchronous else "return=representation"
        response = self._send(
            "POST",
            f"processes/{process_id}/execution",
            content=encode_json(body),
            headers={"Content-Type": _JSON, "Prefer": prefer},
        )
        document = _json_or_empty(response)
        if response.status_code == 201 or _looks_like_status(document):
            location = response.headers.get("location")
            job_id = str(document.get("jobID") or (location or "").rstrip("/").rsplit("/", 1)[-1])
            if not job_id:
                raise ServerError(response.status_code, "the server created a job but did not say which")
            job = Job(self, job_id, self._absolute(location) if location else None)
            return job._set(document) if _looks_like_status(document) else job.refresh()
        # Synchronous: the results themselves, with the job they ran as: a monitor link (OGC 1.0,
        # 7.11.2; terrafuse) or, from pygeoapi, a Location header.
        monitor = response.links.get("monitor", {}).get("url") or response.headers.get("location")
        job_id = monitor.rstrip("/").rsplit("/", 1)[-1] if monitor else ""
        job = Job(self, job_id, self._absolute(monitor) if monitor else None)
        job._set({"jobID": job_id, "status": "successful", "processID": process_id, "progress": 100})
        job._results = Results(document, self.get_json)
        return job

    def job(self, job_id: str) -> Job:
        """A job by its id (``GET /jobs/{id}``)."""
        return Job(self, job_id).refresh()

    def jobs(self, process_id: str | None = None, status: str | None = None, limit: int = 100) -> list[Job]:
        """Jobs the server lists (``GET /jobs``), newest first where the server orders them.

        ``process_id`` and ``status`` are sent as filters and applied again to the listing, since
        some servers (pygeoapi) ignore them and list every job.
        """
        params: dict[str, Any] = {"limit": limit}
        if process_id:
            params["processID"] = process_id
        if status:
            params["status"] = status
        listing = self.get_json("jobs", params)
        return [
            Job(self, str(info.get("jobID")))._set(info)
            for info in listing.get("jobs", [])
            if (not process_id or info.get("processID") in (None, process_id))
            and (not status or info.get("status") == status)
        ]

    def download_assets(
        self,
        items: Any,
        directory: str | os.PathLike[str],
        keys: Iterable[str] | None = None,
        roles: Iterable[str] | None = None,
        timeout: float | None = None,
    ) -> list[Path]:
        """Download STAC items' assets into ``directory/<item id>/``; the files' paths.

        ``items``: a ``pystac.ItemCollection``, a FeatureCollection dict or :class:`Results`.
        """
        return download_assets(items, directory, self.http, self.options, keys, roles, timeout)


def _check(response: httpx.Response) -> httpx.Response:
    """``response`` when its status is a success; else the matching typed error with the
    server's explanation.

    :func:`~terrafuse.sdk.session.check` reads RFC 7807 problems (``detail``, ``title``); OGC
    exceptions in the older form, which pygeoapi sends (``{"code": "NoSuchProcess",
    "description": "Identifier not found"}``), explain themselves in ``description``.
    """
    if response.status_code >= 400:
        document = _json_or_empty(response)
        description = document.get("description")
        if isinstance(description, str) and description.strip() and not document.get("detail"):
            request = response.request
            url = str(request.url).split("?", 1)[0]  # a query may carry signatures
            raise error_for_status(response.status_code, description, request.method, url)
    return check(response)


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    if not response.content.strip():
        return {}
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _looks_like_status(document: Mapping[str, Any]) -> bool:
    return "jobID" in document and "status" in document


class Job:
    """An OGC API job: its status, a wait with progress, its results, and dismissal.

    Attributes:
        id: the job's id.
        url: the job's status URL (``/jobs/{id}``).
        info: the latest :class:`StatusInfo` (``status``, ``progress``, ``message``...).
    """

    def __init__(self, client: OGCClient, job_id: str, url: str | None = None) -> None:
        self.client = client
        self.id = job_id
        self.url = url or f"{client.url}/jobs/{job_id}"
        self.info: StatusInfo | None = None
        self._results: Results | None = None

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.status}>"

    def _set(self, document: Mapping[str, Any]) -> Job:
        self.info = StatusInfo.model_validate({"jobID": self.id, **document})
        return self

    @property
    def status(self) -> str:
        """``accepted``, ``running``, ``successful``, ``failed`` or ``dismissed``."""
        return self.info.status if self.info else "unknown"

    @property
    def progress(self) -> int | None:
        """The server's progress estimate, 0 to 100 (None when it gives none)."""
        return self.info.progress if self.info else None

    @property
    def done(self) -> bool:
        """Whether the job has ended."""
        return self.status in FINISHED

    def refresh(self) -> Job:
        """Reload the job's status (``GET /jobs/{id}``); itself."""
        if not self.id:
            raise ModelError("the server answered synchronously without a job to ask about")
        return self._set(self.client.get_json(self.url))

    def wait(self, timeout: float | None = None, progress: bool | None = None) -> Job:
        """Wait until the job ends, showing its progress; itself.

        Raises ``JobFailedError`` if it failed or was dismissed, ``WaitTimeoutError`` after
        ``timeout`` seconds (default the client's ``wait_timeout``; the job carries on).
        """
        options = self.client.options
        deadline = Deadline(
            options.clock, options.wait_timeout if timeout is None else timeout, f"job {self.id}"
        )
        shown = options.progress if progress is None else progress
        with ProgressBar(f"job {self.id[:8]}", 100, "%", shown) as bar:

            def check() -> Job | None:
                if not self.done:
                    self.refresh()
                bar.set(100 if self.status == "successful" else (self.progress or 0))
                return self if self.done else None

            poll_until(check, options.clock, deadline, options.poll_interval)
        if self.status != "successful":
            raise JobFailedError(self.id, self.status, self._failure_message())
        return self

    def _failure_message(self) -> str:
        message = (self.info.message if self.info else None) or ""
        try:  # the results endpoint of a failed job explains the failure (OGC 1.0, 7.13.3)
            self.client.get_json(f"{self.url}/results")
        except RequestError as exc:
            message = exc.message if not message or message in exc.message else f"{message}: {exc.message}"
        return message or "no explanation given"

    def results(self) -> Results:
        """The job's results (``GET /jobs/{id}/results``); raises if it has not succeeded."""
        if self._results is None:
            if self.status != "successful":
                self.refresh()
            if self.status != "successful":
                raise ModelError(f"job {self.id} is {self.status}: results exist once it is successful")
            self._results = Results(self.client.get_json(f"{self.url}/results"), self.client.get_json)
        return self._results

    def dismiss(self) -> Job:
        """Cancel the job, or delete a finished one (``DELETE /jobs/{id}``); itself."""
        response = self.client._send("DELETE", self.url)
        document = _json_or_empty(response)
        if _looks_like_status(document):
            self._set(document)
        return self
