"""Motifs de contact: requests by partner, theme and life situation, channel and outcome — the share
answered on the spot first (annex 1: « sans que l'utilisateur ait à se déplacer ») — their trends, and
the départements × partners view."""

from __future__ import annotations

import polars as pl
import streamlit as st

from fsdash import formats, ui
from fsdash.charts import attendance as trend_charts
from fsdash.charts import reasons as charts
from fsdash.filters import COMPARISONS
from fsdash.metrics import reasons

SOURCE = "reporting trimestriel des sites, détail des demandes (charte 3.1)"
INDICATORS = [
    "demandes_detail.nb_demandes",
    "demandes_detail.partenaire",
    "demandes_detail.situation",
    "demandes_detail.canal",
    "demandes_detail.issue",
]

filters = ui.page_header("Motifs de contact")
scope = filters.scope
first, last = filters.first, filters.last

breakdown = ui.query(reasons.requests_breakdown, scope, first, last)
compared = filters.compared()
cmp_breakdown, compared_label = None, None
if compared is not None:
    cmp_breakdown = ui.query(reasons.requests_breakdown, compared.scope, compared.first, compared.last)
    compared_label = COMPARISONS[filters.comparison] + (
        ""
        if filters.comparison == "nationale"
        else f" ({formats.quarter_short(compared.first)} – {formats.quarter_short(compared.last)})"
    )
    if cmp_breakdown.is_empty():
        st.caption(f"Comparaison ({compared_label}) : aucune demande détaillée sur cette période.")
        cmp_breakdown = None
if breakdown.is_empty():
    st.info("Aucune demande détaillée pour ce périmètre et cette période.")
    st.stop()

# --- outcome: the on-the-spot share first -------------------------------------------------------
st.subheader("Réponses apportées sur place")
outcomes = reasons.shares(breakdown, "issue")
cmp_outcomes = reasons.shares(cmp_breakdown, "issue") if cmp_breakdown is not None else None
rows = {r["code"]: r for r in outcomes.iter_rows(named=True)}
cmp_rows = {r["code"]: r for r in cmp_outcomes.iter_rows(named=True)} if cmp_outcomes is not None else {}


def _points(code: str) -> str | None:
    """Gap to the comparison in share points (ASCII minus so that the arrow follows)."""
    mine, other = rows[code]["part"], cmp_rows.get(code, {}).get("part")
    if mine is None or other is None:
        return None
    gap = (mine - other) * 100
    return ("+" if gap >= 0 else "-") + formats.number(abs(gap), 1) + " pt"


total = int(outcomes["nb_demandes"].sum())
tiles = st.columns([2, 1, 1, 1])
tiles[0].metric(
    "Part des demandes résolues sur place",
    formats.percent(rows[reasons.ON_THE_SPOT]["part"], 1),
    delta=_points(reasons.ON_THE_SPOT),
    help="Demandes auxquelles l'agent a apporté une réponse sur place, sans que l'usager ait à se "
    "déplacer dans un autre guichet (circulaire, annexe 1).",
)
tiles[1].metric(
    "Transmises au référent",
    formats.percent(rows["TRANSMIS_REFERENT"]["part"], 1),
    delta=_points("TRANSMIS_REFERENT"),
    delta_color="inverse",
    help="Demandes transmises au référent back-office du partenaire, qui y répond sans nouveau déplacement.",
)
tiles[2].metric(
    "Réorientées",
    formats.percent(rows["REORIENTE"]["part"], 1),
    delta=_points("REORIENTE"),
    delta_color="inverse",
    help="Demandes réorientées vers un autre guichet : l'usager doit se déplacer.",
)
tiles[3].metric("Demandes détaillées", formats.number(total))
coverage = ui.query(reasons.detail_coverage, scope, first, last).row(0, named=True)
st.caption(
    (f"Comparaison : {compared_label} ; écarts en points de pourcentage. " if compared_label else "")
    + (
        f"Le détail par motif couvre {formats.percent(coverage['taux'], 1)} des "
        f"{formats.number(coverage['demandes_declarees'])} demandes déclarées dans l'activité."
        if coverage["taux"] is not None
        else ""
    )
)
if total < reasons.SMALL_COUNT:
    st.warning(
        f"Petit effectif : {formats.number(total)} demandes détaillées. Une part bouge de plusieurs points "
        "avec quelques demandes ; lisez les nombres du tableau.",
        icon=":material/info:",
    )
