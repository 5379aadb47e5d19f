"""Shared fixtures: a tiny hand-made France Services network whose figures are known by heart.

Network (4 sites, 2 départements):

=====  ====  ==========  ===========  ==============================================
site   dép.  labellisé   fermé        remarque
=====  ====  ==========  ===========  ==============================================
FS001  01    15/11/2019  —            reporte 2023 T4 et 2024 T1
FS002  01    01/06/2021  30/06/2024   reporte 2023 T4 et 2024 T1
FS003  2A    01/01/2022  —            reporte 2023 T4 seulement
FS004  2A    01/10/2024  —            bus labellisé après les trimestres chargés
=====  ====  ==========  ===========  ==============================================

Activity (``demandes``): 2023 T4 = 1 500 + 950 + 700 = 3 150 ; 2024 T1 = 1 600 + 1 000 = 2 600.
Detail of requests, 2023: CNAF 650, ANTS 400, DGFIP 350, CNAM 150 (total 1 550).

Everything "today"-dependent uses :data:`TODAY` (27 November 2024): the last complete quarter
is 2024 T3, 2024 T4 is not finished yet.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

TODAY = dt.date(2024, 11, 27)

# The pages' tests and the servers they start run in local mode (no sign-in, programme team's rights):
# an explicit setting, inherited by every subprocess; the identity tests set their own.
os.environ.setdefault("FSDASH_AUTH", "local")

# Session fixtures of the full demo warehouse (``demo_db``, ``demo_today``), shared by the demo,
# page and browser tests.
from demo_fixtures import demo_db, demo_today  # noqa: E402,F401

# --- hand-made data ---------------------------------------------------------------------------

SITES_HEADER = [
    "site_id",
    "nom",
    "code_commune",
    "departement",
    "format",
    "type_site",
    "porteur",
    "date_labellisation",
    "date_fermeture",
    "latitude",
    "longitude",
    "ancienne_msap",
    "heberge_etat",
]
SITES_ROWS = [
    [
        "FS001",
        "Maison France Services de Bourg-en-Bresse",
        "01053",
        "01",
        "FIXE",
        "PRINCIPAL",
        "COMMUNE",
        dt.date(2019, 11, 15),
        None,
        46.2052,
        5.2255,
        True,
        False,
    ],
    [
        "FS002",
        "France Services d'Oyonnax – Haut-Bugey",
        "01283",
        "01",
        "MULTISITES",
        "PRINCIPAL",
        "EPCI",
        dt.date(2021, 6, 1),
        dt.date(2024, 6, 30),
        46.2561,
        5.6556,
        False,
        False,
    ],
    [
        "FS003",
        "France Services Ajaccio — Les Salines",
        "2A004",
        "2A",
        "FIXE",
        "PRINCIPAL",
        "LA_POSTE",
        dt.date(2022, 1, 1),
        None,
        41.9192,
        8.7386,
        False,
        True,
    ],
    [
        "FS004",
        "Bus France Services de l'Extrême-Sud",
        "2A247",
        "2A",
        "BUS",
        "ANTENNE",
        "ASSOCIATION",
        dt.date(2024, 10, 1),
        None,
        None,
        None,
        None,
        None,
    ],
]

ACTIVITE_HEADER = [
    "site_id",
    "annee",
    "trimestre",
    "usagers_accueillis",
    "demandes",
    "appels_recus",
    "courriels_recus",
    "courriels_repondus_72h",
    "agents_accueil",
    "agents_etp",
    "agents_formes",
    "heures_ouverture_hebdo",
    "jours_ouverture_hebdo",
    "fermetures_exceptionnelles",
    "fermetures_annoncees_7j",
]
ACTIVITE_ROWS = [
    ["FS001", 2023, 4, 1200, 1500, 300, 80, 75, 3, 2.5, 2, 30.0, 5, 1, 1],
    ["FS002", 2023, 4, 800, 950, 150, 40, 40, 2, 2.0, 2, 26.5, 5, 0, 0],
    ["FS003", 2023, 4, 600, 700, 100, 20, 15, 2, 1.8, 1, 24.0, 5, 2, 1],
    ["FS001", 2024, 1, 1300, 1600, 320, 90, 85, 3, 2.5, 3, 30.0, 5, 0, 0],
    ["FS002", 2024, 1, 900, 1000, 160, 45, 44, 2, 2.0, 2, 26.5, 5, 1, 0],
]

#: The kiosk answers of a site-quarter (table satisfaction_borne), as the sites send them.
KIOSK_HEADER = [
    "site_id",
    "annee",
    "trimestre",
    "reponses_tres_satisfait",
    "reponses_satisfait",
    "reponses_peu_satisfait",
    "reponses_pas_satisfait",
]

DETAIL_HEADER = ["site_id", "annee", "trimestre", "partenaire", "situation", "canal", "issue", "nb_demandes"]
DETAIL_ROWS = [
    ["FS001", 2023, 4, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 400],
    ["FS001", 2023, 4, "ANTS", "PAPIERS_IDENTITE", "SUR_SITE", "REPONDU_SUR_PLACE", 300],
    ["FS001", 2023, 4, "DGFIP", "IMPOTS", "TELEPHONE", "TRANSMIS_REFERENT", 200],
    ["FS002", 2023, 4, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 250],
    ["FS002", 2023, 4, "CNAM", "REMBOURSEMENT_SOINS", "SUR_SITE", "REPONDU_SUR_PLACE", 150],
    ["FS003", 2023, 4, "ANTS", "PAPIERS_IDENTITE", "SUR_SITE", "REORIENTE", 100],
    ["FS003", 2023, 4, "DGFIP", "IMPOTS", "SUR_SITE", "REPONDU_SUR_PLACE", 150],
    ["FS001", 2024, 1, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 500],
    ["FS002", 2024, 1, "DGFIP", "IMPOTS", "VISIO", "REPONDU_SUR_PLACE", 300],
]


# --- writing CSV files -----------------------------------------------------------------------


def cell_text(value: object, *, decimal_comma: bool = True) -> str:
    """How a French spreadsheet writes a value: dates JJ/MM/AAAA, booleans oui/non, 2,5."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        text = repr(value)
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


