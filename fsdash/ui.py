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
from fsdash.catalogue import load_catalogue
from fsdash.filters import COMPARISONS, Filters, parse_quarter_code
from fsdash.metrics import activity, network, quality
from fsdash.metrics.scope import NATIONAL, UNKNOWN_CARRIER, Scope
from fsdash.warehouse.schema import get_meta
from fsdash.warehouse.store import default_db_path, reader, version

LEVEL_LABELS = {"national": "France entière", "region": "Région", "departement": "Département", "site": "Site"}


def db_path() -> Path:
    return default_db_path()


def warehouse_version() -> tuple[int, int, int]:
    return version(db_path())


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _cached(module: str, name: str, db: str, wh_version: tuple, args: tuple, kwargs: tuple = ()) -> Any:
    import importlib

    fn = getattr(importlib.import_module(module), name)
    with reader(Path(db)) as con:
        return fn(con, *args, **dict(kwargs))


def query(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a metric function on a read-only connection, cached per warehouse version."""
    return _cached(fn.__module__, fn.__name__, str(db_path()), warehouse_version(), args, tuple(sorted(kwargs.items())))


def is_demo() -> bool:
    return query(_nature) == "demo"


def _nature(con) -> str | None:
    return get_meta(con, "nature")


def demo_banner() -> None:
    if is_demo():
        st.warning(
            "**Données de démonstration** — chiffres synthétiques générés par fsdash "
            "(python -m fsdash demo), calés sur les ordres de grandeur publics du programme.",
            icon=":material/science:",
        )


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


def _sites_of(con, departement: str) -> pl.DataFrame:
    return con.sql("SELECT site_id, nom FROM sites WHERE departement = ? ORDER BY nom", params=[departement]).pl()


def _site_departement(con, site_id: str) -> str | None:
    rows = con.sql("SELECT departement FROM sites WHERE site_id = ?", params=[site_id]).fetchall()
    return rows[0][0] if rows else None


def _index(options: list, wanted: object) -> int:
    return options.index(wanted) if wanted in options else 0


def _scope_widget(params) -> Scope:
    levels = list(LEVEL_LABELS)
    level = st.sidebar.selectbox(
        "Périmètre",
        levels,
        format_func=LEVEL_LABELS.get,
        key="scope_level",
        index=_index(levels, params.get("perimetre", "national")),
    )
    if level == "national":
        return NATIONAL
    wanted = params.get("code")
    if level == "site":
        level_for_list, site_wanted = "departement", wanted
        wanted = query(_site_departement, wanted) if wanted else None
    else:
        level_for_list, site_wanted = level, None
    options = _scope_options(level_for_list)
    codes = list(options)
    code = st.sidebar.selectbox(
        LEVEL_LABELS[level_for_list],
        codes,
        format_func=options.get,
        key=f"scope_code_{level_for_list}",
        index=_index(codes, wanted),
    )
    if level != "site":
        return Scope(level, code)
    sites = query(_sites_of, code)
    ids = sites["site_id"].to_list()
    names = dict(sites.iter_rows())
    site = st.sidebar.selectbox(
        "Site", ids, format_func=lambda i: f"{names[i]} ({i})", key="scope_site", index=_index(ids, site_wanted)
    )
    return Scope("site", site)


def _list_param(params, key: str, allowed: list[str]) -> list[str]:
    return [v for v in (params.get(key) or "").split(",") if v in allowed]


def filter_bar() -> Filters:
    """The shared filter bar (sidebar), mirrored in the URL so that a link reproduces the view.

    Scope (France, région, département, site), quarter range, site formats and carriers, and
    the comparison. Widget keys are prefixed ``scope_``/``filtre_`` and live in session state,
    so every page of the session sees the same selection.
    """
    params = st.query_params
    scope = _scope_widget(params)
    catalogue = load_catalogue()
    fmt_dim, carrier_dim = catalogue.dimensions["format"], catalogue.dimensions["porteur"]
    carrier_labels = {**{v.code: v.label for v in carrier_dim.values}, UNKNOWN_CARRIER: "Non renseigné"}
    with st.sidebar.expander(
        "Format et porteur des sites", expanded=bool(params.get("formats") or params.get("porteurs"))
    ):
        chosen_formats = st.multiselect(
            "Format",
            fmt_dim.codes,
            format_func=fmt_dim.label_of,
            key="filtre_formats",
            default=_list_param(params, "formats", fmt_dim.codes),
            placeholder="Tous les formats",
        )
        chosen_carriers = st.multiselect(
            "Porteur",
            list(carrier_labels),
            format_func=carrier_labels.get,
            key="filtre_porteurs",
            placeholder="Tous les porteurs",
            default=_list_param(params, "porteurs", list(carrier_labels)),
        )
    scope = Scope(scope.level, scope.code, tuple(chosen_formats), tuple(chosen_carriers))
    quarters = query(activity.quarters)
    first = last = None
    if quarters:
        wanted = (parse_quarter_code(params.get("du")), parse_quarter_code(params.get("au")))
        default = (
            wanted[0] if wanted[0] in quarters else quarters[0],
            wanted[1] if wanted[1] in quarters else quarters[-1],
        )
        if len(quarters) > 1:
            first, last = st.sidebar.select_slider(
                "Période", options=quarters, value=default, format_func=formats.quarter_short, key="filtre_periode"
            )
        else:
            first = last = quarters[0]
    comparisons = list(COMPARISONS)
    comparison = st.sidebar.selectbox(
        "Comparaison",
        comparisons,
        format_func=COMPARISONS.get,
        key="filtre_comparaison",
        index=_index(comparisons, params.get("comparaison", "aucune")),
    )
    filters = Filters(scope, first, last, comparison)
    wanted_params = filters.to_params()
    if {k: params.get(k) for k in set(params) | set(wanted_params)} != wanted_params:
        params.from_dict(wanted_params)
    return filters


def territory(scope: Scope) -> Scope:
    """The territory a scope lies in (see :func:`fsdash.metrics.network.territory_of`)."""
    return query(network.territory_of, scope)


def current_filters() -> Filters:
    return st.session_state.get("filters", Filters())


def scope_title(scope: Scope) -> str:
    if scope.level == "national":
        title = "France entière"
    elif scope.level == "site":
        title = "Site " + query(_site_name, scope.code)
    else:
        table = geography.regions() if scope.level == "region" else geography.departements()
        names = dict(table.select("code", "nom").iter_rows())
        title = f"{LEVEL_LABELS[scope.level]} {names.get(scope.code, scope.code)}"
    narrowing = []
    if scope.formats:
        dim = load_catalogue().dimensions["format"]
        narrowing.append("formats : " + ", ".join(dim.label_of(f) for f in scope.formats))
    if scope.carriers:
        dim = load_catalogue().dimensions["porteur"]
        narrowing.append(
            "porteurs : "
            + ", ".join(dim.label_of(c) if c != UNKNOWN_CARRIER else "non renseigné" for c in scope.carriers)
        )
    return title + (f" ({' ; '.join(narrowing)})" if narrowing else "")


def _site_name(con, site_id: str) -> str:
    rows = con.sql("SELECT nom FROM sites WHERE site_id = ?", params=[site_id]).fetchall()
    return rows[0][0] if rows else site_id


def last_load_caption() -> str:
    frame = query(quality.batches)
    if frame.is_empty():
        return "Aucun chargement."
    loaded: dt.datetime = frame["loaded_at"].max()
    return f"Dernier chargement : {formats.date_long(loaded.date())} ({len(frame)} fichiers chargés)."


def indicator_definitions(codes: list[str]) -> str:
    """One line per indicator, from the catalogue: ``table.colonne`` codes -> 'Libellé : définition (source)'."""
    catalogue = load_catalogue()
    lines = []
    for code in codes:
        table, column = code.split(".")
        col = catalogue.table(table).column(column)
        lines.append(f"**{col.label}** : {col.definition}" + (f" ({col.source})" if col.source else ""))
    return "  \n".join(lines)


def latest_data_date() -> str:
    quarters = query(activity.quarters)
    return formats.quarter_long(quarters[-1]) if quarters else "aucune donnée d'activité"


def chart_block(
    key: str,
    chart,
    table: pl.DataFrame,
    *,
    indicators: list[str] = (),
    source: str,
    note: str | None = None,
    show_table: bool = True,
) -> None:
    """A chart with what every chart owes its reader (RGAA, committees, programme team).

    Its data table, CSV (French Excel) and XLSX downloads, the catalogue definition of each
    indicator, the source and date of the latest data; the demo flag if demo data is shown;
    a clear empty state when the filters leave nothing.
    """
    from fsdash import exports

    if table.is_empty():
        st.info("Aucune donnée pour ce filtre.")
        return
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    caption = []
    if indicators:
        caption.append(indicator_definitions(list(indicators)))
    caption.append(
        f"Source : {source}. Données jusqu'au {latest_data_date()}."
        + (" **Données de démonstration.**" if is_demo() else "")
    )
    if note:
        caption.append(note)
    st.caption("  \n".join(caption))
    with st.expander("Tableau et téléchargements" if show_table else "Téléchargements"):
        if show_table:
            st.dataframe(table, hide_index=True)
        cols = st.columns(2)
        # callables: the files are built when the viewer clicks, not on every redraw
        cols[0].download_button(
            "Télécharger (CSV)",
            lambda: exports.csv_bytes(table),
            file_name=f"{key}.csv",
            mime="text/csv",
            key=f"{key}_csv",
            on_click="ignore",
        )
        cols[1].download_button(
            "Télécharger (XLSX)",
            lambda: exports.xlsx_bytes(table),
            file_name=f"{key}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{key}_xlsx",
            on_click="ignore",
        )


def page_header(title: str) -> Filters:
    """Title, demo flag and the scope and period in words; stops with a clear message when the
    warehouse holds no activity yet (pages of the quarterly feed)."""
    filters = current_filters()
    st.title(title)
    demo_banner()
    if filters.first is None:
        st.info("Aucune donnée d'activité : chargez un reporting trimestriel (python -m fsdash ingest).")
        st.stop()
    period = (
        formats.quarter_short(filters.first)
        if filters.first == filters.last
        else f"du {formats.quarter_short(filters.first)} au {formats.quarter_short(filters.last)}"
    )
    st.caption(f"{scope_title(filters.scope)} — {period}")
    return filters


def load_files(blobs: list[tuple[str, bytes]]) -> tuple[int, list[str]]:
    """Load uploaded files through the same ingest as the command line: (exit code, French report).

    Uploaded files are real data: into a demo warehouse they are refused rather than mixed with
    synthetic data. The new warehouse version clears every cached query.
    """
    from fsdash.ingest import IngestRefused, ingest_blobs, report_lines
    from fsdash.warehouse.store import writer

    try:
        with writer(db_path()) as con:
            result = ingest_blobs(con, blobs, nature="reel")
    except IngestRefused as exc:
        return 2, exc.messages
    return result.exit_code, report_lines(result)
