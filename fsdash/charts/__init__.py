"""Altair chart builders: frames in, charts out, French formats, colours from the theme.

Charts receive frames already aggregated to what is plotted (Altair sends every row to the
browser), with preformatted French labels for tooltips. This module registers the theme and
holds the builders shared by several pages; page-specific builders live in submodules
(``fsdash.charts.attendance``…).

Labels are written by the native expressions of :mod:`fsdash.formats` (``number_expr``…), never by a
Python callback inside a Polars expression: those run Babel once per row and can deadlock the server
(Polars' thread pool waits for the GIL). Pages turn a chart into its spec with :func:`spec`, which
skips Altair's schema validation: the builders are validated once, by the tests.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from fsdash import formats, theme

FRENCH_LOCALE = {
    "number": {
        "decimal": ",",
        "thousands": formats.NNBSP,
        "grouping": [3],
        "currency": ["", f"{formats.NBSP}€"],
        "percent": f"{formats.NBSP}%",
    },
    "time": {
        "dateTime": "%A %e %B %Y à %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": list(formats.MONTHS),
        "shortMonths": [
            "janv.",
            "févr.",
            "mars",
            "avr.",
            "mai",
            "juin",
            "juil.",
            "août",
            "sept.",
            "oct.",
            "nov.",
            "déc.",
        ],
    },
}


@alt.theme.register("fsdash", enable=True)
def fsdash_theme() -> alt.theme.ThemeConfig:
    """DSFR colours and the fr-FR number/time locale for every chart."""
    return {
        "config": {
            "locale": FRENCH_LOCALE,
            "range": {"category": theme.categorical(), "ramp": theme.sequential()},
            "mark": {"color": theme.color("primary")},
            "axis": {"labelColor": theme.color("text"), "titleColor": theme.color("text"), "labelFontSize": 12},
            "legend": {"labelColor": theme.color("text"), "titleColor": theme.color("text")},
            "view": {"stroke": None},
        }
    }


def spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite spec of a chart, for ``st.vega_lite_chart`` or a PDF renderer, without Altair's
    validation of the whole JSON schema (≈ 40 ms a chart, on every rerun): the builders' specs are
    validated by the tests (``tests/test_charts.py``), and the data cannot make a spec invalid."""
    return chart.to_dict(validate=False)


def integer_axis(**kwargs) -> alt.Axis:
    """An axis of counts: integer ticks only (``tickMinStep: 1``, integer format), so that a small
    scope's axis from 0 to 2 never reads « 0, 0, 0, 1, 1, 1 »."""
    return alt.Axis(format=",d", tickMinStep=1, **kwargs)


def number_axis(decimals: int = 0, **kwargs) -> alt.Axis:
    """An axis of numbers written with ``decimals`` decimals whose ticks are at least one last
    digit apart: two ticks never carry the same label."""
    if decimals == 0:
        return integer_axis(**kwargs)
    return alt.Axis(format=f",.{decimals}f", tickMinStep=10**-decimals, **kwargs)


def percent_axis(decimals: int = 0, **kwargs) -> alt.Axis:
    """An axis of ratios written as percentages: ticks at least one shown digit apart (1 % with no
    decimal), so that a narrow scale (98 % to 100 %) never repeats a percentage."""
    return alt.Axis(format=f".{decimals}%", tickMinStep=10 ** -(decimals + 2), **kwargs)


def with_quarter_labels(frame: pl.DataFrame, column: str = "periode") -> pl.DataFrame:
    """Add ``trimestre`` (``T1 2024``) next to a quarter-start date column, for axes and tables."""
    return frame.with_columns(formats.quarter_short_expr(column).alias("trimestre"))


