"""Background uploads and downloads: whole files or none under the final name, resumed with
Range after a broken connection, restarted when ranges are ignored, fresh URLs when a signed one
expires, loud failures, bounded waits, and progress bars that stay quiet unless wanted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import terrafuse
from terrafuse.sdk.progress import ProgressBar
from terrafuse.sdk.timing import Poller
from tests.sdk.fake_platform import FakeClock, FakePlatform

CONTENT = bytes(range(256)) * 4096  # 1 MiB: more than one chunk


class BrokenStream(httpx.SyncByteStream):
    """Sends ``cut`` bytes of ``content``, then the connection breaks."""

    def __init__(self, content: bytes, cut: int) -> None:
        self.content, self.cut = content, cut

    def __iter__(self) -> Iterator[bytes]:
        yield self.content[: self.cut]
        raise httpx.ReadError("connection reset by peer")


class BlockedStream(httpx.SyncByteStream):
    """Sends nothing until ``release`` is set."""

    def __init__(self, content: bytes, release: threading.Event) -> None:
        self.content, self.release = content, release

    def __iter__(self) -> Iterator[bytes]:
        self.release.wait(30)
        yield self.content


def _broken(cut: int) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-length": str(len(CONTENT))}, stream=BrokenStream(CONTENT, cut)
    )


@pytest.fixture
def stored(organisation: terrafuse.Organisation, platform: FakePlatform) -> terrafuse.File:
    """An analysed file of 1 MiB on the fake platform."""
    data_id = organisation.create_data(
        "Raster", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE]
    ).id
    file_id = platform.add_file(data_id, "big.tif", "GeoTIFF", CONTENT)
    platform.files[file_id]["_polls"] = 5
    return next(f for f in platform_data(organisation, data_id).files if f.id == file_id)


def platform_data(organisation: terrafuse.Organisation, data_id: str) -> terrafuse.Data:
    data, _ = organisation.find_data(id=data_id)
    assert data is not None
    return data


def test_uploads_send_the_bytes_with_their_length(
    organisation: terrafuse.Organisation, platform: FakePlatform
) -> None:
    data = organisation.create_data(
        "Region", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE], wait=True
    )
    (put,) = platform.sent("PUT", r"objects\.test")
    sent = Path(terrafuse.EXAMPLE_GLASGOW_FILE).read_bytes()
    assert put.headers["content-length"] == str(len(sent)) and "authorization" not in put.headers
    (file,) = list(data.files)
    assert platform.objects[file.id] == sent
    assert data.upload_progress() == [(terrafuse.EXAMPLE_GLASGOW_FILE, len(sent))]


def test_a_broken_upload_is_sent_again(
    organisation: terrafuse.Organisation, platform: FakePlatform, clock: FakeClock
) -> None:
    platform.break_next("PUT", r"objects\.test", lambda r: httpx.Response(503, text="busy"), times=2)
    data = organisation.create_data(
        "Region", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE], wait=True
    )
    assert len(platform.sent("PUT", r"objects\.test")) == 3 and clock.sleeps[:2] == [0.5, 1.0]
    assert data.create_complete() is True


def test_a_refused_upload_fails_loudly(
    organisation: terrafuse.Organisation, platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    platform.break_next("PUT", r"objects\.test", lambda r: httpx.Response(403, text="signature expired"))
    with (
        caplog.at_level(logging.ERROR, logger="terrafuse.sdk"),
        pytest.raises(terrafuse.TransferError, match="signature expired") as caught,
    ):
        organisation.create_data(
            "Region", terrafuse.FILE_TYPE_GEOJSON, [terrafuse.EXAMPLE_GLASGOW_FILE], wait=True
        )
    assert caught.value.path == terrafuse.EXAMPLE_GLASGOW_FILE
    assert any("the upload failed" in r.getMessage() for r in caplog.records)
    assert len(platform.sent("PUT", r"objects\.test")) == 1


def test_a_download_arrives_whole(stored: terrafuse.File, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "folder" / "big.tif"
    stored.download(path=target, wait=True)
    assert target.read_bytes() == CONTENT and not Path(f"{target}.part").exists()
    url, path, size = stored.download_progress()
    assert url.startswith("http://objects.test/") and path == str(target) and size == len(CONTENT)
    assert stored.download_complete() is True


def test_a_broken_download_resumes_where_it_stopped(
    stored: terrafuse.File, platform: FakePlatform, tmp_path: Path
) -> None:
    platform.break_next("GET", r"objects\.test", lambda r: _broken(300_000))
    target = tmp_path / "big.tif"
    stored.download(path=target, wait=True)
    first, second = platform.sent("GET", r"objects\.test")
    assert "range" not in first.headers and second.headers["range"] == "bytes=300000-"
    assert target.read_bytes() == CONTENT


def test_a_server_that_ignores_ranges_sends_it_all_again(
    stored: terrafuse.File, platform: FakePlatform, tmp_path: Path
) -> None:
    platform.range_support = False
    platform.break_next("GET", r"objects\.test", lambda r: _broken(123_456))
    target = tmp_path / "big.tif"
    stored.download(path=target, wait=True)
    assert target.read_bytes() == CONTENT and len(platform.sent("GET", r"objects\.test")) == 2


def test_a_download_that_keeps_breaking_leaves_no_file(
    stored: terrafuse.File, platform: FakePlatform, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    platform.break_next("GET", r"objects\.test", lambda r: _broken(1000), times=99)
    target = tmp_path / "big.tif"
    with caplog.at_level(logging.ERROR, logger="terrafuse.sdk"):
        stored.download(path=target)
        with pytest.raises(terrafuse.TransferError, match="connection reset") as caught:
            stored.download_complete(wait=True)
    assert caught.value.path == str(target)
    assert not target.exists() and not Path(f"{target}.part").exists()
    assert list(tmp_path.iterdir()) == []
    assert any("download failed" in r.getMessage() for r in caplog.records)
    assert len(platform.sent("GET", r"objects\.test")) == 5


def test_an_expired_signed_url_is_replaced(
    stored: terrafuse.File, platform: FakePlatform, tmp_path: Path
) -> None:
    platform.break_next("GET", r"objects\.test", lambda r: httpx.Response(403, text="expired"))
    stored.download(path=tmp_path / "big.tif", wait=True)
    assert (tmp_path / "big.tif").read_bytes() == CONTENT
    assert len(platform.sent("GET", r"/download_file/")) == 2


def test_a_refused_download_raises_at_once(stored: terrafuse.File, tmp_path: Path) -> None:
    with pytest.raises(terrafuse.BadRequestError, match=r"big\.tif has no preview"):
        stored.download(path=tmp_path / "preview.png", preview=True)
    with pytest.raises(terrafuse.ModelError, match=r"no download of 'big\.tif' was started"):
        stored.download_complete()
    assert list(tmp_path.iterdir()) == []


def test_a_download_wait_ends_at_its_timeout(
    stored: terrafuse.File, platform: FakePlatform, clock: FakeClock, tmp_path: Path
) -> None:
    release = threading.Event()
    blocked = httpx.Response(
        200, headers={"content-length": str(len(CONTENT))}, stream=BlockedStream(CONTENT, release)
    )
    platform.break_next("GET", r"objects\.test", lambda r: blocked)
    target = tmp_path / "big.tif"
    stored.download(path=target)
    started = clock.now
    try:
        with pytest.raises(terrafuse.WaitTimeoutError, match="after 3 s"):
            stored.download_complete(wait=True, timeout=3)
        assert 3 <= clock.now - started <= 4
        assert stored.download_complete() is False and not target.exists()
        with pytest.raises(terrafuse.ModelError, match="already downloading"):
            stored.download(path=tmp_path / "again.tif")
    finally:
        release.set()
    assert stored.download_complete(wait=True) is True and target.read_bytes() == CONTENT


def test_progress_bars_are_quiet_unless_wanted(capsys: pytest.CaptureFixture[str]) -> None:
    for setting in (None, False):  # None: only on a terminal, and pytest's stderr is not one
        terrafuse.set_progress(setting)
        with ProgressBar("download x", 100, "B", None) as bar:
            bar.update(50)
    assert capsys.readouterr().err == ""
    terrafuse.set_progress(True)
    with ProgressBar("download x", 100, "B", None) as bar:
        bar.update(50)
    assert "download x" in capsys.readouterr().err
    terrafuse.set_progress(True)
    with ProgressBar("quiet session", 100, "B", False) as bar:
        bar.update(50)
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError):
        terrafuse.set_progress("yes")  # type: ignore[arg-type]


def test_a_session_shows_its_transfers_when_asked(
    organisation: terrafuse.Organisation,
    stored: terrafuse.File,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    terrafuse.set_progress(True)
    stored.download(path=tmp_path / "big.tif", wait=True)
    err = capsys.readouterr().err
    assert "download big.tif" in err and "1.00M" in err


def test_polls_back_off_to_the_interval() -> None:
    poller = Poller(10.0)
    pauses = [poller.next() for _ in range(9)]
    assert pauses[:4] == [0.5, 0.75, 1.125, 1.6875] and pauses[-1] == 10.0
    assert pauses == sorted(pauses) and max(pauses) == 10.0
