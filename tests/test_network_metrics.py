"""Trajectory split by site attributes and the MSAP deadline, on a hand-made registry."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fsdash.catalogue import load_catalogue
from fsdash.metrics.network import labelled_by_month_by, msap_conversion, sites_labelled_at
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.warehouse.schema import migrate

D = dt.date


@pytest.fixture
def con():
    con = duckdb.connect()
    migrate(con, load_catalogue())
    rows = [  # site, dep, format, carrier, label, closed, former MSAP
        ("A", "01", "FIXE", "COMMUNE", D(2020, 1, 1), None, True),
        ("B", "01", "BUS", None, D(2020, 2, 15), None, False),
        ("C", "23", "FIXE", "LA_POSTE", D(2021, 6, 1), D(2022, 1, 1), True),
        ("D", "23", "FIXE", None, D(2022, 3, 1), None, None),
    ]
    con.register(
        "_rows",
        pl.DataFrame(
            rows,
            schema=[
                "site_id",
                "departement",
                "format",
                "porteur",
                "date_labellisation",
                "date_fermeture",
                "ancienne_msap",
            ],
            orient="row",
        ),
    )
    con.sql(
        "INSERT INTO sites (site_id, departement, format, porteur, date_labellisation, date_fermeture, "
        "ancienne_msap) SELECT * FROM _rows"
    )
    return con


def test_open_sites_respect_closures(con):
    frame = sites_labelled_at(con, NATIONAL, (D(2020, 1, 1), D(2021, 12, 31), D(2022, 1, 1), D(2022, 3, 1)))
    assert frame["sites"].to_list() == [1, 3, 2, 3]


def test_trajectory_by_format_and_carrier(con):
    by_format = labelled_by_month_by(con, NATIONAL, D(2020, 1, 1), D(2020, 3, 1), "format")
    expected = pl.DataFrame(
        {
            "date": [D(2020, 1, 1), D(2020, 2, 1), D(2020, 3, 1), D(2020, 3, 1)],
            "groupe": ["FIXE", "FIXE", "BUS", "FIXE"],
            "sites": [1, 1, 1, 1],
        }
    )
    assert_frame_equal(by_format, expected, check_dtypes=False)
    carriers = labelled_by_month_by(con, Scope("departement", "23"), D(2022, 3, 1), D(2022, 3, 1), "porteur")
    assert carriers.rows() == [(D(2022, 3, 1), "NON_RENSEIGNE", 1)]


def test_msap_converted_before_and_after_the_deadline(con):
    row = msap_conversion(con, NATIONAL, D(2021, 12, 31)).row(0, named=True)
    assert row == {"msap_total": 2, "avant_echeance": 2, "apres_echeance": 0, "non_renseigne": 1}
    late = msap_conversion(con, Scope("departement", "23"), D(2021, 1, 1)).row(0, named=True)
    assert late == {"msap_total": 1, "avant_echeance": 0, "apres_echeance": 1, "non_renseigne": 1}
