"""French number and date formats: exact strings, including the (narrow) no-break spaces."""

from __future__ import annotations

import datetime as dt

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
