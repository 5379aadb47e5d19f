"""The pages' tables read French in the browser (AppTest on the demo warehouse): what st.dataframe
receives is Table.display — « 1 422,6 », « 254 436 », « 40 000 € » — never « 1422.6 », « None » or a
raw code; the Financement page names the chosen year's flat rate; a département's map shows the
whole département.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from fsdash import formats, maps
from fsdash.metrics import funding
from fsdash.views import attendance as attendance_views
from fsdash.warehouse.store import reader

pytestmark = pytest.mark.slow

APP = str(Path(__file__).resolve().parent.parent / "app.py")
#: A French number with ``d`` decimals: groups of three after a narrow no-break space, a decimal comma.
FRENCH = r"^-?\d{1,3}(\u202f\d{3})*"


def french(decimals: int) -> re.Pattern:
    return re.compile(FRENCH + (rf",\d{{{decimals}}}$" if decimals else "$"))


@pytest.fixture
def app(demo_db, monkeypatch):
    monkeypatch.setenv("FSDASH_DB", str(demo_db))
    return AppTest.from_file(APP, default_timeout=120)


def _open(app: AppTest, page: str, **params: str) -> AppTest:
    app.query_params.update(params)
    at = app.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _table(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _all_match(values, pattern: re.Pattern) -> bool:
    return all(v == formats.DASH or pattern.match(v) for v in values)


def test_maillage_tables_read_french(app):
    at = _open(app, "pages/page_maillage.py", perimetre="departement", code="23")
    far = _table(at, "Distance (km)")
    assert _all_match(far["Distance (km)"], french(1)) and _all_match(far["Population"], french(0))
    assert set(far["Département"]) == {"23 — Creuse"}
    cantons = _table(at, "Incertain")
    assert set(cantons["Incertain"]) <= {"oui", "non"}
    candidates = _table(at, "Score")
    assert _all_match(candidates["Score"], french(1)) and _all_match(candidates["Habitants rapprochés"], french(0))
    for frame in (far, cantons, candidates):
        assert "None" not in frame.astype(str).to_numpy().ravel().tolist()


def test_financement_names_the_chosen_year_s_rate(app, demo_db):
    with reader(demo_db) as con:
        rates = funding.funding_rates(con)
    at = _open(app, "pages/page_financement.py")
    for year in at.selectbox(key="financement_annee").options[-2:]:
        at.selectbox(key="financement_annee").set_value(int(year)).run()
        amounts = rates.filter(pl.col("annee") == int(year))["montant_forfait"].unique().to_list()
        expected = f"**Barème {year}** : forfait de {formats.euros(amounts[0])}"
        assert len(amounts) == 1 and any(m.value.startswith(expected) for m in at.markdown), expected
    table = _table(at, "Forfait (€)")
    assert all(v.endswith(f"{formats.NBSP}€") for v in table["Forfait (€)"])
    assert table["Année"].str.fullmatch(r"\d{4}").all()


def test_frequentation_tables_and_map_of_a_departement(app):
    at = _open(app, "pages/page_frequentation.py", perimetre="departement", code="59")
    sites = _table(at, "Identifiant")
    assert _all_match(sites["Dem. / trim."], french(0)) and _all_match(sites["Dem. / heure"], french(2))
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    view = spec["initialViewState"]
    shown = maps.visible_bounds(
        maps.pdk.ViewState(latitude=view["latitude"], longitude=view["longitude"], zoom=view["zoom"]),
        attendance_views.MAP_WIDTH,
        attendance_views.MAP_HEIGHT,
    )
    lat_lo, lat_hi, lon_lo, lon_hi = maps.departement_bounds("59")  # Dunkerque's coast included
    assert shown[0] <= lat_lo and lat_hi <= shown[1] and shown[2] <= lon_lo and lon_hi <= shown[3]


def test_motifs_shares_with_one_decimal(app):
    at = _open(app, "pages/page_motifs.py", perimetre="departement", code="23")
    shares = _table(at, "Part (%)")
    assert _all_match(shares["Part (%)"], french(1)) and _all_match(shares["Demandes"], french(0))
