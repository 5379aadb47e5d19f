"""Charts of the Fréquentation page: quarterly trends (with a comparison), seasonality, the spread of
the load across sites.

Frames come in aggregated (one row per quarter, per bin…); tooltips carry French text written by the
native expressions of :mod:`fsdash.formats` (no Python callback in a Polars expression).
:func:`comparison_trend` is shared with the Motifs de contact page.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from fsdash import formats, theme
from fsdash.charts import integer_axis, number_axis, percent_axis

CURRENT_LABEL = "Période choisie"


def _fmt(values: pl.Expr, kind: str, decimals: int) -> pl.Expr:
    return formats.percent_expr(values, decimals) if kind == "percent" else formats.number_expr(values, decimals)


def quarter_offset(first: dt.date, other_first: dt.date) -> int:
    """Quarters from ``other_first`` to ``first`` (4 for 'same period last year')."""
    return (first.year - other_first.year) * 4 + (first.month - other_first.month) // 3


def align(compared: pl.DataFrame, offset: int) -> pl.DataFrame:
    """Move a comparison's quarters ``offset`` quarters forward, onto the selected period's quarters;
    its own quarter is kept as ``periode_comparee``.

    As :func:`fsdash.periods.shift_quarters`: the first of the month, ``3 × offset`` months later."""
    return compared.with_columns(
        pl.col("periode").alias("periode_comparee"),
        pl.col("periode").dt.month_start().dt.offset_by(f"{3 * offset}mo").alias("periode"),
    )


def comparison_trend(
    current: pl.DataFrame,
    value: str,
    title: str,
    *,
    compared: pl.DataFrame | None = None,
    compared_label: str | None = None,
    kind: str = "number",
    decimals: int = 0,
    mark: str = "bar",
    height: int = 280,
    min_span: float = 0.10,
) -> alt.LayerChart | alt.Chart:
    """One value per quarter (bars, or a line with ``mark="line"``), and the comparison as a dashed grey
    line over the same quarters. ``compared`` must already be aligned (:func:`align`) and may keep
    ``periode_comparee`` (its own quarter, shown in the tooltip).

    Volumes start at zero. Shares (``kind="percent"``) do not, but their axis spans at least
    ``min_span`` (10 points by default), so that a few tenths of a point never look like a swing."""
    cur = (
        current.select("periode", value)
        .with_columns(
            formats.quarter_short_expr("periode").alias("trimestre"),
            _fmt(pl.col(value), kind, decimals).alias("valeur_fr"),
            pl.lit(CURRENT_LABEL).alias("serie"),
        )
        .drop("periode")
    )
    order = cur["trimestre"].to_list()
    has_comparison = compared is not None and not compared.is_empty()
    label = compared_label or "Comparaison"
    series = [CURRENT_LABEL, label] if has_comparison else [CURRENT_LABEL]
    colors = [theme.color("primary"), theme.color("text")][: len(series)]
    axis = percent_axis(decimals) if kind == "percent" else number_axis(decimals)
    x = alt.X("trimestre:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45))
    scale = alt.Scale(zero=True)
    if kind == "percent":
        values = current[value].drop_nulls().to_list() + (
            compared[value].drop_nulls().to_list() if compared is not None and value in compared.columns else []
        )
        if values:
            lo, hi = min(values), max(values)
            if hi - lo < min_span:
                middle = (lo + hi) / 2
                lo, hi = middle - min_span / 2, middle + min_span / 2
                if lo < 0:
                    lo, hi = 0.0, min_span
                if hi > 1:
                    lo, hi = 1 - min_span, 1.0
            scale = alt.Scale(domain=[lo, hi], zero=False, nice=False)
    y = alt.Y(f"{value}:Q", title=title, axis=axis, scale=scale)
    color = alt.Color(
        "serie:N",
        title=None,
        scale=alt.Scale(domain=series, range=colors),
        legend=alt.Legend(orient="top", labelLimit=420),
    )
    tips = [
        alt.Tooltip("serie:N", title="Série"),
        alt.Tooltip("trimestre:N", title="Trimestre"),
        alt.Tooltip("valeur_fr:N", title=title),
    ]
    base = alt.Chart(cur.to_arrow())
    if mark == "bar":
        layers = [base.mark_bar().encode(x=x, y=y, color=color, tooltip=tips)]
    else:
        layers = [base.mark_line(point=True, strokeWidth=2.5).encode(x=x, y=y, color=color, tooltip=tips)]
    if has_comparison:
        cmp = compared.filter(pl.col("periode").is_in(current["periode"].implode()))
        own = pl.col("periode_comparee") if "periode_comparee" in cmp.columns else pl.col("periode")
        cmp = cmp.select(
            formats.quarter_short_expr("periode").alias("trimestre"),
            formats.quarter_short_expr(own).alias("trimestre_compare"),
            pl.col(value),
            _fmt(pl.col(value), kind, decimals).alias("valeur_fr"),
            pl.lit(label).alias("serie"),
        )
        layers.append(
            alt.Chart(cmp.to_arrow())
            .mark_line(point=alt.OverlayMarkDef(filled=False, size=40), strokeDash=[5, 3], strokeWidth=2)
            .encode(
                x=x,
                y=y,
                color=color,
                tooltip=[
                    alt.Tooltip("serie:N", title="Série"),
                    alt.Tooltip("trimestre_compare:N", title="Trimestre"),
                    alt.Tooltip("valeur_fr:N", title=title),
                ],
            )
        )
    return alt.layer(*layers).properties(height=height)


def seasonal_lines(profile: pl.DataFrame, value: str, title: str, decimals: int = 0) -> alt.Chart:
    """Seasonality: one line per year over T1…T4 (from :func:`fsdash.metrics.attendance.seasonal_profile`)."""
    data = profile.select(
        pl.col("annee").cast(pl.String).alias("annee"),
        ("T" + pl.col("trimestre").cast(pl.String)).alias("trimestre"),
        pl.col(value),
        _fmt(pl.col(value), "number", decimals).alias("valeur_fr"),
        _fmt(pl.col("indice"), "number", 0).alias("indice_fr"),
    )
    return (
        alt.Chart(data.to_arrow())
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X("trimestre:O", sort=["T1", "T2", "T3", "T4"], title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{value}:Q", title=title, axis=integer_axis()),
            color=alt.Color("annee:N", title="Année", legend=alt.Legend(orient="right")),
            tooltip=[
                alt.Tooltip("annee:N", title="Année"),
                alt.Tooltip("trimestre:N", title="Trimestre"),
                alt.Tooltip("valeur_fr:N", title=title),
                alt.Tooltip("indice_fr:N", title="Indice (moyenne de l'année = 100)"),
            ],
        )
        .properties(height=260)
    )


def distribution_histogram(
    hist: pl.DataFrame, stats: dict, title: str, *, decimals: int = 0, marker: tuple[str, float] | None = None
) -> alt.LayerChart:
    """Sites per bin of a per-site measure, with the quartiles as labelled rules and optionally one
    site's value (``marker``: label, value) as a red rule."""
    bars = hist.with_columns(
        (_fmt(pl.col("debut"), "number", decimals) + " à " + _fmt(pl.col("fin"), "number", decimals)).alias("tranche"),
        _fmt(pl.col("sites"), "number", 0).alias("sites_fr"),
    )
    chart = (
        alt.Chart(bars.to_arrow())
        .mark_bar(color=theme.color("primary"), opacity=0.85, binSpacing=1)
        .encode(
            x=alt.X("debut:Q", bin="binned", title=title, axis=number_axis(decimals)),
            x2="fin:Q",
            y=alt.Y("sites:Q", title="Nombre de sites", axis=integer_axis()),
            tooltip=[alt.Tooltip("tranche:N", title=title), alt.Tooltip("sites_fr:N", title="Sites")],
        )
    )
    rules = [
        (name, stats[key])
        for name, key in (("Q1", "q1"), ("Médiane", "mediane"), ("Q3", "q3"))
        if stats.get(key) is not None
    ]
    layers = [chart]
    if rules:
        marks = pl.DataFrame({"repere": [r[0] for r in rules], "valeur": [float(r[1]) for r in rules]}).with_columns(
            _fmt(pl.col("valeur"), "number", decimals).alias("valeur_fr")
        )
        rule = (
            alt.Chart(marks.to_arrow())
            .mark_rule(color=theme.color("text"), strokeDash=[4, 3], strokeWidth=1.5)
            .encode(
                x="valeur:Q", tooltip=[alt.Tooltip("repere:N", title="Repère"), alt.Tooltip("valeur_fr:N", title=title)]
            )
        )
        text = (
            alt.Chart(marks.to_arrow())
            .mark_text(align="left", dx=3, dy=-4, baseline="bottom", color=theme.color("text"), fontSize=11)
            .encode(x="valeur:Q", y=alt.value(0), text="repere:N")
        )
        layers += [rule, text]
    if marker is not None and marker[1] is not None:
        point = pl.DataFrame({"repere": [marker[0]], "valeur": [float(marker[1])]}).with_columns(
            _fmt(pl.col("valeur"), "number", decimals).alias("valeur_fr")
        )
        layers.append(
            alt.Chart(point.to_arrow())
            .mark_rule(color=theme.color("red"), strokeWidth=2.5)
            .encode(
                x="valeur:Q", tooltip=[alt.Tooltip("repere:N", title="Repère"), alt.Tooltip("valeur_fr:N", title=title)]
            )
        )
        layers.append(
            alt.Chart(point.to_arrow())
            .mark_text(align="left", dx=4, dy=12, baseline="top", color=theme.color("red"), fontWeight="bold")
            .encode(x="valeur:Q", y=alt.value(0), text="repere:N")
        )
    return alt.layer(*layers).properties(height=280)
