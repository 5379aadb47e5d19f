"""A mistyped link never shows another territory silently: every URL parameter the view cannot
honour is said in a French warning above the page, and the view falls back to what it says it shows
(AppTest through the app.py frame, on the small hand-made warehouse of conftest)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
T4_2023, T1_2024 = dt.date(2023, 10, 1), dt.date(2024, 1, 1)


@pytest.fixture
def open_link(loaded_db, monkeypatch):
    """Open the app from a link with these URL parameters, on the page given (Accueil by default)."""
    monkeypatch.setenv("FSDASH_DB", str(loaded_db))

    def run(page: str | None = None, **params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update(params)
        at.run()
        if page:
            at.switch_page(page).run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    return run


def _warnings(at: AppTest) -> list[str]:
    return [w.body for w in at.warning]


def _shown(at: AppTest) -> str:
    """The line under the title naming the territory (and period) the view shows."""
    return at.caption[0].value


@pytest.mark.parametrize(
    "params, words",
    [
        ({"perimetre": "departement", "code": "999"}, "Aucun département de code « 999 »"),
        ({"perimetre": "site", "code": "NOPE"}, "Aucun site d'identifiant « NOPE »"),
        ({"perimetre": "region", "code": "00"}, "Aucune région de code « 00 »"),
        ({"perimetre": "canton", "code": "0101"}, "Périmètre « canton » inconnu"),
        ({"perimetre": "departement"}, "Département non précisé"),
    ],
)
def test_an_unknown_territory_shows_france_and_says_so(open_link, params, words):
    at = open_link(**params)
    assert any(w.startswith(words) and "la vue montre la France entière" in w for w in _warnings(at))
    assert at.selectbox(key="scope_level").value == "national"
    assert _shown(at).startswith("France entière")
    assert at.query_params.get("perimetre") == "national" and "code" not in at.query_params


def test_a_known_departement_is_shown_without_warning(open_link):
    at = open_link(perimetre="departement", code="2A")
    assert not at.warning
    assert _shown(at) == "Département Corse-du-Sud"
    assert at.selectbox(key="scope_code_departement").value == "2A"


def test_a_quarter_without_data_is_said_and_the_full_range_named(open_link):
    at = open_link("pages/page_frequentation.py", du="2030-T1")
    assert any(w.startswith("Trimestre sans données ou illisible ignoré (2030-T1)") for w in _warnings(at))
    assert at.select_slider(key="filtre_periode").value == (T4_2023, T1_2024)
    assert _shown(at) == "France entière — du T4 2023 au T1 2024"


def test_a_period_ending_before_it_starts_is_said(open_link):
    at = open_link("pages/page_frequentation.py", du="2024-T1", au="2023-T4")
    assert any(w.startswith("Période inversée (2024-T1 après 2023-T4)") for w in _warnings(at))
    assert at.select_slider(key="filtre_periode").value == (T4_2023, T1_2024)
    assert (at.query_params["du"], at.query_params["au"]) == ("2023-T4", "2024-T1")


def test_an_unknown_comparison_is_said_and_none_is_made(open_link):
    at = open_link(comparaison="voisins")
    assert "Comparaison « voisins » inconnue : la vue ne compare à rien." in _warnings(at)
    assert at.selectbox(key="filtre_comparaison").value == "aucune"
    assert "comparaison" not in at.query_params


def test_unknown_formats_and_carriers_are_dropped_and_said(open_link):
    at = open_link(perimetre="departement", code="01", formats="FIXE,SOUCOUPE", porteurs="X")
    assert {"Format inconnu ignoré : SOUCOUPE.", "Porteur inconnu ignoré : X."} <= set(_warnings(at))
    assert at.multiselect(key="filtre_formats").value == ["FIXE"]
    assert _shown(at).startswith("Département Ain (formats : ")
    assert at.query_params["formats"] == "FIXE" and "porteurs" not in at.query_params


def test_a_region_is_named_not_numbered(open_link):
    at = open_link(perimetre="region", code="94")
    assert _shown(at) == "Région Corse"
    region = at.selectbox(key="scope_code_region")
    assert region.value == "94" and "Corse" in region.options and not any("94" in o for o in region.options)


def test_the_warning_goes_once_the_viewer_picks_another_view(open_link):
    at = open_link(perimetre="departement", code="999")
    assert at.warning
    at.switch_page("pages/page_frequentation.py").run()
    assert any("Aucun département de code « 999 »" in w for w in _warnings(at))  # same view, other page
    at.selectbox(key="scope_level").set_value("departement").run()
    assert not at.exception
    assert not [w for w in _warnings(at) if "la vue montre" in w]
    assert _shown(at).startswith("Département ")
