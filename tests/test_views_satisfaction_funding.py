"""Sections of the Satisfaction and Financement pages, without Streamlit, on hand-made warehouses.

Satisfaction: the network of conftest plus FS978, a Saint-Martin site (département 978, which
belongs to no région), with the kiosk answers and survey of ``test_satisfaction`` and 30 answers
(all satisfied) at FS978 in 2023 T4. Financement: the network, rates, envelope and arrears of
``test_funding``. Each section is checked for its tiles, table, empty state and data date — and
no section of another source shows the activity feed's date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from test_funding import (
    ARREARS,
    ARREARS_HEADER,
    ENVELOPE,
    ENVELOPE_HEADER,
    RATES,
    RATES_HEADER,
)
from test_funding import SITES as FUNDED_SITES
from test_funding import SITES_HEADER as FUNDED_SITES_HEADER
from test_satisfaction import KIOSK_HEADER, KIOSK_ROWS, SURVEY_HEADER, SURVEY_ROWS, rate_text

from fsdash import formats
from fsdash.filters import Filters
from fsdash.metrics.scope import NATIONAL, Scope, resolve
from fsdash.views import funding as fview
from fsdash.views import satisfaction as sview
from fsdash.warehouse.store import Reader, reader

from conftest import SITES_HEADER, SITES_ROWS, TODAY, csv_bytes, ingest_files

OFFICIAL_AIN = Path(__file__).resolve().parent / "fixtures" / "official" / "ditp-ain.csv"
Q4_2023, Q1_2024 = dt.date(2023, 10, 1), dt.date(2024, 1, 1)
SAINT_MARTIN = [
    "FS978",
    "France Services de Saint-Martin",
    "97801",
    "978",
    "FIXE",
    "PRINCIPAL",
    "COMMUNE",
    dt.date(2020, 1, 1),
    None,
    18.0668,
    -63.0336,
    False,
    False,
]
NBSP = formats.NBSP


def _load(db: Path, files: list[tuple[str, bytes]]) -> Path:
    result = ingest_files(db, files)
    assert result.exit_code == 0, [m for f in result.files for t in f.tables for m in t.messages()]
    return db


@pytest.fixture
def sat_db(db_path: Path) -> Path:
    return _load(
        db_path,
        [
            ("sites.csv", csv_bytes(SITES_HEADER, [*SITES_ROWS, SAINT_MARTIN])),
            ("bornes.csv", csv_bytes(KIOSK_HEADER, [*KIOSK_ROWS, ["FS978", 2023, 4, 20, 10, 0, 0]])),
            ("enquete.csv", csv_bytes(SURVEY_HEADER, SURVEY_ROWS)),
        ],
    )


@pytest.fixture
def fund_db(db_path: Path) -> Path:
    return _load(
        db_path,
        [
            ("sites.csv", csv_bytes(FUNDED_SITES_HEADER, FUNDED_SITES)),
            ("forfaits.csv", csv_bytes(RATES_HEADER, RATES)),
            ("bdt.csv", csv_bytes(ENVELOPE_HEADER, ENVELOPE)),
            ("dette.csv", csv_bytes(ARREARS_HEADER, ARREARS)),
        ],
    )


def _tiles(section) -> dict[str, str]:
    return {t.label: t.value for t in section.tiles}


def _column(section, name: str) -> list:
    return section.table.frame[name].to_list()


def _no_feed_date(section) -> None:
    """A section of another source never carries the activity feed's « Données jusqu'au … trimestre »."""
    assert section.data_date and "trimestre" not in section.data_date, section.data_date


# --- Satisfaction: kiosk answers --------------------------------------------------------------------


def test_kiosk_tiles_national_with_their_data_date(sat_db):
    with reader(sat_db) as con:
        section = sview.kiosk_tiles(con, Filters(NATIONAL, Q4_2023, Q1_2024))
    # 178 answers of the conftest network + 30 at Saint-Martin; 162 + 30 satisfied.
    assert _tiles(section) == {
        "Usagers satisfaits (bornes)": formats.percent(192 / 208, 1),
        "Réponses aux bornes": "208",
        "Sites ayant des réponses": "4",
    }
    assert section.tiles[0].delta is None
    assert section.tiles[0].caption.startswith("IC 95 % : ")
    assert section.data_date == "Réponses des bornes jusqu'au 1er trimestre 2024"
    assert section.source == sview.KIOSK_SOURCE and section.demo is False
    assert section.title == "Bornes de satisfaction" and section.empty is None


def test_kiosk_tiles_compare_in_points_and_flag_fragile_rates(sat_db):
    with reader(sat_db) as con:
        ain = sview.kiosk_tiles(con, Filters(Scope("departement", "01"), Q4_2023, Q1_2024, "nationale"))
        small = sview.kiosk_tiles(con, Filters(Scope("site", "FS002"), Q4_2023, Q4_2023))
        last_year = sview.kiosk_tiles(con, Filters(NATIONAL, Q1_2024, Q1_2024, "annee"))
    gap = (147 / 158 - 192 / 208) * 100
    assert ain.tiles[0].delta == f"+{formats.number(gap, 1)}{NBSP}pt vs moyenne nationale"
    assert small.tiles[0].value == "≈ " + formats.percent(7 / 8, 1)
    assert "fragile : moins de 30 réponses" in small.tiles[0].caption
    assert last_year.tiles[0].delta is None  # no answers in 2023 T1: nothing to compare with


def test_kiosk_sections_say_when_there_is_nothing(sat_db):
    with reader(sat_db) as con:
        section = sview.kiosk_tiles(con, Filters(NATIONAL, dt.date(2022, 1, 1), dt.date(2022, 7, 1)))
        by_year = sview.kiosk_by_year(con, NATIONAL, dt.date(2022, 1, 1), dt.date(2022, 7, 1))
    assert section.empty.startswith("Aucune réponse de borne pour ce périmètre et cette période")
    assert section.title == "Bornes de satisfaction" and not section.tiles
    assert by_year.empty == sview.NO_DATA


def test_kiosk_by_quarter_table_and_comparison(sat_db):
    with reader(sat_db) as con:
        section = sview.kiosk_by_quarter(con, Filters(NATIONAL, Q4_2023, Q1_2024))
        compared = sview.kiosk_by_quarter(con, Filters(NATIONAL, Q1_2024, Q1_2024, "precedente"))
    frame = section.table.frame
    assert frame.columns == [
        "Trimestre",
        "Sites",
        "Réponses",
        "Satisfaits",
        "Taux de satisfaction",
        "IC 95 % bas",
        "IC 95 % haut",
        "Taux (IC 95 %)",
        "Fiabilité",
    ]
    assert frame.select("Trimestre", "Réponses", "Satisfaits").rows() == [("T4 2023", 158, 142), ("T1 2024", 50, 50)]
    assert section.table.column("Taux de satisfaction").kind == "percent"
    assert section.chart is not None and section.data_date == "Réponses des bornes jusqu'au 1er trimestre 2024"
    assert section.definitions and section.definitions[0].startswith("**Très satisfait**")
    assert "Trait pointillé : période précédente (T4 2023 – T4 2023)." in compared.notes[0]


def test_rate_text_is_babel_s_text_written_by_polars(sat_db):
    """The table's « Taux (IC 95 %) » is exactly the scalar rate_text, fragile rates included."""
    with reader(sat_db) as con:
        section = sview.kiosk_by_area(con, NATIONAL, None, None, "site")
    frame = section.table.frame
    for row in frame.iter_rows(named=True):
        expected = rate_text(row["Taux de satisfaction"], row["IC 95 % bas"], row["IC 95 % haut"], row["Réponses"])
        assert row["Taux (IC 95 %)"] == expected
    fragile = frame.filter(pl.col("Site") == "France Services d'Oyonnax – Haut-Bugey (FS002)").row(0, named=True)
    assert fragile["Taux (IC 95 %)"] == f"≈ 87,5{NBSP}% [52,9{NBSP}% ; 97,8{NBSP}%] (n = 8)"
    assert fragile["Fiabilité"] == "fragile (moins de 30 réponses)"


