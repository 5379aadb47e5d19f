"""Official series published by the State (DITP and Etalab baromètres): read, validate, load.

The import path of ``python -m fsdash import-indicators`` and of ``demo --official``; the
reconciliation with the sites' feed lives in :mod:`fsdash.metrics.official`.
"""

from fsdash.official.definitions import Definitions, Indicator, Source, load_definitions
from fsdash.official.load import (
    OfficialFileOutcome,
    OfficialImportResult,
    OfficialRefused,
    import_official_blobs,
    import_official_paths,
    report_lines,
)

#: Codes of the official indicators the dashboard reconciles (see schemas/series_officielles.yaml).
LABELS = "nb-labellisations-france-services"
ACTS = "IND-323"
SATISFACTION = "IND-246"

__all__ = [
    "ACTS",
    "LABELS",
    "SATISFACTION",
    "Definitions",
    "Indicator",
    "OfficialFileOutcome",
    "OfficialImportResult",
    "OfficialRefused",
    "Source",
    "import_official_blobs",
    "import_official_paths",
    "load_definitions",
    "report_lines",
]
