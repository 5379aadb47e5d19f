"""Trajectoire et maillage: the path to the network's targets, canton coverage, distance to the
nearest site, where to open next."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from fsdash import ui
from fsdash.views import network

wh, filters = ui.context()
scope, today = filters.scope, dt.date.today()
ui.header(
    "Trajectoire et maillage",
    filters,
    period=False,
    ignores={
        "période": "le réseau se mesure à une date — mois par mois pour la trajectoire, à la date choisie pour le "
        "maillage —, pas par trimestre",
        "comparaison": "la trajectoire se lit face aux objectifs de la circulaire et à la série officielle",
        "format et porteur": "sauf la trajectoire : le maillage compte tous les sites du territoire",
    },
)

ui.render(network.trajectory(wh, scope, today))
breakdown = st.radio(
    "Répartition",
    list(network.BREAKDOWN_LABELS),
    format_func=network.BREAKDOWN_LABELS.get,
    horizontal=True,
    key="maillage_repartition",
)
ui.render(network.trajectory_by(wh, scope, today, breakdown))
ui.render(network.msap(wh, scope))

st.subheader(network.COVERAGE_TITLE)
day = st.date_input(
    "Situation au",
    value=today,
    min_value=dt.date(2019, 1, 1),
    max_value=today,
    format="DD/MM/YYYY",
    key="maillage_date",
)
ui.render(network.coverage_tiles(wh, scope, day))
ui.render(network.uncovered_cantons(wh, scope, day))
ui.render(network.farthest_communes(wh, scope, day))

st.subheader(network.CANDIDATES_TITLE)
radius = 10
if network.candidates_possible(scope):
    radius = st.select_slider(
        "Rayon d'accessibilité visé (km)", options=list(network.CANDIDATE_RADII), value=10, key="maillage_rayon"
    )
ui.render(network.opening_candidates(wh, scope, day, radius))
