"""fsdash — the frame: page config, shared filters, and the one routes table for st.navigation."""

from __future__ import annotations

import streamlit as st

from fsdash import ui
from fsdash.routes import ROUTES
from fsdash.warehouse.store import WarehouseMissing

st.set_page_config(page_title="France Services — pilotage", layout="wide")
page = st.navigation(
    [st.Page(r.path, title=r.title, icon=r.icon, url_path=r.url_path, default=(i == 0)) for i, r in enumerate(ROUTES)]
)
st.sidebar.markdown("**France Services** · tableau de bord de pilotage")
try:
    ui.start(page)
except WarehouseMissing as exc:
    st.error(
        f"Entrepôt introuvable : {ui.db_path()}. Construisez l'entrepôt de démonstration avec "
        "« python -m fsdash demo » ou chargez des données avec « python -m fsdash ingest ». "
        f"({exc})"
    )