def test_sites_without_region_are_grouped_not_dropped(sat_db):
    """Saint-Martin (978) has no région: the national breakdown by région shows it « Sans région »."""
    with reader(sat_db) as con:
        regions = sview.kiosk_by_area(con, NATIONAL, None, None, "region")
        departements = sview.kiosk_by_area(con, NATIONAL, None, None, "departement")
    assert regions.empty is None and regions.chart is not None
    assert dict(regions.table.frame.select("Région", "Réponses").rows()) == {
        "Sans région": 30,
        "Auvergne-Rhône-Alpes": 158,
        "Corse": 20,
    }
    assert {"01 — Ain", "2A — Corse-du-Sud"} <= set(_column(departements, "Département"))
    assert len(_column(departements, "Département")) == 3


def test_official_rate_names_departements_from_the_directory(sat_db):
    from fsdash.warehouse.official_series import import_official_paths
    from fsdash.warehouse.store import writer

    with writer(sat_db) as con:
        import_official_paths(con, [OFFICIAL_AIN], file_date=dt.date(2024, 9, 1), today=TODAY)
    with reader(sat_db) as con:
        national = sview.official_rate(con, NATIONAL)
        corse = sview.official_rate(con, Scope("departement", "2A"))
        site = sview.official_rate(con, resolve(con, Scope("site", "FS001")))
    assert site is None
    assert national.table.frame.select("Département", "Période", "Taux officiel (%)").rows() == [
        ("01 — Ain", Q4_2023, 85.0)
    ]
    assert national.data_date == "Période officielle la plus récente : 1er octobre 2023"
    assert corse.empty == "Aucune valeur officielle de satisfaction pour ce périmètre."


