"""pydeck map builders shared by the pages: a départements base layer, a sites scatter sized by a column,
a choropleth, a view fitted to the data — with no basemap, colours from :mod:`fsdash.theme`.

No basemap: tiles come from a third-party service and nothing outside loads offline. pydeck 0.9
writes ``"mapStyle": "__MAP_STYLE__"`` when ``map_provider=None`` and the style is left at its
default, and Streamlit's frontend then draws no basemap; ``map_style=None`` would instead make
Streamlit pick a Carto basemap from the theme. :func:`deck` does the former, and the tests check it.

Every object carries a preformatted French ``infobulle`` (HTML) that the single tooltip template
shows, whatever the layer. Tooltips, radii and colours are computed by Polars expressions
(:func:`infobulle_expr`, :func:`radius_expr`, :mod:`fsdash.formats`' ``*_expr``), never by a Python
function called per row: Babel per row costs seconds on the whole network, and a Python callback
inside a Polars expression can deadlock the server. A map is never alone: the pages put a table next
to it, and :func:`choropleth_layer` returns its legend as a frame for that purpose.
"""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from fsdash import formats, geography, theme

#: One tooltip for every layer: each object brings its own preformatted ``infobulle``.
TOOLTIP = {
    "html": "{infobulle}",
    "style": {
        "backgroundColor": "#FFFFFF",
        "color": "#3A3A3A",
        "fontSize": "0.8rem",
        "border": "1px solid #DDDDDD",
        "padding": "6px",
    },
}
#: Metropolitan France (with Corsica): the default view of a national map; overseas sites stay in the table.
METROPOLE = {"lat": (41.3, 51.1), "lon": (-5.2, 9.6)}
NO_DATA = "Pas de donnée"


def infobulle(title: str, lines: Sequence[tuple[str, str]] = ()) -> str:
    """``<b>title</b><br/>label : value…`` with every piece HTML-escaped (one object; for a frame's
    rows, :func:`infobulle_expr`)."""
    parts = [f"<b>{html.escape(title)}</b>"]
    parts += [f"{html.escape(label)} : {html.escape(value)}" for label, value in lines]
    return "<br/>".join(parts)


#: What :func:`html.escape` replaces (``&`` first, so that the others' ``&`` are not escaped twice).
_HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"))


def _escape_expr(text: pl.Expr) -> pl.Expr:
    """:func:`html.escape` as a Polars expression (literal replacements, no callback)."""
    text = text.cast(pl.String)
    for char, entity in _HTML_ESCAPES:
        text = text.str.replace_all(char, entity, literal=True)
    return text


def infobulle_expr(title: pl.Expr, lines: Sequence[tuple[str, pl.Expr]] = ()) -> pl.Expr:
    """:func:`infobulle` for every row of a frame: ``title`` and each line's value are expressions
    (format numbers with ``formats.number_expr``…), labels are fixed French text. Compute it once with
    the data (``frame.with_columns(infobulle_expr(...).alias("infobulle"))``) and pass the column's
    name to :func:`sites_layer` (``tooltip_column``) or :func:`choropleth_layer`.

    Every piece is HTML-escaped as :func:`infobulle` escapes it; a null title gives an empty title and
    a null value ``–``.
    """
    pieces = [pl.lit("<b>"), _escape_expr(title).fill_null(""), pl.lit("</b>")]
    for label, value in lines:
        pieces += [pl.lit(f"<br/>{html.escape(label)} : "), _escape_expr(value).fill_null(formats.DASH)]
    return pl.concat_str(pieces)


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation: pydeck indents by two spaces, which multiplies the size
    of polygon coordinates sent to the browser (4.5 MB instead of 1.2 MB for the départements and
    the whole network). ``st.pydeck_chart`` sends ``to_json()``."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def deck(layers: Sequence[pdk.Layer], view: pdk.ViewState, *, tooltip: dict | None = None) -> pdk.Deck:
    """A deck with NO basemap (``map_provider=None``, style left to pydeck's sentinel) and the shared
    tooltip, serialised compactly (:class:`CompactDeck`)."""
    return CompactDeck(
        layers=list(layers), initial_view_state=view, map_provider=None, tooltip=TOOLTIP if tooltip is None else tooltip
    )


