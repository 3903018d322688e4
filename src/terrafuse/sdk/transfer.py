"""Background uploads and downloads of files through pre-signed URLs.

Each transfer runs in its own thread, so ``create_data`` and ``download`` return at once. The
threads are not daemons: a script that ends without waiting still finishes its transfers before
Python exits (the guide's Quick Example relies on this). A transfer that fails is logged as an
error when it fails, and its error is raised again by whoever waits for it, so failures are never
silent.

Downloads are written to ``<path>.part`` and renamed to ``<path>`` only once every byte has
arrived, so a file under its final name is always whole. A broken download resumes from where it
stopped with an HTTP ``Range`` request (or starts again if the server ignores ranges); a signed
URL that expired is replaced by a fresh one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import httpx

from terrafuse.sdk.errors import RequestError, TransferError, TransportError, error_for_status
from terrafuse.sdk.progress import ProgressBar
from terrafuse.sdk.session import SessionOptions
from terrafuse.sdk.timing import Deadline

__all__ = ["CHUNK_SIZE", "Download", "Transfer", "Upload", "wait_all"]

log = logging.getLogger("terrafuse.sdk")

CHUNK_SIZE = 1024 * 1024
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Statuses of a signed URL that expired or was refused: a fresh URL may work.
_STALE_URL_STATUSES = frozenset({401, 403})


class Transfer:
    """A file moving between this machine and the platform in a background thread.

    Attributes:
        path: the local file.
        url: the pre-signed URL the bytes go to or come from.
        transferred: bytes moved so far.
        total: bytes to move (None while unknown).
        error: why the transfer failed (None while it runs or once it succeeded).
    """

    kind = "transfer"

    def __init__(
        self, client: httpx.Client, options: SessionOptions, url: str, path: str | os.PathLike[str]
    ) -> None:
        self.client = client
        self.options = options
        self.url = url
        self.path = str(path)
        self.transferred = 0
        self.total: int | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._bar: ProgressBar | None = None
        self._thread = threading.Thread(target=self._main, name=f"terrafuse-{self.kind}", daemon=False)

    def start(self) -> Transfer:
        """Start the background thread."""
        self._bar = ProgressBar(f"{self.kind} {Path(self.path).name}", self.total, "B", self.options.progress)
        self._thread.start()
        return self

    @property
    def bar(self) -> ProgressBar:
        """The transfer's progress bar (made when it starts)."""
        if self._bar is None:
            raise RuntimeError("the transfer has not started")
        return self._bar

    @property
    def done(self) -> bool:
        """Whether the transfer has ended (successfully or not)."""
        return self._done.is_set()

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # stored and raised to whoever waits: nothing is lost
            self.error = exc if isinstance(exc, TransferError) else self._failure(exc)
            log.error("%s", self.error)
        finally:
            if self._bar is not None:
                self.bar.close()
            self._done.set()

    def _failure(self, exc: BaseException) -> TransferError:
        return TransferError(f"the {self.kind} failed", self.path, exc)

    def _run(self) -> None:
        raise NotImplementedError

    def _retry_or_raise(self, attempt: int, exc: BaseException) -> None:
        """Sleep before the next attempt, or raise when the attempts are used up."""
        if attempt >= self.options.retry.attempts:
            raise self._failure(exc) from exc
        delay = self.options.retry.delay(attempt)
        log.info("%s of %s interrupted (%s); retrying in %.1f s", self.kind, self.path, exc, delay)
        self.options.clock.sleep(delay)

    def wait(self, deadline: Deadline) -> None:
        """Block until the transfer ends; raise its error if it failed.

        Raises :class:`~terrafuse.sdk.errors.WaitTimeoutError` when ``deadline`` passes first
        (the transfer carries on in the background).
        """
        clock = self.options.clock
        while not self._done.is_set():
            if deadline.expired():
                raise deadline.error()
            clock.wait_event(self._done, min(1.0, deadline.remaining()))
        self.raise_error()

    def raise_error(self) -> None:
        """Raise the transfer's error, if it failed."""
        if self.error is not None:
            raise self.error


class Upload(Transfer):
    """An upload of a local file with ``PUT`` to a pre-signed URL (restarted whole if it breaks)."""

    kind = "upload"

    def __init__(
        self, client: httpx.Client, options: SessionOptions, url: str, path: str | os.PathLike[str]
    ) -> None:
        super().__init__(client, options, url, path)
        self.total = os.path.getsize(self.path)

    def _chunks(self) -> Iterator[bytes]:
        with open(self.path, "rb") as source:
            while chunk := source.read(CHUNK_SIZE):
                self.transferred += len(chunk)
                self.bar.update(len(chunk))
                yield chunk

    def _run(self) -> None:
        attempt = 0
        while True:
            attempt += 1
            self.transferred = 0
            self.bar.reset(self.total)
            try:
                response = self.client.put(
                    self.url, content=self._chunks(), headers={"Content-Length": str(self.total)}
                )
            except httpx.TransportError as exc:
                self._retry_or_raise(attempt, exc)
                continue
            if response.status_code in _TRANSIENT_STATUSES:
                self._retry_or_raise(attempt, _status_error(response))
                continue
            if response.status_code >= 400:
                raise self._failure(_status_error(response))
            return


