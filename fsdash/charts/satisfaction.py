"""Charts of the Satisfaction page: rates with their 95 % interval, and answer distributions.

Every rate is drawn with its Wilson interval; a rate on fewer than ``MIN_ANSWERS`` answers is drawn
hollow (and as a diamond), so that fragility reads without colour. Distributions are diverging
stacked bars: unsatisfied answers to the left of zero, satisfied ones to the right, the neutral
level straddling it, each segment labelled with its share.
"""

from __future__ import annotations

import math

import altair as alt
import polars as pl

from fsdash import formats, theme
from fsdash.charts import percent_axis
from fsdash.metrics.satisfaction import MIN_ANSWERS

RELIABLE = f"{MIN_ANSWERS} réponses ou plus"
#: Pixels per area in :func:`rate_by_area`: room for the point, its interval and its rate above it.
RATE_ROW_STEP = 30
FRAGILE = f"moins de {MIN_ANSWERS} réponses (fragile)"

#: Diverging colours, darkest at both ends (the side of zero tells satisfied from not).
NEGATIVE_COLORS = ["#A94645", "#F5B3A8"]  # most unhappy first
NEUTRAL_COLOR = "#CECECE"
POSITIVE_COLORS = ["#8585F6", "#000091"]  # least happy first
#: Segment text colour on each fill (dark on light, white on dark).
_TEXT_ON = {
    "#A94645": "#FFFFFF",
    "#F5B3A8": "#3A3A3A",
    "#CECECE": "#3A3A3A",
    "#8585F6": "#FFFFFF",
    "#000091": "#FFFFFF",
}


def _pct(expr: pl.Expr, decimals: int = 1) -> pl.Expr:
    return formats.percent_expr(expr, decimals)


def _num(expr: pl.Expr) -> pl.Expr:
    return formats.number_expr(expr)


def rate_text_expr(
    rate: pl.Expr | str = "taux",
    low: pl.Expr | str = "ic_bas",
    high: pl.Expr | str = "ic_haut",
    answers: pl.Expr | str = "reponses",
    decimals: int = 1,
) -> pl.Expr:
    """``95,2 % [94,1 % ; 96,2 %]``, prefixed with ``≈`` and suffixed with the count when fragile (fewer
    than :data:`MIN_ANSWERS` answers): every row at once, without Babel per row."""
    rate, low, high, answers = (pl.col(c) if isinstance(c, str) else c for c in (rate, low, high, answers))
    text = (
        formats.percent_expr(rate, decimals)
        + " ["
        + formats.percent_expr(low, decimals)
        + " ; "
        + formats.percent_expr(high, decimals)
        + "]"
    )
    fragile = answers.is_not_null() & (answers < MIN_ANSWERS)
    prefix = pl.when(fragile).then(pl.lit("≈ ")).otherwise(pl.lit(""))
    suffix = pl.when(fragile).then(" (n = " + formats.number_expr(answers) + ")").otherwise(pl.lit(""))
    # The first branch names the result after ``rate``'s column; each piece is computed once.
    return pl.when(rate.is_null()).then(rate.cast(pl.String)).otherwise(prefix + text + suffix).fill_null(formats.DASH)


def with_rate_text(frame: pl.DataFrame, column: str = "taux_ic") -> pl.DataFrame:
    """Add the French rate-with-interval text of :func:`rate_text_expr` as ``column``."""
    return frame.with_columns(rate_text_expr().alias(column))


def _tooltip_frame(frame: pl.DataFrame) -> pl.DataFrame:
    return with_rate_text(frame).with_columns(
        _num(pl.col("reponses")).alias("reponses_fr"),
        pl.when(pl.col("fragile")).then(pl.lit(FRAGILE)).otherwise(pl.lit(RELIABLE)).alias("fiabilite"),
    )


def _reliability_encodings() -> dict:
    domain = [RELIABLE, FRAGILE]
    return {
        "fill": alt.Fill(
            "fiabilite:N",
            title=None,
            scale=alt.Scale(domain=domain, range=[theme.color("primary"), "#FFFFFF"]),
            legend=alt.Legend(orient="top", labelLimit=0),
        ),
        "shape": alt.Shape(
            "fiabilite:N",
            title=None,
            scale=alt.Scale(domain=domain, range=["circle", "diamond"]),
            legend=alt.Legend(orient="top", labelLimit=0),
        ),
    }


