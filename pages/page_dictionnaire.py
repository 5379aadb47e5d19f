"""Dictionnaire des indicateurs: the catalogue (schemas/catalogue.yaml) for its readers — every table
and indicator, the code lists and the consistency rules, searchable — and the templates to fill in."""

from __future__ import annotations

import functools

import streamlit as st

from fsdash import exports, ui
from fsdash.catalogue import load_catalogue
from fsdash.templates import csv_template, xlsx_template
from fsdash.views import dictionary
from fsdash.views.section import Section

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def static(section: Section, heading=st.subheader) -> None:
    """A dictionary block as a static table: definitions wrap instead of being cut off."""
    heading(section.title)
    if section.intro:
        st.markdown(section.intro)
    st.table(section.table.frame, hide_index=True, border="horizontal")


wh, filters = ui.context()
catalogue = load_catalogue()
ui.header(
    "Dictionnaire des indicateurs",
    filters,
    scope=False,
    ignores={"tous les filtres": "le catalogue des indicateurs est le même pour tous les périmètres et périodes"},
)
st.caption(
    f"Catalogue version {catalogue.version} — source unique : schemas/catalogue.yaml. La validation des "
    "fichiers, les tables de l'entrepôt, les modèles à remplir et ce dictionnaire en sont tous tirés."
)

# --- templates, built when clicked ---------------------------------------------------------------------
st.header("Modèles à remplir")
st.markdown(
    "Un classeur unique (une feuille par table, une feuille « Lisez-moi » reprenant ce dictionnaire et une "
    "feuille « Listes » des codes admis, proposés en listes déroulantes) ou un fichier CSV par table "
    "(séparateur « ; », UTF-8 avec BOM pour Excel). Les en-têtes sont les codes des colonnes."
)
st.download_button(
    "Classeur de reporting (XLSX)",
    functools.partial(xlsx_template, catalogue),
    file_name="modele-reporting-france-services.xlsx",
    key="dictionnaire_modele_xlsx",
    type="primary",
    mime=XLSX_MIME,
    on_click="ignore",
)
cols = st.columns(4)
for i, table in enumerate(catalogue.tables.values()):
    cols[i % 4].download_button(
        f"{table.code}.csv",
        functools.partial(csv_template, table),
        file_name=f"modele-{table.code}.csv",
        mime="text/csv",
        key=f"dictionnaire_modele_{table.code}",
        help=f"Modèle : {table.label}",
        width="stretch",
        on_click="ignore",
    )

# --- search ------------------------------------------------------------------------------------------
st.header("Rechercher")
query = st.text_input(
    "Indicateur, définition, code ou article de la charte",
    key="dictionnaire_recherche",
    placeholder="ex. : satisfaction, 72 h, annexe 4, charte 2.4",
)
chosen = tuple(
    st.multiselect(
        "Tables",
        list(catalogue.tables),
        format_func=lambda c: f"{catalogue.table(c).label} ({c})",
        key="dictionnaire_tables",
        placeholder="Toutes les tables",
        select_all=False,  # Streamlit writes « Select all » in English; empty means all
    )
)

# --- tables and indicators ---------------------------------------------------------------------------
st.header("Tables et indicateurs")
found = dictionary.indicators(query, chosen)
for section in found.sections:
    static(section)
if found.export is None:
    st.info("Aucun indicateur ne correspond à la recherche.")
else:
    cols = st.columns(2)
    cols[0].download_button(
        "Dictionnaire affiché (CSV)",
        functools.partial(exports.csv_bytes, found.export),
        file_name="dictionnaire-indicateurs.csv",
        mime="text/csv",
        key="dictionnaire_csv",
        on_click="ignore",
    )
    cols[1].download_button(
        "Dictionnaire affiché (XLSX)",
        functools.partial(exports.xlsx_bytes, found.export, "dictionnaire"),
        file_name="dictionnaire-indicateurs.xlsx",
        key="dictionnaire_xlsx",
        mime=XLSX_MIME,
        on_click="ignore",
    )

# --- code lists --------------------------------------------------------------------------------------
st.header("Listes de codes")
st.caption("Dans les fichiers, une liste accepte le code ou le libellé (casse et accents indifférents).")
lists = dictionary.code_lists(query)
for section in lists:
    with st.expander(section.title, expanded=bool(query)):
        st.caption(section.caption())
        st.table(section.table.frame, hide_index=True, border="horizontal")
if not lists:
    st.info("Aucune liste de codes ne correspond à la recherche.")

# --- rules -------------------------------------------------------------------------------------------
st.header("Règles de cohérence")
st.caption(
    "Vérifiées à chaque chargement : une ligne qui en enfreint une est rejetée (mise en quarantaine) avec "
    "le fichier, la ligne, la colonne et le code de la règle ; pour le reporting, le site-période entier "
    "est rejeté."
)
rules = dictionary.rules(query, chosen)
if rules.empty:
    st.info(rules.empty)
else:
    st.table(rules.table.frame, hide_index=True, border="horizontal")