def in_metropole(lat: str = "latitude", lon: str = "longitude") -> pl.Expr:
    """True for points in metropolitan France (Corsica included): to frame a national map."""
    return pl.col(lat).is_between(*METROPOLE["lat"]) & pl.col(lon).is_between(*METROPOLE["lon"])


def view_state(
    lats: Sequence[float],
    lons: Sequence[float],
    *,
    width: int = 800,
    height: int = 520,
    padding: float = 0.08,
    max_zoom: float = 11.0,
) -> pdk.ViewState:
    """A view showing every point (Web Mercator maths), centred on their bounding box.

    With no point, metropolitan France.
    """
    points = [(a, o) for a, o in zip(lats, lons, strict=True) if a is not None and o is not None]
    if not points:
        points = [(METROPOLE["lat"][0], METROPOLE["lon"][0]), (METROPOLE["lat"][1], METROPOLE["lon"][1])]
    lat_lo, lat_hi = min(p[0] for p in points), max(p[0] for p in points)
    lon_lo, lon_hi = min(p[1] for p in points), max(p[1] for p in points)

    def merc(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_span = max(lon_hi - lon_lo, 1e-6) * (1 + 2 * padding)
    y_span = max(merc(lat_hi) - merc(lat_lo), 1e-6) * (1 + 2 * padding)
    # deck.gl's world is 512 px wide at zoom 0.
    zoom_x = math.log2(width * 360 / (512 * lon_span))
    zoom_y = math.log2(height * 2 * math.pi / (512 * y_span))
    centre_y = (merc(lat_hi) + merc(lat_lo)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2)
    return pdk.ViewState(
        latitude=round(centre_lat, 5),
        longitude=round((lon_lo + lon_hi) / 2, 5),
        zoom=round(max(min(zoom_x, zoom_y, max_zoom), 0.0), 2),
        pitch=0,
        bearing=0,
    )


def _features(codes: Sequence[str] | None, source: dict | None = None) -> list[dict]:
    """Features of the bundled départements (or of ``source``), optionally only some codes.

    The bundled GeoJSON is shared and read-only: features are copied shallowly, never mutated.
    """
    collection = source if source is not None else geography.departements_geojson()
    wanted = None if codes is None else set(codes)
    return [f for f in collection["features"] if wanted is None or f["properties"].get("code") in wanted]


def departements_layer(
    codes: Sequence[str] | None = None,
    *,
    fill: str | None = None,
    line: str | None = None,
    fill_alpha: int = 255,
    layer_id: str = "departements",
) -> pdk.Layer:
    """The départements as a base layer (light grey fill, grey borders), optionally only ``codes``.

    Each feature's tooltip gives its name and code.
    """
    fill_rgb = theme.rgb(fill or theme.color("grey"), fill_alpha)
    line_rgb = theme.rgb(line or theme.categorical()[-1])
    features = [
        {
            "type": "Feature",
            "geometry": f["geometry"],
            "properties": f["properties"],
            "infobulle": infobulle(f"{f['properties'].get('nom', '')} ({f['properties'].get('code', '')})"),
        }
        for f in _features(codes)
    ]
    return pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": features},
        id=layer_id,
        stroked=True,
        filled=True,
        get_fill_color=fill_rgb,
        get_line_color=line_rgb,
        line_width_min_pixels=0.6,
        pickable=False,
    )


def radii(values: Sequence[float | None], *, max_px: float = 18.0, min_px: float = 1.5) -> list[float]:
    """Radii proportional to the square root of the values (so a circle's AREA is proportional to the
    value), the largest value getting ``max_px``; never below ``min_px`` so small sites stay visible.
    On a frame's column, :func:`radius_expr`."""
    clean = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v)) and v > 0]
    top = max(clean) if clean else 0
    out = []
    for v in values:
        if not top or v is None or (isinstance(v, float) and math.isnan(v)) or v <= 0:
            out.append(min_px)
        else:
            out.append(round(max(max_px * math.sqrt(v / top), min_px), 2))
    return out


