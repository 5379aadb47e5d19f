"""``python -m fsdash bench``: build or reuse each warehouse size, measure, write the results and the report.

Kept importable without Streamlit or DuckDB at module level: the command line builds its parser
from :func:`add_arguments` on every call of ``python -m fsdash``, whatever the command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsdash.routes import ROOT, ROUTES, Route

DEFAULT_FOLDER = ROOT / "benchmarks" / "entrepots"
#: The browser is measured on the smallest and the largest warehouse (what the page sends does not
#: grow with history: the two bound it), the load test on the demo (as the issue states it).
NAVIGATION_SIZES = ("demo", "10ans")
LOAD_SIZE = "demo"
DEFAULT_JSON = ROOT / "benchmarks" / "results.json"
DEFAULT_MARKDOWN = ROOT / "BENCHMARKS.md"
EXIT_REFUSED = 2


@dataclass(frozen=True)
class Plan:
    """What to measure and how many times (see :mod:`fsdash.bench.pages` and :mod:`fsdash.bench.queries`)."""

    routes: tuple[Route, ...] = ROUTES
    scopes: tuple[str, ...] = ("national", "departement", "site")
    kinds: tuple[str, ...] = ("rendu", "filtre", "requete", "navigation", "charge", "chargement")
    # A full run of the three sizes takes about 6 minutes of measurement on 2 cores with these counts,
    # plus the builds (about 5 minutes, only when a warehouse is missing or out of date).
    warm_runs: int = 10
    cold_runs: int = 5
    load_sessions: int = 50
    overload: int = 200
    #: Runs of the one-quarter and rejected-quarter ingests (the year and the backfill run once).
    ingest_runs: int = 3

    def repetitions(self) -> dict[str, int]:
        """As results.json states them (French keys)."""
        return {
            "rendus_froids": self.cold_runs,
            "rendus_chauds": self.warm_runs,
            "filtres": self.cold_runs,
            "requetes_froides": self.cold_runs,
            "requetes_chaudes": self.warm_runs,
        }


@dataclass
class Outcome:
    """One warehouse measured: its items, what each part took (seconds), what was looked at."""

    items: list[dict[str, Any]] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


def measure(warehouse, plan: Plan, progress: Callable[[str], None]) -> Outcome:
    """Every measurement of ``plan`` on one warehouse (a :class:`fsdash.bench.warehouses.Warehouse`)."""
    from fsdash import cache, formats
    from fsdash.bench import pages, queries
    from fsdash.bench.measure import median
    from fsdash.bench.scenario import choose

    name, path = warehouse.size.name, warehouse.path
    scenario = choose(path)
    outcome = Outcome(info={**warehouse.describe(), "scenario": scenario.describe()})
    recordings: pages.Recordings = {}
    measured = []
    opening = queries.reader_opening(path.absolute(), plan.cold_runs)
    outcome.info["ouverture_lecteur_ms"] = round(median(opening) or 0, 2)
    with pages.app_environment(path):
        if "rendu" in plan.kinds:
            start = time.perf_counter()
            progress(f"{name} : rendus de {len(plan.routes)} pages × {len(plan.scopes)} périmètres")
            measured += pages.measure_pages(
                name, scenario, plan.routes, plan.scopes, plan.cold_runs, plan.warm_runs, recordings, progress
            )
            outcome.durations["rendus"] = time.perf_counter() - start
        if "filtre" in plan.kinds:
            start = time.perf_counter()
            progress(f"{name} : changements de filtre")
            measured += pages.measure_filters(name, scenario, plan.routes, plan.cold_runs, recordings, progress)
            outcome.durations["filtres"] = time.perf_counter() - start
        if "requete" in plan.kinds:
            if not recordings:  # queries only: record them from cold renders of each page, unmeasured
                pages.cold_start()
                with cache.recording() as calls:
                    for scope in plan.scopes:
                        at = pages.session(scenario.query_params(scope))
                        pages.timed_run(at)
                        for route in plan.routes:
                            at.switch_page(route.path)
                            pages.timed_run(at)
                for call in calls:
                    recordings.setdefault(call, pages.Recorded(call, {"?"}, {"?"}))
            start = time.perf_counter()
            progress(f"{name} : {formats.number(len(recordings))} requêtes distinctes rejouées")
            measured += queries.replay(name, path, recordings, plan.cold_runs, plan.warm_runs, progress)
            outcome.durations["requetes"] = time.perf_counter() - start
    if "navigation" in plan.kinds and name in NAVIGATION_SIZES:
        from fsdash.bench import browser

        start = time.perf_counter()
        progress(f"{name} : changements de page dans le navigateur")
        measured += browser.measure_navigation(
            name, path, max(2, plan.cold_runs), tuple(r for r in ROUTES if r in plan.routes), progress
        )
        outcome.durations["navigateur"] = time.perf_counter() - start
    pages.cold_start()
    outcome.items = [m.item() for m in measured]
    return outcome


def measure_load(path: Path, plan: Plan, progress: Callable[[str], None]) -> dict[str, Any]:
    """The load test of the issue « Many users at once » on one warehouse: 50 sessions at once (each
    opens a page and changes a filter), 200 at once past the admission limit, 200 sessions opened and
    closed (:mod:`fsdash.bench.load`); the record with its verdicts."""
    from fsdash.bench import load

    progress(f"charge : {plan.load_sessions} sessions simultanées, puis {plan.overload} (surcharge)")
    record = load.measure(
        path,
        load.Plan(sessions=plan.load_sessions),
        overload=plan.overload,
        churn_sessions=plan.overload,
        progress=progress,
    )
    record["objectifs"] = load.verdicts(record)
    return record


def measure_ingest(warehouse, plan: Plan, progress: Callable[[str], None]) -> tuple[list, list]:
    """Issue 10 on one warehouse whose files were kept: the ingest steps of its size
    (:mod:`fsdash.bench.ingest`) and the pandas baseline of three page queries (:mod:`fsdash.bench.baseline`)."""
    from fsdash import formats
    from fsdash.bench import baseline, ingest

    name = warehouse.size.name
    steps = ingest.measure(name, warehouse.files, warehouse.size.today, runs=plan.ingest_runs, progress=progress)
    progress(f"{name} : référence pandas de trois requêtes des pages")
    records = baseline.measure(name, warehouse.path, ingest.kept(warehouse.files), plan.cold_runs, plan.warm_runs)
    for r in records:
        progress(
            f"  {r['libelle']} : pandas {formats.number(r['pandas_ms'])} ms, application "
            f"{formats.number(r['application_froid_ms'], 1)} ms à froid (×{formats.number(r['ratio_froid'] or 0, 1)})"
        )
    return steps, records


def run(
    warehouses: list[Callable[[], Any]],
    plan: Plan,
    *,
    output: Path,
    markdown_path: Path,
    reference: Path | None = None,
    command: str = "python -m fsdash bench",
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Get each warehouse (a callable: build or reuse), measure it, write results.json and the Markdown."""
    from fsdash.bench import report

    started = dt.datetime.now().astimezone()
    clock = time.perf_counter()
    load_start = report.load_average()
    load_record: dict[str, Any] | None = None
    items: list[dict[str, Any]] = []
    infos: dict[str, Any] = {}
    durations: dict[str, dict[str, float]] = {}
    ingest_steps: list[dict[str, Any]] = []
    baseline_records: list[dict[str, Any]] = []
    for get in warehouses:
        warehouse = get()
        outcome = measure(warehouse, plan, progress)
        if "chargement" in plan.kinds and warehouse.files is not None:
            start = time.perf_counter()
            steps, records = measure_ingest(warehouse, plan, progress)
            ingest_steps += steps
            baseline_records += records
            outcome.durations["chargement"] = time.perf_counter() - start
        if warehouse.built and warehouse.build_seconds is not None:
            outcome.durations["construction"] = warehouse.build_seconds
        items += outcome.items
        infos[warehouse.size.name] = outcome.info
        durations[warehouse.size.name] = {k: round(v, 1) for k, v in outcome.durations.items()}
        if "charge" in plan.kinds and warehouse.size.name == LOAD_SIZE:
            start = time.perf_counter()
            load_record = measure_load(warehouse.path, plan, progress)
            durations[warehouse.size.name]["charge"] = round(time.perf_counter() - start, 1)
    results = report.document(
        command=command,
        started=started.isoformat(timespec="seconds"),
        total_seconds=time.perf_counter() - clock,
        machine_info=report.machine(),
        load={"debut": load_start, "fin": report.load_average()},
        repetitions=plan.repetitions(),
        warehouses=infos,
        durations=durations,
        items=items,
        charge=load_record,
        ingest=report.ingest_document(ingest_steps, baseline_records) if ingest_steps or baseline_records else None,
    )
    report.write_json(results, output)
    previous = report.read_json(reference) if reference else None
    markdown_path.write_text(
        report.markdown(results, previous, str(reference) if reference else ""),
        encoding="utf-8",
    )
    return results


