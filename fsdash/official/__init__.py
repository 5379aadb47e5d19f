"""Official series published by the State (DITP and Etalab baromètres).

The read side (the dashboard's reconciliation, :mod:`fsdash.metrics.official`) needs only the
declarative definitions (:mod:`fsdash.official.definitions`); the import path of
``python -m fsdash import-indicators`` and of ``demo --official`` is :mod:`fsdash.warehouse.official_series`,
imported explicitly by the write side so that the dashboard never loads the ingest, the
validation or Pandera.
"""

from fsdash.official.definitions import ACTS, LABELS, SATISFACTION, Definitions, Indicator, Source, load_definitions

__all__ = ["ACTS", "LABELS", "SATISFACTION", "Definitions", "Indicator", "Source", "load_definitions"]
