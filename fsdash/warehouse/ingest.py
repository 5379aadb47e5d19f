"""The one way data gets into the warehouse: read, validate, write, all or nothing.

Used by ``python -m fsdash ingest``, by the demo builder and (later) by the upload page, so
that real and synthetic data follow exactly the same rules. Guarantees:

* every file is read and checked before anything is written; an unreadable file refuses the
  whole call (nothing written);
* valid rows are written all or nothing (one transaction, or a writer's staging copy committed file
  by file and published only if the whole load succeeds), rejected rows go to ``quarantine`` with their
  reasons, and the raw file is kept by checksum: nothing a user loaded is lost silently;
* re-ingesting an identical file changes nothing; a corrected site-period becomes a new
  revision, the earlier one staying queryable (``is_current = false``);
* the requests rollups are refreshed for the (period, département) pairs that changed, and for every
  period of the départements whose sites changed département, format or carrier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mmap
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

import duckdb
import polars as pl

from fsdash import formats
from fsdash.catalogue import Catalogue, Table, load_catalogue
from fsdash.cli_french import os_error_reason
from fsdash.metrics.scope import UNKNOWN_CARRIER
from fsdash.readers import LINE_COLUMN, RawTable, ReadError, peek_bytes, peek_tables, read_tables
from fsdash.validation import (
    PERIOD,
    ValidatedTable,
    ValidationContext,
    check,
    confirm,
    describe_failure,
    loaded_keys,
    validate,
)
from fsdash.warehouse import raw_files
from fsdash.warehouse.registry import close_missing, write_sites
from fsdash.warehouse.schema import (
    NATIONAL_REQUESTS_ROLLUP,
    NATIONAL_ROLLUP_ORDER,
    PARTNER_ROLLUP,
    PARTNER_ROLLUP_ORDER,
    REQUESTS_ROLLUP,
    ROLLUP_DIMENSIONS,
    ROLLUP_ORDER,
    STATUS_LABELS,
    get_meta,
    rollup_type,
    set_meta,
)
from fsdash.warehouse.store import is_staging

NATURES = {"demo": "données de démonstration", "reel": "données réelles"}


class IngestRefused(Exception):
    """The call is refused before any write; ``messages`` are French, one per problem."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


#: Failures a load's outcome keeps in memory, the first in line order: more than a report shows.
#: Every failure is in the quarantine table; a quarter rejected whole has 1,4 million of them.
KEPT_FAILURES = 1_000


def _first_failures(failures: pl.DataFrame) -> pl.DataFrame:
    """The first :data:`KEPT_FAILURES` of ``failures``, in memory of their own: a slice of a frame
    (``head``) keeps the whole frame's buffers alive, and a quarter rejected whole has 1,4 million
    messages, which the outcome must not hold until the load ends."""
    first = failures.head(KEPT_FAILURES)
    return pl.DataFrame(first.to_dict(as_series=False), schema=first.schema)


@dataclass
class TableOutcome:
    table: Table
    where: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    revisions_created: int
    failures: pl.DataFrame  # the first KEPT_FAILURES in line order (all of them are in quarantine)
    failure_count: int  # all the failures
    ignored_columns: list[str] = field(default_factory=list)

    def messages(self, limit: int | None = None) -> list[str]:
        """French messages of the rejections kept (:data:`KEPT_FAILURES`), the first ``limit`` only
        when given: a report shows fifty."""
        shown = self.failures if limit is None else self.failures.head(limit)
        return [describe_failure(self.where, f) for f in shown.iter_rows(named=True)]


@dataclass
class FileOutcome:
    file_name: str
    sha256: str
    status: str  # accepte | partiel | rejete | deja_charge | vide
    batch_id: int | None = None
    tables: list[TableOutcome] = field(default_factory=list)
    #: What the reader did that the user must know (hidden sheets ignored…), in French.
    notes: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables)


class LoadResult:
    """What every load reports: rows rejected over its files, and the command line's exit code
    (0 everything loaded; 1 some rows rejected, the rest loaded, or a file without any row)."""

    files: list

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def empty_files(self) -> list[str]:
        """Files that held no row at all (an empty file, an untouched template)."""
        return [f.file_name for f in self.files if getattr(f, "status", None) == "vide"]

    @property
    def exit_code(self) -> int:
        return 1 if self.rows_rejected or self.empty_files else 0


@dataclass
class IngestResult(LoadResult):
    files: list[FileOutcome]
    warnings: list[str] = field(default_factory=list)


