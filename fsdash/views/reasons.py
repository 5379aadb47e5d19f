"""Motifs de contact: requests by partner, theme and life situation, channel and outcome — the share
answered on the spot first (annex 1: « sans que l'utilisateur ait à se déplacer ») — their trends,
and the départements × partners view.

Every section derives from one scan per scope and period (:func:`fsdash.metrics.reasons.requests_breakdown`,
cached), so a filter change runs one query and the sections reshape its few thousand rows.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from fsdash import formats
from fsdash.cache import cached
from fsdash.charts import attendance as trend_charts
from fsdash.charts import reasons as charts
from fsdash.filters import Filters
from fsdash.metrics import reasons
from fsdash.metrics.scope import Scope
from fsdash.periods import quarter_offset
from fsdash.views.common import chart_spec, comparison_label, definitions, feed_date, is_demo, points_delta
from fsdash.views.section import Message, Section, Table, Tile

SOURCE = "reporting trimestriel des sites, détail des demandes (charte 3.1)"


def _breakdown(wh, scope: Scope, first: dt.date | None, last: dt.date | None) -> pl.DataFrame:
    return reasons.requests_breakdown(wh, scope, first, last)


def _compared_breakdown(wh, filters: Filters) -> pl.DataFrame | None:
    compared = filters.compared()
    if compared is None:
        return None
    frame = _breakdown(wh, compared.scope, compared.first, compared.last)
    return None if frame.is_empty() else frame


def _percent_column(name: str) -> pl.Expr:
    return (pl.col(name) * 100).round(1)


def _quarter(name: str = "periode") -> pl.Expr:
    return formats.quarter_short_expr(name)


def _common(wh, indicators: list[str]) -> dict:
    return {"definitions": definitions(indicators), "source": SOURCE, "data_date": feed_date(wh), "demo": is_demo(wh)}


@cached(maxsize=64, kind="section")
def has_detail(wh, scope: Scope, first: dt.date | None, last: dt.date | None) -> bool:
    return not _breakdown(wh, scope, first, last).is_empty()


@cached(maxsize=64, kind="section")
def outcomes(wh, filters: Filters) -> Section:
    """The three outcomes of the period, the on-the-spot share first, against the comparison in points."""
    scope, first, last = filters.scope, filters.first, filters.last
    breakdown = _breakdown(wh, scope, first, last)
    if breakdown.is_empty():
        return Section(
            "motifs-suites", empty="Aucune demande détaillée pour ce périmètre et cette période.", heading="none"
        )
    compared = _compared_breakdown(wh, filters)
    label = comparison_label(filters)
    shares = reasons.shares(breakdown, "issue")
    rows = {r["code"]: r for r in shares.iter_rows(named=True)}
    other = (
        {r["code"]: r for r in reasons.shares(compared, "issue").iter_rows(named=True)} if compared is not None else {}
    )

    def gap(code: str) -> str | None:
        return points_delta(rows[code]["part"], other.get(code, {}).get("part"))

    total = int(shares["nb_demandes"].sum())
    coverage = reasons.detail_coverage(wh, scope, first, last).row(0, named=True)
    messages = []
    if filters.compared() is not None and compared is None:
        messages.append(Message(f"Comparaison ({label}) : aucune demande détaillée sur cette période."))
    if total < reasons.SMALL_COUNT:
        messages.append(
            Message(
                f"Petit effectif : {formats.number(total)} demandes détaillées. Une part bouge de plusieurs points "
                "avec quelques demandes ; lisez les nombres du tableau.",
                "warning",
            )
        )
    intro = (f"Comparaison : {label} ; écarts en points de pourcentage. " if compared is not None else "") + (
        f"Le détail par motif couvre {formats.percent(coverage['taux'], 1)} des "
        f"{formats.number(coverage['demandes_declarees'])} demandes déclarées dans l'activité."
        if coverage["taux"] is not None
        else ""
    )
    return Section(
        "motifs-suites",
        "Réponses apportées sur place",
        tiles=(
            Tile(
                "Part des demandes résolues sur place",
                formats.percent(rows[reasons.ON_THE_SPOT]["part"], 1),
                delta=gap(reasons.ON_THE_SPOT),
                help="Demandes auxquelles l'agent a apporté une réponse sur place, sans que l'usager ait à se "
                "déplacer dans un autre guichet (circulaire, annexe 1).",
            ),
            Tile(
                "Transmises au référent",
                formats.percent(rows["TRANSMIS_REFERENT"]["part"], 1),
                delta=gap("TRANSMIS_REFERENT"),
                delta_color="inverse",
                help="Demandes transmises au référent back-office du partenaire, qui y répond sans nouveau "
                "déplacement.",
            ),
            Tile(
                "Réorientées",
                formats.percent(rows["REORIENTE"]["part"], 1),
                delta=gap("REORIENTE"),
                delta_color="inverse",
                help="Demandes réorientées vers un autre guichet : l'usager doit se déplacer.",
            ),
            Tile("Demandes détaillées", formats.number(total)),
        ),
        messages=tuple(messages),
        notes=(intro,) if intro else (),
        chart=chart_spec(charts.outcome_bar(shares)),
        chart_alt="Barre des trois suites données aux demandes, en parts.",
        table=Table(
            shares.select(
                pl.col("libelle").alias("Suite donnée"),
                pl.col("nb_demandes").alias("Demandes"),
                _percent_column("part").alias("Part (%)"),
            )
        ),
        **_common(wh, ["demandes_detail.issue", "demandes_detail.nb_demandes"]),
    )


@cached(maxsize=64, kind="section")
def on_the_spot_trend(wh, filters: Filters) -> Section | None:
    """The on-the-spot share quarter by quarter, and the comparison's over the same quarters."""
    breakdown = _breakdown(wh, filters.scope, filters.first, filters.last)
    spot = reasons.on_the_spot_by_quarter(breakdown)
    if spot.height <= 1:
        return None
    compared_breakdown = _compared_breakdown(wh, filters)
    compared = None
    if compared_breakdown is not None:
        compared = trend_charts.align(
            reasons.on_the_spot_by_quarter(compared_breakdown),
            quarter_offset(filters.first, filters.compared().first),
        )
    return Section(
        "motifs-sur-place-trimestres",
        heading="none",
        chart=chart_spec(
            trend_charts.comparison_trend(
                spot,
                "part_sur_place",
                "Part résolue sur place",
                compared=compared,
                compared_label=comparison_label(filters),
                kind="percent",
                decimals=1,
                mark="line",
                height=220,
            )
        ),
        chart_alt="Part des demandes résolues sur place, trimestre par trimestre.",
        table=Table(
            spot.select(
                _quarter().alias("Trimestre"),
                pl.col("nb_demandes").alias("Demandes"),
                pl.col("sur_place").alias("Résolues sur place"),
                _percent_column("part_sur_place").alias("Part (%)"),
            )
        ),
        **_common(wh, ["demandes_detail.issue"]),
    )


