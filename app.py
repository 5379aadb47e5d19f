"""fsdash — the frame: page config, shared filters, and the one routes table for st.navigation."""

from __future__ import annotations

import streamlit as st

from fsdash import ui
from fsdash.warehouse.store import WarehouseMissing

#: (file, French title, icon, url path). The only list of pages.
ROUTES = [
    ("pages/page_accueil.py", "Accueil", ":material/home:", "accueil"),
    ("pages/page_frequentation.py", "Fréquentation", ":material/groups:", "frequentation"),
    ("pages/page_motifs.py", "Motifs de contact", ":material/forum:", "motifs"),
    ("pages/page_satisfaction.py", "Satisfaction", ":material/sentiment_satisfied:", "satisfaction"),
    ("pages/page_maillage.py", "Trajectoire et maillage", ":material/map:", "maillage"),
    ("pages/page_financement.py", "Financement", ":material/euro:", "financement"),
    ("pages/page_dictionnaire.py", "Dictionnaire des indicateurs", ":material/menu_book:", "dictionnaire"),
    ("pages/page_chargements.py", "Chargements et qualité", ":material/fact_check:", "chargements"),
]

st.set_page_config(page_title="France Services — pilotage", layout="wide")

pages = [
    st.Page(path, title=title, icon=icon, url_path=url, default=(i == 0))
    for i, (path, title, icon, url) in enumerate(ROUTES)
]
page = st.navigation(pages)

st.sidebar.markdown("**France Services** · tableau de bord de pilotage")
try:
    ui.warehouse_version()
except FileNotFoundError:
    st.error(
        f"Entrepôt introuvable : {ui.db_path()}. Construisez l'entrepôt de démonstration avec "
        "« python -m fsdash demo » ou chargez des données avec « python -m fsdash ingest »."
    )
    st.stop()
try:
    st.session_state["filters"] = ui.filter_bar()
    page.run()
except WarehouseMissing as exc:
    st.error(str(exc))
