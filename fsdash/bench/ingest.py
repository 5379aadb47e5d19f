"""Ingest measured as a user runs it: one ``fsdash ingest`` process per load, wall time and peak memory.

The files are those a bench warehouse was built from (``build_demo(keep_files=…)``, kept beside the
warehouse by :mod:`fsdash.bench.warehouses`), in Parquet as the demo writes them and in French CSV
(``;``, decimal comma, UTF-8 with a BOM: what a spreadsheet saved in France sends), derived once from
the Parquet files and cached beside them (:func:`french_csv`).

Steps (issue 10):

* ``trimestre`` — one quarter: a warehouse holding the registry and every earlier quarter (prepared
  once, copied before each run, the copy not counted), then the last quarter's files;
* ``annee`` — one year: the registry only, then the last four quarters;
* ``historique`` — the backfill: every file (registry, quarters, funding) into an empty warehouse;
* ``rejet`` — a wholly rejected quarter: the last quarter's detail file with every row's year set to
  the year after the clock's, so that every row breaks « période terminée »; the run must exit 1 with every row
  in quarantine (checked in the published warehouse), in Parquet.

Each run is a fresh child process (``python -m fsdash.bench.ingest``, which runs the command line's own
``ingest`` — parser, progress, report, exit code — on the given files). One thing differs from a user's
``python -m fsdash ingest --db X files…``: the data's clock. The bench warehouses are dated up to 2029
(their builds fix « aujourd'hui », :mod:`fsdash.bench.warehouses`) and the command reads the machine's
date, by which those quarters are not over; the child passes the warehouse's date to
:func:`fsdash.warehouse.ingest.ingest_paths` and changes nothing else. Wall time is measured by the
parent from the spawn to the child's exit (interpreter start and imports included: what the user
waits for); the child also reports the time inside the command (``commande_s``), so the start-up share
is visible. Peak memory is the child's own high-water mark (``VmHWM`` of ``/proc/self/status``, which
it writes beside its time), in MiB (« Mo » in the report): its ``ru_maxrss`` seen by :func:`os.wait4`
starts at the bench's own (Linux records the parent's high-water mark when the child is spawned and
execs), so once the bench had built its warehouses every load read 880 Mo or 1 524 Mo. Where
``/proc`` is missing, ``ru_maxrss`` is what is left.
Rows are the rows in the files loaded (every table, funding included).

Repetitions are few: a load of a national year or a decade costs seconds to a minute, its spread is
small beside that, and the machine is shared. The quarter and the rejected quarter run
``runs`` times (median and max reported), the year and the backfill once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The steps a size runs (others, such as a test's tiny warehouse, run every step).
STEPS = ("trimestre", "annee", "historique", "rejet")
STEPS_BY_SIZE = {"1an": ("trimestre", "annee", "rejet"), "10ans": ("historique",)}
STEP_LABELS = {
    "trimestre": "un trimestre",
    "annee": "une année",
    "historique": "tout l'historique",
    "rejet": "un trimestre entièrement rejeté",
}
FORMATS = ("parquet", "csv")
CSV_MANIFEST = "sources.json"


# --- the files --------------------------------------------------------------------------------


def kept(folder: Path) -> list[Path]:
    """The files a warehouse was built from, in load order (``<load>-<position>-<name>``)."""
    return sorted(p for p in folder.iterdir() if p.suffix in (".parquet", ".csv")) if folder.is_dir() else []


@dataclass(frozen=True)
class Loads:
    """The kept files split as ``build_demo`` loaded them: the registry, each quarter, the rest."""

    registry: list[Path]
    quarters: list[list[Path]]
    other: list[Path]

    @classmethod
    def of(cls, files: list[Path]) -> Loads:
        from fsdash.bench.baseline import quarter_of

        groups: dict[str, list[Path]] = {}
        for f in files:
            groups.setdefault(f.name[:4], []).append(f)
        registry, quarters, other = [], [], []
        for group in groups.values():
            if any(f.stem.endswith("-sites") for f in group):
                registry += group
            elif any(quarter_of(f) for f in group):
                quarters.append(group)
            else:
                other += group
        return cls(registry, quarters, other)

    def all(self) -> list[Path]:
        return [*self.registry, *(f for q in self.quarters for f in q), *self.other]


def _convert(source: Path, target: Path) -> None:
    import polars as pl

    if source.suffix == ".parquet":
        pl.read_parquet(source).write_csv(target, separator=";", decimal_comma=True, include_bom=True)
    else:
        shutil.copyfile(source, target)


def french_csv(files: list[Path], folder: Path) -> list[Path]:
    """The French CSV version of each file (CSV files copied as they are), reused while its sources are
    unchanged (names and sizes recorded in ``sources.json``)."""
    sources = {f.name: f.stat().st_size for f in files}
    manifest = folder / CSV_MANIFEST
    targets = [folder / f"{f.stem}.csv" for f in files]
    try:
        reusable = json.loads(manifest.read_text(encoding="utf-8")) == sources and all(t.exists() for t in targets)
    except (OSError, ValueError):
        reusable = False
    if not reusable:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for source, target in zip(files, targets, strict=True):
            _convert(source, target)
        manifest.write_text(json.dumps(sources, indent=1), encoding="utf-8")
    return targets


def rows_in(files: list[Path]) -> int:
    """Rows in the files (a CSV file's lines after its header; the demo's cells hold no line break)."""
    import polars as pl

    total = 0
    for f in files:
        if f.suffix == ".parquet":
            total += pl.scan_parquet(f).select(pl.len()).collect().item()
        else:
            with f.open("rb") as fh:
                total += max(0, sum(1 for line in fh if line.strip()) - 1)
    return total


def future_quarter(source: Path, target: Path, today: dt.date) -> int:
    """``source`` (a detail file) with every row's year set to the one after ``today``'s; its rows."""
    import polars as pl

    frame = pl.read_parquet(source)
    frame.with_columns(pl.lit(today.year + 1, frame.schema["annee"]).alias("annee")).write_parquet(target)
    return frame.height


# --- one run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, seconds inside the command, peak RSS (MiB), exit code."""

    seconds: float
    command_seconds: float | None
    rss_mb: float
    exit_code: int
    error: str | None = None


