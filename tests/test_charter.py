"""The charter's commitments on a hand-made quarter whose shares are known."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from fsdash.catalogue import load_catalogue
from fsdash.metrics.charter import charter_commitments
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.warehouse.schema import migrate

Q = dt.date(2024, 4, 1)


@pytest.fixture
def con():
    con = duckdb.connect()
    migrate(con, load_catalogue())
    con.sql("INSERT INTO sites (site_id, departement) VALUES ('A', '01'), ('B', '01'), ('C', '23')")
    rows = [  # site, agents, hours, days, visio, answered, received, announced, closures, trained
        ("A", 3, 30.0, 5, 2, 9, 10, 1, 1, 3),
        ("B", 1, 20.0, 4, 0, 5, 10, 0, 2, 0),
        ("C", 2, 24.0, 5, 1, 10, 10, 1, 1, 1),
    ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "site_id",
            "agents_accueil",
            "heures_ouverture_hebdo",
            "jours_ouverture_hebdo",
            "visios_realisees",
            "courriels_repondus_72h",
            "courriels_recus",
            "fermetures_annoncees_7j",
            "fermetures_exceptionnelles",
            "agents_formes",
        ],
        orient="row",
    )
    con.register("_rows", frame)
    con.sql("""INSERT INTO activite (site_id, annee, trimestre, periode, revision, batch_id, is_current,
               agents_accueil, heures_ouverture_hebdo, jours_ouverture_hebdo, visios_realisees,
               courriels_repondus_72h, courriels_recus, fermetures_annoncees_7j, fermetures_exceptionnelles,
               agents_formes)
               SELECT site_id, 2024, 2, DATE '2024-04-01', 1, 1, true, agents_accueil, heures_ouverture_hebdo,
                      jours_ouverture_hebdo, visios_realisees, courriels_repondus_72h, courriels_recus,
                      fermetures_annoncees_7j, fermetures_exceptionnelles, agents_formes FROM _rows""")
    return con


def test_national_shares(con):
    values = dict(charter_commitments(con, NATIONAL, Q).select("engagement", "valeur").iter_rows())
    assert values["Sites avec au moins 2 agents d'accueil"] == pytest.approx(2 / 3)
    assert values["Sites ouverts au moins 24 h sur 5 jours"] == pytest.approx(2 / 3)
    assert values["Courriels répondus sous 72 h"] == pytest.approx(24 / 30)
    assert values["Fermetures exceptionnelles annoncées 7 jours avant"] == pytest.approx(2 / 4)
    assert values["Agents formés aux 3 modules du CNFPT"] == pytest.approx(4 / 6)
    assert values["Sites ayant tenu au moins un rendez-vous en visio-conférence"] == pytest.approx(2 / 3)


def test_scope_and_empty_quarter(con):
    dep = charter_commitments(con, Scope("departement", "01"), Q)
    assert dep["denominateur"][0] == 2 and dep["valeur"][0] == pytest.approx(0.5)
    empty = charter_commitments(con, NATIONAL, dt.date(2023, 1, 1))
    assert empty["valeur"].is_null().all()