def rate_by_area(
    frame: pl.DataFrame,
    label: str,
    title: str,
    reference: float | None = None,
    reference_label: str = "ensemble du périmètre",
) -> alt.LayerChart:
    """One row per area (``label`` column): the rate as a point, its interval as a bar, sorted.

    ``reference`` (the rate of the whole scope) is drawn as a dashed vertical rule.
    """
    data = _tooltip_frame(frame.filter(pl.col("reponses") > 0).sort("taux", descending=True)).with_columns(
        pl.when(pl.col("fragile")).then("≈ " + _pct(pl.col("taux"))).otherwise(_pct(pl.col("taux"))).alias("etiquette")
    )
    order = data[label].to_list()
    low = max(0.0, (data["ic_bas"].min() or 0.0) - 0.02)
    x_scale = alt.Scale(domain=[low, 1.0], zero=False)
    # One band per area, every band labelled in full (a site's name ends with its id: truncating it
    # would hide which site is which), whatever the number of areas.
    y = alt.Y(
        f"{label}:N",
        sort=order,
        title=None,
        scale=alt.Scale(domain=order),
        axis=alt.Axis(labelLimit=0, labelOverlap=False),
    )
    tips = [
        alt.Tooltip(f"{label}:N", title="Zone"),
        alt.Tooltip("taux_ic:N", title=title),
        alt.Tooltip("reponses_fr:N", title="Réponses"),
        alt.Tooltip("fiabilite:N", title="Fiabilité"),
    ]
    base = alt.Chart(data.to_arrow())
    interval = base.mark_rule(color=theme.color("primary"), strokeWidth=2).encode(
        x=alt.X("ic_bas:Q", scale=x_scale, title=f"{title} (intervalle de confiance à 95 %)", axis=percent_axis()),
        x2="ic_haut:Q",
        y=y,
        tooltip=tips,
    )
    points = base.mark_point(size=70, strokeWidth=2, color=theme.color("primary"), opacity=1).encode(
        x=alt.X("taux:Q", scale=x_scale), y=y, tooltip=tips, **_reliability_encodings()
    )
    # each point carries its rate, just above it: every plotted mark is labelled
    values = base.mark_text(dy=-11, fontSize=11, color=theme.color("text")).encode(
        x=alt.X("taux:Q", scale=x_scale), y=y, text="etiquette:N", tooltip=tips
    )
    layers = [interval, points, values]
    if reference is not None:
        ref = pl.DataFrame({"taux": [reference], "libelle": [f"{reference_label} : {formats.percent(reference, 1)}"]})
        rule = (
            alt.Chart(ref.to_arrow())
            .mark_rule(color=theme.color("red"), strokeDash=[5, 3])
            .encode(x=alt.X("taux:Q", scale=x_scale), tooltip=[alt.Tooltip("libelle:N", title="Référence")])
        )
        layers.append(rule)
    # A fixed step per area: a small département's five sites get five readable bands (a height
    # shared with the legends and axes squeezed them below a label's height).
    return alt.layer(*layers).properties(height=alt.Step(RATE_ROW_STEP))