def radius_expr(value: pl.Expr | str, *, max_px: float = 18.0, min_px: float = 1.5) -> pl.Expr:
    """:func:`radii` as a Polars expression over a whole column (the largest value of the column gets
    ``max_px``). Rounded to the hundredth of a pixel by Polars, which may differ from Python's round()
    by 0.01 px."""
    v = pl.col(value) if isinstance(value, str) else value
    shown = v.is_not_null() & v.is_not_nan() & (v > 0)
    top = v.filter(shown).max()
    radius = ((v / top).sqrt() * max_px).clip(lower_bound=min_px).round(2)  # named after the value
    return pl.when(shown).then(radius).otherwise(pl.lit(min_px, dtype=pl.Float64)).cast(pl.Float64)


def auto_max_px(n: int) -> float:
    """Largest circle radius for ``n`` sites: about 8 px for the whole network, 20 px for a few dozen."""
    return round(min(max(60 / max(n, 1) ** 0.25, 6.0), 20.0), 1)


def sites_layer(
    frame: pl.DataFrame,
    size: str,
    *,
    lat: str = "latitude",
    lon: str = "longitude",
    tooltip_column: str | None = None,
    tooltip: Callable[[dict], str] | None = None,
    color: str | None = None,
    highlight: Sequence[str] = (),
    highlight_color: str | None = None,
    id_column: str = "site_id",
    max_px: float | None = None,
    min_px: float = 1.5,
    alpha: int = 170,
    layer_id: str = "sites",
) -> pdk.Layer:
    """Sites as circles whose area is proportional to ``size`` (see :func:`radii`).

    Only the plotted fields travel to the browser: position, radius, colour and the tooltip text,
    taken from ``tooltip_column`` (computed with :func:`infobulle_expr`; default: the site's name).
    Sites without coordinates are left out. ``highlight`` ids are drawn in red Marianne on top.
    ``max_px`` (the largest circle's radius) defaults to :func:`auto_max_px` of the number of sites.

    ``tooltip`` (a function of a row dict) is the former way, called once per site in Python: kept
    until the pages have moved to ``tooltip_column``; do not use it in new code.
    """
    located = frame.filter(pl.col(lat).is_not_null() & pl.col(lon).is_not_null())
    max_px = auto_max_px(located.height) if max_px is None else max_px
    base = theme.rgb(color or theme.color("primary"), alpha)
    marked = theme.rgb(highlight_color or theme.color("red"), 255)
    if tooltip_column is not None:
        text = pl.col(tooltip_column)
    elif tooltip is not None:  # legacy: one Python call per site, outside any Polars expression
        text = pl.Series("infobulle", [tooltip(row) for row in located.to_dicts()], dtype=pl.String)
    else:
        names = [pl.col(c).cast(pl.String) for c in ("nom", id_column) if c in located.columns]
        text = infobulle_expr(pl.coalesce(*names) if names else pl.lit(""))
    hit = pl.col(id_column).is_in(list(highlight)) if id_column in located.columns else pl.lit(False)
    data = (
        located.select(
            pl.col(lon).alias("lon"),
            pl.col(lat).alias("lat"),
            radius_expr(size, max_px=max_px, min_px=min_px).alias("r"),
            pl.when(hit).then(pl.lit(marked)).otherwise(pl.lit(base)).alias("c"),
            text.alias("infobulle") if isinstance(text, pl.Expr) else pl.lit(text).alias("infobulle"),
            hit.fill_null(False).alias("_hit"),
        )
        # small circles drawn over big ones, highlighted sites last (on top); ties keep the frame's order
        .sort(["_hit", "r"], descending=[False, True], maintain_order=True)
        .drop("_hit")
    )
    # "'pixels'" is quoted: pydeck turns a bare string into an accessor expression.
    return pdk.Layer(
        "ScatterplotLayer",
        data.to_dicts(),
        id=layer_id,
        get_position=["lon", "lat"],
        get_radius="r",
        radius_units="'pixels'",
        get_fill_color="c",
        get_line_color=[255, 255, 255, 200],
        stroked=True,
        line_width_min_pixels=0.5,
        pickable=True,
    )