@dataclass
class _PendingFile:
    """A file of the load: its tables as peeked (:func:`fsdash.readers.peek_tables`), its rows read
    only when the load comes to it, so that a load holds one file's rows at a time."""

    name: str
    source: Path | bytes
    sha256: str
    tables: list[RawTable]
    outcome: FileOutcome
    whole: bool = True  # the tables already hold their rows (a workbook, a site list)
    #: A file on disk as it was hashed (:meth:`digest`): device, inode, size, modification time.
    stamp: tuple[int, ...] | None = None

    def data(self) -> bytes:
        if isinstance(self.source, bytes):
            return self.source
        with self._opened() as fh, self._reading():
            return fh.read()

    @contextmanager
    def _opened(self) -> Iterator[BinaryIO]:
        """The file on disk opened, refused if it is no longer the one hashed: its rows are read
        and its bytes kept later in the load, and what the warehouse records (its SHA-256, « déjà
        chargé » next time) must be what it holds."""
        with self._reading():
            fh = self.source.open("rb")
        with fh:
            if self.stamp is not None and _stamp(fh) != self.stamp:
                raise IngestRefused(
                    [
                        f"{self.source} : fichier modifié ou remplacé pendant le chargement (depuis son "
                        "contrôle) ; relancez le chargement une fois le fichier complet.",
                        "aucun fichier n'a été chargé.",
                    ]
                )
            yield fh

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Reading the file on disk: a failure of the system said in French, the file named."""
        try:
            yield
        except OSError as exc:
            raise IngestRefused([f"{self.source} : fichier illisible ({os_error_reason(exc)})"]) from exc

    def digest(self) -> str:
        """The SHA-256 of the file's bytes, read from disk in small blocks (not copied whole)."""
        if isinstance(self.source, bytes):
            return hashlib.sha256(self.source).hexdigest()
        with self._reading(), self.source.open("rb") as fh:
            self.stamp = _stamp(fh)
            return hashlib.file_digest(fh, "sha256").hexdigest()

    def head(self) -> bytes:
        """The bytes :func:`fsdash.readers.peek_tables` needs: a CSV file's first ones when its
        header ends within them (:func:`fsdash.readers.peek_bytes`), otherwise the whole file."""
        size = peek_bytes(self.name)
        if size is None or isinstance(self.source, bytes):
            return self.data()
        with self._opened() as fh, self._reading():
            head = fh.read(size)
        return head if len(head) < size or b"\n" in head else self.data()

    @contextmanager
    def kept_bytes(self) -> Iterator[bytes | mmap.mmap]:
        """The bytes to keep (:func:`fsdash.warehouse.raw_files.keep`): a file on disk mapped in
        memory, not read into a copy of its own (45 Mo a national quarter in CSV). Only opening and
        mapping the file are said to be reading it: a failure of what is done with the bytes is not."""
        if isinstance(self.source, bytes):
            yield self.source
            return
        with self._opened() as fh:
            if not os.fstat(fh.fileno()).st_size:
                yield b""  # an empty file cannot be mapped
                return
            with self._reading():
                mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            with mapped:
                yield mapped

    def rows_of(self, raw: RawTable, catalogue: Catalogue) -> RawTable:
        """``raw`` with its rows: read now, unless they were read when the file was peeked."""
        if self.whole:
            return raw
        try:
            tables = read_tables(self.data(), self.name, catalogue)
        except ReadError as exc:
            raise IngestRefused([str(exc), "aucun fichier n'a été chargé."]) from exc
        return next(t for t in tables if t.table.code == raw.table.code)


def _stamp(fh: BinaryIO) -> tuple[int, ...]:
    """What changes when a file is written to or replaced (a copy still arriving, an edit saved)."""
    st = os.fstat(fh.fileno())
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _table_order(catalogue: Catalogue) -> list[str]:
    """Reference tables first, then tables others total against (activity before detail)."""
    providers = {r.total_table for r in catalogue.rules if r.total_table}
    return sorted(catalogue.tables, key=lambda t: (catalogue.tables[t].is_report, t not in providers, t))


def _context(
    con: duckdb.DuckDBPyConnection,
    catalogue: Catalogue,
    today: dt.date,
    loaded: dict[str, list[pl.DataFrame]],
    table_code: str,
) -> ValidationContext:
    """What validating ``table_code`` needs: the registry's label and closure dates, the current
    totals its rules compare with (ten years of activity totals are not read for every file of a
    backfill), and the keys ``loaded`` by the earlier files and sheets of this load (each table's key
    declared once per load)."""
    sites = con.sql("SELECT site_id, date_labellisation, date_fermeture FROM sites").pl()
    totals = {}
    for rule in catalogue.rules_for(table_code):
        if rule.kind == "group_sum_le_total":
            totals[rule.total_table] = con.sql(
                f"SELECT site_id, periode, {rule.right} FROM {rule.total_table} WHERE is_current"
            ).pl()
    seen = {code: pl.concat(frames) for code, frames in loaded.items() if frames}
    return ValidationContext(sites=sites, totals=totals, today=today, loaded=seen)


def _fully_loaded(con: duckdb.DuckDBPyConnection, sha256: str) -> bool:
    rows = con.sql("SELECT count(*) FROM batches WHERE sha256 = ? AND status = 'accepte'", params=[sha256]).fetchall()
    return rows[0][0] > 0


def _same_as_before(con: duckdb.DuckDBPyConnection, outcome: FileOutcome) -> bool:
    """A file loaded before (partly rejected) that brings nothing new: no revision, same rejections.

    Recording it again would only duplicate its quarantine rows. The rejections are compared in
    the quarantine table, where this load has written them (a quarter rejected whole has a
    million of them, and its outcome keeps only the first).
    """
    if any(t.revisions_created for t in outcome.tables):
        return False
    seen = con.sql("SELECT count(*) FROM batches WHERE sha256 = ?", params=[outcome.sha256]).fetchall()[0][0]
    if not seen:
        return False
    same = con.sql(
        """WITH now AS (SELECT table_code, line, rule FROM quarantine WHERE batch_id = $batch),
                before AS (SELECT table_code, line, rule FROM quarantine
                           WHERE batch_id = (SELECT max(batch_id) FROM batches WHERE sha256 = $sha256))
           SELECT (SELECT count(*) FROM now) = (SELECT count(*) FROM before)
                  AND NOT EXISTS (SELECT * FROM now EXCEPT ALL SELECT * FROM before)""",
        params={"batch": outcome.batch_id, "sha256": outcome.sha256},
    ).fetchall()
    return bool(same[0][0])


