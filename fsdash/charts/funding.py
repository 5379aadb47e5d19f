"""Charts of the Financement page: the flat amount due by year, source and carrier; the Banque des
Territoires envelope (committed, paid, remaining per line); the regularisation of the 2018 arrears.

Amounts arrive in euros and are drawn in M€ (the committees' unit), with French tooltips. Status
never relies on colour alone: bars carry their value as text, lines differ by dash. Texts are written
by the native expressions of :mod:`fsdash.formats` (no Python callback in a Polars expression).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from fsdash import formats, theme
from fsdash.charts import integer_axis, percent_axis
from fsdash.circulaire import BDT_ENVELOPE


def _meur(expr: pl.Expr) -> pl.Expr:
    return formats.millions_euros_expr(expr, 2)


def _money(expr: pl.Expr, unit: float) -> pl.Expr:
    """French amounts in the chart's unit: ``1,25 M€``, or ``632 000 €`` for a département or a site."""
    if unit == 1e6:
        return _meur(expr)
    # Whole euros, rounded half to even as Python's round() (exact at 0 decimals) and without the sign
    # of a negative that rounds to zero.
    return formats.euros_expr(expr.round(0, mode="half_to_even").cast(pl.Int64, strict=False))


def stacked_amounts(frame: pl.DataFrame, category: str, labels: dict[str, str], title: str) -> alt.LayerChart:
    """Amounts per year (``annee``, ``montant`` in €) stacked by ``category``, the total written on top.

    Drawn in M€ when a year reaches 2 M€, in k€ below (a département, a site).
    """
    top = frame.group_by("annee").agg(pl.col("montant").sum())["montant"].max() or 0
    unit, unit_label = (1e6, "M€") if top >= 2e6 else (1e3, "k€")
    order = [c for c in labels if c in set(frame[category].to_list())]
    domain = [labels[c] for c in order]
    data = frame.filter(pl.col("montant") > 0).with_columns(
        pl.col("annee").cast(pl.String).alias("annee_fr"),
        pl.col(category).replace_strict(labels, default=pl.col(category)).alias("categorie"),
        pl.col(category)
        .replace_strict({c: i for i, c in enumerate(order)}, default=len(order), return_dtype=pl.Int64)
        .alias("ordre"),
        (pl.col("montant") / unit).alias("meur"),
        _money(pl.col("montant"), unit).alias("montant_fr"),
    )
    totals = (
        data.group_by("annee_fr")
        .agg(pl.col("meur").sum(), pl.col("montant").sum())
        .with_columns(_money(pl.col("montant"), unit).alias("montant_fr"))
        .sort("annee_fr")
    )
    x = alt.X("annee_fr:O", title=None, axis=alt.Axis(labelAngle=0))
    bars = (
        alt.Chart(data.to_arrow())
        .mark_bar(stroke="#FFFFFF", strokeWidth=0.5)
        .encode(
            x=x,
            y=alt.Y("meur:Q", title=f"{title} ({unit_label})", stack="zero", axis=integer_axis()),
            color=alt.Color(
                "categorie:N",
                title=None,
                scale=alt.Scale(domain=domain, range=theme.categorical()[: len(domain)]),
                sort=domain,
                legend=alt.Legend(orient="top", labelLimit=0),
            ),
            order=alt.Order("ordre:Q"),
            tooltip=[
                alt.Tooltip("annee_fr:N", title="Année"),
                alt.Tooltip("categorie:N", title="Part"),
                alt.Tooltip("montant_fr:N", title="Montant"),
            ],
        )
    )
    text = (
        alt.Chart(totals.to_arrow())
        .mark_text(dy=-8, color=theme.color("text"), fontSize=12)
        .encode(x=x, y=alt.Y("meur:Q"), text="montant_fr:N")
    )
    return alt.layer(bars, text).properties(height=380)


