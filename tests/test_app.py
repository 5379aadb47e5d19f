"""The home, Trajectoire et maillage and Chargements et qualité pages show the right figures (AppTest on
the demo warehouse, through the app.py frame)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fsdash import formats
from fsdash.metrics import activity
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.warehouse.store import reader

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture
def app(demo_db, monkeypatch):
    monkeypatch.setenv("FSDASH_DB", str(demo_db))
    return AppTest.from_file(APP, default_timeout=60)


def _metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def test_home_shows_national_headline_figures(app, demo_db):
    at = app.run()
    with reader(demo_db) as con:
        last = activity.quarters(con)[-1]
        frame = activity.activity_by_quarter(con)
        completeness = activity.reporting_completeness(con, NATIONAL, last).row(0, named=True)
    requests = frame.filter(frame["periode"] == last)["demandes"][0]
    year_before = frame.filter(frame["periode"] == last.replace(year=last.year - 1))["demandes"][0]
    assert _metric(at, "Demandes") == formats.number(requests)
    delta = next(m for m in at.metric if m.label.startswith("Demandes")).delta
    change = requests / year_before - 1
    assert delta == formats.signed_percent(change, 1, minus="-") + " sur un an"
    assert delta.startswith("-" if change < 0 else "+")  # the arrow's direction, not only its colour
    assert _metric(at, "Complétude") == formats.percent(completeness["taux"], 1)
    assert int(_metric(at, "Sites labellisés").replace(formats.NNBSP, "")) > 2500


def test_changing_the_scope_changes_the_figures(app, demo_db):
    at = app.run()
    national = _metric(at, "Demandes")
    at.selectbox(key="scope_level").set_value("departement").run()
    code = at.selectbox(key="scope_code_departement").value
    with reader(demo_db) as con:
        last = activity.quarters(con)[-1]
        frame = activity.activity_by_quarter(con, Scope("departement", code))
    expected = frame.filter(frame["periode"] == last)["demandes"][0]
    assert _metric(at, "Demandes") == formats.number(expected) != national
    assert at.query_params["perimetre"] == "departement" and at.query_params["code"] == code


def test_missing_warehouse_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("FSDASH_DB", str(tmp_path / "absent.duckdb"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "python -m fsdash demo" in at.error[0].body


def test_quality_page_lists_batches_and_rejections(app, demo_db):
    at = app.run()
    at.switch_page("pages/page_chargements.py").run()
    with reader(demo_db) as con:
        files = con.sql("SELECT count(*) FROM batches").fetchall()[0][0]
    assert _metric(at, "Fichiers chargés") == formats.number(files)
    assert len(at.dataframe) >= 3  # batches, rejections by rule, the selected batch's quarantine
    lots = next(s for s in at.selectbox if s.label == "Lot à examiner")
    with reader(demo_db) as con:
        batch, name = con.sql(
            "SELECT batch_id, file_name FROM batches WHERE rows_rejected > 0 ORDER BY batch_id LIMIT 1"
        ).fetchall()[0]
        lines = con.sql("SELECT count(*) FROM quarantine WHERE batch_id = ?", params=[batch]).fetchall()[0][0]
    lots.set_value(batch).run()
    assert not at.exception
    assert at.dataframe[-1].value.shape[0] == min(lines, 1000)  # the chosen batch's quarantine
    assert f"lot {batch} — {name}" in lots.options
    captions = " ".join(c.value for c in at.caption)
    assert "Dernier chargement le" in captions and "Référentiel à jour au" in captions


def test_a_link_reproduces_the_view(app, demo_db):
    """Opening the URL with ?perimetre=departement&code=… shows that département's figures."""
    with reader(demo_db) as con:
        code = con.sql("SELECT min(departement) FROM sites").fetchall()[0][0]
        last = activity.quarters(con)[-1]
        frame = activity.activity_by_quarter(con, Scope("departement", code))
    app.query_params["perimetre"] = "departement"
    app.query_params["code"] = code
    at = app.run()
    expected = frame.filter(frame["periode"] == last)["demandes"][0]
    assert _metric(at, "Demandes") == formats.number(expected)


def test_maillage_page_shows_coverage_and_candidates_for_a_departement(app, demo_db, demo_today):
    from fsdash.metrics import candidates, coverage

    with reader(demo_db) as con:
        code = con.sql("SELECT min(departement) FROM sites").fetchall()[0][0]
        summary = coverage.canton_coverage_summary(con, Scope("departement", code), dt.date.today()).row(0, named=True)
    app.query_params["perimetre"] = "departement"
    app.query_params["code"] = code
    at = app.run()
    at.switch_page("pages/page_maillage.py").run()
    assert not at.exception
    assert _metric(at, "Cantons couverts") == formats.percent(summary["share"], 1)
    assert any("Où ouvrir ensuite" in h.value for h in at.subheader)
    assert len(at.dataframe) == 5  # 2 trajectory tables, uncovered cantons, farthest communes, candidates
    with reader(demo_db) as con:
        ranked = candidates.opening_candidates(con, Scope("departement", code), dt.date.today(), 10, 20)
    at.select_slider(key="maillage_rayon").set_value(20).run()
    assert not at.exception
    assert at.dataframe[-1].value["Commune"].to_list() == ranked["code_insee"].to_list()
    at.radio(key="maillage_repartition").set_value("porteur").run()
    assert "Porteur" in at.dataframe[1].value.columns
    captions = " ".join(c.value for c in at.caption)
    assert "Référentiel à jour au" in captions and f"Situation au {formats.date_long(dt.date.today())}" in captions
    assert "Données jusqu'au" not in captions  # a registry page never borrows the activity feed's date