def _check_nature(con: duckdb.DuckDBPyConnection, nature: str) -> None:
    existing = get_meta(con, "nature")
    has_data = con.sql("SELECT count(*) FROM batches").fetchall()[0][0] > 0
    if existing and existing != nature and has_data:
        raise IngestRefused(
            [
                f"l'entrepôt contient des {NATURES[existing]} : on n'y mélange pas des {NATURES[nature]}. "
                "Choisissez un autre entrepôt avec --db (ou la variable FSDASH_DB)."
            ]
        )
    set_meta(con, "nature", nature)


# --- writing -------------------------------------------------------------------------------


def write_reference(con: duckdb.DuckDBPyConnection, table: Table, valid: pl.DataFrame, batch_id: int) -> int:
    """Upsert a reference table other than the registry (rates, envelopes…) by its grain.

    Rows whose values changed replace the stored ones; identical rows are left alone, so
    reloading a file changes nothing. Returns the rows written.
    """
    cols = [c.code for c in table.columns]
    existing = con.sql(f"SELECT {', '.join(cols)} FROM {table.code}").pl()
    changed = valid.select(cols).join(existing, on=cols, how="anti", nulls_equal=True)
    if changed.is_empty():
        return 0
    keys = list(table.grain)
    con.register("_incoming_reference", changed)
    match = " AND ".join(f"t.{k} = i.{k}" for k in keys)
    con.sql(f"DELETE FROM {table.code} t WHERE EXISTS (SELECT 1 FROM _incoming_reference i WHERE {match})")
    con.sql(
        f"INSERT INTO {table.code} ({', '.join(cols)}, batch_id, updated_at) "
        f"SELECT {', '.join(cols)}, ?, current_timestamp FROM _incoming_reference",
        params=[batch_id],
    )
    con.unregister("_incoming_reference")
    return changed.height


def _write_report(con: duckdb.DuckDBPyConnection, table: Table, valid: pl.DataFrame, batch_id: int) -> pl.DataFrame:
    """Write changed site-periods as new revisions; returns the (site_id, periode) written.

    A site-period the warehouse holds no current row for is new: it is written without comparing
    anything (an anti-join on the keys). Only those it already holds are compared row by row with
    what is stored (``EXCEPT ALL`` both ways), the only way to tell a correction from a reload — on a
    new quarter, that comparison used to cost a third of the load for nothing.
    """
    cols = [c.code for c in table.columns] + [PERIOD]
    col_list = ", ".join(cols)
    con.register("_incoming", valid.select(cols))
    con.sql("CREATE OR REPLACE TEMP TABLE _groups AS SELECT DISTINCT site_id, periode FROM _incoming")
    con.sql(
        f"""CREATE OR REPLACE TEMP TABLE _held AS
            SELECT DISTINCT t.site_id, t.periode FROM {table.code} t SEMI JOIN _groups g
            ON t.site_id = g.site_id AND t.periode = g.periode
            WHERE t.is_current AND t.periode IN (SELECT DISTINCT periode FROM _groups)"""
    )
    con.sql(
        f"""
        CREATE OR REPLACE TEMP TABLE _changed AS
        WITH held_inc AS (SELECT {col_list} FROM _incoming i SEMI JOIN _held h
                          ON i.site_id = h.site_id AND i.periode = h.periode),
        cur AS (SELECT {col_list} FROM {table.code} t SEMI JOIN _held h
                ON t.site_id = h.site_id AND t.periode = h.periode
                WHERE t.is_current AND t.periode IN (SELECT DISTINCT periode FROM _held)),
        diff AS ((SELECT * FROM held_inc EXCEPT ALL SELECT * FROM cur)
                 UNION ALL (SELECT * FROM cur EXCEPT ALL SELECT * FROM held_inc)),
        touched AS (SELECT g.site_id, g.periode FROM _groups g ANTI JOIN _held h
                        ON g.site_id = h.site_id AND g.periode = h.periode
                    UNION SELECT DISTINCT site_id, periode FROM diff),
        last AS (SELECT r.site_id, r.periode, max(r.revision) AS rev FROM revisions r SEMI JOIN touched t
                 ON r.site_id = t.site_id AND r.periode = t.periode WHERE r.table_code = ? GROUP BY ALL)
        SELECT t.site_id, t.periode, coalesce(l.rev, 0) + 1 AS revision
        FROM touched t LEFT JOIN last l ON t.site_id = l.site_id AND t.periode = l.periode
    """,
        params=[table.code],
    )
    con.sql(f"""UPDATE {table.code} t SET is_current = false FROM _changed c SEMI JOIN _held h
                ON c.site_id = h.site_id AND c.periode = h.periode
                WHERE t.site_id = c.site_id AND t.periode = c.periode AND t.is_current""")
    con.sql(
        f"""INSERT INTO {table.code} ({col_list}, revision, batch_id, is_current)
                SELECT {", ".join("i." + c for c in cols)}, c.revision, ?, true
                FROM _incoming i JOIN _changed c ON i.site_id = c.site_id AND i.periode = c.periode""",
        params=[batch_id],
    )
    con.sql(
        "INSERT INTO revisions SELECT ?, site_id, periode, revision, ?, current_timestamp FROM _changed",
        params=[table.code, batch_id],
    )
    con.unregister("_incoming")
    return con.sql("SELECT site_id, periode FROM _changed").pl()


#: Rejected rows written to quarantine per slice: a quarter rejected whole has a million of them,
#: and each slice's rows are written out as JSON only while that slice is inserted.
QUARANTINE_SLICE = 100_000


