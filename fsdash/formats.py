"""French formats for every surface (tiles, tables, exports): ``1 234``, ``12,5 %``, ``T1 2024``.

Babel (CLDR ``fr_FR``) is the one formatter: it groups thousands with a narrow no-break space
(U+202F) and puts a no-break space before ``%`` and ``€``. Never the OS locale.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

LOCALE = "fr_FR"
NBSP = "\u00a0"
NNBSP = "\u202f"


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def number(value: float | int | None, decimals: int = 0) -> str:
    """``1234.5`` -> ``1 234,5`` (narrow no-break space between thousands)."""
    if value is None:
        return "–"
    return format_decimal(value, format=_pattern(decimals), locale=LOCALE)


def percent(ratio: float | None, decimals: int = 0) -> str:
    """A ratio (0.125) as ``12,5 %``; decimals are kept only when asked."""
    if ratio is None:
        return "–"
    return format_percent(ratio, format=_pattern(decimals) + NBSP + "%", locale=LOCALE)


def euros(value: float | None) -> str:
    if value is None:
        return "–"
    return number(value) + NBSP + "€"


def millions_euros(value: float | None, decimals: int = 1) -> str:
    """``3_200_000`` -> ``3,2 M€`` (the unit the committees read money in)."""
    if value is None:
        return "–"
    return number(value / 1_000_000, decimals) + NBSP + "M€"


def signed_percent(ratio: float | None, decimals: int = 0, minus: str = "\u2212") -> str:
    """Year-on-year changes: ``+12 %`` / ``−3 %`` (a true minus sign).

    ``st.metric`` reads the direction of its arrow from a leading ASCII ``-``: pass ``minus="-"``
    there, so that a fall shows a falling arrow and not only a colour.
    """
    if ratio is None:
        return "–"
    text = percent(abs(ratio), decimals)
    return ("+" if ratio >= 0 else minus) + text


def quarter_short(day: dt.date) -> str:
    """``T1 2024`` for axes and tables."""
    return format_date(day, "QQQ y", locale=LOCALE)


def quarter_long(day: dt.date) -> str:
    """``1er trimestre 2024`` for sentences and titles."""
    return format_date(day, "QQQQ y", locale=LOCALE)


def date_long(day: dt.date) -> str:
    """``1er janvier 2020``: CLDR writes '1 janvier', French usage wants '1er'."""
    text = format_date(day, "d MMMM y", locale=LOCALE)
    return "1er" + text[1:] if day.day == 1 else text


def date_short(day: dt.date) -> str:
    return format_date(day, "dd/MM/y", locale=LOCALE)


def month_long(day: dt.date) -> str:
    """``juillet 2024``."""
    return format_date(day, "MMMM y", locale=LOCALE)
