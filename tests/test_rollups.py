"""The requests rollups: a warehouse of schema 3 (departmental rollup without format nor carrier) is
migrated to schema 4, its rollups rebuilt from the detail in the shape the pages read."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from fsdash.catalogue import load_catalogue
from fsdash.metrics import reasons
from fsdash.metrics.scope import UNKNOWN_CARRIER, Scope
from fsdash.warehouse.schema import MIGRATIONS, NATIONAL_REQUESTS_ROLLUP, REQUESTS_ROLLUP, set_meta
from fsdash.warehouse.store import writer

T4, T1 = dt.date(2023, 10, 1), dt.date(2024, 1, 1)

#: (site, département, région, format, carrier)
SITES = [
    ("A1", "01", "84", "FIXE", "COMMUNE"),
    ("A2", "01", "84", "BUS", None),
    ("B1", "2A", "94", "FIXE", "LA_POSTE"),
]
#: (site, quarter, partner, situation, channel, outcome, requests, current?)
DETAIL = [
    ("A1", T4, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 40, True),
    ("A1", T4, "DGFIP", "IMPOTS", "TELEPHONE", "TRANSMIS_REFERENT", 10, True),
    ("A2", T4, "ANTS", "PAPIERS_IDENTITE", "ITINERANT", "REPONDU_SUR_PLACE", 7, True),
    ("A2", T1, "ANTS", "PAPIERS_IDENTITE", "ITINERANT", "REORIENTE", 3, True),
    ("B1", T1, "CNAM", "REMBOURSEMENT_SOINS", "SUR_SITE", "REPONDU_SUR_PLACE", 20, True),
    ("B1", T1, "CNAM", "REMBOURSEMENT_SOINS", "SUR_SITE", "REPONDU_SUR_PLACE", 99, False),  # superseded
]


@pytest.fixture
def v3_warehouse(tmp_path):
    """A warehouse as schema 3 left it: detail loaded, rollup by département only."""
    db = tmp_path / "v3.duckdb"
    catalogue = load_catalogue()
    with duckdb.connect(str(db)) as con:
        con.sql("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        for version, description, step in MIGRATIONS[:3]:
            step(con, catalogue)
            con.sql("INSERT INTO schema_migrations (version, description) VALUES (?, ?)", params=[version, description])
        set_meta(con, "schema_version", "3")
        for site, dep, region, fmt, carrier in SITES:
            con.sql(
                "INSERT INTO sites (site_id, nom, departement, region, format, porteur) VALUES (?, ?, ?, ?, ?, ?)",
                params=[site, f"site {site}", dep, region, fmt, carrier],
            )
        for site, period, *cells, current in DETAIL:
            quarter = 1 + (period.month - 1) // 3
            con.sql(
                """INSERT INTO demandes_detail (site_id, annee, trimestre, partenaire, situation, canal, issue,
                       nb_demandes, periode, revision, batch_id, is_current)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)""",
                params=[site, period.year, quarter, *cells, period, 1 if current else 0, current],
            )
        con.sql(f"""INSERT INTO {REQUESTS_ROLLUP} SELECT d.periode, s.region, s.departement, d.partenaire,
                        d.situation, d.canal, d.issue, sum(d.nb_demandes)
                    FROM demandes_detail d JOIN sites s USING (site_id) WHERE d.is_current GROUP BY ALL""")
    return db


def test_schema_3_warehouse_gets_rollups_by_format_and_carrier(v3_warehouse):
    with writer(v3_warehouse):
        pass
    with duckdb.connect(str(v3_warehouse), read_only=True) as con:
        columns = [r[0] for r in con.sql(f"DESCRIBE {REQUESTS_ROLLUP}").fetchall()]
        log = con.sql("SELECT version, description FROM schema_migrations WHERE version = 4").fetchall()
        national = con.sql(
            f"""SELECT periode, format::VARCHAR, porteur::VARCHAR, code::VARCHAR, issue::VARCHAR, nb_demandes
                FROM {NATIONAL_REQUESTS_ROLLUP} WHERE dimension = 'partenaire' ORDER BY ALL"""
        ).fetchall()
        totals = con.sql(
            f"SELECT dimension::VARCHAR, sum(nb_demandes) FROM {REQUESTS_ROLLUP} GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        bus = reasons.requests_breakdown(con, Scope("national", None, formats=("BUS",)))
        unknown = reasons.requests_breakdown(con, Scope("region", "84", carriers=(UNKNOWN_CARRIER,)))
        post = reasons.departement_partner_shares(con, Scope("national", None, carriers=("LA_POSTE",)))
    assert columns == [
        "periode",
        "region",
        "departement",
        "format",
        "porteur",
        "dimension",
        "code",
        "issue",
        "nb_demandes",
    ]
    assert log and log[0][1].startswith("agrégats des demandes par format et porteur")
    assert national == [
        (T4, "BUS", UNKNOWN_CARRIER, "ANTS", "REPONDU_SUR_PLACE", 7),
        (T4, "FIXE", "COMMUNE", "CNAF", "REPONDU_SUR_PLACE", 40),
        (T4, "FIXE", "COMMUNE", "DGFIP", "TRANSMIS_REFERENT", 10),
        (T1, "BUS", UNKNOWN_CARRIER, "ANTS", "REORIENTE", 3),
        (T1, "FIXE", "LA_POSTE", "CNAM", "REPONDU_SUR_PLACE", 20),
    ]
    assert totals == [("canal", 80), ("partenaire", 80), ("situation", 80)]
    assert bus.filter(bus["dimension"] == "partenaire")["nb_demandes"].to_list() == [7, 3]
    assert unknown.equals(bus)  # the bus is région 84's only site of unknown carrier
    assert post.filter(post["nb_demandes"] > 0).select("departement", "partenaire", "nb_demandes").rows() == [
        ("2A", "CNAM", 20)
    ]


def test_a_catalogue_value_added_later_rebuilds_the_rollups(v3_warehouse):
    """The rollups' keys are ENUMs of the catalogue's codes: a new partner must not break the next load."""
    import dataclasses

    from fsdash.catalogue import DimensionValue
    from fsdash.warehouse.schema import is_up_to_date, migrate

    with writer(v3_warehouse):
        pass
    catalogue = load_catalogue()
    partners = catalogue.dimensions["partenaire"]
    grown_partners = dataclasses.replace(
        partners, values=(*partners.values, DimensionValue(code="URSSAF", label="Urssaf"))
    )
    grown = dataclasses.replace(catalogue, dimensions={**catalogue.dimensions, "partenaire": grown_partners})
    with duckdb.connect(str(v3_warehouse)) as con:
        assert is_up_to_date(con, catalogue) and not is_up_to_date(con, grown)
        migrate(con, grown)
        assert is_up_to_date(con, grown)
        assert "URSSAF" in con.sql("SELECT enum_range(NULL::agg_code)").fetchall()[0][0]
        log = con.sql("SELECT description FROM schema_migrations ORDER BY applied_at").fetchall()
        assert log[-1] == ("catalogue : valeurs des agrégats des demandes mises à jour",)
        assert con.sql(f"SELECT sum(nb_demandes) FROM {NATIONAL_REQUESTS_ROLLUP}").fetchall() == [(3 * 80,)]


def _in_order(con, table: str, order: str) -> bool:
    """Whether the rows are stored (scanned) in ``order``; ties in any order."""
    stored = con.sql(f"SELECT {order} FROM {table}").fetchall()
    return stored == con.sql(f"SELECT {order} FROM {table} ORDER BY {order}").fetchall()


def test_incremental_refreshes_keep_the_rollups_in_zone_map_order():
    """Refreshed rows are appended; once they are a fifth of the rollup it is rewritten in order."""
    import polars as pl
    from test_attendance import build_warehouse

    from fsdash.warehouse.ingest import RESORT_SHARE, refresh_requests_rollup
    from fsdash.warehouse.schema import (
        NATIONAL_ROLLUP_ORDER,
        PARTNER_ROLLUP,
        PARTNER_ROLLUP_ORDER,
        ROLLUP_ORDER,
        get_meta,
    )

    con = build_warehouse()
    assert _in_order(con, REQUESTS_ROLLUP, ROLLUP_ORDER) and get_meta(con, "agg_demandes_lignes_hors_ordre") == "0"
    before = con.sql(f"SELECT * FROM {REQUESTS_ROLLUP} ORDER BY ALL").fetchall()
    total = con.sql(f"SELECT count(*) FROM {REQUESTS_ROLLUP}").fetchall()[0][0]
    one = pl.DataFrame({"site_id": ["S4"], "periode": [dt.date(2024, 4, 1)]})
    refresh_requests_rollup(con, one)  # a few rows appended: below the threshold, counted
    appended = int(get_meta(con, "agg_demandes_lignes_hors_ordre"))
    assert 0 < appended <= RESORT_SHARE * total
    everything = con.sql("SELECT DISTINCT site_id, periode FROM demandes_detail").pl()
    refresh_requests_rollup(con, everything)  # every row appended again: rewritten in order
    assert get_meta(con, "agg_demandes_lignes_hors_ordre") == "0"
    assert _in_order(con, REQUESTS_ROLLUP, ROLLUP_ORDER) and _in_order(
        con, NATIONAL_REQUESTS_ROLLUP, NATIONAL_ROLLUP_ORDER
    )
    assert _in_order(con, PARTNER_ROLLUP, PARTNER_ROLLUP_ORDER)
    assert con.sql(f"SELECT * FROM {REQUESTS_ROLLUP} ORDER BY ALL").fetchall() == before
    con.close()


def test_a_missing_rollup_is_rebuilt_at_the_next_opening(v3_warehouse):
    """A warehouse of schema 4 written before a rollup existed (or without one) gets it back."""
    from fsdash.warehouse.schema import PARTNER_ROLLUP, is_up_to_date

    with writer(v3_warehouse):
        pass
    with duckdb.connect(str(v3_warehouse)) as con:
        con.sql(f"DROP TABLE {PARTNER_ROLLUP}")
        assert not is_up_to_date(con, load_catalogue())
    with writer(v3_warehouse):
        pass
    with duckdb.connect(str(v3_warehouse), read_only=True) as con:
        assert con.sql(f"SELECT sum(nb_demandes) FROM {PARTNER_ROLLUP}").fetchall() == [(80,)]
