"""Attendance (fréquentation): users received and requests, per quarter, per site, per agent and per
opening hour (charter 3.1 reporting; charter 1.5 agents; charter 2.4 opening hours).

SQL functions take ``(con, scope, first, last)`` — ``first``/``last`` are quarter-start dates (None:
no bound) — and read ``activite`` joined to ``sites`` (the activity feed is small: one row per site
and quarter). Pure functions (``distribution``, ``classify``, ``histogram``, ``extremes``,
``seasonal_profile``) work on the frames those return, so a page runs one query and derives the rest.

Definitions (one place):

- *demandes par site* : requests / site-quarters declared (a site that reported 3 quarters
  out of 4 counts 3) — a quarterly figure;
- *demandes par ETP* : requests / sum of the agents' FTE over the same site-quarters — quarterly
  requests per full-time agent; site-quarters without FTE (0) are left out of both terms;
- *demandes par heure d'ouverture* : requests / (weekly opening hours × 13 weeks), summed over
  site-quarters with hours; site-quarters without hours are left out of both terms.
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import polars as pl

from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.periods import period_filter

#: Weeks in a quarter, to turn weekly opening hours into hours open in a quarter.
WEEKS_PER_QUARTER = 13
#: Below this many sites, quartiles say nothing: they are not computed (small numbers shown as such).
MIN_SITES_FOR_QUARTILES = 5
#: Tukey's fences: beyond Q3 + 1.5 × IQR (or below Q1 − 1.5 × IQR) a site is atypical.
FENCE = 1.5

#: Per-site measures a distribution can be drawn on, with their French labels.
MEASURES = {
    "demandes_par_etp": "Demandes par ETP et par trimestre",
    "demandes_par_heure": "Demandes par heure d'ouverture",
    "demandes_par_trimestre": "Demandes par trimestre",
    "usagers_par_trimestre": "Usagers accueillis par trimestre",
}

CLASSES = {
    "tres_haut": "Très sollicité (au-delà de Q3 + 1,5 × écart interquartile)",
    "haut": "Quart le plus sollicité (au-delà de Q3)",
    "milieu": "Entre Q1 et Q3",
    "bas": "Quart le moins sollicité (en deçà de Q1)",
    "tres_bas": "Très peu sollicité (en deçà de Q1 − 1,5 × écart interquartile)",
}


_RATIOS = f"""
    sum(a.demandes) FILTER (WHERE a.agents_etp > 0) / nullif(sum(a.agents_etp) FILTER (WHERE a.agents_etp > 0), 0)
        AS demandes_par_etp,
    sum(a.demandes) FILTER (WHERE a.heures_ouverture_hebdo > 0)
        / nullif(sum(a.heures_ouverture_hebdo * {WEEKS_PER_QUARTER}) FILTER (WHERE a.heures_ouverture_hebdo > 0), 0)
        AS demandes_par_heure"""


def _where(scope: Scope, first: dt.date | None, last: dt.date | None) -> tuple[str, list]:
    sites_where, sites_params = scope.sites_filter("s")
    period_where, period_params = period_filter("a.periode", first, last)
    return f"a.is_current AND {sites_where} AND {period_where}", [*sites_params, *period_params]


#: The headline sums of a group of site-quarters.
_HEADLINE = """sum(a.usagers_accueillis)::BIGINT AS usagers,
               sum(a.demandes)::BIGINT AS demandes,
               count(*) AS sites_declarants"""


def headline_by_quarter(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """Per quarter: ``usagers``, ``demandes``, ``sites_declarants`` — the first columns of
    :func:`attendance_by_quarter`, in a query of their own: the home page reads nothing else, and the
    ratios' filtered sums cost more than these three."""
    where, params = _where(scope, first, last)
    return con.sql(
        f"""
        SELECT a.periode, {_HEADLINE}
        FROM activite a {scope.sites_join("a")}
        WHERE {where}
        GROUP BY a.periode ORDER BY a.periode""",
        params=params,
    ).pl()


