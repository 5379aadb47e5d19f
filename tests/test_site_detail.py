"""A département's committee sees other départements' sites only in aggregate — in every section that
lists or maps sites, without Streamlit (issue 11).

The hand-made network of conftest (Ain: FS001, FS002; Corse-du-Sud: FS003, FS004) with its activity,
request detail, kiosk answers and survey. The Ain's committee looks at France, at Corse (région 94)
and at Corse-du-Sud: no section's table, download, chart data or map data may carry FS003 or FS004
(by identifier or by name), the aggregates stay those the national roles see, and the sections that
dropped rows say so in French. The national roles see every site: the same sections do carry them,
so the checks below can fail.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from test_satisfaction import KIOSK_HEADER, KIOSK_ROWS, SURVEY_HEADER, SURVEY_ROWS

from fsdash.identity import Identity
from fsdash.metrics.scope import directory, resolve_scope
from fsdash.views import attendance, network, satisfaction
from fsdash.views.common import SITE_DETAIL_NOTE, hides_site_detail
from fsdash.views.section import Section
from fsdash.warehouse.store import reader

from conftest import (
    ACTIVITE_HEADER,
    ACTIVITE_ROWS,
    DETAIL_HEADER,
    DETAIL_ROWS,
    SITES_HEADER,
    SITES_ROWS,
    TODAY,
    csv_bytes,
    ingest_files,
)

AIN = Identity("prefecture@ain.gouv.fr", "Préfecture de l'Ain", "departement", "01")
NATIONAL_COMMITTEE = Identity("comite@interieur.gouv.fr", "Comité", "national")
PROGRAMME = Identity("equipe@anct.gouv.fr", "Équipe", "programme")
Q4_2023, Q1_2024 = dt.date(2023, 10, 1), dt.date(2024, 1, 1)
#: What names a Corse-du-Sud site one by one (ASCII, so that escaped JSON and Arrow bytes match too):
#: codes, commune, and the bus « Bus France Services de l'Extrême-Sud » by its distinctive word only
#: (« Bus France Services » also names a funding line of the Banque des Territoires).
CORSICAN_SITES = (b"FS003", b"FS004", b"Les Salines", b"Extr")
AIN_SITES = (b"FS001", b"FS002", b"Bourg-en-Bresse", b"Oyonnax")
#: The views of the Ain's committee: France, the région of the other département, the other département.
VIEWS = (("national", None), ("region", "94"), ("departement", "2A"))


def trust_files() -> list[tuple[str, bytes]]:
    return [
        ("sites.csv", csv_bytes(SITES_HEADER, SITES_ROWS)),
        ("activite.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS)),
        ("demandes_detail.csv", csv_bytes(DETAIL_HEADER, DETAIL_ROWS)),
        ("bornes.csv", csv_bytes(KIOSK_HEADER, KIOSK_ROWS)),
        ("enquete.csv", csv_bytes(SURVEY_HEADER, SURVEY_ROWS)),
    ]


@pytest.fixture(scope="module")
def trust_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("trust") / "fsdash.duckdb"
    result = ingest_files(db, trust_files())
    assert result.exit_code == 0, [m for f in result.files for t in f.tables for m in t.messages()]
    return db


def _bytes(value: object) -> bytes:
    """Everything a value carries, as bytes: frames as CSV, chart specs with their Arrow datasets, decks
    as the JSON the browser receives."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, pl.DataFrame):
        return value.write_csv().encode()
    if isinstance(value, dict):
        return b"\n".join(_bytes(k) + b"=" + _bytes(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return b"\n".join(_bytes(v) for v in value)
    if hasattr(value, "to_json"):  # a pydeck deck
        return value.to_json().encode()
    return str(value).encode()


def section_bytes(section: Section) -> bytes:
    """A section's table, download, chart data, map data and texts."""
    parts = [
        section.title,
        section.intro,
        section.empty,
        [(t.label, t.value, t.caption) for t in section.tiles],
        [m.text for m in section.messages],
        section.notes,
        section.table.frame if section.table is not None else None,
        section.table.display if section.table is not None else None,
        section.export,
        section.chart,
        section.deck,
    ]
    return _bytes(parts)


def leaks(section: Section, names=CORSICAN_SITES) -> list[bytes]:
    blob = section_bytes(section)
    return [n for n in names if n in blob]


def per_site_sections(con, scope) -> list[Section]:
    """Every section that lists or maps sites one by one, with every choice the pages offer."""
    sections: list[Section] = []
    for load in attendance.LOAD_MEASURES:
        sections.append(attendance.load_distribution(con, scope, Q4_2023, Q1_2024, load))
        sections += attendance.ranked_sites(con, scope, Q4_2023, Q1_2024, load, 2)
        sections.append(attendance.sites_map(con, scope, Q4_2023, Q1_2024, load))
    for level in satisfaction.SUB_LEVELS[scope.level]:
        sections.append(satisfaction.kiosk_by_area(con, scope, Q4_2023, Q1_2024, level))
        for question in satisfaction.questions():
            sections.append(satisfaction.survey_by_area(con, scope, 2023, level, question))
    sections.append(satisfaction.published(con, scope, 2023))
    sections.append(network.farthest_communes(con, scope, TODAY))
    return sections


def _scope(con, who, level, code):
    resolution = resolve_scope(directory(con), level, code, identity=who)
    assert resolution.problems == ()
    return resolution.scope


@pytest.mark.parametrize("level, code", VIEWS)
def test_a_departement_user_sees_no_other_departements_site_in_any_section_listing_sites(trust_db, level, code):
    with reader(trust_db) as con:
        ain = _scope(con, AIN, level, code)
        sections = per_site_sections(con, ain)
    assert hides_site_detail(ain)
    for section in sections:
        assert leaks(section) == [], section.key


def test_the_national_roles_see_every_site_in_the_same_sections(trust_db):
    for who in (NATIONAL_COMMITTEE, PROGRAMME):
        with reader(trust_db) as con:
            seen = b"\n".join(section_bytes(s) for s in per_site_sections(con, _scope(con, who, "national", None)))
        # FS004, a bus labelled after the loaded quarters, reported nothing: no section lists it
        assert all(name in seen for name in (b"FS003", b"Les Salines", *AIN_SITES)), who.role
        with reader(trust_db) as con:
            region = b"\n".join(section_bytes(s) for s in per_site_sections(con, _scope(con, who, "region", "94")))
        assert b"FS003" in region  # satisfaction by site, published results, the sites map
        assert SITE_DETAIL_NOTE.encode() not in seen + region


def test_the_departement_user_keeps_its_own_sites_and_is_told_the_others_are_aggregated(trust_db):
    with reader(trust_db) as con:
        ain = _scope(con, AIN, "national", None)
        programme = _scope(con, PROGRAMME, "national", None)
        ranked = attendance.ranked_sites(con, ain, Q4_2023, Q1_2024, "demandes_par_etp", 2)
        mapped = attendance.sites_map(con, ain, Q4_2023, Q1_2024, "demandes_par_etp")
        full_map = attendance.sites_map(con, programme, Q4_2023, Q1_2024, "demandes_par_etp")
        shares = attendance.load_distribution(con, ain, Q4_2023, Q1_2024, "demandes_par_etp")
        full_shares = attendance.load_distribution(con, programme, Q4_2023, Q1_2024, "demandes_par_etp")
        published = satisfaction.published(con, _scope(con, AIN, "departement", "01"), 2023)
        own = attendance.sites_map(con, _scope(con, AIN, "departement", "01"), Q4_2023, Q1_2024, "demandes_par_etp")
    assert [set(s.table.frame["Dép."]) for s in ranked] == [{"01"}]
    assert sorted(mapped.table.frame["Identifiant"]) == ["FS001", "FS002"]
    assert sorted(full_map.table.frame["Identifiant"]) == ["FS001", "FS002", "FS003"]
    # the sites' positions stay those among every site of France (an aggregate), only the rows are kept
    position = next(c for c in mapped.table.frame.columns if c.startswith("Position"))
    assert (
        mapped.table.frame[position].to_list()
        == full_map.table.frame.filter(pl.col("Dép.") == "01")[position].to_list()
    )
    assert SITE_DETAIL_NOTE in mapped.notes and all(SITE_DETAIL_NOTE in s.notes for s in ranked)
    assert SITE_DETAIL_NOTE not in full_map.notes
    # the distribution is an aggregate: the same for both
    assert [t.value for t in shares.tiles] == [t.value for t in full_shares.tiles]
    assert shares.table.frame.equals(full_shares.table.frame)
    # in its own département, nothing is left out and nothing is said
    assert set(published.table.frame["Site"]) == {"FS001", "FS002"} and SITE_DETAIL_NOTE not in published.notes
    assert sorted(own.table.frame["Identifiant"]) == ["FS001", "FS002"] and SITE_DETAIL_NOTE not in own.notes


def test_satisfaction_by_site_and_published_results_keep_only_the_departements_seen_in_detail(trust_db):
    with reader(trust_db) as con:
        ain = _scope(con, AIN, "departement", "2A")
        full = _scope(con, NATIONAL_COMMITTEE, "departement", "2A")
        by_site = satisfaction.kiosk_by_area(con, ain, Q4_2023, Q1_2024, "site")
        full_by_site = satisfaction.kiosk_by_area(con, full, Q4_2023, Q1_2024, "site")
        published = satisfaction.published(con, ain, 2023)
        full_published = satisfaction.published(con, full, 2023)
    assert by_site.empty and SITE_DETAIL_NOTE in by_site.notes
    assert full_by_site.table.frame["Site"].to_list() == ["France Services Ajaccio — Les Salines (FS003)"]
    assert published.empty and SITE_DETAIL_NOTE in published.notes
    assert set(full_published.table.frame["Site"]) == {"FS003"} and not full_published.notes


def test_the_farthest_communes_name_no_other_departements_nearest_site(trust_db):
    with reader(trust_db) as con:
        ain = network.farthest_communes(con, _scope(con, AIN, "departement", "2A"), TODAY)
        full = network.farthest_communes(con, _scope(con, PROGRAMME, "departement", "2A"), TODAY)
    assert set(full.table.frame["Site le plus proche"].drop_nulls()) <= {
        "France Services Ajaccio — Les Salines",
        "Bus France Services de l'Extrême-Sud",
    }
    assert full.table.frame["Site le plus proche"].drop_nulls().len() > 0
    assert ain.table.frame["Site le plus proche"].null_count() == ain.table.frame.height
    assert ain.table.frame["Distance (km)"].equals(full.table.frame["Distance (km)"])  # distances stay
    assert network.NEAREST_RESERVED in ain.notes and network.NEAREST_RESERVED not in full.notes


def test_sections_are_cached_per_role(trust_db):
    """The scope is the cache key: a section built for the programme team is never served to the Ain."""
    with reader(trust_db) as con:
        first = attendance.sites_map(
            con, _scope(con, PROGRAMME, "national", None), Q4_2023, Q1_2024, "demandes_par_etp"
        )
        then = attendance.sites_map(con, _scope(con, AIN, "national", None), Q4_2023, Q1_2024, "demandes_par_etp")
    assert leaks(first) and not leaks(then)


def test_json_of_a_deck_is_searched_as_the_browser_receives_it(trust_db):
    """The map's data reach the browser as the deck's JSON (each site's tooltip fields): the search above reads it."""
    with reader(trust_db) as con:
        deck = attendance.sites_map(con, _scope(con, PROGRAMME, "national", None), Q4_2023, Q1_2024, "demandes_par_etp")
    layers = json.loads(deck.deck.to_json())["layers"]
    points = [p for layer in layers if layer["@@type"] == "ScatterplotLayer" for p in layer["data"]]
    assert any("Les Salines" in str(p.get("t_nom")) for p in points) and b"Les Salines" in _bytes(deck.deck)
