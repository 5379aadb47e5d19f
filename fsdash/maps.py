"""pydeck map builders shared by the pages: a départements base layer, a sites scatter sized by a column,
a view fitted to the data — with no basemap, colours from :mod:`fsdash.theme`.

No basemap: tiles come from a third-party service and nothing outside loads offline. pydeck 0.9
writes ``"mapStyle": "__MAP_STYLE__"`` when ``map_provider=None`` and the style is left at its
default, and Streamlit's frontend then draws no basemap; ``map_style=None`` would instead make
Streamlit pick a Carto basemap from the theme. :func:`deck` does the former, and the tests check it.

Every object carries a preformatted French ``infobulle`` (HTML) that the single tooltip template
shows, whatever the layer. Tooltips, radii and colours are computed by Polars expressions
(:func:`infobulle_expr`, :func:`radius_expr`, :mod:`fsdash.formats`' ``*_expr``), never by a Python
function called per row: Babel per row costs seconds on the whole network, and a Python callback
inside a Polars expression can deadlock the server. A map is never alone: the pages put a table next
to it.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from functools import cache

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


#: What :func:`html.escape` replaces (``&`` first, so that the others' ``&`` are not escaped twice).
_HTML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"))


def _escape_expr(text: pl.Expr) -> pl.Expr:
    """:func:`html.escape` as a Polars expression (literal replacements, no callback)."""
    text = text.cast(pl.String)
    for char, entity in _HTML_ESCAPES:
        text = text.str.replace_all(char, entity, literal=True)
    return text


def escaped_expr(value: pl.Expr) -> pl.Expr:
    """A value as tooltip text: HTML-escaped, ``–`` when null (a field of :func:`tooltip`)."""
    return _escape_expr(value).fill_null(formats.DASH)


def tooltip(title_field: str, lines: Sequence[tuple[str, str]] = ()) -> dict:
    """A deck tooltip whose French labels are written once, in the template, and whose values come
    from each object's fields (computed natively with :func:`escaped_expr`): for thousands of
    sites, the browser receives the values only, not the same labels again and again."""
    text = f"<b>{{{title_field}}}</b>" + "".join(f"<br/>{html.escape(label)} : {{{field}}}" for label, field in lines)
    return {"html": text, "style": TOOLTIP["style"]}


def infobulle_expr(title: pl.Expr, lines: Sequence[tuple[str, pl.Expr]] = ()) -> pl.Expr:
    """``<b>title</b><br/>label : value…`` for every row of a frame: ``title`` and each line's value are expressions
    (format numbers with ``formats.number_expr``…), labels are fixed French text. Compute it once with
    the data (``frame.with_columns(infobulle_expr(...).alias("infobulle"))``) and pass the column's
    name to :func:`sites_layer` (``tooltip_column``) or :func:`choropleth_layer`.

    Every piece is HTML-escaped (as :func:`html.escape`); a null title gives an empty title and
    a null value ``–``.
    """
    pieces = [pl.lit("<b>"), _escape_expr(title).fill_null(""), pl.lit("</b>")]
    for label, value in lines:
        pieces += [pl.lit(f"<br/>{html.escape(label)} : "), _escape_expr(value).fill_null(formats.DASH)]
    return pl.concat_str(pieces)


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation: pydeck indents by two spaces, which multiplies the size
    of polygon coordinates sent to the browser (4.5 MB instead of 1.2 MB for the départements and
    the whole network). ``st.pydeck_chart`` sends ``to_json()`` on every rerun: a deck lives in a
    cached section and never changes once built, so its JSON (≈100 ms for the whole network) is
    written once."""

    def to_json(self) -> str:
        written = self.__dict__.get("_json")
        if written is None:
            written = json.dumps(
                self, sort_keys=True, default=default_serialize, separators=(",", ":"), ensure_ascii=False
            )
            self.__dict__["_json"] = written
        return written