ui.chart_block(
    "motifs-suites",
    charts.outcome_bar(outcomes),
    outcomes.select(
        pl.col("libelle").alias("Suite donnée"),
        pl.col("nb_demandes").alias("Demandes"),
        (pl.col("part") * 100).round(1).alias("Part (%)"),
    ),
    indicators=["demandes_detail.issue", "demandes_detail.nb_demandes"],
    source=SOURCE,
)

spot_trend = reasons.on_the_spot_by_quarter(breakdown)
if spot_trend.height > 1:
    cmp_spot = None
    if cmp_breakdown is not None:
        cmp_spot = trend_charts.align(
            reasons.on_the_spot_by_quarter(cmp_breakdown), trend_charts.quarter_offset(first, compared.first)
        )
    ui.chart_block(
        "motifs-sur-place-trimestres",
        trend_charts.comparison_trend(
            spot_trend,
            "part_sur_place",
            "Part résolue sur place",
            compared=cmp_spot,
            compared_label=compared_label,
            kind="percent",
            decimals=1,
            mark="line",
            height=220,
        ),
        spot_trend.with_columns(pl.col("periode").map_elements(formats.quarter_short, return_dtype=pl.String)).select(
            pl.col("periode").alias("Trimestre"),
            pl.col("nb_demandes").alias("Demandes"),
            pl.col("sur_place").alias("Résolues sur place"),
            (pl.col("part_sur_place") * 100).round(1).alias("Part (%)"),
        ),
        indicators=["demandes_detail.issue"],
        source=SOURCE,
    )

# --- partners -----------------------------------------------------------------------------------
st.subheader("Par partenaire")
partners = reasons.shares(breakdown, "partenaire")
cmp_partners = reasons.shares(cmp_breakdown, "partenaire") if cmp_breakdown is not None else None
left, right = st.columns(2)
with left:
    st.markdown(
        "**Part des demandes par partenaire**" + (" — trait noir : comparaison" if cmp_partners is not None else "")
    )
    table = partners.select(
        pl.col("libelle").alias("Partenaire"),
        pl.col("nb_demandes").alias("Demandes"),
        (pl.col("part") * 100).round(1).alias("Part (%)"),
    )
    if cmp_partners is not None:
        table = table.with_columns((cmp_partners["part"] * 100).round(1).alias("Part comparée (%)"))
    ui.chart_block(
        "motifs-partenaires",
        charts.share_bars(partners, compared=cmp_partners, compared_label=compared_label or ""),
        table,
        indicators=["demandes_detail.partenaire"],
        source=SOURCE,
    )
with right:
    st.markdown("**Suite donnée, par partenaire**")
    by_partner = reasons.outcome_by(breakdown, "partenaire")
    ui.chart_block(
        "motifs-partenaires-suites",
        charts.outcome_stack(by_partner),
        by_partner.select(
            pl.col("libelle_court").alias("Partenaire"),
            pl.col("issue_libelle").alias("Suite donnée"),
            pl.col("nb_demandes").alias("Demandes"),
            (pl.col("part") * 100).round(1).alias("Part (%)"),
        ),
        indicators=["demandes_detail.issue"],
        source=SOURCE,
    )

# --- themes and life situations -----------------------------------------------------------------
st.subheader("Par thème et situation de vie du bouquet de services")
themes = reasons.shares(breakdown, "theme")
cols = st.columns(3)
for i, row in enumerate(themes.iter_rows(named=True)):
    cols[i % 3].metric(
        row["libelle"],
        formats.percent(row["part"], 1),
        help=f"{formats.number(row['nb_demandes'])} demandes ; "
        f"{formats.percent(row['part_sur_place'], 1)} résolues sur place.",
    )
situations = reasons.shares(breakdown, "situation")
ui.chart_block(
    "motifs-situations",
    charts.situation_bars(situations),
    situations.select(
        pl.col("theme_libelle").alias("Thème"),
        pl.col("libelle").alias("Situation de vie"),
        pl.col("nb_demandes").alias("Demandes"),
        (pl.col("part") * 100).round(1).alias("Part (%)"),
        (pl.col("part_sur_place") * 100).round(1).alias("Résolues sur place (%)"),
    ),
    indicators=["demandes_detail.situation"],
    source=SOURCE,
)

