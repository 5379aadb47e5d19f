"""A synthetic network of France Services sites placed at real communes.

Départements get a nearly even number of sites (the real list has 28 ± 9 per département),
and within a département sites go to small centres rather than to the largest city, as annex 2
asks. Labels follow the official waves of ``calibration.LABEL_WAVES``.

With official departmental label stocks (``demo --official``), each wave is shared among
départements so that their stocks follow the official ones (scaled to the demo's national total)
instead of being drawn by population.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from fsdash import geography
from fsdash.demo import calibration as cal
from fsdash.demo.names import site_name


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


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing to ``total`` (ties go to the first index)."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    quotas = total * weights / weights.sum()
    counts = np.floor(quotas).astype(np.int64)
    remainders = quotas - counts
    for i in np.argsort(-remainders, kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return counts


def _wave_stocks(stocks: pl.DataFrame, day: dt.date, cumulative: int) -> dict[str, float]:
    """Official departmental stocks matching a wave, scaled to the wave's national cumulative count.

    The departmental files date some waves a month earlier than the national series: the snapshot
    used is the one, published by the end of the wave's month, whose total is closest to the wave's
    count (the latest on a tie; the last snapshot, scaled, for waves after the series ends).
    """
    month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    totals = (
        stocks.filter(pl.col("date") <= month_end)
        .group_by("date")
        .agg(pl.col("sites").sum())
        .with_columns((pl.col("sites") - cumulative).abs().alias("distance"))
        .sort(["distance", "date"], descending=[False, True])
    )
    if totals.is_empty():
        totals = stocks.group_by("date").agg(pl.col("sites").sum()).sort("date").head(1)
    snapshot, total = totals.row(0)[:2]
    rows = stocks.filter(pl.col("date") == snapshot)
    return {dep: n * cumulative / total for dep, n in rows.select("departement", "sites").iter_rows()}


def allocate_waves(
    stocks: pl.DataFrame, waves: list[tuple[dt.date, int]] = cal.LABEL_WAVES
) -> dict[str, list[dt.date]]:
    """Label dates of each département's sites, wave by wave, following official stocks.

    ``stocks``: ``departement``, ``date`` (as published), ``sites``. Each wave's new sites go to
    the départements furthest below their (scaled) official stock, in proportion to the shortfall.
    Deterministic: no random draw.
    """
    departements = sorted(stocks["departement"].unique().to_list())
    assigned = np.zeros(len(departements))
    dates: dict[str, list[dt.date]] = {d: [] for d in departements}
    previous = 0
    for day, cumulative in waves:
        target = _wave_stocks(stocks, day, cumulative)
        target_vector = np.array([target.get(d, 0.0) for d in departements])
        shortfall = np.clip(target_vector - assigned, 0, None)
        counts = _largest_remainder(cumulative - previous, shortfall if shortfall.sum() > 0 else target_vector)
        for dep, count in zip(departements, counts, strict=True):
            dates[dep] += [day] * int(count)
        assigned += counts
        previous = cumulative
    return dates


def _calibrated_places(rng: np.random.Generator, stocks: pl.DataFrame) -> tuple[np.ndarray, pl.DataFrame]:
    """Label dates and communes of the sites when départements follow the official stocks."""
    communes = geography.communes()
    labels, picks = [], []
    for dep, dates in allocate_waves(stocks).items():
        if not dates:
            continue
        pool = communes.filter((pl.col("departement") == dep) & (pl.col("population") >= 700))
        if pool.is_empty():  # Mayotte has no legal population: any of its communes
            pool = communes.filter(pl.col("departement") == dep)
        weight = pool["population"].fill_null(1).to_numpy().astype(float) ** 0.5
        idx = rng.choice(pool.height, size=len(dates), replace=len(dates) > pool.height, p=weight / weight.sum())
        picks.append(pool[np.sort(idx)])
        labels += [dates[i] for i in rng.permutation(len(dates))]
    places = pl.concat(picks)
    labels_array = np.array(labels, dtype=object)
    order = np.lexsort((rng.random(len(labels)), np.array([d.toordinal() for d in labels])))
    return labels_array[order], places[order]


def generate_sites(rng: np.random.Generator, label_stocks: pl.DataFrame | None = None) -> pl.DataFrame:
    """The demo registry, in the columns of the catalogue's ``sites`` table.

    ``label_stocks`` (official departmental stocks: ``departement``, ``date``, ``sites``) places
    each wave's sites in the départements the official series names; without it, sites are
    spread by population and waves land anywhere in France.
    """
    if label_stocks is None:
        labels = np.array(_label_dates(rng), dtype=object)
        places = _pick_communes(rng, len(labels))
        places = places[rng.permutation(len(labels))]  # waves land anywhere in France
    else:
        labels, places = _calibrated_places(rng, label_stocks)
    return _registry(rng, labels, places)


def _registry(rng: np.random.Generator, labels: np.ndarray, places: pl.DataFrame) -> pl.DataFrame:
    """Carriers, formats, names, coordinates and hours of sites already placed and dated."""
    n = len(labels)
    carrier = _choice(rng, cal.CARRIER_SHARES, n)
    fmt = _choice(rng, cal.FORMAT_SHARES, n)
    late = np.array([d >= dt.date(2022, 1, 1) for d in labels])
    antenna = late & (rng.random(n) < cal.ANTENNA_SHARE_FROM_2022)
    fmt = np.where(antenna, "FIXE_ANTENNES", fmt)
    names = []
    for nom, c, f, a in zip(places["nom"].to_list(), carrier, fmt, antenna, strict=True):
        kind = "Antenne France services" if a else ("Bus France services" if f == "BUS" else "France services")
        names.append(site_name(kind, nom, la_poste=c == "LA_POSTE"))
    jitter = rng.normal(0, 0.002, size=(n, 2))
    hours, days = opening_hours(rng, n)
    return pl.DataFrame(
        {
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
        }
    )


def opening_hours(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Weekly hours and open days; a few sites fall short of charter 2.4 (a realistic defect)."""
    under_24 = rng.random(n) < cal.SHARE_SITES_UNDER_24H
    hours = np.where(
        under_24, rng.choice([18.0, 20.0, 21.5], n), rng.choice([24.0, 26.5, 28.0, 30.0, 32.0, 35.0, 37.5], n)
    )
    days = np.where(under_24 & (rng.random(n) < 0.5), 4, np.where(rng.random(n) < 0.1, 6, 5))
    return hours, days
