"""Charts of the Motifs de contact page: outcomes (the on-the-spot share first), shares by partner, theme
and life situation, channel, their trends, and the département × partner heatmap.

Inputs are the frames of :mod:`fsdash.metrics.reasons` (already aggregated); labels are the short
labels of the catalogue values; tooltips carry French text written by the native expressions of
:mod:`fsdash.formats` (no Python callback in a Polars expression).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from fsdash import formats, theme
from fsdash.charts import percent_axis


#: Outcome colours: answered on the spot in blue France, passed on in light blue, redirected in grey.
#: Never the only cue: every segment is labelled and the tables give the figures.
def outcome_colors() -> dict[str, str]:
    palette = theme.categorical()
    return {"REPONDU_SUR_PLACE": theme.color("primary"), "TRANSMIS_REFERENT": palette[1], "REORIENTE": palette[-1]}


def _pct(col: str, decimals: int = 1) -> pl.Expr:
    return formats.percent_expr(col, decimals)


def _num(col: str) -> pl.Expr:
    return formats.number_expr(col)


def outcome_bar(outcomes: pl.DataFrame) -> alt.LayerChart:
    """The three outcomes as one 100 % bar, each segment labelled with its share (segments too
    narrow for a label keep their tooltip, and the table gives every figure)."""
    colors = outcome_colors()
    data = (
        outcomes.filter(pl.col("nb_demandes") > 0)
        .with_columns(pl.col("part").cum_sum().alias("fin"))
        .with_columns((pl.col("fin") - pl.col("part")).alias("debut"))
        .with_columns(((pl.col("debut") + pl.col("fin")) / 2).alias("milieu"))
        .select(
            "code",
            "libelle_court",
            "part",
            "debut",
            "fin",
            "milieu",
            _pct("part").alias("part_fr"),
            _num("nb_demandes").alias("demandes_fr"),
        )
    )
    codes = data["code"].to_list()
    tips = [
        alt.Tooltip("libelle_court:N", title="Suite donnée"),
        alt.Tooltip("part_fr:N", title="Part"),
        alt.Tooltip("demandes_fr:N", title="Demandes"),
    ]
    base = alt.Chart(data.to_arrow())
    bar = base.mark_bar(height=44).encode(
        x=alt.X("debut:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=None),
        x2="fin:Q",
        color=alt.Color(
            "libelle_court:N",
            title=None,
            sort=data["libelle_court"].to_list(),
            scale=alt.Scale(
                domain=data["libelle_court"].to_list(), range=[colors.get(c, theme.color("grey")) for c in codes]
            ),
            legend=alt.Legend(orient="bottom"),
        ),
        tooltip=tips,
    )
    text = (
        base.transform_filter("datum.part >= 0.04")
        .mark_text(fontWeight="bold", fontSize=13)
        .encode(
            x="milieu:Q",
            text="part_fr:N",
            tooltip=tips,
            color=alt.condition(
                "datum.code == 'REPONDU_SUR_PLACE'", alt.value("white"), alt.value(theme.color("text"))
            ),
        )
    )
    return alt.layer(bar, text).properties(height=90)


def share_bars(
    shares: pl.DataFrame,
    title: str = "Part des demandes",
    *,
    compared: pl.DataFrame | None = None,
    compared_label: str = "Comparaison",
    label: str = "libelle_court",
    height_per_row: int = 26,
) -> alt.LayerChart:
    """Horizontal bars of each value's share, largest first, labelled; the comparison's share of the same
    value as a black tick."""
    data = shares.select(pl.col(label).alias("libelle"), "part", "nb_demandes").with_columns(
        _pct("part").alias("part_fr"), _num("nb_demandes").alias("demandes_fr")
    )
    tips = [
        alt.Tooltip("libelle:N", title="Libellé"),
        alt.Tooltip("part_fr:N", title="Part"),
        alt.Tooltip("demandes_fr:N", title="Demandes"),
    ]
    if compared is not None and not compared.is_empty():
        cmp = compared.select(pl.col(label).alias("libelle"), pl.col("part").alias("part_comparee"))
        data = data.join(cmp, on="libelle", how="left").with_columns(_pct("part_comparee").alias("comparee_fr"))
        tips.append(alt.Tooltip("comparee_fr:N", title=compared_label))
    order = data.sort("part", descending=True, nulls_last=True)["libelle"].to_list()
    y = alt.Y("libelle:N", sort=order, title=None, axis=alt.Axis(labelLimit=260, labelOverlap=False))
    base = alt.Chart(data.to_arrow())
    bars = base.mark_bar(color=theme.color("primary")).encode(
        x=alt.X("part:Q", title=title, axis=percent_axis()), y=y, tooltip=tips
    )
    text = base.mark_text(align="left", dx=4, color=theme.color("text")).encode(
        x="part:Q", y=y, text="part_fr:N", tooltip=tips
    )
    layers = [bars, text]
    if "part_comparee" in data.columns:
        layers.append(
            base.mark_tick(color=theme.color("text"), thickness=3, size=height_per_row * 0.8).encode(
                x="part_comparee:Q", y=y, tooltip=tips
            )
        )
    return alt.layer(*layers).properties(height=alt.Step(height_per_row))


def situation_bars(situations: pl.DataFrame, title: str = "Part des demandes") -> alt.Chart:
    """The 19 life situations as horizontal bars grouped by theme of the bouquet (colour and order)."""
    themes = situations.select("theme_libelle").unique(maintain_order=True)["theme_libelle"].to_list()
    data = situations.with_row_index("rang").select(
        "rang",
        pl.col("libelle").alias("situation"),
        pl.col("theme_libelle").alias("theme"),
        "part",
        _pct("part").alias("part_fr"),
        _num("nb_demandes").alias("demandes_fr"),
    )
    # Within each theme, largest first; themes in catalogue order.
    data = data.with_columns(pl.col("theme").replace_strict({t: i for i, t in enumerate(themes)}).alias("o")).sort(
        ["o", "part"], descending=[False, True], nulls_last=True
    )
    order = data["situation"].to_list()
    palette = theme.categorical()
    y = alt.Y("situation:N", sort=order, title=None, axis=alt.Axis(labelLimit=320, labelOverlap=False))
    tips = [
        alt.Tooltip("situation:N", title="Situation de vie"),
        alt.Tooltip("theme:N", title="Thème"),
        alt.Tooltip("part_fr:N", title="Part"),
        alt.Tooltip("demandes_fr:N", title="Demandes"),
    ]
    base = alt.Chart(data.drop("o", "rang").to_arrow())
    bars = base.mark_bar().encode(
        x=alt.X("part:Q", title=title, axis=percent_axis()),
        y=y,
        color=alt.Color(
            "theme:N",
            title="Thème",
            scale=alt.Scale(domain=themes, range=palette[: len(themes)]),
            legend=alt.Legend(orient="top", columns=3, labelLimit=320),
        ),
        tooltip=tips,
    )
    text = base.mark_text(align="left", dx=4, color=theme.color("text")).encode(
        x="part:Q", y=y, text="part_fr:N", tooltip=tips
    )
    return alt.layer(bars, text).properties(height=alt.Step(22))


def outcome_stack(outcome_by: pl.DataFrame, title: str = "Suite donnée") -> alt.Chart:
    """For each value (partner, channel…), its requests split by outcome (100 % bars), sorted by the
    on-the-spot share."""
    colors = outcome_colors()
    issues = outcome_by.select("issue", "issue_libelle").unique(maintain_order=True)
    on_spot = outcome_by.filter(pl.col("issue") == "REPONDU_SUR_PLACE").sort("part", descending=True)
    order = on_spot["libelle_court"].to_list()
    data = outcome_by.with_columns(
        _pct("part").alias("part_fr"),
        _num("nb_demandes").alias("demandes_fr"),
        pl.col("issue").replace_strict({c: i for i, c in enumerate(issues["issue"].to_list())}).alias("o"),
    )
    data = data.select("libelle_court", "issue_libelle", "part", "part_fr", "demandes_fr", "o")
    return (
        alt.Chart(data.to_arrow())
        .mark_bar()
        .encode(
            x=alt.X("part:Q", stack="normalize", title=title, axis=percent_axis()),
            y=alt.Y("libelle_court:N", sort=order, title=None, axis=alt.Axis(labelLimit=220, labelOverlap=False)),
            color=alt.Color(
                "issue_libelle:N",
                title=None,
                scale=alt.Scale(
                    domain=issues["issue_libelle"].to_list(),
                    range=[colors.get(c, theme.color("grey")) for c in issues["issue"].to_list()],
                ),
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("o:Q"),
            tooltip=[
                alt.Tooltip("libelle_court:N", title="Libellé"),
                alt.Tooltip("issue_libelle:N", title="Suite donnée"),
                alt.Tooltip("part_fr:N", title="Part"),
                alt.Tooltip("demandes_fr:N", title="Demandes"),
            ],
        )
        .properties(height=alt.Step(24))
    )


def _quarter_order(by_quarter: pl.DataFrame) -> list[str]:
    """The quarters' French labels in time order, for an ordinal axis."""
    periods = by_quarter.select("periode").unique().sort("periode")
    return periods.select(formats.quarter_short_expr("periode"))["periode"].to_list()


