"""Opening candidates: greedy ranking of communes by annex-2 criteria, on hand-made geographies.

Tiny département « 01 » (radius 10 km; 0.1° of latitude ≈ 11.1 km):

==========  ===========  ========  ======  ============================================
commune     point        habit.    canton  remarque
==========  ===========  ========  ======  ============================================
Hôte        46.00, 5.00  3 000     K1      hosts the only site
Proche      46.03, 5.02  6 000     K1      3.7 km from the site: near, a small centre
Voisin      46.05, 5.00  500       K3      5.6 km from the site; canton K3 has no site
Bourgade    46.30, 5.00  4 210     K2      33 km away: far; a small centre
Nord        46.35, 5.00  800       K2      far; 5.6 km from Bourgade
Est         46.30, 5.08  300       K2      far; 6.2 km from Bourgade
Hameau      46.42, 5.00  150       K2      far; 13.3 km from Bourgade, 7.8 km from Nord
Lointain    45.60, 5.00  1 200     K1      far, alone
==========  ===========  ========  ======  ============================================

Far population: 4 210 + 800 + 300 + 150 + 1 200 = 6 660.
"""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
import pytest
from test_coverage import ANCT_LIST, LIST_DATE, KeyedConnection, haversine_km, make_warehouse, real_warehouse

from fsdash import geography
from fsdash.formats import NNBSP
from fsdash.metrics import candidates, coverage
from fsdash.metrics.candidates import opening_candidates
from fsdash.metrics.coverage import commune_access, open_sites
from fsdash.metrics.scope import NATIONAL, Scope

DAY = dt.date(2024, 6, 30)
COMMUNE_SCHEMA = {
    "code_insee": pl.String,
    "nom": pl.String,
    "departement": pl.String,
    "region": pl.String,
    "population": pl.Int64,
    "latitude": pl.Float64,
    "longitude": pl.Float64,
    "canton": pl.String,
}
CANTON_SCHEMA = {
    "code": pl.String,
    "nom": pl.String,
    "type": pl.String,
    "departement": pl.String,
    "region": pl.String,
    "population": pl.Int64,
    "nb_communes": pl.Int64,
    "latitude": pl.Float64,
    "longitude": pl.Float64,
}

COMMUNES = pl.DataFrame(
    [
        ("01001", "Hôte", "01", "84", 3000, 46.00, 5.00, "0101"),
        ("01002", "Proche", "01", "84", 6000, 46.03, 5.02, "0101"),
        ("01003", "Voisin", "01", "84", 500, 46.05, 5.00, "0103"),
        ("01004", "Bourgade", "01", "84", 4210, 46.30, 5.00, "0102"),
        ("01005", "Nord", "01", "84", 800, 46.35, 5.00, "0102"),
        ("01006", "Est", "01", "84", 300, 46.30, 5.08, "0102"),
        ("01007", "Hameau", "01", "84", 150, 46.42, 5.00, "0102"),
        ("01008", "Lointain", "01", "84", 1200, 45.60, 5.00, "0101"),
        # overseas: Guadeloupe (971) and Mayotte (976, no population)
        ("97101", "Anse", "971", "01", 9000, 16.20, -61.50, "9701"),
        ("97102", "Morne", "971", "01", 700, 16.40, -61.50, "9702"),
        ("97601", "Acoua", "976", "06", None, -12.72, 45.06, "9761"),
        ("97602", "Bandraboua", "976", "06", None, -12.70, 45.12, "9762"),
    ],
    schema=COMMUNE_SCHEMA,
    orient="row",
)

CANTONS = pl.DataFrame(
    [
        ("0101", "Canton de l'Hôte", "C", "01", "84", 10200, 3, 0.0, 0.0),
        ("0102", "Canton de la Bourgade", "C", "01", "84", 5460, 4, 0.0, 0.0),
        ("0103", "Canton du Voisin", "C", "01", "84", 500, 1, 0.0, 0.0),
        ("9701", "Anse", "C", "971", "01", 9000, 1, 0.0, 0.0),
        ("9702", "Morne", "C", "971", "01", 700, 1, 0.0, 0.0),
        ("9761", "Acoua", "C", "976", "06", None, 1, 0.0, 0.0),
        ("9762", "Bandraboua", "C", "976", "06", None, 1, 0.0, 0.0),
    ],
    schema=CANTON_SCHEMA,
    orient="row",
)