def run_child(db: Path, files: list[Path], today: dt.date, log: Path) -> Run:
    """``python -m fsdash.bench.ingest`` on ``files`` into ``db`` (module docstring), its output in ``log``."""
    timing = log.with_suffix(".temps.json")
    command = [sys.executable, "-m", "fsdash.bench.ingest", "--aujourdhui", today.isoformat()]
    command += ["--temps", str(timing), "--db", str(db), *map(str, files)]
    env = _child_env()
    with log.open("wb") as out:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=_root())
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
    child.returncode = code = os.waitstatus_to_exitcode(status)
    inside, peak = None, usage.ru_maxrss / 1024
    with contextlib.suppress(OSError, ValueError, KeyError):  # a child that failed before writing it
        written = json.loads(timing.read_text(encoding="utf-8"))
        inside = written["commande_s"]
        peak = written.get("rss_max_mo") or peak
    error = None
    if code not in (0, 1):
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        error = f"code de sortie {code} : " + " / ".join(tail)
    return Run(seconds, inside, peak, code, error)


def _child_env() -> dict[str, str]:
    """The environment of a child process: this checkout first on its path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_root()), os.environ.get("PYTHONPATH")]))}


def _root() -> Path:
    from fsdash.routes import ROOT

    return ROOT


def prepare(path: Path, files: list[Path], today: dt.date) -> None:
    """A base warehouse at ``path``: ``files`` loaded in this process (not measured), like a user's."""
    from fsdash.warehouse.ingest import ingest_paths
    from fsdash.warehouse.store import writer

    with writer(path, fresh=True) as con:
        if files:
            ingest_paths(con, files, today=today)


def _quarantined(db: Path) -> tuple[int, int, list[str]]:
    """Of the last batch of ``db``: rows in quarantine for « période terminée », detail rows written, and
    every rule its rows broke (a future quarter has no activity report either: ``detail_le_total``)."""
    from fsdash.metrics.quality import last_batch_outcome
    from fsdash.warehouse.store import reader

    with reader(db) as con:
        return last_batch_outcome(con, "periode_terminee")


# --- what no load can go under ----------------------------------------------------------------

