"""Benchmark of the page queries: median of several runs, as ratios against a baseline warehouse.

Speed is measured here, never by timed assertions in the tests. Each metric function a page
calls is run on a read-only connection, uncached, at national and département scope.

    python scripts/benchmark.py --db data/fsdash.duckdb [--baseline other.duckdb] [--runs 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fsdash.metrics import activity, candidates, coverage, network, site_quality  # noqa: E402
from fsdash.metrics.scope import NATIONAL, Scope  # noqa: E402
from fsdash.warehouse.store import reader  # noqa: E402


def cases(con) -> list[tuple[str, Callable]]:
    """(label, call) for the queries behind the pages, on this warehouse's own last quarter."""
    today = dt.date.today()
    last = activity.quarters(con)[-1]
    dep = con.sql("SELECT departement FROM sites GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchall()[0][0]
    out = []
    for name, scope in (("national", NATIONAL), ("département", Scope("departement", dep))):
        out += [
            (f"activité par trimestre ({name})", lambda c, s=scope: activity.activity_by_quarter(c, s)),
            (f"demandes par partenaire ({name})", lambda c, s=scope: activity.requests_by_partner(c, last.year, s)),
            (f"complétude ({name})", lambda c, s=scope: activity.reporting_completeness(c, last, s)),
            (
                f"trajectoire mensuelle ({name})",
                lambda c, s=scope: network.labelled_by_month(c, dt.date(2019, 10, 1), today, s),
            ),
            (f"couverture des cantons ({name})", lambda c, s=scope: coverage.canton_coverage_summary(c, today, s)),
            (f"population à distance ({name})", lambda c, s=scope: coverage.population_within(c, today, s)),
            (f"qualité du référentiel ({name})", lambda c, s=scope: site_quality.site_quality_summary(c, today, s)),
        ]
    out.append(("où ouvrir ensuite (département)", lambda c: candidates.opening_candidates(c, today, dep)))
    out.append(
        (
            "demandes par partenaire (format BUS)",
            lambda c: activity.requests_by_partner(c, last.year, Scope("national", None, formats=("BUS",))),
        )
    )
    return out


def measure(db: Path, runs: int) -> dict[str, float]:
    """Median seconds per case (one warm-up run first: caches of the OS, not of fsdash)."""
    results = {}
    with reader(db) as con:
        for label, call in cases(con):
            call(con)
            timings = []
            for _ in range(runs):
                start = time.perf_counter()
                call(con)
                timings.append(time.perf_counter() - start)
            results[label] = statistics.median(timings)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="banc d'essai des requêtes des pages")
    parser.add_argument("--db", default=str(ROOT / "data" / "fsdash.duckdb"))
    parser.add_argument("--baseline", help="entrepôt de référence mesuré dans la même exécution")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    current = measure(Path(args.db), args.runs)
    base = measure(Path(args.baseline), args.runs) if args.baseline else {}
    width = max(len(k) for k in current)
    print(f"{'requête':<{width}}  médiane (ms)" + ("  référence (ms)  ratio" if base else ""))
    for label, seconds in current.items():
        line = f"{label:<{width}}  {seconds * 1000:12.1f}"
        if label in base:
            line += f"  {base[label] * 1000:14.1f}  {seconds / base[label]:5.2f}"
        print(line)


if __name__ == "__main__":
    main()
