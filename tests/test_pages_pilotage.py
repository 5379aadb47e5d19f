"""Satisfaction, Financement and Dictionnaire des indicateurs pages on the demo warehouse (AppTest).

Each page renders at every scope level, and changing a filter changes its figures — checked against
the metric functions. The Financement figures use the demo warehouse plus the demo funding files
(:func:`fsdash.demo.funding.funding_files`), loaded here through the ingest path until the demo
builder loads them itself; its empty state is checked on a warehouse without funding rows.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from fsdash import formats
from fsdash.metrics import activity, funding, satisfaction
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.warehouse.store import reader, writer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
FUNDING_TABLES = ["forfaits", "enveloppe_bdt", "regularisation_msap_2018"]


def _funding_rows(con) -> int:
    return sum(con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in FUNDING_TABLES)


@pytest.fixture(scope="module")
def funded_db(demo_db, demo_today, tmp_path_factory) -> Path:
    """The demo warehouse with the demo funding files loaded (a no-op once the builder loads them)."""
    from fsdash.demo.funding import funding_files
    from fsdash.periods import last_complete_quarter
    from fsdash.warehouse.ingest import ingest_paths

    folder = tmp_path_factory.mktemp("finance")
    path = folder / "fsdash.duckdb"
    shutil.copyfile(demo_db, path)
    with reader(path) as con:
        loaded = _funding_rows(con)
    if not loaded:
        files = funding_files(np.random.default_rng(2019), folder, last_complete_quarter(demo_today))
        with writer(path) as con:
            result = ingest_paths(con, files, nature="demo", today=demo_today)
        assert result.exit_code == 0
    return path


@pytest.fixture(scope="module")
def unfunded_db(demo_db, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sans-finance") / "fsdash.duckdb"
    shutil.copyfile(demo_db, path)
    with writer(path) as con:
        for table in FUNDING_TABLES:
            con.sql(f"DELETE FROM {table}")
    return path


def _app(db: Path, monkeypatch, **params: str) -> AppTest:
    monkeypatch.setenv("FSDASH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(params)
    return at


def _open(at: AppTest, page: str) -> AppTest:
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def _money(value: float) -> str:
    """The Financement page's money format: M€ from a million, euros below."""
    return formats.millions_euros(value, 2) if abs(value) >= 1_000_000 else formats.euros(round(value))


def _kiosk_departement(db: Path, first: dt.date, last: dt.date) -> tuple[str, dict]:
    """A département with kiosk answers whose rate differs from the national one."""
    with reader(db) as con:
        national = satisfaction.kiosk_summary(con, NATIONAL, first, last).row(0, named=True)
        deps = satisfaction.kiosk_by_area(con, NATIONAL, first, last, "departement")
    differs = (pl.col("reponses") > 0) & (pl.col("taux").round(3) != round(national["taux"], 3))
    pick = deps.filter(differs).row(0, named=True)
    return pick["departement"], national


# --- every page, every scope ----------------------------------------------------------------------


@pytest.mark.parametrize("page", ["pages/page_satisfaction.py", "pages/page_financement.py"])
def test_a_rerun_reads_nothing_again(funded_db, monkeypatch, page):
    """Sections are cached per warehouse version and filters: a rerun with the same filters asks no
    satisfaction, funding or official metric again (the tables and files cost nothing to redraw)."""
    from fsdash import cache

    at = _open(_app(funded_db, monkeypatch), page)
    with cache.recording() as calls:
        at.run()
    assert not at.exception, at.exception
    page_metrics = ("fsdash.metrics.satisfaction.", "fsdash.metrics.funding.", "fsdash.metrics.official.")
    assert not [c.name for c in calls if c.name.startswith(page_metrics)]


# --- Satisfaction ---------------------------------------------------------------------------------


def test_satisfaction_national_then_departement(funded_db, monkeypatch):
    with reader(funded_db) as con:
        quarters = activity.quarters(con)
    first, last = quarters[0], quarters[-1]
    code, national = _kiosk_departement(funded_db, first, last)
    at = _open(_app(funded_db, monkeypatch), "pages/page_satisfaction.py")
    assert _metric(at, "Usagers satisfaits (bornes)") == formats.percent(national["taux"], 1)
    assert _metric(at, "Réponses aux bornes") == formats.number(national["reponses"])
    at.selectbox(key="scope_level").set_value("departement").run()
    at.selectbox(key="scope_code_departement").set_value(code).run()
    assert not at.exception
    with reader(funded_db) as con:
        local = satisfaction.kiosk_summary(con, Scope("departement", code), first, last).row(0, named=True)
    shown = _metric(at, "Usagers satisfaits (bornes)")
    assert shown == ("≈ " if local["fragile"] else "") + formats.percent(local["taux"], 1)
    assert shown != formats.percent(national["taux"], 1)


def test_satisfaction_period_from_the_url(funded_db, monkeypatch):
    at = _open(_app(funded_db, monkeypatch, du="2024-T1", au="2024-T4"), "pages/page_satisfaction.py")
    with reader(funded_db) as con:
        row = satisfaction.kiosk_summary(con, NATIONAL, dt.date(2024, 1, 1), dt.date(2024, 10, 1)).row(0, named=True)
    assert _metric(at, "Réponses aux bornes") == formats.number(row["reponses"])


