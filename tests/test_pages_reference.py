"""Every page renders at every scope on a warehouse holding only the real 2024 list of France Services
and the official series (``../shared/reference/``, skipped when absent): no activity feed, so the pages
of the feed say there is no activity instead of failing, and Saint-Martin (978), whose two sites have
no région, is a scope like any other. Kiosk answers on a Saint-Martin site then exercise the
« par région » breakdown at national scope."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fsdash.routes import ROUTES
from fsdash.warehouse.store import reader, writer

from conftest import REPO_ROOT, csv_bytes, ingest_files

APP = str(REPO_ROOT / "app.py")
REFERENCE = REPO_ROOT.parent / "shared" / "reference"
REAL_LIST = REFERENCE / "anct" / "liste-fs-20240801.csv"
OFFICIAL_FILES = [
    REFERENCE / "barometre" / name
    for name in (
        "etalab-nb-labellisations-france-services.csv",
        "ditp-ind-323-actes-mensuels.csv",
        "ditp-ind-246-satisfaction.csv",
    )
]
pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in [REAL_LIST, *OFFICIAL_FILES]),
    reason="liste ANCT ou séries officielles de référence absentes (../shared/reference)",
)


@pytest.fixture(scope="module")
def real_db(tmp_path_factory) -> Path:
    """The real list imported as the registry, then the official series, through the CLI's functions."""
    from fsdash.warehouse.ingest import import_site_list
    from fsdash.warehouse.official_series import import_official_paths

    db = tmp_path_factory.mktemp("reel") / "fsdash.duckdb"
    with writer(db) as con:
        assert import_site_list(con, REAL_LIST.name, REAL_LIST.read_bytes()).exit_code == 0
    with writer(db) as con:
        import_official_paths(con, OFFICIAL_FILES, file_date=dt.date(2024, 9, 1))
    return db


@pytest.fixture(scope="module")
def links(real_db) -> dict[str, dict[str, str]]:
    with reader(real_db) as con:
        site = con.sql("SELECT min(site_id) FROM sites WHERE departement = '978'").fetchall()[0][0]
    return {
        "national": {},
        "region": {"perimetre": "region", "code": "94"},
        "departement": {"perimetre": "departement", "code": "978"},
        "site": {"perimetre": "site", "code": site},
    }


def _open(db: Path, monkeypatch, params: dict[str, str], page: str) -> AppTest:
    monkeypatch.setenv("FSDASH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.parametrize("route", ROUTES, ids=[r.url_path for r in ROUTES])
@pytest.mark.parametrize("level", ["national", "region", "departement", "site"])
def test_every_page_renders_on_the_real_list_alone(real_db, links, monkeypatch, route, level):
    at = _open(real_db, monkeypatch, links[level], route.path)
    assert at.query_params.get("perimetre", "national") == level  # Saint-Martin is a scope, not a typo
    assert not [w.body for w in at.warning if "la vue montre" in w.body]
    if route.feed:
        assert any(i.body.startswith("Aucune donnée d'activité") for i in at.info)


def test_satisfaction_shows_the_official_rate_without_answers(real_db, monkeypatch):
    at = _open(real_db, monkeypatch, {"perimetre": "departement", "code": "23"}, "pages/page_satisfaction.py")
    assert any(i.body.startswith("Aucune réponse de satisfaction chargée") for i in at.info)
    assert any("IND-246" in s.value for s in at.subheader)
    assert not any("non chargée" in i.body for i in at.info)


def test_satisfaction_by_region_with_a_site_without_region(real_db, links, tmp_path, monkeypatch):
    db = tmp_path / "bornes.duckdb"
    shutil.copyfile(real_db, db)
    with reader(db) as con:
        other = con.sql("SELECT min(site_id) FROM sites WHERE departement = '23'").fetchall()[0][0]
    header = ["site_id", "annee", "trimestre", "reponses_tres_satisfait", "reponses_satisfait"]
    header += ["reponses_peu_satisfait", "reponses_pas_satisfait"]
    rows = [[links["site"]["code"], 2024, 2, 40, 40, 10, 10], [other, 2024, 2, 30, 30, 20, 20]]
    result = ingest_files(db, [("satisfaction_borne.csv", csv_bytes(header, rows))], today=dt.date(2024, 11, 27))
    assert result.exit_code == 0
    at = _open(db, monkeypatch, {}, "pages/page_satisfaction.py")
    at.radio(key="satisfaction_niveau_bornes").set_value("region").run()
    assert not at.exception, [e.message for e in at.exception]
    zones = next(df.value for df in at.dataframe if "Région" in df.value.columns)["Région"].to_list()
    assert "Sans région" in zones and "Nouvelle-Aquitaine" in zones
