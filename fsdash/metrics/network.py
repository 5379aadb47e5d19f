"""The network itself: how many sites are labelled, at which dates (annex 2 targets)."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash.metrics.scope import NATIONAL, Scope

OPEN_AT = "s.date_labellisation <= {d} AND (s.date_fermeture IS NULL OR s.date_fermeture > {d})"


def sites_total(con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL) -> int:
    where, params = scope.sites_filter()
    return con.sql(f"SELECT count(*) FROM sites s WHERE {where}", params=params).fetchall()[0][0]


def sites_labelled_at(con: duckdb.DuckDBPyConnection, dates: list[dt.date],
                      scope: Scope = NATIONAL) -> pl.DataFrame:
    """Sites labelled and not closed at each date: columns ``date``, ``sites``."""
    where, params = scope.sites_filter()
    frame = pl.DataFrame({"date": dates}, schema={"date": pl.Date})
    con.register("_dates", frame)
    try:
        return con.sql(f"""
            SELECT d.date, count(s.site_id) AS sites
            FROM _dates d LEFT JOIN sites s ON {OPEN_AT.format(d='d.date')} AND {where}
            GROUP BY d.date ORDER BY d.date""", params=params).pl()
    finally:
        con.unregister("_dates")


def trajectory_dates(today: dt.date) -> list[dt.date]:
    """1 January 2020 (the 300-site target) and every 31 December since, up to today."""
    return [dt.date(2020, 1, 1)] + [dt.date(y, 12, 31) for y in range(2020, today.year) if dt.date(y, 12, 31) <= today]


def labelled_by_month(con: duckdb.DuckDBPyConnection, first: dt.date, last: dt.date,
                      scope: Scope = NATIONAL) -> pl.DataFrame:
    """Open sites on the first day of each month from ``first`` to ``last``: the trajectory."""
    months = pl.date_range(first.replace(day=1), last, interval="1mo", eager=True).to_list()
    return sites_labelled_at(con, months, scope)
