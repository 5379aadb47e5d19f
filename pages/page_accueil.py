"""Accueil: the headline figures of the strategic committee, for the selected scope."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from fsdash import ui
from fsdash.routes import route
from fsdash.views import home

wh, filters = ui.context()
scope, today = filters.scope, dt.date.today()
ui.header("Pilotage du réseau France Services", filters, period=False)

ui.render(home.network_tiles(wh, scope, today, filters.comparison))
st.page_link(
    "pages/page_maillage.py",
    label="Trajectoire, cantons sans site et où ouvrir ensuite",
    icon=":material/arrow_forward:",
)
ui.render(home.trajectory(wh, scope, today))

if filters.last is None:
    st.subheader("L'activité")
    st.info("Aucune donnée d'activité : chargez un reporting trimestriel (python -m fsdash ingest).")
    st.stop()
ui.render(home.activity_tiles(wh, scope, filters.last, filters.comparison))
links = st.columns(3)
links[0].page_link("pages/page_frequentation.py", label=route("frequentation").title, icon=":material/arrow_forward:")
links[1].page_link("pages/page_motifs.py", label=route("motifs").title, icon=":material/arrow_forward:")
links[2].page_link("pages/page_chargements.py", label=route("chargements").title, icon=":material/arrow_forward:")
ui.render(home.requests_by_quarter(wh, scope))

st.subheader("Satisfaction et financement")
left, right = st.columns(2)
with left:
    ui.render(home.satisfaction_tile(wh, filters))
    st.page_link("pages/page_satisfaction.py", label=route("satisfaction").title, icon=":material/arrow_forward:")
with right:
    ui.render(home.envelope_tile(wh))
    st.page_link("pages/page_financement.py", label=route("financement").title, icon=":material/arrow_forward:")
