"""Command line: the contract other tools and scripts rely on (help texts in French).

Exit codes: 0 success; 1 some rows were rejected (the rest is loaded, rejected rows are in
quarantine); 2 the call was refused and nothing was written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from fsdash import formats
from fsdash.bench.run import add_arguments as bench_arguments
from fsdash.cli_french import FrenchParser, os_error_text
from fsdash.warehouse.store import default_db_path

EXIT_REJECTED = 1
EXIT_REFUSED = 2
#: The command failed on its own side (the warehouse engine, the machine): nothing was published.
EXIT_FAILED = 3


def _db(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db else default_db_path()


def _loader(args: argparse.Namespace) -> str:
    """Who loads, recorded on every batch: ``--par``, else the operating system's user."""
    if getattr(args, "par", None):
        return args.par.strip()
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "inconnu"


def cmd_ingest(args: argparse.Namespace) -> int:
    from fsdash.progress import TerminalProgress
    from fsdash.warehouse.ingest import IngestRefused, ingest_paths, report_lines
    from fsdash.warehouse.store import writer

    progress = TerminalProgress()
    try:
        with writer(_db(args)) as con:
            progress("copie de travail de l'entrepôt prête")
            result = ingest_paths(con, [Path(f) for f in args.files], loaded_by=_loader(args), progress=progress)
        progress.done("entrepôt publié")
    except IngestRefused as exc:
        progress.done()
        return _refused(exc.messages)
    except Exception:
        progress.done()  # the status line ends before the failure is said (main)
        raise
    return _report(result, report_lines(result))


def _refused(messages: list[str]) -> int:
    """Nothing was written: say why, one line per problem, and exit 2."""
    for message in messages:
        print(f"erreur : {message}", file=sys.stderr)
    return EXIT_REFUSED


def _failed(exc: Exception) -> int:
    """A failure of the command itself (the warehouse engine, the machine), not of the files: exit 3.

    A load writes to a private copy published only at the end, so the served warehouse is unchanged.
    The engine's own words (in English) follow, for whoever investigates."""
    print(
        "erreur interne : la commande a échoué sans que les fichiers soient en cause ; rien n'a été publié, "
        "l'entrepôt servi est inchangé.",
        file=sys.stderr,
    )
    detail = next(iter(str(exc).strip().splitlines()), "")
    print(f"  détail technique : {type(exc).__name__} : {detail}", file=sys.stderr)
    return EXIT_FAILED


def _report(result, lines: list[str]) -> int:
    """Print a load's report (to stderr when rows were rejected) and return its exit code."""
    stream = sys.stderr if result.exit_code else sys.stdout
    for line in lines:
        print(line, file=stream)
    for name in getattr(result, "empty_files", []):
        print(f"{name} : aucune ligne à charger, rien n'a été écrit pour ce fichier.", file=sys.stderr)
    if result.rows_rejected:
        print(
            f"Lignes rejetées : {formats.number(result.rows_rejected)} ; elles sont conservées dans la table quarantine "
            "de l'entrepôt ; corrigez-les et chargez à nouveau le fichier.",
            file=sys.stderr,
        )
    return result.exit_code


def cmd_import_sites(args: argparse.Namespace) -> int:
    import datetime as dt

    from fsdash.metrics.quality import site_lists
    from fsdash.warehouse.ingest import IngestRefused, import_site_list, report_lines
    from fsdash.warehouse.store import writer

    path = Path(args.file)
    try:
        list_date = dt.date.fromisoformat(args.date) if args.date else None
    except ValueError:
        return _refused([f"--date « {args.date} » : date illisible (AAAA-MM-JJ attendu) ; rien n'a été écrit."])
    try:
        data = path.read_bytes()
        with writer(_db(args)) as con:
            result = import_site_list(con, path.name, data, list_date=list_date, loaded_by=_loader(args))
            lists = site_lists(con).select("list_date", "sites", "new_sites", "closed_sites").tail(1).rows()
    except OSError as exc:
        return _refused([os_error_text(exc)])
    except (IngestRefused, ValueError) as exc:
        return _refused(getattr(exc, "messages", [str(exc)]))
    lines = report_lines(result) + [f"  avertissement : {w}" for w in result.warnings]
    if lists and result.files[0].status != "deja_charge":
        day, listed, new, closed = lists[0]
        lines.append(
            f"Liste du {formats.date_short(day)} : {formats.plural(listed, 'structure')}, {formats.plural(new, 'nouvelle')}, "
            f"{formats.plural(closed, 'fermée')} "
            "(absentes de cette liste)."
        )
    return _report(result, lines)


