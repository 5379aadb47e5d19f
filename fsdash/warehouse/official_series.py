"""Loading official series into the warehouse: read, validate, write in one transaction.

Follows the rules of :mod:`fsdash.warehouse.ingest`: every file is read before anything is written (a file
that cannot be read, or has the wrong columns, refuses the whole call); valid rows are written in
one transaction, rejected rows go to ``quarantine`` with their reasons and the raw file is kept
by checksum in ``raw_files``. Official series live in their own tables (``official_series``,
``official_files``), apart from the sites' feed.

Versioning: a file is identified by its SHA-256. Loading the same file again changes nothing. A
newer publication that revises a value makes the new value current and keeps the old one
(``is_current = false``); values a newer file no longer carries stay current (extractions are
partial, not deletions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from fsdash import formats
from fsdash.cli_french import os_error_reason
from fsdash.official.definitions import Definitions, load_definitions
from fsdash.official.readers import OfficialTable, read_official
from fsdash.official.validation import ValidatedOfficial, validate_official
from fsdash.readers import LINE_COLUMN, ReadError
from fsdash.validation import describe_failure
from fsdash.warehouse import raw_files
from fsdash.warehouse.ingest import IngestRefused, LoadResult
from fsdash.warehouse.schema import STATUS_LABELS

TABLE_CODE = "official_series"
_KEY = ["indicator", "zone_level", "zone_code", "date", "value_kind"]


class OfficialRefused(IngestRefused):
    """The call is refused before any write (unreadable file, wrong columns)."""


@dataclass
class OfficialFileOutcome:
    file_name: str
    sha256: str
    source: str
    file_date: dt.date
    status: str = "accepte"  # accepte | partiel | rejete | deja_charge
    batch_id: int | None = None
    rows_read: int = 0
    rows_empty: int = 0
    rows_rejected: int = 0
    values_written: int = 0
    failures: pl.DataFrame = field(default_factory=pl.DataFrame)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return self.rows_read - self.rows_empty - self.rows_rejected

    def messages(self) -> list[str]:
        if self.failures.is_empty():
            return []
        return [describe_failure(self.file_name, f) for f in self.failures.iter_rows(named=True)]


@dataclass
class OfficialImportResult(LoadResult):
    files: list[OfficialFileOutcome]


@dataclass
class _Pending:
    name: str
    data: bytes
    sha256: str
    table: OfficialTable
    file_date: dt.date


def _read_all(blobs: list[tuple[str, bytes, dt.date]], definitions: Definitions) -> list[_Pending]:
    pending, errors = [], []
    for name, data, file_date in blobs:
        try:
            table = read_official(data, name, definitions)
        except ReadError as exc:
            errors.append(str(exc))
            continue
        pending.append(_Pending(name, data, hashlib.sha256(data).hexdigest(), table, file_date))
    if errors:
        raise OfficialRefused([*errors, "aucun fichier n'a été chargé."])
    return pending


# --- writing -------------------------------------------------------------------------------


def _stage_changes(con: duckdb.DuckDBPyConnection, values: pl.DataFrame) -> int:
    """Stage (temp table ``_official_changed``) values new or different from the current ones."""
    con.register("_official_incoming", values.select(*_KEY, "source", "reference_date", "value", "line"))
    match = " AND ".join(f"o.{k} = i.{k}" for k in _KEY)
    con.sql(f"""CREATE OR REPLACE TEMP TABLE _official_changed AS
                SELECT i.* FROM _official_incoming i
                WHERE NOT EXISTS (SELECT 1 FROM {TABLE_CODE} o
                                  WHERE o.is_current AND {match} AND o.value = i.value)""")
    con.unregister("_official_incoming")
    return con.sql("SELECT count(*) FROM _official_changed").fetchall()[0][0]


def _write_changes(con: duckdb.DuckDBPyConnection, batch_id: int) -> None:
    """The staged values become current; the values they revise are kept, no longer current."""
    match = " AND ".join(f"o.{k} = i.{k}" for k in _KEY)
    con.sql(f"UPDATE {TABLE_CODE} o SET is_current = false FROM _official_changed i WHERE o.is_current AND {match}")
    con.sql(
        f"""INSERT INTO {TABLE_CODE} (indicator, source, zone_level, zone_code, date, reference_date,
                                          value_kind, value, batch_id, line, is_current)
                SELECT indicator, source, zone_level, zone_code, date, reference_date, value_kind, value, ?,
                       line, true
                FROM _official_changed""",
        params=[batch_id],
    )


def _write_quarantine(con: duckdb.DuckDBPyConnection, result: ValidatedOfficial, batch_id: int) -> None:
    if result.failures.is_empty():
        return
    rows = result.rejected.select(
        LINE_COLUMN, pl.struct(pl.exclude(LINE_COLUMN)).struct.json_encode().alias("row_json")
    )
    quarantine = result.failures.join(rows, on=LINE_COLUMN, how="left").with_columns(
        pl.lit(TABLE_CODE).alias("table_code")
    )
    con.register("_official_quarantine", quarantine)
    con.sql(
        """INSERT INTO quarantine SELECT ?, table_code, _ligne, colonne, valeur, regle, message, row_json
               FROM _official_quarantine""",
        params=[batch_id],
    )
    con.unregister("_official_quarantine")


def _record_file(con: duckdb.DuckDBPyConnection, item: _Pending, out: OfficialFileOutcome) -> None:
    con.sql(
        """INSERT INTO official_files (sha256, file_name, source, file_date, batch_id, loaded_at, status,
                                           rows_read, rows_empty, rows_loaded, rows_rejected, values_written)
               VALUES (?, ?, ?, ?, ?, current_timestamp, ?, ?, ?, ?, ?, ?)""",
        params=[
            out.sha256,
            out.file_name,
            out.source,
            out.file_date,
            out.batch_id,
            out.status,
            out.rows_read,
            out.rows_empty,
            out.rows_loaded,
            out.rows_rejected,
            out.values_written,
        ],
    )
    raw_files.keep(con, out.sha256, out.file_name, item.data)


def _previous(con: duckdb.DuckDBPyConnection, sha256: str) -> tuple[str, int] | None:
    """Status and batch of the last load of this exact file, if any."""
    rows = con.sql(
        """SELECT status, batch_id FROM official_files WHERE sha256 = ?
                      ORDER BY batch_id DESC LIMIT 1""",
        params=[sha256],
    ).fetchall()
    return rows[0] if rows else None


def _same_rejections(con: duckdb.DuckDBPyConnection, batch_id: int, failures: pl.DataFrame) -> bool:
    before = con.sql(
        "SELECT line, rule FROM quarantine WHERE batch_id = ? AND table_code = ?", params=[batch_id, TABLE_CODE]
    ).fetchall()
    now = failures.select(LINE_COLUMN, "regle").rows()
    return sorted(before, key=str) == sorted(now, key=str)


def _load_one(con: duckdb.DuckDBPyConnection, item: _Pending, definitions: Definitions) -> OfficialFileOutcome:
    out = OfficialFileOutcome(
        item.name,
        item.sha256,
        item.table.source.code,
        item.file_date,
        ignored_columns=item.table.ignored_columns,
        notes=item.table.notes,
    )
    previous = _previous(con, item.sha256)
    if previous is not None and previous[0] == "accepte":
        out.status = "deja_charge"
        return out
    result = validate_official(item.table, definitions)
    out.rows_read, out.rows_empty, out.rows_rejected = result.rows_read, result.rows_empty, result.rows_rejected
    out.failures = result.failures
    out.values_written = _stage_changes(con, result.values)
    if previous is not None and out.values_written == 0 and _same_rejections(con, previous[1], result.failures):
        out.status = "deja_charge"  # the same partly rejected file again: recording it would duplicate
        return out
    batch_id = out.batch_id = con.sql("SELECT nextval('batch_seq')").fetchall()[0][0]
    _write_changes(con, batch_id)
    loaded = out.rows_loaded
    out.status = "accepte" if not out.rows_rejected else ("partiel" if loaded else "rejete")
    _write_quarantine(con, result, batch_id)
    _record_file(con, item, out)
    return out


def import_official_blobs(
    con: duckdb.DuckDBPyConnection,
    blobs: list[tuple[str, bytes, dt.date | None]],
    *,
    definitions: Definitions | None = None,
    today: dt.date | None = None,
) -> OfficialImportResult:
    """Load named official files (name, content, publication date or None) through ``con`` (a writer).

    Raises :class:`OfficialRefused` before any write when a file cannot be read or has the wrong
    columns; otherwise writes everything valid in one transaction.
    """
    definitions = definitions or load_definitions()
    today = today or dt.date.today()
    pending = _read_all([(n, d, day or today) for n, d, day in blobs], definitions)
    con.begin()
    try:
        outcomes = [_load_one(con, item, definitions) for item in pending]
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return OfficialImportResult(outcomes)


def import_official_paths(
    con: duckdb.DuckDBPyConnection, paths: list[Path], *, file_date: dt.date | None = None, **kwargs
) -> OfficialImportResult:
    """Load official files from disk; their date is ``file_date`` or else their modification date."""
    blobs = []
    for path in paths:
        try:
            data = path.read_bytes()
            day = file_date or dt.date.fromtimestamp(path.stat().st_mtime)
        except OSError as exc:
            raise OfficialRefused(
                [f"{path} : fichier illisible ({os_error_reason(exc)})", "aucun fichier n'a été chargé."]
            ) from exc
        blobs.append((path.name, data, day))
    return import_official_blobs(con, blobs, **kwargs)


def report_lines(
    result: OfficialImportResult, definitions: Definitions | None = None, max_messages: int = 50
) -> list[str]:
    """The French summary printed by ``import-indicators``."""
    definitions = definitions or load_definitions()
    lines = []
    for f in result.files:
        lines.append(f"{f.file_name} : {STATUS_LABELS[f.status]}" + (f" (lot {f.batch_id})" if f.batch_id else ""))
        lines += ["  note : " + note for note in f.notes]
        if f.status == "deja_charge" and not f.rows_rejected:
            continue
        source = definitions.sources[f.source].label
        lines.append(
            f"  {source} ; {formats.plural(f.rows_read, 'ligne lue', 'lignes lues')}, {formats.plural(f.rows_loaded, 'chargée')}, "
            f"{formats.plural(f.rows_rejected, 'rejetée')}, {formats.plural(f.rows_empty, 'sans valeur ignorée', 'sans valeur ignorées')} ; "
            f"{formats.plural(f.values_written, 'valeur nouvelle ou révisée', 'valeurs nouvelles ou révisées')}"
        )
        if f.ignored_columns:
            lines.append("  colonnes ignorées : " + ", ".join(f.ignored_columns))
        messages = f.messages()
        lines += ["  - " + m for m in messages[:max_messages]]
        if len(messages) > max_messages:
            more = formats.plural(len(messages) - max_messages, "autre erreur", "autres erreurs")
            lines.append(f"  … et {more} (table quarantine de l'entrepôt)")
    return lines
