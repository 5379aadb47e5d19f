"""Every page of the routes table renders at every scope level on the demo warehouse, through the
st.navigation frame, opened from a link (the URL a committee member would be sent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fsdash.routes import ROUTES
from fsdash.warehouse.store import reader

pytestmark = pytest.mark.slow

APP = str(Path(__file__).resolve().parent.parent / "app.py")
LEVELS = ["national", "region", "departement", "site"]


@pytest.fixture(scope="module")
def links(demo_db) -> dict[str, dict[str, str]]:
    """URL parameters of each level: the région and département with most sites, the site that
    reported most quarters."""
    with reader(demo_db) as con:
        region, departement = con.sql(
            "SELECT region, departement FROM sites GROUP BY ALL ORDER BY count(*) DESC, departement LIMIT 1"
        ).fetchall()[0]
        site = con.sql(
            "SELECT site_id FROM activite WHERE is_current GROUP BY site_id ORDER BY count(*) DESC, site_id LIMIT 1"
        ).fetchall()[0][0]
    return {
        "national": {},
        "region": {"perimetre": "region", "code": region},
        "departement": {"perimetre": "departement", "code": departement},
        "site": {"perimetre": "site", "code": site},
    }


@pytest.mark.parametrize("route", ROUTES, ids=[r.url_path for r in ROUTES])
@pytest.mark.parametrize("level", LEVELS)
def test_every_page_renders_at_every_scope(demo_db, monkeypatch, links, route, level):
    monkeypatch.setenv("FSDASH_DB", str(demo_db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(links[level])
    at.run()
    at.switch_page(route.path).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title and at.title[0].value
    assert any("Données de démonstration" in w.body for w in at.warning)
    assert at.query_params.get("perimetre", "national") == level  # the link was honoured, not replaced
    assert not any(w.body.startswith("Aucun") and "la vue montre" in w.body for w in at.warning)
    if route.feed:
        assert len(at.get("vega_lite_chart")) >= 3