def cmd_import_indicators(args: argparse.Namespace) -> int:
    """Official series (DITP, Etalab): 0 loaded, 1 rows rejected (the rest loaded), 2 refused."""
    import datetime as dt

    from fsdash.warehouse.official_series import OfficialRefused, import_official_paths, report_lines
    from fsdash.warehouse.store import writer

    try:
        file_date = dt.date.fromisoformat(args.date) if args.date else None
    except ValueError:
        return _refused([f"date de publication illisible « {args.date} » (attendu : AAAA-MM-JJ)"])
    try:
        with writer(_db(args)) as con:
            result = import_official_paths(con, [Path(f) for f in args.files], file_date=file_date)
    except OfficialRefused as exc:
        return _refused(exc.messages)
    return _report(result, report_lines(result))


def cmd_demo(args: argparse.Namespace) -> int:
    import datetime as dt

    from fsdash.demo.build import build_demo
    from fsdash.warehouse.ingest import IngestRefused

    sites = Path(args.sites) if getattr(args, "sites", None) else None
    official = [Path(f) for f in getattr(args, "official", None) or []]
    today_text = getattr(args, "aujourdhui", None)
    try:
        today = dt.date.fromisoformat(today_text) if today_text else None
    except ValueError:
        return _refused([f"date illisible « {today_text} » (attendu : AAAA-MM-JJ)"])
    try:
        build_demo(
            _db(args),
            seed=args.seed,
            first=getattr(args, "premier", None),
            until=args.until,
            today=today,
            grain=getattr(args, "grain", None) or "standard",
            sites_file=sites,
            official_files=official or None,
            progress=lambda m: print(m, flush=True),
        )
    except IngestRefused as exc:
        return _refused(exc.messages)
    except ValueError as exc:  # a quarter or a clock the generator refuses: nothing was built
        return _refused([str(exc)])
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from fsdash.templates import write_templates

    for path in write_templates(Path(args.outdir)):
        print(f"modèle écrit : {path}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from fsdash.summary import build_summary, summary_lines
    from fsdash.warehouse.store import WarehouseMissing, reader

    try:
        with reader(_db(args)) as con:
            summary = build_summary(con)
    except WarehouseMissing as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print("\n".join(summary_lines(summary)))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    from fsdash.serve import serve
    from fsdash.warehouse.store import ensure_current

    db = _db(args)
    if ensure_current(db):
        print(f"entrepôt {db} mis à jour vers le schéma courant.", flush=True)
    if not db.exists():
        print(f"entrepôt absent ({db}) : construction de l'entrepôt de démonstration…", flush=True)
        cmd_demo(argparse.Namespace(db=str(db), seed=2019, until=None, sites=None))
    os.environ["FSDASH_DB"] = str(db)
    return serve(args.port, args.address)


def cmd_bench(args: argparse.Namespace) -> int:
    from fsdash.bench.run import main

    return main(args)


def cmd_catalogue(args: argparse.Namespace) -> int:
    from fsdash.views.dictionary import dictionary_markdown

    Path(args.out).write_text(dictionary_markdown(), encoding="utf-8")
    print(f"dictionnaire écrit : {args.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = FrenchParser(
        prog="python -m fsdash",
        description="fsdash — tableau de bord de pilotage du réseau France Services.",
    )
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMANDE")
    db_help = "chemin de l'entrepôt DuckDB (défaut : variable FSDASH_DB, sinon data/fsdash.duckdb)"

    p = sub.add_parser("demo", help="construit l'entrepôt de démonstration (données synthétiques)")
    p.add_argument("--db", metavar="ENTREPOT", help=db_help)
    p.add_argument("--seed", type=int, metavar="GRAINE", default=2019, help="graine du générateur (défaut : 2019)")
    p.add_argument(
        "--premier",
        metavar="AAAA-Tn",
        help="premier trimestre généré (défaut : 2020-T1, premières labellisations ; "
        "avant, le réseau n'existe pas et les trimestres sont vides)",
    )
    p.add_argument("--until", metavar="AAAA-Tn", help="dernier trimestre généré (défaut : dernier trimestre terminé)")
    p.add_argument(
        "--aujourdhui",
        metavar="AAAA-MM-JJ",
        help="date du jour de la démonstration (défaut : aujourd'hui) : le dernier trimestre par défaut est le "
        "dernier terminé à cette date, et le chargement refuse les trimestres qui ne le sont pas ; "
        "au-delà de 2026, l'activité reste au niveau de la dernière année calée (ex. 2030-01-15 : "
        "2020-T1 à 2029-T4, dix ans)",
    )
    p.add_argument(
        "--grain",
        choices=("standard", "complet"),
        default="standard",
        help="finesse du détail des demandes : « standard » (défaut, environ 130 lignes par site et par "
        "trimestre) ou « complet » (toutes les combinaisons partenaire × situation de vie × canal × suite "
        "qu'un site déclare, environ 260 lignes par site et par trimestre, comme le flux national réel)",
    )
    p.add_argument(
        "--sites",
        metavar="FICHIER",
        help="liste officielle des structures (format ANCT) : l'activité synthétique est "
        "générée sur ce réseau réel au lieu d'un réseau fictif",
    )
    p.add_argument(
        "--official",
        nargs="+",
        metavar="FICHIER",
        help="séries officielles (baromètre DITP, Etalab) : importées dans l'entrepôt de "
        "démonstration, elles calibrent les sites, les demandes et la satisfaction par département",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "import-indicators", help="importe les séries officielles publiées (baromètre des résultats DITP, Etalab)"
    )
    p.add_argument("--db", metavar="ENTREPOT", help=db_help)
    p.add_argument(
        "--date",
        metavar="AAAA-MM-JJ",
        help="date de publication des fichiers (défaut : date de modification de chaque fichier)",
    )
    p.add_argument("files", nargs="+", metavar="FICHIER", help="fichiers CSV, XLSX ou Parquet à importer")
    p.set_defaults(func=cmd_import_indicators)

    p = sub.add_parser("import-sites", help="importe la liste officielle des structures France Services (ANCT)")
    p.add_argument("--db", metavar="ENTREPOT", help=db_help)
    p.add_argument(
        "--par",
        metavar="AUTEUR",
        help="auteur du chargement, enregistré avec chaque lot (défaut : l'utilisateur du système)",
    )
    p.add_argument(
        "--date",
        metavar="AAAA-MM-JJ",
        help="date de la liste (défaut : lue dans le nom, ex. liste-fs-20240801.csv, sinon aujourd'hui)",
    )
    p.add_argument("file", metavar="FICHIER", help="liste des structures (CSV)")
    p.set_defaults(func=cmd_import_sites)

    p = sub.add_parser("ingest", help="charge des fichiers de reporting (CSV, XLSX, Parquet)")
    p.add_argument("--db", metavar="ENTREPOT", help=db_help)
    p.add_argument(
        "--par",
        metavar="AUTEUR",
        help="auteur du chargement, enregistré avec chaque lot (défaut : l'utilisateur du système)",
    )
    p.add_argument("files", nargs="+", metavar="FICHIER", help="fichiers à charger")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("template", help="écrit les modèles CSV et XLSX à remplir par les sites")
    p.add_argument("outdir", metavar="DOSSIER", help="dossier de sortie")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("summary", help="résume le contenu de l'entrepôt")
    p.add_argument("--db", metavar="ENTREPOT", help=db_help)
    p.add_argument("--json", action="store_true", help="sortie JSON (pour les scripts)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("serve", help="lance le tableau de bord (construit la démonstration si l'entrepôt manque)")
    p.add_argument("--db", metavar="ENTREPOT", help=db_help)
    p.add_argument("--port", type=int, metavar="PORT", default=8501, help="port HTTP (défaut : 8501)")
    p.add_argument("--address", metavar="ADRESSE", help="adresse d'écoute (défaut : celle de Streamlit)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "bench",
        help="mesure la vitesse des pages, des changements de filtre et des requêtes sur trois tailles d'entrepôt "
        "(écrit benchmarks/results.json et BENCHMARKS.md)",
    )
    bench_arguments(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("catalogue", help="régénère le dictionnaire des indicateurs (Markdown)")
    p.add_argument(
        "--out",
        default="docs/indicateurs.md",
        metavar="FICHIER",
        help="fichier de sortie (défaut : docs/indicateurs.md)",
    )
    p.set_defaults(func=cmd_catalogue)
    return root


def exit_at_once(code: int) -> NoReturn:
    """End the process with ``code`` once its output is flushed, without the interpreter's teardown.

    A command has closed (and, for a load, published) its warehouse before it returns: what is left
    is Python finalising pandas, pyarrow, Polars and DuckDB module by module, 0,1 to 0,3 s of every
    ``fsdash ingest`` spent on nothing the user waits for."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """Run one command; a file the system refuses (missing, forbidden, a folder) is a refusal said in
    French, not a Python traceback in English."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except OSError as exc:
        return _refused([os_error_text(exc)])
    except Exception as exc:  # said in French with its own exit code, not as a bare traceback
        return _failed(exc)