SITES = [
    {
        "site_id": "S1",
        "nom": "France services de l'Hôte",
        "code_commune": "01001",
        "departement": "01",
        "latitude": 46.0,
        "longitude": 5.0,
    },
    {
        "site_id": "G1",
        "nom": "France services d'Anse",
        "code_commune": "97101",
        "departement": "971",
        "latitude": 16.2,
        "longitude": -61.5,
    },
    {
        "site_id": "M1",
        "nom": "France services d'Acoua",
        "code_commune": "97601",
        "departement": "976",
        "latitude": -12.72,
        "longitude": 45.06,
    },
]


@pytest.fixture
def tiny_geography(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geography, "communes", lambda: COMMUNES)
    monkeypatch.setattr(geography, "cantons", lambda: CANTONS)


def n(value: int) -> str:
    """French grouping, as the reasons print it: 5 310 with a narrow no-break space."""
    return f"{value:,}".replace(",", NNBSP)


def test_greedy_ranking(tiny_geography: None) -> None:
    con = make_warehouse(SITES)
    frame = opening_candidates(con, Scope("departement", "01"), DAY)
    assert list(frame.columns) == [
        "rang",
        "code_insee",
        "nom",
        "population",
        "canton",
        "distance_km",
        "gain_population",
        "score",
        "raisons",
    ]
    assert frame["nom"].to_list() == ["Bourgade", "Voisin", "Lointain", "Nord"]
    assert frame["rang"].to_list() == [1, 2, 3, 4]
    # Bourgade brings itself, Nord and Est within 10 km; Nord, picked last, only the Hameau left
    assert frame["gain_population"].to_list() == [4210 + 800 + 300, 0, 1200, 150]
    assert sum(frame["gain_population"]) == 6660  # no inhabitant claimed twice
    far = 6660
    assert frame["score"].to_list() == pytest.approx(
        [
            round(50 * 5310 / far + 30 + 15, 2),  # gain + uncovered canton K2 + small centre
            30.0,  # canton K3 not covered, nobody far around
            round(50 * 1200 / far, 2),  # canton K1 already covered
            round(50 * 150 / far, 2),  # K2 was covered by the first pick
        ]
    )
    assert frame["raisons"][0] == (
        f"{n(5310)} habitants à plus de 10 km d'un site, rapprochés à moins de 10 km ; "
        f"petite centralité ({n(4210)} habitants) ; "
        "canton non couvert : Canton de la Bourgade"
    )
    assert frame["raisons"][1] == "canton non couvert : Canton du Voisin"
    assert frame["raisons"][3] == "150 habitants à plus de 10 km d'un site, rapprochés à moins de 10 km"
    # current distance of each candidate to the site of Hôte
    assert frame["distance_km"][0] == pytest.approx(haversine_km(46.30, 5.0, 46.0, 5.0), abs=1e-6)
    # the host commune and the near small centre (nothing to bring, canton covered) are not proposed
    assert not {"Hôte", "Proche"} & set(frame["nom"])


def test_greedy_does_not_double_count_neighbours(tiny_geography: None) -> None:
    """Nord alone would bring more people (5 460) than Bourgade (5 310), but once Bourgade is
    chosen Nord is only worth the Hameau: a second site side by side claims no one twice."""
    con = make_warehouse(SITES)
    first = opening_candidates(con, Scope("departement", "01"), DAY, n=1)
    assert first["nom"].to_list() == ["Bourgade"]
    nord = opening_candidates(con, Scope("departement", "01"), DAY).filter(pl.col("nom") == "Nord")
    assert nord["gain_population"][0] == 150


