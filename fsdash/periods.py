"""Reporting periods: the charter asks for a report at least every quarter (engagement 3.1).

Periods are stored as the first day of the quarter (or of the year for the yearly survey),
so that DuckDB can compare and truncate them as dates.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

#: Bounds outside which a year cell cannot be a date; the catalogue's range check reports it.
MIN_YEAR, MAX_YEAR = 1900, 2999


def quarter_start(year: int, quarter: int) -> dt.date:
    return dt.date(year, 3 * (quarter - 1) + 1, 1)


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> dt.date:
    """Last day of the quarter."""
    nxt = quarter_start(year + (quarter == 4), quarter % 4 + 1)
    return nxt - dt.timedelta(days=1)


def last_complete_quarter(today: dt.date) -> tuple[int, int]:
    """The latest quarter whose last day is before ``today``: the newest one a site can report."""
    year, quarter = quarter_of(today)
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def shift_quarters(day: dt.date, quarters: int) -> dt.date:
    """The first day of the quarter ``quarters`` quarters after (or before) ``day``'s."""
    months = day.year * 12 + day.month - 1 + 3 * quarters
    return dt.date(months // 12, months % 12 + 1, 1)


def quarter_offset(first: dt.date, other: dt.date) -> int:
    """Quarters from ``other`` to ``first`` (4 for 'same period last year')."""
    return (first.year - other.year) * 4 + (first.month - other.month) // 3


def quarters_between(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    year, quarter = first
    while (year, quarter) <= last:
        out.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out


def period_start_expr(period: str) -> pl.Expr:
    """Polars expression building the stored period date from ``annee`` (and ``trimestre``).

    Null where the keys are out of range: those rows fail the catalogue's range checks, and the
    date must not be built from them (Polars raises on an invalid date).
    """
    year_ok = pl.col("annee").is_between(MIN_YEAR, MAX_YEAR)
    year = pl.col("annee").clip(MIN_YEAR, MAX_YEAR)
    if period == "quarter":
        quarter_ok = pl.col("trimestre").is_between(1, 4)
        month = (pl.col("trimestre").clip(1, 4) - 1) * 3 + 1
        return pl.when(year_ok & quarter_ok).then(pl.date(year, month, 1))
    return pl.when(year_ok).then(pl.date(year, 1, 1))


def period_end_expr(period: str) -> pl.Expr:
    """Polars expression for the last day of the period, for the label and 'not future' rules."""
    start = period_start_expr(period)
    months = "3mo" if period == "quarter" else "1y"
    return start.dt.offset_by(months).dt.offset_by("-1d")


def period_filter(column: str, first: dt.date | None, last: dt.date | None) -> tuple[str, list]:
    """SQL condition keeping quarters from ``first`` to ``last`` (either may be None: no bound)."""
    parts, params = ["TRUE"], []
    if first is not None:
        parts.append(f"{column} >= ?")
        params.append(first)
    if last is not None:
        parts.append(f"{column} <= ?")
        params.append(last)
    return " AND ".join(parts), params