#: What a process that only imports the command's modules does, then ends as the command ends
#: (:func:`fsdash.cli.exit_at_once`): the fixed cost of any ``fsdash ingest``.
IMPORTS = "import fsdash.cli, fsdash.warehouse.ingest; fsdash.cli.exit_at_once(0)"


def floor(detail: Path, runs: int = 3) -> dict[str, Any]:
    """What no load of this quarter goes under on this machine, measured beside it: Python's start with
    the command's imports (a child process that imports and ends), and DuckDB's bulk insert of the
    detail rows alone into the warehouse's table (read by DuckDB itself from the Parquet file, no
    validation, no revision, no rollup, then committed and checkpointed), medians of ``runs``."""
    from fsdash.warehouse.bulk_floor import bare_insert

    env = _child_env()
    imports = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", IMPORTS], env=env, cwd=_root(), check=True)
        imports.append(time.perf_counter() - start)
    inserts = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="fsdash-bench-plancher-") as tmp:
            seconds, rows = bare_insert(detail, Path(tmp) / "plancher.duckdb")
            inserts.append(seconds)
    return {
        "imports_s": round(statistics.median(imports), 3),
        "insertion_detail_s": round(statistics.median(inserts), 3),
        "lignes_detail": rows,
        "executions": runs,
    }


# --- the steps --------------------------------------------------------------------------------


@dataclass
class Step:
    """One step in one format: what is loaded over which base, and its runs."""

    size: str
    key: str
    fmt: str
    files: list[Path]
    base: list[Path]
    quarters: int
    rows: int = 0
    runs: list[Run] = field(default_factory=list)
    quarantine: tuple[int, int, list[str]] | None = None  # the rejected quarter: see _quarantined

    def record(self) -> dict[str, Any]:
        """The step's entry in results.json (French keys)."""
        ok = [r for r in self.runs if r.error is None]
        seconds = [r.seconds for r in ok]
        median = statistics.median(seconds) if seconds else None
        inside = [r.command_seconds for r in ok if r.command_seconds is not None]
        errors = [r.error for r in self.runs if r.error]
        entry: dict[str, Any] = {
            "taille": self.size,
            "etape": self.key,
            "format": self.fmt,
            "fichiers": len(self.files),
            "trimestres": self.quarters,
            "lignes": self.rows,
            "executions": len(self.runs),
            "secondes_p50": None if median is None else round(median, 3),
            "secondes_max": round(max(seconds), 3) if seconds else None,
            "commande_s_p50": round(statistics.median(inside), 3) if inside else None,
            "lignes_par_s": round(self.rows / median) if median else None,
            "rss_max_mo": round(max(r.rss_mb for r in self.runs), 1) if self.runs else None,
            "codes_sortie": sorted({r.exit_code for r in self.runs}),
            "erreur": errors[0] if errors else None,
        }
        if self.quarantine is not None:
            entry["lignes_en_quarantaine"], entry["lignes_ecrites"], entry["regles"] = self.quarantine
            entry["rejet_complet"] = (
                entry["codes_sortie"] == [1] and self.quarantine[0] == self.rows and self.quarantine[1] == 0
            )
        return entry


def plan_steps(size: str, loads: Loads, csv_of: Callable[[list[Path]], list[Path]], steps: tuple[str, ...]):
    """The steps of ``steps`` (formats included) for one warehouse's files."""
    if not loads.quarters:
        return []
    last, year = loads.quarters[-1], loads.quarters[-4:]
    before_last = [*loads.registry, *(f for q in loads.quarters[:-1] for f in q)]
    before_year = [*loads.registry, *(f for q in loads.quarters[: -len(year)] for f in q)]
    out = []
    for key in steps:
        if key == "rejet":
            detail = [f for f in last if f.stem.endswith("-demandes_detail")]
            out.append(Step(size, key, "parquet", detail, before_last, 1))
            continue
        files, base, quarters = {
            "trimestre": (last, before_last, 1),
            "annee": ([f for q in year for f in q], before_year, len(year)),
            "historique": (loads.all(), [], len(loads.quarters)),
        }[key]
        for fmt in FORMATS:
            out.append(Step(size, key, fmt, files if fmt == "parquet" else csv_of(files), base, quarters))
    return out


