"""Every page's tables read French on screen (Table.display), on the small hand-made warehouses.

Exact strings: a narrow no-break space (U+202F) groups thousands, a no-break space precedes « % »
and « € », one number of decimals per column, « – » for a missing value, labels instead of codes.
The typed frame (the downloads) is checked to keep its numbers.
"""

from __future__ import annotations

import pytest
from test_coverage import CANTON_SITES, DAY, make_warehouse, tiny_geography  # noqa: F401
from test_funding import ARREARS, ARREARS_HEADER, ENVELOPE, ENVELOPE_HEADER, RATES, RATES_HEADER
from test_funding import SITES as FUNDED_SITES
from test_funding import SITES_HEADER as FUNDED_SITES_HEADER

from fsdash import formats, maps
from fsdash.catalogue import load_catalogue
from fsdash.filters import Filters
from fsdash.formats import NBSP, NNBSP
from fsdash.metrics import activity
from fsdash.metrics.scope import NATIONAL, Scope, resolve
from fsdash.views import attendance as attendance_views
from fsdash.views import funding as fview
from fsdash.views import network
from fsdash.warehouse.store import reader

from conftest import TODAY, csv_bytes, ingest_files


def shown(section, column: str) -> list[str]:
    return section.table.display[column].to_list()


@pytest.mark.usefixtures("tiny_geography")
def test_farthest_communes_read_french_and_name_the_departement():
    con = make_warehouse(CANTON_SITES)
    section = network.farthest_communes(con, NATIONAL, DAY)
    frame = section.table.frame
    acoua = frame["Commune"].to_list().index("97601")
    # Mayotte has no site in this warehouse: no distance to La Réunion or elsewhere, an unknown population
    assert shown(section, "Distance (km)")[acoua] == "–" and shown(section, "Population")[acoua] == "–"
    assert shown(section, "Département")[acoua] == "976 — Mayotte"
    assert any(m.text.startswith("976 — Mayotte : aucun site ouvert") for m in section.messages)
    assert "outre-mer, parmi les sites du même département" in section.notes[0]
    paris = frame["Commune"].to_list().index("75056")
    assert shown(section, "Population")[paris] == f"2{NNBSP}000{NNBSP}000"
    assert frame["Population"][paris] == 2_000_000  # the download keeps the number
    measured = [d for d in shown(section, "Distance (km)") if d != "–"]
    assert measured and all(d.count(",") == 1 and len(d.split(",")[1]) == 1 for d in measured)
    assert "None" not in str(section.table.display.rows())


@pytest.mark.usefixtures("tiny_geography")
def test_uncovered_cantons_read_oui_non_under_their_header():
    con = make_warehouse(CANTON_SITES)
    section = network.uncovered_cantons(con, Scope("departement", "01"), DAY)
    assert section.table.display.columns == ["Canton", "Nom", "Département", "Population", "Incertain"]
    assert shown(section, "Incertain") == ["non", "oui"]
    assert shown(section, "Département") == ["01 — Ain", "01 — Ain"]
    assert shown(section, "Population") == ["500", "300"]


@pytest.mark.usefixtures("tiny_geography")
def test_opening_candidates_scores_with_one_decimal():
    con = make_warehouse(CANTON_SITES)
    section = network.opening_candidates(con, Scope("departement", "01"), DAY, 5)
    scores = section.table.frame["Score"].to_list()
    assert scores == [55.0, 40.0] and shown(section, "Score") == ["55,0", "40,0"]
    assert shown(section, "Habitants rapprochés") == [f"2{NNBSP}000", "500"]
    assert section.table.column("Score").decimals == 1


# --- Financement ------------------------------------------------------------------------------------


@pytest.fixture
def fund_db(db_path):
    """The funding test network, its rates (2023), envelope and arrears."""
    files = [
        ("sites.csv", csv_bytes(FUNDED_SITES_HEADER, FUNDED_SITES)),
        ("forfaits.csv", csv_bytes(RATES_HEADER, RATES)),
        ("bdt.csv", csv_bytes(ENVELOPE_HEADER, ENVELOPE)),
        ("dette.csv", csv_bytes(ARREARS_HEADER, ARREARS)),
    ]
    assert ingest_files(db_path, files).exit_code == 0
    return db_path


