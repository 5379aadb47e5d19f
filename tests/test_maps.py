"""Map builders (fsdash.maps): no basemap, the layers and what they send to the browser."""

from __future__ import annotations

import html
import json
import math

import polars as pl
import pytest

from fsdash import formats, geography, maps, theme

SITES = pl.DataFrame(
    {
        "site_id": ["A", "B", "C", "D"],
        "nom": ["Site <A>", "Site B", "Site C", "Sans coordonnées"],
        "latitude": [46.0, 47.0, 45.0, None],
        "longitude": [2.0, 3.0, 4.0, None],
        "demandes": [400.0, 100.0, 0.0, 50.0],
        "extra": ["not sent", "not sent", "not sent", "not sent"],
    }
)


def _json(deck) -> dict:
    return json.loads(deck.to_json())


def test_deck_has_no_basemap():
    deck = maps.deck([maps.departements_layer(["01"])], maps.view_state([46.0], [5.0]))
    spec = _json(deck)
    # pydeck's sentinel, which Streamlit's frontend reads as "no basemap"; None would get Carto's.
    assert spec["mapStyle"] == "__MAP_STYLE__"
    assert "mapProvider" not in spec
    text = deck.to_json()
    assert "cartocdn" not in text and "mapbox" not in text and "googleapis" not in text
    assert spec["views"] == [{"@@type": "MapView", "controller": True}]


def test_deck_uses_the_shared_tooltip():
    deck = maps.deck([], maps.view_state([], []))
    assert deck._tooltip == maps.TOOLTIP and maps.TOOLTIP["html"] == "{infobulle}"


def test_a_tooltip_template_writes_its_labels_once():
    template = maps.tooltip("n", [("Département <dép.>", "d"), ("Demandes", "v")])
    assert template["html"] == "<b>{n}</b><br/>Département &lt;dép.&gt; : {d}<br/>Demandes : {v}"
    layer = maps.sites_layer(SITES, "demandes", fields=("nom",))
    assert {k for p in layer.data for k in p} == {"lon", "lat", "r", "c", "nom"}


def test_departements_layer_all_or_some():
    every = maps.departements_layer()
    features = geography.departements_geojson()["features"]
    assert len(every.data["features"]) == len(features) == geography.departements().height
    some = maps.departements_layer(["01", "2A"], layer_id="base")
    codes = sorted(f["properties"]["code"] for f in some.data["features"])
    assert codes == ["01", "2A"]
    spec = _json(maps.deck([some], maps.view_state([46.0], [5.0])))["layers"][0]
    assert spec["@@type"] == "GeoJsonLayer" and spec["id"] == "base" and spec["pickable"] is False
    assert spec["getFillColor"] == theme.rgb(theme.color("grey"))
    assert set(some.data["features"][0]) == {"type", "geometry", "properties"}  # no tooltip: not pickable
    points = [p for f in every.data["features"] for ring in _rings(f["geometry"]) for p in ring]
    assert all(round(c, 3) == c for p in points for c in p)  # about 100 m: enough for a map
    national = sum(len(r) for r in _rings(every.data["features"][0]["geometry"]))
    alone = sum(len(r) for r in _rings(maps.departements_layer(["01"]).data["features"][0]["geometry"]))
    assert national < alone  # the whole country is drawn with simpler borders


def _rings(geometry: dict) -> list:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [ring for polygon in polygons for ring in polygon]


def infobulle(title: str, lines=()) -> str:
    """The reference tooltip text (html.escape on every piece), which the expressions must equal."""
    parts = [f"<b>{html.escape(title)}</b>"]
    parts += [f"{html.escape(label)} : {html.escape(value)}" for label, value in lines]
    return "<br/>".join(parts)


def test_layers_never_mutate_the_shared_geography():
    maps.departements_layer(["01"])
    for feature in geography.departements_geojson()["features"]:
        assert "infobulle" not in feature and "fill" not in feature
        assert set(feature["properties"]) == {"code", "nom", "region"}


def test_sites_layer_sends_only_plotted_fields():
    layer = maps.sites_layer(SITES, "demandes", max_px=12, highlight=["B"])
    assert len(layer.data) == 3  # the site without coordinates is left out (it stays in the table)
    for point in layer.data:
        assert set(point) == {"lon", "lat", "r", "c", "infobulle"}
    by_name = {p["infobulle"]: p for p in layer.data}
    assert by_name["<b>Site &lt;A&gt;</b>"]["r"] == 12  # names are HTML-escaped
    assert by_name["<b>Site B</b>"]["c"] == theme.rgb(theme.color("red"))
    assert by_name["<b>Site C</b>"]["c"] == theme.rgb(theme.color("primary"), 170)
    assert layer.data[-1]["infobulle"] == "<b>Site B</b>"  # the highlighted site is drawn last, on top
    spec = _json(maps.deck([layer], maps.view_state(SITES["latitude"], SITES["longitude"])))["layers"][0]
    assert spec["radiusUnits"] == "pixels"  # a literal, not an accessor expression
    assert spec["getRadius"] == "@@=r" and spec["getPosition"] == "@@=[lon, lat]" and spec["pickable"] is True
    assert "extra" not in json.dumps(spec)


