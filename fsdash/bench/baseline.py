"""The pandas baseline: what a team without fsdash would write for three page queries, timed beside the app.

Issue 10 asks how much the warehouse buys over the obvious alternative: read the quarterly files with
pandas, merge them with the sites registry, group by. For three queries the pages run, this module
holds that alternative and the app's own query:

* ``departement_partenaire_annee`` — the Motifs page's départements × partners heatmap for the last
  year of data (:func:`fsdash.metrics.reasons.departement_partner_shares` on France entière): pandas
  reads the detail files that can hold that year's rows, the registry, merges on ``site_id``, keeps the
  year and groups by département and partner;
* ``tendance_nationale_partenaire`` — the national quarterly trend by partner (the Motifs page's
  :func:`fsdash.metrics.reasons.requests_breakdown` then :func:`~fsdash.metrics.reasons.by_quarter`):
  pandas reads every detail file and groups by quarter and partner;
* ``tendance_activite`` — the activity trend of the home page
  (:func:`fsdash.metrics.activity.activity_by_quarter`, national): pandas reads every activity file
  and must do what the ingest does for it, or its totals are wrong — keep the last report of each site
  and quarter (a later file corrects an earlier one) and drop the reports the validation refuses (more
  e-mails answered within 72 hours than received: the only rule the demo's activity breaks), then sum
  by quarter.

The files are those the warehouse was built from (``build_demo(keep_files=…)``,
:mod:`fsdash.bench.warehouses`), so both sides answer from the same rows; :func:`check` compares the
answers (same totals, key by key) and the tests run it on a small warehouse.

Timing. The app's side is run as on a cache miss, exactly like :mod:`fsdash.bench.queries` replays
recorded calls: the undecorated function on the pooled reader, cold (every reader closed and every
fsdash answer forgotten first; the reader's opening not counted) and warm (same reader, repeated).
The pandas side has no cache to be cold or warm in: every run reads the files again (from the
operating system's file cache, warm after the first run, as on the app's side), reading included.
``baseline_ratio`` = pandas median / app median, cold and warm (above 1: the app is faster).

The floor. Beside them, a query that reads nothing (:func:`app_empty_query`) timed the same way: no
page query goes through DuckDB into Polars faster, so pandas' time over it is the best ratio any app
query could reach on this machine (``ratio_froid_max``). A pandas side that reads four small files
in 20 ms leaves 0,4 ms for a ×50: about what the empty query costs alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from fsdash import cache
from fsdash.bench.measure import median, stopwatch
from fsdash.metrics import activity, reasons
from fsdash.metrics.scope import NATIONAL
from fsdash.warehouse import bulk_floor

_QUARTER_TAG = re.compile(r"-(\d{4})-T([1-4])-")


def quarter_of(file: Path) -> tuple[int, int] | None:
    """The quarter a demo file was sent for (``…-2029-T4-activite.parquet``), None for other files."""
    match = _QUARTER_TAG.search(file.name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _table_files(files: list[Path], table: str, quarters: tuple | None = None) -> list[Path]:
    """The Parquet files of one table, in load order; with ``quarters`` (first, last), those sent for
    a quarter between them."""
    found = [f for f in files if f.suffix == ".parquet" and f.stem.endswith(f"-{table}")]
    if quarters is not None:
        found = [f for f in found if (q := quarter_of(f)) is not None and quarters[0] <= q <= quarters[1]]
    return found


def last_year(files: list[Path]) -> int:
    """The last calendar year the quarterly files were sent for."""
    return max(q[0] for f in files if (q := quarter_of(f)))


# --- what a team without fsdash writes ---------------------------------------------------------

_KEYS = ["site_id", "annee", "trimestre"]


def _read(files: list[Path], columns: list[str]) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


def _current_activity(files: list[Path], quarters: tuple | None = None) -> pd.DataFrame:
    """The activity reports the warehouse keeps: the ones the validation accepts (no more e-mails
    answered within 72 hours than received: the only activity rule the demo breaks), the last of each
    site and quarter (a later file corrects an earlier one; files are read in load order)."""
    columns = [*_KEYS, "usagers_accueillis", "demandes"]
    reports = _read(_table_files(files, "activite", quarters), [*columns, "courriels_recus", "courriels_repondus_72h"])
    reports = reports[~(reports["courriels_repondus_72h"] > reports["courriels_recus"])]
    return reports.drop_duplicates(_KEYS, keep="last")[columns]


def _accepted_detail(files: list[Path], columns: list[str], quarters: tuple | None = None) -> pd.DataFrame:
    """The detail rows the warehouse keeps: a site's detail for a quarter is refused as a whole when it
    sums to more requests than its activity report declares (rule ``detail_le_total``), or when the
    site has no accepted report for that quarter."""
    detail = _read(_table_files(files, "demandes_detail", quarters), list(dict.fromkeys([*_KEYS, *columns])))
    totals = detail.groupby(_KEYS, as_index=False)["nb_demandes"].sum().rename(columns={"nb_demandes": "detail"})
    declared = _current_activity(files, quarters)[[*_KEYS, "demandes"]]
    allowed = totals.merge(declared, on=_KEYS, how="inner")
    allowed = allowed.loc[allowed["detail"] <= allowed["demandes"], _KEYS]
    return detail.merge(allowed, on=_KEYS, how="inner")


def pandas_departement_partner(files: list[Path], year: int) -> pd.DataFrame:
    """Requests of ``year`` by département and partner: ``departement``, ``partenaire``, ``nb_demandes``.

    A quarter's late reports come with the next quarter's files: the files of the year and of the
    first quarter after it are read, and the rows of the year kept."""
    detail = _accepted_detail(files, ["partenaire", "nb_demandes"], ((year, 1), (year + 1, 1)))
    detail = detail[detail["annee"] == year]
    sites = _read(_table_files(files, "sites"), ["site_id", "departement"])
    merged = detail.merge(sites, on="site_id", how="inner")
    out = merged.groupby(["departement", "partenaire"], as_index=False)["nb_demandes"].sum()
    return out[out["nb_demandes"] != 0]


def pandas_partner_trend(files: list[Path]) -> pd.DataFrame:
    """National requests by quarter and partner: ``annee``, ``trimestre``, ``partenaire``, ``nb_demandes``."""
    detail = _accepted_detail(files, ["partenaire", "nb_demandes"])
    return detail.groupby(["annee", "trimestre", "partenaire"], as_index=False)["nb_demandes"].sum()


def pandas_activity_trend(files: list[Path]) -> pd.DataFrame:
    """National activity by quarter: ``annee``, ``trimestre``, ``usagers``, ``demandes``, ``sites_declarants``."""
    reports = _current_activity(files)
    return reports.groupby(["annee", "trimestre"], as_index=False).agg(
        usagers=("usagers_accueillis", "sum"), demandes=("demandes", "sum"), sites_declarants=("site_id", "size")
    )


# --- the app's side, as the pages run it -----------------------------------------------------------


def app_departement_partner(con, first: dt.date, last: dt.date) -> pl.DataFrame:
    """The heatmap's query on France entière (``views.reasons.heatmap`` passes the comparison area)."""
    return reasons.departement_partner_shares(con, NATIONAL, first, last)