# --- Satisfaction: the yearly survey and the published table ----------------------------------------


def test_year_choice_prefers_the_latest_survey_year(sat_db):
    with reader(sat_db) as con:
        assert sview.year_choice(con, NATIONAL, Q1_2024) == ((2023, 2024), 0)
        assert sview.year_choice(con, Scope("site", "FS002"), None) == ((2023, 2024), 0)  # any survey year


def test_survey_tiles_and_their_empty_states(sat_db):
    with reader(sat_db) as con:
        national = sview.survey_tiles(con, NATIONAL, 2023)
        corse = sview.survey_tiles(con, Scope("departement", "2A"), 2023)
        no_survey = sview.survey_tiles(con, NATIONAL, 2024)
        no_site = sview.survey_tiles(con, Scope("site", "FS002"), 2023)
    assert _tiles(national) == {
        "Répondants": "60",
        "Sites participants": "2",
        "Recommanderaient France Services": formats.percent(45 / 50, 1),
    }
    assert national.data_date == "Dernière enquête annuelle chargée : 2023"
    assert list(_tiles(corse)) == ["Répondants", "Sites participants"]  # no recommendation question there
    assert no_survey.empty == (
        "Aucun résultat d'enquête annuelle chargé pour 2024 (table « enquete_annuelle ») ; années disponibles : 2023."
    )
    assert no_site.empty == "Aucun site de ce périmètre n'a de résultats d'enquête pour 2023."


def test_survey_sections(sat_db):
    with reader(sat_db) as con:
        by_question = sview.survey_by_question(con, NATIONAL, 2023)
        evolution = sview.survey_evolution(con, NATIONAL)
        by_area = sview.survey_by_area(con, NATIONAL, 2023, "departement", "ACCUEIL")
        nothing = sview.survey_by_area(con, Scope("departement", "2A"), 2023, "site", "RECOMMANDATION")
    questions = sview.questions()
    assert _column(by_question, "Question") == [questions["ACCUEIL"], questions["RECOMMANDATION"]]
    assert _column(by_question, "Répondants") == [60, 50]
    assert by_question.title == "Réponses par question — 2023" and by_question.key == "satisfaction-enquete-2023"
    assert evolution is None  # a single year: nothing to follow
    assert by_area.title == "Par département — 2023"
    rows = by_area.table.frame.select("Département", "Réponses", "Fiabilité").rows()
    assert rows == [("01 — Ain", 50, ""), ("2A — Corse-du-Sud", 9, "fragile (moins de 30 réponses)")]
    assert f"Question : « {questions['ACCUEIL']} »" in by_area.notes[0]
    assert nothing.empty == sview.NO_DATA


