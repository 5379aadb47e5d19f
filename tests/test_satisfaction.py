"""Satisfaction metrics on a hand-made warehouse whose answers are known by heart.

Kiosk answers (très satisfait, satisfait, peu satisfait, pas satisfait), on the network of conftest:

=====  ====  ========  ================  =======  =========
site   dép.  porteur   trimestre         réponses satisfaits
=====  ====  ========  ================  =======  =========
FS001  01    COMMUNE   2023 T4: 50/40/6/4     100        90
FS001  01    COMMUNE   2024 T1: 30/20/0/0      50        50
FS002  01    EPCI      2023 T4: 4/3/1/0         8         7   (fragile: fewer than 30 answers)
FS003  2A    LA_POSTE  2023 T4: 10/5/3/2       20        15
=====  ====  ========  ================  =======  =========

Yearly survey 2023 (levels 1..5): FS001 ACCUEIL 1/2/7/20/20 of 50 respondents, FS001 RECOMMANDATION
0/1/4/15/30 of 50, FS003 ACCUEIL 0/1/2/3/3 of 10 respondents (one skipped the question).
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from fsdash import formats
from fsdash.charts.satisfaction import diverging_layout
from fsdash.metrics import satisfaction as sat
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.warehouse.store import reader

from conftest import KIOSK_HEADER, csv_bytes, ingest_files

KIOSK_ROWS = [
    ["FS001", 2023, 4, 50, 40, 6, 4],
    ["FS001", 2024, 1, 30, 20, 0, 0],
    ["FS002", 2023, 4, 4, 3, 1, 0],
    ["FS003", 2023, 4, 10, 5, 3, 2],
]
SURVEY_HEADER = [
    "site_id",
    "annee",
    "question",
    "repondants",
    "reponses_1",
    "reponses_2",
    "reponses_3",
    "reponses_4",
    "reponses_5",
]
SURVEY_ROWS = [
    ["FS001", 2023, "ACCUEIL", 50, 1, 2, 7, 20, 20],
    ["FS001", 2023, "RECOMMANDATION", 50, 0, 1, 4, 15, 30],
    ["FS003", 2023, "ACCUEIL", 10, 0, 1, 2, 3, 3],
]
Q4_2023, Q1_2024 = dt.date(2023, 10, 1), dt.date(2024, 1, 1)


# --- scalar references: the published formulas, against which the Polars expressions are checked ---


def wilson_interval(successes: int, n: int, z: float = sat.Z_95) -> tuple[float | None, float | None]:
    """95 % Wilson score interval of a proportion ``successes / n`` (None, None when ``n`` is 0).

    Unlike the normal (Wald) interval it stays within [0, 1] and keeps a sensible width for
    small samples and rates near 100 % — exactly the case of a site with 8 satisfied answers
    out of 8 (interval 67,6 % to 100 %).
    """
    if n <= 0:
        return None, None
    if not 0 <= successes <= n:
        raise ValueError(f"successes ({successes}) must lie between 0 and n ({n})")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_text(rate: float | None, low: float | None, high: float | None, answers: int | None, decimals: int = 1) -> str:
    """``95,2 % [94,1 % ; 96,2 %]``, prefixed with ``≈`` and suffixed with the count when fragile."""
    if rate is None:
        return "–"
    text = f"{formats.percent(rate, decimals)} [{formats.percent(low, decimals)} ; {formats.percent(high, decimals)}]"
    if answers is not None and answers < sat.MIN_ANSWERS:
        text = f"≈ {text} (n = {formats.number(answers)})"
    return text


@pytest.fixture
def db(loaded_db):
    result = ingest_files(
        loaded_db,
        [("bornes.csv", csv_bytes(KIOSK_HEADER, KIOSK_ROWS)), ("enquete.csv", csv_bytes(SURVEY_HEADER, SURVEY_ROWS))],
    )
    assert result.exit_code == 0, [m for f in result.files for t in f.tables for m in t.messages()]
    return loaded_db


def _counts(frame: pl.DataFrame, keys: list[str]) -> list[tuple]:
    return frame.select(*keys, "reponses", "satisfaits", "fragile").rows()


# --- the Wilson score interval ------------------------------------------------------------------

# Newcombe (1998), « Two-sided confidence intervals for the single proportion », table I, method 3.
NEWCOMBE = [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)]


@pytest.mark.parametrize("x, n, low, high", NEWCOMBE)
def test_wilson_interval_matches_published_values(x, n, low, high):
    got = wilson_interval(x, n)
    assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_interval_of_a_small_perfect_score_is_wide():
    """8 satisfied out of 8 is not « 100 % »: the interval runs from 67,6 % to 100 %."""
    low, high = wilson_interval(8, 8)
    assert round(low, 4) == 0.6756 and high == 1.0


def test_wilson_interval_edge_cases():
    assert wilson_interval(0, 0) == (None, None)
    with pytest.raises(ValueError):
        wilson_interval(9, 8)
    low, high = wilson_interval(50, 100)
    assert low + high == pytest.approx(1.0)  # symmetric around one half


def test_wilson_polars_expressions_agree_with_the_function():
    frame = pl.DataFrame({"x": [81, 15, 0, 1, 8, 0], "n": [263, 148, 20, 29, 8, 0]})
    low, high = sat.wilson_exprs("x", "n")
    got = frame.select(low.alias("low"), high.alias("high")).rows()
    for (x, n), (lo, hi) in zip(frame.rows(), got, strict=True):
        expected = wilson_interval(x, n)
        if n == 0:
            assert (lo, hi) == (None, None)
        else:
            assert lo == pytest.approx(expected[0], abs=1e-12) and hi == pytest.approx(expected[1], abs=1e-12)


def test_with_rate_flags_fewer_than_thirty_answers():
    frame = sat.with_rate(pl.DataFrame({"satisfaits": [7, 29, 30], "reponses": [8, 29, 30]}))
    assert frame["fragile"].to_list() == [True, True, False]
    assert frame["taux"][0] == 7 / 8


# --- kiosk answers ----------------------------------------------------------------------------


def test_kiosk_levels_come_from_the_catalogue():
    assert sat.kiosk_levels() == [
        ("reponses_pas_satisfait", "Pas satisfait", False),
        ("reponses_peu_satisfait", "Peu satisfait", False),
        ("reponses_satisfait", "Satisfait", True),
        ("reponses_tres_satisfait", "Très satisfait", True),
    ]


def test_kiosk_summary(db):
    with reader(db) as con:
        row = sat.kiosk_summary(con).row(0, named=True)
    assert (row["sites"], row["reponses"], row["satisfaits"]) == (3, 178, 162)
    assert row["taux"] == pytest.approx(162 / 178)
    assert (row["ic_bas"], row["ic_haut"]) == pytest.approx(wilson_interval(162, 178))
    assert row["fragile"] is False


def test_kiosk_by_quarter_and_period_filter(db):
    with reader(db) as con:
        by_quarter = sat.kiosk_by_quarter(con)
        only_2024 = sat.kiosk_summary(con, NATIONAL, Q1_2024, Q1_2024).row(0, named=True)
        nothing = sat.kiosk_summary(con, NATIONAL, dt.date(2022, 1, 1), dt.date(2022, 7, 1)).row(0, named=True)
    assert _counts(by_quarter, ["periode"]) == [(Q4_2023, 128, 112, False), (Q1_2024, 50, 50, False)]
    assert (only_2024["reponses"], only_2024["satisfaits"]) == (50, 50)
    assert nothing["reponses"] == 0 and nothing["taux"] is None and nothing["ic_bas"] is None


def test_kiosk_by_departement_and_by_site(db):
    with reader(db) as con:
        deps = sat.kiosk_by_area(con, NATIONAL, level="departement")
        sites = sat.kiosk_by_area(con, Scope("departement", "01"), level="site")
        years = sat.kiosk_by_year(con)
    assert _counts(deps, ["departement"]) == [("01", 158, 147, False), ("2A", 20, 15, True)]
    assert _counts(sites, ["site_id"]) == [("FS001", 150, 140, False), ("FS002", 8, 7, True)]
    small = sites.filter(pl.col("site_id") == "FS002").row(0, named=True)
    assert (small["ic_bas"], small["ic_haut"]) == pytest.approx(wilson_interval(7, 8))
    assert small["nom"] == "France Services d'Oyonnax – Haut-Bugey"
    assert _counts(years, ["annee"]) == [(2023, 128, 112, False), (2024, 50, 50, False)]


def test_kiosk_follows_the_site_filters(db):
    with reader(db) as con:
        poste = sat.kiosk_summary(con, scope=Scope("national", None, carriers=("LA_POSTE",))).row(0, named=True)
        site = sat.kiosk_summary(con, scope=Scope("site", "FS002")).row(0, named=True)
    assert (poste["reponses"], poste["satisfaits"], poste["fragile"]) == (20, 15, True)
    assert (site["reponses"], site["satisfaits"], site["sites"]) == (8, 7, 1)


# --- yearly survey ----------------------------------------------------------------------------


def test_survey_levels_and_questions_come_from_the_catalogue():
    assert [level for _, _, level in sat.survey_levels()] == [1, 2, 3, 4, 5]
    assert next(iter(sat.survey_questions())) == "ACCUEIL"


def test_survey_by_question(db):
    with reader(db) as con:
        frame = sat.survey_by_question(con, NATIONAL, 2023)
        assert sat.survey_years(con) == (2023,)
        assert sat.satisfaction_years(con) == (2023, 2024)
    assert frame.select("question", "sites", "repondants", "reponses", "satisfaits").rows() == [
        ("ACCUEIL", 2, 60, 59, 46),
        ("RECOMMANDATION", 1, 50, 50, 45),
    ]
    accueil = frame.row(0, named=True)
    assert accueil["note_moyenne"] == pytest.approx((1 * 1 + 2 * 3 + 3 * 9 + 4 * 23 + 5 * 23) / 59)
    assert (accueil["ic_bas"], accueil["ic_haut"]) == pytest.approx(wilson_interval(46, 59))


def test_survey_by_departement_flags_small_samples(db):
    with reader(db) as con:
        frame = sat.survey_by_area(con, NATIONAL, 2023, "departement")
        evolution = sat.survey_by_year(con)
    assert frame.select("departement", "question", "reponses", "satisfaits", "fragile").rows() == [
        ("01", "ACCUEIL", 50, 40, False),
        ("01", "RECOMMANDATION", 50, 45, False),
        ("2A", "ACCUEIL", 9, 6, True),
    ]
    assert evolution.select("annee", "question").rows() == [(2023, "ACCUEIL"), (2023, "RECOMMANDATION")]


def test_published_results_one_row_per_site_and_indicator(db):
    with reader(db) as con:
        frame = sat.published_results(con, Scope("departement", "01"), 2023)
        empty = sat.published_results(con, NATIONAL, 2021)
    assert frame.select("site_id", "indicateur", "reponses", "satisfaits", "fragile").rows() == [
        ("FS002", "BORNE", 8, 7, True),  # sorted by name: « France Services d'Oyonnax » first
        ("FS001", "BORNE", 100, 90, False),
        ("FS001", "ACCUEIL", 50, 40, False),
        ("FS001", "RECOMMANDATION", 50, 45, False),
    ]
    assert set(frame["annee"].to_list()) == {2023}
    assert empty.is_empty()
    assert set(sat.indicator_labels()) >= {"BORNE", *sat.survey_questions()}


# --- chart helpers (pure) ---------------------------------------------------------------------


def test_diverging_layout_centres_the_neutral_level_on_zero():
    levels = [("r1", "1", -1), ("r2", "2", -1), ("r3", "3", 0), ("r4", "4", 1), ("r5", "5", 1)]
    frame = pl.DataFrame({"q": ["A", "vide"], "r1": [1, 0], "r2": [1, 0], "r3": [2, 0], "r4": [3, 0], "r5": [3, 0]})
    layout = diverging_layout(frame, "q", levels)
    assert layout["categorie"].unique().to_list() == ["A"]  # a category without answers is left out
    bounds = [(round(a, 10), round(b, 10)) for a, b in layout.select("debut", "fin").rows()]
    assert bounds == [(-0.3, -0.2), (-0.2, -0.1), (-0.1, 0.1), (0.1, 0.4), (0.4, 0.7)]
    assert math.isclose(layout["part"].sum(), 1.0)


def test_rate_text_marks_fragile_rates():
    assert rate_text(0.875, 0.5291, 0.9776, 8) == "≈ 87,5\u00a0% [52,9\u00a0% ; 97,8\u00a0%] (n = 8)"
    assert rate_text(0.95, 0.94, 0.96, 1000) == "95,0\u00a0% [94,0\u00a0% ; 96,0\u00a0%]"
    assert rate_text(None, None, None, 0) == "–"


def test_national_default_scope(db):
    with reader(db) as con:
        assert sat.kiosk_summary(con, scope=NATIONAL)["reponses"][0] == 178