def test_maillage_page_at_national_scope_asks_for_a_departement(app):
    at = app.run()
    at.switch_page("pages/page_maillage.py").run()
    assert not at.exception
    assert any(i.body.startswith("Choisissez un département") for i in at.info)
    assert not [s for s in at.select_slider if s.key == "maillage_rayon"]
    assert len(at.dataframe) == 4  # no candidates table


REAL_LIST = ROOT.parent / "shared" / "reference" / "anct" / "liste-fs-20240801.csv"


@pytest.mark.skipif(not REAL_LIST.exists(), reason="liste ANCT de référence absente (../shared/reference)")
def test_home_shows_the_real_network_figures(tmp_path, monkeypatch):
    """The official list alone (no activity yet): trajectory and coverage tiles on the home page."""
    import datetime as dt

    import polars as pl

    from fsdash.metrics import coverage
    from fsdash.warehouse.ingest import import_site_list
    from fsdash.warehouse.store import writer

    db = tmp_path / "reel.duckdb"
    with writer(db) as con:
        import_site_list(con, REAL_LIST.name, REAL_LIST.read_bytes())
    with reader(db) as con:
        cantons = coverage.canton_coverage_summary(con, NATIONAL, dt.date.today()).row(0, named=True)
        within = coverage.population_within(con, NATIONAL, dt.date.today()).filter(pl.col("radius_km") == 10)["share"][
            0
        ]
    monkeypatch.setenv("FSDASH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert _metric(at, "Sites labellisés") == formats.number(2845)
    assert _metric(at, "Cantons couverts") == formats.percent(cantons["share"], 1)
    assert _metric(at, "Population à moins de 10 km") == formats.percent(within, 1)
    assert not any("Données de démonstration" in w.body for w in at.warning)
    assert any("Aucune donnée d'activité" in i.body for i in at.info)


def test_period_format_and_site_filters_come_from_the_url(app, demo_db):
    with reader(demo_db) as con:
        site, dep = con.sql(
            "SELECT site_id, departement FROM sites WHERE format = 'BUS' ORDER BY site_id LIMIT 1"
        ).fetchall()[0]
        bus = activity.activity_by_quarter(con, Scope("national", None, formats=("BUS",)))
    app.query_params.update({"du": "2024-T1", "au": "2025-T2", "formats": "BUS"})
    at = app.run()
    assert not at.exception
    expected = bus.filter(bus["periode"] == dt.date(2025, 4, 1))["demandes"][0]
    assert _metric(at, "Demandes — T2 2025") == formats.number(expected)
    site_app = AppTest.from_file(APP, default_timeout=60)
    site_app.query_params.update({"perimetre": "site", "code": site})
    at = site_app.run()
    assert not at.exception
    assert at.selectbox(key="scope_site").value == site
    assert at.selectbox(key="scope_code_departement").value == dep


def test_upload_a_corrected_quarter_from_the_quality_page(loaded_db, tmp_path, monkeypatch):
    """The programme team loads a file from the browser: same ingest, a new revision, fresh figures."""
    from conftest import ACTIVITE_HEADER, ACTIVITE_ROWS, csv_bytes

    monkeypatch.setenv("FSDASH_DB", str(loaded_db))
    corrected = [list(r) for r in ACTIVITE_ROWS]
    corrected[0][4] = 1550  # FS001 2023 T4: 1 500 -> 1 550 requests
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/page_chargements.py").run()
    at.file_uploader(key="chargement_fichiers").set_value(
        ("activite-corrigee.csv", csv_bytes(ACTIVITE_HEADER, corrected), "text/csv")
    ).run()
    at.button(key="chargement_bouton").click().run()
    assert not at.exception
    assert at.success[0].value == "Fichiers chargés."
    assert "1 révision créée" in at.code[0].value
    [status] = at.status  # the load's progress: its steps inside, its outcome as the title
    assert status.label.startswith("Chargement terminé en ") and status.label.endswith(" s")
    assert [m.value.replace("\\", "") for m in status.markdown] == [  # markdown-escaped file names
        "1 fichier contrôlé",
        "activite-corrigee.csv : 5 lignes lues",
        "activite-corrigee.csv : 5 lignes valides, 0 rejetée",
        "activite-corrigee.csv : 1 révision créée",
        "activite-corrigee.csv : fichier conservé dans l'entrepôt",
    ]
    assert status.state == "complete"
    assert _metric(at, "Fichiers chargés") == "4"  # the sections below read the version just published
    with reader(loaded_db) as con:
        revised = con.sql(
            "SELECT demandes, revision FROM activite WHERE site_id = 'FS001' "
            "AND periode = DATE '2023-10-01' AND is_current"
        ).fetchall()
    assert revised == [(1550, 2)]


def test_upload_into_the_demo_warehouse_is_not_offered(demo_db, monkeypatch):
    """A demo warehouse takes no file: no uploader that would refuse, one French sentence saying why."""
    monkeypatch.setenv("FSDASH_DB", str(demo_db))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/page_chargements.py").run()
    assert not at.get("file_uploader")
    assert any("démonstration n'accepte aucun fichier" in i.value for i in at.info)
