"""A synthetic network of France Services sites placed at real communes.

Départements get a nearly even number of sites (the real list has 28 ± 9 per département),
and within a département sites go to small centres rather than to the largest city, as annex 2
asks. Labels follow the official waves of ``calibration.LABEL_WAVES``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from fsdash import geography
from fsdash.demo import calibration as cal


def _label_dates(rng: np.random.Generator) -> list[dt.date]:
    dates, previous = [], 0
    for day, cumulative in cal.LABEL_WAVES:
        dates += [day] * (cumulative - previous)
        previous = cumulative
    return dates


def _pick_communes(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """n communes: départements weighted by population^0.3, communes by population^0.5."""
    communes = geography.communes().filter(pl.col("population") >= 700)
    deps = communes.group_by("departement").agg(pl.col("population").sum()).sort("departement")
    dep_weight = deps["population"].to_numpy() ** 0.3
    per_dep = rng.multinomial(n, dep_weight / dep_weight.sum())
    picks = []
    for dep, count in zip(deps["departement"].to_list(), per_dep, strict=True):
        pool = communes.filter(pl.col("departement") == dep)
        weight = pool["population"].to_numpy().astype(float) ** 0.5
        replace = count > pool.height
        idx = rng.choice(pool.height, size=int(count), replace=replace, p=weight / weight.sum())
        picks.append(pool[np.sort(idx)])
    return pl.concat(picks)


def _choice(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return np.array(keys)[rng.choice(len(keys), size=size, p=p / p.sum())]


def _closures(rng: np.random.Generator, labels: np.ndarray) -> list[dt.date | None]:
    closed: list[dt.date | None] = [None] * len(labels)
    for year, count in cal.CLOSURES_PER_YEAR.items():
        eligible = [i for i, d in enumerate(labels) if d < dt.date(year, 1, 1) and closed[i] is None]
        for i in rng.choice(eligible, size=count, replace=False):
            closed[i] = dt.date(year, int(rng.integers(1, 13)), 1)
    return closed


def generate_sites(rng: np.random.Generator) -> pl.DataFrame:
    """The demo registry, in the columns of the catalogue's ``sites`` table."""
    labels = np.array(_label_dates(rng), dtype=object)
    n = len(labels)
    places = _pick_communes(rng, n)
    order = rng.permutation(n)  # waves land anywhere in France
    places = places[order]
    carrier = _choice(rng, cal.CARRIER_SHARES, n)
    fmt = _choice(rng, cal.FORMAT_SHARES, n)
    late = np.array([d >= dt.date(2022, 1, 1) for d in labels])
    antenna = late & (rng.random(n) < cal.ANTENNA_SHARE_FROM_2022)
    fmt = np.where(antenna, "FIXE_ANTENNES", fmt)
    names = []
    for nom, c, f, a in zip(places["nom"].to_list(), carrier, fmt, antenna, strict=True):
        kind = "Antenne France services" if a else ("Bus France services" if f == "BUS" else "France services")
        names.append(f"{kind}{' La Poste' if c == 'LA_POSTE' else ''} de {nom}")
    jitter = rng.normal(0, 0.002, size=(n, 2))
    hours, days = opening_hours(rng, n)
    return pl.DataFrame({
        "site_id": [f"DEMO{i + 1:05d}" for i in range(n)],
        "nom": names,
        "code_commune": places["code_insee"],
        "departement": places["departement"],
        "format": fmt,
        "type_site": np.where(antenna, "ANTENNE", "PRINCIPAL"),
        "porteur": carrier,
        "date_labellisation": pl.Series(list(labels), dtype=pl.Date),
        "date_fermeture": pl.Series(_closures(rng, labels), dtype=pl.Date),
        "latitude": (places["latitude"].to_numpy() + jitter[:, 0]).round(5),
        "longitude": (places["longitude"].to_numpy() + jitter[:, 1]).round(5),
        "ancienne_msap": (np.array([d < dt.date(2021, 1, 1) for d in labels]) & (rng.random(n) < 0.75)),
        "heberge_etat": (carrier == "ETAT") | (rng.random(n) < 0.01),
        "la_poste": carrier == "LA_POSTE",
        "heures_ouverture_hebdo": hours,
        "jours_ouverture_hebdo": days,
    })


def opening_hours(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Weekly hours and open days; a few sites fall short of charter 2.4 (a realistic defect)."""
    under_24 = rng.random(n) < cal.SHARE_SITES_UNDER_24H
    hours = np.where(under_24, rng.choice([18.0, 20.0, 21.5], n),
                     rng.choice([24.0, 26.5, 28.0, 30.0, 32.0, 35.0, 37.5], n))
    days = np.where(under_24 & (rng.random(n) < 0.5), 4, np.where(rng.random(n) < 0.1, 6, 5))
    return hours, days
