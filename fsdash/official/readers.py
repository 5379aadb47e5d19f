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
from fsdash.readers import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    LINE_COLUMN,
    ReadError,
    read_csv_text,
    read_parquet_text,
    read_workbook,
)


@dataclass
class OfficialTable:
    """One official file: its format and its cells as text, with the line of each row."""

    file_name: str
    source: Source
    frame: pl.DataFrame
    ignored_columns: list[str] = field(default_factory=list)
    #: What the reader did that the report must say (hidden sheets ignored…), in French.
    notes: list[str] = field(default_factory=list)


def _read_frame(data: bytes, file_name: str, definitions: Definitions) -> tuple[pl.DataFrame, list[str]]:
    """The file's table and the reader's notes. A workbook's table is its first visible sheet of a
    known format (the first visible sheet when none is, for the message); hidden sheets are ignored."""
    suffix = Path(file_name).suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        sheets, notes = read_workbook(data, file_name)
        if not sheets:
            hidden = " (les feuilles masquées sont ignorées)" if notes else ""
            raise ReadError(f"{file_name} : classeur sans feuille visible remplie{hidden}")
        sheet = next((s for s in sheets if match_source(s.frame.columns, definitions)), sheets[0])
        if len(sheets) > 1:
            others = ", ".join(f"« {s.name} »" for s in sheets if s is not sheet)
            notes.append(f"{file_name} : feuille « {sheet.name} » chargée, autres feuilles ignorées : {others}")
        return sheet.frame, notes
    if suffix == ".parquet":
        return read_parquet_text(data, file_name), []
    if suffix in CSV_SUFFIXES:
        return read_csv_text(data, file_name), []
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
    frame, notes = _read_frame(data, file_name, definitions)
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
    if frame.is_empty():
        raise ReadError(f"{file_name} : aucune ligne de données (seulement l'en-tête), rien à charger")
    return OfficialTable(file_name, source, frame.drop(ignored), ignored, notes)
