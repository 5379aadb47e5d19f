"""Every page honours every filter of the shared bar or says, under its title, which one it ignores
and why (AppTest through the app.py frame, on the small hand-made warehouse of conftest). Accueil
honours the comparison: a départemental committee reads its home page against the nation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fsdash import formats
from fsdash.routes import ROUTES

APP = str(Path(__file__).resolve().parent.parent / "app.py")
NOTE = "Filtres sans effet sur cette page : "
#: The filters each page says it does not honour (wholly or in part).
IGNORED = {
    "accueil": (),
    "frequentation": ("comparaison", "format et porteur", "période"),
    "motifs": ("comparaison",),
    "satisfaction": ("période", "comparaison", "format et porteur"),
    "maillage": ("période", "comparaison", "format et porteur"),
    "financement": ("période", "comparaison", "périmètre, format et porteur"),
    "dictionnaire": ("tous les filtres",),
    "chargements": ("périmètre, format et porteur", "période et comparaison"),
}


@pytest.fixture
def open_page(loaded_db, monkeypatch):
    monkeypatch.setenv("FSDASH_DB", str(loaded_db))

    def run(page: str, **params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update(params)
        at.run()
        at.switch_page(page).run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return run


def _note(at: AppTest) -> str | None:
    return next((c.value for c in at.caption if c.value.startswith(NOTE)), None)


def test_every_page_is_listed():
    assert set(IGNORED) == {r.url_path for r in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=[r.url_path for r in ROUTES])
def test_each_page_names_the_filters_it_ignores(open_page, route):
    at = open_page(route.path, perimetre="departement", code="01", formats="FIXE", comparaison="nationale")
    note = _note(at)
    if not IGNORED[route.url_path]:
        assert note is None
        return
    assert note is not None, [c.value for c in at.caption]
    named = re.findall(r"\*\*(.+?)\*\* \(", note)
    assert named == list(IGNORED[route.url_path])


def test_accueil_against_the_nation(open_page):
    """Ain against France entière: the national figure beside each count, shares in points."""
    at = open_page("pages/page_accueil.py", perimetre="departement", code="01", comparaison="nationale")
    captions = [c.value for c in at.caption]
    assert f"France entière : {formats.number(2600)}" in captions  # requests of 2024 T1
    assert "3 en France entière" in captions  # open sites
    completeness = next(m for m in at.metric if m.label.startswith("Complétude"))
    assert completeness.delta.endswith("pt vs moyenne nationale")
    plain = open_page("pages/page_accueil.py", perimetre="departement", code="01")
    assert "3 en France entière" not in [c.value for c in plain.caption]


def test_accueil_against_the_quarter_before(open_page):
    at = open_page("pages/page_accueil.py", comparaison="precedente")
    requests = next(m for m in at.metric if m.label.startswith("Demandes"))
    assert requests.delta == f"{formats.signed_percent(2600 / 3150 - 1, 1, minus='-')} vs trimestre précédent"


def test_accueil_blocks_say_their_dates(open_page):
    at = open_page("pages/page_accueil.py")
    headings = [h.value for h in at.subheader] + [m.value for m in at.markdown]
    assert any(h.startswith("Le réseau — situation au ") for h in headings)
    assert "L'activité — dernier trimestre de la période : T1 2024" in headings
    assert any(h.startswith("**Demandes par trimestre — tous les trimestres chargés") for h in headings)
    assert "**Satisfaction — du T4 2023 au T1 2024**" in headings


def test_chargements_says_which_parts_follow_the_scope(open_page):
    at = open_page("pages/page_chargements.py", perimetre="departement", code="01")
    note = _note(at)
    assert "seuls la qualité du référentiel et le rapprochement suivent le périmètre" in note
    assert "les lots chargés, les rejets et la quarantaine sont ceux de tout l'entrepôt" in note


def test_satisfaction_says_the_official_series_is_not_loaded(open_page):
    """Not « no official value for this scope »: the series is simply absent, and the page says how to load it."""
    at = open_page("pages/page_satisfaction.py", perimetre="departement", code="01")
    infos = [i.body for i in at.info]
    assert any(i.startswith("Série officielle IND-246 non chargée") and "import-indicators" in i for i in infos)
    assert not any("Aucune valeur officielle" in i for i in infos)
