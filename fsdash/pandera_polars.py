"""Pandera's Polars API, imported without pandas when pandas is not loaded yet.

``import pandera.polars`` runs pandera's package ``__init__``, which imports pandas (and through it
numpy, pyarrow, typeguard, pydantic…) whenever pandas is installed — Streamlit installs it — only
to offer pandera's pandas API, which fsdash never uses: 0,4 s of every ``fsdash ingest``, the largest
fixed cost of a quarter's load. Pandera supports installs without pandas (its ``__init__`` then
registers the built-in checks itself), so while pandera is imported here a finder answers that
pandas is not installed, exactly as Python would; it is removed at once, and pandas imports as
usual afterwards for whoever needs it. In a process that has already loaded pandas or pandera (the
dashboard: Streamlit imports pandas), pandera is imported as it is. The checks and failure cases
are the same either way (``tests/test_validation_native.py`` runs both).
"""

from __future__ import annotations

import importlib.abc
import sys


class _PandasAbsent(importlib.abc.MetaPathFinder):
    """Says « No module named 'pandas' », as an install without pandas would."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("No module named 'pandas'", name="pandas")
        return None


def _import_pandera_polars():
    if "pandas" in sys.modules or "pandera" in sys.modules:
        import pandera.polars

        return pandera.polars
    finder = _PandasAbsent()
    sys.meta_path.insert(0, finder)
    try:
        import pandera.polars
        from pandera.backends import register_checks

        # pandera looks for its pandas check backends once, at the first check, and remembers it
        # found none (its support for installs without pandas, GH #2387): asked now, not then
        register_checks._load_get_backend_types_from_mro()
    finally:
        sys.meta_path.remove(finder)
    return pandera.polars


pa = _import_pandera_polars()