def _write_quarantine(con: duckdb.DuckDBPyConnection, result: ValidatedTable, batch_id: int) -> None:
    """Every failure with the rejected row as it was read (JSON), slice by slice of the rejected rows."""
    if result.failures.is_empty():
        return
    for start in range(0, max(result.rejected.height, 1), QUARANTINE_SLICE):
        rows = result.rejected.slice(start, QUARANTINE_SLICE).select(
            LINE_COLUMN, pl.struct(pl.exclude(LINE_COLUMN)).struct.json_encode().alias("row_json")
        )
        lines = rows[LINE_COLUMN].implode()
        # failures of no rejected row (a file-level problem, no line) go with the first slice
        in_slice = pl.col(LINE_COLUMN).is_in(lines) | (pl.col(LINE_COLUMN).is_null() if start == 0 else pl.lit(False))
        quarantine = (
            result.failures.filter(in_slice)
            .join(rows, on=LINE_COLUMN, how="left")
            .with_columns(pl.lit(result.table.code).alias("table_code"))
        )
        con.register("_quarantine", quarantine)
        con.sql(
            """INSERT INTO quarantine SELECT ?, table_code, _ligne, colonne, valeur, regle, message, row_json
                   FROM _quarantine""",
            params=[batch_id],
        )
        con.unregister("_quarantine")


#: What a requests rollup row is made of: each current detail row with its site's areas, format and
#: carrier, as they are in the registry now (a site that moves carries its history with it).
_ROLLUP_SOURCE = f"""
    SELECT d.periode, s.region, s.departement, s.format, coalesce(s.porteur, '{UNKNOWN_CARRIER}') AS porteur,
           d.partenaire, d.situation, d.canal, d.issue, d.nb_demandes
    FROM demandes_detail d JOIN sites s ON s.site_id = d.site_id
    WHERE d.is_current {{where}}"""
_ROLLUP_KEYS = "periode, region, departement, format, porteur"


def _rollup_select(where: str = "") -> str:
    """Departmental rollup rows (see ``REQUESTS_ROLLUP``): one scan of the detail, a grouping set per dimension."""
    sets = ", ".join(f"({_ROLLUP_KEYS}, {d}, issue)" for d in ROLLUP_DIMENSIONS)
    dimension = " ".join(f"WHEN GROUPING({d}) = 0 THEN '{d}'" for d in ROLLUP_DIMENSIONS)
    return f"""
        SELECT periode, region, departement, format::{rollup_type("format")} AS format,
               porteur::{rollup_type("porteur")} AS porteur, (CASE {dimension} END)::{rollup_type("dimension")} AS dimension,
               coalesce({", ".join(ROLLUP_DIMENSIONS)})::{rollup_type("code")} AS code,
               issue::{rollup_type("issue")} AS issue, sum(nb_demandes)::BIGINT AS nb_demandes
        FROM ({_ROLLUP_SOURCE.format(where=where)})
        GROUP BY GROUPING SETS ({sets})
        ORDER BY {ROLLUP_ORDER}  -- in the ENUMs' order, as the table compares them"""


def _national_select(where: str = "TRUE") -> str:
    return f"""
        SELECT periode, format, porteur, dimension, code, issue, sum(nb_demandes)::BIGINT AS nb_demandes
        FROM {REQUESTS_ROLLUP} r WHERE {where} GROUP BY ALL ORDER BY {NATIONAL_ROLLUP_ORDER}"""


def _partner_select(where: str = "TRUE") -> str:
    return f"""
        SELECT periode, region, departement, format, porteur, code AS partenaire, sum(nb_demandes)::BIGINT
        FROM {REQUESTS_ROLLUP} r WHERE dimension = 'partenaire' AND {where}
        GROUP BY ALL ORDER BY {PARTNER_ROLLUP_ORDER}"""


_SITE_PERIOD = {"site_id": pl.String, "periode": pl.Date}
#: An incremental refresh appends its rows at the end of the departmental rollup, out of ``ROLLUP_ORDER``
#: (a new quarter lands after every département's history); once appended rows make this share of
#: the rollup, both rollups are rewritten in order, so that zone maps keep pruning (a département of
#: an unsorted ten-year rollup costs three times the CPU of a sorted one).
RESORT_SHARE = 0.2
_APPENDED = "agg_demandes_lignes_hors_ordre"


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def _resort_rollups(con: duckdb.DuckDBPyConnection) -> None:
    for table, order in (
        (REQUESTS_ROLLUP, ROLLUP_ORDER),
        (NATIONAL_REQUESTS_ROLLUP, NATIONAL_ROLLUP_ORDER),
        (PARTNER_ROLLUP, PARTNER_ROLLUP_ORDER),
    ):
        con.sql(f"CREATE OR REPLACE TEMP TABLE _sorted AS SELECT * FROM {table} ORDER BY {order}")
        con.sql(f"DELETE FROM {table}")
        con.sql(f"INSERT INTO {table} SELECT * FROM _sorted")
        con.sql("DROP TABLE _sorted")
    set_meta(con, _APPENDED, "0")


