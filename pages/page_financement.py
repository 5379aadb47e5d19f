"""Financement: the flat amount per structure and year by funder and carrier, the Banque des Territoires
envelope (committed, paid, remaining) and the regularisation of the 2018 arrears (annex 4). The
sections live in :mod:`fsdash.views.funding`."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from fsdash import ui
from fsdash.views import funding as view

wh, filters = ui.context()
scope, today = filters.scope, dt.date.today()
ui.header(
    "Financement",
    filters,
    period=False,
    ignores={
        "période": "les forfaits suivent les années qu'elle couvre ; l'enveloppe et la régularisation 2018 ont "
        "leurs propres dates",
        "comparaison": "les montants dus se lisent par année",
        "périmètre, format et porteur": "sauf les forfaits : l'enveloppe Banque des Territoires est nationale",
    },
)

# --- the flat amount per structure (annex 4) --------------------------------------------------------
ui.render(view.FLAT_RATE_INTRO)
years, nothing = view.flat_rate_years(wh, scope, filters.first, filters.last)
if nothing is not None:
    ui.render(nothing)
else:
    span = (years[0], years[-1])
    year = st.selectbox("Année", years, index=len(years) - 1, key="financement_annee")
    ui.render(view.flat_rate_rules(wh, year))  # the year's rate, from the rates table the amounts use
    tiles = view.flat_rate_tiles(wh, scope, year, span, today)
    ui.render(tiles)
    ui.render(view.by_source(wh, scope, *span, today))
    ui.render(view.by_carrier(wh, scope, *span, today))
    if tiles.empty is None:
        ui.render(view.detail(wh, scope, year, today))
if years:
    ui.render(view.rates_table(wh))

# --- the Banque des Territoires envelope ------------------------------------------------------------
ui.render(view.ENVELOPE_INTRO)
if not view.envelope_loaded(wh):
    ui.render(view.ENVELOPE_EMPTY)
else:
    moment = st.radio(
        "Situation",
        list(view.ENVELOPE_MOMENTS),
        format_func=view.ENVELOPE_MOMENTS.get,
        horizontal=True,
        key="financement_bdt_date",
    )
    ui.render(view.envelope(wh, view.envelope_as_of(moment)))
    ui.render(view.envelope_timeline(wh))

# --- the 2018 arrears -------------------------------------------------------------------------------
ui.render(view.arrears(wh, scope))
