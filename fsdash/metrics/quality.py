"""The loading history and the quarantine, for the programme team's quality checks."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash.metrics.scope import UNKNOWN_CARRIER


def batches(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every loaded file, newest first, with its counts and status."""
    return con.sql("""
        SELECT batch_id, file_name, sha256, loaded_at, status, tables, rows_read, rows_accepted,
               rows_rejected, revisions_created, loaded_by
        FROM batches ORDER BY batch_id DESC""").pl()


def quarantine(con: duckdb.DuckDBPyConnection, batch_id: int | None = None, limit: int = 1000) -> pl.DataFrame:
    """Rejected rows with their reasons (one row per problem), for one batch or all."""
    return con.sql(
        """
        SELECT q.batch_id, b.file_name, q.table_code, q.line, q.column_name, q.value, q.rule, q.message
        FROM quarantine q JOIN batches b USING (batch_id)
        WHERE ? IS NULL OR q.batch_id = ?
        ORDER BY q.batch_id DESC, q.line LIMIT ?""",
        params=[batch_id, batch_id, limit],
    ).pl()


def rejections_by_rule(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql("""
        SELECT rule, table_code, count(*) AS problemes, count(DISTINCT (batch_id, line)) AS lignes
        FROM quarantine GROUP BY ALL ORDER BY problemes DESC""").pl()


def registry_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The date the site registry speaks for: the latest official list imported, else the day the
    last file holding sites was loaded (None when no site was ever loaded)."""
    listed = con.sql("SELECT max(list_date) FROM site_lists").fetchall()[0][0]
    if listed is not None:
        return listed
    loaded = con.sql("SELECT max(loaded_at) FROM batches WHERE tables LIKE '%sites%'").fetchall()[0][0]
    return loaded.date() if loaded is not None else None


def load_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Files loaded, files with rejections, and rejected rows (lines) kept in quarantine."""
    batches, with_rejections = con.sql(
        "SELECT count(*), count(*) FILTER (WHERE status <> 'accepte') FROM batches"
    ).fetchall()[0]
    lines = con.sql("SELECT count(DISTINCT (batch_id, table_code, line)) FROM quarantine").fetchall()[0][0]
    return {"batches": batches, "with_rejections": with_rejections, "quarantined_rows": lines}


def last_batch_outcome(con: duckdb.DuckDBPyConnection, rule: str) -> tuple[int, int, list[str]]:
    """Of the last batch: its rows (lines) in quarantine for ``rule``, its detail rows written, and every
    rule its rows broke — what the ingest benchmark checks a wholly rejected quarter by."""
    batch = con.sql("SELECT max(batch_id) FROM batches").fetchall()[0][0]
    rows = con.sql(
        "SELECT count(DISTINCT line) FROM quarantine WHERE batch_id = ? AND rule = ?", params=[batch, rule]
    ).fetchall()[0][0]
    written = con.sql("SELECT count(*) FROM demandes_detail WHERE batch_id = ?", params=[batch]).fetchall()[0][0]
    rules = con.sql("SELECT DISTINCT rule FROM quarantine WHERE batch_id = ? ORDER BY 1", params=[batch]).fetchall()
    return rows, written, [r[0] for r in rules]


def site_lists(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The official lists imported, oldest first: ``list_date``, ``file_name``, ``sites``, ``new_sites``,
    ``closed_sites``."""
    return con.sql(
        "SELECT list_date, file_name, sites, new_sites, closed_sites FROM site_lists ORDER BY list_date"
    ).pl()


def contents(con: duckdb.DuckDBPyConnection) -> dict:
    """What the warehouse holds, in numbers: sites, current activity and detail rows, quarters."""
    activity, detail = (
        con.sql(f"SELECT count(*) FROM {table} WHERE is_current").fetchall()[0][0]
        for table in ("activite", "demandes_detail")
    )
    first, last, quarters = con.sql(
        "SELECT min(periode), max(periode), count(DISTINCT periode) FROM activite WHERE is_current"
    ).fetchall()[0]
    sites = con.sql("SELECT count(*) FROM sites").fetchall()[0][0]
    return {
        "sites": sites,
        "activite": activity,
        "demandes_detail": detail,
        "premier": first,
        "dernier": last,
        "trimestres": quarters,
    }


def busiest(con: duckdb.DuckDBPyConnection) -> dict:
    """The largest of everything, most first (ties by code): départements by sites, the site of the
    first one that reported most quarters, site formats and carriers by sites — the views a
    benchmark or a smoke test opens."""
    deps = [
        r[0]
        for r in con.sql(
            "SELECT departement FROM sites WHERE departement IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1"
        ).fetchall()
    ]
    site = None
    if deps:
        site = con.sql(
            """SELECT s.site_id FROM sites s
               LEFT JOIN activite a ON a.site_id = s.site_id AND a.is_current
               WHERE s.departement = ?
               GROUP BY s.site_id ORDER BY count(DISTINCT a.periode) DESC, s.site_id LIMIT 1""",
            params=[deps[0]],
        ).fetchall()[0][0]
    site_formats = [r[0] for r in con.sql("SELECT format FROM sites GROUP BY 1 ORDER BY count(*) DESC, 1").fetchall()]
    carriers = [
        r[0]
        for r in con.sql(
            "SELECT coalesce(porteur, ?) FROM sites GROUP BY 1 ORDER BY count(*) DESC, 1", params=[UNKNOWN_CARRIER]
        ).fetchall()
    ]
    return {"departements": deps, "site": site, "formats": site_formats, "porteurs": carriers}
