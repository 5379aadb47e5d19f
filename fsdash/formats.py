"""French formats for every surface (tiles, tables, exports): ``1 234``, ``12,5 %``, ``T1 2024``.

Babel (CLDR ``fr_FR``) is the one formatter: it groups thousands with a narrow no-break space
(U+202F) and puts a no-break space before ``%`` and ``€``. Never the OS locale.
"""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl
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


# --- Polars expressions ----------------------------------------------------------------------------
#
# The same strings as the functions above, computed by Polars itself: a Python callback inside an
# expression (``map_elements``) runs Babel once per row and, worse, needs the GIL on Polars' thread
# pool while other server threads hold the GIL waiting on that pool (a deadlock under concurrent
# sessions). Every read-path formatting goes through these.
#
# Babel formats ``Decimal(str(value))``: the shortest decimal that round-trips the float, then
# ROUND_HALF_EVEN on that decimal (2.675 -> 2,68 although the binary float is 2.67499…). Polars casts
# a float to the same shortest decimal, so the expressions parse that text into an integer mantissa
# and a power of ten and round it with integer arithmetic: ties, negatives and large numbers agree
# digit for digit (the tests compare thousands of random values with the scalar functions). Two
# known limits: a Float32 column is written from its own shortest decimal (Python would widen it to a
# float64 first), and ``millions_euros_expr`` on integers beyond 2**53 divides a float, not the exact
# integer, so the third decimal may differ — at 9·10^15 €.
#
# Each expression keeps its input's column name (as ``map_elements`` did); ``.alias()`` renames it.

DASH = "–"
#: French month names (the charts' d3 locale reads them too).
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_MONTH_NAMES = {i + 1: name for i, name in enumerate(MONTHS)}
#: ``-12.5e+3``, ``123``, ``0.001`` (Polars' text of an integer, float or decimal), split in parts.
_NUMBER_TEXT = r"^(?P<sign>-?)(?P<int>\d*)(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[+-]?\d+))?$"
#: Beyond 10**37 the mantissa (at most 38 digits) rounds to 0 anyway; 10**38 would overflow Int128.
_MAX_SHIFT = 37
#: Long enough to scale any float (up to 1.8e308) to an integer by appending zeros.
_ZEROS = "0" * 400


def _col(expr: pl.Expr | str) -> pl.Expr:
    return pl.col(expr) if isinstance(expr, str) else expr


def _named(source: pl.Expr, text: pl.Expr) -> pl.Expr:
    """``text``, named after ``source`` (as ``map_elements`` kept the column's name), null where
    ``source`` is null. ``name.keep()`` would fail on a literal; a first ``then`` from ``source`` names
    the whole ``when`` chain."""
    return pl.when(source.is_null()).then(source.cast(pl.String)).otherwise(text)


def _exact_division(value: pl.Expr, divisor: float) -> pl.Expr:
    """``value / divisor`` rounded as Python rounds it. Polars divides a column by a literal by
    multiplying by the literal's reciprocal (off by one ulp for about 30 % of values, enough to change a
    rounded digit); a column of the divisor (built from the value, so of the same length) gets a true
    IEEE division."""
    return value / (value.is_null().cast(pl.Float64) * 0 + divisor)


def _group_thousands(digits: pl.Expr) -> pl.Expr:
    """``1234567`` -> ``1 234 567`` (U+202F), for digits without leading zeros (or ``0``): padded with
    zeros to whole groups of three, cut into groups, joined, the padding stripped again. Polars' regex
    has no look-ahead to insert the separators in place."""
    width = (digits.str.len_chars() + 2) // 3 * 3
    grouped = digits.str.zfill(width).str.extract_all(r"\d{3}").list.join(NNBSP)
    return grouped.str.strip_chars_start("0").str.zfill(1)  # "000" (zero) -> "" -> "0"


