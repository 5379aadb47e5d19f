"""Warehouse schema, derived from the catalogue and migrated forward by code.

Structural tables (batches, raw files, quarantine, revisions, rollups) are created by
numbered migrations. Catalogue tables are created from ``schemas/catalogue.yaml``; an
indicator added to the catalogue later becomes an ``ALTER TABLE ... ADD COLUMN`` recorded in
``schema_migrations``, so an old warehouse opens with a newer catalogue without a rebuild.
"""

from __future__ import annotations

import duckdb
import polars as pl

from fsdash.catalogue import Catalogue, Table
from fsdash.metrics.scope import UNKNOWN_CARRIER
from fsdash.warehouse import raw_files

SCHEMA_VERSION = 7

#: Columns every report table carries besides the catalogue's: traceability to the file.
REVISION_COLUMNS = (
    "periode DATE NOT NULL, revision INTEGER NOT NULL, batch_id BIGINT NOT NULL, is_current BOOLEAN NOT NULL"
)

#: The requests rollups kept at ingest (:func:`fsdash.warehouse.ingest.refresh_requests_rollup`), shaped like the
#: Motifs pages rather than like the detail: no page crosses partner, situation and channel, so each
#: of them is kept on its own (``dimension``, ``code``), crossed with the outcome, by quarter, site
#: format and carrier (unknown: ``fsdash.metrics.scope.UNKNOWN_CARRIER``). Every territory and every
#: format/carrier filter reads one of them; only a single site reads ``demandes_detail``.
REQUESTS_ROLLUP = "agg_demandes_departement"
#: The same without région and département: France entière reads a table thirty times smaller.
NATIONAL_REQUESTS_ROLLUP = "agg_demandes_national"
#: Each département's requests by partner, without the outcome: the départements × partners view of
#: France entière reads a third of the departmental rollup's partner rows.
PARTNER_ROLLUP = "agg_demandes_departement_partenaire"
ROLLUP_DIMENSIONS = ("partenaire", "situation", "canal")
#: Physical order of the rollups' rows, so that DuckDB's zone maps skip the row groups a filter on
#: dimension, région or département excludes (``EXPLAIN ANALYZE``: a région reads 6 row groups of 28).
ROLLUP_ORDER = "dimension, region, departement, periode"
NATIONAL_ROLLUP_ORDER = "dimension, periode"
PARTNER_ROLLUP_ORDER = "region, departement, periode"

#: How a file's load ended (``batches.status``), in French: one list for the loads, their report and
#: the dashboard's table of loads. « vide » is never recorded (nothing is written for an empty file).
STATUS_LABELS = {
    "accepte": "chargé",
    "partiel": "chargé en partie",
    "rejete": "entièrement rejeté",
    "deja_charge": "déjà chargé, rien à faire",
    "vide": "aucune ligne de données (modèle non rempli ?) : rien n'a été chargé",
}

_BASE = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER, description VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp);
CREATE SEQUENCE IF NOT EXISTS batch_seq START 1;
CREATE TABLE IF NOT EXISTS batches (
    batch_id BIGINT PRIMARY KEY, file_name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL, status VARCHAR NOT NULL, tables VARCHAR,
    rows_read BIGINT, rows_accepted BIGINT, rows_rejected BIGINT, revisions_created BIGINT);
CREATE TABLE IF NOT EXISTS raw_files (
    sha256 VARCHAR PRIMARY KEY, file_name VARCHAR, size_bytes BIGINT, content BLOB);
CREATE TABLE IF NOT EXISTS quarantine (
    batch_id BIGINT, table_code VARCHAR, line BIGINT, column_name VARCHAR, value VARCHAR,
    rule VARCHAR, message VARCHAR, row_json VARCHAR);
