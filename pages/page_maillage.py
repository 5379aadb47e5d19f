"""Trajectoire et maillage: the path to the network's targets, canton coverage, distance to the
nearest site, where to open next."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from fsdash import charts, formats, ui
from fsdash.catalogue import load_catalogue
from fsdash.circulaire import EVERY_CANTON_COVERED, MSAP_HOMOLOGATION_DEADLINE, SITES_AT_1_JAN_2020, SITES_END_2022
from fsdash.metrics import candidates, coverage, network, official
from fsdash.metrics.scope import UNKNOWN_CARRIER

LABELS_INDICATOR = "nb-labellisations-france-services"
BREAKDOWN_LABELS = {"format": "Format", "type_site": "Type", "porteur": "Porteur"}


def _group_labels(breakdown: str) -> dict[str, str]:
    dimension = load_catalogue().dimensions[breakdown]
    return {**{v.code: v.label for v in dimension.values}, UNKNOWN_CARRIER: "Non renseigné"}


filters = ui.current_filters()
scope = ui.territory(filters.scope)
st.title("Trajectoire et maillage")
st.caption(ui.scope_title(scope))
ui.demo_banner()

# --- the path to the targets (annex 2) -------------------------------------------------------
st.subheader("Trajectoire du réseau")
today = dt.date.today()
trajectory = ui.query(network.labelled_by_month, dt.date(2019, 10, 1), today, scope)
targets = [SITES_AT_1_JAN_2020, SITES_END_2022] if scope.level == "national" else []
labels_official = ui.query(official.official_series, LABELS_INDICATOR, scope)
table = trajectory.select(pl.col("date").alias("Date"), pl.col("sites").alias("Sites ouverts (référentiel)"))
if not labels_official.is_empty():
    table = table.join(
        labels_official.select(
            pl.col("date").alias("Date"), pl.col("value").alias("Sites labellisés (série officielle)")
        ),
        on="Date",
        how="full",
        coalesce=True,
    ).sort("Date")
ui.chart_block(
    "trajectoire",
    charts.trajectory(trajectory, targets, labels_official),
    table,
    indicators=["sites.date_labellisation", "sites.date_fermeture"],
    source="référentiel des sites"
    + (
        "; série officielle : baromètre des résultats de l'action publique (Etalab), labellisations cumulées"
        if not labels_official.is_empty()
        else " (série officielle non chargée : python -m fsdash import-indicators)"
    ),
    note=" ".join(f"Objectif : {formats.number(t.value)} au {formats.date_long(t.date)} ({t.source})." for t in targets)
    or None,
)
breakdown = st.radio(
    "Répartition", list(BREAKDOWN_LABELS), format_func=BREAKDOWN_LABELS.get, horizontal=True, key="maillage_repartition"
)
split = ui.query(network.labelled_by_month_by, dt.date(2019, 10, 1), today, breakdown, scope)
labels = _group_labels(breakdown)
ui.chart_block(
    f"trajectoire-par-{breakdown}",
    charts.trajectory_by(split, labels, "Sites ouverts"),
    split.with_columns(pl.col("groupe").replace_strict(labels, default=pl.col("groupe"))).select(
        pl.col("date").alias("Date"),
        pl.col("groupe").alias(BREAKDOWN_LABELS[breakdown]),
        pl.col("sites").alias("Sites"),
    ),
    indicators=[f"sites.{breakdown}"],
    source="référentiel des sites",
)

msap = ui.query(network.msap_conversion, MSAP_HOMOLOGATION_DEADLINE.date, scope).row(0, named=True)
cols = st.columns(3)
cols[0].metric(
    "Anciennes MSAP labellisées",
    formats.number(msap["msap_total"]),
    help=f"{MSAP_HOMOLOGATION_DEADLINE.label.capitalize()} : "
    f"{formats.date_long(MSAP_HOMOLOGATION_DEADLINE.date)} ({MSAP_HOMOLOGATION_DEADLINE.source}).",
)
cols[1].metric(
    f"… avant le {formats.date_short(MSAP_HOMOLOGATION_DEADLINE.date)}", formats.number(msap["avant_echeance"])
)
cols[2].metric("… après l'échéance", formats.number(msap["apres_echeance"]))
if msap["non_renseigne"]:
    st.caption(
        f"{formats.number(msap['non_renseigne'])} sites dont la source ne dit pas s'ils étaient des MSAP "
        "(la liste ANCT ne le précise pas)."
    )

st.subheader("Maillage du territoire")
day = st.date_input(
    "Situation au",
    value=dt.date.today(),
    min_value=dt.date(2019, 1, 1),
    max_value=dt.date.today(),
    format="DD/MM/YYYY",
    key="maillage_date",
)

cantons = ui.query(coverage.canton_coverage_summary, day, scope).row(0, named=True)
within = ui.query(coverage.population_within, day, scope)

cols = st.columns(1 + within.height)
if cantons["cantons_total"]:
    cols[0].metric(
        "Cantons couverts",
        formats.percent(cantons["share"], 1),
        help=f"Objectif de la circulaire ({EVERY_CANTON_COVERED.source}) : chaque canton couvert d'ici fin 2022.",
    )
    cols[0].caption(
        f"{formats.number(cantons['cantons_covered'])} sur {formats.number(cantons['cantons_total'])} ; "
        f"jusqu'à {formats.percent(cantons['share_max'], 1)} en comptant les cantons incertains"
    )
for col, row in zip(cols[1:], within.iter_rows(named=True), strict=True):
    col.metric(
        f"Population à moins de {row['radius_km']:g} km",
        formats.percent(row["share"], 1),
        help="Distance à vol d'oiseau (grand cercle) entre la commune et le site ouvert le plus proche, "
        "quel que soit son département ; communes sans population connue (Mayotte) exclues.",
    )
    col.caption(f"{formats.number(row['population_within'])} habitants sur {formats.number(row['population_total'])}")

st.markdown(
    "**Définitions.** Un canton est couvert quand au moins un site ouvert est implanté dans l'une de ses communes. "
    "Une grande ville partagée entre plusieurs cantons est comptée comme un canton (« pseudo-canton ») : un seul "
    "site la couvre, ce qui l'avantage ; les cantons qui en partagent une partie sans site propre sont dits "
    "*incertains*. Paris, la métropole de Lyon, la Martinique et la Guyane n'ont pas de cantons et sont hors de "
    "cet objectif ("
    f"{formats.number(cantons['communes_sans_canton'])} communes, {formats.number(cantons['population_sans_canton'])} "
    "habitants)."
)

st.subheader("Cantons sans site")
by_canton = ui.query(coverage.canton_coverage, day, scope)
uncovered = by_canton.filter(~pl.col("couvert"))
if uncovered.is_empty():
    st.success("Tous les cantons du périmètre ont au moins un site.")
else:
    st.dataframe(
        uncovered.sort("population", descending=True, nulls_last=True).select(
            pl.col("code").alias("Canton"),
            pl.col("nom").alias("Nom"),
            pl.col("departement").alias("Département"),
            pl.col("population").alias("Population"),
            pl.col("incertain").alias("Incertain"),
        ),
        hide_index=True,
    )

st.subheader("Communes les plus éloignées d'un site")
far = ui.query(coverage.farthest_communes, day, scope, 20)
st.dataframe(
    far.select(
        pl.col("code_insee").alias("Commune"),
        pl.col("nom").alias("Nom"),
        pl.col("departement").alias("Département"),
        pl.col("population").alias("Population"),
        pl.col("distance_km").round(1).alias("Distance (km)"),
        pl.col("nearest_site_nom").alias("Site le plus proche"),
    ),
    hide_index=True,
)

st.subheader("Où ouvrir ensuite")
if scope.level != "departement":
    st.info(
        "Choisissez un département dans le périmètre (barre latérale) pour classer les communes candidates "
        "à un nouveau site ou à un arrêt de bus selon les critères de l'annexe 2 de la circulaire."
    )
else:
    radius = st.select_slider(
        "Rayon d'accessibilité visé (km)", options=[5, 10, 15, 20], value=10, key="maillage_rayon"
    )
    ranked = ui.query(candidates.opening_candidates, day, scope.code, 10, radius)
    if ranked.is_empty():
        st.success("Aucune commune ne rapprocherait d'habitants ni ne couvrirait de canton dans ce département.")
    else:
        st.dataframe(
            ranked.select(
                pl.col("rang").alias("Rang"),
                pl.col("code_insee").alias("Commune"),
                pl.col("nom").alias("Nom"),
                pl.col("population").alias("Population"),
                pl.col("distance_km").round(1).alias("Distance actuelle (km)"),
                pl.col("gain_population").alias("Habitants rapprochés"),
                pl.col("score").alias("Score"),
                pl.col("raisons").alias("Raisons"),
            ),
            hide_index=True,
        )
        st.caption(
            "Critères de l'annexe 2 que les données permettent : population éloignée de tout site (i), "
            "petites centralités, approchées par la population (ii), canton non couvert, outre-mer (v). "
            "Sélection gloutonne : chaque candidat ne compte que les habitants que les précédents ne "
            "rapprochent pas déjà."
        )
st.caption("Sources : référentiel des sites ; géographie INSEE/IGN (data/geo/PROVENANCE.md).")
