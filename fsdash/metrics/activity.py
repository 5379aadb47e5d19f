"""Attendance and requests from the quarterly feed (charter 3.1)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash.cache import cached
from fsdash.metrics.attendance import headline_by_quarter
from fsdash.metrics.reasons import request_rows
from fsdash.metrics.scope import NATIONAL, Scope


@cached(maxsize=8)
def quarters(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, ...]:
    """Quarters present in the activity feed, oldest first."""
    rows = con.sql("SELECT DISTINCT periode FROM activite WHERE is_current ORDER BY periode").fetchall()
    return tuple(r[0] for r in rows)


@cached(maxsize=128)
def activity_by_quarter(con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL) -> pl.DataFrame:
    """Per quarter: ``usagers``, ``demandes`` and the number of reporting sites (the headline
    columns of :func:`fsdash.metrics.attendance.attendance_by_quarter`, over every quarter)."""
    return headline_by_quarter(con, scope)


@cached(maxsize=16)
def requests_by_year(con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL) -> pl.DataFrame:
    """Requests declared per calendar year: ``annee``, ``demandes``, ``trimestres``."""
    return (
        activity_by_quarter(con, scope)
        .group_by(pl.col("periode").dt.year().alias("annee"))
        .agg(pl.col("demandes").sum(), pl.len().alias("trimestres"))
        .sort("annee")
    )


def requests_by_partner(con: duckdb.DuckDBPyConnection, year: int, scope: Scope = NATIONAL) -> pl.DataFrame:
    """Requests of one year by partner, with their share: ``partenaire``, ``nb_demandes``, ``part``.

    Read like the Motifs pages (:func:`fsdash.metrics.reasons.request_rows`): a requests rollup for any
    territory and filter, the detail for a single site."""
    rows, params = request_rows(scope, dt.date(year, 1, 1), dt.date(year, 12, 31), ("partenaire",))
    frame = con.sql(
        f"SELECT code AS partenaire, sum(n)::BIGINT AS nb_demandes FROM ({rows}) GROUP BY ALL", params=params
    ).pl()
    frame = frame.with_columns(pl.col("partenaire").cast(pl.String))  # an ENUM in the rollups
    return frame.with_columns((pl.col("nb_demandes") / pl.col("nb_demandes").sum()).alias("part")).sort(
        "nb_demandes", descending=True
    )


@cached(maxsize=128)
def reporting_completeness(con: duckdb.DuckDBPyConnection, scope: Scope, period: dt.date) -> pl.DataFrame:
    """Sites expected to report a quarter (open at some point in it) vs sites that did.

    One row: ``attendus``, ``declarants``, ``taux``.
    """
    where, params = scope.sites_filter()
    end = "(CAST(? AS DATE) + INTERVAL 3 MONTH - INTERVAL 1 DAY)"
    return con.sql(
        f"""
        WITH expected AS (
            SELECT s.site_id FROM sites s
            WHERE s.date_labellisation <= {end} AND (s.date_fermeture IS NULL OR s.date_fermeture > ?)
              AND {where})
        SELECT count(*) AS attendus,
               count(a.site_id) AS declarants,
               count(a.site_id) / nullif(count(*), 0) AS taux
        FROM expected e LEFT JOIN activite a
          ON a.site_id = e.site_id AND a.periode = ? AND a.is_current""",
        params=[period, period, *params, period],
    ).pl()


@cached(maxsize=128)
def quarter_headline(con: duckdb.DuckDBPyConnection, scope: Scope, quarter: dt.date) -> dict:
    """The home page's activity figures for one quarter: requests, users, and the change in
    requests against the same quarter a year before (None when either is missing)."""
    frame = activity_by_quarter(con, scope)
    current = frame.filter(pl.col("periode") == quarter)
    before = frame.filter(pl.col("periode") == quarter.replace(year=quarter.year - 1))
    requests = current["demandes"][0] if current.height else None
    previous = before["demandes"][0] if before.height else None
    return {
        "demandes": requests,
        "usagers": current["usagers"][0] if current.height else None,
        "demandes_an_passe": previous,
        "evolution": (requests / previous - 1) if requests and previous else None,
    }