def class_breaks(values: Sequence[float | None], classes: int = 5) -> list[float]:
    """Quantile breaks (``classes − 1`` inner thresholds) for a choropleth; duplicates and thresholds at
    the minimum (which would leave a class empty) are removed."""
    clean = pl.Series([v for v in values if v is not None], dtype=pl.Float64).drop_nans()
    if clean.is_empty():
        return []
    cuts = [float(clean.quantile(i / classes, interpolation="linear")) for i in range(1, classes)]
    return sorted(c for c in set(cuts) if c > clean.min())


def distinct_decimals(cuts: Sequence[float], max_decimals: int = 3) -> int:
    """The fewest decimals that keep the class bounds distinct and each bound within 5 % of the smallest
    gap between bounds (so 2.8 is not written 3)."""
    ordered = sorted(cuts)
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b > a]
    tolerance = 0.05 * (min(gaps) if gaps else max((abs(c) for c in ordered), default=1.0) or 1.0)
    for candidate in range(max_decimals + 1):
        texts = [formats.number(c, candidate) for c in ordered]
        if len(set(texts)) == len(texts) and all(abs(round(c, candidate) - c) <= tolerance for c in ordered):
            return candidate
    return max_decimals


def distinct_labels(cuts: Sequence[float], max_decimals: int = 3) -> Callable[[float], str]:
    """A French number formatter with :func:`distinct_decimals` decimals, for a legend's few bounds."""
    decimals = distinct_decimals(cuts, max_decimals)
    return lambda v: formats.number(v, decimals)


