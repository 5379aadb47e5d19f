"""Build the demo warehouse through the same ingest path as real data.

The generator writes what sites would send — a registry file, then one file per table and
quarter, with late reports, a few corrections and a few inconsistent rows — and loads them one
quarter at a time with :func:`fsdash.warehouse.ingest.ingest_paths`. Deterministic for a given seed and
last quarter.

With official series (``demo --official FILE...``, imported first through
:func:`fsdash.official.import_official_paths`), the synthetic feed is calibrated on them at
département level: sites per département follow the departmental label stocks, requests follow
the national monthly acts (IND-323) and their departmental shares, kiosk satisfaction sits around
the departmental IND-246 rates. The reconciliation (:mod:`fsdash.metrics.official`) shows how
close it lands.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from fsdash import formats
from fsdash.demo import calibration as cal
from fsdash.demo import feed
from fsdash.demo.funding import funding_files
from fsdash.demo.network import generate_sites
from fsdash.periods import last_complete_quarter, quarter_start, quarters_between
from fsdash.warehouse.ingest import IngestRefused, import_site_list, ingest_paths
from fsdash.warehouse.registry import registry
from fsdash.warehouse.schema import set_meta
from fsdash.warehouse.store import writer

FIRST_QUARTER = (2020, 1)
#: ``demo --grain``: the default detail (≈ 130 rows a site-quarter) or the grain of a real national feed.
GRAINS = ("standard", "complet")


def parse_quarter(text: str) -> tuple[int, int]:
    """``2024-T3``, ``2024T3`` or ``T3 2024`` -> (2024, 3)."""
    match = re.fullmatch(r"\s*(\d{4})\s*-?\s*[TtQq]([1-4])\s*|\s*[TtQq]([1-4])\s+(\d{4})\s*", text)
    if not match:
        raise ValueError(f"trimestre illisible : « {text} » (attendu : AAAA-Tn, par exemple 2024-T3)")
    if match.group(1):
        return int(match.group(1)), int(match.group(2))
    return int(match.group(4)), int(match.group(3))


def _split(
    rng: np.random.Generator, frame: pl.DataFrame, share: float | np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kept, taken): each row taken with probability ``share`` (one number, or one per row)."""
    mask = pl.Series(rng.random(frame.height) < share)
    return frame.filter(~mask), frame.filter(mask)


def _write(frame: pl.DataFrame, folder: Path, name: str) -> Path | None:
    if frame.is_empty():
        return None
    path = folder / name
    frame.write_parquet(path)
    return path


def _quarter_files(
    rng: np.random.Generator,
    profile: feed.SiteProfile,
    year: int,
    quarter: int,
    scale: float | np.ndarray,
    carry: dict[str, pl.DataFrame],
    is_last: bool,
    folder: Path,
    satisfaction: pl.DataFrame | None = None,
    full_grain: bool = False,
) -> tuple[list[Path], dict[str, pl.DataFrame]]:
    """The files sent for one quarter, and what is left to send with the next one."""
    act = feed.activity(rng, profile, year, quarter, scale)
    if act.is_empty():  # before the network's first labels: no site open, nothing to send
        return [], carry
    # punctuality differs by département (``SiteProfile.lateness``): missing and late reports too
    act, _missing = _split(rng, act, profile.report_shares(act["site_id"], cal.SHARE_MISSING_REPORTS))
    late_share = cal.SHARE_LATE_LAST_QUARTER if is_last else cal.SHARE_LATE_REPORTS
    on_time, late = _split(rng, act, profile.report_shares(act["site_id"], late_share))
    reported = pl.concat([carry.get("activite", on_time.clear()), on_time])
    sent = reported
    corrections = carry.get("corrections")
    broken_mask = pl.Series(rng.random(sent.height) < cal.SHARE_INCONSISTENT_REPORTS)
    sent = sent.with_columns(
        pl.when(broken_mask)
        .then(pl.col("courriels_recus") + 5)
        .otherwise(pl.col("courriels_repondus_72h"))
        .alias("courriels_repondus_72h")
    )
    if corrections is not None:
        sent = pl.concat([sent, corrections])
    detail = feed.request_detail(rng, profile, reported, full_grain)
    kiosk = feed.kiosk_answers(rng, profile, reported, satisfaction)
    tag = f"{year}-T{quarter}"
    files = [
        _write(sent, folder, f"demo-{tag}-activite.parquet"),
        _write(detail, folder, f"demo-{tag}-demandes_detail.parquet"),
        _write(kiosk, folder, f"demo-{tag}-satisfaction_borne.parquet"),
    ]
    _, corrected = _split(rng, on_time, cal.SHARE_CORRECTED_REPORTS)
    corrected = corrected.with_columns((pl.col("usagers_accueillis") * 1.05).round().cast(pl.Int64))
    return [f for f in files if f], {"activite": late, "corrections": corrected}


