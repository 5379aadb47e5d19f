"""Coverage metrics: distances to the nearest site, cantons covered, sites outside their département.

Unit tests run on tiny hand-made warehouses (and, where said, a tiny hand-made geography patched
over ``fsdash.geography``); every expected distance comes from an independent haversine written
here with ``math``. The last tests run on the official list of 1 August 2024 when it is present
(``../shared/reference/anct/liste-fs-20240801.csv`` from the repository root) and are skipped
otherwise.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from fsdash import geography
from fsdash.catalogue import load_catalogue
from fsdash.metrics import coverage
from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.warehouse.schema import migrate

REPO_ROOT = Path(__file__).resolve().parent.parent
ANCT_LIST = (REPO_ROOT / ".." / "shared" / "reference" / "anct" / "liste-fs-20240801.csv").resolve()
LIST_DATE = dt.date(2024, 8, 1)
DAY = dt.date(2024, 6, 30)
R = 6371.0


def distance_matrix_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distances (km) between every point of set 1 (rows) and set 2 (columns).

    Haversine form, accurate for the short distances it is meant for (within a département); for
    the whole country use :func:`nearest`, and for « within r km » :func:`pairs_within_km`, which
    do not build the dense matrix.
    """
    return coverage._haversine_km(
        np.asarray(lat1, dtype=np.float64)[:, None],
        np.asarray(lon1, dtype=np.float64)[:, None],
        np.asarray(lat2, dtype=np.float64)[None, :],
        np.asarray(lon2, dtype=np.float64)[None, :],
    )


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Independent reference: the textbook haversine formula, in pure ``math``."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


# --- tiny warehouses ----------------------------------------------------------------------------

SITE_COLUMNS = {
    "site_id": pl.String,
    "nom": pl.String,
    "code_commune": pl.String,
    "departement": pl.String,
    "region": pl.String,
    "format": pl.String,
    "type_site": pl.String,
    "date_labellisation": pl.Date,
    "date_fermeture": pl.Date,
    "latitude": pl.Float64,
    "longitude": pl.Float64,
    "horaires": pl.String,
    "heures_ouverture_hebdo": pl.Float64,
    "jours_ouverture_hebdo": pl.Int64,
}


