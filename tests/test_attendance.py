"""Attendance metrics (fsdash.metrics.attendance) on a tiny hand-made warehouse with known answers.

The network (4 sites) and its activity, written once here; every expected figure below is worked
out by hand from these rows (the arithmetic is left visible in the expected frames).

======  ====  ======  ======  =========================================================
site    dép.  région  format  activity (usagers, demandes, ETP, heures/semaine)
======  ====  ======  ======  =========================================================
S1      01    84      FIXE    2023 T4 (90, 270, 2.0, 30) — outside the tested period
                              2024 T1 (100, 300, 2.0, 30); 2024 T2 (110, 330, 2.0, 30)
                              + a superseded 2024 T2 revision (999 demandes), ignored
S2      01    84      BUS     2024 T1 (50, 120, 1.0, 24); 2024 T2 (60, 130, 1.0, 26)
S3      2A    94      FIXE    2024 T1 (80, 200, 0.0, 20) — no FTE declared;
                              2024 T2 (90, 210, 1.5, 20)
S4      38    84      FIXE    2024 T2 (40, 90, 1.0, 24) — labelled in 2024 T2
======  ====  ======  ======  =========================================================

The request detail used by ``test_reasons.py`` is in :data:`DETAIL`.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fsdash.catalogue import load_catalogue
from fsdash.metrics import attendance
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.periods import period_filter
from fsdash.warehouse.ingest import refresh_requests_rollup
from fsdash.warehouse.schema import migrate

T4_2023, T1, T2 = dt.date(2023, 10, 1), dt.date(2024, 1, 1), dt.date(2024, 4, 1)

SITES = pl.DataFrame(
    [
        ("S1", "France Services de Bourg", "01053", "01", "84", "FIXE", 46.20, 5.22),
        ("S2", "Bus France Services du Bugey", "01283", "01", "84", "BUS", 46.26, 5.65),
        ("S3", "France Services d'Ajaccio", "2A004", "2A", "94", "FIXE", 41.92, 8.74),
        ("S4", "France Services de Vienne", "38544", "38", "84", "FIXE", 45.52, 4.87),
    ],
    schema={
        "site_id": pl.String,
        "nom": pl.String,
        "code_commune": pl.String,
        "departement": pl.String,
        "region": pl.String,
        "format": pl.String,
        "latitude": pl.Float64,
        "longitude": pl.Float64,
    },
    orient="row",
).with_columns(pl.lit("PRINCIPAL").alias("type_site"), pl.lit(dt.date(2019, 11, 1)).alias("date_labellisation"))

#: (site, quarter, usagers, demandes, ETP, hours a week, current?)
ACTIVITY = [
    ("S1", T4_2023, 90, 270, 2.0, 30.0, True),
    ("S1", T1, 100, 300, 2.0, 30.0, True),
    ("S1", T2, 110, 999, 2.0, 30.0, False),  # superseded revision
    ("S1", T2, 110, 330, 2.0, 30.0, True),
    ("S2", T1, 50, 120, 1.0, 24.0, True),
    ("S2", T2, 60, 130, 1.0, 26.0, True),
    ("S3", T1, 80, 200, 0.0, 20.0, True),
    ("S3", T2, 90, 210, 1.5, 20.0, True),
    ("S4", T2, 40, 90, 1.0, 24.0, True),
]

#: (site, quarter, partner, situation, channel, outcome, requests, current?)
DETAIL = [
    ("S1", T4_2023, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 70, True),
    ("S1", T1, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 100, True),
    ("S1", T1, "CNAF", "ALLOCATION_LOGEMENT", "TELEPHONE", "TRANSMIS_REFERENT", 20, True),
    ("S1", T1, "DGFIP", "IMPOTS", "SUR_SITE", "REPONDU_SUR_PLACE", 60, True),
    ("S2", T1, "ANTS", "PAPIERS_IDENTITE", "ITINERANT", "REPONDU_SUR_PLACE", 40, True),
    ("S2", T1, "ANTS", "PAPIERS_IDENTITE", "ITINERANT", "REORIENTE", 10, True),
    ("S3", T1, "CNAM", "REMBOURSEMENT_SOINS", "SUR_SITE", "REPONDU_SUR_PLACE", 50, True),
    ("S3", T1, "DGFIP", "IMPOTS", "VISIO", "TRANSMIS_REFERENT", 20, True),
    ("S1", T2, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 500, False),  # superseded
    ("S1", T2, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 90, True),
    ("S1", T2, "DGFIP", "DIFFICULTES_FINANCIERES", "SUR_SITE", "REORIENTE", 10, True),
    ("S4", T2, "CNAV", "RETRAITE", "SUR_SITE", "REPONDU_SUR_PLACE", 30, True),
    ("S4", T2, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "TRANSMIS_REFERENT", 10, True),
]


#: Grain keys and traceability columns every report row carries (a current row is revision 2).
_KEYS = (
    pl.col("periode").dt.year().cast(pl.Int64).alias("annee"),
    pl.col("periode").dt.quarter().cast(pl.Int64).alias("trimestre"),
    pl.when(pl.col("is_current")).then(2).otherwise(1).cast(pl.Int32).alias("revision"),
    pl.lit(1).cast(pl.Int64).alias("batch_id"),
)


def build_warehouse() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding the network above, its activity, detail and requests rollup."""
    con = duckdb.connect()
    migrate(con, load_catalogue())
    activity = pl.DataFrame(
        ACTIVITY,
        schema={
            "site_id": pl.String,
            "periode": pl.Date,
            "usagers_accueillis": pl.Int64,
            "demandes": pl.Int64,
            "agents_etp": pl.Float64,
            "heures_ouverture_hebdo": pl.Float64,
            "is_current": pl.Boolean,
        },
        orient="row",
    )
    activity = activity.with_columns(*_KEYS)
    detail = pl.DataFrame(
        DETAIL,
        schema={
            "site_id": pl.String,
            "periode": pl.Date,
            "partenaire": pl.String,
            "situation": pl.String,
            "canal": pl.String,
            "issue": pl.String,
            "nb_demandes": pl.Int64,
            "is_current": pl.Boolean,
        },
        orient="row",
    )
    detail = detail.with_columns(*_KEYS)
    for table, frame in (("sites", SITES), ("activite", activity), ("demandes_detail", detail)):
        con.register("_rows", frame)
        con.sql(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
        con.unregister("_rows")
    refresh_requests_rollup(con)
    return con


@pytest.fixture
def con():
    connection = build_warehouse()
    yield connection
    connection.close()


QUARTER_SCHEMA = {
    "periode": pl.Date,
    "usagers": pl.Int64,
    "demandes": pl.Int64,
    "sites_declarants": pl.Int64,
    "agents_etp": pl.Float64,
    "heures_ouverture": pl.Float64,
    "usagers_par_site": pl.Float64,
    "demandes_par_site": pl.Float64,
    "demandes_par_etp": pl.Float64,
    "demandes_par_heure": pl.Float64,
}


def test_attendance_by_quarter_national(con):
    expected = pl.DataFrame(
        {
            "periode": [T1, T2],
            "usagers": [100 + 50 + 80, 110 + 60 + 90 + 40],
            "demandes": [300 + 120 + 200, 330 + 130 + 210 + 90],
            "sites_declarants": [3, 4],
            "agents_etp": [2.0 + 1.0 + 0.0, 2.0 + 1.0 + 1.5 + 1.0],
            "heures_ouverture": [(30 + 24 + 20) * 13.0, (30 + 26 + 20 + 24) * 13.0],
            "usagers_par_site": [230 / 3, 300 / 4],
            "demandes_par_site": [620 / 3, 760 / 4],
            # S3 declared no FTE in T1: its requests are left out of the per-FTE ratio that quarter.
            "demandes_par_etp": [(300 + 120) / 3.0, 760 / 5.5],
            "demandes_par_heure": [620 / 962, 760 / 1300],
        },
        schema=QUARTER_SCHEMA,
    )
    assert_frame_equal(attendance.attendance_by_quarter(con, NATIONAL, T1, T2), expected)


def test_attendance_by_quarter_without_bounds_reads_every_quarter_and_only_current_revisions(con):
    frame = attendance.attendance_by_quarter(con)
    assert frame["periode"].to_list() == [T4_2023, T1, T2]
    assert frame["demandes"].to_list() == [270, 620, 760]  # 999 (superseded) is not counted


def test_attendance_by_quarter_site_scope(con):
    frame = attendance.attendance_by_quarter(con, Scope("site", "S1"), T1, T2)
    expected = pl.DataFrame(
        {
            "periode": [T1, T2],
            "usagers": [100, 110],
            "demandes": [300, 330],
            "sites_declarants": [1, 1],
            "agents_etp": [2.0, 2.0],
            "heures_ouverture": [390.0, 390.0],
            "usagers_par_site": [100.0, 110.0],
            "demandes_par_site": [300.0, 330.0],
            "demandes_par_etp": [150.0, 165.0],
            "demandes_par_heure": [300 / 390, 330 / 390],
        },
        schema=QUARTER_SCHEMA,
    )
    assert_frame_equal(frame, expected)


def test_attendance_by_quarter_format_filter(con):
    frame = attendance.attendance_by_quarter(con, Scope("national", None, formats=("BUS",)), T1, T2)
    assert frame.select("periode", "demandes", "sites_declarants", "demandes_par_etp").rows() == [
        (T1, 120, 1, 120.0),
        (T2, 130, 1, 130.0),
    ]


def test_attendance_by_quarter_region_and_departement(con):
    region = attendance.attendance_by_quarter(con, Scope("region", "84"), T1, T2)
    assert region["demandes"].to_list() == [300 + 120, 330 + 130 + 90]
    dep = attendance.attendance_by_quarter(con, Scope("departement", "2A"), T1, T2)
    assert dep["demandes"].to_list() == [200, 210]
    assert dep["demandes_par_etp"].to_list() == [None, 140.0]  # no FTE in T1: no ratio, not infinity


@pytest.mark.parametrize(
    "scope",
    [NATIONAL, Scope("national", None, formats=("BUS",)), Scope("region", "84"), Scope("site", "S3")],
    ids=["france", "bus", "region", "site"],
)
def test_headline_by_quarter_is_the_first_columns_of_attendance_by_quarter(con, scope):
    full = attendance.attendance_by_quarter(con, scope, T1, T2)
    assert_frame_equal(
        attendance.headline_by_quarter(con, scope, T1, T2),
        full.select("periode", "usagers", "demandes", "sites_declarants"),
    )


def test_headline_by_quarter_national_by_hand(con):
    frame = attendance.headline_by_quarter(con)
    assert frame.rows() == [(T4_2023, 90, 270, 1), (T1, 230, 620, 3), (T2, 300, 760, 4)]


def test_attendance_summary(con):
    expected = pl.DataFrame(
        {
            "usagers": [530],
            "demandes": [1380],
            "sites_declarants": [4],
            "site_trimestres": [7],
            "trimestres": [2],
            "usagers_par_site": [530 / 7],
            "demandes_par_site": [1380 / 7],
            "demandes_par_etp": [(1380 - 200) / 8.5],
            "demandes_par_heure": [1380 / (962 + 1300)],
        },
        schema={
            "usagers": pl.Int64,
            "demandes": pl.Int64,
            "sites_declarants": pl.Int64,
            "site_trimestres": pl.Int64,
            "trimestres": pl.Int64,
            "usagers_par_site": pl.Float64,
            "demandes_par_site": pl.Float64,
            "demandes_par_etp": pl.Float64,
            "demandes_par_heure": pl.Float64,
        },
    )
    assert_frame_equal(attendance.attendance_summary(con, NATIONAL, T1, T2), expected)


def test_attendance_summary_of_nothing_is_zero_with_no_ratio(con):
    row = attendance.attendance_summary(con, Scope("site", "S4"), T1, T1).row(0, named=True)
    assert row["demandes"] == 0 and row["site_trimestres"] == 0 and row["sites_declarants"] == 0
    assert row["demandes_par_site"] is None and row["demandes_par_etp"] is None and row["demandes_par_heure"] is None


SITE_SCHEMA = {
    "site_id": pl.String,
    "trimestres": pl.Int64,
    "usagers": pl.Int64,
    "demandes": pl.Int64,
    "agents_etp": pl.Float64,
    "heures_hebdo": pl.Float64,
    "demandes_par_trimestre": pl.Float64,
    "usagers_par_trimestre": pl.Float64,
    "demandes_par_etp": pl.Float64,
    "demandes_par_heure": pl.Float64,
}


def test_site_attendance(con):
    frame = attendance.site_attendance(con, NATIONAL, T1, T2)
    expected = pl.DataFrame(
        [
            ("S1", 2, 210, 630, 2.0, 30.0, 315.0, 105.0, 630 / 4.0, 630 / (60 * 13)),
            ("S2", 2, 110, 250, 1.0, 25.0, 125.0, 55.0, 250 / 2.0, 250 / (50 * 13)),
            ("S3", 2, 170, 410, 0.75, 20.0, 205.0, 85.0, 210 / 1.5, 410 / (40 * 13)),
            ("S4", 1, 40, 90, 1.0, 24.0, 90.0, 40.0, 90.0, 90 / (24 * 13)),
        ],
        schema=SITE_SCHEMA,
        orient="row",
    )
    assert_frame_equal(frame.select(list(SITE_SCHEMA)), expected)
    assert frame.select("nom", "departement", "region", "format", "latitude").row(1) == (
        "Bus France Services du Bugey",
        "01",
        "84",
        "BUS",
        46.26,
    )


def test_site_attendance_site_scope_and_format_filter(con):
    assert attendance.site_attendance(con, Scope("site", "S3"), T1, T2)["site_id"].to_list() == ["S3"]
    fixed_84 = attendance.site_attendance(con, Scope("region", "84", formats=("FIXE",)), T1, T2)
    assert fixed_84["site_id"].to_list() == ["S1", "S4"]
    assert fixed_84["demandes"].to_list() == [630, 90]


# --- pure derivations -------------------------------------------------------------------------

VALUES = pl.DataFrame(
    {"site_id": [f"X{i}" for i in range(9)], "trimestres": [4] * 9, "v": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 20.0]}
)