def test_flat_rate_rules_name_the_year_s_rate_from_the_rates_table(fund_db):
    with reader(fund_db) as con:
        rules = fview.flat_rate_rules(con, 2023)
        missing = fview.flat_rate_rules(con, 2030)
    assert rules.intro == (
        f"**Barème 2023** : forfait de 35{NNBSP}000{NBSP}€ par structure et par an (la circulaire fixait "
        f"30{NNBSP}000{NBSP}€ à l'origine, annexe 4) ; structures postales : 4{NNBSP}000{NBSP}€ du fonds "
        f"inter-opérateurs, 31{NNBSP}000{NBSP}€ du fonds postal ; abattement pour un hébergement par l'État : "
        f"de 5{NNBSP}000{NBSP}€ à 7{NNBSP}000{NBSP}€ selon le porteur."
    )
    assert missing.intro == "Aucun barème chargé pour 2030."
    assert "30 000" not in fview.FLAT_RATE_INTRO.intro and "30\u202f000" not in fview.FLAT_RATE_INTRO.intro


def test_funding_tables_read_french(fund_db):
    with reader(fund_db) as con:
        rates = fview.rates_table(con)
        departements = fview.detail(con, NATIONAL, 2023, TODAY)
        sites = fview.detail(con, Scope("departement", "2A"), 2023, TODAY)
        operations = fview.envelope_timeline(con)
        envelope = fview.envelope(con, None)
    assert shown(rates, "Forfait (€)")[0] == f"35{NNBSP}000{NBSP}€" and rates.table.frame["Forfait (€)"][0] == 35000
    assert shown(rates, "Année")[0] == "2023"
    commune = rates.table.frame["Porteur"].to_list().index("Commune")
    assert shown(rates, "Abattement hébergement État (€)")[commune] == "–"  # the commune's row sets none
    ain = shown(departements, "Forfaits dus (€)")[0]
    assert ain.endswith(f"{NBSP}€") and NNBSP in ain
    assert all(len(v.split(",")[1]) == 2 for v in shown(departements, "Sites-années"))
    hosted = sites.table.frame["Hébergé par l'État"].to_list()
    assert shown(sites, "Hébergé par l'État") == ["oui" if h else "non" for h in hosted] and True in hosted
    assert shown(operations, "Engagé (k€)")[0] == f"10{NNBSP}000,0"
    assert "Payé (k€)" in operations.table.display.columns
    total = envelope.table.frame["Enveloppe (€)"].sum()
    assert envelope.tiles[0].help == f"Conventions signées sur l'enveloppe de {formats.millions_euros(total, 0)}."


# --- Fréquentation ----------------------------------------------------------------------------------


@pytest.fixture
def activity_con(loaded_db):
    with reader(loaded_db) as con:
        yield con


def _period(con) -> tuple:
    quarters = activity.quarters(con)
    return quarters[0], quarters[-1]


def test_attendance_tables_read_french_with_fixed_decimals(activity_con):
    con = activity_con
    first, last = _period(con)
    trend = attendance_views.trend(con, Filters(NATIONAL, first, last), "demandes")
    assert all("," not in v for v in shown(trend, "Demandes") + shown(trend, "Heures d'ouverture"))
    assert all(len(v.split(",")[1]) == 2 for v in shown(trend, "Demandes par heure d'ouverture") if v != "–")
    assert all(len(v.split(",")[1]) == 1 for v in shown(trend, "Agents (ETP)") if v != "–")
    assert trend.table.frame["Demandes"].dtype.is_integer()  # the download keeps numbers
    sites = attendance_views.sites_map(con, NATIONAL, first, last, "demandes_par_etp")
    assert all("," not in v for v in shown(sites, "Dem. / trim.") + shown(sites, "Dem. / ETP"))
    assert all(v == "–" or len(v.split(",")[1]) == 2 for v in shown(sites, "Dem. / heure"))
    context = attendance_views.ranked_sites(con, NATIONAL, first, last, "demandes_par_etp", 1)[0]
    assert all(v == "–" or len(v.split(",")[1]) == 2 for v in shown(context, "ETP (moy.)"))
    assert all("," not in v for v in shown(context, "Demandes / trim."))
    formats_dim = load_catalogue().dimensions["format"]
    assert set(shown(context, "Format")) <= {formats_dim.label_of(c) for c in formats_dim.codes}
    assert "MULTISITES" not in shown(context, "Format") and "Multisites" in shown(context, "Format")


def test_a_departement_s_sites_map_shows_the_whole_departement(activity_con):
    con = activity_con
    first, last = _period(con)
    ain = resolve(con, Scope("departement", "01"))
    deck = attendance_views.sites_map(con, ain, first, last, "demandes_par_etp").deck
    shown_box = maps.visible_bounds(deck.initial_view_state, attendance_views.MAP_WIDTH, attendance_views.MAP_HEIGHT)
    lat_lo, lat_hi, lon_lo, lon_hi = maps.departement_bounds("01")
    assert shown_box[0] <= lat_lo and lat_hi <= shown_box[1] and shown_box[2] <= lon_lo and lon_hi <= shown_box[3]
