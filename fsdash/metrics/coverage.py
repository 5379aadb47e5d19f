"""Territorial coverage of the network (circular of 1 July 2019, annex 2).

Two readings of the annex-2 targets:

* **access** — how far each commune is from the nearest open site, and which share of the
  population lives within 5, 10, 20 km (criterion i, « zones éloignées d'une offre existante ») ;
* **cantons** — « couvrir, avant fin 2022, l'ensemble des cantons » (:data:`EVERY_CANTON_COVERED`).

Plus one check of the registry itself: sites whose coordinates fall outside their own
département (:func:`sites_outside_departement`).

Conventions shared by every function here:

* a site is open at ``day`` as in :data:`fsdash.metrics.network.OPEN_AT`; every format counts
  (a bus or an itinerant service is placed at its registered address, its depot: the stops it
  serves are not in the data) ;
* a site is placed at its coordinates, or — when it has none — at the point of its commune
  (:func:`fsdash.geography.communes`: a point inside the commune). A site whose commune code is
  a municipal arrondissement (Paris 751xx, Lyon 6938x, Marseille 132xx) belongs to the city's
  commune (75056, 69123, 13055). A site with neither coordinates nor a known commune is left out
  of the distance measures ;
* distances are great-circle distances on a sphere of radius :data:`EARTH_RADIUS_KM`, between
  points, « à vol d'oiseau » (not road distances), to the nearest site of the commune's **access
  territory** (:func:`access_territory`): metropolitan France as one, each overseas département
  on its own ;
* territorial scopes (national, région, département) select communes and cantons by their own
  département/région; a ``site`` scope is measured on its département (:meth:`Scope.territory`).

How it is computed, and why it stays fast under a busy server:

* **Nearest site on a KD-tree.** :func:`nearest` indexes the sites' unit vectors of R³ in a
  scipy ``cKDTree``. The straight-line (chord) distance between unit vectors is
  ``2 sin(θ/2)``, increasing with the angle θ over [0, π]: the nearest site by chord is exactly
  the nearest by great circle, so the tree gives the same answer as a brute-force search, in
  milliseconds (≈ 35 000 communes × 2 900 sites: ~15 ms on an idle machine, where the former
  brute-force matrix product took 0.3 s to several seconds). The distance is then recomputed
  with the atan2 formula (:func:`great_circle_km`). A shapely ``STRtree`` was measured too and
  set aside: it is planar, in degrees, so its nearest site was wrong for ~16 % of communes (up
  to 14 km too far) unless re-checked on the sphere, and it was slower (~50 ms).
* **No BLAS.** Nothing here calls a BLAS routine (no floating-point matrix product): a
  multi-threaded BLAS hands every product to its own pool of threads, which then compete with
  the server's threads for the cores (the same call measured anywhere between 0.1 s and several
  seconds depending on the load). The national nearest-site search splits its 35 000 communes
  over the cores (``workers=-1``: a few milliseconds, once per version and day, threads that end
  with the call); « within r km » questions (the candidates of a département) go through
  :func:`pairs_within_km`, a tree search followed by an exact check of the few pairs found,
  never a dense commune × commune matrix.
* **Computed once.** The placed open sites, the access of **every** commune of the country and
  the canton coverage of the whole country are computed once per (warehouse version, day) and
  shared (:func:`fsdash.cache.cached`). A scoped answer filters the national one: the nearest
  site of a commune does not depend on the scope, as it is searched among all the sites of the
  country anyway. On a plain DuckDB connection (command line, tests), which has no version to
  remember answers by, everything is computed on each call, and a scoped access searches only
  the scope's communes. The frames returned may be shared by reference: callers derive new
  frames, never modify them.

Pure functions of a DuckDB connection, returning Polars frames; no Streamlit.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache

import duckdb
import numpy as np
import polars as pl
import shapely
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from fsdash import geography
from fsdash.cache import cached
from fsdash.circulaire import EVERY_CANTON_COVERED
from fsdash.metrics.network import OPEN_AT
from fsdash.metrics.scope import NATIONAL, Scope

EARTH_RADIUS_KM = 6371.0
"""Radius of the sphere used for every distance (mean Earth radius, IUGG)."""

DEFAULT_RADII_KM = (5, 10, 20)

BORDER_TOLERANCE_KM = 1.0
"""How far outside its département's polygon a site must lie to be flagged.

