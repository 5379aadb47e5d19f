"""Every page's tables read French on screen (Table.display), on the small hand-made warehouses.

Exact strings: a narrow no-break space (U+202F) groups thousands, a no-break space precedes « % »
and « € », one number of decimals per column, « – » for a missing value, labels instead of codes.
The typed frame (the downloads) is checked to keep its numbers.
"""

from __future__ import annotations

import pytest
from test_coverage import CANTON_SITES, DAY, make_warehouse, tiny_geography  # noqa: F401

from fsdash.formats import NNBSP
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.views import network


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
