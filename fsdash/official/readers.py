"""Reading an official publication (DITP or Etalab format) into a text frame.

Everything is read as text, as for the sites' reports (:mod:`fsdash.readers`), so that the
validator can name the line and column of a cell it cannot read. The format is recognised by its
columns; a file that fits neither is refused whole, naming the columns it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fsdash.official.definitions import Definitions, Source
from fsdash.readers import LINE_COLUMN, ReadError, read_csv_text, read_parquet_text, read_sheets


@dataclass
class OfficialTable:
    """One official file: its format and its cells as text, with the line of each row."""

    file_name: str
    source: Source
    frame: pl.DataFrame
    ignored_columns: list[str] = field(default_factory=list)


def _read_frame(data: bytes, file_name: str) -> pl.DataFrame:
    suffix = Path(file_name).suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        sheets = read_sheets(data, file_name)
        if not sheets:
            raise ReadError(f"{file_name} : classeur vide")
        return next(iter(sheets.values()))
    if suffix == ".parquet":
        return read_parquet_text(data, file_name)
    if suffix in (".csv", ".txt", ".tsv", ""):
        return read_csv_text(data, file_name)
    raise ReadError(f"{file_name} : format non pris en charge (CSV, XLSX ou Parquet attendu)")


def missing_columns(columns: list[str], definitions: Definitions) -> dict[str, list[str]]:
    """For each publication format, the required columns the file lacks."""
    present = set(columns)
    return {code: [c for c in source.columns if c not in present] for code, source in definitions.sources.items()}


def match_source(columns: list[str], definitions: Definitions) -> Source | None:
    """The publication format whose columns are all present (the one with most columns wins)."""
    fitting = [
        definitions.sources[code] for code, missing in missing_columns(columns, definitions).items() if not missing
    ]
    return max(fitting, key=lambda s: len(s.columns)) if fitting else None


def read_official(data: bytes, file_name: str, definitions: Definitions) -> OfficialTable:
    """Read one file; raises :class:`ReadError` (French) when it cannot be read or has the wrong shape."""
    frame = _read_frame(data, file_name)
    source = match_source(frame.columns, definitions)
    if source is None:
        per_format = "; ".join(
            f"format « {definitions.sources[code].label} » : il manque {', '.join(missing)}"
            for code, missing in missing_columns(frame.columns, definitions).items()
        )
        raise ReadError(
            f"{file_name} : colonnes manquantes, le fichier ne correspond à aucun format de série "
            f"officielle ({per_format})"
        )
    known = set(source.columns) | set(source.optional_columns) | {LINE_COLUMN}
    ignored = [c for c in frame.columns if c not in known]
    return OfficialTable(file_name, source, frame.drop(ignored), ignored)
