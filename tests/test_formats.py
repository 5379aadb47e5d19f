"""French number and date formats: exact strings, including the (narrow) no-break spaces."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from fsdash import formats

NBSP = "\u00a0"  # no-break space: before %, €, M€
NNBSP = "\u202f"  # narrow no-break space: thousands separator (CLDR fr)


def test_number_groups_thousands_with_narrow_no_break_space():
    assert formats.number(1234.5, 1) == f"1{NNBSP}234,5"
    assert formats.number(1234567) == f"1{NNBSP}234{NNBSP}567"
    assert formats.number(12) == "12"
    assert formats.number(None) == "–"


def test_percent_has_no_break_space_before_sign():
    assert formats.percent(0.125, 1) == f"12,5{NBSP}%"


def test_percent_without_decimals():
    assert formats.percent(0.5) == f"50{NBSP}%"
    assert formats.percent(None) == "–"


@pytest.mark.parametrize(
    "day, short, long",
    [
        (dt.date(2024, 1, 1), "T1 2024", "1er trimestre 2024"),
        (dt.date(2024, 2, 15), "T1 2024", "1er trimestre 2024"),
        (dt.date(2023, 10, 1), "T4 2023", "4e trimestre 2023"),
    ],
)
def test_quarters(day, short, long):
    assert formats.quarter_short(day) == short
    assert formats.quarter_long(day) == long


def test_millions_euros():
    assert formats.millions_euros(3_200_000) == f"3,2{NBSP}M€"


def test_euros():
    assert formats.euros(1234) == f"1{NNBSP}234{NBSP}€"


@pytest.mark.parametrize(
    "day, text",
    [
        (dt.date(2020, 1, 1), "1er janvier 2020"),
        (dt.date(2020, 12, 31), "31 décembre 2020"),
        (dt.date(2024, 3, 11), "11 mars 2024"),
    ],
)
def test_date_long(day, text):
    assert formats.date_long(day) == text


def test_date_short():
    assert formats.date_short(dt.date(2024, 3, 5)) == "05/03/2024"


# --- Polars expressions: the same strings, computed natively ---------------------------------------


def _column(values: list, dtype: pl.DataType = pl.Float64) -> pl.DataFrame:
    return pl.DataFrame({"v": values}, schema={"v": dtype})


def _apply(expr: pl.Expr, values: list, dtype: pl.DataType = pl.Float64) -> list:
    return _column(values, dtype).select(expr)["v"].to_list()


@pytest.mark.parametrize(
    "value, decimals, text",
    [
        (1234.5, 1, f"1{NNBSP}234,5"),
        (1234567, 0, f"1{NNBSP}234{NNBSP}567"),
        (12, 0, "12"),
        (0, 2, "0,00"),
        (-1234.5, 0, f"-1{NNBSP}234"),  # a hyphen-minus, as Babel's fr pattern writes it
        (1234.5, 0, f"1{NNBSP}234"),  # half to even
        (1235.5, 0, f"1{NNBSP}236"),
        (0.125, 2, "0,12"),
        (2.675, 2, "2,68"),  # the decimal 2.675 (a tie), not the binary 2.67499…
        (1.005, 2, "1,00"),
        (-0.001, 1, "-0,0"),  # Babel keeps the sign of a negative that rounds to zero
        (999.9996, 3, f"1{NNBSP}000,000"),
        (1e20, 0, f"100{NNBSP}000{NNBSP}000{NNBSP}000{NNBSP}000{NNBSP}000{NNBSP}000"),
        (1e-7, 3, "0,000"),
        (None, 0, "–"),
        (float("nan"), 1, "NaN,0"),
        (float("inf"), 0, "∞"),
        (float("-inf"), 2, "-∞"),
    ],
)
def test_number_expr_exact_strings(value, decimals, text):
    assert _apply(formats.number_expr("v", decimals), [value]) == [text]
    if value is None or value == value:  # NaN aside (Babel's own quirk), the scalar agrees
        assert formats.number(value, decimals) == text


def test_number_expr_on_integers_and_expressions():
    assert _apply(formats.number_expr("v"), [1234567890123456789, -5, None], pl.Int64) == [
        f"1{NNBSP}234{NNBSP}567{NNBSP}890{NNBSP}123{NNBSP}456{NNBSP}789",
        "-5",
        "–",
    ]
    frame = _column([1.5, 2.5])
    assert frame.select(formats.number_expr(pl.col("v") * 2, 1))["v"].to_list() == ["3,0", "5,0"]
    assert frame.select(formats.number_expr("v").alias("texte")).columns == ["texte"]


def test_percent_and_euros_expr_exact_strings():
    assert _apply(formats.percent_expr("v", 1), [0.125, 0.00125, 1.0, None]) == [
        f"12,5{NBSP}%",
        f"0,1{NBSP}%",  # 0.125 % -> half to even
        f"100,0{NBSP}%",
        "–",
    ]
    assert _apply(formats.percent_expr("v"), [0.5, -0.035]) == [f"50{NBSP}%", f"-4{NBSP}%"]
    assert _apply(formats.euros_expr("v"), [1234, None], pl.Int64) == [f"1{NNBSP}234{NBSP}€", "–"]
    assert _apply(formats.millions_euros_expr("v"), [3_200_000, 30_000_000, 1_250_000, None], pl.Int64) == [
        f"3,2{NBSP}M€",
        f"30,0{NBSP}M€",
        f"1,2{NBSP}M€",
        "–",
    ]
    assert _apply(formats.millions_euros_expr("v", 2), [12_345_678.0]) == [f"12,35{NBSP}M€"]


@pytest.mark.parametrize(
    "day, short, long, full, numeric, month",
    [
        (dt.date(2024, 1, 1), "T1 2024", "1er trimestre 2024", "1er janvier 2024", "01/01/2024", "janvier 2024"),
        (dt.date(2024, 7, 14), "T3 2024", "3e trimestre 2024", "14 juillet 2024", "14/07/2024", "juillet 2024"),
        (dt.date(2023, 5, 9), "T2 2023", "2e trimestre 2023", "9 mai 2023", "09/05/2023", "mai 2023"),
        (dt.date(2020, 12, 31), "T4 2020", "4e trimestre 2020", "31 décembre 2020", "31/12/2020", "décembre 2020"),
        (dt.date(2021, 8, 1), "T3 2021", "3e trimestre 2021", "1er août 2021", "01/08/2021", "août 2021"),
    ],
)
def test_date_exprs_exact_strings(day, short, long, full, numeric, month):
    frame = _column([day], pl.Date)
    row = frame.select(
        formats.quarter_short_expr("v").alias("a"),
        formats.date_long_expr(pl.col("v")).alias("c"),
        formats.month_long_expr("v").alias("e"),
    ).row(0)
    assert row == (short, full, month)
    assert (formats.quarter_short(day), formats.quarter_long(day), formats.date_short(day)) == (short, long, numeric)
    assert (formats.quarter_short(day), formats.date_long(day), formats.month_long(day)) == row


def test_date_exprs_keep_nulls_and_the_column_name():
    frame = _column([None, dt.date(2024, 2, 1)], pl.Date)
    assert frame.select(formats.quarter_short_expr("v"))["v"].to_list() == [None, "T1 2024"]
    assert frame.select(formats.date_long_expr("v"))["v"].to_list() == [None, "1er février 2024"]


def _random_floats(rng: random.Random, n: int) -> list[float | None]:
    """Floats of every magnitude (up to 1e18: Babel raises beyond 28 significant digits), with many
    decimal ties (x.5, x.125, x.0005…) and their neighbours, negatives, zeros and nulls."""
    values: list[float | None] = [None, 0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 1234.5, -1234.5, 2.675, 1.005]
    while len(values) < n:
        kind = rng.randrange(6)
        sign = rng.choice((1, -1))
        if kind == 0:
            values.append(sign * rng.uniform(0, 10 ** rng.randint(0, 18)))
        elif kind == 1:  # a tie at 0 to 3 decimals, written with few digits
            places = rng.randint(0, 3)
            values.append(sign * (rng.randint(0, 10**6) * 10 + 5) / 10 ** (places + 1))
        elif kind == 2:  # a tie after scaling by 100 (percentages)
            places = rng.randint(0, 3)
            values.append(sign * (rng.randint(0, 10**4) * 10 + 5) / 10 ** (places + 3))
        elif kind == 3:  # a ratio
            values.append(sign * rng.random())
        elif kind == 4:  # tiny
            values.append(sign * rng.random() * 10 ** -rng.randint(3, 12))
        else:
            values.append(None if rng.random() < 0.3 else float(sign * rng.randint(0, 10**9)))
    return values


def _random_ints(rng: random.Random, n: int) -> list[int | None]:
    """Integers up to 2**53: beyond, Python divides an int exactly by 1e6 while Polars converts it to a
    float first, so ``millions_euros`` may differ in the third decimal (at 9·10^15 €)."""
    return [
        None if rng.random() < 0.05 else rng.choice((1, -1)) * rng.randint(0, min(10 ** rng.randint(0, 16), 2**53))
        for _ in range(n)
    ]


def _scalar(fn, value, *args):
    return "–" if value is None else fn(value, *args)


def test_expressions_agree_with_babel_on_random_values():
    rng = random.Random(20241127)
    floats, ints = _random_floats(rng, 3000), _random_ints(rng, 1000)
    cases = [
        (formats.number_expr, formats.number, range(4)),
        (formats.percent_expr, formats.percent, range(4)),
        (formats.millions_euros_expr, formats.millions_euros, range(4)),
        (lambda e, _d: formats.euros_expr(e), lambda v, _d: formats.euros(v), [0]),
    ]
    mismatches = []
    for values, dtype in ((floats, pl.Float64), (ints, pl.Int64)):
        frame = _column(values, dtype)
        for expr_fn, scalar_fn, decimals_range in cases:
            for decimals in decimals_range:
                got = frame.select(expr_fn("v", decimals))["v"].to_list()
                want = [_scalar(scalar_fn, v, decimals) for v in values]
                mismatches += [
                    (scalar_fn.__name__, decimals, v, g, w) for v, g, w in zip(values, got, want, strict=True) if g != w
                ]
    assert mismatches == []


def test_date_expressions_agree_with_babel_on_random_days():
    rng = random.Random(7)
    days = [dt.date(1, 1, 1), dt.date(999, 12, 31)] + [
        dt.date.fromordinal(rng.randint(dt.date(1900, 1, 1).toordinal(), dt.date(2100, 12, 31).toordinal()))
        for _ in range(1500)
    ]
    frame = _column(days, pl.Date)
    for expr_fn, scalar_fn in (
        (formats.quarter_short_expr, formats.quarter_short),
        (formats.date_long_expr, formats.date_long),
        (formats.month_long_expr, formats.month_long),
    ):
        got = frame.select(expr_fn("v"))["v"].to_list()
        assert got == [scalar_fn(d) for d in days], scalar_fn.__name__


@pytest.mark.parametrize(
    "count, words, text",
    [
        (0, ("commune",), "0 commune"),
        (1, ("site",), "1 site"),
        (2, ("site",), "2 sites"),
        (1234, ("site",), f"1{NNBSP}234 sites"),
        (1, ("révision créée", "révisions créées"), "1 révision créée"),
        (3, ("révision créée", "révisions créées"), "3 révisions créées"),
        (2, ("bureau", "bureaux"), "2 bureaux"),
    ],
)
def test_plural_agrees_the_french_way(count, words, text):
    assert formats.plural(count, *words) == text


def test_integer_expr_writes_what_number_expr_writes():
    rng = random.Random(42)
    ints = [*_random_ints(rng, 2000), 0, -1, 2**63 - 1, -(2**63), None]
    for dtype, low, high in (
        (pl.Int64, -(2**63), 2**63 - 1),
        (pl.Int32, -(2**31), 2**31 - 1),
        (pl.UInt32, 0, 2**32 - 1),
    ):
        values = [v for v in ints if v is None or low <= v <= high]
        frame = _column(values, dtype)
        got = frame.select(formats.integer_expr("v"))["v"].to_list()
        assert got == [_scalar(formats.number, v, 0) for v in values], dtype
    frame = _column([1234, None, -40000], pl.Int64)
    assert frame.select(formats.integer_expr("v", "€"))["v"].to_list() == [
        f"1{NNBSP}234{NBSP}€",
        "–",
        f"-40{NNBSP}000{NBSP}€",
    ]
    assert (
        frame.select(formats.integer_expr("v", "€"))["v"].to_list()
        == frame.select(formats.euros_expr("v"))["v"].to_list()
    )