@functools.cache
def _rounding_steps(decimals: int, shift: int) -> tuple[dict[str, pl.Expr], ...]:
    """The fields added, step by step, to the parts of a number's text (``sign``, ``int``, ``frac``,
    ``exp``) to write it rounded: built once per (decimals, shift), they refer to fields only.

    ``scaled`` is the absolute value × 10**(shift + decimals), rounded half to even, as digits: the
    mantissa's significant digits followed by zeros, or divided by a power of ten and rounded on the
    quotient and remainder (Int128: exact for any float's 17 digits and for integers)."""
    f = pl.field
    frac = f("frac").fill_null("")
    digits = f("int").fill_null("") + frac
    mantissa = ("0" + f("significant")).cast(pl.Int128)
    power = pl.lit(10, dtype=pl.Int128).pow(f("drop").clip(0, _MAX_SHIFT))
    quotient = mantissa // power
    twice_remainder = 2 * (mantissa % power)
    round_up = (twice_remainder > power) | ((twice_remainder == power) & (quotient % 2 == 1))
    scaled = (
        pl.when(f("drop") > _MAX_SHIFT)
        .then(pl.lit("0"))
        .when(f("drop") > 0)
        .then((quotient + round_up.cast(pl.Int128)).cast(pl.String))
        .otherwise(f("significant") + pl.lit(_ZEROS).str.slice(0, (-f("drop")).clip(0)))
        .str.strip_chars_start("0")
        .str.zfill(decimals + 1)
    )
    integer = f("scaled").str.head(-decimals) if decimals else f("scaled")
    fraction = "," + f("scaled").str.tail(decimals) if decimals else pl.lit("")
    sign = pl.when(f("sign") == "-").then(pl.lit("-")).otherwise(pl.lit(""))
    return (
        {
            # the digits without trailing zeros; value = digits × 10**(exponent - len(digits))
            "stripped": digits.str.strip_chars_end("0"),
            "exponent": f("exp").cast(pl.Int64).fill_null(0)
            - frac.str.len_chars().cast(pl.Int64)
            + digits.str.len_chars().cast(pl.Int64),
        },
        {
            "significant": f("stripped").str.strip_chars_start("0"),
            # value × 10**(shift + decimals) = significant × 10**-drop
            "drop": -(f("exponent") - f("stripped").str.len_chars().cast(pl.Int64) + shift + decimals),
        },
        {"scaled": scaled},
        {"text": pl.when(f("int").is_not_null()).then(sign + _group_thousands(integer) + fraction)},
    )


def _decimal_text(expr: pl.Expr, decimals: int, shift: int = 0) -> pl.Expr:
    """French text of ``expr × 10**shift`` rounded half-to-even to ``decimals`` places, as Babel's
    ``#,##0.00`` pattern writes it (a hyphen-minus for negatives, ``-0`` kept as Babel keeps it,
    ``NaN``/``∞`` as Babel writes them). Null stays null.

    Each step is a field added to a struct (``struct.with_fields``), so that it is computed once: the
    same sub-expression written twice in an expression tree is evaluated twice (written plainly, this
    was 20 kB of expression and ten times slower). A column costs about 2 ms whatever its length (Polars
    plans the expression), then about 1 ms per 10³ rows.

    Babel raises beyond 28 significant digits (its decimal context); this writes every digit."""
    text = expr.cast(pl.String)  # "NaN", "inf", "-inf" do not match the pattern
    steps = text.str.extract_groups(_NUMBER_TEXT)
    for fields in _rounding_steps(decimals, shift):
        steps = steps.struct.with_fields(**fields)
    nan = "NaN" + ("," + "0" * decimals if decimals else "")
    return (
        pl.when(text == "NaN")
        .then(pl.lit(nan))
        .when(text == "inf")
        .then(pl.lit("∞"))
        .when(text == "-inf")
        .then(pl.lit("-∞"))
        .otherwise(steps.struct.field("text"))
    )


def number_expr(expr: pl.Expr | str, decimals: int = 0) -> pl.Expr:
    """:func:`number` as a Polars expression: ``1 234,5`` (null -> ``–``)."""
    value = _col(expr)
    return _named(value, _decimal_text(value, decimals)).fill_null(DASH)


