"""What a file really is, from its first bytes (magic numbers), before any parser touches it."""

from __future__ import annotations

import codecs
from pathlib import Path

HEAD_BYTES = 64 * 1024

# Content labels. Each is either a FILE_TYPE-like name or a description used in error messages.
TIFF = "TIFF"
PNG = "PNG"
JPEG = "JPEG"
JPEG2000 = "JPEG2000"
PDF = "PDF"
GZIP = "GZIP"
ZIP = "ZIP"
GEOJSON = "GeoJSON"
JSON = "JSON"
KML = "KML"
XML = "XML"
SHP = "SHP"
TEXT = "TEXT"
BINARY = "BINARY"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", JPEG2000),
    (b"\xff\x4f\xff\x51", JPEG2000),  # raw J2K codestream (never georeferenced, but it is JPEG2000)
    (b"\x1f\x8b", GZIP),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),  # an empty archive: only the end-of-central-directory record
    (b"\x00\x00\x27\x0a", SHP),  # the .shp main file on its own
)

# How each label reads in "declared X but the content is Y".
_DESCRIPTIONS = {
    TIFF: "TIFF",
    PNG: "PNG",
    JPEG: "JPEG",
    JPEG2000: "JPEG2000",
    PDF: "PDF",
    GZIP: "GZIP",
    ZIP: "ZIP",
    GEOJSON: "GeoJSON",
    JSON: "JSON",
    KML: "KML",
    XML: "XML",
    SHP: "a bare .shp file (zip the .shp, .shx, .dbf and .prj files together, with no folders)",
    TEXT: "plain text",
    BINARY: "unrecognised binary data",
}

# The FILE_TYPE a label certainly is; labels missing here cannot be told apart well enough.
_FILE_TYPES = {
    TIFF: "GeoTIFF",
    PNG: "PNG",
    JPEG: "JPEG",
    JPEG2000: "JPEG2000",
    PDF: "PDF",
    GZIP: "GZIP",
    ZIP: "ZIP",
    KML: "KML",
    GEOJSON: "GeoJSON",
}

# The content labels each declared type accepts. DEM and GeoTIFF are both TIFF content.
ACCEPTED: dict[str, frozenset[str]] = {
    "GeoTIFF": frozenset({TIFF}),
    "DEM": frozenset({TIFF}),
    "JPEG2000": frozenset({JPEG2000}),
    "GeoJSON": frozenset({GEOJSON, JSON}),  # JSON without tell-tale members: the parser decides
    "KML": frozenset({KML, XML}),  # XML whose <kml> root sits beyond the sniffed head is left to the parser
    "KMZ": frozenset({ZIP}),
    "ESRI Shapefile": frozenset({ZIP}),
    "CSV": frozenset({TEXT}),
    "JPEG": frozenset({JPEG}),
    "PNG": frozenset({PNG}),
    "PDF": frozenset({PDF}),
    "GZIP": frozenset({GZIP}),
    "ZIP": frozenset({ZIP}),
}

_GEOJSON_TYPES = (
    b'"FeatureCollection"',
    b'"Feature"',
    b'"Polygon"',
    b'"MultiPolygon"',
    b'"Point"',
    b'"MultiPoint"',
    b'"LineString"',
    b'"MultiLineString"',
    b'"GeometryCollection"',
)


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a file (all of it when smaller)."""
    with path.open("rb") as stream:
        return stream.read(size)


def sniff(head: bytes) -> str:
    """The content label of a file whose first bytes are ``head`` (non-empty)."""
    for magic, label in _MAGIC:
        if head.startswith(magic):
            return label
    # PDF readers accept the header anywhere in the first kilobyte.
    if b"%PDF-" in head[:1024]:
        return PDF
    text = _as_text(head)
    if text is None:
        return BINARY
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return GEOJSON if _looks_like_geojson(head) else JSON
    if stripped.startswith("<"):
        return KML if "<kml" in stripped[:HEAD_BYTES].lower() else XML
    return TEXT


def _looks_like_geojson(head: bytes) -> bool:
    return b'"type"' in head and any(name in head for name in _GEOJSON_TYPES)


def _as_text(head: bytes) -> str | None:
    """Decode a head as UTF-8 (BOM tolerated, a cut multi-byte character allowed), else Latin-1 text."""
    if b"\x00" in head:
        return None
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        return decoder.decode(head, final=False)
    except UnicodeDecodeError:
        pass
    # Windows-1252 CSVs are common; accept them as text when control characters are rare.
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if controls > len(head) // 100:
        return None
    return head.decode("latin-1")


def describe(label: str) -> str:
    """How a content label reads in an error message."""
    return _DESCRIPTIONS.get(label, label)


def file_type_of(label: str) -> str | None:
    """The FILE_TYPE a content label certainly is, or None when it cannot be told."""
    return _FILE_TYPES.get(label)


def mismatch(declared: str, label: str) -> str:
    """The user-readable error for content that is not what was declared."""
    return f"declared {declared} but the content is {describe(label)}"
