"""The network itself: how many sites are labelled, at which dates (annex 2 targets)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash.cache import cached
from fsdash.metrics.scope import NATIONAL, Scope

OPEN_AT = "s.date_labellisation <= {d} AND (s.date_fermeture IS NULL OR s.date_fermeture > {d})"


@cached(maxsize=64)
def sites_total(con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL) -> int:
    where, params = scope.sites_filter()
    return con.sql(f"SELECT count(*) FROM sites s WHERE {where}", params=params).fetchall()[0][0]


@cached(maxsize=128)
def sites_labelled_at(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, dates: tuple[dt.date, ...] = ()
) -> pl.DataFrame:
    """Sites labelled and not closed at each date: columns ``date``, ``sites``."""
    where, params = scope.sites_filter()
    frame = pl.DataFrame({"date": list(dates)}, schema={"date": pl.Date})
    con.register("_dates", frame)
    try:
        return con.sql(
            f"""
            SELECT d.date, count(s.site_id) AS sites
            FROM _dates d LEFT JOIN sites s ON {OPEN_AT.format(d="d.date")} AND {where}
            GROUP BY d.date ORDER BY d.date""",
            params=params,
        ).pl()
    finally:
        con.unregister("_dates")


def trajectory_dates(today: dt.date) -> list[dt.date]:
    """1 January 2020 (the 300-site target) and every 31 December since, up to today."""
    return [dt.date(2020, 1, 1)] + [dt.date(y, 12, 31) for y in range(2020, today.year) if dt.date(y, 12, 31) <= today]


@cached(maxsize=64)
def labelled_by_month(con: duckdb.DuckDBPyConnection, scope: Scope, first: dt.date, last: dt.date) -> pl.DataFrame:
    """Open sites on the first day of each month from ``first`` to ``last``: the trajectory."""
    months = pl.date_range(first.replace(day=1), last, interval="1mo", eager=True).to_list()
    return sites_labelled_at(con, scope, tuple(months))


#: Site attributes the trajectory can be split by.
BREAKDOWNS = {"format": "s.format", "type_site": "s.type_site", "porteur": "coalesce(s.porteur, 'NON_RENSEIGNE')"}


@cached(maxsize=64)
def labelled_by_month_by(
    con: duckdb.DuckDBPyConnection, scope: Scope, first: dt.date, last: dt.date, by: str
) -> pl.DataFrame:
    """Open sites on the first day of each month, split by format, type or carrier.

    Columns ``date``, ``groupe``, ``sites`` (zero rows omitted).
    """
    column = BREAKDOWNS[by]
    where, params = scope.sites_filter()
    months = pl.DataFrame({"date": pl.date_range(first.replace(day=1), last, interval="1mo", eager=True)})
    con.register("_months", months)
    try:
        return con.sql(
            f"""
            SELECT m.date, {column} AS groupe, count(*) AS sites
            FROM _months m JOIN sites s ON {OPEN_AT.format(d="m.date")} AND {where}
            GROUP BY ALL ORDER BY m.date, groupe""",
            params=params,
        ).pl()
    finally:
        con.unregister("_months")


@cached(maxsize=64)
def msap_conversion(con: duckdb.DuckDBPyConnection, scope: Scope, deadline: dt.date) -> pl.DataFrame:
    """Former MSAP labelled France Services by the homologation deadline, and after it.

    One row: ``msap_total`` (sites flagged as former MSAP), ``avant_echeance``, ``apres_echeance``,
    ``non_renseigne`` (sites whose source does not say whether they were an MSAP).
    """
    where, params = scope.sites_filter()
    return con.sql(
        f"""
        SELECT count(*) FILTER (WHERE s.ancienne_msap) AS msap_total,
               count(*) FILTER (WHERE s.ancienne_msap AND s.date_labellisation <= ?) AS avant_echeance,
               count(*) FILTER (WHERE s.ancienne_msap AND s.date_labellisation > ?) AS apres_echeance,
               count(*) FILTER (WHERE s.ancienne_msap IS NULL) AS non_renseigne
        FROM sites s WHERE {where}""",
        params=[deadline, deadline, *params],
    ).pl()
