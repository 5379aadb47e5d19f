"""Accueil: the headline figures of the strategic committee, for the selected scope."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from fsdash import charts, formats, ui
from fsdash.circulaire import BDT_ENVELOPE, EVERY_CANTON_COVERED, SITES_AT_1_JAN_2020
from fsdash.metrics import activity, coverage, funding, network, satisfaction

filters = ui.current_filters()
scope = filters.scope
today = dt.date.today()
st.title("Pilotage du réseau France Services")
st.caption(ui.scope_title(scope))
ui.demo_banner()

# --- the network against the circular's targets (annex 2) -----------------------------------
st.subheader("Le réseau")
open_now = ui.query(network.sites_labelled_at, [today], scope)["sites"][0]
at_launch = ui.query(network.sites_labelled_at, [SITES_AT_1_JAN_2020.date], scope)["sites"][0]
area = ui.territory(scope)
cantons = ui.query(coverage.canton_coverage_summary, today, area).row(0, named=True)
within = ui.query(coverage.population_within, today, area)
within_10 = within.filter(pl.col("radius_km") == 10).row(0, named=True)

tiles = st.columns(3)
tiles[0].metric(
    "Sites labellisés ouverts",
    formats.number(open_now),
    help=f"Sites labellisés et non fermés au {formats.date_long(today)}.",
)
if scope.level == "national":
    tiles[0].caption(
        f"{formats.number(at_launch)} au {formats.date_long(SITES_AT_1_JAN_2020.date)}, pour un objectif "
        f"de {formats.number(SITES_AT_1_JAN_2020.value)} ({SITES_AT_1_JAN_2020.source})."
    )
if area != scope:
    st.caption(f"Couverture du territoire : {ui.scope_title(area)}.")
if cantons["cantons_total"]:
    tiles[1].metric(
        "Cantons couverts",
        formats.percent(cantons["share"], 1),
        help="Cantons comptant au moins un site ouvert ; objectif : tous les cantons fin 2022 "
        f"({EVERY_CANTON_COVERED.source}). Définition détaillée : page Maillage du territoire.",
    )
    tiles[1].caption(
        f"{formats.number(cantons['cantons_covered'])} cantons sur {formats.number(cantons['cantons_total'])}"
    )
tiles[2].metric(
    "Population à moins de 10 km d'un site",
    formats.percent(within_10["share"], 1),
    help="Part de la population dont la commune est à moins de 10 km (distance à vol d'oiseau, "
    "sur la sphère terrestre) du site ouvert le plus proche.",
)
tiles[2].caption(f"{formats.number(within_10['population_within'])} habitants")
st.page_link(
    "pages/page_maillage.py",
    label="Trajectoire, cantons sans site et où ouvrir ensuite",
    icon=":material/arrow_forward:",
)

trajectory = ui.query(network.labelled_by_month, dt.date(2019, 10, 1), today, scope)
if trajectory["sites"].max():
    ui.chart_block(
        "trajectoire",
        charts.trajectory(trajectory, [SITES_AT_1_JAN_2020] if scope.level == "national" else []),
        trajectory.select(pl.col("date").alias("Date"), pl.col("sites").alias("Sites ouverts")),
        indicators=["sites.date_labellisation", "sites.date_fermeture"],
        source="référentiel des sites (liste des structures France Services)",
    )

# --- activity from the quarterly feed (charter 3.1) -----------------------------------------
st.subheader("L'activité")
quarters = ui.query(activity.quarters)
if not quarters:
    st.info("Aucune donnée d'activité : chargez un reporting trimestriel (python -m fsdash ingest).")
    st.stop()

by_quarter = ui.query(activity.activity_by_quarter, scope)
last = filters.last or quarters[-1]
headline = ui.query(activity.quarter_headline, last, scope)
change = headline["evolution"]
tiles = st.columns(3)
tiles[0].metric(
    f"Demandes — {formats.quarter_short(last)}",
    formats.number(headline["demandes"]),
    delta=(formats.signed_percent(change, 1, minus="-") + " sur un an") if change is not None else None,
    help="Demandes traitées déclarées par les sites (charte 3.1), comparées au même trimestre "
    "de l'année précédente ; les déclarations en retard ne sont pas encore comptées.",
)
tiles[1].metric(f"Usagers accueillis — {formats.quarter_short(last)}", formats.number(headline["usagers"]))
completeness = ui.query(activity.reporting_completeness, last, scope).row(0, named=True)
tiles[2].metric(
    f"Complétude — {formats.quarter_short(last)}",
    formats.percent(completeness["taux"], 1),
    help="Sites ayant déclaré leur activité du trimestre parmi les sites ouverts pendant ce trimestre "
    "(reporting trimestriel obligatoire, charte 3.1).",
)
tiles[2].caption(f"{formats.number(completeness['declarants'])} sites sur {formats.number(completeness['attendus'])}")
links = st.columns(3)
links[0].page_link("pages/page_frequentation.py", label="Fréquentation", icon=":material/arrow_forward:")
links[1].page_link("pages/page_motifs.py", label="Motifs de contact", icon=":material/arrow_forward:")
links[2].page_link("pages/page_chargements.py", label="Chargements et qualité", icon=":material/arrow_forward:")

ui.chart_block(
    "demandes-par-trimestre",
    charts.quarterly_bars(by_quarter, "demandes", "Demandes traitées par trimestre"),
    charts.with_quarter_labels(by_quarter).select(
        pl.col("trimestre").alias("Trimestre"),
        pl.col("demandes").alias("Demandes"),
        pl.col("usagers").alias("Usagers accueillis"),
        pl.col("sites_declarants").alias("Sites déclarants"),
    ),
    indicators=["activite.demandes", "activite.usagers_accueillis"],
    source="reporting trimestriel des sites France Services (charte 3.1)",
)
st.caption(ui.last_load_caption())

# --- satisfaction (charter 3.2) and money (annex 4) ------------------------------------------
st.subheader("Satisfaction et financement")
tiles = st.columns(2)
kiosk = ui.query(satisfaction.kiosk_summary, filters.first, filters.last, scope).row(0, named=True)
if kiosk["reponses"]:
    tiles[0].metric(
        "Usagers satisfaits (bornes)",
        ("≈ " if kiosk["fragile"] else "") + formats.percent(kiosk["taux"], 1),
        help="Réponses « satisfait » et « très satisfait » aux bornes à l'entrée des sites, sur la période "
        "choisie (charte 3.2).",
    )
    tiles[0].caption(
        f"{formats.number(kiosk['reponses'])} réponses ; intervalle de confiance à 95 % : "
        f"{formats.percent(kiosk['ic_bas'], 1)} à {formats.percent(kiosk['ic_haut'], 1)}"
    )
else:
    tiles[0].info("Aucune réponse aux bornes de satisfaction pour ce filtre.")
tiles[0].page_link("pages/page_satisfaction.py", label="Satisfaction", icon=":material/arrow_forward:")
envelope = ui.query(funding.envelope_status)
if envelope["engage"].sum():
    committed, paid = envelope["engage"].sum(), envelope["paye"].sum()
    tiles[1].metric(
        "Enveloppe Banque des Territoires engagée",
        formats.percent(committed / BDT_ENVELOPE.value, 1),
        help=f"{BDT_ENVELOPE.label} : {formats.millions_euros(BDT_ENVELOPE.value)} ({BDT_ENVELOPE.source}), "
        "dont 17 M€ pour La Poste, 10 M€ pour l'animation du réseau, 3 M€ pour les bus.",
    )
    tiles[1].caption(
        f"{formats.millions_euros(committed)} engagés et {formats.millions_euros(paid)} payés sur "
        f"{formats.millions_euros(BDT_ENVELOPE.value)} (national)"
    )
else:
    tiles[1].info("Aucune opération de l'enveloppe Banque des Territoires chargée.")
tiles[1].page_link("pages/page_financement.py", label="Financement", icon=":material/arrow_forward:")
