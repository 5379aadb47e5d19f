"""fsdash — the frame: page config, who is looking, shared filters, and the one routes table for st.navigation."""

from __future__ import annotations

import streamlit as st

from fsdash import ui
from fsdash.identity import Identity
from fsdash.routes import HOME_ROOT_PATH, ROUTES
from fsdash.warehouse.store import WarehouseMissing


def pages(who: Identity) -> list:
    """The routes as st.Page objects. Streamlit serves the default page at ``/`` only, so Accueil is
    registered twice: the default page (in the menu) and a hidden page at ``/accueil``, for links.
    A page the viewer's role does not see stays registered but out of the menu, so that a link to it
    gets the frame's French refusal (:func:`fsdash.ui.start`) rather than Streamlit's English dialog."""
    home, *others = ROUTES
    return [
        st.Page(home.path, title=home.title, icon=home.icon, url_path=HOME_ROOT_PATH, default=True),
        *(
            st.Page(
                r.path,
                title=r.title,
                icon=r.icon,
                url_path=r.url_path,
                visibility="visible" if who.role in r.roles else "hidden",
            )
            for r in others
        ),
        st.Page(home.path, title=home.title, icon=home.icon, url_path=home.url_path, visibility="hidden"),
    ]


st.set_page_config(page_title="France Services — pilotage", layout="wide")
who = ui.viewer()
page = st.navigation(pages(who))
st.sidebar.markdown("**France Services** · tableau de bord de pilotage")
ui.identity_bar(who)
try:
    ui.start(page, who)
except WarehouseMissing as exc:
    st.error(
        f"Entrepôt introuvable : {ui.db_path()}. Construisez l'entrepôt de démonstration avec "
        "« python -m fsdash demo » ou chargez des données avec « python -m fsdash ingest ». "
        f"({exc})"
    )
