"""The one list of pages: ``app.py`` builds ``st.navigation`` from it, tests and the benchmark import it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Route:
    path: str  # page script, relative to the repository
    title: str  # French title (navigation, browser tab)
    icon: str
    url_path: str
    feed: bool = False  # a page of the quarterly feed: needs activity data and a period

    @property
    def file(self) -> Path:
        return ROOT / self.path


ROUTES = (
    Route("pages/page_accueil.py", "Accueil", ":material/home:", "accueil"),
    Route("pages/page_frequentation.py", "Fréquentation", ":material/groups:", "frequentation", feed=True),
    Route("pages/page_motifs.py", "Motifs de contact", ":material/forum:", "motifs", feed=True),
    Route("pages/page_satisfaction.py", "Satisfaction", ":material/sentiment_satisfied:", "satisfaction"),
    Route("pages/page_maillage.py", "Trajectoire et maillage", ":material/map:", "maillage"),
    Route("pages/page_financement.py", "Financement", ":material/euro:", "financement"),
    Route("pages/page_dictionnaire.py", "Dictionnaire des indicateurs", ":material/menu_book:", "dictionnaire"),
    Route("pages/page_chargements.py", "Chargements et qualité", ":material/fact_check:", "chargements"),
)


#: The internal name of the default page, which Streamlit serves at ``/``: it differs from Accueil's
#: ``accueil``, which a hidden page of the same script answers (a link to ``/accueil`` shows Accueil).
HOME_ROOT_PATH = "racine"


def route(url_path: str) -> Route:
    return next(r for r in ROUTES if r.url_path == url_path)