def test_published_table_is_formatted_without_babel(sat_db, monkeypatch):
    """The published table's texts come from Polars expressions: no Babel call per row."""

    def refuse(*args, **kwargs):
        raise AssertionError("formats.percent called while building the published table")

    monkeypatch.setattr(formats, "percent", refuse)
    with reader(sat_db) as con:
        section = sview.published(con, Scope("departement", "01"), 2023)
        empty = sview.published(con, NATIONAL, 2021)
    assert _tiles(section) == {"Sites publiant": "2", "Résultats": "4", "Dont fragiles (moins de 30 réponses)": "1"}
    frame = section.table.frame
    assert frame.columns == [
        "Année",
        "Site",
        "Nom",
        "Département",
        "Indicateur",
        "Réponses",
        "Satisfaits",
        "Taux de satisfaction",
        "IC 95 % bas",
        "IC 95 % haut",
        "Taux (IC 95 %)",
        "Fiabilité",
    ]
    first = frame.row(0, named=True)
    assert (first["Site"], first["Indicateur"]) == ("FS002", "Borne : satisfait de la démarche")
    assert first["Taux (IC 95 %)"] == f"≈ 87,5{NBSP}% [52,9{NBSP}% ; 97,8{NBSP}%] (n = 8)"
    assert section.table.column("Année").kind == "text"  # « 2023 », not « 2 023 »
    assert section.key == "satisfaction-a-publier-2023" and not section.table_in_expander
    assert section.download_frame is frame  # the files are built from it on click
    assert (
        section.data_date == "Réponses des bornes jusqu'au 1er trimestre 2024. Dernière enquête annuelle chargée : 2023"
    )
    assert empty.empty == "Aucun résultat de satisfaction pour 2021 dans ce périmètre."
    assert empty.title == "Résultats à publier (charte 3.2)"


def test_sections_are_cached_per_warehouse_version(sat_db):
    wh = Reader(sat_db)
    try:
        filters = Filters(Scope("departement", "01"), Q4_2023, Q1_2024, "annee")
        assert sview.kiosk_tiles(wh, filters) is sview.kiosk_tiles(wh, filters)
        assert sview.published(wh, NATIONAL, 2023) is sview.published(wh, NATIONAL, 2023)
    finally:
        wh.close()


# --- Financement: the flat amount -------------------------------------------------------------------

DUE_2023 = 35000 + 35000 * 184 / 365 + 28000 * 90 / 365 + 35000 + 30000 + 35000


def test_flat_rate_years_and_empty_states(fund_db, db_path):
    with reader(fund_db) as con:
        assert fview.flat_rate_years(con, NATIONAL, dt.date(2023, 1, 1), dt.date(2024, 10, 1)) == ((2023,), None)
        years, outside = fview.flat_rate_years(con, NATIONAL, dt.date(2020, 1, 1), dt.date(2020, 10, 1))
    assert years == ()
    assert outside.empty == "Aucune année du barème chargé dans la période choisie (barème : 2023 à 2023)."


def test_flat_rate_tiles(fund_db):
    with reader(fund_db) as con:
        section = fview.flat_rate_tiles(con, NATIONAL, 2023, (2023, 2023), TODAY)
        current = fview.flat_rate_tiles(con, NATIONAL, 2024, (2023, 2024), TODAY)
        corse = fview.flat_rate_tiles(con, Scope("departement", "2B"), 2023, (2023, 2023), TODAY)
    assert _tiles(section) == {
        "Forfaits dus — 2023": formats.euros(round(DUE_2023)),
        "FNADT (programme 112)": formats.euros(round(20000 + 17500 * 0.8 * 90 / 365 + 20000 * 30 / 35 + 10000)),
        "Fonds inter-opérateurs": formats.euros(
            round(15000 + 4000 * 184 / 365 + 17500 * 0.8 * 90 / 365 + 10000 + 15000 * 30 / 35 + 4000)
        ),
        "Fonds postal de péréquation": formats.euros(round(31000 * 184 / 365 + 31000)),
    }
    assert section.tiles[0].caption == f"6 sites, soit {formats.number(4 + 184 / 365 + 90 / 365, 1)} sites-années"
    assert [m.text for m in section.messages] == [
        f"15{formats.NNBSP}000{NBSP}€ ne sont répartis entre aucun financeur : les parts du barème n'atteignent "
        "pas le montant du forfait."
    ]
    assert section.notes == (
        f"Sites hébergés par l'État en 2023 : 2, abattements : {formats.euros(round(7000 * 90 / 365 + 5000))}.",
    )
    assert section.data_date == "Situation au 27 novembre 2024 ; barème chargé : 2023"
    _no_feed_date(section)
    assert current.notes[0].startswith("Année en cours : un site ouvert compte jusqu'au 31 décembre 2024")
    assert current.messages[0].text.startswith("5 sites n'ont pas de barème pour leur porteur en 2024")
    assert _tiles(corse)["Forfaits dus — 2023"] == formats.euros(35000)