def test_distribution_quartiles_by_linear_interpolation():
    expected = pl.DataFrame(
        {
            "sites": [9],
            "minimum": [1.0],
            "q1": [3.0],
            "mediane": [5.0],
            "q3": [7.0],
            "maximum": [20.0],
            "moyenne": [56 / 9],
        }
    )
    assert_frame_equal(attendance.distribution(VALUES, "v"), expected)


def test_distribution_of_few_sites_gives_no_quartiles(con):
    """Four sites: minimum, maximum and mean only — quartiles of four values say nothing."""
    sites = attendance.site_attendance(con, NATIONAL, T1, T2)
    row = attendance.distribution(sites, "demandes_par_etp").row(0, named=True)
    assert row == {
        "sites": 4,
        "minimum": 90.0,
        "q1": None,
        "mediane": None,
        "q3": None,
        "maximum": 157.5,
        "moyenne": (157.5 + 125.0 + 140.0 + 90.0) / 4,
    }
    assert attendance.classify(sites, "demandes_par_etp")["classe"].to_list() == [None] * 4


def test_classify_against_quartiles_and_fences():
    # Q1 = 3, Q3 = 7, IQR = 4: above 7 + 6 = 13 is "très sollicité"; nothing is below 3 − 6.
    frame = attendance.classify(VALUES, "v")
    assert frame["classe"].to_list() == [
        "bas",
        "bas",
        "milieu",
        "milieu",
        "milieu",
        "milieu",
        "milieu",
        "haut",
        "tres_haut",
    ]
    assert frame["rang"].to_list() == [9, 8, 7, 6, 5, 4, 3, 2, 1]