def test_sites_layer_tooltip_and_default_size():
    tips = SITES.with_columns(maps.infobulle_expr(pl.col("nom"), [("Demandes", pl.lit("400"))]).alias("t"))
    layer = maps.sites_layer(tips, "demandes", tooltip_column="t")
    assert layer.data[0]["infobulle"] == "<b>Site &lt;A&gt;</b><br/>Demandes : 400"
    assert max(p["r"] for p in layer.data) == maps.auto_max_px(3)
    assert maps.auto_max_px(2900) < maps.auto_max_px(300) < maps.auto_max_px(30) <= 20


def test_view_state_fits_the_points():
    view = maps.view_state([41.4, 51.0], [-4.8, 8.2], width=600, height=520)
    assert view.latitude == pytest.approx(46.4, abs=0.6) and view.longitude == pytest.approx(1.7)
    assert 4.0 < view.zoom < 5.5  # metropolitan France in a 600 × 520 map
    # the span shown (deck.gl: 512 px per 360° at zoom 0) covers the points
    assert 600 * 360 / (512 * 2**view.zoom) >= 8.2 + 4.8
    close = maps.view_state([46.20, 46.25], [5.20, 5.30])
    assert close.zoom > 9
    assert maps.view_state([46.2], [5.2]).zoom == 11  # a single point: capped zoom
    empty = maps.view_state([], [])
    assert 3 < empty.zoom < 7 and math.isclose(empty.longitude, sum(maps.METROPOLE["lon"]) / 2)


def test_in_metropole():
    frame = pl.DataFrame({"latitude": [48.85, 42.0, -21.1, 16.2], "longitude": [2.35, 9.0, 55.5, -61.5]})
    assert frame.select(maps.in_metropole())["latitude"].to_list() == [True, True, False, False]


def test_infobulle_escapes():
    assert infobulle("A & B", [("x", "<1>")]) == "<b>A &amp; B</b><br/>x : &lt;1&gt;"


def test_deck_json_is_compact_and_small_for_the_whole_network():
    """pydeck indents its JSON; the deck sent to the browser does not (a quarter of the size)."""
    import random

    rng = random.Random(1)
    sites = pl.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(2900)],
            "nom": [f"Site {i}" for i in range(2900)],
            "latitude": [rng.uniform(42, 51) for _ in range(2900)],
            "longitude": [rng.uniform(-4, 8) for _ in range(2900)],
            "demandes": [rng.uniform(0, 3000) for _ in range(2900)],
        }
    )
    deck = maps.deck(
        [maps.departements_layer(), maps.sites_layer(sites, "demandes")],
        maps.view_state(sites["latitude"], sites["longitude"]),
    )
    text = deck.to_json()
    assert "\n" not in text and ": " not in text[:200]
    assert len(text) < 1_500_000
    assert json.loads(text)["mapStyle"] == "__MAP_STYLE__"


# --- native tooltips, radii and colours ----------------------------------------------------------

NASTY = pl.DataFrame(
    {
        "site_id": ["A", "B", "C"],
        "nom": ['Site <A> & "co"', "L'Isle-d'Abeau", None],
        "departement": ["01", "38", None],
        "latitude": [46.0, 45.6, 45.0],
        "longitude": [5.0, 5.2, 4.0],
        "demandes": [1234.5, None, 0.125],
    }
)


def _old_tooltip(row: dict) -> str:
    return infobulle(
        row["nom"] or "",
        [
            ("Département <dép.>", row["departement"] or "–"),
            ("Demandes", formats.number(row["demandes"], 1)),
            ("Part", formats.percent(row["demandes"], 2)),
        ],
    )


def _native_tooltip() -> pl.Expr:
    return maps.infobulle_expr(
        pl.col("nom"),
        [
            ("Département <dép.>", pl.col("departement")),
            ("Demandes", formats.number_expr("demandes", 1)),
            ("Part", formats.percent_expr("demandes", 2)),
        ],
    )


