"""Reasons-for-contact metrics (fsdash.metrics.reasons) on the tiny warehouse of ``test_attendance.py``.

Request detail, 2024 T1–T2 (current revisions only; 2023 T4 is outside the tested period):

=====  =====  ======  ===================  ==============  =================  ====
site   dép.   quart.  partner / situation  channel         outcome            n
=====  =====  ======  ===================  ==============  =================  ====
S1     01     T1      CNAF / allocation    sur site        sur place          100
S1     01     T1      CNAF / allocation    téléphone       transmis            20
S1     01     T1      DGFIP / impôts       sur site        sur place           60
S2     01     T1      ANTS / papiers       itinérant       sur place           40
S2     01     T1      ANTS / papiers       itinérant       réorienté           10
S3     2A     T1      CNAM / soins         sur site        sur place           50
S3     2A     T1      DGFIP / impôts       visio           transmis            20
S1     01     T2      CNAF / allocation    sur site        sur place           90
S1     01     T2      DGFIP / difficultés  sur site        réorienté           10
S4     38     T2      CNAV / retraite      sur site        sur place           30
S4     38     T2      CNAF / allocation    sur site        transmis            10
=====  =====  ======  ===================  ==============  =================  ====

Totals: T1 300, T2 140, 440 in all.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_attendance import T1, T2, T4_2023, build_warehouse

from fsdash.metrics import reasons
from fsdash.metrics.scope import NATIONAL, Scope

ALL_FORMATS = ("FIXE", "MULTISITES", "BUS", "FIXE_ANTENNES", "ITINERANT")


def requests_by(con, scope, first, last, dimension):
    """:func:`reasons.shares` of one dimension, straight from the warehouse."""
    return reasons.shares(reasons.requests_breakdown(con, scope, first, last), dimension)


def requests_by_quarter(con, scope, first, last, dimension):
    return reasons.by_quarter(reasons.requests_breakdown(con, scope, first, last), dimension)


def outcomes(con, scope, first, last):
    return requests_by(con, scope, first, last, "issue")


@pytest.fixture
def con():
    connection = build_warehouse()
    yield connection
    connection.close()


def _share_frame(rows: list[tuple], total: int) -> pl.DataFrame:
    """(code, requests, on the spot) -> code, nb_demandes, part, sur_place, part_sur_place."""
    return pl.DataFrame(
        {
            "code": [r[0] for r in rows],
            "nb_demandes": [r[1] for r in rows],
            "part": [r[1] / total for r in rows],
            "sur_place": [r[2] for r in rows],
            "part_sur_place": [r[2] / r[1] if r[1] else None for r in rows],
        },
        schema={
            "code": pl.String,
            "nb_demandes": pl.Int64,
            "part": pl.Float64,
            "sur_place": pl.Int64,
            "part_sur_place": pl.Float64,
        },
    )


def test_requests_by_partner_lists_every_partner_in_catalogue_order(con):
    expected = _share_frame(
        [
            ("ANTS", 50, 40),
            ("CNAF", 100 + 20 + 90 + 10, 100 + 90),
            ("CNAM", 50, 50),
            ("CNAV", 30, 30),
            ("MSA", 0, 0),
            ("FRANCE_TRAVAIL", 0, 0),
            ("DGFIP", 60 + 20 + 10, 60),
            ("JUSTICE", 0, 0),
            ("LA_POSTE", 0, 0),
            ("AUTRE", 0, 0),
        ],
        440,
    )
    frame = requests_by(con, NATIONAL, T1, T2, "partenaire")
    assert_frame_equal(frame.select(expected.columns), expected)
    assert frame.filter(pl.col("code") == "CNAF")["libelle_court"][0] == "Caf"
    assert frame.filter(pl.col("code") == "CNAF")["libelle"][0] == "Caisse nationale des allocations familiales (Caf)"


def test_requests_by_outcome_channel_and_theme(con):
    ends = outcomes(con, NATIONAL, T1, T2)
    assert_frame_equal(
        ends.select("code", "nb_demandes", "part", "sur_place", "part_sur_place"),
        _share_frame([("REPONDU_SUR_PLACE", 370, 370), ("TRANSMIS_REFERENT", 50, 0), ("REORIENTE", 20, 0)], 440),
    )
    channels = requests_by(con, NATIONAL, T1, T2, "canal")
    assert_frame_equal(
        channels.select("code", "nb_demandes", "part", "sur_place", "part_sur_place"),
        _share_frame(
            [("SUR_SITE", 350, 100 + 60 + 50 + 90 + 30), ("TELEPHONE", 20, 0), ("VISIO", 20, 0), ("ITINERANT", 50, 40)],
            440,
        ),
    )
    themes = requests_by(con, NATIONAL, T1, T2, "theme")
    assert_frame_equal(
        themes.select("code", "nb_demandes", "part", "sur_place", "part_sur_place"),
        _share_frame(
            [
                ("EMPLOI_RETRAITE", 30, 30),
                ("SANTE", 50, 50),
                ("ETAT_CIVIL_FAMILLE", 50, 40),
                ("JUSTICE", 0, 0),
                ("BUDGET", 60 + 20 + 10, 60),
                ("LOGEMENT_MOBILITE_COURRIER", 220, 190),
            ],
            440,
        ),
    )


def test_requests_by_situation_carries_its_theme(con):
    frame = requests_by(con, NATIONAL, T1, T2, "situation")
    assert frame.height == 19
    assert frame.filter(pl.col("nb_demandes") > 0).select("code", "theme", "nb_demandes").rows() == [
        ("RETRAITE", "EMPLOI_RETRAITE", 30),
        ("REMBOURSEMENT_SOINS", "SANTE", 50),
        ("PAPIERS_IDENTITE", "ETAT_CIVIL_FAMILLE", 50),
        ("IMPOTS", "BUDGET", 80),
        ("DIFFICULTES_FINANCIERES", "BUDGET", 10),
        ("ALLOCATION_LOGEMENT", "LOGEMENT_MOBILITE_COURRIER", 220),
    ]
    assert frame.filter(pl.col("code") == "IMPOTS")["theme_libelle"][0] == "Budget"


def test_site_scope_reads_the_detail(con):
    frame = requests_by(con, Scope("site", "S1"), T1, T2, "partenaire").filter(pl.col("nb_demandes") > 0)
    assert frame.select("code", "nb_demandes", "sur_place").rows() == [("CNAF", 210, 190), ("DGFIP", 70, 60)]
    ends = outcomes(con, Scope("site", "S1"), T1, T2)
    assert ends.select("code", "nb_demandes").rows() == [
        ("REPONDU_SUR_PLACE", 250),
        ("TRANSMIS_REFERENT", 20),
        ("REORIENTE", 10),
    ]


def test_format_filter_reads_the_detail(con):
    frame = outcomes(con, Scope("national", None, formats=("BUS",)), T1, T2)
    assert_frame_equal(
        frame.select("code", "nb_demandes", "part", "sur_place", "part_sur_place"),
        _share_frame([("REPONDU_SUR_PLACE", 40, 40), ("TRANSMIS_REFERENT", 0, 0), ("REORIENTE", 10, 0)], 50),
    )


def _from_sites_detail(con, site_ids: list[str]) -> pl.DataFrame:
    """The breakdown added up from each site's own detail: what any rollup answer must equal."""
    frames = [reasons.requests_breakdown(con, Scope("site", s), T1, T2) for s in site_ids]
    return (
        pl.concat(frames)
        .group_by("dimension", "code", "periode", "issue")
        .agg(pl.col("nb_demandes").sum())
        .sort("dimension", "code", "periode", "issue")
        .select("dimension", "code", "periode", "issue", "nb_demandes")
    )