class Download(Transfer):
    """A download from a pre-signed URL to ``path``, resumed with ``Range`` when it breaks.

    ``refresh_url`` gives a fresh signed URL when the current one is refused (it expired).
    """

    kind = "download"

    def __init__(
        self,
        client: httpx.Client,
        options: SessionOptions,
        url: str,
        path: str | os.PathLike[str],
        refresh_url: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(client, options, url, path)
        self.part = self.path + ".part"
        self.refresh_url = refresh_url
        self._response: httpx.Response | None = None

    def open(self) -> Download:
        """Make the first request now, in the caller's thread, so refusals raise at once.

        The server holds the object open from then on, so the bytes stay readable even if the
        object is deleted right after (as the guide's Quick Example does).
        """
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        self._response = self._request(0)
        return self

    def _request(self, offset: int) -> httpx.Response:
        # Byte offsets must count stored bytes, not decoded ones: ask for no content encoding.
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        request = self.client.build_request("GET", self.url, headers=headers)
        response = send_streamed(self.client, self.options, request)
        if response.status_code in _STALE_URL_STATUSES and self.refresh_url is not None:
            response.close()
            self.url = self.refresh_url()
            request = self.client.build_request("GET", self.url, headers=headers)
            response = send_streamed(self.client, self.options, request)
        if response.status_code >= 400 and not (offset and response.status_code == 416):
            response.read()
            response.close()
            raise _status_error(response)
        return response

    def _run(self) -> None:
        offset = 0
        attempt = 0
        # The first response was opened by ``open`` (or is opened here when it was not).
        response = self._response or self._request(0)
        self._response = None
        try:
            with open(self.part, "wb") as target:
                while True:
                    try:
                        offset = self._receive(response, target, offset)
                        if self.total is None or offset >= self.total:
                            break
                        raise httpx.ReadError(f"the connection closed after {offset} of {self.total} bytes")
                    except (httpx.TransportError, TransportError, RequestError) as exc:
                        response.close()
                        offset = self.transferred  # the bytes written before the break are kept
                        if isinstance(exc, RequestError) and exc.status not in _TRANSIENT_STATUSES:
                            raise self._failure(exc) from exc
                        attempt += 1
                        self._retry_or_raise(attempt, exc)
                        response = self._request(offset)
            os.replace(self.part, self.path)
        except BaseException:
            # Never leave a partial file behind, under either name.
            response.close()
            _remove(self.part)
            raise

    def _receive(self, response: httpx.Response, target: BinaryIO, offset: int) -> int:
        """Write the response's bytes at ``offset`` of the part file; the new offset."""
        try:
            if response.status_code == 416:  # asked beyond the end: every byte is already here
                return offset
            if response.status_code == 206:
                start, total = _content_range(response.headers.get("content-range", ""))
                if start != offset:
                    raise httpx.RemoteProtocolError(f"asked for byte {offset}, got byte {start}")
            else:  # 200: the whole file again (the server ignored the range)
                total, offset = _length(response), 0
                target.seek(0)
                target.truncate()
                self.bar.reset(total)
            if total is not None and self.total != total:
                self.total = total
                self.bar.reset(total)
                self.bar.update(offset)
            self.transferred = offset
            for chunk in response.iter_bytes():  # as received: a break loses nothing buffered
                target.write(chunk)
                offset += len(chunk)
                self.transferred = offset
                self.bar.update(len(chunk))
        finally:
            response.close()
        return offset


def send_streamed(client: httpx.Client, options: SessionOptions, request: httpx.Request) -> httpx.Response:
    """Send ``request`` with a streamed response, retrying when no answer came."""
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.send(request, stream=True)
        except httpx.TransportError as exc:
            if attempt >= options.retry.attempts:
                raise TransportError(
                    f"no answer: {type(exc).__name__}: {exc}", request.method, "", attempt
                ) from exc
            options.clock.sleep(options.retry.delay(attempt))
            continue
        if response.status_code in _TRANSIENT_STATUSES and attempt < options.retry.attempts:
            response.close()
            options.clock.sleep(options.retry.delay(attempt))
            continue
        return response


def _status_error(response: httpx.Response) -> RequestError:
    try:
        text = response.text.strip()
    except httpx.ResponseNotRead:
        text = ""
    return error_for_status(response.status_code, text[:300] or response.reason_phrase or "refused")


def _content_range(header: str) -> tuple[int, int | None]:
    """``(first byte, total)`` of a ``Content-Range: bytes a-b/total`` header."""
    try:
        _, _, spec = header.partition(" ")
        span, _, total = spec.partition("/")
        start = int(span.split("-")[0])
        return start, int(total) if total.strip().isdigit() else None
    except ValueError as exc:
        raise httpx.RemoteProtocolError(f"unreadable Content-Range {header!r}") from exc


def _length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() and "content-encoding" not in response.headers else None


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def wait_all(transfers: list[Transfer], deadline: Deadline) -> None:
    """Wait for every transfer to end, then raise the first failure (so none is cut short)."""
    for transfer in transfers:
        # A failure is raised below, once every transfer has ended.
        with contextlib.suppress(TransferError):
            transfer.wait(deadline)
    for transfer in transfers:
        transfer.raise_error()
