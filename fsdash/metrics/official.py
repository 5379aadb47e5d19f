"""Official series (DITP, Etalab) and their reconciliation with the sites' feed.

A committee trusts figures that agree with what the Prime Minister's office publishes, and wants
to see where its own feed disagrees. For each indicator both sources measure — labelled sites,
requests (acts), kiosk satisfaction — :func:`reconcile` puts the feed's aggregate next to the
official value by zone and date, with the gap (feed minus official, absolute and relative), a
``flag`` beyond the tolerance the user chose, and a French ``note`` saying where the definitions
differ (from ``schemas/series_officielles.yaml``).

Output columns of every reconciliation: ``indicator``, ``zone_level``, ``zone_code``,
``zone_name``, ``date`` (label stock date, or first day of the quarter), ``official``, ``feed``,
``gap``, ``gap_relative``, ``flag``, ``months_published`` (official months behind a quarter; null
for label stocks), ``note``.
"""

from __future__ import annotations

import duckdb
import polars as pl

from fsdash import geography
from fsdash.cache import cached
from fsdash.metrics.network import OPEN_AT
from fsdash.metrics.scope import NATIONAL, NATIONAL_ZONE, Scope
from fsdash.official.definitions import ACTS, LABELS, SATISFACTION, Indicator, load_definitions

#: Default tolerance of the flag: a relative gap beyond 5 % is worth a look.
DEFAULT_TOLERANCE = 0.05
BY_LEVELS = ("departement", "scope")

RECONCILIATION_SCHEMA = {
    "indicator": pl.String,
    "zone_level": pl.String,
    "zone_code": pl.String,
    "zone_name": pl.String,
    "date": pl.Date,
    "official": pl.Float64,
    "feed": pl.Float64,
    "gap": pl.Float64,
    "gap_relative": pl.Float64,
    "flag": pl.Boolean,
    "months_published": pl.Int64,
    "note": pl.String,
}

#: How a zone of the official series matches a site of the registry (alias ``s``), by level.
_ZONE_MATCH = """(z.zone_level = 'national'
                  OR (z.zone_level = 'region' AND s.region = z.zone_code)
                  OR (z.zone_level = 'departement' AND s.departement = z.zone_code))"""


# --- zones -----------------------------------------------------------------------------------


def _zones(scope: Scope, by: str) -> tuple[str, list[str] | None]:
    """Zone level and codes compared: the scope itself, or the départements inside it (None: all)."""
    if by not in BY_LEVELS:
        raise ValueError(f"by must be one of {BY_LEVELS}")
    level, code = scope.official_zone
    if by == "scope" or level == "departement":
        return level, [code]
    if level == "region":
        return "departement", list(scope.territory().departements)
    return "departement", None


def zone_names() -> pl.DataFrame:
    """``zone_level``, ``zone_code``, ``zone_name`` for every zone an official series may name."""
    deps = geography.departements().select(
        pl.lit("departement").alias("zone_level"), pl.col("code").alias("zone_code"), pl.col("nom").alias("zone_name")
    )
    regs = geography.regions().select(
        pl.lit("region").alias("zone_level"), pl.col("code").alias("zone_code"), pl.col("nom").alias("zone_name")
    )
    nat = pl.DataFrame({"zone_level": ["national"], "zone_code": [NATIONAL_ZONE], "zone_name": ["France"]})
    return pl.concat([nat, regs, deps])


def _zone_filter(level: str, codes: list[str] | None) -> tuple[str, list]:
    if codes is None:
        return "o.zone_level = ?", [level]
    return f"o.zone_level = ? AND o.zone_code IN ({', '.join('?' * len(codes))})", [level, *codes]


# --- plain accessors -------------------------------------------------------------------------


@cached(maxsize=8)
def has_official_series(con: duckdb.DuckDBPyConnection) -> bool:
    """False for a warehouse older than the official series (schema version < 3)."""
    rows = con.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'official_series'").fetchall()
    return rows[0][0] > 0


