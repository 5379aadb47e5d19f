"""Accueil: the headline figures of the strategic committee, for the selected scope."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from fsdash import charts, formats, ui
from fsdash.metrics import activity, network
from fsdash.circulaire import SITES_AT_1_JAN_2020

scope = st.session_state["scope"]
st.title("Pilotage du réseau France Services")
st.caption(ui.scope_title(scope))
ui.demo_banner()

today = dt.date.today()
quarters = ui.query(activity.quarters)
open_now = ui.query(network.sites_labelled_at, [today], scope)["sites"][0]
at_launch = ui.query(network.sites_labelled_at, [SITES_AT_1_JAN_2020.date], scope)["sites"][0]

tiles = st.columns(4)
tiles[0].metric("Sites labellisés aujourd'hui", formats.number(open_now),
                help=f"Sites labellisés et non fermés au {formats.date_long(today)}.")
if scope.level == "national":
    tiles[0].caption(f"{formats.number(at_launch)} au {formats.date_long(SITES_AT_1_JAN_2020.date)} "
                     f"pour un objectif de {formats.number(SITES_AT_1_JAN_2020.value)} ({SITES_AT_1_JAN_2020.source}).")

if not quarters:
    st.info("Aucune donnée d'activité pour ce périmètre : chargez un reporting trimestriel.")
    st.stop()

by_quarter = ui.query(activity.activity_by_quarter, scope)
last = quarters[-1]
current = by_quarter.filter(pl.col("periode") == last)
year_before = by_quarter.filter(pl.col("periode") == last.replace(year=last.year - 1))
requests = current["demandes"].sum() if current.height else None
previous = year_before["demandes"].sum() if year_before.height else None
change = (requests / previous - 1) if requests and previous else None
tiles[1].metric(f"Demandes — {formats.quarter_short(last)}", formats.number(requests),
                delta=(formats.signed_percent(change, 1, minus="-") + " sur un an") if change is not None else None,
                help="Demandes traitées déclarées par les sites (charte 3.1), comparées au même trimestre "
                     "de l'année précédente ; les déclarations en retard ne sont pas encore comptées.")
tiles[2].metric(f"Usagers accueillis — {formats.quarter_short(last)}",
                formats.number(current["usagers"].sum() if current.height else None))
completeness = ui.query(activity.reporting_completeness, last, scope).row(0, named=True)
tiles[3].metric(f"Complétude — {formats.quarter_short(last)}", formats.percent(completeness["taux"], 1),
                help="Sites ayant déclaré leur activité du trimestre parmi les sites ouverts pendant ce trimestre "
                     "(reporting trimestriel obligatoire, charte 3.1).")
tiles[3].caption(f"{formats.number(completeness['declarants'])} sites sur {formats.number(completeness['attendus'])}")

st.subheader("Demandes traitées par trimestre")
st.altair_chart(charts.quarterly_bars(by_quarter, "demandes", "Demandes"), width="stretch")
with st.expander("Données du graphique"):
    st.dataframe(charts.with_quarter_labels(by_quarter).select(
        "trimestre", pl.col("demandes").alias("Demandes"), pl.col("usagers").alias("Usagers accueillis"),
        pl.col("sites_declarants").alias("Sites déclarants")), hide_index=True)
st.caption("Source : reporting trimestriel des sites France Services. " + ui.last_load_caption())