def integer_expr(expr: pl.Expr | str, unit: str = "") -> pl.Expr:
    """:func:`number` of an **integer** column as a Polars expression: ``-1 234`` (null -> ``–``),
    followed by ``unit`` when given (``"€"``: :func:`euros_expr`'s ``1 234 €``).

    The same text as :func:`number_expr` with no decimals, for a column whose type is an integer:
    its digits are grouped as they are, without the general path's parsing of a number's text (seven
    times faster, which a table of a few thousand rows feels on its first render)."""
    value = _col(expr)
    wide = value.cast(pl.Int128)  # the absolute value of Int64's minimum fits
    sign = pl.when(wide < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    text = sign + _group_thousands(wide.abs().cast(pl.String))
    if unit:
        text = text + NBSP + unit
    return _named(value, text).fill_null(DASH)


def percent_expr(expr: pl.Expr | str, decimals: int = 0) -> pl.Expr:
    """:func:`percent` as a Polars expression: a ratio (0.125) as ``12,5 %`` (null -> ``–``)."""
    value = _col(expr)
    return _named(value, _decimal_text(value, decimals, shift=2) + NBSP + "%").fill_null(DASH)


def euros_expr(expr: pl.Expr | str) -> pl.Expr:
    """:func:`euros` as a Polars expression: ``1 234 €`` (null -> ``–``)."""
    value = _col(expr)
    return _named(value, _decimal_text(value, 0) + NBSP + "€").fill_null(DASH)


def millions_euros_expr(expr: pl.Expr | str, decimals: int = 1) -> pl.Expr:
    """:func:`millions_euros` as a Polars expression: ``3,2 M€`` (null -> ``–``)."""
    value = _col(expr)
    return _named(value, _decimal_text(_exact_division(value, 1_000_000), decimals) + NBSP + "M€").fill_null(DASH)


# Dates: null stays null (a blank table cell or tooltip), as ``map_elements`` left it.


def _year(day: pl.Expr) -> pl.Expr:
    return day.dt.year().cast(pl.String)


def _month_name(day: pl.Expr) -> pl.Expr:
    return day.dt.month().replace_strict(_MONTH_NAMES, return_dtype=pl.String)


def quarter_short_expr(expr: pl.Expr | str) -> pl.Expr:
    """:func:`quarter_short` on a Date expression: ``T1 2024``."""
    day = _col(expr)
    return _named(day, "T" + day.dt.quarter().cast(pl.String) + " " + _year(day))


def date_long_expr(expr: pl.Expr | str) -> pl.Expr:
    """:func:`date_long` on a Date expression: ``1er janvier 2020``, ``14 juillet 2024``."""
    day = _col(expr)
    number = pl.when(day.dt.day() == 1).then(pl.lit("1er")).otherwise(day.dt.day().cast(pl.String))
    return _named(day, number + " " + _month_name(day) + " " + _year(day))


def month_long_expr(expr: pl.Expr | str) -> pl.Expr:
    """:func:`month_long` on a Date expression: ``juillet 2024``."""
    day = _col(expr)
    return _named(day, _month_name(day) + " " + _year(day))


def plural(count: int | float | None, singular: str, plural_form: str | None = None, decimals: int = 0) -> str:
    """``1 site``, ``0 site``, ``2 sites``, ``1 234 sites``: the count in French and its noun agreed.

    French puts the singular for 0 and 1 (« 0 commune », « 1 révision créée »); ``plural_form`` is
    given when the plural is not the singular plus ``s`` (« 2 bureaux »). Every word of a phrase
    agrees when the phrase is written whole: ``plural(n, "révision créée", "révisions créées")``.
    """
    if count is None:
        return f"{DASH} {plural_form or singular + 's'}"
    word = singular if abs(count) < 2 else (plural_form or singular + "s")
    return f"{number(count, decimals)} {word}"