def test_rollup_and_detail_agree(con):
    """A région (all formats, or every format named) read from the rollup matches its sites' detail."""
    rollup = reasons.requests_breakdown(con, Scope("region", "84"), T1, T2)
    every_format = reasons.requests_breakdown(con, Scope("region", "84", formats=ALL_FORMATS), T1, T2)
    assert Scope("region", "84", formats=ALL_FORMATS).uses_rollup and not Scope("site", "S1").uses_rollup
    assert_frame_equal(rollup, every_format)
    assert_frame_equal(rollup, _from_sites_detail(con, ["S1", "S2", "S4"]))
    partners = reasons.shares(rollup, "partenaire").filter(pl.col("nb_demandes") > 0)
    assert partners.select("code", "nb_demandes").rows() == [("ANTS", 50), ("CNAF", 220), ("CNAV", 30), ("DGFIP", 70)]


def test_breakdown_sums_to_the_total_for_each_dimension_and_skips_other_periods(con):
    frame = reasons.requests_breakdown(con, NATIONAL, T1, T2)
    sums = frame.group_by("dimension").agg(pl.col("nb_demandes").sum()).sort("dimension")
    assert sums.rows() == [("canal", 440), ("partenaire", 440), ("situation", 440)]
    assert T4_2023 not in frame["periode"].to_list()
    assert reasons.requests_breakdown(con)["nb_demandes"].sum() == 3 * (440 + 70)