# --- command line -------------------------------------------------------------------------------


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m fsdash bench`` (help in French)."""
    parser.add_argument(
        "--tailles",
        default="demo,1an,10ans",
        help="tailles d'entrepôt mesurées, séparées par des virgules (défaut : demo,1an,10ans) : demo = la "
        "démonstration par défaut, 1an = un an de flux national au grain complet, 10ans = dix ans, 2020 à 2029 (≈ 22 M "
        "lignes de détail)",
    )
    parser.add_argument(
        "--dossier",
        default=str(DEFAULT_FOLDER),
        help="dossier des entrepôts construits pour le banc d'essai, réutilisés d'une exécution à l'autre "
        "tant que leurs paramètres et le code qui les construit sont inchangés (défaut : benchmarks/entrepots)",
    )
    parser.add_argument(
        "--repetitions",
        type=int,
        default=Plan.warm_runs,
        metavar="N",
        help=f"exécutions mesurées à chaud, après un échauffement (défaut : {Plan.warm_runs})",
    )
    parser.add_argument(
        "--repetitions-froid",
        type=int,
        default=Plan.cold_runs,
        metavar="N",
        help="exécutions mesurées à froid (caches vidés, lecteur fermé) et répétitions de chaque changement "
        f"de filtre (défaut : {Plan.cold_runs})",
    )
    parser.add_argument(
        "--pages",
        help="pages mesurées (chemins d'URL séparés par des virgules, ex. accueil,frequentation ; défaut : toutes)",
    )
    parser.add_argument(
        "--perimetres",
        default="national,departement,site",
        help="niveaux de périmètre des rendus (défaut : national,departement,site)",
    )
    parser.add_argument(
        "--mesures",
        default=",".join(Plan.kinds),
        help=f"mesures faites (défaut : {','.join(Plan.kinds)} ; navigation : dans Chromium s'il est installé ; "
        "charge : 50 sessions simultanées sur la démonstration ; chargement : `fsdash ingest` d'un trimestre et "
        "d'une année (1an), de dix ans d'historique (10ans), en Parquet et en CSV français, un trimestre "
        "entièrement rejeté, et la référence pandas des requêtes des pages)",
    )
    parser.add_argument(
        "--reference",
        metavar="FICHIER",
        help="results.json d'une exécution précédente : BENCHMARKS.md les met côte à côte (ratios)",
    )
    parser.add_argument(
        "--sortie", default=str(DEFAULT_JSON), help="fichier JSON écrit (défaut : benchmarks/results.json)"
    )
    parser.add_argument(
        "--rapport", default=str(DEFAULT_MARKDOWN), help="rapport Markdown écrit (défaut : BENCHMARKS.md)"
    )
    parser.add_argument("--reconstruire", action="store_true", help="reconstruit les entrepôts même s'ils sont à jour")
    parser.add_argument(
        "--depuis",
        metavar="FICHIER",
        help="ne mesure rien : réécrit le rapport Markdown à partir d'un results.json existant (avec --reference, "
        "compare deux mesures déjà faites)",
    )


def _command(args: argparse.Namespace) -> str:
    parts = ["python -m fsdash bench", f"--tailles {args.tailles}", f"--repetitions {args.repetitions}"]
    parts.append(f"--repetitions-froid {args.repetitions_froid}")
    for option, value in (("--pages", args.pages), ("--reference", args.reference)):
        if value:
            parts.append(f"{option} {value}")
    if args.perimetres != "national,departement,site":
        parts.append(f"--perimetres {args.perimetres}")
    if args.mesures != ",".join(Plan.kinds):
        parts.append(f"--mesures {args.mesures}")
    return " ".join(parts)


def plan_from(args: argparse.Namespace) -> Plan | str:
    """The plan the options ask for, or the French reason it is refused."""
    from fsdash.bench.measure import KINDS
    from fsdash.bench.scenario import SCOPES

    routes = ROUTES
    if args.pages:
        wanted = _list(args.pages)
        unknown = [w for w in wanted if w not in {r.url_path for r in ROUTES}]
        if unknown:
            return f"page inconnue : {', '.join(unknown)} (pages : {', '.join(r.url_path for r in ROUTES)})"
        routes = tuple(r for r in ROUTES if r.url_path in wanted)
    scopes = _list(args.perimetres)
    if not scopes or any(s not in SCOPES for s in scopes):
        return f"périmètres attendus parmi : {', '.join(SCOPES)}"
    kinds = _list(args.mesures)
    if not kinds or any(k not in (*KINDS, "charge", "chargement") for k in kinds):
        return f"mesures attendues parmi : {', '.join((*KINDS, 'charge', 'chargement'))}"
    if args.repetitions < 1 or args.repetitions_froid < 1:
        return "les répétitions doivent valoir au moins 1"
    return Plan(routes, tuple(scopes), tuple(kinds), args.repetitions, args.repetitions_froid)


def main(args: argparse.Namespace) -> int:
    """Run the benchmark the options describe; 2 (nothing measured) when they are refused."""
    from fsdash import formats
    from fsdash.bench import warehouses

    plan = plan_from(args)
    sizes = _list(args.tailles)
    unknown = [s for s in sizes if s not in warehouses.SIZES]
    problem = plan if isinstance(plan, str) else None
    if unknown:
        problem = f"taille inconnue : {', '.join(unknown)} (tailles : {', '.join(warehouses.SIZES)})"
    elif not sizes:
        problem = "aucune taille demandée"
    if args.reference and not Path(args.reference).is_file():
        problem = f"référence introuvable : {args.reference}"
    if args.depuis and not Path(args.depuis).is_file():
        problem = f"résultats introuvables : {args.depuis}"
    if problem:
        print(f"erreur : {problem}", file=sys.stderr)
        return EXIT_REFUSED
    assert isinstance(plan, Plan)
    if args.depuis:
        return _report_only(Path(args.depuis), Path(args.rapport), Path(args.reference) if args.reference else None)
    start = time.perf_counter()

    def progress(message: str) -> None:
        elapsed = time.perf_counter() - start
        print(f"[{int(elapsed // 60):02d}:{int(elapsed % 60):02d}] {message}", flush=True)

    folder = Path(args.dossier)
    getters = [
        lambda s=size: warehouses.ensure(warehouses.SIZES[s], folder, rebuild=args.reconstruire, progress=progress)
        for size in sizes
    ]
    results = run(
        getters,
        plan,
        output=Path(args.sortie),
        markdown_path=Path(args.rapport),
        reference=Path(args.reference) if args.reference else None,
        command=_command(args),
        progress=progress,
    )
    _print_verdicts(results)
    print(f"résultats : {args.sortie} ; rapport : {args.rapport} ({formats.number(time.perf_counter() - start)} s)")
    return 0


def _report_only(results_path: Path, markdown_path: Path, reference: Path | None) -> int:
    """Rewrite the Markdown from a results.json already written (nothing measured)."""
    from fsdash.bench import report

    results = report.read_json(results_path)
    previous = report.read_json(reference) if reference else None
    markdown_path.write_text(report.markdown(results, previous, str(reference) if reference else ""), encoding="utf-8")
    _print_verdicts(results)
    print(f"rapport : {markdown_path} (d'après {results_path})")
    return 0


def _print_verdicts(results: dict[str, Any]) -> None:
    from fsdash import formats

    for verdict in results["objectifs"]:
        if not verdict["tailles"]:
            continue
        cells = []
        for size, entry in verdict["tailles"].items():
            state = "atteint" if entry["atteint"] else "NON atteint"
            cells.append(f"{size} {state} (pire {formats.number(entry['pire_ms'] or 0)} ms)")
        print(f"{verdict['texte']} ≤ {formats.number(verdict['seuil_ms'])} ms : " + " ; ".join(cells))