def _shares_section(
    wh,
    filters: Filters,
    dimension: str,
    key: str,
    title: str,
    header: str,
    indicators: list[str],
    extra_columns: tuple = (),
) -> Section:
    breakdown = _breakdown(wh, filters.scope, filters.first, filters.last)
    shares = reasons.shares(breakdown, dimension)
    compared = _compared_breakdown(wh, filters)
    compared_shares = reasons.shares(compared, dimension) if compared is not None else None
    table = shares.select(
        pl.col("libelle").alias(header),
        pl.col("nb_demandes").alias("Demandes"),
        _percent_column("part").alias("Part (%)"),
        *extra_columns,
    )
    if compared_shares is not None:
        # shares list every catalogue value in catalogue order: the comparison lines up row by row
        table = table.with_columns((compared_shares["part"] * 100).round(1).alias("Part comparée (%)"))
    return Section(
        key,
        title + (" — trait noir : comparaison" if compared_shares is not None else ""),
        heading="bold",
        chart=chart_spec(
            charts.share_bars(shares, compared=compared_shares, compared_label=comparison_label(filters) or "")
        ),
        chart_alt=f"Part des demandes par {header.lower()}.",
        table=Table(table),
        **_common(wh, indicators),
    )


@cached(maxsize=64, kind="section")
def partners(wh, filters: Filters) -> Section:
    return _shares_section(
        wh,
        filters,
        "partenaire",
        "motifs-partenaires",
        "Part des demandes par partenaire",
        "Partenaire",
        ["demandes_detail.partenaire"],
    )


@cached(maxsize=64, kind="section")
def channels(wh, filters: Filters) -> Section:
    return _shares_section(
        wh,
        filters,
        "canal",
        "motifs-canaux",
        "Part des demandes par canal",
        "Canal",
        ["demandes_detail.canal"],
        (_percent_column("part_sur_place").alias("Résolues sur place (%)"),),
    )


@cached(maxsize=64, kind="section")
def partner_outcomes(wh, scope: Scope, first: dt.date | None, last: dt.date | None) -> Section:
    """How each partner's requests end."""
    by_partner = reasons.outcome_by(_breakdown(wh, scope, first, last), "partenaire")
    return Section(
        "motifs-partenaires-suites",
        "Suite donnée, par partenaire",
        heading="bold",
        chart=chart_spec(charts.outcome_stack(by_partner)),
        chart_alt="Suites données aux demandes de chaque partenaire.",
        table=Table(
            by_partner.select(
                pl.col("libelle_court").alias("Partenaire"),
                pl.col("issue_libelle").alias("Suite donnée"),
                pl.col("nb_demandes").alias("Demandes"),
                _percent_column("part").alias("Part (%)"),
            )
        ),
        **_common(wh, ["demandes_detail.issue"]),
    )