def test_by_quarter_shares_within_each_quarter(con):
    frame = requests_by_quarter(con, NATIONAL, T1, T2, "issue")
    expected = pl.DataFrame(
        {
            "periode": [T1, T1, T1, T2, T2, T2],
            "code": ["REPONDU_SUR_PLACE", "TRANSMIS_REFERENT", "REORIENTE"] * 2,
            "nb_demandes": [250, 40, 10, 120, 10, 10],
            "part": [250 / 300, 40 / 300, 10 / 300, 120 / 140, 10 / 140, 10 / 140],
        }
    )
    assert_frame_equal(frame.select(expected.columns), expected)
    partners = requests_by_quarter(con, NATIONAL, T1, T2, "partenaire")
    assert partners.height == 2 * 10  # every partner in every quarter, zeros included
    assert partners.filter((pl.col("periode") == T2) & (pl.col("code") == "CNAV"))["part"][0] == pytest.approx(30 / 140)


def test_on_the_spot_by_quarter(con):
    frame = reasons.on_the_spot_by_quarter(reasons.requests_breakdown(con, NATIONAL, T1, T2))
    expected = pl.DataFrame(
        {
            "periode": [T1, T2],
            "nb_demandes": [300, 140],
            "sur_place": [250, 120],
            "part_sur_place": [250 / 300, 120 / 140],
        }
    )
    assert_frame_equal(frame, expected)


def test_outcome_by_partner(con):
    frame = reasons.outcome_by(reasons.requests_breakdown(con, NATIONAL, T1, T2), "partenaire")
    assert frame["code"].unique(maintain_order=True).to_list() == ["ANTS", "CNAF", "CNAM", "CNAV", "DGFIP"]
    dgfip = frame.filter(pl.col("code") == "DGFIP")
    assert dgfip.select("issue", "nb_demandes").rows() == [
        ("REPONDU_SUR_PLACE", 60),
        ("TRANSMIS_REFERENT", 20),
        ("REORIENTE", 10),
    ]
    assert dgfip["part"].to_list() == pytest.approx([60 / 90, 20 / 90, 10 / 90])
    assert dgfip["issue_libelle"][0] == "Réponse sur place"


def test_empty_scope_gives_zeros_and_no_shares(con):
    breakdown = reasons.requests_breakdown(con, Scope("site", "S4"), T1, T1)
    assert breakdown.is_empty() and breakdown.columns == ["dimension", "code", "periode", "issue", "nb_demandes"]
    shares = reasons.shares(breakdown, "issue")
    assert shares["nb_demandes"].to_list() == [0, 0, 0] and shares["part"].to_list() == [None, None, None]
    assert reasons.by_quarter(breakdown, "canal").is_empty()
    assert reasons.departement_partner_shares(con, Scope("site", "S4"), T1, T1).is_empty()


def test_detail_coverage(con):
    row = reasons.detail_coverage(con, NATIONAL, T1, T2).row(0, named=True)
    assert row == {"demandes_declarees": 1380, "demandes_detaillees": 440, "taux": 440 / 1380}
    site = reasons.detail_coverage(con, Scope("site", "S2"), T1, T2).row(0, named=True)
    assert site == {"demandes_declarees": 250, "demandes_detaillees": 50, "taux": 50 / 250}
    none = reasons.detail_coverage(con, Scope("site", "S4"), T1, T1).row(0, named=True)
    assert none == {"demandes_declarees": 0, "demandes_detaillees": 0, "taux": None}


