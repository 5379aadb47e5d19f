"""The benchmark's warehouses: three sizes, built by the project's own demo path, reused when unchanged.

A benchmark is only worth what its data is: the warehouses are built by :func:`fsdash.demo.build.build_demo`
— generator, validation, ingest and rollups exactly as ``python -m fsdash demo`` runs them — at three sizes:

* ``demo``: the default demo (2020 T1 to 2026 T3, standard grain), what ``make run`` serves;
* ``1an``: one year (2029) of the national network at the grain of a real national feed
  (≈ 260 detail rows a site-quarter, ≈ 2,9 M rows);
* ``10ans``: ten years (2020 T1 to 2029 T4) at that grain (≈ 22 M detail rows).

``1an`` and ``10ans`` share their clock (« aujourd'hui » 15 January 2030) and their last year, so that
the ratio between them is the cost of history alone. Every clock is fixed: a size means the same data
on every machine and every day.

Building ``10ans`` takes minutes, so a built warehouse is kept in a cache folder (git-ignored) with a
side file (``<taille>.json``) naming what it was built from: the size's parameters, the schema version
and digests of the code that decides the warehouse's content (generator, validation, ingest, schema,
catalogue). It is reused only when all of these match and the file is the one that was built (same
inode, date and size); otherwise it is rebuilt — a benchmark of today's code on yesterday's warehouse
would measure neither.

``1an`` and ``10ans`` also keep the files their build loaded (``<taille>-fichiers/``, see
:func:`files_folder`): the ingest benchmark loads them again and the pandas baseline reads them. They are
written and removed with the warehouse, and recorded (names and sizes) in its side file: a warehouse
whose files are missing or changed is rebuilt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fsdash import formats
from fsdash.routes import ROOT

#: Files whose content decides what a demo warehouse holds (see the module docstring).
CONTENT_SOURCES = (
    "fsdash/demo",
    "fsdash/warehouse/ingest.py",
    "fsdash/validation.py",
    "fsdash/warehouse",
    "schemas",
)


@dataclass(frozen=True)
class Size:
    """A warehouse size: the arguments of ``build_demo`` (the clock and grain fixed, see the module docstring)."""

    name: str
    label: str  # French, for the report
    today: dt.date
    first: str | None = None
    until: str | None = None
    grain: str = "standard"
    seed: int = 2019
    #: Keep the files the build loads beside the warehouse (``<taille>-fichiers/``): the ingest
    #: benchmark loads them again (:mod:`fsdash.bench.ingest`, :mod:`fsdash.bench.baseline`).
    keep_files: bool = False

    def parameters(self) -> dict[str, Any]:
        """What the side file records and compares (JSON-ready)."""
        values = asdict(self)
        values.pop("label")
        values["today"] = self.today.isoformat()
        return values


SIZES: dict[str, Size] = {
    s.name: s
    for s in (
        Size("demo", "démonstration par défaut (2020-T1 à 2026-T3, grain standard)", dt.date(2026, 11, 27)),
        Size(
            "1an",
            "un an de flux national au grain complet (2029-T1 à 2029-T4)",
            dt.date(2030, 1, 15),
            first="2029-T1",
            grain="complet",
            keep_files=True,
        ),
        Size(
            "10ans",
            "dix ans de flux national au grain complet (2020-T1 à 2029-T4)",
            dt.date(2030, 1, 15),
            grain="complet",
            keep_files=True,
        ),
    )
}


def content_digests(root: Path = ROOT) -> dict[str, str]:
    """SHA-256 of each file that decides a warehouse's content (module docstring), by relative path."""
    found = {}
    for source in CONTENT_SOURCES:
        base = root / source
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        for path in files:
            if path.suffix not in (".py", ".yaml", ".yml", ".sql", ".json") or "__pycache__" in path.parts:
                continue
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def content_digest(digests: dict[str, str] | None = None) -> str:
    """One SHA-256 over :func:`content_digests` (paths and contents)."""
    digests = content_digests() if digests is None else digests
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def _changed_files(recorded: dict[str, str], now: dict[str, str]) -> str:
    changed = sorted(p for p in recorded.keys() | now.keys() if recorded.get(p) != now.get(p))
    shown = ", ".join(changed[:4]) + (f" et {len(changed) - 4} autres" if len(changed) > 4 else "")
    return f"code changé : {shown}" if changed else "code changé"


@dataclass(frozen=True)
class Warehouse:
    """A built warehouse of one size: where it is, what it holds, and what building it cost."""

    size: Size
    path: Path
    built: bool  # built by this run (False: reused)
    build_seconds: float | None  # this run's build, or the recorded one of a reused file
    contents: dict[str, Any]
    files: Path | None = None  # the files the build loaded, when the size keeps them

    def describe(self) -> dict[str, Any]:
        """The warehouse's entry in results.json."""
        return {
            "description": self.size.label,
            "parametres": self.size.parameters(),
            "construit_par_cette_execution": self.built,
            "construction_s": None if self.build_seconds is None else round(self.build_seconds, 1),
            **self.contents,
        }


