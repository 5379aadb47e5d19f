"""User satisfaction: kiosk answers (quarterly) and the yearly survey (charter 3.1 and 3.2).

The charter asks every France Services to publish its satisfaction results each year. A rate
computed on a handful of answers is not a fact: every rate here carries its 95 % Wilson score
interval and a ``fragile`` flag below :data:`MIN_ANSWERS` answers, so pages show small numbers
with their uncertainty instead of as exact figures.

Definitions (from the catalogue's column attributes, not repeated here):

* kiosk satisfaction rate = answers flagged ``satisfied: true`` (« très satisfait », « satisfait »)
  over all answers;
* survey satisfaction rate of a question = answers at the two top levels of the five-point scale
  (``likert`` 4 and 5) over the answers given to that question (respondents who skipped it are
  not counted).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash.cache import cached
from fsdash.catalogue import load_catalogue
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.periods import period_filter

#: Two-sided 95 % normal quantile used by every interval on the pages.
Z_95 = 1.959963984540054
#: Below this many answers a rate is flagged as fragile (shown with its interval, never alone).
MIN_ANSWERS = 30
#: Survey levels counted as satisfied (« 4 — Satisfait », « 5 — Très satisfait »).
SATISFIED_LEVELS = (4, 5)

#: Area levels a breakdown can be asked for, and the site columns they group on.
AREA_COLUMNS = {"region": ["region"], "departement": ["departement"], "site": ["site_id", "nom", "departement"]}


# --- the Wilson score interval ---------------------------------------------------------------


def wilson_exprs(successes: str, n: str, z: float = Z_95) -> tuple[pl.Expr, pl.Expr]:
    """The same interval as Polars expressions over two count columns (null where ``n`` is 0)."""
    x = pl.col(successes).cast(pl.Float64)
    total = pl.col(n).cast(pl.Float64)
    valid = total > 0
    p = x / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z * (p * (1 - p) / total + z2 / (4 * total * total)).sqrt() / denominator
    low = pl.when(valid).then((centre - half).clip(0.0, 1.0))
    high = pl.when(valid).then((centre + half).clip(0.0, 1.0))
    return low, high


def with_rate(frame: pl.DataFrame, satisfied: str = "satisfaits", answers: str = "reponses") -> pl.DataFrame:
    """Add ``taux``, ``ic_bas``, ``ic_haut`` (Wilson 95 %) and ``fragile`` (< MIN_ANSWERS answers)."""
    low, high = wilson_exprs(satisfied, answers)
    return frame.with_columns(
        pl.when(pl.col(answers) > 0).then(pl.col(satisfied) / pl.col(answers)).alias("taux"),
        low.alias("ic_bas"),
        high.alias("ic_haut"),
        (pl.col(answers) < MIN_ANSWERS).alias("fragile"),
    )


# --- kiosk answers (satisfaction_borne, quarterly) --------------------------------------------


def kiosk_levels() -> list[tuple[str, str, bool]]:
    """(column, French label, satisfied) of the kiosk answers, from the least to the most satisfied."""
    table = load_catalogue().table("satisfaction_borne")
    return [(c.code, c.label, bool(c.attrs.get("satisfied"))) for c in reversed(table.measure_columns)]


def _sites_join(alias: str, scope: Scope, group: dict[str, str]) -> str:
    """The join to the sites table, when the scope or the grouping needs it: France entière unfiltered,
    grouped by quarter or year, reads the answers alone (every answer's site is known: rule ``known_site``)."""
    return scope.sites_join(alias, reads_sites=any("s." in expr for expr in group.values()))


def _kiosk(
    con: duckdb.DuckDBPyConnection, group: dict[str, str], first: dt.date | None, last: dt.date | None, scope: Scope
) -> pl.DataFrame:
    """Kiosk answers summed by ``group`` (alias -> SQL expression), with the rate and its interval."""
    levels = kiosk_levels()
    where, params = scope.sites_filter()
    period, period_params = period_filter("b.periode", first, last)
    keys = "".join(f"{expr} AS {alias}, " for alias, expr in group.items())
    sums = ", ".join(f"coalesce(sum(b.{code}), 0)::BIGINT AS {code}" for code, _, _ in levels)
    grouping = f"GROUP BY ALL ORDER BY {', '.join(str(i + 1) for i in range(len(group)))}" if group else ""
    frame = con.sql(
        f"""
        SELECT {keys}count(DISTINCT b.site_id) AS sites, {sums}
        FROM satisfaction_borne b {_sites_join("b", scope, group)}
        WHERE b.is_current AND {where} AND {period}
        {grouping}""",
        params=[*params, *period_params],
    ).pl()
    satisfied = [code for code, _, ok in levels if ok]
    frame = frame.with_columns(
        pl.sum_horizontal([pl.col(c) for c, _, _ in levels]).alias("reponses"),
        pl.sum_horizontal([pl.col(c) for c in satisfied]).alias("satisfaits"),
    )
    return with_rate(frame)


def _area_group(level: str) -> dict[str, str]:
    return {c: f"s.{c}" for c in AREA_COLUMNS[level]}


@cached(maxsize=128)
def kiosk_summary(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """One row over the period: ``sites``, the four answer counts, ``reponses``, ``satisfaits``, rate, interval."""
    return _kiosk(con, {}, first, last, scope)


@cached(maxsize=128)
def kiosk_by_quarter(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, first: dt.date | None = None, last: dt.date | None = None
) -> pl.DataFrame:
    """Per quarter (``periode``): answers, rate and its interval — the evolution."""
    return _kiosk(con, {"periode": "b.periode"}, first, last, scope)


@cached(maxsize=128)
def kiosk_by_area(
    con: duckdb.DuckDBPyConnection,
    scope: Scope = NATIONAL,
    first: dt.date | None = None,
    last: dt.date | None = None,
    level: str = "departement",
) -> pl.DataFrame:
    """Per région, département or site of the scope (``level``): answers, rate and interval."""
    return _kiosk(con, _area_group(level), first, last, scope)


@cached(maxsize=64)
def kiosk_by_year(con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL) -> pl.DataFrame:
    """Per calendar year (``annee``): answers, rate and interval."""
    return _kiosk(con, {"annee": "year(b.periode)::BIGINT"}, None, None, scope)


# --- the yearly survey (enquete_annuelle) -----------------------------------------------------


def survey_levels() -> list[tuple[str, str, int]]:
    """(column, French label, level) of the five-point scale, from 1 to 5."""
    table = load_catalogue().table("enquete_annuelle")
    return sorted(
        ((c.code, c.label, int(c.attrs["likert"])) for c in table.measure_columns if "likert" in c.attrs),
        key=lambda t: t[2],
    )


def survey_questions() -> dict[str, str]:
    """Question code -> French label, in the catalogue's order."""
    dim = load_catalogue().dimensions["question_enquete"]
    return {v.code: v.label for v in dim.values}


@cached(maxsize=8)
def survey_years(con: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    rows = con.sql("SELECT DISTINCT year(periode) FROM enquete_annuelle WHERE is_current ORDER BY 1").fetchall()
    return tuple(int(r[0]) for r in rows)


@cached(maxsize=8)
def satisfaction_years(con: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    """Years with kiosk answers or survey results, oldest first (the years a site publishes)."""
    rows = con.sql("""SELECT DISTINCT year(periode) FROM satisfaction_borne WHERE is_current
                      UNION SELECT DISTINCT year(periode) FROM enquete_annuelle WHERE is_current
                      ORDER BY 1""").fetchall()
    return tuple(int(r[0]) for r in rows)


def _survey(con: duckdb.DuckDBPyConnection, group: dict[str, str], year: int | None, scope: Scope) -> pl.DataFrame:
    levels = survey_levels()
    where, params = scope.sites_filter()
    # A year's survey is dated its 1st of January: an equality DuckDB can prune on, unlike year(periode).
    year_filter, year_params = ("e.periode = make_date(?, 1, 1)", [year]) if year is not None else ("TRUE", [])
    keys = {"annee": "year(e.periode)::BIGINT", "question": "e.question", **group}
    if "site_id" in group:
        # One current row per site, year and question (the table's key): nothing to add up.
        measures = "1::BIGINT AS sites, e.repondants::BIGINT AS repondants, " + ", ".join(
            f"e.{code}::BIGINT AS {code}" for code, _, _ in levels
        )
        grouping = ""
    else:
        measures = "count(DISTINCT e.site_id) AS sites, sum(e.repondants)::BIGINT AS repondants, " + ", ".join(
            f"sum(e.{code})::BIGINT AS {code}" for code, _, _ in levels
        )
        grouping = "GROUP BY ALL"
    frame = con.sql(
        f"""
        SELECT {", ".join(f"{expr} AS {alias}" for alias, expr in keys.items())}, {measures}
        FROM enquete_annuelle e {_sites_join("e", scope, keys)}
        WHERE e.is_current AND {where} AND {year_filter}
        {grouping}""",
        params=[*params, *year_params],
    ).pl()
    satisfied = [code for code, _, level in levels if level in SATISFIED_LEVELS]
    answers = pl.sum_horizontal([pl.col(c) for c, _, _ in levels])
    frame = frame.with_columns(
        answers.alias("reponses"),
        pl.sum_horizontal([pl.col(c) for c in satisfied]).alias("satisfaits"),
        pl.when(answers > 0)
        .then(pl.sum_horizontal([pl.col(c) * level for c, _, level in levels]) / answers)
        .alias("note_moyenne"),
    )
    order = {code: i for i, code in enumerate(survey_questions())}
    return (
        with_rate(frame)
        .with_columns(
            pl.col("question").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_ordre")
        )
        .sort(["annee", *group, "_ordre"])
        .drop("_ordre")
    )


@cached(maxsize=128)
def survey_by_question(con: duckdb.DuckDBPyConnection, scope: Scope, year: int) -> pl.DataFrame:
    """One year, per question: respondents, answers per level, ``reponses``, ``satisfaits``,
    ``note_moyenne`` (1 to 5), rate and interval."""
    return _survey(con, {}, year, scope)


@cached(maxsize=64)
def survey_by_year(con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL) -> pl.DataFrame:
    """Every year × question: the evolution of each question's satisfaction rate."""
    return _survey(con, {}, None, scope)


@cached(maxsize=128)
def survey_by_area(con: duckdb.DuckDBPyConnection, scope: Scope, year: int, level: str) -> pl.DataFrame:
    """One year, per région, département or site (``level``) × question."""
    return _survey(con, _area_group(level), year, scope)


# --- the table each site publishes (charter 3.2) --------------------------------------------


@cached(maxsize=32)
def published_results(con: duckdb.DuckDBPyConnection, scope: Scope, year: int) -> pl.DataFrame:
    """The yearly results a site publishes: one row per site × indicator for ``year``.

    Indicators: ``BORNE`` (kiosk answers of the year's quarters) and each survey question.
    Columns: ``annee``, ``site_id``, ``nom``, ``departement``, ``indicateur``, ``reponses``,
    ``satisfaits``, ``taux``, ``ic_bas``, ``ic_haut``, ``fragile``.
    """
    cols = [
        "annee",
        "site_id",
        "nom",
        "departement",
        "indicateur",
        "reponses",
        "satisfaits",
        "taux",
        "ic_bas",
        "ic_haut",
        "fragile",
    ]
    kiosk = kiosk_by_area(con, scope, dt.date(year, 1, 1), dt.date(year, 10, 1), "site").with_columns(
        pl.lit(year, pl.Int64).alias("annee"), pl.lit("BORNE").alias("indicateur")
    )
    survey = survey_by_area(con, scope, year, "site").rename({"question": "indicateur"})
    order = {code: i for i, code in enumerate(["BORNE", *survey_questions()])}
    frames = [f.select(cols) for f in (kiosk, survey) if f.height]
    if not frames:
        return kiosk.select(cols).clear()
    return (
        pl.concat(frames, how="vertical_relaxed")
        .with_columns(
            pl.col("indicateur").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_ordre")
        )
        .sort("departement", "nom", "site_id", "_ordre")
        .drop("_ordre")
    )


def indicator_labels() -> dict[str, str]:
    """Indicator code of :func:`published_results` -> French label."""
    return {"BORNE": "Borne : satisfait de la démarche"} | {
        code: f"Enquête : {label}" for code, label in survey_questions().items()
    }
