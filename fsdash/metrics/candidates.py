"""Where to open the next sites of a département: a ranked list of communes (annex 2 criteria).

The circular (annex 2) asks prefects to choose new sites by five priority criteria. Those the
data can measure are scored here; the others are said, not guessed:

* i. **zones éloignées d'une offre existante** — measured as the population living farther than
  ``radius_km`` from any open France Services site that a site in the candidate commune would
  bring within ``radius_km`` (the *gain*). Only France Services sites are known: the other public
  services the criterion also names (operators, State services) are not in the data ;
* ii. **petites centralités** — a commune of :data:`PETITE_CENTRALITE_MIN` to
  :data:`PETITE_CENTRALITE_MAX` inhabitants (legal population 2017). This is a proxy: the
  official list of the programme « Petites villes de demain » (and the quartiers prioritaires de
  la politique de la ville) is not in the data ;
* the annex-2 target itself, **every canton covered** — the candidate's canton has no open site
  (:func:`fsdash.metrics.coverage.canton_coverage`; a canton whose coverage is uncertain because
  it shares a city with a pseudo-canton gets no bonus) ;
* v. **outre-mer** — every commune of an overseas département gets the same bonus: it does not
  change the order inside the département, it keeps scores comparable between départements ;
* iii. (itinerant solutions) and iv. (places people already go to) cannot be scored: a candidate
  commune may as well be a stop of a bus as the seat of a fixed site — the list serves both.

Scoring (:data:`WEIGHTS`, points added up)::

    score = 50 × gain / population farther than radius_km in the département (before any pick)
          + 30 if the canton is not covered (nor covered by an earlier pick)
          + 15 if the commune is a petite centralité
          +  5 if the département is overseas

So the gain points of a whole list add up to 50 × the share of the far population it reaches.

Selection is **greedy**: the best-scoring commune is picked, the population it brings within
reach is removed from the far population and its canton counts as covered, then every other
commune is scored again, and so on ``n`` times. Two neighbouring communes therefore never both
claim the same inhabitants (nor the same uncovered canton). A commune is proposed only if it
brings someone within reach or covers a canton; centrality and overseas only order proposals.
Communes already hosting an open site are not candidates.

Distances are great-circle distances between commune points (``fsdash.geography``), as in
:mod:`fsdash.metrics.coverage`. The far population counted is the département's own (the list
feeds the departmental plan; a neighbouring département's population is counted in its list).
Communes of unknown population (Mayotte) weigh nothing in the gain.

Computation: the distances to today's sites and the canton coverage are the national answers of
:mod:`fsdash.metrics.coverage`, computed once and filtered to the département. Which far communes
each candidate reaches is a list of pairs found on a KD-tree
(:func:`fsdash.metrics.coverage.pairs_within_km`), not a dense candidates × far communes matrix,
and each greedy round adds up the remaining far population pair by pair (``np.bincount``): no
matrix product, hence no BLAS threads (see :mod:`fsdash.metrics.coverage`).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl

from fsdash.cache import cached
from fsdash.formats import number
from fsdash.metrics.coverage import canton_coverage, commune_access, open_sites, pairs_within_km
from fsdash.metrics.scope import Scope

PETITE_CENTRALITE_MIN = 2_000
"""Lower bound (inhabitants) of a « petite centralité »: below, a village rather than a centre."""

PETITE_CENTRALITE_MAX = 20_000
"""Upper bound (inhabitants), the ceiling of the programme Petites villes de demain."""

WEIGHTS = {"gain": 50.0, "canton": 30.0, "centralite": 15.0, "outre_mer": 5.0}
"""Points of each criterion (see the module docstring)."""

_SCHEMA = {
    "rang": pl.Int64,
    "code_insee": pl.String,
    "nom": pl.String,
    "population": pl.Int64,
    "canton": pl.String,
    "distance_km": pl.Float64,
    "gain_population": pl.Int64,
    "score": pl.Float64,
    "raisons": pl.String,
}


def is_overseas(departement: str) -> bool:
    return departement.startswith("97")


def _km(value: float) -> str:
    return number(value, 0 if float(value).is_integer() else 1)


@cached(maxsize=32)
def opening_candidates(
    con: duckdb.DuckDBPyConnection, scope: Scope, day: dt.date, n: int = 10, radius_km: float = 10
) -> pl.DataFrame:
    """The ``n`` best communes of a département (``scope``) for a new site or bus stop, best first.

    Columns: ``rang``, ``code_insee``, ``nom``, ``population``, ``canton``, ``distance_km`` (from
    the commune to the nearest open site today), ``gain_population`` (far inhabitants it brings
    within ``radius_km``, net of earlier picks), ``score`` (at the time of its pick) and
    ``raisons`` (the criteria it meets, in French, separated by « ; »). Fewer than ``n`` rows
    when fewer communes bring anything. See the module docstring for the method.
    """
    if scope.level != "departement":
        raise ValueError("les communes candidates se classent dans un département")
    departement = scope.code
    scope = Scope("departement", departement)
    access = commune_access(con, scope, day)
    if access.is_empty():
        return pl.DataFrame(schema=_SCHEMA)
    hosts = set(open_sites(con, day)["commune"].drop_nulls().to_list())
    cantons = canton_coverage(con, scope, day)
    uncovered = dict(cantons.filter(~pl.col("couvert") & ~pl.col("incertain")).select("code", "nom").iter_rows())

    pop = access["population"].fill_null(0).to_numpy().astype(np.int64)
    dist = access["distance_km"].to_numpy()
    far = access["population"].is_not_null().to_numpy() & ~(dist <= radius_km)  # NaN (no site) is far
    far_total = int(pop[far].sum())
    lat, lon = access["latitude"].to_numpy(), access["longitude"].to_numpy()
    # candidate i reaches far commune j: one pair per (i, j) within radius_km, sorted by i
    reach_from, reach_to = pairs_within_km(lat, lon, lat[far], lon[far], radius_km)
    far_pop = pop[far]

    codes = access["code_insee"].to_list()
    canton_of = access["canton"].to_list()
    known_pop = access["population"].to_list()
    centre = np.array([p is not None and PETITE_CENTRALITE_MIN <= p <= PETITE_CENTRALITE_MAX for p in known_pop])
    available = np.array([c not in hosts for c in codes])
    overseas = is_overseas(departement)
    remaining = np.ones(len(far_pop), dtype=bool)
    open_cantons = set(uncovered)
    rows = []
    for rank in range(1, n + 1):
        # integer sums below 2**53: exact in the float64 weights of bincount
        gain = np.bincount(
            reach_from, weights=np.where(remaining[reach_to], far_pop[reach_to], 0), minlength=len(codes)
        ).astype(np.int64)
        canton_bonus = np.array([c is not None and c in open_cantons for c in canton_of])
        eligible = available & ((gain > 0) | canton_bonus)
        if not eligible.any():
            break
        score = (
            WEIGHTS["gain"] * (gain / far_total if far_total else 0.0)
            + WEIGHTS["canton"] * canton_bonus
            + WEIGHTS["centralite"] * centre
            + (WEIGHTS["outre_mer"] if overseas else 0.0)
        )
        order = np.lexsort((np.arange(len(codes)), -pop, -gain, -np.where(eligible, score, -np.inf)))
        pick = int(order[0])
        reasons = []
        if gain[pick] > 0:
            reasons.append(
                f"{number(int(gain[pick]))} habitants à plus de {_km(radius_km)} km d'un site, "
                f"rapprochés à moins de {_km(radius_km)} km"
            )
        if centre[pick]:
            reasons.append(f"petite centralité ({number(known_pop[pick])} habitants)")
        if canton_bonus[pick]:
            reasons.append(f"canton non couvert : {uncovered[canton_of[pick]]}")
        if overseas:
            reasons.append("outre-mer (priorité v de l'annexe 2)")
        rows.append(
            (
                rank,
                codes[pick],
                access["nom"][pick],
                known_pop[pick],
                canton_of[pick],
                None if np.isnan(dist[pick]) else float(dist[pick]),
                int(gain[pick]),
                round(float(score[pick]), 2),
                " ; ".join(reasons),
            )
        )
        remaining[reach_to[reach_from == pick]] = False
        open_cantons.discard(canton_of[pick])
        available[pick] = False
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row")