def measure(
    size: str,
    files_folder: Path,
    today: dt.date,
    *,
    steps: tuple[str, ...] | None = None,
    runs: int = 3,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[dict[str, Any]]:
    """Every step of ``size`` (:data:`STEPS_BY_SIZE`) on the files kept in ``files_folder``: records."""
    from fsdash import formats

    steps = steps or STEPS_BY_SIZE.get(size, STEPS)
    loads = Loads.of(kept(files_folder))
    csv_folder = files_folder.with_name(files_folder.name + "-csv")
    all_csv: dict[Path, Path] = {}

    def csv_of(chosen: list[Path]) -> list[Path]:
        if not all_csv:
            progress(f"{size} : versions CSV françaises des fichiers ({csv_folder})")
            every = loads.all()
            all_csv.update(zip(every, french_csv(every, csv_folder), strict=True))
        return [all_csv[f] for f in chosen]

    planned = plan_steps(size, loads, csv_of, steps)
    records = []
    with tempfile.TemporaryDirectory(prefix="fsdash-bench-chargement-") as tmp:
        work = Path(tmp)
        bases: dict[tuple[str, ...], Path] = {}
        for step in planned:
            key = tuple(f.name for f in step.base)
            if key not in bases:
                bases[key] = work / f"base-{len(bases)}.duckdb"
                progress(f"{size} : entrepôt de départ ({formats.number(len(step.base))} fichiers, non mesuré)")
                prepare(bases[key], step.base, today)
            base = bases[key].resolve()
            files = step.files
            if step.key == "rejet":
                files = [work / f"rejet-{step.files[0].name}"]
                future_quarter(step.files[0], files[0], today)
            step.rows = rows_in(files)
            count = runs if step.key in ("trimestre", "rejet") else 1
            for index in range(count):
                folder = work / f"run-{step.key}-{step.fmt}-{index}"
                folder.mkdir()
                db = folder / "entrepot.duckdb"
                shutil.copyfile(base, db)
                run = run_child(db, files, today, folder / "sortie.txt")
                step.runs.append(run)
                if step.key == "rejet" and run.error is None:
                    step.quarantine = _quarantined(db)
                shutil.rmtree(folder)
            record = step.record()
            if step.key == "trimestre" and step.fmt == "parquet":
                detail = [f for f in step.files if f.stem.endswith("-demandes_detail")]
                if detail:
                    progress(f"{size} : plancher d'un trimestre (imports, insertion en bloc par DuckDB)")
                    record["plancher"] = floor(detail[0], runs)
            records.append(record)
            progress(
                f"{size} : chargement de {STEP_LABELS[step.key]} ({step.fmt}), "
                f"{formats.number(step.rows)} lignes : {formats.number(record['secondes_p50'] or 0, 2)} s, "
                f"{formats.number(record['lignes_par_s'] or 0)} lignes/s, {formats.number(record['rss_max_mo'] or 0)} Mo"
            )
    return records


# --- the child process ------------------------------------------------------------------------


def child(argv: list[str]) -> int:
    """``python -m fsdash.bench.ingest --aujourdhui D --temps FICHIER --db X files…``: the command line's
    ``ingest`` with the data's clock (module docstring); the time inside the command written to FICHIER."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m fsdash.bench.ingest")
    parser.add_argument("--aujourdhui", required=True)
    parser.add_argument("--temps", required=True)
    args, rest = parser.parse_known_args(argv)
    start = time.perf_counter()
    from fsdash import cli
    from fsdash.warehouse import ingest

    today = dt.date.fromisoformat(args.aujourdhui)
    original = ingest.ingest_paths

    def dated(con, paths, **kwargs):
        return original(con, paths, **{**kwargs, "today": today})

    ingest.ingest_paths = dated  # the command imports it from the module when it runs
    code = cli.main(["ingest", *rest])
    seconds = time.perf_counter() - start
    from fsdash.bench.procfs import memory_mb

    peak = memory_mb("self", "VmHWM")
    Path(args.temps).write_text(json.dumps({"commande_s": seconds, "rss_max_mo": peak}), encoding="utf-8")
    return code


if __name__ == "__main__":
    from fsdash.cli import exit_at_once

    exit_at_once(child(sys.argv[1:]))  # as ``python -m fsdash`` ends
