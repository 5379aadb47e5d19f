"""Funding metrics (annex 4) on a hand-made warehouse with golden answers, the funding tables'
round trip through the validated ingest, and the demo funding files' calibration.

Sites (2023 is the year checked; 365 days):

====  ====  ===========  =====  ==========  ==========  ==============================================
site  dép.  porteur      Poste  labellisé   fermé       2023
====  ====  ===========  =====  ==========  ==========  ==============================================
P1    01    COMMUNE      non    01/01/2018  —           ouvert toute l'année
P2    01    LA_POSTE     oui    01/07/2023  —           184 jours (labellisé en cours d'année)
P3    2A    ASSOCIATION  non    01/01/2020  01/04/2023  90 jours, hébergé par l'État
P4    2A    (vide)       non    01/01/2022  —           porteur inconnu : barème « Autre »
P5    2A    EPCI         non    01/01/2019  —           hébergé par l'État
P6    2B    (vide)       oui    01/01/2021  —           tenu par La Poste : barème La Poste
====  ====  ===========  =====  ==========  ==========  ==============================================

Rates 2023 (not the demo's, to show they are data): 35 000 € everywhere; communes and EPCI
20 000 FNADT + 15 000 inter-operator, abattement 5 000 (EPCI only); associations 17 500 + 17 500,
abattement 7 000; La Poste 4 000 inter-operator + 31 000 postal; « Autre » 10 000 + 10 000 (15 000
left unallocated). No rates for 2024.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from fsdash.circulaire import BDT_ENVELOPE_LINES, LA_POSTE_INTEROPERATOR_SHARE, MSAP_ARREARS_2018
from fsdash.metrics import funding
from fsdash.metrics.scope import NATIONAL, Scope, resolve
from fsdash.validation import describe_failure
from fsdash.warehouse.store import reader

from conftest import csv_bytes, ingest_files

SITES_HEADER = [
    "site_id",
    "nom",
    "code_commune",
    "departement",
    "format",
    "type_site",
    "porteur",
    "la_poste",
    "date_labellisation",
    "date_fermeture",
    "heberge_etat",
]
SITES = [
    [site, name, commune, dep, "FIXE", "PRINCIPAL", carrier, poste, label, closed, hosted]
    for site, name, commune, dep, carrier, poste, label, closed, hosted in [
        ("P1", "France Services de Bourg", "01053", "01", "COMMUNE", False, dt.date(2018, 1, 1), None, False),
        ("P2", "France Services La Poste de Nantua", "01269", "01", "LA_POSTE", True, dt.date(2023, 7, 1), None, False),
        (
            "P3",
            "France Services de Sartène",
            "2A272",
            "2A",
            "ASSOCIATION",
            False,
            dt.date(2020, 1, 1),
            dt.date(2023, 4, 1),
            True,
        ),
        ("P4", "France Services de Porto-Vecchio", "2A247", "2A", None, False, dt.date(2022, 1, 1), None, False),
        ("P5", "France Services de Propriano", "2A249", "2A", "EPCI", False, dt.date(2019, 1, 1), None, True),
        ("P6", "France Services La Poste de Corte", "2B096", "2B", None, True, dt.date(2021, 1, 1), None, False),
    ]
]
RATES_HEADER = [
    "annee",
    "porteur",
    "montant_forfait",
    "part_fnadt",
    "part_fonds_interoperateurs",
    "part_fonds_postal",
    "abattement_heberge_etat",
    "origine",
]
RATES = [
    [2023, "COMMUNE", 35000, 20000, 15000, 0, None, "essai"],
    [2023, "EPCI", 35000, 20000, 15000, 0, 5000, "essai"],
    [2023, "ASSOCIATION", 35000, 17500, 17500, 0, 7000, "essai"],
    [2023, "LA_POSTE", 35000, 0, 4000, 31000, None, "essai"],
    [2023, "AUTRE", 35000, 10000, 10000, 0, None, "essai"],
]
ENVELOPE_HEADER = ["code_operation", "date_operation", "ligne", "engagement", "paiement", "libelle"]
ENVELOPE = [
    ["LP-1", dt.date(2020, 3, 1), "LA_POSTE", 10000.0, 0.0, "convention La Poste"],
    ["LP-1-P1", dt.date(2020, 6, 15), "LA_POSTE", 0.0, 4000.0, "premier paiement"],
    ["LP-1-P2", dt.date(2021, 2, 1), "LA_POSTE", 0.0, 5000.0, "second paiement"],
    ["AN-1", dt.date(2020, 5, 1), "ANIMATION", 2000.0, 0.0, "animation"],
]
ARREARS_HEADER = ["departement", "date_delegation", "msap_regularisees", "montant_verse", "libelle"]
ARREARS = [
    ["01", dt.date(2019, 10, 15), 4, 30000, None],
    ["01", dt.date(2020, 2, 1), 2, 15000, None],
    ["2A", dt.date(2019, 12, 1), 3, 22500, None],
]
DAYS_2023 = 365


def _load(db: Path, files: list[tuple[str, bytes]]):
    result = ingest_files(db, files)
    assert result.exit_code == 0, [m for f in result.files for t in f.tables for m in t.messages()]
    return result


@pytest.fixture
def db(db_path):
    _load(
        db_path,
        [
            ("sites.csv", csv_bytes(SITES_HEADER, SITES)),
            ("forfaits.csv", csv_bytes(RATES_HEADER, RATES)),
            ("bdt.csv", csv_bytes(ENVELOPE_HEADER, ENVELOPE)),
            ("dette.csv", csv_bytes(ARREARS_HEADER, ARREARS)),
        ],
    )
    return db_path


def _site(frame: pl.DataFrame, site: str) -> dict:
    return frame.filter(pl.col("site_id") == site).row(0, named=True)


# --- the flat amount ----------------------------------------------------------------------------


def test_commune_open_all_year_gets_the_whole_amount_split_fnadt_and_inter_operator(db):
    with reader(db) as con:
        p1 = _site(funding.site_funding(con, NATIONAL, 2023, 2023), "P1")
    assert (p1["jours_ouverts"], p1["jours_annee"], p1["prorata"]) == (DAYS_2023, DAYS_2023, 1.0)
    assert (p1["montant_du"], p1["FNADT"], p1["FONDS_INTEROPERATEURS"], p1["FONDS_POSTAL"]) == (35000, 20000, 15000, 0)
    assert p1["porteur"] == "COMMUNE" and p1["bareme"] is True


def test_la_poste_site_opened_mid_year_counts_pro_rata(db):
    """4 000 € from the inter-operator fund, the rest from the postal fund, for 184 days of 365."""
    with reader(db) as con:
        p2 = _site(funding.site_funding(con, NATIONAL, 2023, 2023), "P2")
    share = 184 / 365
    assert p2["jours_ouverts"] == 184 and p2["prorata"] == pytest.approx(share)
    assert p2["montant_du"] == pytest.approx(35000 * share)
    assert p2["FONDS_INTEROPERATEURS"] == pytest.approx(LA_POSTE_INTEROPERATOR_SHARE.value * share)
    assert p2["FONDS_POSTAL"] == pytest.approx(31000 * share)
    assert p2["FNADT"] == 0


def test_state_hosted_sites_get_the_reduced_amount(db):
    with reader(db) as con:
        frame = funding.site_funding(con, NATIONAL, 2023, 2023)
    p5 = _site(frame, "P5")  # EPCI, all year, reduction 5 000 shared pro rata of the parts
    assert (p5["abattement"], p5["montant_du"]) == (5000, 30000)
    assert p5["FNADT"] == pytest.approx(20000 * 30 / 35)
    assert p5["FONDS_INTEROPERATEURS"] == pytest.approx(15000 * 30 / 35)
    p3 = _site(frame, "P3")  # association closed on 1 April: 90 days, reduction 7 000
    assert p3["jours_ouverts"] == 90 and p3["heberge_etat"] is True
    assert p3["montant_du"] == pytest.approx((35000 - 7000) * 90 / 365)
    assert p3["FNADT"] == pytest.approx(17500 * 0.8 * 90 / 365)


def test_unknown_carrier_follows_the_other_rates_and_flag_la_poste_wins(db):
    with reader(db) as con:
        frame = funding.site_funding(con, NATIONAL, 2023, 2023)
    p4 = _site(frame, "P4")
    assert p4["porteur"] == "NON_RENSEIGNE"
    amounts = (p4["montant_du"], p4["FNADT"], p4["FONDS_INTEROPERATEURS"], p4["NON_REPARTI"])
    assert amounts == (35000, 10000, 10000, 15000)
    p6 = _site(frame, "P6")
    assert p6["porteur"] == "LA_POSTE" and (p6["FONDS_INTEROPERATEURS"], p6["FONDS_POSTAL"]) == (4000, 31000)


def test_sites_closed_or_not_yet_labelled_are_left_out(db):
    with reader(db) as con:
        ids_2022 = funding.site_funding(con, NATIONAL, 2022, 2022)["site_id"].to_list()
        ids_2024 = funding.site_funding(con, NATIONAL, 2024, 2024)["site_id"].to_list()
    assert ids_2022 == ["P1", "P3", "P4", "P5", "P6"]  # P2 is labelled in 2023
    assert "P3" not in ids_2024  # closed in April 2023


def test_totals_by_departement_carrier_and_year(db):
    with reader(db) as con:
        deps = funding.funding_by_departement(con, NATIONAL, 2023)
        carriers = funding.funding_by_carrier(con, NATIONAL, 2023, 2023)
        years = funding.funding_by_year(con, NATIONAL, 2023, 2024)
        sources = funding.funding_by_source(con, NATIONAL, 2023, 2023)
    due = {"01": 35000 + 35000 * 184 / 365, "2A": 28000 * 90 / 365 + 35000 + 30000, "2B": 35000}
    assert deps["departement"].to_list() == ["01", "2A", "2B"]
    for row in deps.iter_rows(named=True):
        assert row["montant_du"] == pytest.approx(due[row["departement"]]), row["departement"]
    assert deps.filter(pl.col("departement") == "2A")["sites_heberges_etat"][0] == 2
    assert carriers["porteur"].to_list() == ["ASSOCIATION", "COMMUNE", "EPCI", "LA_POSTE", "NON_RENSEIGNE"]
    poste = carriers.filter(pl.col("porteur") == "LA_POSTE").row(0, named=True)
    assert poste["sites"] == 2 and poste["sites_equivalent"] == pytest.approx(1 + 184 / 365)
    y2023 = years.filter(pl.col("annee") == 2023).row(0, named=True)
    assert y2023["montant_du"] == pytest.approx(sum(due.values()))
    assert y2023["montant_du"] == pytest.approx(sum(y2023[s] for s in funding.SOURCES))
    y2024 = years.filter(pl.col("annee") == 2024).row(0, named=True)  # no rates loaded for 2024
    assert y2024["sites_sans_bareme"] == y2024["sites"] == 5 and y2024["montant_du"] == 0
    assert sources.filter(pl.col("source") == "NON_REPARTI")["montant"][0] == 15000


def test_funding_follows_the_scope(db):
    with reader(db) as con:
        poste = funding.funding_by_year(con, Scope("national", None, carriers=("LA_POSTE",)), 2023, 2023)
        corse = funding.funding_by_year(con, Scope("departement", "2A"), 2023, 2023)
        site = funding.funding_by_year(con, Scope("site", "P1"), 2023, 2023)
    assert poste["sites"][0] == 1  # the carrier filter reads the registry's carrier (P6 has none)
    assert corse["sites"][0] == 3
    assert site["montant_du"][0] == 35000


def test_empty_rates_give_empty_frames(db_path):
    _load(db_path, [("sites.csv", csv_bytes(SITES_HEADER, SITES))])
    with reader(db_path) as con:
        assert funding.funding_rates(con).is_empty()
        assert funding.funding_years(con) == ()
        assert funding.funding_by_year(con, NATIONAL, 2020, 2023).is_empty()
        assert funding.envelope_operations(con).is_empty()
        assert funding.envelope_timeline(con).is_empty()
        assert funding.arrears_by_departement(con).is_empty()
        status = funding.envelope_status(con)
    assert status["reste_a_engager"].to_list() == [r.value for r in BDT_ENVELOPE_LINES.values()]


# --- the Banque des Territoires envelope ----------------------------------------------------------


def test_envelope_committed_paid_and_remaining(db):
    with reader(db) as con:
        status = funding.envelope_status(con)
        end_2020 = funding.envelope_status(con, dt.date(2020, 12, 31))
    rows = {r["ligne"]: r for r in status.iter_rows(named=True)}
    assert list(rows) == ["LA_POSTE", "ANIMATION", "BUS"]
    assert (rows["LA_POSTE"]["engage"], rows["LA_POSTE"]["paye"]) == (10_000_000, 9_000_000)
    assert rows["LA_POSTE"]["reste_a_engager"] == 7_000_000 and rows["LA_POSTE"]["reste_a_payer"] == 1_000_000
    assert rows["ANIMATION"]["reste_a_engager"] == 8_000_000 and rows["ANIMATION"]["taux_engagement"] == 0.2
    assert (rows["BUS"]["engage"], rows["BUS"]["reste_a_engager"]) == (0, 3_000_000)
    assert not status["depassement"].any() and not status["paye_sans_engagement"].any()
    assert end_2020.filter(pl.col("ligne") == "LA_POSTE")["paye"][0] == 4_000_000


def test_envelope_timeline_by_quarter(db):
    with reader(db) as con:
        timeline = funding.envelope_timeline(con)
    assert timeline.height == 5 * 3  # 2020 T1 to 2021 T1, three lines
    poste = timeline.filter(pl.col("ligne") == "LA_POSTE").select("date", "engage", "paye").rows()
    assert poste == [
        (dt.date(2020, 3, 31), 10e6, 0.0),
        (dt.date(2020, 6, 30), 10e6, 4e6),
        (dt.date(2020, 9, 30), 10e6, 4e6),
        (dt.date(2020, 12, 31), 10e6, 4e6),
        (dt.date(2021, 3, 31), 10e6, 9e6),
    ]


def test_envelope_anomalies_are_flagged(db):
    over = [
        ["BUS-1", dt.date(2021, 1, 5), "BUS", 3500.0, 0.0, "trop"],
        ["AN-2", dt.date(2021, 1, 5), "ANIMATION", 0.0, 2500.0, "trop payé"],
    ]
    _load(db, [("bdt-2.csv", csv_bytes(ENVELOPE_HEADER, over))])
    with reader(db) as con:
        status = funding.envelope_status(con)
    flags = {r["ligne"]: (r["depassement"], r["paye_sans_engagement"]) for r in status.iter_rows(named=True)}
    assert flags == {"LA_POSTE": (False, False), "ANIMATION": (False, True), "BUS": (True, False)}


# --- the 2018 arrears ----------------------------------------------------------------------------


def test_arrears_by_departement_and_over_time(db):
    with reader(db) as con:
        deps = funding.arrears_by_departement(con)
        timeline = funding.arrears_timeline(con)
        ain = funding.arrears_timeline(con, Scope("departement", "01"))
        site = funding.arrears_by_departement(con, resolve(con, Scope("site", "P4")))
    assert deps.select("departement", "msap_regularisees", "montant_verse").rows() == [
        ("01", 6, 45000),
        ("2A", 3, 22500),
    ]
    owed = int(MSAP_ARREARS_2018.value)
    assert timeline.rows() == [
        (dt.date(2019, 10, 15), 4, owed - 4),
        (dt.date(2019, 12, 1), 7, owed - 7),
        (dt.date(2020, 2, 1), 9, owed - 9),
    ]
    assert ain.rows() == [(dt.date(2019, 10, 15), 4, None), (dt.date(2020, 2, 1), 6, None)]
    assert site["departement"].to_list() == ["2A"]  # a site shows its département


# --- the catalogue tables through the validated ingest ------------------------------------------


def test_a_bad_rate_row_is_rejected_with_a_french_message(db_path):
    bad = [
        [2024, "COMMUNE", 40000, 20000, 20000, 0, None, "ok"],
        [2024, "EPCI", 35000, 20000, 20000, 0, None, "parts trop fortes"],
        [2024, "TRAIN", 35000, 0, 0, 0, None, "porteur inconnu"],
    ]
    result = ingest_files(db_path, [("forfaits-2024.csv", csv_bytes(RATES_HEADER, bad))])
    assert result.exit_code == 1
    (table,) = result.files[0].tables
    assert (table.rows_accepted, table.rows_rejected) == (1, 2)
    messages = table.messages()
    assert (
        "forfaits-2024.csv, ligne 3, colonne « part_fnadt » : la somme des parts des financeurs (40000) "
        "dépasse le forfait (35000) "
        "[parts_le_forfait]"
    ) in messages
    assert any(
        m.startswith("forfaits-2024.csv, ligne 4, colonne « porteur » : valeur « TRAIN » inconnue") for m in messages
    ), messages
    with reader(db_path) as con:
        rates = funding.funding_rates(con).select("annee", "porteur", "montant_forfait").rows()
        assert rates == [(2024, "COMMUNE", 40000)]
        assert con.sql("SELECT count(*) FROM quarantine WHERE table_code = 'forfaits'").fetchall()[0][0] == 2


def test_reference_tables_reload_and_correct_by_key(db):
    """Reloading the same file changes nothing; a corrected row replaces the stored one (same key)."""
    again = ingest_files(db, [("forfaits.csv", csv_bytes(RATES_HEADER, RATES))])
    assert again.files[0].status == "deja_charge"
    corrected = [r.copy() for r in RATES]
    corrected[0][3:5] = [17500, 17500]
    _load(db, [("forfaits-corrige.csv", csv_bytes(RATES_HEADER, corrected))])
    with reader(db) as con:
        rates = funding.funding_rates(con)
        p1 = _site(funding.site_funding(con, NATIONAL, 2023, 2023), "P1")
    assert rates.height == len(RATES)
    assert rates.filter(pl.col("porteur") == "COMMUNE")["part_fnadt"][0] == 17500
    assert p1["FNADT"] == 17500


def test_envelope_and_arrears_rows_are_validated(db_path):
    envelope = [
        ["X-1", dt.date(2020, 1, 1), "TRAIN", 10.0, 0.0, ""],
        ["X-2", "31/02/2020", "BUS", 10.0, 0.0, ""],
        ["X-3", dt.date(2020, 1, 1), "BUS", 10.0, 0.0, ""],
    ]
    arrears = [["2C", dt.date(2019, 10, 1), 3, None, None], ["01", dt.date(2019, 10, 1), 400, None, None]]
    result = ingest_files(
        db_path, [("bdt.csv", csv_bytes(ENVELOPE_HEADER, envelope)), ("dette.csv", csv_bytes(ARREARS_HEADER, arrears))]
    )
    by_table = {t.table.code: t for f in result.files for t in f.tables}
    assert (by_table["enveloppe_bdt"].rows_accepted, by_table["enveloppe_bdt"].rows_rejected) == (1, 2)
    assert by_table["regularisation_msap_2018"].rows_rejected == 2
    text = "\n".join(by_table["regularisation_msap_2018"].messages())
    assert "valeur « 2C » mal formée" in text and "hors de la plage admise (0 à 368 MSAP)" in text
    date_failure = by_table["enveloppe_bdt"].failures.filter(pl.col("colonne") == "date_operation").row(0, named=True)
    assert describe_failure("bdt.csv", date_failure) == (
        "bdt.csv, ligne 3, colonne « date_operation » : valeur « 31/02/2020 » illisible : "
        "date attendue (JJ/MM/AAAA) [format]"
    )


# --- the demo funding files -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_funding(tmp_path_factory):
    from fsdash.demo.funding import funding_files
    from fsdash.warehouse.ingest import ingest_paths
    from fsdash.warehouse.store import writer

    folder = tmp_path_factory.mktemp("financement")
    paths = funding_files(np.random.default_rng(2019), folder, (2026, 3))
    db = folder / "entrepot.duckdb"
    with writer(db) as con:
        result = ingest_paths(con, paths, nature="demo", today=dt.date(2026, 11, 27))
    assert result.exit_code == 0, [m for f in result.files for t in f.tables for m in t.messages()]
    return db, paths


def test_demo_rates_follow_the_circular(demo_funding):
    db, _ = demo_funding
    with reader(db) as con:
        rates = funding.funding_rates(con)
    amounts = dict(
        rates.group_by("annee")
        .agg(pl.col("montant_forfait").unique())
        .select("annee", pl.col("montant_forfait").list.first())
        .iter_rows()
    )
    assert {y: amounts[y] for y in (2019, 2020, 2021, 2022, 2023, 2024)} == {
        2019: 30000,
        2020: 30000,
        2021: 30000,
        2022: 30000,
        2023: 35000,
        2024: 40000,
    }
    assert set(rates["annee"].to_list()) == set(range(2019, 2027))
    poste = rates.filter(pl.col("porteur") == "LA_POSTE")
    assert poste["part_fonds_interoperateurs"].unique().to_list() == [4000]
    assert (poste["part_fonds_postal"] == poste["montant_forfait"] - 4000).all() and (poste["part_fnadt"] == 0).all()
    parts = rates["part_fnadt"] + rates["part_fonds_interoperateurs"] + rates["part_fonds_postal"]
    assert (parts == rates["montant_forfait"]).all()
    others = rates.filter(pl.col("porteur") != "LA_POSTE")
    assert others["origine"].str.contains("démonstration").all()  # the split the circular does not give


def test_demo_envelope_is_calibrated(demo_funding):
    db, _ = demo_funding
    with reader(db) as con:
        status = funding.envelope_status(con)
        end_2022 = funding.envelope_status(con, dt.date(2022, 12, 31))
        timeline = funding.envelope_timeline(con)
    assert not status["depassement"].any()
    assert (status["engage"] <= status["enveloppe"]).all()
    assert (timeline["paye"] <= timeline["engage"] + 0.01).all()  # commitments ahead of payments, always
    assert (end_2022["taux_engagement"] >= 0.9).all()  # mostly committed by the end of 2022
    assert (end_2022["paye"] < end_2022["engage"]).all()
    assert (status["taux_paiement"] > 0.9).all()


def test_demo_arrears_and_determinism(demo_funding, tmp_path):
    from fsdash.demo.funding import funding_files

    db, paths = demo_funding
    with reader(db) as con:
        done = int(funding.arrears_by_departement(con)["msap_regularisees"].sum())
        first = funding.arrears_timeline(con)["date"].min()
    assert MSAP_ARREARS_2018.value - 10 <= done < MSAP_ARREARS_2018.value
    assert first >= dt.date(2019, 10, 1)
    again = funding_files(np.random.default_rng(2019), tmp_path, (2026, 3))
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]
    early_folder = tmp_path / "2021"
    early_folder.mkdir()
    early = {
        p.name: pl.read_csv(p, separator=";", infer_schema=False)
        for p in funding_files(np.random.default_rng(2019), early_folder, (2021, 2))
    }
    assert early["demo-forfaits.csv"]["annee"].unique().sort().to_list() == ["2019", "2020", "2021"]
    days = early["demo-enveloppe_bdt.csv"]["date_operation"].str.to_date("%d/%m/%Y")
    assert days.max() <= dt.date(2021, 6, 30)