def attendance_by_quarter(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """Per quarter: ``usagers``, ``demandes``, ``sites_declarants``, ``agents_etp`` (sum), ``heures_ouverture``
    (hours open in the quarter, summed), ``usagers_par_site``, ``demandes_par_site``, ``demandes_par_etp``,
    ``demandes_par_heure``. Quarters nobody reported are absent."""
    where, params = _where(scope, first, last)
    return con.sql(
        f"""
        SELECT a.periode,
               {_HEADLINE},
               sum(a.agents_etp)::DOUBLE AS agents_etp,
               sum(a.heures_ouverture_hebdo * {WEEKS_PER_QUARTER})::DOUBLE AS heures_ouverture,
               sum(a.usagers_accueillis) / count(*) AS usagers_par_site,
               sum(a.demandes) / count(*) AS demandes_par_site,
               {_RATIOS}
        FROM activite a {scope.sites_join("a")}
        WHERE {where}
        GROUP BY a.periode ORDER BY a.periode""",
        params=params,
    ).pl()


def attendance_summary(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """One row for the whole period: ``usagers``, ``demandes``, ``sites_declarants`` (distinct sites),
    ``site_trimestres``, ``trimestres``, ``usagers_par_site``, ``demandes_par_site`` (per site-quarter),
    ``demandes_par_etp``, ``demandes_par_heure``. Ratios are null when nothing was reported."""
    where, params = _where(scope, first, last)
    return con.sql(
        f"""
        SELECT coalesce(sum(a.usagers_accueillis), 0)::BIGINT AS usagers,
               coalesce(sum(a.demandes), 0)::BIGINT AS demandes,
               count(DISTINCT a.site_id) AS sites_declarants,
               count(*) AS site_trimestres,
               count(DISTINCT a.periode) AS trimestres,
               sum(a.usagers_accueillis) / nullif(count(*), 0) AS usagers_par_site,
               sum(a.demandes) / nullif(count(*), 0) AS demandes_par_site,
               {_RATIOS}
        FROM activite a {scope.sites_join("a")}
        WHERE {where}""",
        params=params,
    ).pl()


def site_attendance(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """One row per site that reported in the period, with its context.

    ``site_id``, ``nom``, ``departement``, ``region``, ``format``, ``latitude``, ``longitude``,
    ``trimestres`` (quarters declared), ``usagers``, ``demandes`` (sums), ``agents_etp`` and
    ``heures_hebdo`` (means over the declared quarters), ``demandes_par_trimestre``,
    ``usagers_par_trimestre``, ``demandes_par_etp``, ``demandes_par_heure``. Ordered by site.
    """
    where, params = _where(scope, first, last)
    return con.sql(
        f"""
        SELECT s.site_id, any_value(s.nom) AS nom, any_value(s.departement) AS departement,
               any_value(s.region) AS region, any_value(s.format) AS format,
               any_value(s.latitude) AS latitude, any_value(s.longitude) AS longitude,
               count(*) AS trimestres,
               sum(a.usagers_accueillis)::BIGINT AS usagers,
               sum(a.demandes)::BIGINT AS demandes,
               avg(a.agents_etp) AS agents_etp,
               avg(a.heures_ouverture_hebdo) AS heures_hebdo,
               sum(a.demandes) / count(*) AS demandes_par_trimestre,
               sum(a.usagers_accueillis) / count(*) AS usagers_par_trimestre,
               {_RATIOS}
        FROM activite a JOIN sites s ON s.site_id = a.site_id
        WHERE {where}
        GROUP BY s.site_id ORDER BY s.site_id""",
        params=params,
    ).pl()


# --- pure derivations -------------------------------------------------------------------------


def distribution(sites: pl.DataFrame, measure: str = "demandes_par_etp") -> pl.DataFrame:
    """Spread of a per-site measure: one row ``sites``, ``minimum``, ``q1``, ``mediane``, ``q3``, ``maximum``,
    ``moyenne``. Quartiles by linear interpolation (NumPy's default); null below
    :data:`MIN_SITES_FOR_QUARTILES` sites with a value (the minimum and maximum are still given)."""
    values = (
        sites.get_column(measure).drop_nulls().drop_nans()
        if measure in sites.columns
        else pl.Series([], dtype=pl.Float64)
    )
    n = values.len()
    enough = n >= MIN_SITES_FOR_QUARTILES

    def q(p: float) -> float | None:
        return float(values.quantile(p, interpolation="linear")) if enough else None

    return pl.DataFrame(
        {
            "sites": [n],
            "minimum": [float(values.min()) if n else None],
            "q1": [q(0.25)],
            "mediane": [q(0.5)],
            "q3": [q(0.75)],
            "maximum": [float(values.max()) if n else None],
            "moyenne": [float(values.mean()) if n else None],
        },
        schema={
            "sites": pl.Int64,
            "minimum": pl.Float64,
            "q1": pl.Float64,
            "mediane": pl.Float64,
            "q3": pl.Float64,
            "maximum": pl.Float64,
            "moyenne": pl.Float64,
        },
    )


def classify(sites: pl.DataFrame, measure: str = "demandes_par_etp") -> pl.DataFrame:
    """Add ``classe`` (a key of :data:`CLASSES`, null without quartiles or value) and ``rang``
    (1 = most solicited) to the per-site frame."""
    stats = distribution(sites, measure).row(0, named=True)
    value = pl.col(measure)
    if stats["q1"] is None:
        classe = pl.lit(None, dtype=pl.String)
    else:
        iqr = stats["q3"] - stats["q1"]
        classe = (
            pl.when(value.is_null())
            .then(None)
            .when(value > stats["q3"] + FENCE * iqr)
            .then(pl.lit("tres_haut"))
            .when(value > stats["q3"])
            .then(pl.lit("haut"))
            .when(value < stats["q1"] - FENCE * iqr)
            .then(pl.lit("tres_bas"))
            .when(value < stats["q1"])
            .then(pl.lit("bas"))
            .otherwise(pl.lit("milieu"))
        )
    return sites.with_columns(
        classe.alias("classe"),
        value.rank(method="min", descending=True).cast(pl.Int64).alias("rang"),
    )


def _nice_step(span: float, bins: int) -> float:
    raw = span / max(bins, 1)
    if raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def histogram(sites: pl.DataFrame, measure: str = "demandes_par_etp", bins: int = 30) -> pl.DataFrame:
    """Sites per bin of a measure (bins of a round width from 0): ``debut``, ``fin``, ``sites``.

    Aggregated here so that a chart sends a few dozen rows, not one per site. Empty bins inside
    the range are kept (a gap is information).
    """
    values = sites.get_column(measure).drop_nulls().drop_nans()
    schema = {"debut": pl.Float64, "fin": pl.Float64, "sites": pl.Int64}
    if values.is_empty():
        return pl.DataFrame(schema=schema)
    low = min(0.0, float(values.min()))
    step = _nice_step(float(values.max()) - low, bins)
    counts = (
        pl.DataFrame({"v": values})
        .with_columns(((pl.col("v") - low) / step).floor().cast(pl.Int64).alias("k"))
        .group_by("k")
        .agg(pl.len().cast(pl.Int64).alias("sites"))
    )
    top = int(counts["k"].max())
    return (
        pl.DataFrame({"k": list(range(top + 1))}, schema={"k": pl.Int64})
        .join(counts, on="k", how="left")
        .select(
            (low + pl.col("k") * step).cast(pl.Float64).alias("debut"),
            (low + (pl.col("k") + 1) * step).cast(pl.Float64).alias("fin"),
            pl.col("sites").fill_null(0).cast(pl.Int64),
        )
    )


def extremes(
    sites: pl.DataFrame, measure: str = "demandes_par_etp", n: int = 10, min_quarters: int = 1
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``n`` most and least solicited sites on a measure (ties broken by site id), among sites
    with a value and at least ``min_quarters`` quarters declared."""
    eligible = sites.filter(
        pl.col(measure).is_not_null() & ~pl.col(measure).is_nan() & (pl.col("trimestres") >= min_quarters)
    )
    top = eligible.sort([measure, "site_id"], descending=[True, False]).head(n)
    bottom = eligible.sort([measure, "site_id"]).head(n)
    return top, bottom


def seasonal_profile(by_quarter: pl.DataFrame, value: str = "demandes_par_site") -> pl.DataFrame:
    """Seasonality: ``annee``, ``trimestre`` (1-4), the value, and ``indice`` = value / mean of that year's
    quarters × 100 (a year with fewer than four quarters gets an index on the quarters it has)."""
    return (
        by_quarter.select(
            pl.col("periode").dt.year().cast(pl.Int64).alias("annee"),
            pl.col("periode").dt.quarter().cast(pl.Int64).alias("trimestre"),
            pl.col(value),
        )
        .with_columns((pl.col(value) / pl.col(value).mean().over("annee") * 100).alias("indice"))
        .sort("annee", "trimestre")
    )


def seasonality(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """:func:`seasonal_profile` of requests per reporting site (growth of the network removed)."""
    return seasonal_profile(attendance_by_quarter(con, scope, first, last), "demandes_par_site")