def _file_version(path: Path) -> list[int]:
    from fsdash.warehouse.store import version

    return list(version(path))


def _contents(path: Path) -> dict[str, Any]:
    """Rows and quarters of the warehouse, read on a plain read-only connection (no cache)."""
    from fsdash.metrics.quality import contents
    from fsdash.warehouse.store import reader

    with reader(path) as con:
        held = contents(con)
    count = {"activite": held["activite"], "demandes_detail": held["demandes_detail"]}
    sites, quarters = held["sites"], (held["premier"], held["dernier"], held["trimestres"])
    first, last, n = quarters
    return {
        "fichier_mo": round(path.stat().st_size / 1e6, 1),
        "sites": sites,
        "trimestres": n,
        "premier_trimestre": first.isoformat() if first else None,
        "dernier_trimestre": last.isoformat() if last else None,
        "lignes_activite": count["activite"],
        "lignes_detail": count["demandes_detail"],
    }


def files_folder(path: Path) -> Path:
    """Where the files a warehouse was built from are kept: ``<taille>-fichiers/`` beside it (their
    French CSV versions go to ``<taille>-fichiers-csv/``, :func:`fsdash.bench.ingest.french_csv`)."""
    return path.with_name(f"{path.stem}-fichiers")


def _kept_files(path: Path) -> dict[str, int]:
    """Name and size of each kept file of the warehouse at ``path`` (empty when none)."""
    folder = files_folder(path)
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def _reusable(size: Size, path: Path, side: Path, digests: dict[str, str]) -> tuple[bool, str, dict[str, Any]]:
    """Whether the cached file can stand for ``size`` now, and why not (French, for the progress log)."""
    from fsdash.catalogue import load_catalogue
    from fsdash.warehouse.schema import is_up_to_date
    from fsdash.warehouse.store import connect_reader

    if not path.exists():
        return False, "absent", {}
    if not side.exists():
        return False, "fiche de construction absente", {}
    try:
        recorded = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False, "fiche illisible", {}
    if recorded.get("parametres") != size.parameters():
        return False, "paramètres changés", recorded
    if recorded.get("empreinte_code") != content_digest(digests):
        return False, _changed_files(recorded.get("empreintes_fichiers", {}), digests), recorded
    if recorded.get("version_fichier") != _file_version(path):
        return False, "fichier remplacé depuis sa construction", recorded
    if size.keep_files and (not recorded.get("fichiers") or recorded.get("fichiers") != _kept_files(path)):
        return False, "fichiers de chargement absents ou changés", recorded
    con = connect_reader(path)
    try:
        if not is_up_to_date(con, load_catalogue()):
            return False, "schéma à migrer", recorded
    finally:
        con.close()
    return True, "réutilisé", recorded


def ensure(
    size: Size,
    folder: Path,
    *,
    rebuild: bool = False,
    progress: Callable[[str], None] = lambda _m: None,
) -> Warehouse:
    """The warehouse of ``size`` in ``folder``: reused when it matches (module docstring), else built."""
    from fsdash.demo.build import build_demo

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{size.name}.duckdb"
    side = folder / f"{size.name}.json"
    digests = content_digests()
    ok, why, recorded = (False, "reconstruction demandée", {}) if rebuild else _reusable(size, path, side, digests)
    kept = files_folder(path) if size.keep_files else None
    if ok:
        progress(f"entrepôt {size.name} : {why} ({path})")
        return Warehouse(size, path, False, recorded.get("construction_s"), recorded.get("contenu", {}), kept)
    progress(f"entrepôt {size.name} : construction ({why}) — {size.label}")
    side.unlink(missing_ok=True)
    for old in (files_folder(path), files_folder(path).with_name(files_folder(path).name + "-csv")):
        shutil.rmtree(old, ignore_errors=True)
    start = time.perf_counter()
    build_demo(
        path,
        seed=size.seed,
        first=size.first,
        until=size.until,
        today=size.today,
        grain=size.grain,
        keep_files=kept,
        progress=lambda m: progress(f"  {m}"),
    )
    seconds = time.perf_counter() - start
    contents = _contents(path)
    from fsdash.warehouse.schema import SCHEMA_VERSION

    side.write_text(
        json.dumps(
            {
                "parametres": size.parameters(),
                "empreinte_code": content_digest(digests),
                "empreintes_fichiers": digests,
                "schema_version": SCHEMA_VERSION,
                "version_fichier": _file_version(path),
                "construction_s": round(seconds, 1),
                "contenu": contents,
                "fichiers": _kept_files(path),
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    progress(
        f"entrepôt {size.name} : construit en {seconds:.0f} s ({formats.number(contents['lignes_detail'])} lignes de détail)"
    )
    return Warehouse(size, path, True, seconds, contents, kept)


def existing(name: str, path: Path, label: str = "entrepôt fourni") -> Warehouse:
    """An already-built warehouse measured as it is (tests, or a copy of production data)."""
    size = Size(name, label, dt.date.today())
    return Warehouse(size, path, False, None, _contents(path))