@cached(maxsize=64, kind="section")
def themes(wh, scope: Scope, first: dt.date | None, last: dt.date | None) -> Section:
    """The themes of the bouquet of services as tiles, and the 19 life situations by theme."""
    breakdown = _breakdown(wh, scope, first, last)
    theme_shares = reasons.shares(breakdown, "theme")
    situations = reasons.shares(breakdown, "situation")
    return Section(
        "motifs-situations",
        "Par thème et situation de vie du bouquet de services",
        tiles=tuple(
            Tile(
                row["libelle"],
                formats.percent(row["part"], 1),
                help=f"{formats.number(row['nb_demandes'])} demandes ; "
                f"{formats.percent(row['part_sur_place'], 1)} résolues sur place.",
            )
            for row in theme_shares.iter_rows(named=True)
        ),
        tile_rows=tuple(3 for _ in range(0, theme_shares.height, 3)),
        chart=chart_spec(charts.situation_bars(situations)),
        chart_alt="Part des demandes par situation de vie, groupées par thème.",
        table=Table(
            situations.select(
                pl.col("theme_libelle").alias("Thème"),
                pl.col("libelle").alias("Situation de vie"),
                pl.col("nb_demandes").alias("Demandes"),
                _percent_column("part").alias("Part (%)"),
                _percent_column("part_sur_place").alias("Résolues sur place (%)"),
            )
        ),
        **_common(wh, ["demandes_detail.situation"]),
    )


def _trend_section(
    wh,
    scope: Scope,
    first,
    last,
    dimension: str,
    key: str,
    title: str | None,
    header: str,
    chart_builder,
    indicators: list[str],
) -> Section | None:
    trend = reasons.by_quarter(_breakdown(wh, scope, first, last), dimension)
    if trend.select("periode").n_unique() <= 1:
        return None
    return Section(
        key,
        title,
        chart=chart_spec(chart_builder(trend)),
        chart_alt=f"Part de chaque {header.lower()} dans les demandes, trimestre par trimestre.",
        table=Table(
            trend.select(
                _quarter().alias("Trimestre"),
                pl.col("libelle").alias(header),
                pl.col("nb_demandes").alias("Demandes"),
                _percent_column("part").alias("Part (%)"),
            )
        ),
        **_common(wh, indicators),
    )


@cached(maxsize=64, kind="section")
def channel_trend(wh, scope: Scope, first: dt.date | None, last: dt.date | None) -> Section | None:
    return _trend_section(
        wh,
        scope,
        first,
        last,
        "canal",
        "motifs-canaux-trimestres",
        None,
        "Canal",
        charts.channel_lines,
        ["demandes_detail.canal"],
    )


@cached(maxsize=64, kind="section")
def partner_trend(wh, scope: Scope, first: dt.date | None, last: dt.date | None) -> Section | None:
    return _trend_section(
        wh,
        scope,
        first,
        last,
        "partenaire",
        "motifs-partenaires-trimestres",
        "Évolution de la part de chaque partenaire",
        "Partenaire",
        charts.share_small_multiples,
        ["demandes_detail.partenaire"],
    )


def zone_words(scope: Scope) -> str:
    """« la France entière », « la région Bretagne »: the area a département is compared within."""
    area = scope.comparison_area()
    if area.level == "national":
        return "la France entière"
    return f"la région {area.name}" if area.name else "la région"


@cached(maxsize=64, kind="section")
def heatmap(wh, scope: Scope, first: dt.date | None, last: dt.date | None, view: str) -> Section:
    """Each département's partner mix within its région (or France), the chosen département framed."""
    area = scope.comparison_area()
    zone = zone_words(scope)
    heat = reasons.departement_partner_shares(wh, area, first, last)
    highlight = scope.territory().code if scope.level in ("departement", "site") else None
    return Section(
        "motifs-departements-partenaires",
        heading="none",
        chart=chart_spec(charts.departement_heatmap(heat, view, highlight=highlight, zone_label=zone))
        if not heat.is_empty()
        else None,
        chart_alt=f"Carte de chaleur des parts de chaque partenaire par département de {zone}.",
        table=Table(
            heat.select(
                pl.col("departement").alias("Département"),
                pl.col("departement_nom").alias("Nom"),
                pl.col("libelle_court").alias("Partenaire"),
                pl.col("nb_demandes").alias("Demandes"),
                _percent_column("part").alias("Part (%)"),
                _percent_column("part_zone").alias("Part dans la zone (%)"),
                _percent_column("ecart").alias("Écart (points)"),
                pl.col("petit_effectif").alias("Petit effectif"),
            )
        ),
        empty=None if not heat.is_empty() else "Aucune donnée pour ce filtre.",
        **_common(wh, ["demandes_detail.partenaire"]),
    )
