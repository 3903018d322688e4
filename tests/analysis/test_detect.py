"""Magic-byte detection."""

from __future__ import annotations

import pytest

from terrafuse.analysis import detect


@pytest.mark.parametrize(
    ("head", "label"),
    [
        (b"II*\x00\x08\x00\x00\x00", detect.TIFF),
        (b"MM\x00*\x00\x00\x00\x08", detect.TIFF),
        (b"II+\x00\x08\x00\x00\x00", detect.TIFF),
        (b"\x89PNG\r\n\x1a\n\x00\x00", detect.PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", detect.JPEG),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00", detect.JPEG2000),
        (b"\xff\x4f\xff\x51\x00", detect.JPEG2000),
        (b"%PDF-1.7\n", detect.PDF),
        (b"\x1f\x8b\x08\x00", detect.GZIP),
        (b"PK\x03\x04\x14\x00", detect.ZIP),
        (b"PK\x05\x06" + bytes(18), detect.ZIP),
        (b"\x00\x00\x27\x0a\x00\x00", detect.SHP),
        (b'\xef\xbb\xbf  {"type": "FeatureCollection", "features": []}', detect.GEOJSON),
        (b'{"name": "not geo", "values": [1, 2]}', detect.JSON),
        (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">', detect.KML),
        (b'<?xml version="1.0"?><svg/>', detect.XML),
        (b"a;b;c\n1;2;3\n", detect.TEXT),
        (b"name,town\nJos\xe9,M\xe1laga\n", detect.TEXT),  # Latin-1 text is still text
        ("name\nK\u00f8benhavn\n".encode()[:-2] + b"\xc3", detect.TEXT),  # a cut UTF-8 character
        (b"\x01\x02\x03\x00\x04", detect.BINARY),
    ],
)
def test_sniff(head: bytes, label: str) -> None:
    assert detect.sniff(head) == label


def test_mismatch_wording() -> None:
    assert detect.mismatch("GeoTIFF", detect.PNG) == "declared GeoTIFF but the content is PNG"
    assert detect.file_type_of(detect.TIFF) == "GeoTIFF"
    assert detect.file_type_of(detect.TEXT) is None