def quarterly_bars(frame: pl.DataFrame, value: str, title: str) -> alt.Chart:
    """One bar per quarter; seasonality shows as the summer dip and the spring peak."""
    data = (
        with_quarter_labels(frame.select("periode", value))
        .with_columns(formats.number_expr(value).alias("valeur_fr"))
        .with_columns(pl.col("periode").cast(pl.String))
    )
    order = data["trimestre"].to_list()
    return (
        alt.Chart(data.to_arrow())
        .mark_bar(color=theme.color("primary"))
        .encode(
            x=alt.X("trimestre:O", sort=order, title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y(f"{value}:Q", title=title, axis=integer_axis()),
            tooltip=[alt.Tooltip("trimestre:N", title="Trimestre"), alt.Tooltip("valeur_fr:N", title=title)],
        )
        .properties(height=280)
    )


FEED_SERIES = "Référentiel des sites (fsdash)"
OFFICIAL_LABELS_SERIES = "Série officielle (baromètre Etalab)"


def trajectory(frame: pl.DataFrame, targets: list = (), official: pl.DataFrame | None = None) -> alt.LayerChart:
    """Open sites month by month, the official label series if loaded, and the targets.

    The two series are told apart by colour and dash and named in the legend, so a committee
    sees at once which figure is official and which comes from fsdash's registry.
    """
    series = frame.select("date", "sites", pl.lit(FEED_SERIES).alias("serie"))
    if official is not None and not official.is_empty():
        series = pl.concat(
            [
                series,
                official.select(
                    "date",
                    pl.col("value").round(0).cast(pl.Int64).alias("sites"),
                    pl.lit(OFFICIAL_LABELS_SERIES).alias("serie"),
                ),
            ]
        )
    data = series.with_columns(
        formats.number_expr("sites").alias("sites_fr"), formats.date_long_expr("date").alias("date_fr")
    )
    names = [n for n in (FEED_SERIES, OFFICIAL_LABELS_SERIES) if n in set(series["serie"].to_list())]
    line = (
        alt.Chart(data.to_arrow())
        .mark_line(strokeWidth=2.5)
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
            y=alt.Y("sites:Q", title="Sites labellisés ouverts", axis=integer_axis()),
            color=alt.Color(
                "serie:N",
                title=None,
                scale=alt.Scale(domain=names, range=[theme.color("primary"), theme.categorical()[3]][: len(names)]),
                legend=alt.Legend(orient="bottom", labelLimit=400),
            ),
            strokeDash=alt.StrokeDash(
                "serie:N", title=None, scale=alt.Scale(domain=names, range=[[1, 0], [6, 3]][: len(names)])
            ),
            tooltip=[
                alt.Tooltip("serie:N", title="Série"),
                alt.Tooltip("date_fr:N", title="Date"),
                alt.Tooltip("sites_fr:N", title="Sites"),
            ],
        )
    )
    if not targets:
        return line.properties(height=260)
    target = pl.DataFrame(
        {
            "date": [t.date for t in targets],
            "sites": [int(t.value) for t in targets],
            "libelle": [f"objectif : {formats.number(t.value)} au {formats.date_long(t.date)}" for t in targets],
        }
    )
    point = (
        alt.Chart(target.to_arrow())
        .mark_point(shape="diamond", size=140, filled=True, color=theme.color("red"))
        .encode(x="date:T", y="sites:Q", tooltip=[alt.Tooltip("libelle:N", title="Objectif")])
    )
    label = point.mark_text(align="left", dx=10, dy=-6, color=theme.color("red")).encode(text="libelle:N")
    return (line + point + label).properties(height=260)


def trajectory_by(frame: pl.DataFrame, labels: dict[str, str], title: str) -> alt.Chart:
    """Open sites month by month, one line per group (format, type or carrier), labelled in French.

    Lines are told apart by dash pattern as well as colour, so the chart reads without colour.
    """
    data = frame.with_columns(
        pl.col("groupe").replace_strict(labels, default=pl.col("groupe")).alias("groupe_fr"),
        formats.number_expr("sites").alias("sites_fr"),
        formats.date_long_expr("date").alias("date_fr"),
    )
    return (
        alt.Chart(data.to_arrow())
        .mark_line(strokeWidth=2)
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
            y=alt.Y("sites:Q", title=title, axis=integer_axis()),
            color=alt.Color("groupe_fr:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=400)),
            strokeDash=alt.StrokeDash("groupe_fr:N", title=None),
            tooltip=[
                alt.Tooltip("date_fr:N", title="Date"),
                alt.Tooltip("groupe_fr:N", title="Groupe"),
                alt.Tooltip("sites_fr:N", title="Sites"),
            ],
        )
        .properties(height=260)
    )


def reconciliation_gaps(summary: pl.DataFrame, tolerance: float) -> alt.LayerChart:
    """Median and largest relative gap between fsdash and the official series, date by date.

    The tolerance the user chose is drawn as a rule, so flagged dates stand out without colour.
    """
    data = summary.with_columns(
        formats.date_long_expr("date").alias("date_fr"),
        formats.percent_expr("median_abs_gap_relative", 1).alias("mediane_fr"),
        formats.percent_expr("max_abs_gap_relative", 1).alias("max_fr"),
    )
    base = alt.Chart(data.to_arrow()).encode(x=alt.X("date:T", title=None))
    median = base.mark_line(point=True, color=theme.color("primary")).encode(
        y=alt.Y("median_abs_gap_relative:Q", title="Écart relatif (valeur absolue)", axis=percent_axis()),
        tooltip=[
            alt.Tooltip("date_fr:N", title="Date"),
            alt.Tooltip("mediane_fr:N", title="Écart médian"),
            alt.Tooltip("max_fr:N", title="Écart maximal"),
            alt.Tooltip("flagged:Q", title="Zones hors tolérance"),
        ],
    )
    worst = base.mark_tick(color=theme.categorical()[3], thickness=2).encode(y="max_abs_gap_relative:Q")
    rule = (
        alt.Chart(pl.DataFrame({"t": [tolerance]}).to_arrow())
        .mark_rule(color=theme.color("red"), strokeDash=[4, 4])
        .encode(y="t:Q")
    )
    return (median + worst + rule).properties(height=240)


OFFICIAL_ACTS_SERIES = "Actes mensuels, série officielle (DITP, IND-323)"
FEED_REQUESTS_SERIES = "Demandes fsdash, moyenne mensuelle du trimestre"