def deck(layers: Sequence[pdk.Layer], view: pdk.ViewState, *, tooltip: dict | None = None) -> pdk.Deck:
    """A deck with NO basemap (``map_provider=None``, style left to pydeck's sentinel) and the shared
    tooltip, serialised compactly (:class:`CompactDeck`)."""
    return CompactDeck(
        layers=list(layers), initial_view_state=view, map_provider=None, tooltip=TOOLTIP if tooltip is None else tooltip
    )


def in_metropole(lat: str = "latitude", lon: str = "longitude") -> pl.Expr:
    """True for points in metropolitan France (Corsica included): to frame a national map."""
    return pl.col(lat).is_between(*METROPOLE["lat"]) & pl.col(lon).is_between(*METROPOLE["lon"])


def _merc(lat: float) -> float:
    """Web Mercator's y of a latitude (radians of the projected plane)."""
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def view_state(
    lats: Sequence[float],
    lons: Sequence[float],
    *,
    width: int = 800,
    height: int = 520,
    padding: float = 0.08,
    max_zoom: float = 11.0,
) -> pdk.ViewState:
    """A view showing every point (Web Mercator maths), centred on their bounding box, for a map of
    ``width`` × ``height`` pixels. The zoom is rounded *down* (to the hundredth): rounding up could
    crop the edge the padding was meant to keep.

    With no point, metropolitan France.
    """
    points = [(a, o) for a, o in zip(lats, lons, strict=True) if a is not None and o is not None]
    if not points:
        points = [(METROPOLE["lat"][0], METROPOLE["lon"][0]), (METROPOLE["lat"][1], METROPOLE["lon"][1])]
    lat_lo, lat_hi = min(p[0] for p in points), max(p[0] for p in points)
    lon_lo, lon_hi = min(p[1] for p in points), max(p[1] for p in points)
    lon_span = max(lon_hi - lon_lo, 1e-6) * (1 + 2 * padding)
    y_span = max(_merc(lat_hi) - _merc(lat_lo), 1e-6) * (1 + 2 * padding)
    # deck.gl's world is 512 px wide at zoom 0.
    zoom_x = math.log2(width * 360 / (512 * lon_span))
    zoom_y = math.log2(height * 2 * math.pi / (512 * y_span))
    centre_y = (_merc(lat_hi) + _merc(lat_lo)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2)
    return pdk.ViewState(
        latitude=round(centre_lat, 5),
        longitude=round((lon_lo + lon_hi) / 2, 5),
        zoom=math.floor(max(min(zoom_x, zoom_y, max_zoom), 0.0) * 100) / 100,
        pitch=0,
        bearing=0,
    )


def visible_bounds(view: pdk.ViewState, width: int, height: int) -> tuple[float, float, float, float]:
    """``(lat_lo, lat_hi, lon_lo, lon_hi)`` a view shows on a map of ``width`` × ``height`` pixels:
    the inverse of :func:`view_state`'s maths, for tests and for checking a framing."""
    scale = 512 * 2**view.zoom  # pixels for the whole world
    half_lon = width / 2 * 360 / scale
    half_y = height / 2 * 2 * math.pi / scale
    centre_y = _merc(view.latitude)

    def lat_of(y: float) -> float:
        return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)

    return lat_of(centre_y - half_y), lat_of(centre_y + half_y), view.longitude - half_lon, view.longitude + half_lon


