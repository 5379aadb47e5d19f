"""Streamlit glue shared by the pages: the warehouse handle, cached queries, the scope filter.

Pages stay thin: they call :func:`query` with a metric function and pass the frame to a chart
builder. Queries are cached on (metric, arguments, warehouse version), so a new load shows at
once and a filter change reuses earlier answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from fsdash import formats, geography
from fsdash.metrics import quality
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.warehouse.schema import get_meta
from fsdash.warehouse.store import default_db_path, reader, version

LEVEL_LABELS = {"national": "France entière", "region": "Région", "departement": "Département"}


def db_path() -> Path:
    return default_db_path()


def warehouse_version() -> tuple[int, int, int]:
    return version(db_path())


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _cached(module: str, name: str, db: str, wh_version: tuple, args: tuple) -> Any:
    import importlib

    fn = getattr(importlib.import_module(module), name)
    with reader(Path(db)) as con:
        return fn(con, *args)


def query(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a metric function on a read-only connection, cached per warehouse version."""
    return _cached(fn.__module__, fn.__name__, str(db_path()), warehouse_version(), args)


def is_demo() -> bool:
    return query(_nature) == "demo"


def _nature(con) -> str | None:
    return get_meta(con, "nature")


def demo_banner() -> None:
    if is_demo():
        st.warning("**Données de démonstration** — chiffres synthétiques générés par fsdash "
                   "(python -m fsdash demo), calés sur les ordres de grandeur publics du programme.",
                   icon=":material/science:")


def _scope_options(level: str) -> dict[str, str]:
    sites = query(_site_areas)
    if level == "region":
        names = dict(geography.regions().select("code", "nom").iter_rows())
        codes = sorted(sites["region"].drop_nulls().unique().to_list())
    else:
        names = dict(geography.departements().select("code", "nom").iter_rows())
        codes = sorted(sites["departement"].drop_nulls().unique().to_list())
    return {code: f"{code} — {names.get(code, code)}" for code in codes}


def _site_areas(con) -> pl.DataFrame:
    return con.sql("SELECT DISTINCT region, departement FROM sites").pl()


def scope_filter() -> Scope:
    """The shared scope selector (sidebar), kept in the URL so a link reproduces the view."""
    params = st.query_params
    levels = list(LEVEL_LABELS)
    level = st.sidebar.selectbox(
        "Périmètre", levels, format_func=LEVEL_LABELS.get, key="scope_level",
        index=levels.index(params.get("perimetre", "national")) if params.get("perimetre") in levels else 0,
    )
    if level == "national":
        params.pop("code", None)
        params["perimetre"] = "national"
        return NATIONAL
    options = _scope_options(level)
    codes = list(options)
    wanted = params.get("code")
    code = st.sidebar.selectbox(LEVEL_LABELS[level], codes, format_func=options.get, key=f"scope_code_{level}",
                                index=codes.index(wanted) if wanted in codes else 0)
    params["perimetre"], params["code"] = level, code
    return Scope(level, code)


def scope_title(scope: Scope) -> str:
    if scope.level == "national":
        return "France entière"
    table = geography.regions() if scope.level == "region" else geography.departements()
    names = dict(table.select("code", "nom").iter_rows())
    return f"{LEVEL_LABELS[scope.level]} {names.get(scope.code, scope.code)}"


def last_load_caption() -> str:
    frame = query(quality.batches)
    if frame.is_empty():
        return "Aucun chargement."
    loaded: dt.datetime = frame["loaded_at"].max()
    return f"Dernier chargement : {formats.date_long(loaded.date())} ({len(frame)} fichiers chargés)."