# --- calibration on official series (demo --official) ----------------------------------------


def _quarterly(values: pl.DataFrame) -> pl.DataFrame:
    """Monthly official values by zone and quarter: sum of 3 months, else mean × 3."""
    return (
        values.with_columns(
            pl.col("reference_date").dt.year().alias("annee"),
            pl.col("reference_date").dt.quarter().cast(pl.Int64).alias("trimestre"),
        )
        .group_by("zone_code", "annee", "trimestre")
        .agg(pl.when(pl.len() == 3).then(pl.col("value").sum()).otherwise(pl.col("value").mean() * 3).alias("value"))
    )


def _shares(frame: pl.DataFrame) -> dict[str, float]:
    total = frame["value"].sum()
    return {code: value / total for code, value in frame.select("zone_code", "value").iter_rows()} if total else {}


def official_targets(con: duckdb.DuckDBPyConnection) -> cal.OfficialTargets:
    """What the imported official series ask of the demo (empty parts when a series is absent)."""
    from fsdash.metrics.official import measured_values
    from fsdash.official import ACTS, LABELS, SATISFACTION

    stocks = measured_values(con, LABELS, "departement")
    acts = measured_values(con, ACTS, "departement")
    national = _quarterly(measured_values(con, ACTS, "national"))
    quarters = _quarterly(acts)
    shares: dict[tuple[int, int] | None, dict[str, float]] = {
        (y, q): _shares(quarters.filter((pl.col("annee") == y) & (pl.col("trimestre") == q)))
        for y, q in quarters.select("annee", "trimestre").unique().iter_rows()
    }
    if not acts.is_empty():
        shares[None] = _shares(acts.group_by("zone_code").agg(pl.col("value").sum()))
    satisfaction = measured_values(con, SATISFACTION, "departement")
    low, high = cal.OFFICIAL_SATISFACTION_BOUNDS
    rate = (pl.col("value") / 100).clip(low, high).alias("taux")
    by_quarter = (
        satisfaction.with_columns(
            pl.col("reference_date").dt.year().alias("annee"),
            pl.col("reference_date").dt.quarter().cast(pl.Int64).alias("trimestre"),
        )
        .group_by("zone_code", "annee", "trimestre")
        .agg(pl.col("value").mean())
    )
    default = (
        satisfaction.group_by("zone_code")
        .agg(pl.col("value").mean())
        .with_columns(pl.lit(None, pl.Int32).alias("annee"), pl.lit(None, pl.Int64).alias("trimestre"))
    )
    kiosk = pl.concat(
        [by_quarter.with_columns(pl.col("annee").cast(pl.Int32)), default.select(by_quarter.columns)],
        how="vertical_relaxed",
    ).select(pl.col("zone_code").alias("departement"), pl.col("annee").cast(pl.Int64), "trimestre", rate)
    return cal.OfficialTargets(
        label_stocks=(
            stocks.select(pl.col("zone_code").alias("departement"), "date", pl.col("value").alias("sites"))
            if not stocks.is_empty()
            else None
        ),
        requests_by_quarter={(y, q): v for _, y, q, v in national.iter_rows()},
        request_shares=shares,
        satisfaction=kiosk if not satisfaction.is_empty() else None,
    )