The polygons of ``data/geo`` are simplified (tolerance 0.005°, a few hundred metres), so a site a
few metres from a border may fall on the wrong side of the simplified line; beyond 1 km it is
genuinely misplaced (or its département is wrong)."""

_ARRONDISSEMENTS = (
    (r"^751(0[1-9]|1[0-9]|20)$", "75056"),  # Paris 1er–20e
    (r"^6938[1-9]$", "69123"),  # Lyon 1er–9e
    (r"^132(0[1-9]|1[0-6])$", "13055"),  # Marseille 1er–16e
)


# --- geometry -------------------------------------------------------------------------------


def unit_vectors(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Points (degrees, WGS84 read as spherical) as unit vectors of R³, shape (n, 3)."""
    lat = np.radians(np.asarray(latitude, dtype=np.float64))
    lon = np.radians(np.asarray(longitude, dtype=np.float64))
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between unit vectors, row by row, accurate at every distance (atan2 form)."""
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    dot = np.sum(a * b, axis=-1)
    return np.arctan2(cross, dot)


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance (km) between paired points, element-wise (arrays broadcast)."""
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (lat1, lon1, lat2, lon2)))
    a = unit_vectors(lat1.ravel(), lon1.ravel())
    b = unit_vectors(lat2.ravel(), lon2.ravel())
    return (EARTH_RADIUS_KM * _angle(a, b)).reshape(lat1.shape)


def _haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Haversine distance (km) between points in degrees, element-wise (arrays broadcast).

    The one formula of « within r km » (:func:`pairs_within_km`; the tests build their dense
    reference matrix with it).
    """
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, h)))


def _chord(radius_km: float) -> float:
    """Straight-line distance between unit vectors ``radius_km`` apart on the sphere."""
    return 2.0 * np.sin(min(radius_km / EARTH_RADIUS_KM, np.pi) / 2.0)


def nearest(
    lat: np.ndarray, lon: np.ndarray, target_lat: np.ndarray, target_lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For every point, the index of the nearest target and its great-circle distance (km).

    The targets' unit vectors go into a KD-tree: the chord between unit vectors grows with the
    great-circle angle, so the tree's nearest neighbour is the nearest target on the sphere (see
    the module docstring), and the angle is read back from the chord (``2·asin(c/2)``, exact to the
    micrometre at every distance a commune can be from a site). Targets at the very same point are
    one: the first of them (lowest index) is answered, as a brute-force search would. With no
    target, or for a point without coordinates, the index is -1 and the distance NaN.
    """
    return _nearest_vectors(unit_vectors(lat, lon), target_lat, target_lon)


_PARALLEL_FROM = 4096
"""Points from which a nearest-site search is split over the cores."""