def envelope_bars(status: pl.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """One row per line of the envelope: the envelope (light bar), committed (mid), paid (dark, thin),
    each labelled with its amount and share of the envelope."""
    measures = []
    for kind, column, size in (("Enveloppe", "enveloppe", 26), ("Engagé", "engage", 16), ("Payé", "paye", 7)):
        value = pl.col(column).cast(pl.Float64)
        text = f"{kind} : " + _meur(value)
        if kind != "Enveloppe":
            share = pl.when(pl.col("enveloppe") != 0).then(value / pl.col("enveloppe"))
            text = text + " (" + formats.percent_expr(share) + ")"
        measures.append(
            status.select(
                pl.col("ligne").replace_strict(labels, default=pl.col("ligne")).alias("ligne"),
                pl.lit(kind).alias("mesure"),
                (value / 1e6).alias("meur"),
                pl.lit(size, dtype=pl.Int64).alias("taille"),
                text.alias("texte"),
            ).with_row_index("rang")
        )
    # Row by row (a line's envelope, committed, paid), as the chart's data always came.
    data = pl.concat(measures).sort("rang", maintain_order=True).drop("rang")
    order = [labels.get(c, c) for c in status["ligne"].to_list()]
    domain = ["Enveloppe", "Engagé", "Payé"]
    y = alt.Y("ligne:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    bars = (
        alt.Chart(data.to_arrow())
        .mark_bar()
        .encode(
            x=alt.X("meur:Q", title="M€", stack=None, axis=integer_axis()),
            y=y,
            size=alt.Size("taille:Q", scale=None, legend=None),
            color=alt.Color(
                "mesure:N",
                title=None,
                scale=alt.Scale(domain=domain, range=["#E3E3FD", "#8585F6", "#000091"]),
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("taille:Q", sort="descending"),
            tooltip=[alt.Tooltip("ligne:N", title="Ligne"), alt.Tooltip("texte:N", title="Montant")],
        )
    )
    summary = (
        data.filter(pl.col("mesure") != "Enveloppe")
        .group_by("ligne", maintain_order=True)
        .agg(pl.col("texte").str.join(" · "))
    )
    envelope = data.filter(pl.col("mesure") == "Enveloppe").select("ligne", "meur")
    summary = summary.join(envelope, on="ligne")
    text = (
        alt.Chart(summary.to_arrow())
        .mark_text(align="left", dx=8, color=theme.color("text"), fontSize=12)
        .encode(x="meur:Q", y=y, text="texte:N")
    )
    return alt.layer(bars, text).properties(height=110 + 60 * len(order)).resolve_scale(x="shared")


def envelope_progress(timeline: pl.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """Share of each line's envelope committed (solid) and paid (dashed) at the end of each quarter."""
    data = pl.concat(
        [
            timeline.select(
                "date", "ligne", "enveloppe", pl.col(column).alias("montant"), pl.lit(label).alias("mesure")
            )
            for column, label in (("engage", "Engagé"), ("paye", "Payé"))
        ]
    ).with_columns(
        pl.col("ligne").replace_strict(labels, default=pl.col("ligne")).alias("ligne_fr"),
        (pl.col("montant") / pl.col("enveloppe")).alias("part"),
        _meur(pl.col("montant")).alias("montant_fr"),
        formats.date_long_expr("date").alias("date_fr"),
    )
    domain = [labels[c] for c in labels]
    lines = (
        alt.Chart(data.to_arrow())
        .mark_line(strokeWidth=2.2, interpolate="step-after")
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
            y=alt.Y("part:Q", title="Part de l'enveloppe", axis=percent_axis(), scale=alt.Scale(domain=[0, 1.05])),
            color=alt.Color(
                "ligne_fr:N",
                title=None,
                scale=alt.Scale(domain=domain, range=theme.categorical()[:3]),
                legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0),
            ),
            strokeDash=alt.StrokeDash(
                "mesure:N",
                title=None,
                scale=alt.Scale(domain=["Engagé", "Payé"], range=[[1, 0], [6, 3]]),
                legend=alt.Legend(orient="bottom", direction="vertical", symbolStrokeWidth=2.5),
            ),
            detail="mesure:N",
            tooltip=[
                alt.Tooltip("date_fr:N", title="Fin de trimestre"),
                alt.Tooltip("ligne_fr:N", title="Ligne"),
                alt.Tooltip("mesure:N", title="Mesure"),
                alt.Tooltip("montant_fr:N", title="Cumul"),
            ],
        )
    )
    deadline = pl.DataFrame(
        {
            "date": [BDT_ENVELOPE.date],
            "libelle": [f"échéance : {formats.date_short(BDT_ENVELOPE.date)} ({BDT_ENVELOPE.source})"],
        }
    )
    rule = (
        alt.Chart(deadline.to_arrow())
        .mark_rule(color=theme.color("red"), strokeDash=[4, 3])
        .encode(x="date:T", tooltip=[alt.Tooltip("libelle:N", title="Repère")])
    )
    label = (
        alt.Chart(deadline.to_arrow())
        .mark_text(align="left", dx=4, dy=8, color=theme.color("red"), y=0)
        .encode(x="date:T", text="libelle:N")
    )
    return alt.layer(lines, rule, label).properties(height=420)


def arrears_progress(timeline: pl.DataFrame, owed: int | None, owed_label: str) -> alt.LayerChart:
    """Cumulated MSAP regularised over time (a step line), with the number owed as a dashed rule."""
    data = timeline.with_columns(
        formats.date_long_expr("date").alias("date_fr"), formats.number_expr("msap_regularisees").alias("msap_fr")
    )
    line = (
        alt.Chart(data.to_arrow())
        .mark_line(interpolate="step-after", strokeWidth=2.5, color=theme.color("primary"))
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%m/%Y")),
            y=alt.Y("msap_regularisees:Q", title="MSAP régularisées (cumul)", axis=integer_axis()),
            tooltip=[alt.Tooltip("date_fr:N", title="Date"), alt.Tooltip("msap_fr:N", title="MSAP régularisées")],
        )
    )
    layers = [line]
    if owed is not None:
        target = pl.DataFrame({"msap_regularisees": [owed], "libelle": [owed_label]})
        layers.append(
            alt.Chart(target.to_arrow())
            .mark_rule(color=theme.color("red"), strokeDash=[5, 3])
            .encode(y="msap_regularisees:Q", tooltip=[alt.Tooltip("libelle:N", title="Dette")])
        )
        layers.append(
            alt.Chart(target.to_arrow())
            .mark_text(align="left", x=5, dy=-8, color=theme.color("red"))
            .encode(y="msap_regularisees:Q", text="libelle:N")
        )
    return alt.layer(*layers).properties(height=320)
