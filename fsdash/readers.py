"""Reading a user's file into text frames, one per catalogue table it holds.

Sites and departments save their reports from many tools: French Excel writes cp1252 with
``;``, other tools write a UTF-8 BOM, some send XLSX or Parquet. Everything is read as text
here so that parsing errors can be reported by the validator with their line and column,
instead of being guessed away by a reader.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fsdash.catalogue import Catalogue, Table

LINE_COLUMN = "_ligne"
"""Column added to every frame: the line of the source file (header is line 1)."""

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


class ReadError(Exception):
    """A file that cannot be read at all: it is refused whole, with a French message."""


@dataclass
class RawTable:
    """One table found in a file: its cells (text, or typed as a Parquet file has them) plus the
    source line of each row."""

    file_name: str
    table: Table
    frame: pl.DataFrame
    sheet: str | None = None
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.file_name}, feuille « {self.sheet} »" if self.sheet else self.file_name


def normalise_header(name: str) -> str:
    """'Usagers accueillis ' -> 'usagers_accueillis': headers retyped in Excel still match."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text.strip().lower())
    return text.strip("_")


def decode(data: bytes, file_name: str) -> tuple[str, str]:
    """Decode bytes with the first encoding that fits; returns (text, encoding)."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError(f"{file_name} : encodage illisible (ni UTF-8 ni Windows-1252)")


def sniff_separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=";,\t").delimiter
    except csv.Error:
        return ";" if header.count(";") > header.count(",") else ","


def _unique_headers(columns: list[str]) -> dict[str, str]:
    """Normalised names, suffixed when two headers collapse to one ('Partenaire', 'partenaire')."""
    seen: dict[str, int] = {}
    out = {}
    for column in columns:
        name = normalise_header(column) or "colonne"
        seen[name] = seen.get(name, 0) + 1
        out[column] = name if seen[name] == 1 else f"{name}_{seen[name]}"
    return out


def _with_lines(frame: pl.DataFrame, first_line: int = 2) -> pl.DataFrame:
    frame = frame.rename(_unique_headers(frame.columns))
    return frame.with_row_index(LINE_COLUMN, offset=first_line).with_columns(pl.col(LINE_COLUMN).cast(pl.Int64))


def _all_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.all().cast(pl.String))


def read_csv_text(data: bytes, file_name: str, *, header_only: bool = False) -> pl.DataFrame:
    """A CSV file as text cells; with ``header_only``, its columns and no row (only the first line
    is decoded: what a load needs to know which table a file holds before reading it whole)."""
    if header_only:
        data = data.split(b"\n", 1)[0]
    text, encoding = decode(data, file_name)
    if not text.strip():
        raise ReadError(f"{file_name} : fichier vide")
    separator = sniff_separator(text)
    # UTF-8 goes to Polars as the bytes it is (no Python string re-encoded on the way); any other
    # encoding is read from its decoded text.
    source = io.BytesIO(data.removeprefix(codecs.BOM_UTF8)) if encoding == "utf-8-sig" else io.StringIO(text)
    del text
    try:
        frame = pl.read_csv(
            source,
            separator=separator,
            infer_schema=False,
            empty_string_is_null=True,
            truncate_ragged_lines=False,
            n_rows=0 if header_only else None,
        )
    except pl.exceptions.PolarsError as exc:
        raise ReadError(f"{file_name} : structure CSV illisible ({exc})") from exc
    return _with_lines(frame)


def read_sheets(data: bytes, file_name: str) -> dict[str, pl.DataFrame]:
    try:
        sheets = pl.read_excel(io.BytesIO(data), sheet_id=0, infer_schema_length=0, raise_if_empty=False)
    except Exception as exc:  # the engine raises its own error types
        raise ReadError(f"{file_name} : classeur Excel illisible ({exc})") from exc
    return {name: _with_lines(_all_text(frame)) for name, frame in sheets.items()}


def read_parquet_text(data: bytes, file_name: str) -> pl.DataFrame:
    """A Parquet file with every cell as text (readers that parse text themselves)."""
    return read_parquet(data, file_name).with_columns(pl.exclude(LINE_COLUMN).cast(pl.String))


def read_parquet(data: bytes, file_name: str) -> pl.DataFrame:
    """A Parquet file with its cells as typed as the file has them: a whole-number column stays
    whole numbers, so the validator needs no text parsing (:func:`fsdash.validation.parse` reads
    as text only the cells whose type is not the column's)."""
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:
        raise ReadError(f"{file_name} : fichier Parquet illisible ({exc})") from exc
    return _with_lines(frame)


def match_table(columns: list[str], catalogue: Catalogue, named: str | None = None) -> tuple[Table | None, list[str]]:
    """The table whose required columns are all present (most matched columns wins).

    When none fits, returns the closest table and its missing columns for the message; a sheet
    named after a table is always matched to that table.
    """
    present = set(columns)
    if named in catalogue.tables:
        table = catalogue.tables[named]
        return table, [c for c in table.required_columns if c not in present]
    best: tuple[int, Table] | None = None
    closest: tuple[int, Table, list[str]] | None = None
    for table in catalogue.tables.values():
        missing = [c for c in table.required_columns if c not in present]
        matched = sum(c.code in present for c in table.columns)
        if not missing and (best is None or matched > best[0]):
            best = (matched, table)
        if (
            closest is None
            or len(missing) < len(closest[2])
            or (len(missing) == len(closest[2]) and matched > closest[0])
        ):
            closest = (matched, table, missing)
    if best is not None:
        return best[1], []
    assert closest is not None
    return closest[1], closest[2]


def _raw_table(frame: pl.DataFrame, file_name: str, catalogue: Catalogue, sheet: str | None = None) -> RawTable:
    table, missing = match_table(frame.columns, catalogue, normalise_header(sheet) if sheet else None)
    assert table is not None
    where = f"{file_name}, feuille « {sheet} »" if sheet else file_name
    if missing:
        raise ReadError(
            f"{where} : colonnes manquantes pour la table « {table.code} » ({table.label}) : " + ", ".join(missing)
        )
    known = {c.code for c in table.columns} | {LINE_COLUMN}
    ignored = [c for c in frame.columns if c not in known]
    return RawTable(file_name, table, frame.drop(ignored), sheet, ignored)


def peek_tables(data: bytes, file_name: str, catalogue: Catalogue) -> tuple[list[RawTable], bool]:
    """The tables a file holds, and whether their rows were read too.

    A CSV or Parquet file is one table, recognised by its header: its rows (a national quarter is
    a million of them) are read only when the load comes to it (:func:`read_tables`), one file at
    a time. A workbook is read whole (its sheets are small and cannot be peeked at cheaply). An
    unreadable file, or one missing columns, is refused here, before anything is written."""
    suffix = Path(file_name).suffix.lower()
    if suffix == ".parquet":
        try:
            schema = pl.read_parquet_schema(io.BytesIO(data))
        except Exception as exc:
            raise ReadError(f"{file_name} : fichier Parquet illisible ({exc})") from exc
        return [_raw_table(_with_lines(pl.DataFrame(schema=schema)), file_name, catalogue)], False
    if suffix in (".csv", ".txt", ".tsv", ""):
        return [_raw_table(read_csv_text(data, file_name, header_only=True), file_name, catalogue)], False
    return read_tables(data, file_name, catalogue), True


def read_tables(data: bytes, file_name: str, catalogue: Catalogue) -> list[RawTable]:
    """All catalogue tables found in one file.

    A workbook may hold one table per sheet; sheets that are documentation (the template's
    « Lisez-moi ») are skipped when their name is not a table code and they match none.
    """
    suffix = Path(file_name).suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        tables = []
        for sheet, frame in read_sheets(data, file_name).items():
            named = normalise_header(sheet)
            _, missing = match_table(frame.columns, catalogue, named)
            if missing and named not in catalogue.tables:
                continue  # documentation sheets (the template's « Lisez-moi », « Listes »)
            tables.append(_raw_table(frame, file_name, catalogue, sheet))
        if not tables:
            raise ReadError(f"{file_name} : aucune feuille ne correspond à une table du catalogue")
        return tables
    if suffix == ".parquet":
        return [_raw_table(read_parquet(data, file_name), file_name, catalogue)]
    if suffix in (".csv", ".txt", ".tsv", ""):
        return [_raw_table(read_csv_text(data, file_name), file_name, catalogue)]
    raise ReadError(f"{file_name} : format non pris en charge (CSV, XLSX ou Parquet attendu)")