@cached(maxsize=128)
def official_series(con: duckdb.DuckDBPyConnection, scope: Scope, indicator: str) -> pl.DataFrame:
    """One official series for the scope's zone: ``date`` (reference date, national convention),
    ``published_date`` (as in the file), ``value``, ``target``, ``initial``, ``progress`` (in %)."""
    level, code = scope.official_zone
    return con.sql(
        """
        SELECT reference_date AS date, min(date) AS published_date,
               max(value) FILTER (WHERE value_kind = 'realisee') AS value,
               max(value) FILTER (WHERE value_kind = 'cible') AS target,
               max(value) FILTER (WHERE value_kind = 'initiale') AS initial,
               max(value) FILTER (WHERE value_kind = 'taux_avancement') AS progress
        FROM official_series
        WHERE is_current AND indicator = ? AND zone_level = ? AND zone_code = ?
        GROUP BY reference_date ORDER BY reference_date""",
        params=[indicator, level, code],
    ).pl()


def official_targets(con: duckdb.DuckDBPyConnection, scope: Scope | None, indicator: str) -> pl.DataFrame:
    """Targets of an indicator: ``zone_level``, ``zone_code``, ``zone_name``, ``date``, ``target``.

    Every zone when ``scope`` is None; else the scope's zone and the départements inside it.
    """
    where, params = "TRUE", []
    if scope is not None:
        level, code = scope.official_zone
        inner_level, codes = _zones(scope, "departement")
        own, own_params = _zone_filter(level, [code])
        inner, inner_params = _zone_filter(inner_level, codes)
        where, params = f"(({own}) OR ({inner}))", [*own_params, *inner_params]
    frame = con.sql(
        f"""
        SELECT o.zone_level, o.zone_code, o.reference_date AS date, o.value AS target
        FROM official_series o
        WHERE o.is_current AND o.indicator = ? AND o.value_kind = 'cible' AND {where}
        ORDER BY o.zone_level, o.zone_code, o.reference_date""",
        params=[indicator, *params],
    ).pl()
    return frame.join(zone_names(), on=["zone_level", "zone_code"], how="left", maintain_order="left").select(
        "zone_level", "zone_code", "zone_name", "date", "target"
    )


def measured_values(con: duckdb.DuckDBPyConnection, indicator: str, zone_level: str) -> pl.DataFrame:
    """Measured official values of every zone of a level: ``zone_code``, ``date`` (as published),
    ``reference_date``, ``value`` (realised, else the initial value when the YAML says it is a measure)."""
    measured, params = _measured(load_definitions().indicators[indicator], zone_level, None)
    return con.sql(
        f"""SELECT zone_code, published AS date, reference_date, official AS value FROM ({measured})
                       ORDER BY zone_code, reference_date""",
        params=params,
    ).pl()


