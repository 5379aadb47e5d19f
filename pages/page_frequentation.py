"""Fréquentation: users received and requests over the quarters, per site, per agent FTE and per opening
hour; how the load spreads across sites (who is overloaded, who is under-used); a map of the sites."""

from __future__ import annotations

import streamlit as st

from fsdash import ui
from fsdash.views import attendance as views

wh, filters = ui.context()
ui.header(
    "Fréquentation",
    filters,
    feed=True,
    ignores={
        "comparaison": "seuls les chiffres clés et l'évolution sont comparés",
        "format et porteur": "sauf les actes mensuels officiels, publiés par territoire pour tous les sites",
        "période": "sauf les actes mensuels officiels, montrés sur toute leur série",
    },
)
scope, first, last = filters.scope, filters.first, filters.last

summary = views.summary(wh, filters)
ui.render(summary)
if summary.empty:
    st.stop()

st.subheader("Évolution trimestrielle")
measure = st.radio(
    "Indicateur",
    list(views.TREND_MEASURES),
    format_func=lambda k: views.TREND_MEASURES[k][0],
    horizontal=True,
    key="frequentation_indicateur",
)
ui.render(views.trend(wh, filters, measure), heading=False)
ui.render(views.seasonality(wh, scope, first, last))
ui.render(views.official_acts(wh, scope))

st.subheader("Répartition de la charge entre les sites")
load = st.radio(
    "Charge mesurée en",
    list(views.LOAD_MEASURES),
    format_func=views.LOAD_MEASURES.get,
    horizontal=True,
    key="frequentation_charge",
)
ui.render(views.load_distribution(wh, scope, first, last, load), heading=False)
for section in views.ranked_sites(wh, scope, first, last, load, filters.quarter_count):
    ui.render(section)
ui.render(views.sites_map(wh, scope, first, last, load))
ui.render(views.commitments(wh, scope, last))