def share_small_multiples(by_quarter: pl.DataFrame, title: str = "Part des demandes", columns: int = 5) -> alt.Chart:
    """One small line chart per value (its share of each quarter's requests): ten partners without
    ten colours. Each panel has its own scale (its title says so)."""
    data = by_quarter.select(
        pl.col("libelle_court").alias("libelle"),
        formats.quarter_short_expr("periode").alias("trimestre"),
        "part",
        _pct("part").alias("part_fr"),
        _num("nb_demandes").alias("demandes_fr"),
    )
    order = _quarter_order(by_quarter)
    panels = by_quarter.select("libelle_court").unique(maintain_order=True)["libelle_court"].to_list()
    return (
        alt.Chart(data.to_arrow())
        .mark_line(point=alt.OverlayMarkDef(size=18), color=theme.color("primary"))
        .encode(
            x=alt.X("trimestre:O", sort=order, title=None, axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("part:Q", title=None, axis=percent_axis(tickCount=3), scale=alt.Scale(zero=True)),
            tooltip=[
                alt.Tooltip("libelle:N", title="Libellé"),
                alt.Tooltip("trimestre:N", title="Trimestre"),
                alt.Tooltip("part_fr:N", title="Part"),
                alt.Tooltip("demandes_fr:N", title="Demandes"),
            ],
        )
        .properties(width=150, height=90)
        .facet(
            facet=alt.Facet(
                "libelle:N",
                sort=panels,
                title=f"{title} (échelle propre à chaque panneau, depuis 0)",
                header=alt.Header(labelFontSize=12, labelFontWeight="bold"),
            ),
            columns=columns,
        )
        .resolve_scale(y="independent")
    )


def channel_lines(by_quarter: pl.DataFrame, title: str = "Part des demandes") -> alt.Chart:
    """Channels' shares of each quarter's requests, one line per channel (four colours)."""
    data = by_quarter.select(
        pl.col("libelle_court").alias("canal"),
        formats.quarter_short_expr("periode").alias("trimestre"),
        "part",
        _pct("part").alias("part_fr"),
        _num("nb_demandes").alias("demandes_fr"),
    )
    order = _quarter_order(by_quarter)
    channels = by_quarter.select("libelle_court").unique(maintain_order=True)["libelle_court"].to_list()
    return (
        alt.Chart(data.to_arrow())
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X("trimestre:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("part:Q", title=title, axis=percent_axis()),
            color=alt.Color("canal:N", title="Canal", sort=channels, legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("canal:N", title="Canal"),
                alt.Tooltip("trimestre:N", title="Trimestre"),
                alt.Tooltip("part_fr:N", title="Part"),
                alt.Tooltip("demandes_fr:N", title="Demandes"),
            ],
        )
        .properties(height=260)
    )


def _signed_points(points: pl.Expr) -> pl.Expr:
    """``+1,2`` / ``−0,8`` share points; ``0,0`` without a sign when it rounds to zero."""
    text = formats.number_expr(points.abs(), 1)
    positive = (points > 0) & points.is_not_nan()  # Polars orders NaN above every number
    sign = (
        pl.when(points.is_null() | (text == "0,0"))
        .then(pl.lit(""))
        .when(positive)
        .then(pl.lit("+"))
        .otherwise(pl.lit("\u2212"))
    )
    return sign + text


def departement_heatmap(
    frame: pl.DataFrame, value: str = "part", *, highlight: str | None = None, zone_label: str = "la zone"
) -> alt.LayerChart:
    """Départements (rows) × partners (columns), coloured by each partner's share of the département's
    requests (``value="part"``) or by its gap to the whole zone's share (``value="ecart"``, in points,
    diverging red–blue). Cells of départements with few requests are faded; the chosen département
    (``highlight``) is outlined. Each cell is labelled."""
    data = frame.select(
        (pl.col("departement") + " " + pl.col("departement_nom")).alias("dep"),
        "departement",
        "libelle_court",
        "part",
        "part_zone",
        "ecart",
        "nb_demandes",
        "total_departement",
        "petit_effectif",
        _pct("part").alias("part_fr"),
        _pct("part_zone").alias("zone_fr"),
        _num("nb_demandes").alias("demandes_fr"),
        _num("total_departement").alias("total_fr"),
        (pl.col("ecart") * 100).alias("ecart_points"),
        _signed_points(pl.col("ecart") * 100).alias("ecart_fr"),
    )
    if value == "part":
        data = data.with_columns(formats.number_expr(pl.col("part") * 100).alias("texte"))
        color = alt.Color(
            "part:Q",
            title="Part",
            scale=alt.Scale(range=theme.sequential()[:7]),
            legend=alt.Legend(format=".0%", orient="top"),
        )
    else:
        top = float(data["ecart_points"].abs().max() or 1.0)
        data = data.with_columns(pl.col("ecart_fr").alias("texte"))
        value = "ecart_points"
        color = alt.Color(
            "ecart_points:Q",
            title=f"Écart à {zone_label} (points de pourcentage)",
            scale=alt.Scale(
                domain=[-top, 0, top], interpolate="rgb", range=[theme.color("red"), "#FFFFFF", theme.color("primary")]
            ),
            legend=alt.Legend(format="+.1f", orient="top", titleLimit=500),
        )
    deps = data.select("dep").unique().sort("dep")["dep"].to_list()
    partners = frame.select("libelle_court").unique(maintain_order=True)["libelle_court"].to_list()
    x = alt.X(
        "libelle_court:N",
        sort=partners,
        title=None,
        axis=alt.Axis(orient="top", labelAngle=-35, labelLimit=160, labelOverlap=False),
    )
    y = alt.Y("dep:N", sort=deps, title=None, axis=alt.Axis(labelLimit=220, labelOverlap=False))
    tips = [
        alt.Tooltip("dep:N", title="Département"),
        alt.Tooltip("libelle_court:N", title="Partenaire"),
        alt.Tooltip("part_fr:N", title="Part dans le département"),
        alt.Tooltip("zone_fr:N", title=f"Part dans {zone_label}"),
        alt.Tooltip("ecart_fr:N", title="Écart (points)"),
        alt.Tooltip("demandes_fr:N", title="Demandes"),
        alt.Tooltip("total_fr:N", title="Demandes du département"),
    ]
    data = data.select(
        "dep",
        "departement",
        "libelle_court",
        value,
        "texte",
        "petit_effectif",
        "part_fr",
        "zone_fr",
        "ecart_fr",
        "demandes_fr",
        "total_fr",
    )  # only what is drawn or shown
    base = alt.Chart(data.to_arrow())
    cells = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        x=x,
        y=y,
        color=color,
        opacity=alt.condition("datum.petit_effectif", alt.value(0.35), alt.value(1.0)),
        tooltip=tips,
    )
    text = base.mark_text(fontSize=10).encode(
        x=x,
        y=y,
        text="texte:N",
        color=alt.condition(
            f"abs(datum.{value}) > {0.6 * float(data[value].abs().max() or 1)}",
            alt.value("white"),
            alt.value(theme.color("text")),
        ),
        tooltip=tips,
    )
    layers = [cells, text]
    if highlight is not None and highlight in data["departement"].to_list():
        layers.append(
            base.transform_filter(alt.datum.departement == highlight)
            .mark_rect(fill=None, stroke=theme.color("red"), strokeWidth=2)
            .encode(x=x, y=y)
        )
    return alt.layer(*layers).properties(height=alt.Step(18))
