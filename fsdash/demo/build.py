"""Build the demo warehouse through the same ingest path as real data.

The generator writes what sites would send — a registry file, then one file per table and
quarter, with late reports, a few corrections and a few inconsistent rows — and loads them one
quarter at a time with :func:`fsdash.ingest.ingest_paths`. Deterministic for a given seed and
last quarter.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from fsdash import formats
from fsdash.demo import calibration as cal
from fsdash.demo import feed
from fsdash.demo.network import generate_sites
from fsdash.ingest import import_site_list, ingest_paths
from fsdash.periods import last_complete_quarter, quarter_start, quarters_between
from fsdash.warehouse.schema import set_meta
from fsdash.warehouse.store import writer

FIRST_QUARTER = (2020, 1)


def parse_quarter(text: str) -> tuple[int, int]:
    """``2024-T3``, ``2024T3`` or ``T3 2024`` -> (2024, 3)."""
    match = re.fullmatch(r"\s*(\d{4})\s*-?\s*[TtQq]([1-4])\s*|\s*[TtQq]([1-4])\s+(\d{4})\s*", text)
    if not match:
        raise ValueError(f"trimestre illisible : « {text} » (attendu : AAAA-Tn, par exemple 2024-T3)")
    if match.group(1):
        return int(match.group(1)), int(match.group(2))
    return int(match.group(4)), int(match.group(3))


def _split(rng: np.random.Generator, frame: pl.DataFrame, share: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    mask = pl.Series(rng.random(frame.height) < share)
    return frame.filter(~mask), frame.filter(mask)


def _write(frame: pl.DataFrame, folder: Path, name: str) -> Path | None:
    if frame.is_empty():
        return None
    path = folder / name
    frame.write_parquet(path)
    return path


def _quarter_files(rng: np.random.Generator, profile: feed.SiteProfile, year: int, quarter: int,
                   scale: float, carry: dict[str, pl.DataFrame], is_last: bool,
                   folder: Path) -> tuple[list[Path], dict[str, pl.DataFrame]]:
    """The files sent for one quarter, and what is left to send with the next one."""
    act = feed.activity(rng, profile, year, quarter, scale)
    act, _missing = _split(rng, act, cal.SHARE_MISSING_REPORTS)
    on_time, late = _split(rng, act, cal.SHARE_LATE_LAST_QUARTER if is_last else cal.SHARE_LATE_REPORTS)
    reported = pl.concat([carry.get("activite", on_time.clear()), on_time])
    sent = reported
    corrections = carry.get("corrections")
    broken_mask = pl.Series(rng.random(sent.height) < cal.SHARE_INCONSISTENT_REPORTS)
    sent = sent.with_columns(
        pl.when(broken_mask).then(pl.col("courriels_recus") + 5).otherwise(pl.col("courriels_repondus_72h"))
        .alias("courriels_repondus_72h"))
    if corrections is not None:
        sent = pl.concat([sent, corrections])
    detail = feed.request_detail(rng, profile, reported)
    kiosk = feed.kiosk_answers(rng, profile, reported)
    tag = f"{year}-T{quarter}"
    files = [_write(sent, folder, f"demo-{tag}-activite.parquet"),
             _write(detail, folder, f"demo-{tag}-demandes_detail.parquet"),
             _write(kiosk, folder, f"demo-{tag}-satisfaction_borne.parquet")]
    _, corrected = _split(rng, on_time, cal.SHARE_CORRECTED_REPORTS)
    corrected = corrected.with_columns((pl.col("usagers_accueillis") * 1.05).round().cast(pl.Int64))
    return [f for f in files if f], {"activite": late, "corrections": corrected}


def build_demo(path: Path, *, seed: int = 2019, until: str | None = None, today: dt.date | None = None,
               sites_file: Path | None = None, progress: Callable[[str], None] = lambda _m: None) -> None:
    """Generate and load the demo warehouse at ``path`` (replaced atomically when done).

    With ``sites_file`` (the official ANCT list), the synthetic activity sits on the real
    network imported through :func:`fsdash.ingest.import_site_list`; otherwise on a synthetic
    network placed at real communes.
    """
    today = today or dt.date.today()
    last = parse_quarter(until) if until else last_complete_quarter(today)
    if last > last_complete_quarter(today):
        raise ValueError(f"le trimestre {last[0]}-T{last[1]} n'est pas encore terminé")
    rng = np.random.default_rng(seed)
    quarters = quarters_between(FIRST_QUARTER, last)
    with tempfile.TemporaryDirectory(prefix="fsdash-demo-") as tmp, writer(path, fresh=True) as con:
        folder = Path(tmp)
        set_meta(con, "demo_seed", str(seed))
        if sites_file is None:
            ingest_paths(con, [_write(generate_sites(rng), folder, "demo-sites.parquet")], nature="demo", today=today)
            set_meta(con, "demo_network", "synthétique")
        else:
            import_site_list(con, sites_file.name, sites_file.read_bytes(), nature="demo", today=today)
            set_meta(con, "demo_network", f"liste officielle {sites_file.name}")
        sites = con.sql("SELECT * FROM sites ORDER BY site_id").pl()
        profile = feed.draw_profiles(rng, sites)
        scales = {y: feed.year_scale(profile, y, [q for yy, q in quarters if yy == y]) for y in {y for y, _ in quarters}}
        progress(f"Données de démonstration : {formats.number(sites.height)} sites, "
                 f"{len(quarters)} trimestres (graine {seed}) → {path}")
        carry: dict[str, pl.DataFrame] = {}
        for year, quarter in quarters:
            files, carry = _quarter_files(rng, profile, year, quarter, scales[year], carry,
                                          (year, quarter) == last, folder)
            if quarter == 4 and year >= cal.SURVEY_FIRST_YEAR:
                open_ids = sites.filter(pl.Series(feed.active_fraction(sites, year, 4) > 0))["site_id"].to_list()
                files.append(_write(feed.survey(rng, profile, year, open_ids), folder, f"demo-{year}-enquete_annuelle.parquet"))
            result = ingest_paths(con, [f for f in files if f], nature="demo", today=today)
            accepted = sum(t.rows_accepted for f in result.files for t in f.tables)
            progress(f"  {formats.quarter_long(quarter_start(year, quarter))} : "
                     f"{formats.number(accepted)} lignes chargées, {formats.number(result.rows_rejected)} en quarantaine")
    progress("Entrepôt de démonstration prêt.")