def calibrated_scales(
    profile: feed.SiteProfile, quarters: list[tuple[int, int]], targets: cal.OfficialTargets
) -> dict[tuple[int, int], np.ndarray]:
    """Per-site scale of every quarter so that requests follow the official acts.

    Sites keep a département factor (their département's share of the acts over every published
    month), then quarters with published months get their national level (monthly acts × 3) and
    their départements' shares of that quarter; other quarters keep ``REQUESTS_PER_YEAR``.
    """
    departements = profile.sites["departement"].to_numpy()
    published = [q for q in quarters if q in targets.request_shares]
    if published and targets.request_shares.get(None):
        weight = sum(feed.expected_weight(profile, y, q) for y, q in published)
        profile.size = profile.size * feed.share_factors(weight, departements, targets.request_shares[None])
    scales = {}
    for year, quarter in quarters:
        weight = feed.expected_weight(profile, year, quarter)
        shares = targets.request_shares.get((year, quarter))
        factor = feed.share_factors(weight, departements, shares) if shares else np.ones_like(weight)
        default = cal.requests_per_year(year) * cal.SEASONALITY[quarter] / sum(cal.SEASONALITY.values())
        total = targets.requests_by_quarter.get((year, quarter), default)
        mass = (weight * factor).sum()
        scales[(year, quarter)] = factor * (total / (1 - cal.SHARE_MISSING_REPORTS) / mass if mass else 0.0)
    return scales


def _import_official(con: duckdb.DuckDBPyConnection, files: list[Path], today: dt.date) -> None:
    from fsdash.warehouse.official_series import import_official_paths, report_lines

    result = import_official_paths(con, files, today=today)
    if result.exit_code:
        raise IngestRefused(
            [
                "séries officielles : des lignes ont été rejetées, la démonstration n'est pas "
                "construite sur des séries incomplètes.",
                *report_lines(result),
            ]
        )


