"""Hostile and mislabelled uploads: lies about the type, zip bombs, zip slip, empty files."""

from __future__ import annotations

import gzip
import stat
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely

from terrafuse.analysis import FILE_TYPES, AnalysisLimits, analyse_file
from tests.analysis.makers import feature_collection, shapefile_zip, write_json, write_raster
from tests.analysis.test_vector import KML_3D

_CENTRAL_HEADER = b"PK\x01\x02"


def png(folder: Path) -> Path:
    return write_raster(folder / "x.png", np.full((8, 8), 7, np.uint8), crs=None, driver="PNG")


def jpeg(folder: Path) -> Path:
    return write_raster(folder / "x.jpg", np.full((8, 8), 7, np.uint8), crs=None, driver="JPEG")


def tiff(folder: Path) -> Path:
    return write_raster(folder / "x.tif", np.zeros((4, 4), np.uint8))


def text(folder: Path) -> Path:
    path = folder / "x.txt"
    path.write_text("hello, world\nsecond line\n", encoding="utf-8")
    return path


def pdf(folder: Path) -> Path:
    path = folder / "x.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    return path


def geojson(folder: Path) -> Path:
    return write_json(folder / "x.geojson", feature_collection(shapely.Point(1, 2)))


def kml(folder: Path) -> Path:
    path = folder / "x.kml"
    path.write_text(KML_3D, encoding="utf-8")
    return path


def plain_zip(folder: Path) -> Path:
    path = folder / "x.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a shapefile")
    return path


def shapefile(folder: Path) -> Path:
    return shapefile_zip(folder, [shapely.box(0, 0, 1, 1)], crs="EPSG:4326")


def bare_shp(folder: Path) -> Path:
    zipped = shapefile(folder)
    path = folder / "roi.shp"
    path.write_bytes(zipfile.ZipFile(zipped).read("roi.shp"))
    return path


def gzip_file(folder: Path) -> Path:
    path = folder / "x.gz"
    path.write_bytes(gzip.compress(b"some bytes"))
    return path


def binary(folder: Path) -> Path:
    path = folder / "x.bin"
    path.write_bytes(bytes(range(256)) * 4)
    return path


LIES: list[tuple[str, Callable[[Path], Path], str, str]] = [
    ("GeoTIFF", png, "PNG", "declared GeoTIFF but the content is PNG"),
    ("DEM", jpeg, "JPEG", "declared DEM but the content is JPEG"),
    ("JPEG2000", tiff, "GeoTIFF", "declared JPEG2000 but the content is TIFF"),
    ("GeoTIFF", binary, "GeoTIFF", "declared GeoTIFF but the content is unrecognised binary data"),
    ("GeoJSON", text, "GeoJSON", "declared GeoJSON but the content is plain text"),
    ("GeoJSON", pdf, "PDF", "declared GeoJSON but the content is PDF"),
    ("KML", geojson, "GeoJSON", "declared KML but the content is GeoJSON"),
    ("KMZ", kml, "KML", "declared KMZ but the content is KML"),
    ("KMZ", shapefile, "ESRI Shapefile", "declared KMZ but the content is ESRI Shapefile"),
    (
        "ESRI Shapefile",
        plain_zip,
        "ZIP",
        "declared ESRI Shapefile but the content is a ZIP archive without a .shp file",
    ),
    ("ESRI Shapefile", geojson, "GeoJSON", "declared ESRI Shapefile but the content is GeoJSON"),
    ("CSV", png, "PNG", "declared CSV but the content is PNG"),
    ("CSV", geojson, "GeoJSON", "declared CSV but the content is GeoJSON"),
    ("PNG", jpeg, "JPEG", "declared PNG but the content is JPEG"),
    ("JPEG", png, "PNG", "declared JPEG but the content is PNG"),
    ("PDF", text, "PDF", "declared PDF but the content is plain text"),
    ("GZIP", plain_zip, "ZIP", "declared GZIP but the content is ZIP"),
    ("ZIP", gzip_file, "GZIP", "declared ZIP but the content is GZIP"),
]


@pytest.mark.parametrize(
    ("declared", "make", "file_type", "error"), LIES, ids=[f"{d}-{m.__name__}" for d, m, *_ in LIES]
)
def test_content_that_lies_about_its_type(
    tmp_path: Path, declared: str, make: Callable[[Path], Path], file_type: str, error: str
) -> None:
    path = make(tmp_path)

    analysis = analyse_file(path, declared, path.name)

    assert (analysis.publishable, analysis.file_type, analysis.error) == (False, file_type, error)
    assert analysis.size == path.stat().st_size


def test_bare_shp_gets_a_helpful_error(tmp_path: Path) -> None:
    path = bare_shp(tmp_path)

    analysis = analyse_file(path, "ESRI Shapefile", "roi.shp")

    assert not analysis.publishable
    assert (
        analysis.error is not None and "a bare .shp file (zip the .shp, .shx, .dbf and .prj" in analysis.error
    )


@pytest.mark.parametrize(
    ("declared", "make"),
    [("PNG", png), ("JPEG", jpeg), ("PDF", pdf), ("GZIP", gzip_file), ("ZIP", plain_zip), ("Other", binary)],
)
def test_size_only_types(tmp_path: Path, declared: str, make: Callable[[Path], Path]) -> None:
    path = make(tmp_path)

    analysis = analyse_file(path, declared, path.name)

    assert (analysis.publishable, analysis.error, analysis.file_type) == (True, None, declared)
    assert analysis.size == path.stat().st_size
    assert analysis.selectors == () and analysis.bounds is None