def test_infobulle_expr_equals_infobulle_escaping_included():
    native = NASTY.select(_native_tooltip().alias("t"))["t"].to_list()
    assert native == [_old_tooltip(row) for row in NASTY.to_dicts()]
    assert native[0] == (
        "<b>Site &lt;A&gt; &amp; &quot;co&quot;</b><br/>Département &lt;dép.&gt; : 01"
        f"<br/>Demandes : 1{formats.NNBSP}234,5<br/>Part : 123{formats.NNBSP}450,00{formats.NBSP}%"
    )
    assert native[1].startswith("<b>L&#x27;Isle-d&#x27;Abeau</b>")
    assert native[2].startswith("<b></b><br/>Département &lt;dép.&gt; : –")  # nulls: empty title, « – »
    assert NASTY.with_columns(maps.infobulle_expr(pl.lit("Titre")).alias("t"))["t"].to_list() == ["<b>Titre</b>"] * 3


def test_sites_layer_carries_the_precomputed_tooltips():
    frame = NASTY.with_columns(_native_tooltip().alias("infobulle"))
    native = maps.sites_layer(frame, "demandes", tooltip_column="infobulle", highlight=["C"])
    assert sorted(p["infobulle"] for p in native.data) == sorted(_old_tooltip(row) for row in NASTY.to_dicts())
    assert [p["infobulle"].split("</b>")[0] for p in native.data] == [
        "<b>Site &lt;A&gt; &amp; &quot;co&quot;",
        "<b>L&#x27;Isle-d&#x27;Abeau",
        "<b>",  # highlighted: last
    ]
    assert set(native.data[0]) == {"lon", "lat", "r", "c", "infobulle"}
    assert native.data[-1]["c"] == theme.rgb(theme.color("red"))


def test_sites_layer_default_tooltip_falls_back_to_the_id():
    layer = maps.sites_layer(NASTY, "demandes")
    assert sorted(p["infobulle"] for p in layer.data)[0] == "<b>C</b>"


def test_radius_expr_makes_areas_proportional():
    values = [400.0, 100.0, 0.0, None, 25.0, float("nan"), -3.0]
    got = pl.DataFrame({"v": values}).select(maps.radius_expr("v", max_px=20, min_px=2))["v"].to_list()
    assert got[0] == 20  # the largest value
    assert got[1] == pytest.approx(10, abs=0.011)  # a quarter of the value: half the radius, a quarter of the area
    assert got[4] == pytest.approx(5, abs=0.011)
    assert got[2] == 2 and got[3] == 2 and got[5] == 2 and got[6] == 2  # nothing to show: still visible
    ints = pl.DataFrame({"v": [0, 0]}).select(maps.radius_expr("v"))["v"].to_list()
    assert ints == [1.5, 1.5]


# --- a département's map shows the whole département --------------------------------------------------


def _contains(outer: tuple, inner: tuple) -> bool:
    (olat_lo, olat_hi, olon_lo, olon_hi), (ilat_lo, ilat_hi, ilon_lo, ilon_hi) = outer, inner
    return olat_lo <= ilat_lo and ilat_hi <= olat_hi and olon_lo <= ilon_lo and ilon_hi <= olon_hi


@pytest.mark.parametrize(
    ("code", "sites"),
    [
        # Creuse: sites in the south-west (Aubusson, Felletin), none towards its north and east edges
        ("23", ([45.96, 45.9], [2.17, 2.17])),
        # Nord: sites around Lille and Valenciennes, none on Dunkerque's coast
        ("59", ([50.63, 50.36], [3.06, 3.52])),
    ],
)
@pytest.mark.parametrize(("width", "height"), [(540, 520), (800, 400), (300, 600)])
def test_a_departement_map_contains_its_polygon(code, sites, width, height):
    polygon = maps.departement_bounds(code)
    view = maps.territory_view([code], *sites, width=width, height=height)
    shown = maps.visible_bounds(view, width, height)
    assert _contains(shown, polygon), (shown, polygon)
    # … and is fitted to it, not to the whole country: the polygon fills most of one dimension
    lat_lo, lat_hi, lon_lo, lon_hi = polygon
    fill = max((lon_hi - lon_lo) / (shown[3] - shown[2]), (lat_hi - lat_lo) / (shown[1] - shown[0]))
    assert fill > 0.8
    # framing the sites alone (as before) cropped the polygon
    assert not _contains(
        maps.visible_bounds(maps.view_state(*sites, width=width, height=height), width, height), polygon
    )


def test_visible_bounds_inverts_view_state():
    view = maps.view_state([45.0, 46.0], [2.0, 3.0], width=600, height=600, padding=0.0)
    lat_lo, lat_hi, lon_lo, lon_hi = maps.visible_bounds(view, 600, 600)
    assert lon_lo <= 2.0 and lon_hi >= 3.0 and lat_lo <= 45.0 and lat_hi >= 46.0
    # no padding: the box fills the map in its tighter dimension (within the zoom's rounding)
    assert 1.0 / (lon_hi - lon_lo) > 0.97 or (46.0 - 45.0) / (lat_hi - lat_lo) > 0.97