def build_demo(
    path: Path,
    *,
    seed: int = 2019,
    first: str | None = None,
    until: str | None = None,
    today: dt.date | None = None,
    grain: str = "standard",
    sites_file: Path | None = None,
    official_files: list[Path] | None = None,
    keep_files: Path | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> None:
    """Generate and load the demo warehouse at ``path`` (replaced atomically when done).

    With ``sites_file`` (the official ANCT list), the synthetic activity sits on the real
    network imported through :func:`fsdash.warehouse.ingest.import_site_list`; otherwise on a synthetic
    network placed at real communes. With ``official_files`` (DITP/Etalab series), those are
    imported first and the feed is calibrated on them (see the module docstring).

    The clock: quarters run from ``first`` (default 2020 T1, the network's first labels) to
    ``until`` (default: the last quarter complete at ``today``, itself the real date by default), so
    that a warehouse of any length can be built — ten years with ``today`` in 2030. The network and
    its draws do not depend on the clock; years past the calibration keep its last level
    (:func:`fsdash.demo.calibration.requests_per_year`), quarters before the first labels are empty.
    ``grain="complet"`` draws the detail at the grain of a real national feed (``feed.request_detail``).

    With ``keep_files`` (a folder, created if needed), every file loaded is also copied there as
    ``<load>-<position>-<name>`` (four and two digits): sorting the names gives the load order, and
    files sharing a ``<load>`` prefix were loaded by one ``ingest_paths`` call (the registry, then one
    call per quarter, then the funding files). The benchmark re-ingests them (:mod:`fsdash.bench.ingest`).
    Copying draws nothing: the warehouse is the same with or without it.
    """
    today = today or dt.date.today()
    last = parse_quarter(until) if until else last_complete_quarter(today)
    if last > last_complete_quarter(today):
        raise ValueError(f"le trimestre {last[0]}-T{last[1]} n'est pas encore terminé")
    start = parse_quarter(first) if first else FIRST_QUARTER
    if start > last:
        raise ValueError(f"le premier trimestre {start[0]}-T{start[1]} est après le dernier ({last[0]}-T{last[1]})")
    if grain not in GRAINS:
        raise ValueError(f"grain inconnu : « {grain} » (attendu : {' ou '.join(GRAINS)})")
    rng = np.random.default_rng(seed)
    quarters = quarters_between(start, last)
    loads = [0]

    def load(con: duckdb.DuckDBPyConnection, files: list[Path]):
        """``ingest_paths`` of the demo, the files kept first when asked (see the docstring)."""
        if keep_files is not None:
            keep_files.mkdir(parents=True, exist_ok=True)
            for position, file in enumerate(files):
                shutil.copyfile(file, keep_files / f"{loads[0]:04d}-{position:02d}-{file.name}")
        loads[0] += 1
        return ingest_paths(con, files, nature="demo", today=today)

    with tempfile.TemporaryDirectory(prefix="fsdash-demo-") as tmp, writer(path, fresh=True) as con:
        folder = Path(tmp)
        set_meta(con, "demo_seed", str(seed))
        if grain != "standard":  # the default warehouse stays byte-for-byte what it was
            set_meta(con, "demo_grain", grain)
        targets = None
        if official_files:
            _import_official(con, official_files, today)
            targets = official_targets(con)
            set_meta(con, "demo_official", ", ".join(p.name for p in official_files))
        if sites_file is None:
            stocks = targets.label_stocks if targets else None
            load(con, [_write(generate_sites(rng, stocks), folder, "demo-sites.parquet")])
            calibrated = " (labellisations officielles)" if stocks is not None else ""
            set_meta(con, "demo_network", "synthétique" + calibrated)
        else:
            import_site_list(con, sites_file.name, sites_file.read_bytes(), nature="demo", today=today)
            set_meta(con, "demo_network", f"liste officielle {sites_file.name}")
        sites = registry(con)
        profile = feed.draw_profiles(rng, sites)
        if targets is None:
            years = {
                y: feed.year_scale(profile, y, [q for yy, q in quarters if yy == y]) for y in {y for y, _ in quarters}
            }
            scales = {(y, q): years[y] for y, q in quarters}
        else:
            scales = calibrated_scales(profile, quarters, targets)
            if targets.satisfaction is not None:
                feed.place_kiosks(rng, profile, dt.date(cal.KIOSK_FIRST_YEAR + 1, 1, 1))
        satisfaction = targets.satisfaction if targets else None
        progress(
            f"Données de démonstration : {formats.number(sites.height)} sites, "
            f"{len(quarters)} trimestres (graine {seed}) → {path}"
        )
        carry: dict[str, pl.DataFrame] = {}
        for year, quarter in quarters:
            files, carry = _quarter_files(
                rng,
                profile,
                year,
                quarter,
                scales[(year, quarter)],
                carry,
                (year, quarter) == last,
                folder,
                satisfaction,
                grain == "complet",
            )
            if quarter == 4 and year >= cal.SURVEY_FIRST_YEAR:
                open_ids = sites.filter(pl.Series(feed.active_fraction(sites, year, 4) > 0))["site_id"].to_list()
                files.append(
                    _write(feed.survey(rng, profile, year, open_ids), folder, f"demo-{year}-enquete_annuelle.parquet")
                )
            label = formats.quarter_long(quarter_start(year, quarter))
            if not any(files):
                progress(f"  {label} : aucun site labellisé, rien à charger")
                continue
            result = load(con, [f for f in files if f])
            accepted = sum(t.rows_accepted for f in result.files for t in f.tables)
            progress(
                f"  {label} : {formats.number(accepted)} lignes chargées, {formats.number(result.rows_rejected)} en quarantaine"
            )
        # last, so the draws above (and the demo they give for a seed) do not depend on it
        load(con, funding_files(rng, folder, last))
        progress("  financement : forfaits, enveloppe Banque des Territoires, régularisation 2018 chargés")
    progress("Entrepôt de démonstration prêt.")