def refresh_requests_rollup(
    con: duckdb.DuckDBPyConnection, changed: pl.DataFrame | None = None, departements: Iterable[str] = ()
) -> None:
    """Recompute the requests rollups where their rows may have changed (everything if ``changed`` is None).

    ``changed``: the (``site_id``, ``periode``) whose detail was written; ``departements``: those whose
    sites changed département, format or carrier (every quarter of them is recomputed, in the old
    département and in the new). The national and partner rollups are recomputed from the departmental
    one for the quarters (and départements) touched. Rows are inserted in the order the pages filter on (``ROLLUP_ORDER``), and the
    rollups rewritten in that order when too many rows were appended out of it (``RESORT_SHARE``).
    """
    if changed is None:
        con.sql(f"DELETE FROM {REQUESTS_ROLLUP}")
        con.sql(f"INSERT INTO {REQUESTS_ROLLUP} {_rollup_select()}")
        for table, select in ((NATIONAL_REQUESTS_ROLLUP, _national_select()), (PARTNER_ROLLUP, _partner_select())):
            con.sql(f"DELETE FROM {table}")
            con.sql(f"INSERT INTO {table} {select}")
        set_meta(con, _APPENDED, "0")
        return
    departements = sorted(set(departements))
    if changed.is_empty() and not departements:
        return
    con.register("_changed_groups", changed.select("site_id", "periode"))
    con.register("_moved", pl.DataFrame({"departement": departements}, schema={"departement": pl.String}))
    con.sql(f"""CREATE OR REPLACE TEMP TABLE _affected AS
                SELECT g.periode, s.departement FROM _changed_groups g JOIN sites s ON s.site_id = g.site_id
                UNION SELECT r.periode, r.departement FROM {REQUESTS_ROLLUP} r SEMI JOIN _moved m
                      ON r.departement = m.departement
                UNION SELECT d.periode, s.departement FROM demandes_detail d JOIN sites s ON s.site_id = d.site_id
                      SEMI JOIN _moved m ON s.departement = m.departement WHERE d.is_current""")
    con.unregister("_changed_groups")
    con.unregister("_moved")
    # the IN is implied by the EXISTS, but DuckDB prunes the row groups of other quarters with it only:
    # a new quarter's rollup on a ten-year warehouse no longer scans ten years of detail (0,33 → 0,13 s)
    affected = """{period} IN (SELECT periode FROM _affected)
                  AND EXISTS (SELECT 1 FROM _affected a WHERE a.periode = {period}
                              AND a.departement IS NOT DISTINCT FROM {departement})"""
    in_rollup = affected.format(period="r.periode", departement="r.departement")
    for table in (REQUESTS_ROLLUP, PARTNER_ROLLUP):
        con.sql(f"DELETE FROM {table} r WHERE {in_rollup}")
    kept = _count(con, REQUESTS_ROLLUP)
    in_detail = affected.format(period="d.periode", departement="s.departement")
    con.sql(f"INSERT INTO {REQUESTS_ROLLUP} {_rollup_select('AND ' + in_detail)}")
    con.sql(f"INSERT INTO {PARTNER_ROLLUP} {_partner_select(in_rollup)}")
    quarters = "periode IN (SELECT periode FROM _affected)"
    con.sql(f"DELETE FROM {NATIONAL_REQUESTS_ROLLUP} WHERE {quarters}")
    con.sql(f"INSERT INTO {NATIONAL_REQUESTS_ROLLUP} {_national_select(quarters)}")
    total = _count(con, REQUESTS_ROLLUP)
    appended = int(get_meta(con, _APPENDED) or 0) + total - kept
    if appended > RESORT_SHARE * total:
        _resort_rollups(con)
    else:
        set_meta(con, _APPENDED, str(appended))


# --- orchestration -------------------------------------------------------------------------


def _read_all(sources: list[tuple[str, Path | bytes]], catalogue: Catalogue) -> list[_PendingFile]:
    """Every file checked for what it holds (readable, known table, required columns) before the
    load writes anything; rows are read later, one file at a time (:meth:`_PendingFile.rows_of`)."""
    pending, errors = [], []
    for name, source in sources:
        item = _PendingFile(name, source, "", [], FileOutcome(name, "", "accepte"))
        try:
            item.sha256 = item.outcome.sha256 = item.digest()
            data = item.head()
            item.tables, item.whole = peek_tables(data, name, catalogue)
            item.outcome.notes = [note for raw in item.tables for note in raw.notes]
        except ReadError as exc:
            errors.append(str(exc))
            continue
        except IngestRefused as exc:
            errors += exc.messages
            continue
        finally:
            data = None
        pending.append(item)
    if errors:
        raise IngestRefused([*errors, "aucun fichier n'a été chargé."])
    return pending


@dataclass(frozen=True)
class SiteList:
    """An official list of structures: a full snapshot of the network at ``list_date``."""

    list_date: dt.date
    source: str = "liste_anct"
    #: Columns the list does not carry, kept from the registry when the list leaves them empty.
    keep_existing: tuple[str, ...] = ("porteur", "ancienne_msap", "heberge_etat")
    #: Columns the list carries but may leave empty: the known value is kept, and the report says
    #: how many were kept (an empty cell never erases what an earlier list taught).
    keep_reported: tuple[str, ...] = (
        "horaires",
        "heures_ouverture_hebdo",
        "jours_ouverture_hebdo",
        "la_poste",
        "adresse",
        "code_postal",
    )
    #: Filled by the load: column -> known values kept because the list left the cell empty.
    kept: dict[str, int] = field(default_factory=dict)


def ingest_blobs(
    con: duckdb.DuckDBPyConnection,
    blobs: list[tuple[str, bytes | Path]],
    *,
    nature: str = "reel",
    today: dt.date | None = None,
    catalogue: Catalogue | None = None,
    loaded_by: str | None = None,
    progress: Callable[[str], None] = lambda _message: None,
) -> IngestResult:
    """Load named files (their contents, or their paths) into the warehouse behind ``con`` (a
    writer connection); ``loaded_by`` (an e-mail, an OS user) is recorded on every batch written,
    ``progress`` is told each step in French."""
    catalogue = catalogue or load_catalogue()
    pending = _read_all(blobs, catalogue)
    progress(formats.plural(len(pending), "fichier contrôlé", "fichiers contrôlés"))
    return _load(con, pending, catalogue, today or dt.date.today(), nature, loaded_by=loaded_by, progress=progress)