CREATE TABLE IF NOT EXISTS revisions (
    table_code VARCHAR, site_id VARCHAR, periode DATE, revision INTEGER, batch_id BIGINT,
    loaded_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS site_history (
    site_id VARCHAR, event VARCHAR, event_date DATE, batch_id BIGINT, details VARCHAR);
CREATE TABLE IF NOT EXISTS {REQUESTS_ROLLUP} (
    periode DATE, region VARCHAR, departement VARCHAR, partenaire VARCHAR, situation VARCHAR,
    canal VARCHAR, issue VARCHAR, nb_demandes BIGINT);
"""


def _column_ddl(table: Table) -> list[str]:
    return [f"{c.code} {c.sql_type}" for c in table.columns]


def table_ddl(table: Table) -> str:
    if table.is_report:
        cols = [
            "site_id VARCHAR NOT NULL",
            *[d for d in _column_ddl(table) if not d.startswith("site_id ")],
            REVISION_COLUMNS,
        ]
    else:
        extra = ["region VARCHAR"] if table.code == "sites" else []
        cols = [*_column_ddl(table), *extra, "batch_id BIGINT", "updated_at TIMESTAMP"]
    return f"CREATE TABLE IF NOT EXISTS {table.code} ({', '.join(cols)})"


def _existing_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.sql("SELECT column_name FROM information_schema.columns WHERE table_name = ?", params=[table]).fetchall()
    return {r[0] for r in rows}


def _record(con: duckdb.DuckDBPyConnection, version: int, description: str) -> None:
    con.sql("INSERT INTO schema_migrations (version, description) VALUES (?, ?)", params=[version, description])


def _v1_initial(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    for statement in filter(str.strip, _BASE.split(";")):
        con.sql(statement)
    for table in catalogue.tables.values():
        con.sql(table_ddl(table))


def _v2_site_lists(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Where each site comes from, and the official lists imported (to close sites they drop)."""
    con.sql("ALTER TABLE sites ADD COLUMN IF NOT EXISTS source VARCHAR")
    con.sql("""CREATE TABLE IF NOT EXISTS site_lists (
                   list_date DATE, batch_id BIGINT, file_name VARCHAR, sha256 VARCHAR, sites BIGINT,
                   new_sites BIGINT, closed_sites BIGINT, loaded_at TIMESTAMP)""")


def _v3_official_series(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Official series (DITP, Etalab) kept apart from the sites' feed, with the files they came from.

    One value a row (``value_kind``: initiale, realisee, cible, taux_avancement); ``date`` as
    published, ``reference_date`` in the national convention (departmental label stocks are dated
    one month earlier by Etalab); revised values stay, no longer current.
    """
    con.sql("""CREATE TABLE IF NOT EXISTS official_series (
                   indicator VARCHAR NOT NULL, source VARCHAR NOT NULL, zone_level VARCHAR NOT NULL,
                   zone_code VARCHAR NOT NULL, date DATE NOT NULL, reference_date DATE NOT NULL,
                   value_kind VARCHAR NOT NULL, value DOUBLE NOT NULL, batch_id BIGINT NOT NULL, line BIGINT,
                   is_current BOOLEAN NOT NULL)""")
    con.sql("""CREATE TABLE IF NOT EXISTS official_files (
                   sha256 VARCHAR NOT NULL, file_name VARCHAR, source VARCHAR, file_date DATE, batch_id BIGINT,
                   loaded_at TIMESTAMP, status VARCHAR, rows_read BIGINT, rows_empty BIGINT, rows_loaded BIGINT,
                   rows_rejected BIGINT, values_written BIGINT)""")


def rollup_values(catalogue: Catalogue) -> dict[str, list[str]]:
    """The values of the rollups' key columns, from the catalogue.

    The columns are ENUMs of these values: DuckDB groups and filters a one-byte ENUM about three times
    faster than a string (national Motifs breakdown on ten years: 3.5 ms of CPU instead of 10).
    """
    dims = catalogue.dimensions
    return {
        "dimension": list(ROLLUP_DIMENSIONS),
        "code": list(dict.fromkeys(code for d in ROLLUP_DIMENSIONS for code in dims[d].codes)),
        "issue": dims["issue"].codes,
        "format": dims["format"].codes,
        "porteur": list(dict.fromkeys([*dims["porteur"].codes, UNKNOWN_CARRIER])),
    }


def rollup_type(column: str) -> str:
    """The ENUM type of a rollup key column (``format``, ``porteur``, ``dimension``, ``code``, ``issue``)."""
    return f"agg_{column}"


def _rollups_current(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> bool:
    """Whether every rollup exists and their ENUM types hold exactly the catalogue's values (a new code
    needs a rebuild)."""
    if not all(_existing_columns(con, table) for table in (REQUESTS_ROLLUP, NATIONAL_REQUESTS_ROLLUP, PARTNER_ROLLUP)):
        return False
    for column, values in rollup_values(catalogue).items():
        try:
            stored = con.sql(f"SELECT enum_range(NULL::{rollup_type(column)})").fetchall()[0][0]
        except duckdb.CatalogException:
            return False
        if list(stored) != values:
            return False
    return True


def rebuild_request_rollups(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """(Re)create the requests rollups and their ENUM types from the catalogue, then fill them from the detail."""
    from fsdash.warehouse.ingest import refresh_requests_rollup  # the one way the rollups are computed

    for table in (REQUESTS_ROLLUP, NATIONAL_REQUESTS_ROLLUP, PARTNER_ROLLUP):
        con.sql(f"DROP TABLE IF EXISTS {table}")
    for column, values in rollup_values(catalogue).items():
        con.sql(f"DROP TYPE IF EXISTS {rollup_type(column)}")
        con.register("_enum_values", pl.DataFrame({"value": values}, schema={"value": pl.String}))
        con.sql(f"CREATE TYPE {rollup_type(column)} AS ENUM (SELECT value FROM _enum_values)")
        con.unregister("_enum_values")
    keys = f"""format {rollup_type("format")}, porteur {rollup_type("porteur")} NOT NULL, dimension {rollup_type("dimension")} NOT NULL,
               code {rollup_type("code")} NOT NULL, issue {rollup_type("issue")} NOT NULL, nb_demandes BIGINT NOT NULL"""
    con.sql(f"CREATE TABLE {REQUESTS_ROLLUP} (periode DATE NOT NULL, region VARCHAR, departement VARCHAR, {keys})")
    con.sql(f"CREATE TABLE {NATIONAL_REQUESTS_ROLLUP} (periode DATE NOT NULL, {keys})")
    con.sql(f"""CREATE TABLE {PARTNER_ROLLUP} (
                   periode DATE NOT NULL, region VARCHAR, departement VARCHAR, format {rollup_type("format")},
                   porteur {rollup_type("porteur")} NOT NULL, partenaire {rollup_type("code")} NOT NULL,
                   nb_demandes BIGINT NOT NULL)""")
    refresh_requests_rollup(con)


def _v4_request_rollups(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Requests rollups with the sites' format and carrier, shaped like the pages (see ``REQUESTS_ROLLUP``).

    Without them the format and carrier filters of the filter bar read the 30 M-row detail; the national
    and the partner ones spare France entière a scan of every département. Rebuilt here from the detail.
    """
    rebuild_request_rollups(con, catalogue)


def _v5_loaded_by(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Who loaded each file: the signed-in e-mail for an upload, ``--par`` or the OS user on the command
    line (``local:<user>`` in local mode). Batches loaded before are left NULL (« non enregistré »)."""
    con.sql("ALTER TABLE batches ADD COLUMN IF NOT EXISTS loaded_by VARCHAR")


def _v6_raw_file_parts(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Each loaded file's bytes in parts (:mod:`fsdash.warehouse.raw_files`): kept whole, forty national
    quarters of CSV made a checkpoint fail under the writer's memory limit."""
    raw_files.move_legacy_content(con)


def _v7_raw_file_codec(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """The codec of a kept file's parts (:mod:`fsdash.warehouse.raw_files`): text files are kept
    compressed, a national CSV quarter costing a tenth of the bytes to write. Files kept before: NULL."""
    con.sql("ALTER TABLE raw_files ADD COLUMN IF NOT EXISTS codec VARCHAR")


#: Numbered structural migrations, applied in order to any warehouse older than them.
MIGRATIONS = [
    (1, "schéma initial", _v1_initial),
    (2, "provenance des sites et listes officielles importées", _v2_site_lists),
    (3, "séries officielles publiées (DITP, Etalab), à part du flux des sites", _v3_official_series),
    (
        4,
        "agrégats des demandes par format et porteur des sites, à la forme des pages (départemental et national)",
        _v4_request_rollups,
    ),
    (5, "auteur de chaque chargement", _v5_loaded_by),
    (6, "fichiers chargés conservés par morceaux", _v6_raw_file_parts),
    (7, "fichiers texte chargés conservés compressés (zstd)", _v7_raw_file_codec),
]


def migrate(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Bring a warehouse (new or old) to the current schema and catalogue."""
    con.sql("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    row = con.sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    current = int(row[0][0]) if row else 0
    for version, description, step in MIGRATIONS:
        if current < version:
            step(con, catalogue)
            _record(con, version, description)
    for table in catalogue.tables.values():
        existing = _existing_columns(con, table.code)
        if not existing:
            con.sql(table_ddl(table))
            _record(con, SCHEMA_VERSION, f"catalogue : ajout de la table {table.code}")
            continue
        for column in table.columns:
            if column.code not in existing:
                con.sql(f"ALTER TABLE {table.code} ADD COLUMN {column.code} {column.sql_type}")
                _record(con, SCHEMA_VERSION, f"catalogue : ajout de {table.code}.{column.code}")
    if not _rollups_current(con, catalogue):
        rebuild_request_rollups(con, catalogue)
        _record(con, SCHEMA_VERSION, "catalogue : valeurs des agrégats des demandes mises à jour")
    assert MIGRATIONS[-1][0] == SCHEMA_VERSION
    set_meta(con, "schema_version", str(SCHEMA_VERSION))
    set_meta(con, "catalogue_version", str(catalogue.version))


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.sql("INSERT OR REPLACE INTO meta VALUES (?, ?)", params=[key, value])


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.sql("SELECT value FROM meta WHERE key = ?", params=[key]).fetchall()
    return rows[0][0] if rows else None


def is_up_to_date(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> bool:
    """Whether a (read-only) warehouse already has the current schema and every catalogue column."""
    row = (
        con.sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        if _existing_columns(con, "meta")
        else []
    )
    if not row or int(row[0][0]) < MIGRATIONS[-1][0]:
        return False
    return _rollups_current(con, catalogue) and all(
        {c.code for c in table.columns} <= _existing_columns(con, table.code) for table in catalogue.tables.values()
    )