def _palette(n: int) -> list[str]:
    ramp = theme.sequential()
    if n <= 1:
        return [ramp[len(ramp) // 2]]
    return [ramp[round(1 + i * (len(ramp) - 2) / (n - 1))] for i in range(n)]


def choropleth_layer(
    frame: pl.DataFrame,
    key: str,
    value: str,
    *,
    breaks: Sequence[float] | None = None,
    classes: int = 5,
    label: Callable[[float], str] | None = None,
    tooltip_column: str | None = None,
    tooltip: Callable[[dict], str] | None = None,
    geojson: dict | None = None,
    codes: Sequence[str] | None = None,
    layer_id: str = "choropleth",
) -> tuple[pdk.Layer, pl.DataFrame]:
    """Areas (départements by default, or ``geojson`` features with a ``code`` property) coloured by
    class of ``value`` from ``frame`` joined on ``key``.

    Classes: ``breaks`` (inner thresholds, ascending) or quantiles of the values; colours from the
    theme's sequential ramp, areas without a value in the theme's grey. Returns the layer and its
    legend as a frame ``classe``, ``de``, ``a``, ``couleur``, ``zones`` (the text alternative).
    Only the areas in ``codes`` (default: all) are drawn.

    Each area's tooltip: ``tooltip_column`` of its row (computed with :func:`infobulle_expr`), else its
    name and value, written natively with the legend's decimals. ``label`` (a function of a bound) and
    ``tooltip`` (a function of a row dict) are the former, per-row Python way: kept for callers that
    still pass them, do not use them in new code.
    """
    rows = frame.unique(subset=key, keep="last", maintain_order=True)  # one row per area, the last wins
    cuts = list(breaks) if breaks is not None else class_breaks(rows[value].to_list(), classes)
    decimals = distinct_decimals(cuts)
    legend_label = label or (lambda v: formats.number(v, decimals))
    palette = _palette(len(cuts) + 1)
    grey = theme.color("grey")
    source = _features(codes, geojson)
    areas = pl.DataFrame(
        {
            "_code": [f["properties"].get("code") for f in source],
            "_nom": [f["properties"].get("nom") for f in source],
        },
        schema={"_code": pl.String, "_nom": pl.String},
    )
    picked = [pl.col(key).cast(pl.String).alias("_code"), pl.col(value).alias("_valeur")]
    if tooltip_column is not None:
        picked.append(pl.col(tooltip_column).alias("_infobulle"))
    joined = areas.join(rows.select(picked), on="_code", how="left", nulls_equal=False, maintain_order="left")
    v = pl.col("_valeur")
    classed = v.is_not_null() & v.is_not_nan()
    klass = pl.sum_horizontal([(v >= c).cast(pl.Int64) for c in cuts]) if cuts else pl.lit(0, dtype=pl.Int64)
    joined = joined.with_columns(pl.when(classed).then(klass).alias("_classe"))
    if label is None:
        shown = formats.number_expr(v, decimals)
    else:  # legacy: one Python call per area, outside any Polars expression
        shown = pl.Series([label(x) if k is not None else None for x, k in joined.select(v, "_classe").iter_rows()])
        shown = pl.lit(shown, dtype=pl.String)
    default = infobulle_expr(
        pl.coalesce("_nom", "_code") + " (" + pl.col("_code").fill_null("") + ")",
        [(value, pl.when(pl.col("_classe").is_not_null()).then(shown).otherwise(pl.lit(NO_DATA)))],
    )
    text = pl.coalesce("_infobulle", default) if tooltip_column is not None else default
    joined = joined.with_columns(text.alias("_texte"))
    texts = joined["_texte"].to_list()
    if tooltip is not None:  # legacy
        by_key = {r[key]: r for r in rows.to_dicts()}
        texts = [tooltip(by_key[c]) if c in by_key else t for c, t in zip(joined["_code"], texts, strict=True)]
    fills = [theme.rgb(c) for c in palette]
    classes_of = joined["_classe"].to_list()
    features = [
        {
            "type": "Feature",
            "geometry": f["geometry"],
            "properties": f["properties"],
            "fill": fills[k] if k is not None else theme.rgb(grey),
            "infobulle": t,
        }
        for f, k, t in zip(source, classes_of, texts, strict=True)
    ]
    counts = [classes_of.count(i) for i in range(len(palette))]
    missing = classes_of.count(None)
    bounds = [None, *cuts, None]
    legend = pl.DataFrame(
        {
            "classe": [
                (
                    f"moins de {legend_label(bounds[i + 1])}"
                    if bounds[i] is None
                    else f"{legend_label(bounds[i])} et plus"
                    if bounds[i + 1] is None
                    else f"de {legend_label(bounds[i])} à moins de {legend_label(bounds[i + 1])}"
                )
                for i in range(len(palette))
            ]
            + ([NO_DATA] if missing else []),
            "de": [bounds[i] for i in range(len(palette))] + ([None] if missing else []),
            "a": [bounds[i + 1] for i in range(len(palette))] + ([None] if missing else []),
            "couleur": palette + ([grey] if missing else []),
            "zones": counts + ([missing] if missing else []),
        },
        schema={"classe": pl.String, "de": pl.Float64, "a": pl.Float64, "couleur": pl.String, "zones": pl.Int64},
    )
    if len(palette) == 1 and not cuts:
        legend = legend.with_columns(
            pl.when(pl.col("classe") != NO_DATA)
            .then(pl.lit("toutes les valeurs"))
            .otherwise(pl.col("classe"))
            .alias("classe")
        )
    layer = pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": features},
        id=layer_id,
        stroked=True,
        filled=True,
        get_fill_color="fill",
        get_line_color=[255, 255, 255],
        line_width_min_pixels=0.6,
        pickable=True,
    )
    return layer, legend


def layer_size(layer: pdk.Layer) -> int:
    """Number of objects a layer sends to the browser (features or points)."""
    data: Any = layer.data
    if isinstance(data, dict):
        return len(data.get("features", []))
    return len(data)