def make_warehouse(sites: list[dict]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse whose ``sites`` table holds ``sites`` (missing fields: defaults)."""
    con = duckdb.connect()
    migrate(con, load_catalogue())
    defaults = {"format": "FIXE", "type_site": "PRINCIPAL", "date_labellisation": dt.date(2020, 1, 1)}
    rows = [{c: {**defaults, **s}.get(c) for c in SITE_COLUMNS} for s in sites]
    frame = pl.DataFrame(rows, schema=SITE_COLUMNS)
    if not frame.is_empty():
        con.register("_rows", frame)
        cols = ", ".join(SITE_COLUMNS)
        con.sql(f"INSERT INTO sites ({cols}) SELECT {cols} FROM _rows")
        con.unregister("_rows")
    return con


COMMUNES = pl.DataFrame(
    [
        ("01001", "Alpha", "01", "84", 1000, 46.00, 5.00, "0101"),
        ("01002", "Beta", "01", "84", 2000, 46.10, 5.10, "0101"),
        ("01003", "Gamma", "01", "84", 500, 46.50, 5.50, "0102"),
        ("01004", "Péronnas", "01", "84", 300, 46.18, 5.21, "0105"),
        ("01005", "Saint-Denis", "01", "84", 700, 46.22, 5.28, "0106"),
        ("01053", "Bourg", "01", "84", 40000, 46.20, 5.22, "0199"),
        ("02001", "Delta", "02", "32", 4000, 46.20, 5.30, "0201"),
        ("75056", "Paris", "75", "11", 2_000_000, 48.86, 2.35, None),
        ("97601", "Acoua", "976", "06", None, -12.72, 45.06, "9761"),
    ],
    schema={
        "code_insee": pl.String,
        "nom": pl.String,
        "departement": pl.String,
        "region": pl.String,
        "population": pl.Int64,
        "latitude": pl.Float64,
        "longitude": pl.Float64,
        "canton": pl.String,
    },
    orient="row",
)

CANTONS = pl.DataFrame(
    [
        ("0101", "Alpha", "C", "01", "84", 3000, 2),
        ("0102", "Gamma", "C", "01", "84", 500, 1),
        ("0105", "Bourg-1", "C", "01", "84", 300, 1),
        ("0106", "Bourg-2", "C", "01", "84", 700, 1),
        ("0199", "Bourg", "V", "01", "84", 40000, 1),
        ("0201", "Delta", "C", "02", "32", 4000, 1),
        ("9761", "Acoua", "C", "976", "06", None, 1),
    ],
    schema={
        "code": pl.String,
        "nom": pl.String,
        "type": pl.String,
        "departement": pl.String,
        "region": pl.String,
        "population": pl.Int64,
        "nb_communes": pl.Int64,
    },
    orient="row",
).with_columns(pl.lit(0.0).alias("latitude"), pl.lit(0.0).alias("longitude"))


@pytest.fixture
def tiny_geography(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geography, "communes", lambda: COMMUNES)
    monkeypatch.setattr(geography, "cantons", lambda: CANTONS)


TINY_SITES = [
    # open, with coordinates, next to Alpha
    {
        "site_id": "S1",
        "nom": "France services Alpha",
        "code_commune": "01001",
        "departement": "01",
        "latitude": 46.02,
        "longitude": 5.01,
    },
    # open, no coordinates: placed at its commune's point (Delta, département 02)
    {"site_id": "S2", "nom": "France services Delta", "code_commune": "02001", "departement": "02"},
    # closed the very day: not open (OPEN_AT: date_fermeture > day)
    {
        "site_id": "S3",
        "nom": "Ancienne maison Gamma",
        "code_commune": "01003",
        "departement": "01",
        "latitude": 46.5,
        "longitude": 5.5,
        "date_fermeture": DAY,
    },
    # labelled the day after: not open yet
    {
        "site_id": "S4",
        "nom": "Future maison Beta",
        "code_commune": "01002",
        "departement": "01",
        "latitude": 46.1,
        "longitude": 5.1,
        "date_labellisation": DAY + dt.timedelta(days=1),
    },
]


# --- geometry -------------------------------------------------------------------------------------


def test_nearest_matches_brute_force_haversine() -> None:
    rng = np.random.default_rng(7)
    lat = rng.uniform(42, 51, 700)
    lon = rng.uniform(-4, 8, 700)
    # targets: some far, some a few metres from a point (precision of very short distances)
    t_lat = np.concatenate([rng.uniform(42, 51, 150), lat[:50] + 1e-5])
    t_lon = np.concatenate([rng.uniform(-4, 8, 150), lon[:50] - 2e-5])
    idx, dist = coverage.nearest(lat, lon, t_lat, t_lon)
    for i in range(len(lat)):
        ref = [haversine_km(lat[i], lon[i], a, b) for a, b in zip(t_lat, t_lon, strict=False)]
        assert dist[i] == pytest.approx(min(ref), abs=1e-6)
        assert ref[idx[i]] == pytest.approx(min(ref), abs=1e-6)
    assert dist[:50].max() < 0.003  # the near targets were found, at a couple of metres


def test_nearest_without_targets() -> None:
    idx, dist = coverage.nearest(np.array([46.0]), np.array([5.0]), np.array([]), np.array([]))
    assert idx.tolist() == [-1] and np.isnan(dist).all()


def test_distance_helpers_agree() -> None:
    lat1, lon1, lat2, lon2 = 48.8566, 2.3522, 43.2965, 5.3698  # Paris – Marseille
    ref = haversine_km(lat1, lon1, lat2, lon2)
    assert coverage.great_circle_km(lat1, lon1, lat2, lon2) == pytest.approx(ref, abs=1e-6)
    assert distance_matrix_km([lat1], [lon1], [lat2], [lon2])[0, 0] == pytest.approx(ref, abs=1e-6)
    assert 660 < ref < 665


# Boxes (lat min, lat max, lon min, lon max) where the random points of the index tests fall.
AREAS = {
    "métropole": (42.3, 51.1, -4.8, 8.2),
    "Corse": (41.4, 43.0, 8.5, 9.6),
    "Guadeloupe": (15.8, 16.5, -61.8, -61.0),
    "Martinique": (14.4, 14.9, -61.2, -60.8),
    "Guyane": (2.1, 5.8, -54.6, -51.6),
    "La Réunion": (-21.4, -20.9, 55.2, 55.8),
    "Mayotte": (-13.0, -12.6, 45.0, 45.3),
}


def random_points(rng: np.random.Generator, per_area: int) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.repeat(np.array(list(AREAS.values())), per_area, axis=0)
    return rng.uniform(boxes[:, 0], boxes[:, 1]), rng.uniform(boxes[:, 2], boxes[:, 3])


def brute_force_nearest(
    lat: np.ndarray, lon: np.ndarray, t_lat: np.ndarray, t_lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every point against every target with the atan2 formula, element-wise (no index, no BLAS):
    the first target at the least distance, that distance, and the whole distance matrix."""
    points, targets = coverage.unit_vectors(lat, lon), coverage.unit_vectors(t_lat, t_lon)
    matrix = np.empty((len(points), len(targets)))
    for start in range(0, len(points), 200):
        block = points[start : start + 200, None, :]
        cross = np.cross(block, targets[None, :, :])
        dot = (block * targets[None, :, :]).sum(axis=-1)
        matrix[start : start + 200] = R * np.arctan2(np.sqrt((cross**2).sum(axis=-1)), dot)
    best = matrix.argmin(axis=1)
    return best, matrix[np.arange(len(points)), best], matrix


def test_nearest_index_matches_brute_force_france_and_overseas() -> None:
    rng = np.random.default_rng(2026)
    lat, lon = random_points(rng, 450)  # 3 150 points
    t_lat, t_lon = random_points(rng, 200)
    # targets a few metres from some points, co-located twins (the first one must win, as in a
    # brute-force search), and points standing exactly on a target
    t_lat = np.concatenate([t_lat, lat[:40] + 2e-5, t_lat[:30], lat[40:50]])
    t_lon = np.concatenate([t_lon, lon[:40] - 1e-5, t_lon[:30], lon[40:50]])
    idx, dist = coverage.nearest(lat, lon, t_lat, t_lon)
    ref_idx, ref_dist, matrix = brute_force_nearest(lat, lon, t_lat, t_lon)
    assert np.abs(dist - ref_dist).max() <= 1e-9
    differ = np.flatnonzero(idx != ref_idx)
    # ties aside: a different index is only allowed for another target at the very same distance
    assert np.abs(matrix[differ, idx[differ]] - ref_dist[differ]).max(initial=0.0) <= 1e-9
    assert len(differ) == 0  # and there is none among random points
    assert dist[:40].max() < 0.003 and (dist[40:50] == 0).all()
    twins = np.arange(len(t_lat) - 40, len(t_lat) - 10)  # the second copy of 30 targets
    assert np.isin(idx, np.arange(30)).any() and not np.isin(idx, twins).any()


def test_nearest_point_without_coordinates() -> None:
    idx, dist = coverage.nearest(np.array([46.0, np.nan]), np.array([5.0, np.nan]), np.array([46.1]), np.array([5.0]))
    assert idx.tolist() == [0, -1]
    assert dist[0] == pytest.approx(haversine_km(46.0, 5.0, 46.1, 5.0), abs=1e-9) and np.isnan(dist[1])


@pytest.mark.parametrize("radius", [0.5, 10, 37.5])
def test_pairs_within_match_the_dense_matrix(radius: float) -> None:
    rng = np.random.default_rng(int(radius * 10))
    lat, lon = random_points(rng, 60)
    f_lat, f_lon = random_points(rng, 50)
    f_lat[:20], f_lon[:20] = lat[:20], lon[:20] + 1e-4  # pairs ~8 m apart
    i, j = coverage.pairs_within_km(lat, lon, f_lat, f_lon, radius)
    ref_i, ref_j = np.nonzero(distance_matrix_km(lat, lon, f_lat, f_lon) <= radius)
    assert i.tolist() == ref_i.tolist() and j.tolist() == ref_j.tolist()
    assert len(i) > 20
    empty = coverage.pairs_within_km(lat, lon, np.array([]), np.array([]), radius)
    assert len(empty[0]) == len(empty[1]) == 0


class KeyedConnection:
    """A connection carrying a warehouse version, as the pooled reader does: answers are cached."""

    def __init__(self, con: duckdb.DuckDBPyConnection, key: object) -> None:
        self._con = con
        self.cache_key = key
        self.queries = 0

    def sql(self, *args, **kwargs):
        self.queries += 1
        return self._con.sql(*args, **kwargs)


def test_national_access_is_computed_once_per_version_and_day(
    tiny_geography: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    searches = []
    real_nearest = coverage._nearest_sites
    monkeypatch.setattr(coverage, "_nearest_sites", lambda *a: searches.append(1) or real_nearest(*a))
    plain = make_warehouse(CANTON_SITES)
    con = KeyedConnection(plain, object())
    dep = Scope("departement", "01")
    answers = [
        (coverage.population_within, (NATIONAL, DAY)),
        (coverage.population_within, (dep, DAY)),
        (coverage.farthest_communes, (NATIONAL, DAY)),
        (coverage.farthest_communes, (dep, DAY, 2)),
        (coverage.commune_access, (Scope("region", "32"), DAY)),
        (coverage.canton_coverage, (dep, DAY)),
        (coverage.canton_coverage_summary, (NATIONAL, DAY)),
        (coverage.canton_coverage_summary, (dep, DAY)),
    ]
    cached = [function(con, *args) for function, args in answers]
    assert len(searches) == 1  # one national nearest-site search served every scope and function
    assert con.queries == 1  # the open sites were read once
    coverage.population_within(con, NATIONAL, DAY - dt.timedelta(days=1))  # another day: computed again
    coverage.population_within(KeyedConnection(plain, object()), NATIONAL, DAY)  # another version: again
    assert len(searches) == 3
    for (function, args), answer in zip(answers, cached, strict=True):
        assert answer.equals(function(plain, *args)), function.__name__  # the uncached answer
    with pytest.raises(ValueError):
        coverage.commune_access(con, Scope("site", "S1"), DAY)


# --- access ---------------------------------------------------------------------------------------


def test_commune_access_nearest_open_site(tiny_geography: None) -> None:
    con = make_warehouse(TINY_SITES)
    access = coverage.commune_access(con, NATIONAL, DAY)
    assert access.height == COMMUNES.height
    got = {r["code_insee"]: (r["nearest_site_id"], r["distance_km"]) for r in access.iter_rows(named=True)}
    s1, s2 = (46.02, 5.01), (46.20, 5.30)  # S2 sits at Delta's point
    assert got["97601"] == (None, None)  # Mayotte has no site of its own: not measured to metropolitan ones
    for row in COMMUNES.filter(pl.col("departement") != "976").iter_rows(named=True):
        here = (row["latitude"], row["longitude"])
        d1, d2 = haversine_km(*here, *s1), haversine_km(*here, *s2)
        expected = ("S1", d1) if d1 < d2 else ("S2", d2)
        assert got[row["code_insee"]][0] == expected[0], row["nom"]
        assert got[row["code_insee"]][1] == pytest.approx(expected[1], abs=1e-6), row["nom"]
    # Gamma (01) is nearest to the site of the neighbouring département, not to S1 of its own:
    assert got["01003"][0] == "S2"
    assert got["02001"][1] == pytest.approx(0.0, abs=1e-9)
    # by hand: Alpha–S1 is 0.02° of latitude and 0.01° of longitude at 46° N
    assert got["01001"][1] == pytest.approx(
        math.hypot(0.02 * 111.195, 0.01 * 111.195 * math.cos(math.radians(46.01))), rel=1e-3
    )


def test_commune_access_scope_and_no_site(tiny_geography: None) -> None:
    con = make_warehouse(TINY_SITES)
    dep = coverage.commune_access(con, Scope("departement", "01"), DAY)
    assert set(dep["departement"]) == {"01"} and dep.height == 6
    assert set(coverage.commune_access(con, Scope("region", "32"), DAY)["code_insee"]) == {"02001"}
    with pytest.raises(ValueError):
        coverage.commune_access(con, Scope("site", "S1"), DAY)
    before = coverage.commune_access(con, NATIONAL, dt.date(2019, 1, 1))  # nothing open yet
    assert before["distance_km"].null_count() == before.height
    assert before["nearest_site_id"].null_count() == before.height


def test_population_within(tiny_geography: None) -> None:
    con = make_warehouse(TINY_SITES)
    access = coverage.commune_access(con, NATIONAL, DAY)
    frame = coverage.population_within(con, NATIONAL, DAY, radii=(5, 20))
    known = [r for r in access.iter_rows(named=True) if r["population"] is not None]  # Acoua (Mayotte) left out
    total = sum(r["population"] for r in known)
    assert total == 1000 + 2000 + 500 + 300 + 700 + 40000 + 4000 + 2_000_000
    for row in frame.iter_rows(named=True):
        within = sum(r["population"] for r in known if r["distance_km"] <= row["radius_km"])
        assert row["population_within"] == within
        assert row["population_total"] == total
        assert row["share"] == pytest.approx(within / total)
    # within 5 km of S1 or S2: Alpha (2.35 km from S1), Saint-Denis (2.70 km from S2) and Delta (0 km);
    # not Bourg (6.16 km from S2) nor Péronnas (7.28 km)
    assert frame["population_within"][0] == 1000 + 700 + 4000
    dep = coverage.population_within(con, Scope("departement", "02"), DAY, radii=(1,))
    assert dep.row(0) == (1.0, 4000, 4000, 1.0)


def test_farthest_communes(tiny_geography: None) -> None:
    con = make_warehouse(TINY_SITES)
    far = coverage.farthest_communes(con, NATIONAL, DAY, n=COMMUNES.height)
    # Mayotte has no site: its commune is not measured to a site of metropolitan France, thousands
    # of km away, but comes last, without distance; the farthest measured commune is Paris.
    assert far["code_insee"].to_list()[0] == "75056"
    assert far["code_insee"].to_list()[-1] == "97601" and far["distance_km"][-1] is None
    assert far.head(3)["distance_km"].is_sorted(descending=True)
    assert far.head(COMMUNES.height - 1)["nearest_site_nom"].null_count() == 0
    dep01 = coverage.farthest_communes(con, Scope("departement", "01"), DAY, n=1)
    assert dep01["code_insee"].to_list() == ["01003"] and dep01["nearest_site_nom"][0] == "France services Delta"


def test_overseas_communes_are_measured_to_their_own_territory(tiny_geography: None) -> None:
    mayotte_site = {
        "site_id": "S9",
        "nom": "France services de Mamoudzou",
        "code_commune": "97611",
        "departement": "976",
        "latitude": -12.78,
        "longitude": 45.23,
    }
    con = make_warehouse([*TINY_SITES, mayotte_site])
    access = coverage.commune_access(con, NATIONAL, DAY)
    acoua = access.filter(pl.col("code_insee") == "97601").row(0, named=True)
    assert acoua["nearest_site_id"] == "S9"
    assert acoua["distance_km"] == pytest.approx(haversine_km(-12.72, 45.06, -12.78, 45.23), abs=1e-6)
    # ... and no metropolitan commune is measured to the Mayotte site
    assert "S9" not in access.filter(pl.col("departement") != "976")["nearest_site_id"].to_list()
    assert coverage.territories_without_site(con, NATIONAL, DAY).is_empty()


def test_territories_without_site(tiny_geography: None) -> None:
    con = make_warehouse(TINY_SITES)
    without = coverage.territories_without_site(con, NATIONAL, DAY)
    assert without.to_dicts() == [{"departement": "976", "communes": 1, "population": None}]
    assert coverage.territories_without_site(con, Scope("departement", "01"), DAY).is_empty()
    before = coverage.territories_without_site(con, NATIONAL, dt.date(2019, 1, 1))  # nothing open anywhere
    assert before["departement"].to_list() == ["976", None]
    assert before.filter(pl.col("departement").is_null())["communes"][0] == COMMUNES.height - 1


# --- cantons --------------------------------------------------------------------------------------


CANTON_SITES = [
    *TINY_SITES,
    # in the city split between cantons (pseudo-canton 0199)
    {"site_id": "S5", "nom": "France services Bourg", "code_commune": "01053", "departement": "01"},
    # in Bourg-2's own commune
    {"site_id": "S6", "nom": "France services Saint-Denis", "code_commune": "01005", "departement": "01"},
    # a Paris arrondissement: belongs to Paris, which has no canton
    {"site_id": "S7", "nom": "France services Paris 12e", "code_commune": "75112", "departement": "75"},
]


def test_canton_coverage(tiny_geography: None) -> None:
    con = make_warehouse(CANTON_SITES)
    frame = coverage.canton_coverage(con, NATIONAL, DAY)
    rows = {r["code"]: r for r in frame.iter_rows(named=True)}
    assert set(rows) == set(CANTONS["code"])
    assert {c: rows[c]["sites"] for c in rows} == {
        "0101": 1,
        "0102": 0,
        "0105": 0,
        "0106": 1,
        "0199": 1,
        "0201": 1,
        "9761": 0,
    }
    assert [c for c in rows if rows[c]["couvert"]] == ["0101", "0106", "0199", "0201"]  # uncovered first, then code
    # Bourg-1 shares the city of Bourg, which has a site: its coverage is uncertain, not claimed
    assert rows["0105"]["ville_partagee"] == "0199" and rows["0105"]["incertain"]
    assert rows["0106"]["ville_partagee"] == "0199" and not rows["0106"]["incertain"]
    assert not rows["0102"]["incertain"] and rows["0102"]["ville_partagee"] is None
    assert frame.columns[:8] == ["code", "nom", "type", "departement", "region", "population", "sites", "couvert"]


def test_canton_coverage_summary(tiny_geography: None) -> None:
    con = make_warehouse(CANTON_SITES)
    summary = coverage.canton_coverage_summary(con, NATIONAL, DAY).row(0, named=True)
    assert summary["cantons_total"] == 7 and summary["cantons_covered"] == 4
    assert summary["share"] == pytest.approx(4 / 7)
    assert summary["cantons_incertains"] == 1 and summary["share_max"] == pytest.approx(5 / 7)
    assert (summary["pseudo_cantons"], summary["pseudo_cantons_covered"]) == (1, 1)
    # Paris: outside the target, counted apart with its site (a 12e-arrondissement code)
    assert (summary["communes_sans_canton"], summary["population_sans_canton"], summary["sites_sans_canton"]) == (
        1,
        2_000_000,
        1,
    )
    assert summary["objectif"] == 1.0 and summary["echeance"] == dt.date(2022, 12, 31)
    dep = coverage.canton_coverage_summary(con, Scope("departement", "01"), DAY).row(0, named=True)
    assert (dep["cantons_total"], dep["cantons_covered"], dep["communes_sans_canton"]) == (5, 3, 0)
    # Delta's canton is covered by S2, whose coordinates are missing: the commune decides
    assert coverage.canton_coverage_summary(con, Scope("region", "32"), DAY)["cantons_covered"][0] == 1
    # the site closed that day does not cover Gamma
    assert not coverage.canton_coverage(con, Scope("departement", "01"), DAY).filter(pl.col("code") == "0102")[
        "couvert"
    ][0]


def test_canton_of_a_merged_commune_comes_from_coordinates() -> None:
    """Code 49069 (Orée d'Anjou before 2025) is not in the COG 2025: the canton polygon decides."""
    assert geography.communes().filter(pl.col("code_insee") == "49069").is_empty()
    con = make_warehouse(
        [
            {
                "site_id": "X",
                "nom": "France services Orée d'Anjou",
                "code_commune": "49069",
                "departement": "49",
                "latitude": 47.33922,
                "longitude": -1.2066,
            }
        ]
    )
    frame = coverage.canton_coverage(con, Scope("departement", "49"), DAY)
    expected = geography.communes().filter(pl.col("code_insee") == "49126")["canton"][0]
    assert frame.filter(pl.col("sites") > 0)["code"].to_list() == [expected]


# --- sites outside their département ------------------------------------------------------------


def test_sites_outside_departement() -> None:
    con = make_warehouse(
        [
            {
                "site_id": "rouen",
                "nom": "Registered in Eure, standing in Rouen",
                "code_commune": "76540",
                "departement": "27",
                "latitude": 49.4431,
                "longitude": 1.0993,
            },
            {
                "site_id": "paris",
                "nom": "Paris, in Paris",
                "code_commune": "75056",
                "departement": "75",
                "latitude": 48.8566,
                "longitude": 2.3522,
            },
            {
                "site_id": "sea",
                "nom": "In the Atlantic",
                "code_commune": "29019",
                "departement": "29",
                "latitude": 47.0,
                "longitude": -6.0,
            },
            {
                "site_id": "border",
                "nom": "126 m over the simplified border",
                "code_commune": "93030",
                "departement": "93",
                "latitude": 48.956235,
                "longitude": 2.445624,
            },
            {"site_id": "nocoords", "nom": "No coordinates", "code_commune": "01001", "departement": "01"},
            {
                "site_id": "stmartin",
                "nom": "Saint-Martin, no polygon",
                "code_commune": "97801",
                "departement": "978",
                "latitude": 18.0668,
                "longitude": -63.0336,
            },
            {
                "site_id": "stmartin-paris",
                "nom": "Saint-Martin placed in Paris",
                "code_commune": "97801",
                "departement": "978",
                "latitude": 48.85,
                "longitude": 2.34,
            },
            {
                "site_id": "closed",
                "nom": "Closed, in Lyon",
                "code_commune": "13055",
                "departement": "13",
                "latitude": 45.764,
                "longitude": 4.8357,
                "date_fermeture": dt.date(2023, 1, 1),
            },
        ]
    )
    frame = coverage.sites_outside_departement(con)
    assert frame.columns == [
        "site_id",
        "nom",
        "departement",
        "departement_found",
        "latitude",
        "longitude",
        "distance_km",
    ]
    rows = {r["site_id"]: r for r in frame.iter_rows(named=True)}
    assert set(rows) == {"rouen", "sea", "stmartin-paris", "closed"}
    assert rows["rouen"]["departement_found"] == "76" and rows["rouen"]["distance_km"] > 5
    assert rows["sea"]["departement_found"] is None and rows["sea"]["distance_km"] > 100
    assert rows["stmartin-paris"]["departement_found"] == "75" and rows["stmartin-paris"]["distance_km"] is None
    assert rows["closed"]["departement_found"] == "69"
    assert set(coverage.sites_outside_departement(con, day=DAY)["site_id"]) == {"rouen", "sea", "stmartin-paris"}
    assert coverage.sites_outside_departement(con, Scope("departement", "27"))["site_id"].to_list() == ["rouen"]
    assert coverage.sites_outside_departement(make_warehouse([])).is_empty()


# --- the official list of 1 August 2024 -------------------------------------------------------------

FORMATS = {
    "Fixe": "FIXE",
    "Multisites": "MULTISITES",
    "Bus_équivalent": "BUS",
    "Fixe_antenne(s)": "FIXE_ANTENNES",
    "Itinérante": "ITINERANT",
}
DAYS = ["h_lundi", "h_mardi", "h_mercredi", "h_jeudi", "h_vendredi", "h_samedi"]


def _hours(cell: str | None) -> float:
    """« 09:00 - 12:00 / 13:30 - 17:00 » -> 6.5."""
    total = 0.0
    for span in (cell or "").split("/"):
        if span.strip():
            start, end = (dt.datetime.strptime(x.strip(), "%H:%M") for x in span.split("-"))
            total += (end - start).total_seconds() / 3600
    return total


def anct_sites(path: Path = ANCT_LIST) -> pl.DataFrame:
    """The list as ``sites`` rows, straight from the CSV (not through the project's readers)."""
    raw = pl.read_csv(path, infer_schema=False)
    regions = geography.departements().select(pl.col("code").alias("insee_dep"), "region")
    published = pl.sum_horizontal(pl.col(d).is_not_null().cast(pl.Int64) for d in DAYS)
    return raw.join(regions, on="insee_dep", how="left").select(
        pl.col("id_fs").alias("site_id"),
        pl.col("lib_fs").alias("nom"),
        pl.col("insee_com").alias("code_commune"),
        pl.col("insee_dep").alias("departement"),
        "region",
        pl.col("format_fs").replace_strict(FORMATS).alias("format"),
        pl.col("type_fs").str.to_uppercase().alias("type_site"),
        pl.col("labellisation_fs")
        .str.extract(r"(\d\d/\d\d/\d{4})")
        .str.to_date("%d/%m/%Y")
        .alias("date_labellisation"),
        pl.lit(None, dtype=pl.Date).alias("date_fermeture"),
        pl.col("latitude").cast(pl.Float64),
        pl.col("longitude").cast(pl.Float64),
        pl.when(published > 0).then(pl.concat_str(DAYS, separator=" ; ", ignore_nulls=True)).alias("horaires"),
        pl.when(published > 0)
        .then(pl.struct(DAYS).map_elements(lambda r: sum(_hours(r[d]) for d in DAYS), return_dtype=pl.Float64))
        .alias("heures_ouverture_hebdo"),
        pl.when(published > 0).then(published).alias("jours_ouverture_hebdo"),
    )


@lru_cache(maxsize=1)
def real_warehouse() -> duckdb.DuckDBPyConnection:
    """Warehouse holding the list of 1 August 2024 (built once per test session)."""
    return make_warehouse(anct_sites().to_dicts())


needs_list = pytest.mark.skipif(not ANCT_LIST.is_file(), reason=f"{ANCT_LIST} absent")


@pytest.fixture
def real() -> duckdb.DuckDBPyConnection:
    return real_warehouse()


@needs_list
def test_real_list_loaded(real: duckdb.DuckDBPyConnection) -> None:
    assert real.sql("SELECT count(*) FROM sites").fetchall()[0][0] == 2845
    assert real.sql("SELECT count(*) FROM sites WHERE region IS NULL").fetchall()[0][0] == 2  # Saint-Martin


@needs_list
def test_real_canton_coverage_matches_direct_join(real: duckdb.DuckDBPyConnection) -> None:
    communes = geography.communes()
    raw = anct_sites().filter(pl.col("date_labellisation") <= LIST_DATE)
    # independent: the list's commune (arrondissements folded into their city by their prefix) -> canton
    city = (
        pl.when(pl.col("code_commune").str.starts_with("751"))
        .then(pl.lit("75056"))
        .when(pl.col("code_commune").str.starts_with("6938"))
        .then(pl.lit("69123"))
        .when(pl.col("code_commune").str.starts_with("132"))
        .then(pl.lit("13055"))
        .otherwise("code_commune")
    )
    joined = raw.with_columns(city.alias("commune")).join(
        communes.select(pl.col("code_insee").alias("commune"), "canton"), on="commune", how="left"
    )
    unmatched = joined.filter(~pl.col("commune").is_in(communes["code_insee"].implode()))
    direct = set(joined["canton"].drop_nulls())
    frame = coverage.canton_coverage(real, NATIONAL, LIST_DATE)
    covered = set(frame.filter("couvert")["code"])
    # the module may add cantons only through sites whose code the COG 2025 no longer knows
    assert direct <= covered
    assert len(covered - direct) <= unmatched.height
    counts = joined.group_by("canton").len()
    for code, n in counts.filter(pl.col("canton").is_not_null()).iter_rows():
        assert frame.filter(pl.col("code") == code)["sites"][0] >= n
    summary = coverage.canton_coverage_summary(real, NATIONAL, LIST_DATE).row(0, named=True)
    print(
        f"\ncantons-ou-villes couverts au {LIST_DATE}: {summary['cantons_covered']}/{summary['cantons_total']} "
        f"({summary['share']:.1%}, au plus {summary['share_max']:.1%} avec {summary['cantons_incertains']} "
        f"cantons incertains) ; pseudo-cantons {summary['pseudo_cantons_covered']}/{summary['pseudo_cantons']} ; "
        f"sites sans canton {summary['sites_sans_canton']} ; sites dont le code commune est inconnu "
        f"{unmatched.height} ({sorted(set(unmatched['code_commune']))})"
    )
    assert summary["cantons_total"] == geography.cantons().height
    assert summary["cantons_covered"] == len(covered)


def _within_by_grid(communes: pl.DataFrame, sites: pl.DataFrame, radius: float) -> pl.Series:
    """Independent test of « a site within ``radius`` km »: sites of the neighbouring grid cells only,
    then a haversine written with Polars expressions."""
    cell_lat, cell_lon = radius / 100.0, radius / 60.0  # cells ≥ radius (km) in both directions up to 51° N

    def cells(lat: str, lon: str) -> list[pl.Expr]:
        return [
            pl.col(lat).truediv(cell_lat).floor().cast(pl.Int64).alias("ci"),
            pl.col(lon).truediv(cell_lon).floor().cast(pl.Int64).alias("cj"),
        ]

    c = communes.select("code_insee", "latitude", "longitude", *cells("latitude", "longitude"))
    s = (
        sites.select(
            pl.col("latitude").alias("slat"), pl.col("longitude").alias("slon"), *cells("latitude", "longitude")
        )
        .join(pl.DataFrame({"di": [-1, 0, 1]}), how="cross")
        .join(pl.DataFrame({"dj": [-1, 0, 1]}), how="cross")
        .select("slat", "slon", (pl.col("ci") + pl.col("di")).alias("ci"), (pl.col("cj") + pl.col("dj")).alias("cj"))
    )
    rad = math.pi / 180
    h = (((pl.col("slat") - pl.col("latitude")) * rad / 2).sin() ** 2) + (pl.col("latitude") * rad).cos() * (
        pl.col("slat") * rad
    ).cos() * (((pl.col("slon") - pl.col("longitude")) * rad / 2).sin() ** 2)
    near = (
        c.join(s, on=["ci", "cj"])
        .with_columns((2 * R * h.sqrt().arcsin()).alias("d"))
        .filter(pl.col("d") <= radius)
        .select("code_insee")
        .unique()
    )
    return communes["code_insee"].is_in(near["code_insee"].implode())


@needs_list
def test_real_distances_match_independent_haversine(real: duckdb.DuckDBPyConnection) -> None:
    access = coverage.commune_access(real, NATIONAL, LIST_DATE)
    sites = coverage.open_sites(real, LIST_DATE)
    assert sites["latitude"].null_count() == 0

    def territory(dep: str) -> str:  # written again here, independently of coverage.access_territory
        return dep if dep[:2] in ("97", "98") else "metropole"

    points: dict[str, list[tuple[float, float]]] = {}
    for dep, lat, lon in sites.select("departement", "latitude", "longitude").iter_rows():
        points.setdefault(territory(dep), []).append((lat, lon))
    rng = np.random.default_rng(2024)
    sample = access[rng.choice(access.height, 500, replace=False).tolist()]
    for row in sample.iter_rows(named=True):
        mine = points.get(territory(row["departement"]), [])
        best = min((haversine_km(row["latitude"], row["longitude"], a, b) for a, b in mine), default=None)
        assert row["distance_km"] == pytest.approx(best, abs=1e-6), row["code_insee"]
    # every overseas département of the 2024 list has its own sites: none is left without
    assert coverage.territories_without_site(real, NATIONAL, LIST_DATE).is_empty()
    assert access.filter(pl.col("departement") == "976")["distance_km"].max() < 30

    shares = coverage.population_within(real, NATIONAL, LIST_DATE)
    communes = geography.communes().filter(pl.col("population").is_not_null())
    total = communes["population"].sum()
    for row in shares.iter_rows(named=True):
        within = _within_by_grid(communes, sites, row["radius_km"])
        independent = communes.filter(within)["population"].sum() / total
        assert row["share"] == pytest.approx(independent, abs=0.001)  # 0.1 point
        assert row["population_total"] == total
        print(
            f"population à moins de {row['radius_km']:.0f} km d'un site : {row['share']:.2%} "
            f"(contrôle indépendant {independent:.2%})"
        )


@needs_list
def test_real_sites_outside_departement(real: duckdb.DuckDBPyConnection) -> None:
    frame = coverage.sites_outside_departement(real)
    print("\nsites hors de leur département :\n", frame)
    assert frame.height <= 10
    # investigated: registered in the Eure (27), its commune (76540) and coordinates are in Rouen
    rouen = frame.filter(pl.col("site_id") == "1820").row(0, named=True)
    assert (rouen["departement"], rouen["departement_found"]) == ("27", "76")
    raw = anct_sites().filter(pl.col("site_id") == "1820").row(0, named=True)
    assert raw["code_commune"] == "76540"
    # not flagged: 126 m over the simplified border of Seine-Saint-Denis (Dugny) …
    assert "2130" not in frame["site_id"].to_list()
    # … nor the sites of Saint-Martin (978), which the geography has no polygon for
    assert not set(frame["site_id"]) & {"1684", "1685"}
