"""Motifs de contact: requests by partner, theme and life situation, channel and outcome — the share
answered on the spot first (annex 1: « sans que l'utilisateur ait à se déplacer ») — their trends, and
the départements × partners view."""

from __future__ import annotations

import streamlit as st

from fsdash import formats, ui
from fsdash.metrics.reasons import SMALL_COUNT
from fsdash.views import reasons as views

wh, filters = ui.context()
ui.header(
    "Motifs de contact",
    filters,
    feed=True,
    ignores={"comparaison": "seuls la suite donnée, les partenaires et les canaux sont comparés"},
)
scope, first, last = filters.scope, filters.first, filters.last

outcomes = views.outcomes(wh, filters)
ui.render(outcomes)
if outcomes.empty:
    st.stop()
ui.render(views.on_the_spot_trend(wh, filters))

st.subheader("Par partenaire")
left, right = st.columns(2)
with left:
    ui.render(views.partners(wh, filters))
with right:
    ui.render(views.partner_outcomes(wh, scope, first, last))

ui.render(views.themes(wh, scope, first, last))

st.subheader("Par canal")
left, right = st.columns(2)
with left:
    ui.render(views.channels(wh, filters), heading=False)
with right:
    ui.render(views.channel_trend(wh, scope, first, last))

ui.render(views.partner_trend(wh, scope, first, last))

st.subheader("Départements et partenaires")
zone = views.zone_words(scope)
st.caption(
    f"Part de chaque partenaire dans les demandes de chaque département de {zone}. "
    f"Cases pâles : moins de {formats.number(SMALL_COUNT)} demandes dans le département, part peu fiable."
    + (" Le département choisi est encadré en rouge." if scope.level in ("departement", "site") else "")
)
view = st.radio(
    "Couleur",
    ["part", "ecart"],
    horizontal=True,
    key="motifs_heatmap",
    format_func={"part": "Part du partenaire", "ecart": f"Écart à {zone} (points)"}.get,
)
ui.render(views.heatmap(wh, scope, first, last, view))
