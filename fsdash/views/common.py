"""What every section needs besides its own figures: where the data comes from and up to when,
the catalogue's definitions, the demo flag, comparison labels and deltas, area names.

One place each, so that a section of another source never borrows the activity feed's date and
two pages never word a comparison differently.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from fsdash import formats
from fsdash.cache import cached
from fsdash.catalogue import load_catalogue
from fsdash.filters import COMPARISONS, Filters
from fsdash.metrics import activity, quality
from fsdash.metrics.scope import LEVEL_LABELS, Scope, directory
from fsdash.routes import route
from fsdash.warehouse.schema import get_meta

FEED_SOURCE = "reporting trimestriel des sites France Services (charte 3.1)"
REGISTRY_SOURCE = "référentiel des sites (liste des structures France Services)"
DELTA_SUFFIX = {"precedente": "vs période précédente", "annee": "sur un an", "nationale": "vs moyenne nationale"}


@cached(maxsize=8, kind="query")
def is_demo(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds the synthetic demo (every section says so)."""
    return get_meta(con, "nature") == "demo"


def feed_date(con: duckdb.DuckDBPyConnection) -> str:
    """« Données jusqu'au 3e trimestre 2026 »: the latest quarter of the activity feed."""
    quarters = activity.quarters(con)
    return f"Données jusqu'au {formats.quarter_long(quarters[-1])}" if quarters else "Aucune donnée d'activité"


def registry_date(con: duckdb.DuckDBPyConnection) -> str:
    """« Référentiel à jour au 1er août 2024 »: the latest site list imported, else the last load of sites."""
    day = quality.registry_date(con)
    return f"Référentiel à jour au {formats.date_long(day)}" if day else "Référentiel sans date de chargement"


def situation_date(day: dt.date) -> str:
    """« Situation au 28 novembre 2026 »: figures computed at a date (network, coverage, money due)."""
    return f"Situation au {formats.date_long(day)}"


def page_title(url_path: str) -> str:
    """The French title of a page, read from the routes table, so that a sentence sending the reader
    to a page names it as the navigation does."""
    return route(url_path).title


def ignored_filters_text(ignored: dict[str, str]) -> str | None:
    """« Sans effet sur cette page : **période** (mesurée à une date) ; **comparaison** (…). » — the
    filters of the shared bar a page does not honour, and why, so that a viewer never reads a figure
    as filtered when it is not. ``ignored`` maps a filter's French name to the reason."""
    if not ignored:
        return None
    parts = [f"**{name}** ({reason})" for name, reason in ignored.items()]
    return "Filtres sans effet sur cette page : " + " ; ".join(parts) + "."


def definitions(codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """One line per indicator, from the catalogue: « **Libellé** : définition (source) »."""
    catalogue = load_catalogue()
    lines = []
    for code in codes:
        table, column = code.split(".")
        col = catalogue.table(table).column(column)
        lines.append(f"**{col.label}** : {col.definition}" + (f" ({col.source})" if col.source else ""))
    return tuple(lines)


def period_text(first: dt.date | None, last: dt.date | None) -> str:
    """« T1 2025 » or « du T1 2025 au T4 2025 »."""
    if first is None or last is None:
        return ""
    if first == last:
        return formats.quarter_short(first)
    return f"du {formats.quarter_short(first)} au {formats.quarter_short(last)}"


def comparison_label(filters: Filters) -> str | None:
    """« Même période l'an dernier (T1 2024 – T4 2024) », « Moyenne nationale », or None."""
    compared = filters.compared()
    if compared is None:
        return None
    label = COMPARISONS[filters.comparison]
    if filters.comparison == "nationale":
        return label
    return f"{label} ({formats.quarter_short(compared.first)} – {formats.quarter_short(compared.last)})"


def percent_delta(value: float | None, reference: float | None, comparison: str) -> str | None:
    """A change against the comparison as a signed percentage, ASCII minus first so that the
    tile's arrow follows the direction (not only its colour)."""
    if value is None or not reference:
        return None
    return f"{formats.signed_percent(value / reference - 1, 1, minus='-')} {DELTA_SUFFIX[comparison]}"


def points_delta(value: float | None, reference: float | None, suffix: str | None = None) -> str | None:
    """A change of share in percentage points: « +1,2 pt » (ASCII minus for the arrow)."""
    if value is None or reference is None:
        return None
    gap = (value - reference) * 100
    text = ("+" if gap >= 0 else "-") + formats.number(abs(gap), 1) + f"{formats.NBSP}pt"
    return f"{text} {suffix}" if suffix else text


def chart_spec(chart) -> dict:
    """The Vega-Lite spec of an Altair chart, built once per section, ready for the screen.

    Altair's schema validation (≈40 ms a chart) is left to the tests, which validate every builder;
    the chart's data travel as Arrow IPC bytes (named datasets), as ``st.altair_chart`` would send
    them, so a rerun does not convert rows again.
    """
    spec = chart.to_dict(validate=False)
    datasets = spec.get("datasets")
    if datasets:
        spec["datasets"] = {name: _arrow_bytes(rows) for name, rows in datasets.items()}
    return spec


def _arrow_bytes(rows: list[dict]) -> bytes:
    table = pa.Table.from_pylist(rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    return sink.getvalue().to_pybytes()


def territory_note(wh, scope: Scope, lead: str = "Territoire mesuré") -> tuple[str, ...]:
    """« Territoire mesuré : Département 23 — Creuse (tous formats et porteurs). » when a section
    measures the scope's territory (:meth:`Scope.territory`) rather than the scope itself — a
    site's département, an area without the format and carrier filters; nothing otherwise.

    The area is named by the resolver's directory: a site's territory carries no name of its own.
    """
    area = scope.territory()
    if area == scope:
        return ()
    name = "France entière" if area.level == "national" else directory(wh).area_label(area.level, area.code)
    level = "" if area.level == "national" else f"{LEVEL_LABELS[area.level]} "
    return (f"{lead} : {level}{name} (tous formats et porteurs).",)


#: Said on a section listing sites when the viewer sees some départements' sites only in aggregate.
SITE_DETAIL_NOTE = (
    "Les sites des autres départements ne sont montrés qu'en agrégat (totaux, répartitions, par département) : "
    "leur détail site par site est réservé à leur comité départemental, au comité national et à l'équipe du "
    "programme."
)


def hides_site_detail(scope: Scope) -> bool:
    """Whether the scope's territory holds sites the viewer may not see one by one (a département's
    committee looking at France, a région or another département): the sections listing sites keep
    only the rows of :meth:`Scope.site_detail_filter` and say so (:func:`site_detail_notes`)."""
    if scope.detail_departements is None:
        return False
    if scope.level == "site":
        return not scope.shows_site_detail(scope.departement)
    shown = scope.departements
    return not shown or any(not scope.shows_site_detail(d) for d in shown)


def site_detail_notes(scope: Scope) -> tuple[str, ...]:
    """The French note of a section listing sites, when some were left out (else nothing)."""
    return (SITE_DETAIL_NOTE,) if hides_site_detail(scope) else ()
