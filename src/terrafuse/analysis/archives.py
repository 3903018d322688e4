"""Zip safety: everything is decided from the central directory, before a byte is decompressed.

Checks: member count (read from the end-of-central-directory record even before the directory
itself is parsed), total uncompressed size, compression ratio, member paths that climb out of the
archive (``../``, absolute paths, drive letters), symbolic links and encryption. Analysis never
extracts members to disk; GDAL reads them in place through ``/vsizip/``, and the few bytes this
module reads itself go through a capped stream.
"""

from __future__ import annotations

import re
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from terrafuse.analysis.model import AnalysisLimits, ContentError

_EOCD_SIGNATURE = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ZipMember:
    """One file listed in a zip's central directory."""

    name: str
    size: int
    compressed_size: int

    @property
    def suffix(self) -> str:
        """The lower-case extension, with its dot."""
        return PurePosixPath(self.name).suffix.lower()

    @property
    def is_junk(self) -> bool:
        """Folders and the metadata macOS and Windows add to archives, which analysis ignores."""
        path = PurePosixPath(self.name)
        return (
            self.name.endswith("/")
            or path.parts[0] == "__MACOSX"
            or path.name.startswith("._")
            or path.name in {".DS_Store", "Thumbs.db"}
        )


def inspect_zip(path: Path, limits: AnalysisLimits) -> tuple[ZipMember, ...]:
    """The members of a zip once it is known to be safe to read; ContentError says why it is not."""
    declared_entries = _declared_entry_count(path)
    if declared_entries is not None and declared_entries > limits.max_zip_members:
        raise ContentError(
            f"the zip lists {declared_entries} members, more than the {limits.max_zip_members} allowed"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError) as exc:
        raise ContentError(f"the file is not a readable zip archive ({exc})") from None
    if len(infos) > limits.max_zip_members:
        raise ContentError(
            f"the zip lists {len(infos)} members, more than the {limits.max_zip_members} allowed"
        )
    members = tuple(_checked_member(info, limits) for info in infos)
    total = sum(member.size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise ContentError(
            f"the zip would expand to {total} bytes, more than the {limits.max_uncompressed_bytes} allowed"
        )
    compressed = sum(member.compressed_size for member in members)
    if total >= limits.ratio_check_min_bytes and total > limits.max_compression_ratio * max(compressed, 1):
        raise ContentError(_ratio_error(total, compressed, limits))
    return members


def _checked_member(info: zipfile.ZipInfo, limits: AnalysisLimits) -> ZipMember:
    name = info.filename
    _check_member_path(name)
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):  # 3 = Unix: the high word holds st_mode
        raise ContentError(f"the zip member {name!r} is a symbolic link, which is not allowed")
    if info.flag_bits & 0x1:
        raise ContentError(f"the zip member {name!r} is encrypted")
    if info.file_size >= limits.ratio_check_min_bytes and info.file_size > limits.max_compression_ratio * max(
        info.compress_size, 1
    ):
        raise ContentError(
            f"the zip member {name!r}: " + _ratio_error(info.file_size, info.compress_size, limits)
        )
    return ZipMember(name=name, size=info.file_size, compressed_size=info.compress_size)


def _ratio_error(size: int, compressed: int, limits: AnalysisLimits) -> str:
    ratio = size / max(compressed, 1)
    return (
        f"{compressed} compressed bytes would expand to {size} (ratio {ratio:.0f}, "
        f"more than the {limits.max_compression_ratio:.0f} allowed); this looks like a zip bomb"
    )


def _check_member_path(name: str) -> None:
    """Reject member names that would land outside the folder they are extracted into."""
    normalised = name.replace("\\", "/")
    parts = normalised.split("/")
    if "\x00" in name or normalised.startswith("/") or _DRIVE.match(normalised) or ".." in parts:
        raise ContentError(
            f"the zip member {name!r} has a path that leaves the archive, which is not allowed"
        )


def _declared_entry_count(path: Path) -> int | None:
    """The entry count of the end-of-central-directory record, read from the file's tail only.

    None when the record is missing or defers to Zip64 (zipfile then reports the real count).
    """
    size = path.stat().st_size
    tail_size = min(size, _EOCD_SIZE + _MAX_COMMENT)
    with path.open("rb") as stream:
        stream.seek(size - tail_size)
        tail = stream.read(tail_size)
    position = tail.rfind(_EOCD_SIGNATURE)
    if position < 0 or position + _EOCD_SIZE > len(tail):
        return None
    (total_entries,) = struct.unpack("<H", tail[position + 10 : position + 12])
    return None if total_entries == 0xFFFF else total_entries


def read_member_head(path: Path, member: ZipMember, size: int) -> bytes:
    """At most ``size`` decompressed bytes from the start of a member (zipfile caps output at its size)."""
    with zipfile.ZipFile(path) as archive, archive.open(member.name) as stream:
        return stream.read(size)


def content_kind(members: tuple[ZipMember, ...]) -> str:
    """The FILE_TYPE a safe zip holds: "ESRI Shapefile" (a .shp), "KMZ" (a .kml) or plain "ZIP"."""
    suffixes = {member.suffix for member in members if not member.is_junk}
    if ".shp" in suffixes:
        return "ESRI Shapefile"
    if ".kml" in suffixes:
        return "KMZ"
    return "ZIP"
