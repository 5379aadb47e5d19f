"""What the warehouse holds, for ``python -m fsdash summary`` and for scripts that read its JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from fsdash.metrics import activity, coverage, network, official, quality, site_quality
from fsdash.metrics.scope import NATIONAL
from fsdash.warehouse.schema import get_meta


def build_summary(con: duckdb.DuckDBPyConnection, today: dt.date | None = None) -> dict[str, Any]:
    """The contract of ``summary --json`` (keys documented in the README)."""
    today = today or dt.date.today()
    labelled = network.sites_labelled_at(con, NATIONAL, tuple(network.trajectory_dates(today)))
    quarters = activity.quarters(con)
    by_year = activity.requests_by_year(con)
    partners = activity.requests_by_partner(con, 2023)
    last = quarters[-1] if quarters else None
    completeness = activity.reporting_completeness(con, NATIONAL, last).row(0, named=True) if last else None
    loads = quality.load_counts(con)
    cantons = coverage.canton_coverage_summary(con, NATIONAL, today).row(0, named=True)
    within = coverage.population_within(con, NATIONAL, today)
    flags = site_quality.site_quality_summary(con, NATIONAL, today)
    return {
        "demo": get_meta(con, "nature") == "demo",
        "nature": get_meta(con, "nature"),
        "sites_total": network.sites_total(con, NATIONAL),
        "sites_labelled_at": {d.isoformat(): n for d, n in labelled.iter_rows()},
        "quarters": {
            "first": quarters[0].isoformat() if quarters else None,
            "last": last.isoformat() if last else None,
            "count": len(quarters),
        },
        "requests_by_year": {str(y): int(n) for y, n, _ in by_year.iter_rows()},
        "requests_by_partner_2023": {p: round(s, 4) for p, _, s in partners.iter_rows()},
        "reporting_completeness_last_quarter": (
            {
                "quarter": last.isoformat(),
                "expected": completeness["attendus"],
                "reported": completeness["declarants"],
                "rate": round(completeness["taux"] or 0.0, 4),
            }
            if completeness
            else None
        ),
        "cantons_covered": cantons["cantons_covered"],
        "cantons_total": cantons["cantons_total"],
        "population_share_within_km": {
            f"{r:g}": round(s, 4) for r, s in within.select("radius_km", "share").iter_rows()
        },
        **{
            key: flags[key]
            for key in (
                "sites_under_24h",
                "sites_under_5_days",
                "sites_without_hours",
                "duplicate_names",
                "duplicate_coordinates",
                "outside_departement",
            )
        },
        "site_lists": [
            {"date": d.isoformat(), "sites": n}
            for d, n in quality.site_lists(con).select("list_date", "sites").iter_rows()
        ],
        "batches": {"total": loads["batches"], "with_rejections": loads["with_rejections"]},
        "quarantined_rows": loads["quarantined_rows"],
        "schema_version": int(get_meta(con, "schema_version") or 0),
        "official_series": official.official_summary(con),
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The same figures for a human reader, in French formats."""
    from fsdash import formats

    def day(iso: str) -> dt.date:
        return dt.date.fromisoformat(iso)

    lines = [
        ("Données de démonstration" if summary["demo"] else "Données réelles")
        + f" — {formats.plural(summary['sites_total'], 'site')} au référentiel"
    ]
    for iso, count in summary["sites_labelled_at"].items():
        lines.append(f"  sites labellisés au {formats.date_long(day(iso))} : {formats.number(count)}")
    q = summary["quarters"]
    if q["first"]:
        lines.append(
            f"Trimestres chargés : du {formats.quarter_long(day(q['first']))} "
            f"au {formats.quarter_long(day(q['last']))} ({q['count']})"
        )
    for year, n in summary["requests_by_year"].items():
        lines.append(f"  demandes {year} : {formats.number(n)}")
    if summary["requests_by_partner_2023"]:
        lines.append("Répartition des demandes 2023 par partenaire :")
        for partner, share in summary["requests_by_partner_2023"].items():
            lines.append(f"  {partner} : {formats.percent(share, 1)}")
    c = summary["reporting_completeness_last_quarter"]
    if c:
        lines.append(
            f"Complétude du reporting, {formats.quarter_long(day(c['quarter']))} : "
            f"{formats.plural(c['reported'], 'site')} sur {formats.number(c['expected'])} "
            f"({formats.percent(c['rate'], 1)})"
        )
    if summary["cantons_total"]:
        lines.append(
            f"Cantons couverts : {formats.number(summary['cantons_covered'])} sur "
            f"{formats.number(summary['cantons_total'])} "
            f"({formats.percent(summary['cantons_covered'] / summary['cantons_total'], 1)})"
        )
    for radius, share in summary["population_share_within_km"].items():
        lines.append(f"  population à moins de {radius} km d'un site : {formats.percent(share, 1)}")
    lines.append(
        f"Sites ouverts moins de 24 h par semaine : {summary['sites_under_24h']} ; moins de 5 jours : "
        f"{summary['sites_under_5_days']} ; sans horaires publiés (sites fixes) : {summary['sites_without_hours']}"
    )
    for indicator, info in summary.get("official_series", {}).items():
        lines.append(
            f"Série officielle {indicator} ({info['source']}) : {formats.plural(info['rows'], 'valeur')}, "
            f"dernière mesure au {formats.date_long(day(info['latest_date']))}"
            if info.get("latest_date")
            else f"Série officielle {indicator} : {formats.plural(info['rows'], 'valeur')}"
        )
    lines.append(
        f"Lots chargés : {summary['batches']['total']} dont {summary['batches']['with_rejections']} "
        f"avec rejets ; {formats.plural(summary['quarantined_rows'], 'ligne')} en quarantaine"
    )
    return lines
