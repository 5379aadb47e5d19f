"""Accueil's sections, without Streamlit, on the conftest network: each block says its date, and a
départemental committee reads its home page against the nation, the quarter before or a year before.

Figures by heart (conftest): Ain 2024 T1 = 2 600 requests, France 2023 T4 = 3 150 and 2024 T1 = 2 600;
2024 T1 completeness: Ain 2 of 2 sites, France 2 of 3. Kiosks 2023 T4: Ain 160 satisfied of 200
(80 %), Corse-du-Sud 50 of 100, so France 210 of 300 (70 %). Open sites at TODAY (27/11/2024):
Ain 1 (FS002 closed on 30/06/2024), France 3; a year before, Ain 2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fsdash import formats
from fsdash.filters import Filters
from fsdash.metrics import coverage
from fsdash.metrics.scope import NATIONAL, Scope, resolve
from fsdash.views import home
from fsdash.warehouse.store import reader

from conftest import KIOSK_HEADER, TODAY, csv_bytes, ingest_files

T4_2023, T1_2024 = dt.date(2023, 10, 1), dt.date(2024, 1, 1)
KIOSK_ROWS = [["FS001", 2023, 4, 50, 30, 15, 5], ["FS002", 2023, 4, 40, 40, 10, 10], ["FS003", 2023, 4, 30, 20, 30, 20]]


@pytest.fixture
def con(loaded_db: Path):
    result = ingest_files(loaded_db, [("satisfaction_borne.csv", csv_bytes(KIOSK_HEADER, KIOSK_ROWS))])
    assert result.exit_code == 0
    with reader(loaded_db) as connection:
        yield connection


def _tile(section, label_start: str):
    return next(t for t in section.tiles if t.label.startswith(label_start))


def test_each_block_says_its_date(con):
    ain = resolve(con, Scope("departement", "01"))
    assert home.network_tiles(con, ain, TODAY).title == f"Le réseau — situation au {formats.date_long(TODAY)}"
    assert home.activity_tiles(con, ain, T1_2024).title == "L'activité — dernier trimestre de la période : T1 2024"
    requests = home.requests_by_quarter(con, ain)
    assert requests.title == "Demandes par trimestre — tous les trimestres chargés (du T4 2023 au T1 2024)"
    assert "quelle que soit la période choisie" in requests.caption()
    assert home.satisfaction_tile(con, Filters(ain, T4_2023, T1_2024)).title == "Satisfaction — du T4 2023 au T1 2024"


def test_without_comparison_the_requests_change_on_a_year(con):
    tiles = home.activity_tiles(con, NATIONAL, T1_2024)
    assert _tile(tiles, "Demandes").delta is None  # no 2023 T1 loaded: no change to show
    assert _tile(tiles, "Complétude").delta is None


def test_a_departement_against_the_nation(con):
    ain = resolve(con, Scope("departement", "01"))
    activity = home.activity_tiles(con, ain, T1_2024, "nationale")
    assert _tile(activity, "Demandes").caption == f"France entière : {formats.number(2600)}"
    assert _tile(activity, "Usagers").caption == f"France entière : {formats.number(2200)}"
    completeness = _tile(activity, "Complétude")
    assert completeness.delta == f"+{formats.number(33.3, 1)}{formats.NBSP}pt vs moyenne nationale"
    network = home.network_tiles(con, ain, TODAY, "nationale")
    assert _tile(network, "Sites").caption == "3 en France entière"
    national_share = coverage.canton_coverage_summary(con, NATIONAL, TODAY)["share"][0]
    own_share = coverage.canton_coverage_summary(con, ain, TODAY)["share"][0]
    cantons = _tile(network, "Cantons couverts")
    gap = formats.number(abs(own_share - national_share) * 100, 1)
    assert cantons.delta.startswith(("+" if own_share >= national_share else "-") + gap)
    assert cantons.delta.endswith("vs moyenne nationale")
    assert "Comparaison : France entière à la même date." in network.notes
    kiosk = _tile(home.satisfaction_tile(con, Filters(ain, T4_2023, T1_2024, "nationale")), "Usagers satisfaits")
    assert kiosk.value == formats.percent(0.8, 1)
    assert kiosk.delta == f"+{formats.number(10, 1)}{formats.NBSP}pt vs moyenne nationale"


def test_the_nation_against_itself_shows_no_delta(con):
    network = home.network_tiles(con, NATIONAL, TODAY, "nationale")
    assert all(t.delta is None for t in network.tiles)
    kiosk = home.satisfaction_tile(con, Filters(NATIONAL, T4_2023, T1_2024, "nationale"))
    assert kiosk.tiles[0].delta is None


def test_the_quarter_before_and_a_year_before(con):
    previous = home.activity_tiles(con, NATIONAL, T1_2024, "precedente")
    assert (
        _tile(previous, "Demandes").delta
        == f"{formats.signed_percent(2600 / 3150 - 1, 1, minus='-')} vs trimestre précédent"
    )
    assert _tile(previous, "Complétude").delta.endswith("pt vs trimestre précédent")
    ain = resolve(con, Scope("departement", "01"))
    a_year_before = home.network_tiles(con, ain, TODAY, "annee")
    assert _tile(a_year_before, "Sites").delta == "-1 sur un an"
    assert any(n.startswith("Comparaison : la situation au 27 novembre 2023") for n in a_year_before.notes)
    assert any("sans objet" in n for n in home.network_tiles(con, ain, TODAY, "precedente").notes)


def test_the_envelope_says_it_is_national(con):
    envelope = home.envelope_tile(con)
    assert envelope.messages or "Enveloppe nationale" in envelope.caption()


def test_the_cantons_help_names_the_page_as_the_navigation_does(con):
    from fsdash.routes import route

    cantons = _tile(home.network_tiles(con, NATIONAL, TODAY), "Cantons couverts")
    assert f"page {route('maillage').title}." in cantons.help


def test_the_trajectory_says_it_ignores_the_period(con):
    assert "quelle que soit la période choisie" in home.trajectory(con, NATIONAL, TODAY).caption()