def test_flat_rate_charts_and_detail(fund_db):
    with reader(fund_db) as con:
        sources = fview.by_source(con, NATIONAL, 2023, 2023, TODAY)
        carriers = fview.by_carrier(con, NATIONAL, 2023, 2023, TODAY)
        departements = fview.detail(con, NATIONAL, 2023, TODAY)
        sites = fview.detail(con, Scope("departement", "2A"), 2023, TODAY)
        rates = fview.rates_table(con)
    assert _column(sources, "Forfaits dus (€)") == [round(DUE_2023)]
    assert "Non réparti par le barème (€)" in sources.table.frame.columns  # 15 000 € left unallocated
    assert sources.table.column("Forfaits dus (€)").kind == "euros"
    assert sources.table.column("Année").kind == "text"
    assert "Non renseigné (barème « Autre »)" in _column(carriers, "Porteur")
    assert departements.title == "Par département — 2023" and departements.key == "financement-detail-2023"
    assert _column(departements, "Département") == ["01 — Ain", "2A — Corse-du-Sud", "2B — Haute-Corse"]
    assert not departements.table_in_expander
    assert sites.title == "Par site — 2023"
    assert _column(sites, "Site") == ["P3", "P4", "P5"]
    assert _column(sites, "Forfait dû (€)") == [round(28000 * 90 / 365), 35000, 30000]
    assert rates.title == "Barème chargé (table « forfaits »)" and rates.table.frame.height == 5
    for section in (sources, carriers, departements, sites, rates):
        _no_feed_date(section)


# --- Financement: the envelope and the arrears ------------------------------------------------------


def test_envelope_sections(fund_db):
    with reader(fund_db) as con:
        assert fview.envelope_loaded(con)
        now = fview.envelope(con, fview.envelope_as_of("aujourdhui"))
        end_2020 = fview.envelope(con, dt.date(2020, 12, 31))
        timeline = fview.envelope_timeline(con)
    assert _tiles(now) == {"Engagé": f"12,00{NBSP}M€", "Payé": f"9,00{NBSP}M€", "Reste à engager": f"18,00{NBSP}M€"}
    assert now.tiles[0].caption == f"40,0{NBSP}% de l'enveloppe"
    assert _tiles(end_2020)["Payé"] == f"4,00{NBSP}M€"
    assert now.data_date == timeline.data_date == "Dernière opération chargée : 1er février 2021"
    assert not now.messages
    assert _column(timeline, "Opération") == ["LP-1", "AN-1", "LP-1-P1", "LP-1-P2"]
    assert fview.envelope_as_of("echeance") == dt.date(2022, 12, 31)


def test_arrears_sections(fund_db):
    with reader(fund_db) as con:
        national = fview.arrears(con, NATIONAL)
        ain = fview.arrears(con, Scope("departement", "01"))
        corse = fview.arrears(con, resolve(con, Scope("site", "P6")))
    assert _tiles(national) == {
        "MSAP régularisées": "9",
        "Restant dû": "359",
        "Montant versé": f"67{formats.NNBSP}500{NBSP}€",
    }
    assert national.tiles[0].caption == f"sur 368 ({formats.percent(9 / 368, 1)})"
    assert national.data_date == "Dernière régularisation : 1er février 2020"
    assert _column(national, "Département") == ["01 — Ain", "2A — Corse-du-Sud"]
    assert _tiles(ain) == {
        "MSAP régularisées": "6",
        "Départements concernés": "1",
        "Montant versé": formats.euros(45000),
    }
    assert ain.notes[0].startswith("La circulaire ne répartit pas les 368 MSAP par département")
    assert corse.empty == "Aucune régularisation chargée pour ce périmètre (table « regularisation_msap_2018 »)."
    assert corse.title == fview.ARREARS_TITLE


def test_funding_empty_states(db_path):
    _load(db_path, [("sites.csv", csv_bytes(FUNDED_SITES_HEADER, FUNDED_SITES))])
    with reader(db_path) as con:
        years, nothing = fview.flat_rate_years(con, NATIONAL, None, None)
        assert not fview.envelope_loaded(con)
        envelope = fview.envelope(con, None)
        arrears = fview.arrears(con, NATIONAL)
    assert years == () and nothing.empty.startswith("Le barème des forfaits n'est pas chargé")
    assert envelope.empty.startswith("Aucun engagement ni paiement chargé")
    assert arrears.empty.startswith("Aucune régularisation chargée")
