"""Reasons for contact (motifs de contact): requests by partner, life situation and theme of the bouquet,
channel, and outcome — answered on the spot, passed to the partner's back-office referent, or redirected
(annex 1: an answer « sans que l'utilisateur ait à se déplacer dans un autre guichet »).

Every territory, with or without the format/carrier filters, reads a requests rollup shaped like these
pages (``agg_demandes_national`` for France entière, ``agg_demandes_departement`` otherwise,
``agg_demandes_departement_partenaire`` for the départements × partners view); only a single site
reads ``demandes_detail`` (:func:`request_rows`, ``Scope.uses_rollup``).

:func:`requests_breakdown` is the one scan a page needs: requests by quarter for each of partner,
situation and channel, each crossed with the outcome (a few thousand rows). The pure functions
:func:`shares`, :func:`by_quarter` and :func:`outcome_by` derive every chart from it; the

"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash import geography
from fsdash.catalogue import load_catalogue
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.periods import period_filter
from fsdash.warehouse.schema import NATIONAL_REQUESTS_ROLLUP, PARTNER_ROLLUP, REQUESTS_ROLLUP, ROLLUP_DIMENSIONS

#: Dimensions read from the detail (``theme`` is derived from ``situation``; ``issue`` is the outcome).
BREAKDOWN_DIMENSIONS = ROLLUP_DIMENSIONS
DIMENSIONS = (*BREAKDOWN_DIMENSIONS, "theme", "issue")
ON_THE_SPOT = "REPONDU_SUR_PLACE"
#: A département with fewer requests than this in the heatmap is flagged: its shares move with a few
#: requests (at 200 requests, a 20 % share has a standard error of about 3 points).
SMALL_COUNT = 200

#: Short labels for axes; a ``short`` attribute on a catalogue value takes precedence.
SHORT_LABELS = {
    "partenaire": {
        "ANTS": "ANTS / France Titres",
        "CNAF": "Caf",
        "CNAM": "Assurance maladie",
        "CNAV": "Assurance retraite",
        "MSA": "MSA",
        "FRANCE_TRAVAIL": "France Travail",
        "DGFIP": "DGFiP",
        "JUSTICE": "Justice",
        "LA_POSTE": "La Poste",
        "AUTRE": "Autre / local",
    },
    "issue": {
        "REPONDU_SUR_PLACE": "Réponse sur place",
        "TRANSMIS_REFERENT": "Transmise au référent",
        "REORIENTE": "Réorientée",
    },
}


def labels(dimension: str) -> pl.DataFrame:
    """Catalogue values of a dimension in display order: ``code``, ``libelle``, ``libelle_court``, ``ordre``
    (and ``theme``, ``theme_libelle`` for situations)."""
    catalogue = load_catalogue()
    dim = catalogue.dimensions[dimension]
    short = SHORT_LABELS.get(dimension, {})
    frame = pl.DataFrame(
        {
            "code": [v.code for v in dim.values],
            "libelle": [v.label for v in dim.values],
            "libelle_court": [v.extra.get("short", short.get(v.code, v.label)) for v in dim.values],
            "ordre": list(range(len(dim.values))),
        },
        schema={"code": pl.String, "libelle": pl.String, "libelle_court": pl.String, "ordre": pl.Int64},
    )
    if dimension == "situation":
        themes = catalogue.dimensions["theme"]
        frame = frame.with_columns(
            pl.Series("theme", [v.extra["theme"] for v in dim.values], dtype=pl.String),
            pl.Series("theme_libelle", [themes.label_of(v.extra["theme"]) for v in dim.values], dtype=pl.String),
        )
    return frame


def _rollup(scope: Scope, by_departement: bool) -> str:
    """France entière reads the national rollup unless départements are wanted; any other territory the
    departmental one."""
    return NATIONAL_REQUESTS_ROLLUP if scope.level == "national" and not by_departement else REQUESTS_ROLLUP


def request_rows(
    scope: Scope,
    first: dt.date | None,
    last: dt.date | None,
    dimensions: tuple[str, ...] = BREAKDOWN_DIMENSIONS,
    by_departement: bool = False,
) -> tuple[str, list]:
    """A subquery of rows ``(periode, [departement,] dimension, code, issue, n)`` whose sums are the scope's
    requests of the period, for each of ``dimensions`` (each one sums to the same total).

    Every territory, with or without format/carrier filters, reads a rollup (their rows carry the sites'
    format and carrier): the national one for France entière, else the departmental one. A site reads
    its own detail (filtered on ``site_id`` itself, so that zone maps skip the other sites' row groups),
    grouped the same way in one scan.
    """
    departement = "departement, " if by_departement else ""
    if scope.uses_rollup:
        where, params = scope.rollup_filter("r")
        period, period_params = period_filter("r.periode", first, last)
        wanted = (
            "TRUE"
            if set(dimensions) == set(ROLLUP_DIMENSIONS)
            else f"dimension IN ({', '.join('?' * len(dimensions))})"
        )
        return (
            f"""SELECT periode, {departement}dimension, code, issue, nb_demandes AS n
                FROM {_rollup(scope, by_departement)} r WHERE {where} AND {period} AND {wanted}""",
            [*params, *period_params, *([] if wanted == "TRUE" else dimensions)],
        )
    where, params = scope.sites_filter("s")
    period, period_params = period_filter("d.periode", first, last)
    keys = "periode, departement" if by_departement else "periode"
    sets = ", ".join(f"({keys}, {d}, issue)" for d in dimensions)
    which = " ".join(f"WHEN GROUPING({d}) = 0 THEN '{d}'" for d in dimensions)
    return (
        f"""SELECT {keys}, CASE {which} END AS dimension, coalesce({", ".join(dimensions)}) AS code, issue,
                   sum(nb_demandes) AS n
            FROM (SELECT d.periode, s.departement, d.partenaire, d.situation, d.canal, d.issue, d.nb_demandes
                  FROM demandes_detail d JOIN sites s ON s.site_id = d.site_id
                  WHERE d.is_current AND d.site_id = ? AND {where} AND {period})
            GROUP BY GROUPING SETS ({sets})""",
        [scope.code, *params, *period_params],
    )


_BREAKDOWN_SCHEMA = {
    "dimension": pl.String,
    "code": pl.String,
    "periode": pl.Date,
    "issue": pl.String,
    "nb_demandes": pl.Int64,
}


def requests_breakdown(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """Requests by quarter, for each of partner, situation and channel, crossed with the outcome.

    Long frame: ``dimension`` (``partenaire``/``situation``/``canal``), ``code``, ``periode``, ``issue``,
    ``nb_demandes``. The rollups hold exactly this shape (see :func:`request_rows`); combinations
    without requests are absent.
    """
    rows, params = request_rows(scope, first, last)
    frame = con.sql(
        f"""SELECT dimension, code, periode, issue, sum(n)::BIGINT AS nb_demandes FROM ({rows})
            GROUP BY ALL HAVING sum(n) <> 0""",
        params=params,
    ).pl()
    return frame.cast(_BREAKDOWN_SCHEMA).sort("dimension", "code", "periode", "issue")


def _dimension_rows(breakdown: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """The breakdown's rows for one dimension, as ``code``, ``periode``, ``issue``, ``nb_demandes``."""
    if dimension in BREAKDOWN_DIMENSIONS:
        return breakdown.filter(pl.col("dimension") == dimension).select("code", "periode", "issue", "nb_demandes")
    base = breakdown.filter(pl.col("dimension") == "situation")
    if dimension == "theme":
        themes = labels("situation").select("code", "theme")
        return (
            base.join(themes, on="code", how="left")
            .group_by("theme", "periode", "issue")
            .agg(pl.col("nb_demandes").sum())
            .select(pl.col("theme").alias("code"), "periode", "issue", "nb_demandes")
        )
    if dimension == "issue":
        return (
            base.group_by("issue", "periode")
            .agg(pl.col("nb_demandes").sum())
            .select(pl.col("issue").alias("code"), "periode", "issue", "nb_demandes")
        )
    raise ValueError(f"unknown dimension {dimension}")


def _share(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(None)


def shares(breakdown: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """Requests of the period by value of a dimension, every catalogue value listed (0 if none), in
    catalogue order: ``code``, ``libelle``, ``libelle_court``, ``nb_demandes``, ``part`` (of all requests),
    ``sur_place`` and ``part_sur_place`` (answered on the spot, within the value); for situations also
    ``theme``, ``theme_libelle``. Shares are null when there is no request at all."""
    rows = _dimension_rows(breakdown, dimension)
    totals = rows.group_by("code").agg(
        pl.col("nb_demandes").sum().alias("nb_demandes"),
        pl.col("nb_demandes").filter(pl.col("issue") == ON_THE_SPOT).sum().alias("sur_place"),
    )
    out = (
        labels(dimension)
        .join(totals, on="code", how="left")
        .with_columns(
            pl.col("nb_demandes").fill_null(0).cast(pl.Int64), pl.col("sur_place").fill_null(0).cast(pl.Int64)
        )
        .with_columns(
            _share(pl.col("nb_demandes"), pl.col("nb_demandes").sum()).alias("part"),
            _share(pl.col("sur_place"), pl.col("nb_demandes")).alias("part_sur_place"),
        )
        .sort("ordre")
        .drop("ordre")
    )
    extra = [c for c in ("theme", "theme_libelle") if c in out.columns]
    return out.select("code", "libelle", "libelle_court", *extra, "nb_demandes", "part", "sur_place", "part_sur_place")


def by_quarter(breakdown: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """Per quarter and value: ``periode``, ``code``, ``libelle``, ``libelle_court``, ``nb_demandes``, ``part``
    (within the quarter). Every catalogue value appears in every quarter that has requests (0 if none)."""
    rows = _dimension_rows(breakdown, dimension).group_by("periode", "code").agg(pl.col("nb_demandes").sum())
    quarters = rows.select("periode").unique()
    names = labels(dimension).select("code", "libelle", "libelle_court", "ordre")
    return (
        quarters.join(names, how="cross")
        .join(rows, on=["periode", "code"], how="left")
        .with_columns(pl.col("nb_demandes").fill_null(0).cast(pl.Int64))
        .with_columns(_share(pl.col("nb_demandes"), pl.col("nb_demandes").sum().over("periode")).alias("part"))
        .sort("periode", "ordre")
        .select("periode", "code", "libelle", "libelle_court", "nb_demandes", "part")
    )


def on_the_spot_by_quarter(breakdown: pl.DataFrame) -> pl.DataFrame:
    """Per quarter: ``periode``, ``nb_demandes``, ``sur_place``, ``part_sur_place``."""
    frame = by_quarter(breakdown, "issue")
    return (
        frame.group_by("periode")
        .agg(
            pl.col("nb_demandes").sum(),
            pl.col("nb_demandes").filter(pl.col("code") == ON_THE_SPOT).sum().alias("sur_place"),
        )
        .with_columns(_share(pl.col("sur_place"), pl.col("nb_demandes")).alias("part_sur_place"))
        .sort("periode")
    )


def outcome_by(breakdown: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """Outcomes within each value of a dimension (e.g. how a partner's requests end):
    ``code``, ``libelle_court``, ``issue``, ``issue_libelle``, ``nb_demandes``, ``part`` (within the value).
    Values without requests are left out."""
    rows = _dimension_rows(breakdown, dimension).group_by("code", "issue").agg(pl.col("nb_demandes").sum())
    names = labels(dimension).select("code", "libelle_court", "ordre")
    issues = labels("issue").select(
        pl.col("code").alias("issue"),
        pl.col("libelle_court").alias("issue_libelle"),
        pl.col("ordre").alias("ordre_issue"),
    )
    present = rows.group_by("code").agg(pl.col("nb_demandes").sum().alias("total")).filter(pl.col("total") > 0)
    return (
        present.join(names, on="code")
        .join(issues, how="cross")
        .join(rows, on=["code", "issue"], how="left")
        .with_columns(pl.col("nb_demandes").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("nb_demandes") / pl.col("total")).alias("part"))
        .sort("ordre", "ordre_issue")
        .select("code", "libelle_court", "issue", "issue_libelle", "nb_demandes", "part")
    )


# --- one-answer wrappers with the (con, scope, first, last) signature ----------------------------


# --- other queries -----------------------------------------------------------------------------


def detail_coverage(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """How much of the declared activity the detail explains: one row ``demandes_declarees`` (activity
    feed), ``demandes_detaillees`` (detail by reason), ``taux`` (null without declared requests)."""
    sites_where, sites_params = scope.sites_filter("s")
    period, period_params = period_filter("a.periode", first, last)
    declared = con.sql(
        f"""
        SELECT coalesce(sum(a.demandes), 0)::BIGINT FROM activite a {scope.sites_join("a")}
        WHERE a.is_current AND {sites_where} AND {period}""",
        params=[*sites_params, *period_params],
    ).fetchall()[0][0]
    rows, params = request_rows(scope, first, last, ("canal",))  # any one dimension sums to the total
    detailed = con.sql(f"SELECT coalesce(sum(n), 0)::BIGINT FROM ({rows})", params=params).fetchall()[0][0]
    return pl.DataFrame(
        {
            "demandes_declarees": [declared],
            "demandes_detaillees": [detailed],
            "taux": [detailed / declared if declared else None],
        },
        schema={"demandes_declarees": pl.Int64, "demandes_detaillees": pl.Int64, "taux": pl.Float64},
    )


def departement_partner_shares(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """Each département's requests by partner, against the whole scope's mix.

    ``departement``, ``departement_nom``, ``partenaire``, ``libelle_court``, ``nb_demandes``,
    ``total_departement``, ``part`` (within the département), ``part_zone`` (the partner's share in the
    whole scope), ``ecart`` (``part − part_zone``, in share points), ``petit_effectif``
    (``total_departement`` < :data:`SMALL_COUNT`). Every partner is listed for every département with
    requests. Pass the territory to compare (:meth:`fsdash.metrics.scope.Scope.comparison_area`).
    """
    if scope.uses_rollup:  # the partner rollup: a third of the departmental rollup's partner rows
        where, params = scope.rollup_filter("r")
        period, period_params = period_filter("r.periode", first, last)
        subquery = f"""SELECT departement, partenaire AS code, nb_demandes AS n FROM {PARTNER_ROLLUP} r
                       WHERE {where} AND {period}"""
        params = [*params, *period_params]
    else:
        subquery, params = request_rows(scope, first, last, ("partenaire",), by_departement=True)
    rows = con.sql(
        f"""SELECT departement, code AS partenaire, sum(n)::BIGINT AS nb_demandes FROM ({subquery})
            GROUP BY ALL HAVING sum(n) <> 0""",
        params=params,
    ).pl()
    rows = rows.with_columns(pl.col("partenaire").cast(pl.String))  # an ENUM in the rollups
    schema = {
        "departement": pl.String,
        "departement_nom": pl.String,
        "partenaire": pl.String,
        "libelle_court": pl.String,
        "nb_demandes": pl.Int64,
        "total_departement": pl.Int64,
        "part": pl.Float64,
        "part_zone": pl.Float64,
        "ecart": pl.Float64,
        "petit_effectif": pl.Boolean,
    }
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    partners = labels("partenaire").select(pl.col("code").alias("partenaire"), "libelle_court", "ordre")
    names = geography.departements().select(pl.col("code").alias("departement"), pl.col("nom").alias("departement_nom"))
    zone = rows.group_by("partenaire").agg(pl.col("nb_demandes").sum().alias("zone"))
    out = (
        rows.select("departement")
        .unique()
        .join(partners, how="cross")
        .join(rows, on=["departement", "partenaire"], how="left")
        .join(zone, on="partenaire", how="left")
        .join(names, on="departement", how="left")
        .with_columns(
            pl.col("nb_demandes").fill_null(0),
            pl.col("zone").fill_null(0),
            pl.col("departement_nom").fill_null(pl.col("departement")),
        )
        .with_columns(
            pl.col("nb_demandes").sum().over("departement").alias("total_departement"),
            (pl.col("zone") / pl.col("zone").sum().over("departement")).alias("part_zone"),
        )
        .with_columns((pl.col("nb_demandes") / pl.col("total_departement")).alias("part"))
        .with_columns(
            (pl.col("part") - pl.col("part_zone")).alias("ecart"),
            (pl.col("total_departement") < SMALL_COUNT).alias("petit_effectif"),
        )
        .sort("departement", "ordre")
    )
    return out.select(list(schema)).cast(schema)
