"""Every section of every page, as a département's committee is served it: no other département's site
one by one (issue 11). Slow (AppTest): the frame signed in through ``st.user`` and the roles file, as in
``test_identity``.

The Ain's committee opens every page it may see at France entière, at Corse (région 94) and at
Corse-du-Sud (2A), and every choice a page offers that changes what is listed (indicator, load measure,
breakdown, heatmap colour). Every section the pages hand to :func:`fsdash.ui.render` is searched
(tables, downloads, chart data, map data, texts: ``test_site_detail.section_bytes``), and so is every
element the browser would receive (the serialized protos: Arrow tables, Vega datasets, deck JSON).
No Corse-du-Sud site may appear. The national committee, served the same pages, sees them: the
search finds what it looks for.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_site_detail import CORSICAN_SITES, section_bytes, trust_files

from fsdash import identity, ui
from fsdash.routes import ROUTES
from fsdash.views import attendance, network, satisfaction

from conftest import ingest_files

APP = str(Path(__file__).resolve().parent.parent / "app.py")
ROLES_TEXT = "courriel;role;departement\ncomite@interieur.gouv.fr;national;\nprefecture@ain.gouv.fr;departement;01\n"
AIN = "prefecture@ain.gouv.fr"
NATIONAL = "comite@interieur.gouv.fr"
SCOPES = {
    "national": ("national", None),
    "region-94": ("region", "94"),
    "departement-2A": ("departement", "2A"),
}


def _choices(level: str) -> dict[str, list]:
    """The radios that change what a page lists, and every value they offer at this scope level."""
    return {
        "frequentation_indicateur": list(attendance.TREND_MEASURES),
        "frequentation_charge": list(attendance.LOAD_MEASURES),
        "satisfaction_niveau_bornes": list(satisfaction.SUB_LEVELS[level]),
        "satisfaction_niveau_enquete": list(satisfaction.SUB_LEVELS[level]),
        "maillage_repartition": list(network.BREAKDOWN_LABELS),
        "motifs_heatmap": ["part", "ecart"],
    }


@pytest.fixture(scope="module")
def trust_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("trust-pages") / "fsdash.duckdb"
    result = ingest_files(db, trust_files())
    assert result.exit_code == 0
    return db


@pytest.fixture
def served(trust_db, tmp_path, monkeypatch):
    """Open a page signed in as ``email`` at a scope, walk its choices: (sections drawn, protos' bytes)."""
    roles = tmp_path / "roles.csv"
    roles.write_text(ROLES_TEXT, encoding="utf-8")
    monkeypatch.setenv("FSDASH_DB", str(trust_db))
    monkeypatch.setenv(identity.AUTH_ENV, "oidc")
    monkeypatch.setenv(identity.ROLES_ENV, str(roles))
    drawn: list = []
    original = ui.render

    def render(section, *args, **kwargs):
        if section is not None:
            drawn.append(section)
        return original(section, *args, **kwargs)

    monkeypatch.setattr(ui, "render", render)

    def walk(email: str, route, scope: str) -> tuple[list, bytes]:
        drawn.clear()
        level, code = SCOPES[scope]
        at = AppTest.from_file(APP, default_timeout=120)
        at.user = {"is_logged_in": True, "email": email}
        at.query_params["perimetre"] = level
        if code:
            at.query_params["code"] = code
        at.run()
        at.switch_page(route.path).run()
        assert not at.exception, [e.message for e in at.exception]
        shown = [_tree_bytes(at)]
        for key, values in _choices(level).items():
            try:
                at.radio(key=key)
            except KeyError:
                continue
            for value in values:
                at.radio(key=key).set_value(value).run()
                assert not at.exception, [e.message for e in at.exception]
                shown.append(_tree_bytes(at))
        return list(drawn), b"\n".join(shown)

    return walk


def _tree_bytes(at: AppTest) -> bytes:
    """Every element of the page as the browser receives it (serialized protos)."""
    out: list[bytes] = []

    def visit(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            out.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    return b"\n".join(out)


AIN_ROUTES = [r for r in ROUTES if "departement" in r.roles]


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("route", AIN_ROUTES, ids=[r.url_path for r in AIN_ROUTES])
def test_no_section_of_any_page_shows_another_departements_site_to_a_departement_user(served, route, scope):
    sections, page = served(AIN, route, scope)
    assert sections or route.url_path == "dictionnaire"
    for section in sections:
        found = [n for n in CORSICAN_SITES if n in section_bytes(section)]
        assert found == [], (section.key, found)
    assert [n for n in CORSICAN_SITES if n in page] == []


def test_the_national_committee_is_served_the_same_pages_with_every_site(served):
    seen = b""
    for route in ROUTES:
        for scope in ("national", "region-94"):
            sections, page = served(NATIONAL, route, scope)
            seen += page + b"".join(section_bytes(s) for s in sections)
    assert b"FS003" in seen and b"Les Salines" in seen