def app_partner_trend(con) -> pl.DataFrame:
    """The Motifs page's one scan, then its quarterly partner trend."""
    return reasons.by_quarter(reasons.requests_breakdown(con, NATIONAL, None, None), "partenaire")


def app_activity_trend(con) -> pl.DataFrame:
    """The home page's activity trend, undecorated (what runs on a cache miss)."""
    return activity.activity_by_quarter.function(con, NATIONAL)


def app_empty_query(con) -> pl.DataFrame:
    """A query that reads nothing (:func:`fsdash.warehouse.bulk_floor.empty_query`), timed like the
    others: the floor under the app's side of each ratio (pandas' time over this one is the best ratio
    any app query could have)."""
    return bulk_floor.empty_query(con)


@dataclass(frozen=True)
class Query:
    """One page query: its key (results.json), its French label, the app's call and the pandas one."""

    key: str
    label: str
    app: cache.Call
    baseline: Callable[[], pd.DataFrame]


def page_queries(files: list[Path]) -> list[Query]:
    """The three queries of the module docstring, on the files a warehouse was built from."""
    year = last_year(files)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return [
        Query(
            "departement_partenaire_annee",
            f"départements × partenaires, année {year} (Motifs, France entière)",
            cache.Call(app_departement_partner, (first, last), ()),
            lambda: pandas_departement_partner(files, year),
        ),
        Query(
            "tendance_nationale_partenaire",
            "tendance trimestrielle nationale par partenaire (Motifs)",
            cache.Call(app_partner_trend, (), ()),
            lambda: pandas_partner_trend(files),
        ),
        Query(
            "tendance_activite",
            "tendance de l'activité, France entière (Accueil)",
            cache.Call(app_activity_trend, (), ()),
            lambda: pandas_activity_trend(files),
        ),
    ]