def test_other_accepts_anything_even_a_png(tmp_path: Path) -> None:
    assert analyse_file(png(tmp_path), "Other", "x.png").publishable


@pytest.mark.parametrize("declared", FILE_TYPES)
def test_empty_file(tmp_path: Path, declared: str) -> None:
    path = tmp_path / "empty"
    path.touch()

    analysis = analyse_file(path, declared, "empty")

    assert (analysis.publishable, analysis.error, analysis.size) == (False, "the file is empty", 0)


def zeros_zip(path: Path, member: str, size: int) -> Path:
    """A zip holding ``size`` zero bytes, streamed in so the test never holds them all."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(member, "w") as stream:
        chunk = bytes(1 << 20)
        for _ in range(size >> 20):
            stream.write(chunk)
    return path


def patch_central_directory(path: Path, offset: int, value: int, fmt: str) -> None:
    """Overwrite one field of every central-directory header (sizes and flags the checks must trust)."""
    data = bytearray(path.read_bytes())
    start = data.find(_CENTRAL_HEADER)
    while start >= 0:
        struct.pack_into(fmt, data, start + offset, value)
        start = data.find(_CENTRAL_HEADER, start + 1)
    path.write_bytes(bytes(data))


def test_zip_bomb_by_total_uncompressed_size(tmp_path: Path) -> None:
    path = zeros_zip(tmp_path / "bomb.zip", "roi.shp", 32 << 20)
    limits = AnalysisLimits(max_uncompressed_bytes=16 << 20, max_compression_ratio=1e9)
    assert path.stat().st_size < 100_000

    started = time.perf_counter()
    analysis = analyse_file(path, "ESRI Shapefile", "bomb.zip", limits)

    assert time.perf_counter() - started < 0.5  # nothing was inflated
    assert not analysis.publishable
    assert analysis.error == f"the zip would expand to {32 << 20} bytes, more than the {16 << 20} allowed"


def test_zip_bomb_by_compression_ratio(tmp_path: Path) -> None:
    path = zeros_zip(tmp_path / "bomb.zip", "doc.kml", 8 << 20)

    analysis = analyse_file(path, "KMZ", "bomb.kmz")

    assert not analysis.publishable
    assert analysis.error is not None and analysis.error.startswith("the zip member 'doc.kml': ")
    assert "this looks like a zip bomb" in analysis.error


def test_zip_whose_directory_declares_a_huge_member(tmp_path: Path) -> None:
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("big.bin", b"tiny")
    patch_central_directory(path, 24, 0xFFFF_FFF0, "<I")  # uncompressed size: ~4 GiB

    by_ratio = analyse_file(path, "ZIP", "liar.zip")
    by_size = analyse_file(path, "ZIP", "liar.zip", AnalysisLimits(max_compression_ratio=1e12))

    assert not by_ratio.publishable
    assert by_ratio.error is not None and "4 compressed bytes would expand to 4294967280" in by_ratio.error
    assert not by_size.publishable
    assert by_size.error == f"the zip would expand to 4294967280 bytes, more than the {1 << 30} allowed"


@pytest.mark.parametrize(
    "name", ["../evil.shp", "/etc/evil.shp", "C:\\evil.shp", "a/../../evil.shp", "..\\evil.shp"]
)
def test_zip_slip_is_refused(tmp_path: Path, name: str) -> None:
    path = shapefile(tmp_path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(zipfile.ZipInfo(name), b"x")
    assert name in zipfile.ZipFile(path).namelist()

    for declared in ("ESRI Shapefile", "ZIP"):
        analysis = analyse_file(path, declared, "roi.zip")
        assert not analysis.publishable
        assert (
            analysis.error
            == f"the zip member {name!r} has a path that leaves the archive, which is not allowed"
        )


def test_symbolic_link_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("doc.kml")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")

    analysis = analyse_file(path, "KMZ", "link.kmz")

    assert not analysis.publishable
    assert analysis.error == "the zip member 'doc.kml' is a symbolic link, which is not allowed"


def test_encrypted_member_is_refused(tmp_path: Path) -> None:
    path = plain_zip(tmp_path)
    patch_central_directory(path, 8, 0x1, "<H")  # general purpose flag: encrypted

    analysis = analyse_file(path, "ZIP", "x.zip")

    assert not analysis.publishable
    assert analysis.error == "the zip member 'readme.txt' is encrypted"


def test_too_many_members(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(11):
            archive.writestr(f"f{index}.txt", b"")

    assert analyse_file(path, "ZIP", "many.zip", AnalysisLimits(max_zip_members=11)).publishable
    analysis = analyse_file(path, "ZIP", "many.zip", AnalysisLimits(max_zip_members=10))
    assert not analysis.publishable
    assert analysis.error == "the zip lists 11 members, more than the 10 allowed"


def test_corrupt_zip(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.zip"
    path.write_bytes(b"PK\x03\x04" + bytes(200))

    analysis = analyse_file(path, "ZIP", "corrupt.zip")

    assert not analysis.publishable
    assert analysis.error is not None and analysis.error.startswith("the file is not a readable zip archive")


def test_programmer_errors_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown file type"):
        analyse_file(text(tmp_path), "Shapefile", "x.txt")
    with pytest.raises(FileNotFoundError):
        analyse_file(tmp_path / "missing", "CSV", "missing.csv")
