"""The one list of pages: ``app.py`` builds ``st.navigation`` from it, tests and the benchmark import it.

Each route says which roles see it (:mod:`fsdash.identity`). Chargements et qualité is the programme
team's and the national committee's: its batches, rejected rows and quarantine name every
département's sites and their values line by line, which a département's committee may not read for
another département; loading there is the programme team's alone (the page checks
``Identity.can_load``). A page a role does not see is left out of its menu, and a link to it shows a
French refusal instead of the page (:func:`fsdash.ui.start`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fsdash.identity import ALL_ROLES, NATIONAL_ROLES

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Route:
    path: str  # page script, relative to the repository
    title: str  # French title (navigation, browser tab)
    icon: str
    url_path: str
    feed: bool = False  # a page of the quarterly feed: needs activity data and a period
    roles: frozenset[str] = ALL_ROLES  # who sees the page (fsdash.identity.ROLES)

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
    Route(
        "pages/page_chargements.py",
        "Chargements et qualité",
        ":material/fact_check:",
        "chargements",
        roles=NATIONAL_ROLES,
    ),
)


#: The internal name of the default page, which Streamlit serves at ``/``: it differs from Accueil's
#: ``accueil``, which a hidden page of the same script answers (a link to ``/accueil`` shows Accueil).
HOME_ROOT_PATH = "racine"


def allowed(route: Route, role: str) -> bool:
    return role in route.roles


def route_of_path(path: str) -> Route | None:
    """The route of a page script (``pages/x.py``), None when there is none."""
    return next((r for r in ROUTES if r.path == path), None)


def route(url_path: str) -> Route:
    return next(r for r in ROUTES if r.url_path == url_path)