def import_site_list(
    con: duckdb.DuckDBPyConnection,
    name: str,
    data: bytes,
    *,
    list_date: dt.date | None = None,
    nature: str = "reel",
    today: dt.date | None = None,
    catalogue: Catalogue | None = None,
    loaded_by: str | None = None,
) -> IngestResult:
    """Load the official list of France Services (ANCT format) as the new state of the registry.

    New structures are labelled, changed ones modified, and those the list no longer holds are
    closed at the list's date — all written to ``site_history``, nothing deleted. The list's
    date comes from its name (``liste-fs-AAAAMMJJ.csv``) unless given; an older list than the
    last one imported is refused (its closures would be wrong).
    """
    from fsdash.network.anct import read_anct_list, snapshot_date

    catalogue = catalogue or load_catalogue()
    today = today or dt.date.today()
    try:
        raw, warnings = read_anct_list(data, name, catalogue)
    except ReadError as exc:
        raise IngestRefused([str(exc), "aucun fichier n'a été chargé."]) from exc
    list_date = list_date or snapshot_date(name)
    if list_date is None:
        # dated today, it would close sites at the wrong date and block the properly dated list
        raise IngestRefused(
            [
                f"{name} : la date de la liste ne figure pas dans le nom du fichier (liste-fs-AAAAMMJJ.csv) ; "
                "précisez-la avec --date AAAA-MM-JJ (la date de publication de la liste).",
                "aucun fichier n'a été chargé.",
            ]
        )
    latest = con.sql("SELECT max(list_date) FROM site_lists").fetchall()[0][0]
    if latest is not None and list_date < latest:
        raise IngestRefused(
            [
                f"{name} : liste du {list_date:%d/%m/%Y}, plus ancienne que la dernière importée "
                f"({latest:%d/%m/%Y}) ; importez les listes dans l'ordre chronologique."
            ]
        )
    item = _PendingFile(name, data, hashlib.sha256(data).hexdigest(), [raw], FileOutcome(name, "", "accepte"))
    item.outcome.sha256 = item.sha256
    site_list = SiteList(list_date)
    result = _load(con, [item], catalogue, today, nature, site_list, loaded_by)
    result.warnings = warnings + _kept_warnings(name, site_list.kept)
    return result


def _let_go(con: duckdb.DuckDBPyConnection) -> None:
    """On a staging copy, commit what the load wrote so far: DuckDB holds every uncommitted row in
    memory whatever its limit, and the copy keeps the load all or nothing (:func:`_load`)."""
    if is_staging(con):
        con.commit()
        con.begin()


def _load(
    con: duckdb.DuckDBPyConnection,
    pending: list[_PendingFile],
    catalogue: Catalogue,
    today: dt.date,
    nature: str,
    site_list: SiteList | None = None,
    loaded_by: str | None = None,
    progress: Callable[[str], None] = lambda _message: None,
) -> IngestResult:
    """Validate and write the files all or nothing (see the module docstring), one file's rows
    at a time, telling ``progress`` each step (rows read, validated, written) in French.

    On a plain connection the load is one transaction. On a writer's staging copy
    (:func:`fsdash.warehouse.store.is_staging`) it commits what each file wrote before reading the next, and
    each file's record (its bytes) once written (:func:`_let_go`): the copy keeps the load all or
    nothing, and the memory DuckDB holds for uncommitted rows stays that of one file (of one part
    of a report file: :func:`_load_report`)."""
    con.begin()
    try:
        _check_nature(con, nature)
        for item in pending:
            if _fully_loaded(con, item.sha256):
                item.outcome.status = "deja_charge"
            else:
                item.outcome.batch_id = con.sql("SELECT nextval('batch_seq')").fetchall()[0][0]
        todo = [(item, raw) for item in pending if item.outcome.status != "deja_charge" for raw in item.tables]
        changed_detail, regrouped = [], set()
        loaded: dict[str, list[pl.DataFrame]] = {}  # keys declared so far in this load, by table
        for table_code in _table_order(catalogue):
            for item, peeked in (pair for pair in todo if pair[1].table.code == table_code):
                _let_go(con)  # what the earlier files wrote, before this one is read
                raw = item.rows_of(peeked, catalogue)
                progress(f"{raw.where} : {formats.plural(raw.frame.height, 'ligne lue', 'lignes lues')}")
                batch_id = item.outcome.batch_id
                if raw.table.is_report:
                    context = _context(con, catalogue, today, loaded, table_code)
                    outcome, written = _load_report(
                        con,
                        raw,
                        catalogue,
                        context,
                        batch_id,
                        progress,
                        loaded.setdefault(table_code, []),
                    )
                    if table_code == "demandes_detail":
                        changed_detail.append(written)
                    progress(f"{raw.where} : {_written_text(raw.table, outcome.revisions_created)}")
                    item.outcome.tables.append(outcome)
                    del raw
                    continue
                result = validate(raw, catalogue, _context(con, catalogue, today, loaded, table_code))
                loaded.setdefault(table_code, []).append(loaded_keys(result.valid, raw.table, raw.where))
                progress(_validated_text(raw.where, result.valid.height, result.rejected.height))
                if site_list is not None:
                    revisions, departements = write_sites(
                        con,
                        raw.table,
                        result.valid,
                        batch_id,
                        source=site_list.source,
                        keep_existing=site_list.keep_existing,
                        keep_reported=site_list.keep_reported,
                        kept=site_list.kept,
                    )
                    closed = close_missing(
                        con,
                        raw.frame["site_id"].drop_nulls().to_list(),
                        site_list.list_date,
                        site_list.source,
                        batch_id,
                    )
                    _record_site_list(con, item, site_list, raw.frame.height, revisions, closed)
                    revisions += closed
                    regrouped |= departements
                elif table_code == "sites":
                    revisions, departements = write_sites(con, raw.table, result.valid, batch_id)
                    regrouped |= departements
                else:
                    revisions = write_reference(con, raw.table, result.valid, batch_id)
                # rejected rows go to quarantine now, so that the file's rows can be let go
                _write_quarantine(con, result, batch_id)
                progress(f"{raw.where} : {_written_text(raw.table, revisions)}")
                item.outcome.tables.append(
                    TableOutcome(
                        raw.table,
                        raw.where,
                        raw.frame.height,
                        result.valid.height,
                        result.rejected.height,
                        revisions,
                        _first_failures(result.failures),
                        result.failures.height,
                        raw.ignored_columns,
                    )
                )
                del raw, result
        if changed_detail or regrouped:
            written = pl.concat(changed_detail) if changed_detail else pl.DataFrame(schema=_SITE_PERIOD)
            refresh_requests_rollup(con, written, regrouped)
            progress("agrégats des demandes mis à jour")
        for item in pending:
            if item.outcome.batch_id is None:
                continue
            if item.outcome.tables and not any(t.rows_read for t in item.outcome.tables):
                # an empty file, an untouched template: nothing to record, said in the report
                item.outcome.status = "vide"
                item.outcome.batch_id = None
                continue
            if _same_as_before(con, item.outcome):
                # nothing new: its rejections are those already kept for the earlier load
                con.sql("DELETE FROM quarantine WHERE batch_id = ?", params=[item.outcome.batch_id])
                item.outcome.status = "deja_charge"
                continue
            _record_batch(con, item, loaded_by)
            _let_go(con)  # the file's bytes (a ten-year CSV backfill holds 1,8 Go of them)
            progress(f"{item.outcome.file_name} : fichier conservé dans l'entrepôt")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return IngestResult([p.outcome for p in pending])