def rate_over_time(
    frame: pl.DataFrame,
    period: str,
    period_label: str,
    title: str,
    reference: pl.DataFrame | None = None,
    reference_label: str | None = None,
) -> alt.LayerChart:
    """The rate over quarters or years (``period`` column, ``period_label`` its French label),
    with the interval as a band; ``reference`` (same periods) as a dashed grey line."""
    data = _tooltip_frame(frame.filter(pl.col("reponses") > 0))
    order = data[period_label].to_list()
    x = alt.X(f"{period_label}:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45))
    lows = [data["ic_bas"].min() or 0.0]
    if reference is not None and not reference.is_empty():
        lows.append(reference["taux"].min() or 0.0)
    y_scale = alt.Scale(domain=[max(0.0, min(lows) - 0.02), 1.0], zero=False)
    tips = [
        alt.Tooltip(f"{period_label}:N", title="Période"),
        alt.Tooltip("taux_ic:N", title=title),
        alt.Tooltip("reponses_fr:N", title="Réponses"),
        alt.Tooltip("fiabilite:N", title="Fiabilité"),
    ]
    base = alt.Chart(data.to_arrow())
    band = base.mark_area(opacity=0.18, color=theme.color("primary")).encode(
        x=x, y=alt.Y("ic_bas:Q", scale=y_scale, title=title, axis=percent_axis()), y2="ic_haut:Q", tooltip=tips
    )
    line = base.mark_line(color=theme.color("primary"), strokeWidth=2.5).encode(x=x, y=alt.Y("taux:Q", scale=y_scale))
    points = base.mark_point(size=60, strokeWidth=2, color=theme.color("primary"), opacity=1).encode(
        x=x, y=alt.Y("taux:Q", scale=y_scale), tooltip=tips, **_reliability_encodings()
    )
    layers = [band, line, points]
    if reference is not None and not reference.is_empty():
        ref = with_rate_text(reference.filter(pl.col(period_label).is_in(order)))
        ref = ref.with_columns(pl.lit(reference_label or "Comparaison").alias("serie"))
        layers.append(
            alt.Chart(ref.to_arrow())
            .mark_line(
                color=theme.color("text"),
                strokeDash=[5, 3],
                strokeWidth=2,
                point=alt.OverlayMarkDef(filled=False, size=40, color=theme.color("text")),
            )
            .encode(
                x=x,
                y=alt.Y("taux:Q", scale=y_scale),
                tooltip=[
                    alt.Tooltip("serie:N", title="Série"),
                    alt.Tooltip(f"{period_label}:N", title="Période"),
                    alt.Tooltip("taux_ic:N", title=title),
                ],
            )
        )
    return alt.layer(*layers).properties(height=340)


def diverging_layout(frame: pl.DataFrame, category: str, levels: list[tuple[str, str, int]]) -> pl.DataFrame:
    """Long frame of segments for diverging bars (pure, tested).

    ``levels`` = (count column, French label, side) from the least to the most satisfied, side −1
    (unsatisfied), 0 (neutral, split across zero) or +1. Each category's bar starts at −(share of
    unsatisfied + half the neutral share); columns ``categorie``, ``niveau``, ``ordre``, ``reponses``,
    ``part``, ``debut``, ``fin``.
    """
    counts = [code for code, _, _ in levels]
    rows = []
    for record in frame.select(category, *counts).iter_rows(named=True):
        total = sum(record[c] or 0 for c in counts)
        if not total:
            continue
        shares = [(record[c] or 0) / total for c in counts]
        start = (
            -sum(s for s, (_, _, side) in zip(shares, levels, strict=True) if side < 0)
            - sum(s for s, (_, _, side) in zip(shares, levels, strict=True) if side == 0) / 2
        )
        for i, ((code, label, _), share) in enumerate(zip(levels, shares, strict=True)):
            rows.append(
                {
                    "categorie": record[category],
                    "niveau": label,
                    "ordre": i,
                    "reponses": record[code] or 0,
                    "part": share,
                    "debut": start,
                    "fin": start + share,
                }
            )
            start += share
    schema = {
        "categorie": pl.String,
        "niveau": pl.String,
        "ordre": pl.Int64,
        "reponses": pl.Int64,
        "part": pl.Float64,
        "debut": pl.Float64,
        "fin": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def diverging_bars(
    frame: pl.DataFrame, category: str, levels: list[tuple[str, str, int]], category_title: str | None = None
) -> alt.LayerChart:
    """Diverging stacked bars of answer levels per category (question, year…), shares labelled."""
    data = diverging_layout(frame, category, levels)
    order = [c for c in frame[category].to_list() if c in set(data["categorie"].to_list())]
    negatives = [label for _, label, side in levels if side < 0]
    neutrals = [label for _, label, side in levels if side == 0]
    positives = [label for _, label, side in levels if side > 0]
    colors = NEGATIVE_COLORS[-len(negatives) :] if len(negatives) <= 2 else NEGATIVE_COLORS
    colors = list(colors) + [NEUTRAL_COLOR] * len(neutrals) + POSITIVE_COLORS[-len(positives) :]
    domain = [label for _, label, _ in levels]
    text_colors = {label: _TEXT_ON.get(color, "#3A3A3A") for label, color in zip(domain, colors, strict=True)}
    data = data.with_columns(
        _pct(pl.col("part"), 0).alias("part_fr"),
        _num(pl.col("reponses")).alias("reponses_fr"),
        ((pl.col("debut") + pl.col("fin")) / 2).alias("milieu"),
        pl.col("niveau").replace_strict(text_colors, default="#3A3A3A").alias("couleur_texte"),
    ).with_columns(pl.when(pl.col("part") >= 0.06).then(pl.col("part_fr")).otherwise(pl.lit("")).alias("etiquette"))
    y = alt.Y("categorie:N", sort=order, title=category_title, axis=alt.Axis(labelLimit=280))
    tips = [
        alt.Tooltip("categorie:N", title=category_title or "Catégorie"),
        alt.Tooltip("niveau:N", title="Réponse"),
        alt.Tooltip("part_fr:N", title="Part"),
        alt.Tooltip("reponses_fr:N", title="Réponses"),
    ]
    base = alt.Chart(data.to_arrow())
    bars = base.mark_bar(stroke="#FFFFFF", strokeWidth=1).encode(
        x=alt.X(
            "debut:Q",
            title="← insatisfaits · part des réponses · satisfaits →",
            scale=alt.Scale(domain=[min(-0.1, math.floor(((data["debut"].min() or 0) - 0.04) * 10) / 10), 1.0]),
            axis=percent_axis(labelExpr="format(abs(datum.value), '.0%')"),
        ),
        x2="fin:Q",
        y=y,
        color=alt.Color(
            "niveau:N",
            title=None,
            scale=alt.Scale(domain=domain, range=colors),
            sort=domain,
            legend=alt.Legend(orient="top", symbolType="square"),
        ),
        order=alt.Order("ordre:Q"),
        tooltip=tips,
    )
    labels = base.mark_text(fontSize=11).encode(
        x="milieu:Q", y=y, text="etiquette:N", color=alt.Color("couleur_texte:N", scale=None), tooltip=tips
    )
    zero = (
        alt.Chart(pl.DataFrame({"x": [0.0]}).to_arrow())
        .mark_rule(color=theme.color("text"), strokeWidth=1.5)
        .encode(x="x:Q")
    )
    return alt.layer(bars, labels, zero).properties(height=110 + 40 * len(order))


def survey_evolution(frame: pl.DataFrame, questions: dict[str, str]) -> alt.Chart:
    """Satisfaction rate of each question over the years: one line per question, told apart by
    dash and point shape as well as colour."""
    data = _tooltip_frame(frame).with_columns(
        pl.col("question").replace_strict(questions, default=pl.col("question")).alias("question_fr"),
        pl.col("annee").cast(pl.String).alias("annee_fr"),
    )
    domain = [questions[q] for q in questions if q in set(frame["question"].to_list())]
    low = max(0.0, (data["taux"].min() or 0.0) - 0.05)
    return (
        alt.Chart(data.to_arrow())
        .mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=60, filled=True))
        .encode(
            x=alt.X("annee_fr:O", title=None),
            y=alt.Y(
                "taux:Q",
                title="Satisfaits (4 ou 5)",
                scale=alt.Scale(domain=[low, 1.0], zero=False),
                axis=percent_axis(),
            ),
            color=alt.Color(
                "question_fr:N",
                title=None,
                scale=alt.Scale(domain=domain),
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=320),
            ),
            strokeDash=alt.StrokeDash("question_fr:N", title=None, scale=alt.Scale(domain=domain)),
            shape=alt.Shape("question_fr:N", title=None, scale=alt.Scale(domain=domain)),
            tooltip=[
                alt.Tooltip("annee_fr:N", title="Année"),
                alt.Tooltip("question_fr:N", title="Question"),
                alt.Tooltip("taux_ic:N", title="Satisfaits"),
                alt.Tooltip("reponses_fr:N", title="Réponses"),
            ],
        )
        .properties(height=420)
    )