def _nearest_vectors(
    points: np.ndarray, target_lat: np.ndarray, target_lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = len(points)
    best = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    if len(target_lat) == 0 or n == 0:
        return best, dist
    targets = unit_vectors(target_lat, target_lon)
    first = _first_of_each_point(targets)  # co-located targets: the first one
    tree = cKDTree(targets[first])
    placed = np.isfinite(points).all(axis=1)
    # Split over the cores only where it pays: starting threads costs more than searching a few
    # hundred overseas communes.
    workers = -1 if placed.sum() > _PARALLEL_FROM else 1
    chord, found = tree.query(points[placed], k=1, workers=workers)
    best[placed] = first[found]
    dist[placed] = EARTH_RADIUS_KM * 2.0 * np.arcsin(np.minimum(chord / 2.0, 1.0))
    return best, dist


def _first_of_each_point(points: np.ndarray) -> np.ndarray:
    """Index of the first row of each distinct point (what ``np.unique(axis=0, return_index=True)``
    answers, by a stable lexicographic sort: ``unique`` on rows sorts a void view, ten times slower)."""
    order = np.lexsort(points.T[::-1])
    ranked = points[order]
    starts = np.ones(len(points), dtype=bool)
    starts[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
    return order[starts]


_VECTORS: list[tuple[pl.DataFrame, np.ndarray]] = []
_TERRITORIES: list[tuple[pl.DataFrame, dict[str, np.ndarray]]] = []


def _commune_vectors(communes: pl.DataFrame) -> np.ndarray:
    """Unit vectors of the geography's communes, computed once for the (static, shared) frame."""
    for frame, vectors in _VECTORS:
        if frame is communes:
            return vectors
    vectors = unit_vectors(communes["latitude"].to_numpy(), communes["longitude"].to_numpy())
    vectors.setflags(write=False)
    _VECTORS[:] = [(communes, vectors)]
    return vectors


def _territory_rows(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    """Row indices of ``frame`` by access territory (:func:`access_territory`)."""
    groups = frame.select(access_territory().alias("t")).with_row_index("i").group_by("t").agg("i")
    return {t: np.asarray(rows, dtype=np.int64) for t, rows in groups.iter_rows()}


def _commune_territories(communes: pl.DataFrame) -> dict[str, np.ndarray]:
    """:func:`_territory_rows` of the geography's communes, computed once for the shared frame."""
    for frame, rows in _TERRITORIES:
        if frame is communes:
            return rows
    rows = _territory_rows(communes)
    _TERRITORIES[:] = [(communes, rows)]
    return rows


def pairs_within_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike, radius_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)``: point ``i`` of set 1 lies within ``radius_km`` of point ``j`` of set 2.

    Same answer as the dense haversine matrix ``<= radius_km`` (pairs sorted by ``i``
    then ``j``) without the dense matrix: a KD-tree search of unit vectors, with a slightly wider
    chord so that rounding never drops a pair, then the haversine check of the pairs found.
    """
    p = unit_vectors(lat1, lon1)
    q = unit_vectors(lat2, lon2)
    empty = np.empty(0, dtype=np.int64)
    if len(p) == 0 or len(q) == 0:
        return empty, empty
    found = cKDTree(p).sparse_distance_matrix(
        cKDTree(q), max_distance=_chord(radius_km) * (1 + 1e-9) + 1e-12, output_type="ndarray"
    )
    i, j = found["i"].astype(np.int64), found["j"].astype(np.int64)
    keep = (
        _haversine_km(
            np.asarray(lat1, dtype=np.float64)[i],
            np.asarray(lon1, dtype=np.float64)[i],
            np.asarray(lat2, dtype=np.float64)[j],
            np.asarray(lon2, dtype=np.float64)[j],
        )
        <= radius_km
    )
    i, j = i[keep], j[keep]
    order = np.lexsort((j, i))
    return i[order], j[order]


# --- scope and sites ------------------------------------------------------------------------


def commune_code(column: str = "code_commune") -> pl.Expr:
    """A site's commune code, municipal arrondissements replaced by their city (COG commune)."""
    expr = pl.col(column)
    out = pl.when(expr.str.contains(_ARRONDISSEMENTS[0][0])).then(pl.lit(_ARRONDISSEMENTS[0][1]))
    for pattern, city in _ARRONDISSEMENTS[1:]:
        out = out.when(expr.str.contains(pattern)).then(pl.lit(city))
    return out.otherwise(expr)


def open_sites(con: duckdb.DuckDBPyConnection, day: dt.date) -> pl.DataFrame:
    """Every site open at ``day``, placed: its coordinates, else its commune's point.

    Columns: ``site_id``, ``nom``, ``departement``, ``format``, ``code_commune`` (as registered),
    ``commune`` (COG code, arrondissements replaced by their city), ``commune_connue`` (the code
    is a commune of the geography), ``canton`` (of that commune), ``latitude``, ``longitude``
    (the point used, null when the site cannot be placed), ``point_source`` (``site`` or
    ``commune``). Sorted by ``site_id``. The frame may be shared with other callers: derive, do
    not modify.
    """
    return _placed_sites(con, day)


@cached(maxsize=16, kind="query")
def _placed_sites(con: duckdb.DuckDBPyConnection, day: dt.date) -> pl.DataFrame:
    """:func:`open_sites`, read and placed once per warehouse version and day for every caller."""
    sites = con.sql(
        f"""
        SELECT s.site_id, s.nom, s.departement, s.format, s.code_commune,
               s.latitude AS site_lat, s.longitude AS site_lon
        FROM sites s WHERE {OPEN_AT.format(d="?")} ORDER BY s.site_id""",
        params=[day, day],
    ).pl()
    communes = geography.communes().select(
        pl.col("code_insee").alias("commune"),
        "canton",
        pl.col("latitude").alias("com_lat"),
        pl.col("longitude").alias("com_lon"),
        pl.lit(True).alias("commune_connue"),
    )
    has_point = pl.col("site_lat").is_not_null() & pl.col("site_lon").is_not_null()
    return (
        sites.with_columns(commune_code().alias("commune"))
        .join(communes, on="commune", how="left")
        .with_columns(
            pl.col("commune_connue").fill_null(False),
            pl.when(has_point).then("site_lat").otherwise("com_lat").alias("latitude"),
            pl.when(has_point).then("site_lon").otherwise("com_lon").alias("longitude"),
            pl.when(has_point)
            .then(pl.lit("site"))
            .when(pl.col("com_lat").is_not_null())
            .then(pl.lit("commune"))
            .alias("point_source"),
        )
        .select(
            "site_id",
            "nom",
            "departement",
            "format",
            "code_commune",
            "commune",
            "commune_connue",
            "canton",
            "latitude",
            "longitude",
            "point_source",
        )
    )


# --- access ---------------------------------------------------------------------------------


def commune_access(con: duckdb.DuckDBPyConnection, scope: Scope, day: dt.date) -> pl.DataFrame:
    """Distance from every commune (of the scope) to the nearest site open at ``day``.

    Columns: ``code_insee``, ``nom``, ``departement``, ``region``, ``population`` (null for
    Mayotte), ``canton``, ``latitude``, ``longitude`` (the commune's point), ``distance_km``,
    ``nearest_site_id`` (both null when no site is open anywhere).

    In metropolitan France (Corsica included) the nearest site is searched among **all** its open
    sites, not only those of the commune's département or région: people cross administrative
    borders, so a commune next to a site of the neighbouring département is near a site. An
    overseas département is its own territory (:func:`access_territory`): its communes are
    measured to its own sites only — a Mayotte commune is not « near » a site of La Réunion,
    1 400 km away — and in a territory without an open site both columns are null. Distances run
    from the commune's point (inside the commune, not its town hall) to the site, as the crow flies.
    """
    keep = scope.area_filter()  # a site scope: its département (refused unresolved)
    if scope.level == "national" or getattr(con, "cache_key", None) is not None:
        return _national_access(con, day).filter(keep)
    # Nothing remembers the national answer for this connection (see fsdash.cache): searching
    # the scope's communes alone gives the same rows, for a fraction of the work.
    return _access(geography.communes().filter(keep), open_sites(con, day))


@cached(maxsize=8, kind="query")
def _national_access(con: duckdb.DuckDBPyConnection, day: dt.date) -> pl.DataFrame:
    """:func:`commune_access` of every commune of the country, computed once per version and day.

    Scopes filter this frame: a commune's nearest site is searched nationally whatever the scope,
    so the answer for a département is the national answer restricted to its communes.
    """
    communes = geography.communes()
    return _access(communes, open_sites(con, day), _commune_vectors(communes))


OVERSEAS_PREFIXES = ("97", "98")
"""Département codes of the overseas départements and collectivities (971–978, 98x)."""

METROPOLE = "metropole"
"""The one access territory of metropolitan France, Corsica included (see :func:`access_territory`)."""


def access_territory(departement: pl.Expr | str = "departement") -> pl.Expr:
    """The territory within which a nearest site is searched: each overseas département on its
    own, metropolitan France (Corsica included) as one — people cross a département's border by
    road, not an ocean."""
    dep = pl.col(departement) if isinstance(departement, str) else departement
    overseas = pl.any_horizontal(*(dep.str.starts_with(p) for p in OVERSEAS_PREFIXES))
    return pl.when(overseas).then(dep).otherwise(pl.lit(METROPOLE))


def _nearest_sites(vectors: np.ndarray, communes: pl.DataFrame, sites: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For every commune, the index of the nearest site of its access territory and the distance
    (km); -1 and NaN in a territory without a placed site. One KD-tree search per territory."""
    idx = np.full(communes.height, -1, dtype=np.int64)
    dist = np.full(communes.height, np.nan)
    site_rows = _territory_rows(sites)
    lat, lon = sites["latitude"].to_numpy(), sites["longitude"].to_numpy()
    no_site = np.empty(0, dtype=np.int64)
    for area, rows in _commune_territories(communes).items():
        targets = site_rows.get(area, no_site)
        found, km = _nearest_vectors(vectors[rows], lat[targets], lon[targets])
        hit = found >= 0
        idx[rows[hit]] = targets[found[hit]]
        dist[rows] = km
    return idx, dist


def _access(communes: pl.DataFrame, sites: pl.DataFrame, vectors: np.ndarray | None = None) -> pl.DataFrame:
    """The columns of :func:`commune_access` for these communes, nearest among these sites of the
    same access territory (``vectors``: the communes' unit vectors when already known)."""
    sites = sites.filter(pl.col("latitude").is_not_null())
    if vectors is None:
        vectors = unit_vectors(communes["latitude"].to_numpy(), communes["longitude"].to_numpy())
    idx, dist = _nearest_sites(vectors, communes, sites)
    nearest_ids = sites["site_id"].gather(pl.Series(idx).replace(-1, None)) if sites.height else None
    return communes.select(
        "code_insee", "nom", "departement", "region", "population", "canton", "latitude", "longitude"
    ).with_columns(
        pl.Series("distance_km", dist, dtype=pl.Float64).fill_nan(None),
        (
            nearest_ids.alias("nearest_site_id")
            if nearest_ids is not None
            else pl.lit(None, pl.String).alias("nearest_site_id")
        ),
    )


def population_within(
    con: duckdb.DuckDBPyConnection, scope: Scope, day: dt.date, radii: tuple[float, ...] = DEFAULT_RADII_KM
) -> pl.DataFrame:
    """Population living within each radius of an open site, and its share.

    One row per radius: ``radius_km``, ``population_within`` (communes whose point is at most
    that far from the nearest open site of its access territory), ``population_total`` and ``share``.
    A commune counts whole (its population is not spread over its area). Communes with unknown
    population (Mayotte, whose legal population the geography lacks) are excluded from both the
    numerator and the denominator, so they neither raise nor lower the share.
    """
    access = commune_access(con, scope, day).filter(pl.col("population").is_not_null())
    total = int(access["population"].sum())
    rows = []
    for radius in radii:
        within = int(access.filter(pl.col("distance_km") <= radius)["population"].sum())
        rows.append((float(radius), within, total, within / total if total else None))
    return pl.DataFrame(
        rows,
        schema={
            "radius_km": pl.Float64,
            "population_within": pl.Int64,
            "population_total": pl.Int64,
            "share": pl.Float64,
        },
        orient="row",
    )


def territories_without_site(con: duckdb.DuckDBPyConnection, scope: Scope, day: dt.date) -> pl.DataFrame:
    """Access territories of the scope (overseas départements, or metropolitan France) where no
    site is open at ``day``: their communes have no distance, and a page says so rather than
    measuring them to another territory's sites.

    Columns: ``departement`` (an overseas code, or null for metropolitan France), ``communes``,
    ``population`` (null when the geography has none, as for Mayotte). Sorted by département.
    """
    access = commune_access(con, scope, day)
    return (
        access.with_columns(access_territory().alias("territory"))
        .group_by("territory")
        .agg(
            pl.col("nearest_site_id").is_not_null().any().alias("served"),
            pl.len().alias("communes"),
            pl.col("population").sum().alias("population"),
            pl.col("population").is_null().all().alias("unknown_population"),
        )
        .filter(~pl.col("served"))
        .select(
            pl.when(pl.col("territory") == METROPOLE).then(None).otherwise(pl.col("territory")).alias("departement"),
            pl.col("communes").cast(pl.Int64),
            pl.when(pl.col("unknown_population")).then(None).otherwise(pl.col("population")).alias("population"),
        )
        .sort("departement", nulls_last=True)
    )


def farthest_communes(con: duckdb.DuckDBPyConnection, scope: Scope, day: dt.date, n: int = 20) -> pl.DataFrame:
    """The ``n`` communes of the scope farthest from any open site (criterion i of annex 2).

    Columns of :func:`commune_access` plus ``nearest_site_nom``; farthest first.
    """
    access = commune_access(con, scope, day)
    names = open_sites(con, day).select(  # a nearest site is always an open one
        pl.col("site_id").alias("nearest_site_id"), pl.col("nom").alias("nearest_site_nom")
    )
    return (
        access.sort(["distance_km", "code_insee"], descending=[True, False], nulls_last=True)
        .head(n)
        .join(names, on="nearest_site_id", how="left", maintain_order="left")
    )


# --- cantons --------------------------------------------------------------------------------


def _fold(expr: pl.Expr) -> pl.Expr:
    """Names compared without case or accents (« Saint-Étienne » = « Saint-Etienne »)."""
    return expr.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()


def _shared_cities(cantons: pl.DataFrame) -> pl.DataFrame:
    """Cantons (type C) that share a city with a pseudo-canton (type V): ``code``, ``ville_partagee``.

    A city split between several cantons is the pseudo-canton; the cantons that hold a fraction
    of it plus whole communes keep only their whole communes in the geography. They are
    recognised by their name, « <ville>-<n> » (the bureau centralisateur), accents ignored.
    """
    cities = cantons.filter(pl.col("type") == "V").select(
        pl.col("code").alias("ville_partagee"), "departement", _fold(pl.col("nom")).alias("_base")
    )
    return (
        cantons.filter((pl.col("type") == "C") & pl.col("nom").str.contains(r"-\d+$"))
        .with_columns(_fold(pl.col("nom").str.replace(r"-\d+$", "")).alias("_base"))
        .join(cities, on=["_base", "departement"], how="inner")
        .select("code", "ville_partagee")
    )


@lru_cache(maxsize=1)
def _canton_polygons() -> tuple[np.ndarray, shapely.STRtree]:
    features = geography.cantons_geojson()["features"]
    codes = np.array([f["properties"]["code"] for f in features], dtype=object)
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    return codes, shapely.STRtree(geoms)


def _locate_cantons(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """Canton (or pseudo-canton) polygon containing each point, None where none does."""
    out = np.full(len(latitude), None, dtype=object)
    if len(latitude) == 0:
        return out
    codes, tree = _canton_polygons()
    points, polygons = tree.query(shapely.points(longitude, latitude), predicate="intersects")
    out[points[::-1]] = codes[polygons[::-1]]  # first match wins on a shared border
    return out


@cached(maxsize=16, kind="query")
def _site_cantons(con: duckdb.DuckDBPyConnection, day: dt.date) -> pl.DataFrame:
    """Open sites with the canton they stand in: ``site_id``, ``canton``, ``commune_sans_canton``.

    Computed once per warehouse version and day (sites of merged communes are located in the
    canton polygons), shared by :func:`canton_coverage` and :func:`canton_coverage_summary`.
    """
    sites = open_sites(con, day)
    unknown = sites.filter(~pl.col("commune_connue") & pl.col("latitude").is_not_null())
    if unknown.height:
        located = unknown.select("site_id").with_columns(
            pl.Series(
                "_located",
                _locate_cantons(unknown["latitude"].to_numpy(), unknown["longitude"].to_numpy()),
                dtype=pl.String,
            )
        )
        sites = sites.join(located, on="site_id", how="left").with_columns(pl.coalesce("canton", "_located"))
    return sites.select(
        "site_id",
        "canton",
        (pl.col("commune_connue") & pl.col("canton").is_null()).alias("commune_sans_canton"),
        "commune",
    )


def canton_coverage(con: duckdb.DuckDBPyConnection, scope: Scope, day: dt.date) -> pl.DataFrame:
    """Which cantons of the scope have at least one open site at ``day`` (annex 2 target).

    One row per canton: ``code``, ``nom``, ``type``, ``departement``, ``region``, ``population``,
    ``sites`` (open sites whose commune lies in the canton), ``couvert`` (``sites >= 1``),
    ``ville_partagee`` and ``incertain`` (see below). Uncovered cantons first, then by code.

    How the target is measured, and why:

    * **The unit is INSEE's « canton-ou-ville »** (:func:`fsdash.geography.cantons`, a partition of
      the territory into whole communes): a canton of whole communes (type C); a city split
      between several cantons, counted as **one** unit, its pseudo-canton (type V, e.g.
      Marseille, Bourg-en-Bresse); a commune nouvelle straddling cantons, its fictitious canton
      (type N). The cantons lying wholly inside a city have no contour in the source and are not
      units: for a city split into k cantons the measure asks for one site in the city, not k —
      it is optimistic there, and says so through ``type``.
    * **A site counts in the canton of its commune** (its registered commune code; municipal
      arrondissements belong to their city). A bus or itinerant service counts only in the canton
      of its registered address, not in those of its stops (not in the data). A site whose commune
      code is unknown to the geography (a commune merged since the list was published) is placed
      by its coordinates in the canton polygon that contains them.
    * **Cantons sharing a city** (type C named « <ville>-<n> » after a pseudo-canton of the same
      département, column ``ville_partagee``) also hold a fraction of that city, which the data
      attributes to the pseudo-canton. When such a canton has no site of its own but the city has
      one, whether the canton is covered depends on the street the site is in: it is reported
      uncovered with ``incertain = True`` (:func:`canton_coverage_summary` gives the range).
    * **Communes without canton** — Paris, the métropole de Lyon, Martinique and Guyane, where
      the law has no canton (collectivités à statut particulier) — are outside the "every
      canton" target: no pseudo-unit is invented for them. The summary counts them apart; their
      access is read through :func:`population_within`.
    """
    keep = scope.area_filter()  # a site scope: its département (refused unresolved)
    return _national_canton_coverage(con, day).filter(keep)


@cached(maxsize=8, kind="query")
def _national_canton_coverage(con: duckdb.DuckDBPyConnection, day: dt.date) -> pl.DataFrame:
    """:func:`canton_coverage` of every canton of the country, computed once per version and day.

    Scopes filter this frame: a canton's coverage depends only on the sites of its own communes
    and of its shared city, which the national frame already holds; filtering keeps the order.
    """
    all_cantons = geography.cantons()
    counts = (
        _site_cantons(con, day)
        .filter(pl.col("canton").is_not_null())
        .group_by("canton")
        .agg(pl.len().cast(pl.Int64).alias("sites"))
    )
    frame = (
        all_cantons.select("code", "nom", "type", "departement", "region", "population")
        .join(counts, left_on="code", right_on="canton", how="left")
        .with_columns(pl.col("sites").fill_null(0))
        .with_columns((pl.col("sites") > 0).alias("couvert"))
        .join(_shared_cities(all_cantons), on="code", how="left")
    )
    # Sites of each shared city.
    cities = (
        all_cantons.filter(pl.col("type") == "V")
        .select(pl.col("code").alias("ville_partagee"))
        .join(counts, left_on="ville_partagee", right_on="canton", how="left")
        .select("ville_partagee", pl.col("sites").fill_null(0).alias("_city_sites"))
    )
    return (
        frame.join(cities, on="ville_partagee", how="left")
        .with_columns((~pl.col("couvert") & (pl.col("_city_sites").fill_null(0) > 0)).alias("incertain"))
        .drop("_city_sites")
        .sort(["couvert", "code"])
    )


def canton_coverage_summary(con: duckdb.DuckDBPyConnection, scope: Scope, day: dt.date) -> pl.DataFrame:
    """One row: ``cantons_total``, ``cantons_covered``, ``share`` (see :func:`canton_coverage`).

    ``objectif`` and ``echeance`` recall the target (:data:`EVERY_CANTON_COVERED`: every canton,
    end of 2022).

    Also: ``cantons_incertains`` (uncovered cantons whose shared city has a site) and
    ``share_max`` (the share if they all were covered: the true figure lies between ``share``
    and ``share_max``); ``pseudo_cantons`` and ``pseudo_cantons_covered`` (type V units);
    ``communes_sans_canton``, ``population_sans_canton`` and ``sites_sans_canton`` (Paris,
    métropole de Lyon, Martinique, Guyane: outside the target, not in the denominator).
    """
    frame = canton_coverage(con, scope, day)
    total = frame.height
    covered = int(frame["couvert"].sum())
    uncertain = int(frame["incertain"].sum())
    pseudo = frame.filter(pl.col("type") == "V")
    no_canton = geography.communes().filter(scope.area_filter() & pl.col("canton").is_null())
    sites_no_canton = (
        _site_cantons(con, day)
        .filter(pl.col("commune_sans_canton"))
        .join(no_canton.select(pl.col("code_insee").alias("commune")), on="commune", how="semi")
        .height
    )
    return pl.DataFrame(
        [
            {
                "cantons_total": total,
                "cantons_covered": covered,
                "share": covered / total if total else None,
                "cantons_incertains": uncertain,
                "share_max": (covered + uncertain) / total if total else None,
                "pseudo_cantons": pseudo.height,
                "pseudo_cantons_covered": int(pseudo["couvert"].sum()),
                "communes_sans_canton": no_canton.height,
                "population_sans_canton": int(no_canton["population"].sum()),
                "sites_sans_canton": sites_no_canton,
                "objectif": EVERY_CANTON_COVERED.value,
                "echeance": EVERY_CANTON_COVERED.date,
            }
        ],
        schema={
            "cantons_total": pl.Int64,
            "cantons_covered": pl.Int64,
            "share": pl.Float64,
            "cantons_incertains": pl.Int64,
            "share_max": pl.Float64,
            "pseudo_cantons": pl.Int64,
            "pseudo_cantons_covered": pl.Int64,
            "communes_sans_canton": pl.Int64,
            "population_sans_canton": pl.Int64,
            "sites_sans_canton": pl.Int64,
            "objectif": pl.Float64,
            "echeance": pl.Date,
        },
    )


# --- sites outside their département --------------------------------------------------------


@lru_cache(maxsize=1)
def _departement_polygons() -> tuple[np.ndarray, np.ndarray, shapely.STRtree]:
    features = geography.departements_geojson()["features"]
    codes = np.array([f["properties"]["code"] for f in features], dtype=object)
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    shapely.prepare(geoms)
    return codes, geoms, shapely.STRtree(geoms)


def sites_outside_departement(
    con: duckdb.DuckDBPyConnection, scope: Scope = NATIONAL, day: dt.date | None = None
) -> pl.DataFrame:
    """Sites whose coordinates fall outside the polygon of their own département.

    Columns: ``site_id``, ``nom``, ``departement`` (registered), ``departement_found`` (the
    département polygon containing the coordinates, null at sea or abroad), ``latitude``,
    ``longitude``, ``distance_km`` (great-circle distance from the site to the nearest point of
    its own département's polygon; null when the geography has no polygon for it).

    A site is flagged when it lies more than :data:`BORDER_TOLERANCE_KM` outside its
    département's (simplified) polygon. Sites of a collectivity the geography has no polygon for
    (Saint-Martin 978, …) are flagged only when their coordinates fall inside another
    département. Sites without coordinates are not checked here. Every site of the registry is
    checked, closed ones included, unless ``day`` restricts to the sites open that day.
    """
    where, params = scope.sites_filter()
    open_at = ""
    if day is not None:
        open_at = f" AND {OPEN_AT.format(d='?')}"
        params = [*params, day, day]
    sites = con.sql(
        f"""
        SELECT s.site_id, s.nom, s.departement, s.latitude, s.longitude FROM sites s
        WHERE s.latitude IS NOT NULL AND s.longitude IS NOT NULL AND {where}{open_at}
        ORDER BY s.site_id""",
        params=params,
    ).pl()
    return outside_departement(sites)


def outside_departement(sites: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``sites`` (``site_id``, ``nom``, ``departement``, ``latitude``, ``longitude``, all
    located) lying outside their own département, with ``departement_found`` and ``distance_km``
    (see :func:`sites_outside_departement`): pure geometry, so that a caller that already read the
    sites asks nothing more of the warehouse."""
    schema = {
        "site_id": pl.String,
        "nom": pl.String,
        "departement": pl.String,
        "departement_found": pl.String,
        "latitude": pl.Float64,
        "longitude": pl.Float64,
        "distance_km": pl.Float64,
    }
    sites = sites.filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
    if sites.is_empty():
        return pl.DataFrame(schema=schema)
    codes, geoms, tree = _departement_polygons()
    lat, lon = sites["latitude"].to_numpy(), sites["longitude"].to_numpy()
    points = shapely.points(lon, lat)
    own = sites["departement"].to_numpy().astype(object)
    position = {code: i for i, code in enumerate(codes)}
    own_index = np.array([position.get(code, -1) for code in own])
    has_polygon = own_index >= 0
    inside_own = np.zeros(len(own), dtype=bool)
    inside_own[has_polygon] = shapely.contains_xy(geoms[own_index[has_polygon]], lon[has_polygon], lat[has_polygon])
    found = np.full(len(own), None, dtype=object)
    found[inside_own] = own[inside_own]
    # Only the few sites outside their own polygon are searched in the others (the tree's point
    # tests cost about 13 ms for the whole network, a handful of sites nothing).
    elsewhere = np.flatnonzero(~inside_own)
    if len(elsewhere):
        hit_point, hit_polygon = tree.query(points[elsewhere], predicate="intersects")
        found[elsewhere[hit_point[::-1]]] = codes[hit_polygon[::-1]]
    distance = np.full(len(own), np.nan)
    check = has_polygon & ~inside_own
    if check.any():
        lines = shapely.shortest_line(points[check], geoms[own_index[check]])
        ends = shapely.get_coordinates(shapely.get_point(lines, 1))
        distance[check] = great_circle_km(lat[check], lon[check], ends[:, 1], ends[:, 0])
    flagged = np.where(
        has_polygon, ~inside_own & (distance > BORDER_TOLERANCE_KM), np.array([f is not None for f in found])
    )
    return (
        sites.with_columns(
            pl.Series("departement_found", found, dtype=pl.String),
            pl.Series("distance_km", distance, dtype=pl.Float64).fill_nan(None),
        )
        .filter(pl.Series(flagged))
        .select(list(schema))
    )