#: Rows of a report file validated and written at once. A file is cut into parts by site (every
#: rule of a report — its key, a site-quarter's total, a site-quarter rejected whole — stays within
#: one site), so that a load's memory does not grow with the file: validating a row costs ten
#: times its size while it lasts. Since parts are no longer written one by one (below), a smaller
#: part costs nothing measurable and a quarter rejected whole peaks at 780-860 Mo instead of 950-980.
REPORT_PART_ROWS = 100_000
#: Rows of a report file found clean by the native checks, gathered before Pandera checks them in one
#: call (:func:`fsdash.validation.confirm`). Each call costs about 15 ms before the first row, and
#: per part it was a fifth of a ten-year backfill; but Pandera holds about 2,5 times the rows it
#: checks (a national quarter's detail at once: +190 Mo), so three parts at a time.
REPORT_CONFIRM_ROWS = 300_000
#: Valid rows of a report file gathered before they are written (a national quarter is one write).
#: Written part by part, each insert left a partial row group that DuckDB rewrote at the next
#: checkpoint: four parts of a quarter cost twice one insert of the whole. Valid rows take their
#: size only, not the ten times of validation.
REPORT_WRITE_ROWS = 1_000_000


def _height(frames: list[pl.DataFrame]) -> int:
    return sum(frame.height for frame in frames)