@cache
def departement_bounds(code: str) -> tuple[float, float, float, float]:
    """``(lat_lo, lat_hi, lon_lo, lon_hi)`` of a département's bundled polygon (every ring)."""
    feature = next(f for f in geography.departements_geojson()["features"] if f["properties"]["code"] == code)
    geometry = feature["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    lons = [p[0] for polygon in polygons for ring in polygon for p in ring]
    lats = [p[1] for polygon in polygons for ring in polygon for p in ring]
    return min(lats), max(lats), min(lons), max(lons)


def territory_view(
    codes: Sequence[str],
    lats: Sequence[float] = (),
    lons: Sequence[float] = (),
    *,
    width: int = 800,
    height: int = 520,
    padding: float = 0.04,
) -> pdk.ViewState:
    """A view fitted to the départements' polygons (their bounding box, zoom for the map's pixel
    size) and to any point given: a département's map shows the whole département — its coast,
    its corners without a site — not only the box of its sites."""
    corners_lat, corners_lon = list(lats), list(lons)
    for code in codes:
        lat_lo, lat_hi, lon_lo, lon_hi = departement_bounds(code)
        corners_lat += [lat_lo, lat_hi]
        corners_lon += [lon_lo, lon_hi]
    return view_state(corners_lat, corners_lon, width=width, height=height, padding=padding)


def _features(codes: Sequence[str] | None, source: dict | None = None) -> list[dict]:
    """Features of the bundled départements (or of ``source``), optionally only some codes.

    The bundled GeoJSON is shared and read-only: features are copied shallowly, never mutated.
    """
    collection = source if source is not None else geography.departements_geojson()
    wanted = None if codes is None else set(codes)
    return [f for f in collection["features"] if wanted is None or f["properties"].get("code") in wanted]


#: Decimals kept in the base layer's coordinates: 1e-3° is about 100 m, below what the simplified
#: polygons (0.005°, about 500 m) show, and it shortens the JSON sent to the browser.
COORDINATE_DECIMALS = 3
#: A map of the whole country draws départements a few pixels wide: its borders are simplified
#: further (0.02°, about 2 km), which divides the geometry sent to the browser by three or four.
NATIONAL_TOLERANCE = 0.02


@cache
def _rounded(code: str, tolerance: float = 0.0) -> dict:
    """The département's geometry, simplified to ``tolerance`` (degrees) when asked, coordinates
    rounded; computed once per process and shared read-only."""
    feature = next(f for f in geography.departements_geojson()["features"] if f["properties"]["code"] == code)
    geometry = feature["geometry"]
    if tolerance:
        import shapely

        shape = shapely.simplify(shapely.from_geojson(json.dumps(geometry)), tolerance, preserve_topology=True)
        geometry = json.loads(shapely.to_geojson(shape))
    return _round_geometry(geometry)


def _round_geometry(geometry: dict) -> dict:
    def walk(coords):
        if isinstance(coords[0], (int, float)):
            return [round(c, COORDINATE_DECIMALS) for c in coords]
        return [walk(c) for c in coords]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def departements_layer(
    codes: Sequence[str] | None = None,
    *,
    fill: str | None = None,
    line: str | None = None,
    fill_alpha: int = 255,
    layer_id: str = "departements",
) -> pdk.Layer:
    """The départements as a base layer (light grey fill, grey borders), optionally only ``codes``:
    geometry only (the layer is not pickable), coordinates rounded (:data:`COORDINATE_DECIMALS`)."""
    fill_rgb = theme.rgb(fill or theme.color("grey"), fill_alpha)
    line_rgb = theme.rgb(line or theme.categorical()[-1])
    tolerance = NATIONAL_TOLERANCE if codes is None else 0.0
    features = [
        {
            "type": "Feature",
            "geometry": _rounded(f["properties"]["code"], tolerance),
            "properties": {"code": f["properties"]["code"]},
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
    fields: Sequence[str] = (),
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

    Only the plotted fields travel to the browser: position, radius, colour and the tooltip: the
    ``fields`` a :func:`tooltip` template names, or else a text taken from ``tooltip_column``
    (computed with :func:`infobulle_expr`; default: the site's name).
    Sites without coordinates are left out. ``highlight`` ids are drawn in red Marianne on top.
    ``max_px`` (the largest circle's radius) defaults to :func:`auto_max_px` of the number of sites.
    """
    located = frame.filter(pl.col(lat).is_not_null() & pl.col(lon).is_not_null())
    max_px = auto_max_px(located.height) if max_px is None else max_px
    base = theme.rgb(color or theme.color("primary"), alpha)
    marked = theme.rgb(highlight_color or theme.color("red"), 255)
    if tooltip_column is not None:
        text = pl.col(tooltip_column)
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
            *([pl.col(f) for f in fields] if fields else [text.alias("infobulle")]),
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