# --- the same answer ---------------------------------------------------------------------------


def _periods(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime({"year": frame["annee"], "month": (frame["trimestre"] - 1) * 3 + 1, "day": 1}).dt.date.rename(
        "periode"
    )


def comparable(query: Query, app: pl.DataFrame, baseline: pd.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both answers as the same Polars frame (keys, then the summed columns), sorted, for equality."""
    if query.key == "departement_partenaire_annee":
        keys, values = ["departement", "partenaire"], ["nb_demandes"]
        app = app.filter(pl.col("nb_demandes") != 0)
    elif query.key == "tendance_nationale_partenaire":
        keys, values = ["periode", "partenaire"], ["nb_demandes"]
        app = app.rename({"code": "partenaire"}).filter(pl.col("nb_demandes") != 0)
        baseline = baseline.assign(periode=_periods(baseline))
    else:
        keys, values = ["periode"], ["usagers", "demandes", "sites_declarants"]
        baseline = baseline.assign(periode=_periods(baseline))
    schema = {k: pl.Date if k == "periode" else pl.String for k in keys} | dict.fromkeys(values, pl.Int64)

    def shaped(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(*keys, *values).cast(schema).sort(keys)

    return shaped(app), shaped(pl.from_pandas(baseline[keys + values]))


def check(con, queries: list[Query]) -> dict[str, str | None]:
    """For each query, None when the pandas answer equals the app's, else the French difference."""
    out: dict[str, str | None] = {}
    for query in queries:
        app, baseline = comparable(query, query.app.function(con, *query.app.args), query.baseline())
        if app.equals(baseline):
            out[query.key] = None
            continue
        value = app.columns[-1]
        totals = (app[value].sum(), baseline[value].sum())
        out[query.key] = (
            f"réponses différentes : {app.height} lignes et {value} = {totals[0]} (application), "
            f"{baseline.height} lignes et {value} = {totals[1]} (pandas)"
        )
    return out


# --- timing -------------------------------------------------------------------------------------


def measure(size: str, path: Path, files: list[Path], cold_runs: int, warm_runs: int) -> list[dict[str, Any]]:
    """Each query timed both ways (module docstring): a record per query, ratios included."""
    from fsdash.bench.queries import _once
    from fsdash.warehouse.store import close_readers

    path = path.absolute()

    def timed(call: cache.Call) -> tuple[list[float], list[float], str | None]:
        cold, warm, error = [], [], None
        for _ in range(cold_runs):
            ms, failed = _once(path, call, fresh=True)
            cold.append(ms)
            error = error or failed
        _once(path, call, fresh=False)
        for _ in range(warm_runs):
            ms, failed = _once(path, call, fresh=False)
            warm.append(ms)
            error = error or failed
        return cold, warm, error

    floor_cold, floor_warm, _ = timed(cache.Call(app_empty_query, (), ()))
    floor_cold_ms, floor_warm_ms = median(floor_cold), median(floor_warm)
    records = []
    for query in page_queries(files):
        cold, warm, error = timed(query.app)
        pandas_ms = []
        for _ in range(max(1, cold_runs)):
            with stopwatch() as elapsed:
                query.baseline()
            pandas_ms.append(elapsed())
        app_cold, app_warm, baseline_ms = median(cold), median(warm), median(pandas_ms)
        records.append(
            {
                "taille": size,
                "requete": query.key,
                "libelle": query.label,
                "pandas_ms": round(baseline_ms, 2),
                "application_froid_ms": round(app_cold, 2),
                "application_chaud_ms": round(app_warm, 2),
                "ratio_froid": round(baseline_ms / app_cold, 1) if app_cold else None,
                "ratio_chaud": round(baseline_ms / app_warm, 1) if app_warm else None,
                # the floor (app_empty_query): no app query is faster, no ratio higher than these
                "plancher_froid_ms": round(floor_cold_ms, 3),
                "plancher_chaud_ms": round(floor_warm_ms, 3),
                "ratio_froid_max": round(baseline_ms / floor_cold_ms, 1) if floor_cold_ms else None,
                "executions": {"pandas": len(pandas_ms), "froid": len(cold), "chaud": len(warm)},
                "fichiers_lus": len(files),
                "erreur": error,
            }
        )
    close_readers()
    cache.clear_all()
    return records