def _site_parts(raw: RawTable) -> list[pl.Expr]:
    """The filters cutting ``raw`` into parts of about :data:`REPORT_PART_ROWS` rows, by site."""
    parts = -(-raw.frame.height // REPORT_PART_ROWS)
    if parts <= 1:
        return [pl.lit(True)]
    part = pl.col("site_id").hash(seed=0) % parts
    return [part == k for k in range(parts)]


def _validated_text(where: str, valid: int, rejected: int) -> str:
    return f"{where} : {formats.plural(valid, 'ligne valide', 'lignes valides')}, {formats.plural(rejected, 'rejetée')}"


def _load_report(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    catalogue: Catalogue,
    context: ValidationContext,
    batch_id: int,
    progress: Callable[[str], None],
    keys: list[pl.DataFrame] | None = None,
) -> tuple[TableOutcome, pl.DataFrame]:
    """Check a report table part by part (:func:`_site_parts`), ask Pandera by
    :data:`REPORT_CONFIRM_ROWS` (:func:`fsdash.validation.confirm`) and write its valid rows by
    :data:`REPORT_WRITE_ROWS`: its outcome (the same as of one whole validation: the first failures
    in line order, and their count) and the site-periods written; the site-periods accepted are
    appended to ``keys`` (for the next files of the load). On a staging copy each part's rejections
    are committed once written: a quarter rejected whole inserts two quarantine rows per line, which
    DuckDB would otherwise hold in memory to the end of the file."""
    valid = rejected = failure_count = 0
    failures, written, checked, to_write = [], [], [], []

    def record(result: ValidatedTable) -> None:
        """Rejections are final once found (by the native checks or by Pandera): quarantined, counted."""
        nonlocal rejected, failure_count
        _write_quarantine(con, result, batch_id)
        failures.append(_first_failures(result.failures))  # each part's first are among the file's first
        failure_count += result.failures.height
        rejected += result.rejected.height

    def confirm_checked() -> None:
        """Pandera's word on the parts checked so far (one call): what it accepts is valid."""
        nonlocal valid
        confirmed = confirm(raw, checked, catalogue)
        checked.clear()
        record(confirmed)  # none, unless the native checks missed a failure
        if keys is not None:
            keys.append(loaded_keys(confirmed.valid, raw.table, raw.where))
        to_write.append(confirmed.valid)
        valid += confirmed.valid.height

    def write() -> None:
        written.append(_write_report(con, raw.table, pl.concat(to_write), batch_id))
        to_write.clear()
        _let_go(con)

    for keep in _site_parts(raw):
        part = raw if raw.frame.height <= REPORT_PART_ROWS else replace(raw, frame=raw.frame.filter(keep))
        result = check(part, catalogue, context)
        checked.append(result.valid)
        record(result)
        _let_go(con)  # a part's rejections, before the next part is validated
        del part, result
        if _height(checked) >= REPORT_CONFIRM_ROWS:
            confirm_checked()
        if _height(to_write) >= REPORT_WRITE_ROWS:
            write()
    if checked:
        confirm_checked()
    if to_write:  # every part adds its valid rows, none at all included
        write()
    revisions = sum(frame.height for frame in written)
    progress(_validated_text(raw.where, valid, rejected))
    outcome = TableOutcome(
        raw.table,
        raw.where,
        raw.frame.height,
        valid,
        rejected,
        revisions,
        pl.concat(failures).sort(LINE_COLUMN, nulls_last=True, maintain_order=True).head(KEPT_FAILURES),
        failure_count,
        raw.ignored_columns,
    )
    return outcome, pl.concat(written)


_KEPT_LABELS = {
    "horaires": "horaires",
    "heures_ouverture_hebdo": "heures d'ouverture par semaine",
    "jours_ouverture_hebdo": "jours d'ouverture",
    "la_poste": "tenue par La Poste",
    "adresse": "adresse",
    "code_postal": "code postal",
}


def _kept_warnings(name: str, kept: dict[str, int]) -> list[str]:
    """One French sentence saying which known values an official list left empty and were kept."""
    if not kept:
        return []
    parts = ", ".join(f"{_KEPT_LABELS.get(c, c)} ({formats.plural(n, 'site')})" for c, n in kept.items())
    return [f"{name} : cellules vides dans la liste, valeurs connues d'une liste précédente conservées : {parts}"]


def _record_site_list(
    con: duckdb.DuckDBPyConnection, item: _PendingFile, site_list: SiteList, listed: int, written: int, closed: int
) -> None:
    new = con.sql(
        "SELECT count(*) FROM site_history WHERE batch_id = ? AND event = 'labellisation'",
        params=[item.outcome.batch_id],
    ).fetchall()[0][0]
    con.sql(
        "INSERT INTO site_lists VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp)",
        params=[site_list.list_date, item.outcome.batch_id, item.name, item.sha256, listed, new, closed],
    )


def _record_batch(con: duckdb.DuckDBPyConnection, item: _PendingFile, loaded_by: str | None = None) -> None:
    out = item.outcome
    read = sum(t.rows_read for t in out.tables)
    accepted = sum(t.rows_accepted for t in out.tables)
    out.status = "accepte" if accepted == read else ("partiel" if accepted else "rejete")
    con.sql(
        """INSERT INTO batches VALUES (?, ?, ?, current_timestamp, ?, ?, ?, ?, ?, ?, ?)""",
        params=[
            out.batch_id,
            out.file_name,
            out.sha256,
            out.status,
            ", ".join(t.table.code for t in out.tables),
            read,
            accepted,
            read - accepted,
            sum(t.revisions_created for t in out.tables),
            loaded_by,
        ],
    )
    with item.kept_bytes() as data:
        raw_files.keep(con, out.sha256, out.file_name, data)


def ingest_paths(con: duckdb.DuckDBPyConnection, paths: list[Path], **kwargs) -> IngestResult:
    """:func:`ingest_blobs` of files on disk, each read when the load comes to it (a ten-year
    backfill never holds more than one file's bytes and rows)."""
    return ingest_blobs(con, [(path.name, path) for path in paths], **kwargs)


def _written_text(table: Table, revisions: int) -> str:
    """What a table's load wrote, in French: revisions of a report, sites, or reference rows."""
    if table.is_report:
        return formats.plural(revisions, "révision créée", "révisions créées")
    if table.code == "sites":
        return formats.plural(revisions, "site créé, modifié ou fermé", "sites créés, modifiés ou fermés")
    return formats.plural(revisions, "ligne créée ou modifiée", "lignes créées ou modifiées")


def report_lines(result: IngestResult, max_messages: int = 50) -> list[str]:
    """The French summary printed by the command line."""
    lines = []
    for f in result.files:
        lines.append(f"{f.file_name} : {STATUS_LABELS[f.status]}" + (f" (lot {f.batch_id})" if f.batch_id else ""))
        lines += ["  note : " + note for note in f.notes]
        for t in f.tables:
            written = _written_text(t.table, t.revisions_created)
            lines.append(
                f"  table {t.table.code} : {formats.plural(t.rows_read, 'ligne lue', 'lignes lues')}, "
                f"{formats.plural(t.rows_accepted, 'acceptée')}, {formats.plural(t.rows_rejected, 'rejetée')}, {written}"
            )
            if t.ignored_columns:
                lines.append("  colonnes ignorées (hors catalogue) : " + ", ".join(t.ignored_columns))
            shown = t.messages(max_messages)
            lines += ["  - " + m for m in shown]
            if t.failure_count > len(shown):
                more = formats.plural(t.failure_count - len(shown), "autre erreur", "autres erreurs")
                lines.append(f"  … et {more} (table quarantine de l'entrepôt)")
    return lines