def official_monthly(official: pl.DataFrame, feed_quarterly: pl.DataFrame, unit: str) -> alt.LayerChart:
    """Official monthly values (points, initial value included) beside the feed's monthly average,
    with the official target as a marked point: which figure is official is in the legend."""
    points = official.select(
        "date", pl.coalesce("value", "initial").alias("valeur"), pl.lit(OFFICIAL_ACTS_SERIES).alias("serie")
    ).drop_nulls("valeur")
    feed = feed_quarterly.select(
        (pl.col("periode").dt.offset_by("1mo")).alias("date"),
        (pl.col("demandes") / 3).alias("valeur"),
        pl.lit(FEED_REQUESTS_SERIES).alias("serie"),
    )
    data = pl.concat([points, feed], how="vertical_relaxed").with_columns(
        formats.number_expr("valeur").alias("valeur_fr"), formats.month_long_expr("date").alias("date_fr")
    )
    names = [OFFICIAL_ACTS_SERIES, FEED_REQUESTS_SERIES]
    encode = dict(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
        y=alt.Y("valeur:Q", title=unit, axis=integer_axis()),
        color=alt.Color(
            "serie:N",
            title=None,
            scale=alt.Scale(domain=names, range=[theme.categorical()[3], theme.color("primary")]),
            legend=alt.Legend(orient="bottom", labelLimit=400),
        ),
        shape=alt.Shape("serie:N", title=None, scale=alt.Scale(domain=names, range=["diamond", "circle"])),
        tooltip=[
            alt.Tooltip("serie:N", title="Série"),
            alt.Tooltip("date_fr:N", title="Mois"),
            alt.Tooltip("valeur_fr:N", title=unit),
        ],
    )
    layers = alt.Chart(data.to_arrow()).mark_line(point=True, strokeWidth=1.5).encode(**encode)
    target = official.filter(pl.col("target").is_not_null())
    if not target.is_empty():
        goal = target.select("date", pl.col("target").alias("valeur")).with_columns(
            ("objectif : " + formats.number_expr("valeur") + " par mois").alias("libelle")
        )
        point = (
            alt.Chart(goal.to_arrow())
            .mark_point(shape="triangle-up", size=160, filled=True, color=theme.color("red"))
            .encode(x="date:T", y="valeur:Q", tooltip=[alt.Tooltip("libelle:N", title="Objectif")])
        )
        layers = (
            layers
            + point
            + point.mark_text(align="right", dx=-10, dy=-8, color=theme.color("red")).encode(text="libelle:N")
        )
    return layers.properties(height=280)


def official_vs_feed_by_zone(rows: pl.DataFrame, unit: str) -> alt.Chart:
    """One line per zone: the official value (diamond) and fsdash's (circle), named in the legend."""
    data = (
        pl.concat(
            [
                rows.select("zone_name", pl.col("official").alias("valeur"), pl.lit("Série officielle").alias("serie")),
                rows.select("zone_name", pl.col("feed").alias("valeur"), pl.lit("Données fsdash").alias("serie")),
            ]
        )
        .drop_nulls("valeur")
        .with_columns(formats.number_expr("valeur", 1).alias("valeur_fr"))
    )
    names = ["Série officielle", "Données fsdash"]
    order = rows.sort("official", descending=True, nulls_last=True)["zone_name"].to_list()
    return (
        alt.Chart(data.to_arrow())
        .mark_point(filled=True, size=70)
        .encode(
            y=alt.Y("zone_name:N", sort=order, title=None),
            x=alt.X("valeur:Q", title=unit, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "serie:N",
                title=None,
                scale=alt.Scale(domain=names, range=[theme.categorical()[3], theme.color("primary")]),
                legend=alt.Legend(orient="bottom"),
            ),
            shape=alt.Shape("serie:N", title=None, scale=alt.Scale(domain=names, range=["diamond", "circle"])),
            tooltip=[
                alt.Tooltip("zone_name:N", title="Zone"),
                alt.Tooltip("serie:N", title="Série"),
                alt.Tooltip("valeur_fr:N", title=unit),
            ],
        )
        .properties(height=alt.Step(14))
    )


def commitments(frame: pl.DataFrame) -> alt.LayerChart:
    """Share of each charter commitment met, as labelled horizontal bars on a 0–100 % axis."""
    data = frame.drop_nulls("valeur").with_columns(formats.percent_expr("valeur", 1).alias("valeur_fr"))
    base = alt.Chart(data.to_arrow()).encode(
        y=alt.Y("engagement:N", title=None, sort=None, axis=alt.Axis(labelLimit=420)),
        x=alt.X("valeur:Q", title="Part conforme", scale=alt.Scale(domain=[0, 1]), axis=percent_axis()),
        tooltip=[
            alt.Tooltip("engagement:N", title="Engagement"),
            alt.Tooltip("valeur_fr:N", title="Part"),
            alt.Tooltip("source:N", title="Source"),
        ],
    )
    bars = base.mark_bar(color=theme.color("primary"))
    text = base.mark_text(align="left", dx=4, color=theme.color("text")).encode(text="valeur_fr:N")
    return (bars + text).properties(height=alt.Step(28))
