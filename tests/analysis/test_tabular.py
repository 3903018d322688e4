"""CSV uploads: columns and rows, sniffed delimiter, BOM and encodings."""

from __future__ import annotations

from pathlib import Path

from terrafuse.analysis import analyse_file


def test_semicolon_csv_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "stations.csv"
    path.write_bytes("\ufeffstation;lat;lon\nKeswick;54.6;-3.13\n\nAmbleside;54.43;-2.96\n".encode())

    analysis = analyse_file(path, "CSV", "stations.csv")

    assert analysis.publishable and analysis.error is None
    assert analysis.file_type == "CSV"
    assert analysis.columns == ("station", "lat", "lon")  # no BOM glued to the first name
    assert analysis.rows == 2  # the blank line is not a row
    assert "fields are separated by ';'" in analysis.notes


def test_comma_csv_with_quoted_newlines_and_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(
        'name,comment\r\n"Caf\xe9","two\r\nlines, and a comma"\r\nTarn,short\r\nA,B,C\r\n'.encode("cp1252")
    )

    analysis = analyse_file(path, "CSV", "notes.csv")

    assert analysis.publishable, analysis.error
    assert analysis.columns == ("name", "comment")
    assert analysis.rows == 3
    assert "the file is not UTF-8; it was read as cp1252" in analysis.notes
    assert "1 rows do not have the same number of fields as the header" in analysis.notes


def test_csv_of_blank_lines_has_no_header(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n \n\n", encoding="utf-8")

    analysis = analyse_file(path, "CSV", "blank.csv")

    assert not analysis.publishable
    assert analysis.error == "the CSV file has no header row"


def test_unparseable_csv(tmp_path: Path) -> None:
    path = tmp_path / "huge_field.csv"
    path.write_text('a,b\n"' + "x" * 200_000 + '",1\n', encoding="utf-8")  # beyond csv's field limit

    analysis = analyse_file(path, "CSV", "huge_field.csv")

    assert not analysis.publishable
    assert analysis.error is not None and analysis.error.startswith("the CSV file cannot be parsed at line")