def test_radius_and_limit(tiny_geography: None) -> None:
    con = make_warehouse(SITES)
    assert opening_candidates(con, Scope("departement", "01"), DAY, n=2).height == 2
    wide = opening_candidates(con, Scope("departement", "01"), DAY, radius_km=7.5)
    assert "à plus de 7,5 km d'un site" in wide["raisons"][0]
    # with 50 km every commune is already near the site: only the uncovered cantons remain
    assert opening_candidates(con, Scope("departement", "01"), DAY, radius_km=50)["gain_population"].sum() == 0


def test_overseas_and_unknown_population(tiny_geography: None) -> None:
    con = make_warehouse(SITES)
    gp = opening_candidates(con, Scope("departement", "971"), DAY)
    assert gp["nom"].to_list() == ["Morne"]
    assert gp["raisons"][0] == (
        "700 habitants à plus de 10 km d'un site, rapprochés à moins de 10 km ; "
        "canton non couvert : Morne ; outre-mer (priorité v de l'annexe 2)"
    )
    assert gp["score"][0] == pytest.approx(50 + 30 + 5)
    assert candidates.is_overseas("976") and not candidates.is_overseas("2A")
    # Mayotte: no population, so no gain, but the uncovered canton still calls for a site
    yt = opening_candidates(con, Scope("departement", "976"), DAY)
    assert yt["nom"].to_list() == ["Bandraboua"] and yt["population"][0] is None
    assert yt["raisons"][0] == "canton non couvert : Bandraboua ; outre-mer (priorité v de l'annexe 2)"


def test_unknown_departement_is_empty(tiny_geography: None) -> None:
    con = make_warehouse(SITES)
    frame = opening_candidates(con, Scope("departement", "99"), DAY)
    assert frame.is_empty() and "raisons" in frame.columns


def test_candidates_reuse_the_national_access(tiny_geography: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a versioned connection, every département's list filters one national search."""
    searches = []
    real_nearest = coverage._nearest_sites
    monkeypatch.setattr(coverage, "_nearest_sites", lambda *a: searches.append(1) or real_nearest(*a))
    plain = make_warehouse(SITES)
    con = KeyedConnection(plain, object())
    lists = {dep: opening_candidates(con, Scope("departement", dep), DAY) for dep in ("01", "971", "976")}
    assert len(searches) == 1 and con.queries == 1
    for dep, frame in lists.items():
        assert frame.equals(opening_candidates(plain, Scope("departement", dep), DAY)), dep


needs_list = pytest.mark.skipif(not ANCT_LIST.is_file(), reason=f"{ANCT_LIST} absent")


@needs_list
@pytest.mark.parametrize("departement", ["23", "973", "21"])
def test_real_list_candidates(departement: str) -> None:
    con = real_warehouse()
    start = time.perf_counter()
    frame = opening_candidates(con, Scope("departement", departement), LIST_DATE)
    elapsed = time.perf_counter() - start
    print(
        f"\n{departement}: {frame.height} candidates in {elapsed:.2f} s\n",
        frame.select("rang", "nom", "population", "distance_km", "gain_population", "score", "raisons"),
    )
    assert 0 < frame.height <= 10 and frame["code_insee"].n_unique() == frame.height
    assert frame["raisons"].str.len_chars().min() > 0
    hosts = set(open_sites(con, LIST_DATE)["commune"])
    assert not hosts & set(frame["code_insee"])
    # independent check of the greedy gains: the far inhabitants within 10 km of at least one pick
    access = commune_access(con, NATIONAL, LIST_DATE).filter(pl.col("departement") == departement)
    far = access.filter((pl.col("distance_km") > 10) & pl.col("population").is_not_null())
    picks = access.filter(pl.col("code_insee").is_in(frame["code_insee"].implode()))
    reached = sum(
        f["population"]
        for f in far.iter_rows(named=True)
        if any(
            haversine_km(f["latitude"], f["longitude"], p["latitude"], p["longitude"]) <= 10
            for p in picks.iter_rows(named=True)
        )
    )
    assert frame["gain_population"].sum() == reached
    # gains only shrink and bonuses only vanish as picks are made: scores never rise
    assert frame["score"].is_sorted(descending=True)