def csv_bytes(
    header: list[str],
    rows: list[list[object]],
    *,
    encoding: str = "utf-8",
    sep: str = ";",
    decimal_comma: bool = True,
    line_end: str = "\r\n",
) -> bytes:
    """A CSV file as bytes; cells holding the separator are quoted (csv module rules)."""
    buffer = io.StringIO()
    out = csv.writer(buffer, delimiter=sep, lineterminator=line_end, quoting=csv.QUOTE_MINIMAL)
    out.writerow(header)
    for row in rows:
        out.writerow([cell_text(v, decimal_comma=decimal_comma) for v in row])
    return buffer.getvalue().encode(encoding)


def write_csv(path: Path, header: list[str], rows: list[list[object]], **kwargs) -> Path:
    path.write_bytes(csv_bytes(header, rows, **kwargs))
    return path


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _warehouse_tables() -> list[str]:
    """Every table of the warehouse: the catalogue's, plus the structural ones."""
    from fsdash.catalogue import load_catalogue

    structural = [
        "batches",
        "raw_files",
        "quarantine",
        "revisions",
        "site_history",
        "site_lists",
        "agg_demandes_departement",
        "agg_demandes_national",
        "agg_demandes_departement_partenaire",
        "meta",
        "official_series",
        "official_files",
    ]
    return [*load_catalogue().tables, *structural]


WAREHOUSE_TABLES = _warehouse_tables()


def table_counts(path: Path) -> dict[str, int]:
    """Row count of every warehouse table, read through a read-only connection."""
    from fsdash.warehouse.store import reader

    with reader(path) as con:
        return {t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in WAREHOUSE_TABLES}


def ingest_files(db: Path, files: list[tuple[str, bytes]], **kwargs):
    """One load through the production path: ``writer()`` + ``ingest_blobs``."""
    from fsdash.warehouse.ingest import ingest_blobs
    from fsdash.warehouse.store import writer

    kwargs.setdefault("today", TODAY)
    with writer(db) as con:
        return ingest_blobs(con, files, **kwargs)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def today() -> dt.date:
    return TODAY


@pytest.fixture
def catalogue():
    from fsdash.catalogue import load_catalogue

    return load_catalogue()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "entrepot" / "fsdash.duckdb"


@pytest.fixture
def sites_csv(tmp_path: Path) -> Path:
    """French Excel export: cp1252, ``;``, decimal commas."""
    return write_csv(tmp_path / "sites.csv", SITES_HEADER, SITES_ROWS, encoding="cp1252")


@pytest.fixture
def activite_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "activite.csv", ACTIVITE_HEADER, ACTIVITE_ROWS, encoding="utf-8-sig")


@pytest.fixture
def detail_csv(tmp_path: Path) -> Path:
    """UTF-8 without BOM, ``,`` separator."""
    return write_csv(tmp_path / "demandes_detail.csv", DETAIL_HEADER, DETAIL_ROWS, sep=",")


@pytest.fixture
def input_files(sites_csv: Path, activite_csv: Path, detail_csv: Path) -> list[Path]:
    return [sites_csv, activite_csv, detail_csv]


@pytest.fixture
def loaded_db(db_path: Path, input_files: list[Path]) -> Path:
    """The small warehouse: sites, two quarters of activity and the request detail, all valid."""
    result = ingest_files(db_path, [(p.name, p.read_bytes()) for p in input_files])
    assert result.exit_code == 0, [m for f in result.files for t in f.tables for m in t.messages()]
    return db_path


@pytest.fixture(autouse=True)
def navigation_mode(monkeypatch):
    """Run every AppTest rerun through the st.navigation frame, as the server does.

    AppTest (1.67) re-detects the legacy ``pages/`` directory before each run and then executes
    the page file alone on reruns, skipping app.py. The server clears that flag for good the
    first time st.navigation runs; we do the same, so reruns exercise the real frame.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