def test_departement_partner_shares_within_a_region(con):
    frame = reasons.departement_partner_shares(con, Scope("region", "84"), T1, T2)
    assert frame.height == 2 * 10
    got = frame.filter(pl.col("nb_demandes") > 0).select(
        "departement",
        "departement_nom",
        "partenaire",
        "nb_demandes",
        "total_departement",
        "part",
        "part_zone",
        "ecart",
        "petit_effectif",
    )
    zone = {"ANTS": 50 / 370, "CNAF": 220 / 370, "CNAV": 30 / 370, "DGFIP": 70 / 370}
    rows = [
        ("01", "Ain", "ANTS", 50, 330),
        ("01", "Ain", "CNAF", 210, 330),
        ("01", "Ain", "DGFIP", 70, 330),
        ("38", "Isère", "CNAF", 10, 40),
        ("38", "Isère", "CNAV", 30, 40),
    ]
    expected = pl.DataFrame(
        {
            "departement": [r[0] for r in rows],
            "departement_nom": [r[1] for r in rows],
            "partenaire": [r[2] for r in rows],
            "nb_demandes": [r[3] for r in rows],
            "total_departement": [r[4] for r in rows],
            "part": [r[3] / r[4] for r in rows],
            "part_zone": [zone[r[2]] for r in rows],
            "ecart": [r[3] / r[4] - zone[r[2]] for r in rows],
            "petit_effectif": [r[4] < reasons.SMALL_COUNT for r in rows],
        }
    )
    assert_frame_equal(got, expected)
    assert got["petit_effectif"].to_list() == [False, False, False, True, True]


def test_departement_partner_shares_with_a_format_filter(con):
    frame = reasons.departement_partner_shares(con, Scope("national", None, formats=("FIXE",)), T1, T2)
    totals = frame.select("departement", "total_departement").unique().sort("departement").rows()
    assert totals == [("01", 100 + 20 + 60 + 90 + 10), ("2A", 70), ("38", 40)]


def test_unknown_dimension_is_refused(con):
    with pytest.raises(ValueError):
        requests_by(con, NATIONAL, T1, T2, "porteur")


def test_a_format_filter_reads_the_rollup_and_equals_the_detail(con):
    """Fixed sites are three of four: the rollup's answer is their detail's, added up."""
    fixed = Scope("national", None, formats=("FIXE",))
    assert fixed.uses_rollup
    partners = requests_by(con, fixed, T1, T2, "partenaire").filter(pl.col("nb_demandes") > 0)
    assert partners.select("code", "nb_demandes", "sur_place").rows() == [
        ("CNAF", 220, 190),
        ("CNAM", 50, 50),
        ("CNAV", 30, 30),
        ("DGFIP", 90, 60),
    ]  # ANTS (the bus's) is gone
    breakdown = reasons.requests_breakdown(con, fixed, T1, T2)
    assert "ANTS" not in breakdown["code"].to_list() and (breakdown["nb_demandes"] > 0).all()
    assert_frame_equal(breakdown, _from_sites_detail(con, ["S1", "S3", "S4"]))
    assert_frame_equal(
        reasons.requests_breakdown(con, Scope("national", None, formats=("BUS",)), T1, T2),
        _from_sites_detail(con, ["S2"]),
    )
    assert reasons.detail_coverage(con, fixed, T1, T2).row(0) == (1380 - 250, 390, 390 / 1130)
    region = reasons.requests_breakdown(con, Scope("region", "84", formats=("FIXE",)), T1, T2)
    assert region.filter(pl.col("dimension") == "canal")["nb_demandes"].sum() == 370 - 50
    assert_frame_equal(region, _from_sites_detail(con, ["S1", "S4"]))


def test_carrier_filter_on_unknown_carriers(con):
    """No carrier is known in this network: 'non renseigné' keeps every site, and matches the rollup."""
    everyone = Scope("national", None, carriers=("NON_RENSEIGNE",))
    assert_frame_equal(
        reasons.requests_breakdown(con, everyone, T1, T2), reasons.requests_breakdown(con, NATIONAL, T1, T2)
    )
    assert reasons.requests_breakdown(con, Scope("national", None, carriers=("LA_POSTE",)), T1, T2).is_empty()
