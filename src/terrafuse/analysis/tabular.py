"""CSV analysis: column names and row count, streamed with the csv module (constant memory)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from terrafuse.analysis.model import AnalysisLimits, ContentError, FileAnalysis, size_only

_SAMPLE_CHARS = 64 * 1024
_DELIMITERS = ",;\t|"
# Excel and Windows tools write UTF-8 with a BOM or Windows-1252; other encodings are rare for CSV.
_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def analyse_csv(path: Path, size: int, limits: AnalysisLimits) -> FileAnalysis:
    """Columns (the header row) and data rows of a CSV file; ContentError when it cannot be parsed."""
    del limits  # rows are streamed: no limit needed
    notes: list[str] = []
    for encoding in _ENCODINGS:
        try:
            columns, rows, ragged, delimiter = _scan(path, encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # latin-1 decodes any byte, so this is unreachable in practice
        raise ContentError("the CSV file's text encoding is not recognised")
    if encoding != "utf-8-sig":
        notes.append(f"the file is not UTF-8; it was read as {encoding}")
    if delimiter != ",":
        notes.append(f"fields are separated by {delimiter!r}")
    if ragged:
        notes.append(f"{ragged} rows do not have the same number of fields as the header")
    return replace(size_only("CSV", size), columns=columns, rows=rows, notes=tuple(notes))


def _scan(path: Path, encoding: str) -> tuple[tuple[str, ...], int, int, str]:
    """(columns, data rows, rows whose length differs from the header, delimiter)."""
    with path.open("r", encoding=encoding, newline="") as stream:
        delimiter = _delimiter(stream.read(_SAMPLE_CHARS))
    with path.open("r", encoding=encoding, newline="") as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        header: list[str] | None = None
        rows = ragged = 0
        try:
            for record in reader:
                if not record or all(not field.strip() for field in record):
                    continue  # blank lines are not rows
                if header is None:
                    header = record
                    continue
                rows += 1
                ragged += len(record) != len(header)
        except csv.Error as exc:
            raise ContentError(f"the CSV file cannot be parsed at line {reader.line_num} ({exc})") from None
    if header is None:
        raise ContentError("the CSV file has no header row")
    return tuple(name.strip() for name in header), rows, ragged, delimiter


def _delimiter(sample: str) -> str:
    """The sniffed delimiter of a sample (complete lines only), or a comma when it cannot be told."""
    if "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","