# --- channels -----------------------------------------------------------------------------------
st.subheader("Par canal")
channels = reasons.shares(breakdown, "canal")
cmp_channels = reasons.shares(cmp_breakdown, "canal") if cmp_breakdown is not None else None
left, right = st.columns(2)
with left:
    table = channels.select(
        pl.col("libelle").alias("Canal"),
        pl.col("nb_demandes").alias("Demandes"),
        (pl.col("part") * 100).round(1).alias("Part (%)"),
        (pl.col("part_sur_place") * 100).round(1).alias("Résolues sur place (%)"),
    )
    ui.chart_block(
        "motifs-canaux",
        charts.share_bars(channels, compared=cmp_channels, compared_label=compared_label or ""),
        table,
        indicators=["demandes_detail.canal"],
        source=SOURCE,
    )
with right:
    channel_trend = reasons.by_quarter(breakdown, "canal")
    if channel_trend.select("periode").n_unique() > 1:
        ui.chart_block(
            "motifs-canaux-trimestres",
            charts.channel_lines(channel_trend),
            channel_trend.with_columns(
                pl.col("periode").map_elements(formats.quarter_short, return_dtype=pl.String)
            ).select(
                pl.col("periode").alias("Trimestre"),
                pl.col("libelle").alias("Canal"),
                pl.col("nb_demandes").alias("Demandes"),
                (pl.col("part") * 100).round(1).alias("Part (%)"),
            ),
            indicators=["demandes_detail.canal"],
            source=SOURCE,
        )

# --- trends by partner --------------------------------------------------------------------------
partner_trend = reasons.by_quarter(breakdown, "partenaire")
if partner_trend.select("periode").n_unique() > 1:
    st.subheader("Évolution de la part de chaque partenaire")
    ui.chart_block(
        "motifs-partenaires-trimestres",
        charts.share_small_multiples(partner_trend),
        partner_trend.with_columns(
            pl.col("periode").map_elements(formats.quarter_short, return_dtype=pl.String)
        ).select(
            pl.col("periode").alias("Trimestre"),
            pl.col("libelle").alias("Partenaire"),
            pl.col("nb_demandes").alias("Demandes"),
            (pl.col("part") * 100).round(1).alias("Part (%)"),
        ),
        indicators=["demandes_detail.partenaire"],
        source=SOURCE,
    )

# --- départements × partners --------------------------------------------------------------------
area = ui.query(reasons.heatmap_area, scope)
st.subheader("Départements et partenaires")
area_title = ui.scope_title(area)
zone = "la France entière" if area.level == "national" else "la " + area_title[:1].lower() + area_title[1:]
st.caption(
    f"Part de chaque partenaire dans les demandes de chaque département de {zone}. "
    f"Cases pâles : moins de {formats.number(reasons.SMALL_COUNT)} demandes dans le département, "
    "part peu fiable."
    + (" Le département choisi est encadré en rouge." if scope.level in ("departement", "site") else "")
)
view = st.radio(
    "Couleur",
    ["part", "ecart"],
    horizontal=True,
    key="motifs_heatmap",
    format_func={"part": "Part du partenaire", "ecart": f"Écart à {zone} (points)"}.get,
)
heat = ui.query(reasons.departement_partner_shares, area, first, last)
highlight = None
if scope.level == "departement":
    highlight = scope.code
elif scope.level == "site":
    highlight = ui.territory(scope).code
ui.chart_block(
    "motifs-departements-partenaires",
    charts.departement_heatmap(heat, view, highlight=highlight, zone_label=zone) if not heat.is_empty() else None,
    heat.select(
        pl.col("departement").alias("Département"),
        pl.col("departement_nom").alias("Nom"),
        pl.col("libelle_court").alias("Partenaire"),
        pl.col("nb_demandes").alias("Demandes"),
        (pl.col("part") * 100).round(1).alias("Part (%)"),
        (pl.col("part_zone") * 100).round(1).alias("Part dans la zone (%)"),
        (pl.col("ecart") * 100).round(1).alias("Écart (points)"),
        pl.col("petit_effectif").alias("Petit effectif"),
    ),
    indicators=["demandes_detail.partenaire"],
    source=SOURCE,
)