def test_histogram_has_round_bins_and_keeps_empty_ones():
    # Range 0–20 in at most 10 bins: width 2; 20 falls in [20, 22).
    expected = pl.DataFrame(
        {
            "debut": [2.0 * k for k in range(11)],
            "fin": [2.0 * (k + 1) for k in range(11)],
            "sites": [1, 2, 2, 2, 1, 0, 0, 0, 0, 0, 1],
        }
    )
    assert_frame_equal(attendance.histogram(VALUES, "v", bins=10), expected)
    assert attendance.histogram(VALUES.clear(), "v").is_empty()


def test_extremes_skip_sites_with_too_few_quarters(con):
    sites = attendance.site_attendance(con, NATIONAL, T1, T2)
    top, bottom = attendance.extremes(sites, "demandes_par_etp", 2, min_quarters=2)
    assert top["site_id"].to_list() == ["S1", "S3"]  # 157.5, 140
    assert bottom["site_id"].to_list() == ["S2", "S3"]  # 125, 140 — S4 (90) has one quarter only
    _, bottom_all = attendance.extremes(sites, "demandes_par_etp", 1)
    assert bottom_all["site_id"].to_list() == ["S4"]


def test_seasonal_profile_indexes_each_year_on_its_own_mean():
    by_quarter = pl.DataFrame(
        {
            "periode": [dt.date(2023, 1, 1), dt.date(2023, 4, 1), dt.date(2023, 7, 1), dt.date(2023, 10, 1), T1],
            "demandes_par_site": [100.0, 120.0, 80.0, 100.0, 50.0],
        }
    )
    expected = pl.DataFrame(
        {
            "annee": [2023, 2023, 2023, 2023, 2024],
            "trimestre": [1, 2, 3, 4, 1],
            "demandes_par_site": [100.0, 120.0, 80.0, 100.0, 50.0],
            "indice": [100.0, 120.0, 80.0, 100.0, 100.0],
        }
    )
    assert_frame_equal(attendance.seasonal_profile(by_quarter), expected)


def test_seasonality_from_the_warehouse(con):
    frame = attendance.seasonality(con, NATIONAL)
    per_site = [270.0, 620 / 3, 760 / 4]
    assert frame["demandes_par_site"].to_list() == per_site
    assert frame["indice"].to_list() == pytest.approx(
        [100.0, 620 / 3 / ((620 / 3 + 190) / 2) * 100, 190 / ((620 / 3 + 190) / 2) * 100]
    )


def test_period_filter():
    assert period_filter("a.periode", None, None) == ("TRUE", [])
    assert period_filter("a.periode", T1, T2) == ("TRUE AND a.periode >= ? AND a.periode <= ?", [T1, T2])
