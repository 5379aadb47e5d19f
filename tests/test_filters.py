"""The filter bar's state: comparison periods and the URL that reproduces a view."""

from __future__ import annotations

import datetime as dt

from fsdash.filters import Filters, parse_quarter_code, quarter_code, shift_quarters
from fsdash.metrics.scope import Scope

D = dt.date


def test_quarter_codes_round_trip():
    assert quarter_code(D(2024, 7, 1)) == "2024-T3"
    assert parse_quarter_code("2024-T3") == D(2024, 7, 1)
    assert parse_quarter_code("2024-t1") == D(2024, 1, 1)
    assert parse_quarter_code("n'importe quoi") is None and parse_quarter_code(None) is None


def test_shift_quarters_crosses_years():
    assert shift_quarters(D(2024, 1, 1), -1) == D(2023, 10, 1)
    assert shift_quarters(D(2024, 10, 1), 2) == D(2025, 4, 1)


def test_previous_period_has_the_same_length():
    f = Filters(Scope("departement", "23"), D(2024, 1, 1), D(2024, 7, 1), "precedente")
    c = f.compared()
    assert (c.first, c.last, c.scope) == (D(2023, 4, 1), D(2023, 10, 1), f.scope)
    assert f.quarter_count == c.quarter_count == 3


def test_same_period_last_year_and_national_average():
    f = Filters(Scope("departement", "23", formats=("BUS",)), D(2024, 4, 1), D(2024, 4, 1), "annee")
    assert (f.compared().first, f.compared().last) == (D(2023, 4, 1), D(2023, 4, 1))
    national = Filters(f.scope, f.first, f.last, "nationale").compared()
    assert national.scope == Scope("national", None, formats=("BUS",))
    assert Filters(comparison="aucune").compared() is None


def test_url_parameters_describe_the_whole_view():
    f = Filters(
        Scope("region", "84", formats=("FIXE", "BUS"), carriers=("LA_POSTE",)), D(2023, 1, 1), D(2024, 10, 1), "annee"
    )
    assert f.to_params() == {
        "perimetre": "region",
        "code": "84",
        "du": "2023-T1",
        "au": "2024-T4",
        "formats": "FIXE,BUS",
        "porteurs": "LA_POSTE",
        "comparaison": "annee",
    }


def test_scope_filter_sql_binds_every_value():
    where, params = Scope("departement", "01", formats=("BUS",), carriers=("NON_RENSEIGNE",)).sites_filter()
    assert where.count("?") == len(params) == 3
    assert "coalesce(s.porteur, 'NON_RENSEIGNE')" in where
