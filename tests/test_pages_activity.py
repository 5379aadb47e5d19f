"""Fréquentation and Motifs de contact pages on the demo warehouse (AppTest through the app.py frame).

The figures shown follow the filters (scope, period, formats, comparison) and equal what the metric
functions answer for the same filters (every page at every scope: tests/test_pages.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from test_reasons import outcomes, requests_by

from fsdash import formats
from fsdash.metrics import attendance, reasons
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.warehouse.store import reader

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
FREQUENTATION = "pages/page_frequentation.py"
MOTIFS = "pages/page_motifs.py"
Y2025 = (dt.date(2025, 1, 1), dt.date(2025, 10, 1))
Y2024 = (dt.date(2024, 1, 1), dt.date(2024, 10, 1))
T1_2025_T2_2026 = (dt.date(2025, 1, 1), dt.date(2026, 4, 1))


@pytest.fixture
def app(demo_db, monkeypatch):
    monkeypatch.setenv("FSDASH_DB", str(demo_db))
    return AppTest.from_file(APP, default_timeout=120)


@pytest.fixture(scope="module")
def demo_facts(demo_db) -> dict:
    """Codes to look at: the quarters, a région, a département, a site reporting every quarter, a bus."""
    from fsdash.metrics import activity

    with reader(demo_db) as con:
        quarters = activity.quarters(con)
        region, departement = con.sql("""SELECT region, departement FROM sites GROUP BY ALL
                                         ORDER BY count(*) DESC, departement LIMIT 1""").fetchall()[0]
        site = con.sql("""SELECT site_id FROM activite WHERE is_current GROUP BY site_id
                          ORDER BY count(*) DESC, site_id LIMIT 1""").fetchall()[0][0]
    return {"quarters": quarters, "region": region, "departement": departement, "site": site}


def _open(app: AppTest, page: str, **params: str) -> AppTest:
    app.query_params.update(params)
    at = app.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def _code(level: str, facts: dict) -> dict:
    return {} if level == "national" else {"perimetre": level, "code": facts[level]}


def test_frequentation_figures_equal_the_metrics(app, demo_db, demo_facts):
    at = _open(app, FREQUENTATION)
    first, last = demo_facts["quarters"][0], demo_facts["quarters"][-1]
    with reader(demo_db) as con:
        summary = attendance.attendance_summary(con, NATIONAL, first, last).row(0, named=True)
        sites = attendance.site_attendance(con, NATIONAL, first, last)
    assert _metric(at, "Demandes traitées").value == formats.number(summary["demandes"])
    assert _metric(at, "Usagers accueillis").value == formats.number(summary["usagers"])
    assert _metric(at, "Demandes par ETP et par trimestre").value == formats.number(summary["demandes_par_etp"])
    assert _metric(at, "Demandes par heure d'ouverture").value == formats.number(summary["demandes_par_heure"], 2)
    stats = attendance.distribution(sites, "demandes_par_etp").row(0, named=True)
    assert _metric(at, "Médiane").value == formats.number(stats["mediane"])
    assert _metric(at, "Sites comparés").value == formats.number(stats["sites"])


def test_frequentation_map_has_no_basemap_and_a_table(app):
    at = _open(app, FREQUENTATION, perimetre="national")
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    spec = json.loads(decks[0].proto.json)
    assert spec["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in spec
    assert [layer["@@type"] for layer in spec["layers"]] == ["GeoJsonLayer", "ScatterplotLayer"]
    sites_table = next(d.value for d in at.dataframe if "Identifiant" in d.value.columns)  # the table beside the map
    assert len(spec["layers"][1]["data"]) == len(sites_table)  # every located site in the table (demo: all located)


def test_frequentation_follows_scope_period_and_format_from_the_url(app, demo_db, demo_facts):
    national = _metric(_open(app, FREQUENTATION), "Demandes traitées").value
    first, last = Y2025
    dep = Scope("departement", demo_facts["departement"], formats=("FIXE",))
    with reader(demo_db) as con:
        expected = attendance.attendance_summary(con, dep, first, last).row(0, named=True)
    at = _open(
        AppTest.from_file(APP, default_timeout=120),
        FREQUENTATION,
        perimetre="departement",
        code=dep.code,
        du="2025-T1",
        au="2025-T4",
        formats="FIXE",
    )
    assert _metric(at, "Demandes traitées").value == formats.number(expected["demandes"]) != national
    assert _metric(at, "Demandes par site et par trimestre").value == formats.number(expected["demandes_par_site"])


def test_frequentation_comparison_with_last_year(app, demo_db):
    at = _open(app, FREQUENTATION, du="2025-T1", au="2025-T4", comparaison="annee")
    with reader(demo_db) as con:
        now = attendance.attendance_summary(con, NATIONAL, *Y2025).row(0, named=True)
        before = attendance.attendance_summary(con, NATIONAL, *Y2024).row(0, named=True)
    tile = _metric(at, "Demandes traitées")
    assert tile.delta == formats.signed_percent(now["demandes"] / before["demandes"] - 1, 1, minus="-") + " sur un an"


def test_frequentation_site_scope_places_the_site_among_its_departement(app, demo_db, demo_facts):
    site = demo_facts["site"]
    at = _open(app, FREQUENTATION, perimetre="site", code=site, du="2025-T1", au="2026-T2")
    with reader(demo_db) as con:
        dep = con.sql("SELECT departement FROM sites WHERE site_id = ?", params=[site]).fetchall()[0][0]
        mine = attendance.attendance_summary(con, Scope("site", site), *T1_2025_T2_2026).row(0, named=True)
        peers = attendance.site_attendance(con, Scope("departement", dep), *T1_2025_T2_2026)
    assert _metric(at, "Demandes traitées").value == formats.number(mine["demandes"])
    assert _metric(at, "Sites comparés").value == formats.number(peers.height)
    rank = attendance.classify(peers, "demandes_par_etp").filter(pl.col("site_id") == site)["rang"][0]
    assert any(f"rang {formats.number(rank)} sur {formats.number(peers.height)}" in m.value for m in at.markdown)


def test_frequentation_load_measure_widget_changes_the_quartiles(app, demo_db, demo_facts):
    at = _open(app, FREQUENTATION)
    before = _metric(at, "Médiane").value
    at.radio(key="frequentation_charge").set_value("demandes_par_heure").run()
    assert not at.exception
    first, last = demo_facts["quarters"][0], demo_facts["quarters"][-1]
    with reader(demo_db) as con:
        sites = attendance.site_attendance(con, NATIONAL, first, last)
    stats = attendance.distribution(sites, "demandes_par_heure").row(0, named=True)
    assert _metric(at, "Médiane").value == formats.number(stats["mediane"], 2) != before


def test_motifs_on_the_spot_share_equals_the_metrics(app, demo_db, demo_facts):
    at = _open(app, MOTIFS)
    first, last = demo_facts["quarters"][0], demo_facts["quarters"][-1]
    with reader(demo_db) as con:
        ends = outcomes(con, NATIONAL, first, last)
    on_spot = ends.filter(pl.col("code") == "REPONDU_SUR_PLACE")["part"][0]
    assert _metric(at, "Part des demandes résolues sur place").value == formats.percent(on_spot, 1)
    assert _metric(at, "Demandes détaillées").value == formats.number(ends["nb_demandes"].sum())
    assert 0.75 < on_spot < 0.9  # demo calibration: about 82 % answered on the spot


def test_motifs_follows_the_scope_widget(app, demo_db, demo_facts):
    at = _open(app, MOTIFS)
    national = _metric(at, "Demandes détaillées").value
    at.selectbox(key="scope_level").set_value("departement").run()
    at.selectbox(key="scope_code_departement").set_value(demo_facts["departement"]).run()
    assert not at.exception
    first, last = demo_facts["quarters"][0], demo_facts["quarters"][-1]
    with reader(demo_db) as con:
        shares = requests_by(con, Scope("departement", demo_facts["departement"]), first, last, "issue")
    assert _metric(at, "Demandes détaillées").value == formats.number(shares["nb_demandes"].sum()) != national
    assert at.query_params["perimetre"] == "departement"


def test_motifs_site_scope_against_the_national_average(app, demo_db, demo_facts):
    site = demo_facts["site"]
    at = _open(app, MOTIFS, perimetre="site", code=site, du="2025-T1", au="2025-T4", comparaison="nationale")
    first, last = Y2025
    with reader(demo_db) as con:
        mine = outcomes(con, Scope("site", site), first, last)
        france = outcomes(con, NATIONAL, first, last)
    share = mine.filter(pl.col("code") == "REPONDU_SUR_PLACE")["part"][0]
    gap = (share - france.filter(pl.col("code") == "REPONDU_SUR_PLACE")["part"][0]) * 100
    tile = _metric(at, "Part des demandes résolues sur place")
    assert tile.value == formats.percent(share, 1)
    assert tile.delta == ("+" if gap >= 0 else "-") + formats.number(abs(gap), 1) + f"{formats.NBSP}pt"


def test_motifs_format_filter_reads_the_detail(app, demo_db, demo_facts):
    at = _open(app, MOTIFS, formats="BUS", du="2025-T1", au="2025-T4")
    with reader(demo_db) as con:
        bus = outcomes(con, Scope("national", None, formats=("BUS",)), *Y2025)
        channels = requests_by(con, Scope("national", None, formats=("BUS",)), *Y2025, "canal")
    assert _metric(at, "Demandes détaillées").value == formats.number(bus["nb_demandes"].sum())
    table = next(df.value for df in at.dataframe if "Canal" in df.value.columns)
    assert table["Demandes"].tolist() == [formats.number(v) for v in channels["nb_demandes"].to_list()]


def test_motifs_heatmap_compares_the_departements_of_the_region(app, demo_db, demo_facts):
    at = _open(app, MOTIFS, perimetre="departement", code=demo_facts["departement"], du="2025-T1", au="2025-T4")
    with reader(demo_db) as con:
        heat = reasons.departement_partner_shares(con, Scope("region", demo_facts["region"]), *Y2025)
    table = at.dataframe[-1].value
    assert len(table) == heat.height and set(table["Département"]) == set(heat["departement"])
    at.radio(key="motifs_heatmap").set_value("ecart").run()
    assert not at.exception
