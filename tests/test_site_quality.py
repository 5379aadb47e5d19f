"""Registry quality flags, one hand-made site per case, plus the official list of 1 August 2024."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_coverage import ANCT_LIST, LIST_DATE, make_warehouse, real_warehouse

from fsdash.circulaire import MIN_OPEN_DAYS_PER_WEEK, MIN_OPENING_HOURS_PER_WEEK
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.metrics.site_quality import FLAGS, site_quality_flags, site_quality_summary

DAY = dt.date(2024, 6, 30)
GOOD = {"horaires": "lun. 09:00-12:00 14:00-17:00 ; mar. …", "heures_ouverture_hebdo": 30.0, "jours_ouverture_hebdo": 5}
NO_HOURS = {"horaires": None, "heures_ouverture_hebdo": None, "jours_ouverture_hebdo": None}
BOURG = {"code_commune": "01053", "departement": "01", "latitude": 46.2052, "longitude": 5.2255}


def site(site_id: str, nom: str, **fields) -> dict:
    """A well-behaved open fixed site in Bourg-en-Bresse, with a few fields overridden."""
    return {
        "site_id": site_id,
        "nom": nom,
        **BOURG,
        **GOOD,
        "latitude": 46.2 + int(site_id[1:]) / 1000,
        "longitude": 5.2,
        **fields,
    }


SITES = [
    site("F01", "Sans horaires", **NO_HOURS),
    site("F02", "Bus sans horaires", format="BUS", **NO_HOURS),
    site("F03", "Itinérant sans horaires", format="ITINERANT", **NO_HOURS),
    site(
        "F04",
        "Multisites sans horaires",
        format="MULTISITES",
        horaires="  ",
        heures_ouverture_hebdo=None,
        jours_ouverture_hebdo=None,
    ),
    site("F05", "Vingt heures", heures_ouverture_hebdo=20.0),
    site("F06", "Quatre jours", jours_ouverture_hebdo=4),
    site(
        "F07",
        "Antenne de dix heures",
        type_site="ANTENNE",
        format="FIXE_ANTENNES",
        heures_ouverture_hebdo=10.0,
        jours_ouverture_hebdo=2,
    ),
    site("F08", "Bus de vingt heures", format="BUS", heures_ouverture_hebdo=20.0),
    site("F09", "France Services d'Ambérieu", code_commune="01004"),
    site("F10", "france services  d’AMBERIEU.", code_commune="01004"),
    # same name, another département: another town, not a twin
    site(
        "F11", "Sans horaires", departement="02", code_commune="02408", latitude=49.5641, longitude=3.6199, **NO_HOURS
    ),
    # same coordinates: two fixed sites, and a bus parked at the first one
    site("F12", "Maison A", latitude=46.3, longitude=5.3),
    site("F13", "Maison B", latitude=46.300001, longitude=5.300002),
    site("F14", "Bus de la maison A", format="BUS", latitude=46.3, longitude=5.3),
    # registered in the Eure, standing in Rouen
    site("F15", "Bus normand", departement="27", code_commune="76540", latitude=49.4431, longitude=1.0993),
    # closed, or not labelled yet: never flagged
    site("F16", "Fermé sans horaires", date_fermeture=dt.date(2024, 1, 1), **NO_HOURS),
    site("F17", "Futur sans horaires", date_labellisation=dt.date(2025, 1, 1), **NO_HOURS),
    site("F18", "Parfait"),
]


def test_each_flag() -> None:
    con = make_warehouse(SITES)
    frame = site_quality_flags(con, NATIONAL, DAY)
    assert frame.columns == ["site_id", "nom", "departement", "format", *FLAGS, "signalements", "nb_signalements"]
    flagged = {r["site_id"]: {f for f in FLAGS if r[f]} for r in frame.iter_rows(named=True)}
    assert flagged == {
        "F01": {"sans_horaires"},
        "F04": {"sans_horaires"},
        "F05": {"moins_de_24h"},
        "F06": {"moins_de_5_jours"},
        "F08": {"moins_de_24h"},
        "F09": {"nom_en_double"},
        "F10": {"nom_en_double"},
        "F11": {"sans_horaires"},
        "F12": {"coordonnees_en_double"},
        "F13": {"coordonnees_en_double"},
        "F15": {"hors_departement"},
    }
    f05 = frame.filter(pl.col("site_id") == "F05").row(0, named=True)
    assert f05["signalements"] == "moins de 24 heures d'ouverture par semaine (charte 2.4)"
    assert f05["nb_signalements"] == 1
    assert FLAGS["moins_de_5_jours"] == "ouvert moins de 5 jours par semaine (charte 2.4)"


def test_thresholds_come_from_the_circular() -> None:
    at = {
        "heures_ouverture_hebdo": MIN_OPENING_HOURS_PER_WEEK.value,
        "jours_ouverture_hebdo": MIN_OPEN_DAYS_PER_WEEK.value,
    }
    just_under = {
        "heures_ouverture_hebdo": MIN_OPENING_HOURS_PER_WEEK.value - 0.5,
        "jours_ouverture_hebdo": MIN_OPEN_DAYS_PER_WEEK.value - 1,
    }
    con = make_warehouse([site("F01", "Au seuil", **at), site("F02", "Juste dessous", **just_under)])
    frame = site_quality_flags(con, NATIONAL, DAY)
    assert frame["site_id"].to_list() == ["F02"]
    assert frame["signalements"][0] == (f"{FLAGS['moins_de_24h']} ; {FLAGS['moins_de_5_jours']}")


def test_summary_and_scope() -> None:
    con = make_warehouse(SITES)
    assert site_quality_summary(con, NATIONAL, DAY) == {
        "sites_without_hours": 3,
        "sites_under_24h": 2,
        "sites_under_5_days": 1,
        "duplicate_names": 2,
        "duplicate_coordinates": 2,
        "outside_departement": 1,
        "sites_flagged": 11,
    }
    assert site_quality_summary(con, Scope("departement", "27"), DAY) == {
        "sites_without_hours": 0,
        "sites_under_24h": 0,
        "sites_under_5_days": 0,
        "duplicate_names": 0,
        "duplicate_coordinates": 0,
        "outside_departement": 1,
        "sites_flagged": 1,
    }
    # a twin is found even when the scope holds only one of the two
    assert site_quality_flags(con, Scope("site", "F12"), DAY)["coordonnees_en_double"].to_list() == [True]
    assert site_quality_flags(con, Scope("site", "F18"), DAY).is_empty()
    assert site_quality_summary(make_warehouse([]), NATIONAL, DAY)["sites_flagged"] == 0


@pytest.mark.skipif(not ANCT_LIST.is_file(), reason=f"{ANCT_LIST} absent")
def test_real_list_quality() -> None:
    con = real_warehouse()
    summary = site_quality_summary(con, NATIONAL, LIST_DATE)
    print("\nqualité du référentiel au 1er août 2024 :", summary)
    frame = site_quality_flags(con, NATIONAL, LIST_DATE)
    # investigated: two sites « France services de Case-Pilote » (972), numbers 2287 and 3240
    twins = frame.filter(pl.col("nom_en_double"))
    assert {"2287", "3240"} <= set(twins["site_id"])
    # L'Isle-Jourdain exists in the Gers (32) and in the Vienne (86): two towns, not a duplicate
    assert not {"2049", "3222"} & set(twins["site_id"])
    assert summary["outside_departement"] == frame["hors_departement"].sum() >= 1
    assert summary["sites_without_hours"] < 100 and summary["duplicate_coordinates"] < 50