def test_satisfaction_survey_year_and_published_table(funded_db, monkeypatch):
    with reader(funded_db) as con:
        years = satisfaction.survey_years(con)
        by_year = {y: satisfaction.survey_by_question(con, NATIONAL, y)["repondants"].max() for y in years}
        published = satisfaction.published_results(con, NATIONAL, years[0])
    at = _open(_app(funded_db, monkeypatch), "pages/page_satisfaction.py")
    shown_year = at.selectbox(key="satisfaction_annee").value
    assert _metric(at, "Répondants") == formats.number(by_year[shown_year])
    at.selectbox(key="satisfaction_annee").set_value(years[0]).run()
    assert not at.exception
    assert _metric(at, "Répondants") == formats.number(by_year[years[0]]) != formats.number(by_year[shown_year])
    assert _metric(at, "Sites publiant") == formats.number(published["site_id"].n_unique())
    assert _metric(at, "Dont fragiles") == formats.number(int(published["fragile"].sum()))


# --- Financement ----------------------------------------------------------------------------------


def test_financement_figures_follow_year_and_scope(funded_db, monkeypatch):
    with reader(funded_db) as con:
        quarters = activity.quarters(con)
        years = [y for y in funding.funding_years(con) if quarters[0].year <= y <= quarters[-1].year]
        national = funding.funding_by_year(con, NATIONAL, years[0], years[-1])
        code = con.sql("SELECT min(departement) FROM sites").fetchall()[0][0]
        local = funding.funding_by_year(con, Scope("departement", code), years[0], years[-1])
    last = years[-1]
    at = _open(_app(funded_db, monkeypatch), "pages/page_financement.py")
    row = national.filter(pl.col("annee") == last).row(0, named=True)
    assert _metric(at, f"Forfaits dus — {last}") == _money(row["montant_du"])
    assert _metric(at, "Fonds postal") == _money(row["FONDS_POSTAL"])
    at.selectbox(key="financement_annee").set_value(years[0]).run()
    first_row = national.filter(pl.col("annee") == years[0]).row(0, named=True)
    assert _metric(at, f"Forfaits dus — {years[0]}") == _money(first_row["montant_du"])
    at.selectbox(key="scope_level").set_value("departement").run()
    at.selectbox(key="scope_code_departement").set_value(code).run()
    assert not at.exception
    dep_row = local.filter(pl.col("annee") == at.selectbox(key="financement_annee").value).row(0, named=True)
    shown = _metric(at, "Forfaits dus")
    assert shown == _money(dep_row["montant_du"]) != _money(row["montant_du"])


def test_financement_envelope_at_the_circular_deadline(funded_db, monkeypatch):
    from fsdash.circulaire import BDT_ENVELOPE, MSAP_ARREARS_2018

    with reader(funded_db) as con:
        now = funding.envelope_status(con)
        deadline = funding.envelope_status(con, BDT_ENVELOPE.date)
        regularised = int(funding.arrears_by_departement(con)["msap_regularisees"].sum())
    at = _open(_app(funded_db, monkeypatch), "pages/page_financement.py")
    assert _metric(at, "Payé") == formats.millions_euros(now["paye"].sum(), 2)
    at.radio(key="financement_bdt_date").set_value("echeance").run()
    assert not at.exception
    paid_then, paid_now = (formats.millions_euros(s["paye"].sum(), 2) for s in (deadline, now))
    assert _metric(at, "Payé") == paid_then != paid_now
    assert _metric(at, "MSAP régularisées") == formats.number(regularised)
    assert _metric(at, "Restant dû") == formats.number(int(MSAP_ARREARS_2018.value) - regularised)


def test_financement_empty_state(unfunded_db, monkeypatch):
    at = _open(_app(unfunded_db, monkeypatch), "pages/page_financement.py")
    infos = " ".join(i.body for i in at.info)
    assert "barème des forfaits n'est pas chargé" in infos
    assert "Aucun engagement ni paiement chargé" in infos
    assert "Aucune régularisation chargée" in infos
    assert not [m for m in at.metric if m.label.startswith("Forfaits dus")]


# --- Dictionnaire des indicateurs -----------------------------------------------------------------


def test_dictionary_lists_every_table_and_offers_the_templates(funded_db, monkeypatch):
    from fsdash.catalogue import load_catalogue

    catalogue = load_catalogue()
    at = _open(_app(funded_db, monkeypatch), "pages/page_dictionnaire.py")
    subheaders = [h.value for h in at.subheader]
    for table in catalogue.tables.values():
        assert any(f"`{table.code}`" in h for h in subheaders), table.code
    assert len(at.table) == len(catalogue.tables) + len(catalogue.dimensions) + 1  # tables, code lists, rules
    labels = [b.label for b in at.get("download_button")]
    assert "Classeur de reporting (XLSX)" in labels
    assert all(f"{code}.csv" in labels for code in catalogue.tables)


def test_dictionary_search_narrows_the_tables(funded_db, monkeypatch):
    at = _open(_app(funded_db, monkeypatch), "pages/page_dictionnaire.py")
    at.text_input(key="dictionnaire_recherche").set_value("réponse sous 72").run()
    assert not at.exception
    subheaders = [h.value for h in at.subheader]
    assert len(subheaders) == 1 and "`activite`" in subheaders[0]
    at.text_input(key="dictionnaire_recherche").set_value("annexe 4").run()
    found = " ".join(h.value for h in at.subheader)
    assert "`forfaits`" in found and "`enveloppe_bdt`" in found and "`activite`" not in found
    at.text_input(key="dictionnaire_recherche").set_value("zzzz introuvable").run()
    assert any("Aucun indicateur" in i.body for i in at.info)
