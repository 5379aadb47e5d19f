"""Satisfaction: kiosk answers and the yearly survey, with their uncertainty, and the table each site
publishes every year (charter 3.1 and 3.2). The sections live in :mod:`fsdash.views.satisfaction`."""

from __future__ import annotations

import streamlit as st

from fsdash import ui
from fsdash.views import satisfaction as view

wh, filters = ui.context()
scope, first, last = filters.scope, filters.first, filters.last
ui.header(
    "Satisfaction des usagers",
    filters,
    ignores={
        "période": "l'enquête annuelle suit l'année choisie plus bas ; le taux officiel IND-246 est celui de sa "
        "dernière période publiée",
        "comparaison": "seules les bornes sont comparées",
        "format et porteur": "sauf le taux officiel IND-246, publié par territoire pour tous les sites",
    },
)
ui.render(view.INTRO)

years, default_year = view.year_choice(wh, scope, last)
if not years:
    ui.render(view.NOTHING_LOADED)
    if (official := view.official_rate(wh, scope)) is not None:
        ui.render(official)
    st.stop()


def breakdown(key: str) -> str | None:
    """The « Détail par » choice among the areas the scope contains (none for a site)."""
    levels = view.SUB_LEVELS[scope.level]
    if len(levels) <= 1:
        return levels[0] if levels else None
    return st.radio("Détail par", levels, format_func=view.LEVEL_NAMES.get, horizontal=True, key=key)


# --- kiosk answers ----------------------------------------------------------------------------------
kiosk = view.kiosk_tiles(wh, filters)
ui.render(kiosk)
if kiosk.empty is None:
    ui.render(view.kiosk_by_quarter(wh, filters))
    ui.render(view.kiosk_by_year(wh, scope, first, last))
    if (level := breakdown("satisfaction_niveau_bornes")) is not None:
        ui.render(view.kiosk_by_area(wh, scope, first, last, level))

if (official := view.official_rate(wh, scope)) is not None:
    ui.render(official)

# --- yearly survey ----------------------------------------------------------------------------------
ui.render(view.SURVEY_HEADING)
year = st.selectbox(
    "Année (enquête annuelle et résultats à publier)", years, index=default_year, key="satisfaction_annee"
)
survey = view.survey_tiles(wh, scope, year)
ui.render(survey)
if survey.empty is None:
    ui.render(view.survey_by_question(wh, scope, year))
    if (evolution := view.survey_evolution(wh, scope)) is not None:
        ui.render(evolution)
    if (level := breakdown("satisfaction_niveau_enquete")) is not None:
        questions = view.questions()
        question = st.selectbox(
            "Question",
            list(questions),
            format_func=questions.get,
            index=len(questions) - 1,
            key="satisfaction_question",
        )
        ui.render(view.survey_by_area(wh, scope, year, level, question))

# --- what each site publishes -----------------------------------------------------------------------
ui.render(view.published(wh, scope, year))