def official_summary(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Per indicator loaded: its source, current rows, the latest date with a measured value and the
    last date of any value (targets included)."""
    if not has_official_series(con):
        return {}
    rows = con.sql("""
        SELECT indicator, any_value(source), count(*),
               max(date) FILTER (WHERE value_kind IN ('realisee', 'initiale')), max(date)
        FROM official_series WHERE is_current GROUP BY indicator ORDER BY indicator""").fetchall()
    return {
        ind: {
            "source": src,
            "rows": n,
            "latest_date": last.isoformat() if last else None,
            "last_date": latest.isoformat() if latest else None,
        }
        for ind, src, n, last, latest in rows
    }


# --- reconciliation --------------------------------------------------------------------------


def _measured(indicator: Indicator, level: str, codes: list[str] | None) -> tuple[str, list]:
    """SQL of the official measured values of the zones (realised, else initial if it is a measure)."""
    kinds = ["realisee", "initiale"] if indicator.initial_is_measure else ["realisee"]
    where, params = _zone_filter(level, codes)
    return (
        f"""
        SELECT o.zone_level, o.zone_code, o.reference_date, min(o.date) AS published,
               coalesce(max(o.value) FILTER (WHERE o.value_kind = 'realisee'),
                        max(o.value) FILTER (WHERE o.value_kind = 'initiale')) AS official
        FROM official_series o
        WHERE o.is_current AND o.indicator = ? AND o.value_kind IN ({", ".join("?" * len(kinds))}) AND {where}
        GROUP BY ALL""",
        [indicator.code, *kinds, *params],
    )


def _finish(
    frame: pl.DataFrame, indicator: Indicator, tolerance: float, extra_note: pl.Expr, scope: Scope
) -> pl.DataFrame:
    """Gaps, flag and notes, in the common column order."""
    narrowed = (
        " Filtres de format et de porteur ignorés : les séries officielles couvrent tous les sites."
        if scope.narrowed
        else ""
    )
    gap = pl.col("feed") - pl.col("official")
    relative = pl.when(pl.col("official") != 0).then(gap / pl.col("official"))
    missing = (
        pl.when(pl.col("feed").is_null())
        .then(pl.lit(" Aucune donnée du flux pour cette période."))
        .otherwise(pl.lit(""))
    )
    out = (
        frame.with_columns(
            pl.lit(indicator.code).alias("indicator"),
            gap.alias("gap"),
            relative.alias("gap_relative"),
        )
        .with_columns(
            (pl.col("gap_relative").abs() > tolerance).fill_null(False).alias("flag"),
            pl.concat_str(pl.lit(indicator.note), extra_note, missing, pl.lit(narrowed)).alias("note"),
        )
        .join(zone_names(), on=["zone_level", "zone_code"], how="left")
    )
    if "months_published" not in out.columns:
        out = out.with_columns(pl.lit(None, pl.Int64).alias("months_published"))
    return out.select([pl.col(c).cast(t) for c, t in RECONCILIATION_SCHEMA.items()]).sort(
        "zone_level", "zone_code", "date"
    )


def reconcile_labels(
    con: duckdb.DuckDBPyConnection,
    scope: Scope = NATIONAL,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    by: str = "departement",
) -> pl.DataFrame:
    """Official label stocks vs the registry's sites labelled and not closed at the same date.

    Departmental and regional Etalab stocks are compared at their reference date (one month after
    the published date, see the YAML), national stocks at their published date.
    """
    indicator = load_definitions().by_feed("sites_labellises")
    level, codes = _zones(scope, by)
    measured, params = _measured(indicator, level, codes)
    frame = con.sql(
        f"""
        WITH z AS ({measured})
        SELECT z.zone_level, z.zone_code, z.reference_date AS date, z.published, z.official,
               count(s.site_id)::DOUBLE AS feed
        FROM z LEFT JOIN sites s ON {OPEN_AT.format(d="z.reference_date")} AND {_ZONE_MATCH}
        GROUP BY ALL""",
        params=params,
    ).pl()
    shifted = (
        pl.when(pl.col("published") != pl.col("date"))
        .then(pl.format(" Valeur publiée au {}.", pl.col("published").dt.strftime("%d/%m/%Y")))
        .otherwise(pl.lit(""))
    )
    return _finish(frame, indicator, tolerance, shifted, scope)


def _quarterly(measured: str, aggregate: str) -> str:
    """Official monthly values grouped by quarter (``aggregate`` of ``official`` and ``n``)."""
    return f"""
        SELECT zone_level, zone_code, date_trunc('quarter', reference_date)::DATE AS date,
               count(*) AS n, {aggregate} AS official
        FROM ({measured}) GROUP BY ALL"""


def reconcile_requests(
    con: duckdb.DuckDBPyConnection,
    scope: Scope = NATIONAL,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    by: str = "departement",
) -> pl.DataFrame:
    """Official monthly acts (IND-323) vs the feed's quarterly requests (``activite.demandes``).

    A quarter's official value is the sum of its three months when all are published; otherwise
    the mean of the published months times three, an estimate (``months_published`` says how many).
    """
    indicator = load_definitions().by_feed("demandes")
    level, codes = _zones(scope, by)
    measured, params = _measured(indicator, level, codes)
    quarterly = _quarterly(measured, "CASE WHEN count(*) = 3 THEN sum(official) ELSE avg(official) * 3 END")
    frame = con.sql(
        f"""
        WITH z AS ({quarterly}),
        feed AS (SELECT z.zone_level, z.zone_code, z.date, sum(a.demandes)::DOUBLE AS feed
                 FROM z JOIN sites s ON {_ZONE_MATCH}
                 JOIN activite a ON a.site_id = s.site_id AND a.periode = z.date AND a.is_current
                 GROUP BY ALL)
        SELECT z.zone_level, z.zone_code, z.date, z.official, f.feed, z.n AS months_published
        FROM z LEFT JOIN feed f USING (zone_level, zone_code, date)""",
        params=params,
    ).pl()
    estimate = (
        pl.when(pl.col("months_published") < 3)
        .then(pl.format(" Estimation : {} mois publié(s) sur 3.", pl.col("months_published")))
        .otherwise(pl.lit(""))
    )
    return _finish(frame, indicator, tolerance, estimate, scope)


def reconcile_satisfaction(
    con: duckdb.DuckDBPyConnection,
    scope: Scope = NATIONAL,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    by: str = "departement",
) -> pl.DataFrame:
    """Official satisfaction (IND-246, %) vs the feed's kiosk rate of the quarter, in %.

    Feed rate: (très satisfait + satisfait) / all answers of the zone's kiosks in the quarter.
    Several official months in one quarter are averaged.
    """
    indicator = load_definitions().by_feed("satisfaction_borne")
    level, codes = _zones(scope, by)
    measured, params = _measured(indicator, level, codes)
    quarterly = _quarterly(measured, "avg(official)")
    frame = con.sql(
        f"""
        WITH z AS ({quarterly}),
        feed AS (SELECT z.zone_level, z.zone_code, z.date,
                        sum(b.reponses_tres_satisfait + b.reponses_satisfait)::DOUBLE AS ok,
                        sum(b.reponses_tres_satisfait + b.reponses_satisfait + b.reponses_peu_satisfait
                            + b.reponses_pas_satisfait)::DOUBLE AS answers
                 FROM z JOIN sites s ON {_ZONE_MATCH}
                 JOIN satisfaction_borne b ON b.site_id = s.site_id AND b.periode = z.date AND b.is_current
                 GROUP BY ALL)
        SELECT z.zone_level, z.zone_code, z.date, z.official,
               ? * f.ok / nullif(f.answers, 0) AS feed, z.n AS months_published
        FROM z LEFT JOIN feed f USING (zone_level, zone_code, date)""",
        params=[*params, indicator.feed.scale],
    ).pl()
    averaged = (
        pl.when(pl.col("months_published") > 1)
        .then(pl.format(" Moyenne de {} mois publiés.", pl.col("months_published")))
        .otherwise(pl.lit(""))
    )
    return _finish(frame, indicator, tolerance, averaged, scope)


_RECONCILERS = {LABELS: reconcile_labels, ACTS: reconcile_requests, SATISFACTION: reconcile_satisfaction}


@cached(maxsize=64)
def reconcile(
    con: duckdb.DuckDBPyConnection,
    scope: Scope = NATIONAL,
    indicator: str | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    by: str = "departement",
) -> pl.DataFrame:
    """Reconciliation of one official indicator (or all when None), in the common columns."""
    if indicator is not None:
        return _RECONCILERS[indicator](con, scope, tolerance=tolerance, by=by)
    frames = [f(con, scope, tolerance=tolerance, by=by) for f in _RECONCILERS.values()]
    return pl.concat(frames) if frames else pl.DataFrame(schema=RECONCILIATION_SCHEMA)


def reconciliation_summary(frame: pl.DataFrame) -> pl.DataFrame:
    """Per indicator and date: zones compared, zones flagged, median and largest absolute relative gap."""
    return (
        frame.filter(pl.col("feed").is_not_null())
        .group_by("indicator", "date")
        .agg(
            pl.len().alias("zones"),
            pl.col("flag").sum().alias("flagged"),
            pl.col("gap_relative").abs().median().alias("median_abs_gap_relative"),
            pl.col("gap_relative").abs().max().alias("max_abs_gap_relative"),
        )
        .sort("indicator", "date")
    )
