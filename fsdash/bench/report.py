"""results.json and BENCHMARKS.md: the machine, the method, the targets and whether each is met.

The JSON is the record (every measurement, so a later run can be compared with it: ``--reference``);
the Markdown is what a reader of the repository sees — in French, like every text a user reads. The
targets are those of the « Pages instantanées » issue, then those of issue 10 on ingest
(:data:`INGEST_TARGETS`, judged on the records of :mod:`fsdash.bench.ingest` and
:mod:`fsdash.bench.baseline`: the quarter's rows per second on its median run, the worst peak memory of
any step, the rejected quarter's slowest run, the smallest cold pandas ratio). A target is judged on the 95th percentile
(the slowest run of a few, see :mod:`fsdash.bench.measure`): a page that is fast on median but slow
one time in five is not instant. A measurement that failed (a page that raised) counts as not met —
a page that does not draw is not fast.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from fsdash import formats

#: The order sizes are shown in (others, such as a test's warehouse, after them).
SIZE_ORDER = ("demo", "1an", "10ans")
#: The two sizes whose ratio says how each cost grows with history.
GROWTH = ("1an", "10ans")
KIND_TITLES = {
    "rendu": "Rendus des pages",
    "filtre": "Changements de filtre",
    "requete": "Requêtes",
    "navigation": "Changements de page dans le navigateur",
}


@dataclass(frozen=True)
class Target:
    """A target of the issue: the items of one kind whose slowest field must stay under ``limit_ms``."""

    key: str
    text: str  # French
    kind: str
    fields: tuple[str, ...]
    limit_ms: float

    def value(self, item: dict[str, Any]) -> float | None:
        values = [item[f] for f in self.fields if item.get(f) is not None]
        return max(values) if values else None


TARGETS = (
    Target("rendu_chaud", "chaque page à chaud (tout en cache), à chaque périmètre", "rendu", ("chaud_p95_ms",), 300),
    Target(
        "rendu_froid", "premier rendu d'une page (requêtes et sections calculées)", "rendu", ("froid_p95_ms",), 1500
    ),
    Target("requete_chaud", "chaque requête à chaud (p95)", "requete", ("chaud_p95_ms",), 20),
    Target("requete_froid", "chaque requête à froid (p95)", "requete", ("froid_p95_ms",), 500),
    Target(
        "filtre",
        "chaque changement de filtre (premier calcul et en cache)",
        "filtre",
        ("froid_p95_ms", "chaud_p95_ms"),
        500,
    ),
    Target(
        "navigation",
        "dans le navigateur, d'une page à l'autre : le titre de la nouvelle page affiché",
        "navigation",
        ("froid_p95_ms", "chaud_p95_ms"),
        1000,
    ),
)


# --- the machine ------------------------------------------------------------------------------


def _memory_gb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    """1, 5 and 15-minute load: a busy machine's numbers are noise, and the report says so."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "processeur": _cpu_model(),
        "coeurs": os.cpu_count(),
        "coeurs_utilisables": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memoire_go": _memory_gb(),
        "systeme": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in ("duckdb", "polars", "streamlit", "altair", "pyarrow")},
    }


METHOD = [
    "Chaque taille d'entrepôt est construite par le chemin du projet (`fsdash.demo.build.build_demo` : "
    "générateur, validation, chargement, agrégats), avec une horloge fixe, puis réutilisée tant que ses "
    "paramètres, le schéma et le code qui en décide le contenu sont inchangés.",
    "Rendus : chaque page de `fsdash.routes.ROUTES`, au niveau national, départemental (le département "
    "qui a le plus de sites) et d'un site (son site qui a le plus de trimestres déclarés), par `AppTest` "
    "à travers le cadre `app.py` (`st.navigation`, barre de filtres), ouvert sur l'adresse de ce "
    "périmètre (`perimetre`, `code`). Temps de `at.run()` côté serveur : ni réseau ni dessin dans le "
    "navigateur.",
    "Rendu à froid : avant chaque exécution, `fsdash.cache.clear_all()` et `close_readers()` — le premier "
    "lecteur après un chargement (lecteur ouvert, requêtes et sections calculées). Le tout premier rendu "
    "sert d'échauffement (il paie aussi les coûts uniques de Python) : il est seulement rapporté "
    "(`premier_ms`), et chaque appel de métrique y est enregistré (`fsdash.cache.recording()`).",
    "Rendu à chaud : la même page réexécutée, toutes les réponses en cache, après une exécution d'échauffement.",
    "Requêtes : chaque appel enregistré pendant les rendus et les changements de filtre, sans doublon, "
    "rejoué comme l'application le fait quand le cache n'a pas la réponse : la fonction non décorée sur "
    "la connexion partagée en lecture seule (`current_reader`), un curseur par fil. À froid : premier "
    "appel sur un lecteur tout juste ouvert, tout le cache fsdash vidé (une métrique qui en lit une autre "
    "la calcule aussi ; l'ouverture du lecteur, mesurée à part, n'est pas comptée ; le cache de fichiers du "
    "système, lui, est chaud). À chaud : appels répétés sur le même lecteur après un échauffement, les "
    "requêtes que la métrique appelle elle-même (mesurées chacune à part) déjà en réponse, comme sur un "
    "serveur qui vient de dessiner la page.",
    "Changements de filtre (pages Accueil et Fréquentation) : le widget de la barre latérale est réglé puis "
    "la page réexécutée. Froid : première demande de cette valeur (calculée) ; chaud : la même demande "
    "après retour à la valeur de départ (en cache). Entre deux répétitions, seules les réponses ajoutées "
    "par la nouvelle valeur sont oubliées : la vue de départ reste en cache, comme sur un serveur en service.",
    "Médiane (p50) et 95e centile au rang le plus proche (p95) : avec moins de vingt exécutions, le p95 est "
    "l'exécution la plus lente. Les objectifs sont jugés sur le p95 ; une mesure en erreur compte comme "
    "non atteinte.",
    "La date du jour des pages est celle de la machine (les pages appellent `date.today()`) ; les données, "
    "elles, ne dépendent que de la taille.",
    "Navigateur : `python -m fsdash serve` lancé sur l'entrepôt, Chromium de Debian piloté par Playwright, "
    "une session qui passe d'une page à l'autre par la navigation latérale, plusieurs tours ; temps du clic "
    "à l'affichage du titre de la nouvelle page. Premier passage sur chaque page du serveur neuf : froid "
    "(sections calculées) ; passages suivants : chaud. Mesure sautée si Chromium ou Playwright manque.",
]


# --- verdicts -----------------------------------------------------------------------------------


def sizes_of(items: Iterable[dict[str, Any]]) -> list[str]:
    found = list(dict.fromkeys(i["taille"] for i in items))
    return sorted(found, key=lambda s: (SIZE_ORDER.index(s) if s in SIZE_ORDER else len(SIZE_ORDER), found.index(s)))


def verdicts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each target and size: met or not, how many items over, the worst one."""
    out = []
    for target in TARGETS:
        by_size = {}
        for size in sizes_of(items):
            mine = [i for i in items if i["taille"] == size and i["mesure"] == target.kind]
            if not mine:
                continue
            failed = [i for i in mine if i.get("erreur")]
            valued = [(target.value(i), i) for i in mine if not i.get("erreur") and target.value(i) is not None]
            over = [(v, i) for v, i in valued if v > target.limit_ms]
            worst = max(valued, key=lambda p: p[0]) if valued else None
            by_size[size] = {
                "atteint": not over and not failed,
                "mesures": len(mine),
                "au_dessus": len(over),
                "en_erreur": len(failed),
                "pire_ms": round(worst[0], 2) if worst else None,
                "pire": _label(worst[1]) if worst else None,
            }
        out.append(
            {
                "objectif": target.key,
                "texte": target.text,
                "mesure": target.kind,
                "seuil_ms": target.limit_ms,
                "tailles": by_size,
            }
        )
    return out


def _label(item: dict[str, Any]) -> str:
    if item["mesure"] == "requete":
        return f"{item['nom']} [{item['perimetre']}]"
    return f"{item['page']} · {item['perimetre']} · {item['nom']}"


def document(
    *,
    command: str,
    started: str,
    total_seconds: float,
    machine_info: dict[str, Any],
    load: dict[str, Any],
    repetitions: dict[str, int],
    warehouses: dict[str, Any],
    durations: dict[str, dict[str, float]],
    items: list[dict[str, Any]],
    charge: dict[str, Any] | None = None,
    ingest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of results.json (``charge``: the load test's record, when it ran; ``ingest``: the
    ingest steps and pandas baseline, :func:`ingest_document`)."""
    return {
        "format": 1,
        "date": started,
        "commande": command,
        "duree_totale_s": round(total_seconds, 1),
        "machine": {**machine_info, "charge_moyenne": load},
        "methode": {"etapes": METHOD, "repetitions": repetitions, "centile": "rang le plus proche"},
        "objectifs": verdicts(items),
        "entrepots": warehouses,
        "durees_s": durations,
        **({"charge": charge} if charge else {}),
        **(ingest or {}),
        "mesures": items,
    }


def _seconds_cell(value: float | None) -> str:
    return "—" if value is None else f"{formats.number(value, 2)} s"


def _load_section(record: dict[str, Any]) -> list[str]:
    """The load test (issue « Plusieurs utilisateurs à la fois »): verdicts, then page by page."""
    settings = ", ".join(f"`{k}={v}`" for k, v in (record.get("reglages_serveur") or {}).items())
    lines = [
        "",
        "## Plusieurs utilisateurs à la fois",
        "",
        "`python -m fsdash.bench.load` : des sessions parlent le protocole websocket de Streamlit (comme un "
        "navigateur, sans navigateur) à `python -m fsdash serve` sur l'entrepôt de démonstration, échauffé ; "
        "chacune ouvre une des huit pages puis change le filtre « Périmètre ». Puis une surcharge au-delà de "
        f"la limite d'admission, et des sessions ouvertes puis fermées. Réglages du serveur : {settings or '—'}. "
        "Détails et déploiement en répliques : [docs/deploiement.md](docs/deploiement.md).",
        "",
        *_table(
            ["objectif", "mesure", "atteint"],
            [
                [v["texte"], v.get("valeur") or "—", "oui" if v["atteint"] else "**non**"]
                for v in record.get("objectifs", [])
            ],
        ),
    ]
    load = record.get("charge")
    if load:
        rows = []
        for page, entry in load["pages"].items():
            opened, changed = entry.get("ouverture", {}), entry.get("filtre", {})
            rows.append(
                [
                    page,
                    _seconds_cell(opened.get("p50_s")),
                    _seconds_cell(opened.get("p95_s")),
                    _seconds_cell(changed.get("p50_s")),
                    _seconds_cell(changed.get("p95_s")),
                    str(entry.get("occupes", 0)),
                    str(entry.get("echecs", 0)),
                ]
            )
        lines += [
            "",
            f"{load['plan']['sessions']} sessions au même instant, par page :",
            "",
            *_table(
                ["page", "ouverture p50", "ouverture p95", "filtre p50", "filtre p95", "« occupé »", "échecs"], rows
            ),
        ]
    return lines


def write_json(results: dict[str, Any], path: Path) -> None:
    """Indented, but one line per measurement: a diff between two runs reads measurement by measurement."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = json.dumps({k: v for k, v in results.items() if k != "mesures"}, ensure_ascii=False, indent=1)
    items = ",\n".join("  " + json.dumps(i, ensure_ascii=False) for i in results.get("mesures", []))
    text = head[: -len("\n}")] + ',\n "mesures": [\n' + items + "\n ]\n}\n"
    path.write_text(text, encoding="utf-8")


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- Markdown ---------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return formats.number(value, 1 if value < 10 else 0)


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 120:
        return f"{formats.number(value / 60, 1)} min"
    return f"{formats.number(value, 0 if value >= 10 else 1)} s"


def _ratio(after: float | None, before: float | None) -> str:
    if after is None or before is None or before <= 0:
        return "—"
    return f"×{formats.number(after / before, 2 if after / before < 10 else 1)}"


def _times(ratio: float | None) -> str:
    """A ratio recorded already (pandas / application), one decimal: ``×5,9``."""
    return "—" if ratio is None else f"×{formats.number(ratio, 1)}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _scope_text(item: dict[str, Any]) -> str:
    return {"national": "France", "departement": "département", "site": "site"}.get(
        item["perimetre"], item["perimetre"]
    )


def _target_cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "non mesuré"
    worst = f"pire : {_ms(entry['pire_ms'])} ms"
    if entry["atteint"]:
        return f"atteint ({worst})"
    parts = []
    if entry["au_dessus"]:
        parts.append(f"{entry['au_dessus']} sur {entry['mesures']} au-dessus")
    if entry["en_erreur"]:
        parts.append(f"{entry['en_erreur']} en erreur")
    return f"**non atteint** : {', '.join(parts)} ({worst} — {entry['pire']})"


def _severity(item: dict[str, Any]) -> float:
    """How far an item is from its kind's targets (1 = at the limit): what 'worst' means in the tables."""
    ratios = [
        (t.value(item) or 0) / t.limit_ms for t in TARGETS if t.kind == item["mesure"] and t.value(item) is not None
    ]
    return max(ratios, default=0.0) + (1000 if item.get("erreur") else 0)


def _worst_table(items: list[dict[str, Any]], kind: str, limit: int) -> list[str]:
    mine = sorted((i for i in items if i["mesure"] == kind), key=_severity, reverse=True)[:limit]
    if not mine:
        return ["Non mesuré."]
    if kind == "requete":
        header = ["taille", "requête", "périmètre", "pages", "froid p50", "froid p95", "chaud p50", "chaud p95"]
        rows = [
            [
                i["taille"],
                f"`{i['nom']}`",
                i["perimetre"],
                i["page"],
                *(_ms(i[k]) for k in ("froid_p50_ms", "froid_p95_ms", "chaud_p50_ms", "chaud_p95_ms")),
            ]
            for i in mine
        ]
    else:
        first = ["premier"] if kind == "rendu" else []
        what = "page" if kind == "rendu" else "changement"
        header = ["taille", "page", "périmètre", *([] if kind == "rendu" else [what])]
        header += [*first, "froid p50", "froid p95", "chaud p50", "chaud p95", "erreur"]
        rows = []
        for i in mine:
            row = [i["taille"], i["page"], _scope_text(i)]
            if kind != "rendu":
                row.append(i["nom"])
            if kind == "rendu":
                row.append(_ms(i.get("premier_ms")))
            row += [_ms(i[k]) for k in ("froid_p50_ms", "froid_p95_ms", "chaud_p50_ms", "chaud_p95_ms")]
            row.append((i.get("erreur") or "")[:80])
            rows.append(row)
    unit = "Temps en millisecondes, classés par écart à l'objectif (le plus loin en tête)."
    return [unit, "", *_table(header, rows)]


def _key(item: dict[str, Any]) -> tuple:
    """What identifies a measurement across sizes and runs (a query by its function and scope level)."""
    if item["mesure"] == "requete":
        return ("requete", item.get("fonction", item["nom"]), item["perimetre"])
    if item["mesure"] == "filtre":
        return ("filtre", item["page"], item["perimetre"], item.get("filtre", item["nom"]))
    return (item["mesure"], item["page"], item["perimetre"])


def _by_key(items: Iterable[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """Items by :func:`_key`; queries sharing a key keep the slowest of each field."""
    out: dict[tuple, dict[str, Any]] = {}
    for item in items:
        key = _key(item)
        if key not in out:
            out[key] = dict(item)
            continue
        kept = out[key]
        for field in ("froid_p50_ms", "froid_p95_ms", "chaud_p50_ms", "chaud_p95_ms"):
            values = [v for v in (kept.get(field), item.get(field)) if v is not None]
            kept[field] = max(values) if values else None
    return out


def _key_text(key: tuple, item: dict[str, Any]) -> list[str]:
    if key[0] == "requete":
        return [f"`{key[1]}`", key[2]]
    return [item["page"], _scope_text(item), *([item["nom"]] if key[0] == "filtre" else [])]


def _compare_tables(
    before: list[dict[str, Any]], after: list[dict[str, Any]], before_label: str, after_label: str, limit: int | None
) -> list[str]:
    """Side by side, per kind: p50 cold and warm of each measurement present in both, and the ratios."""
    lines: list[str] = []
    old, new = _by_key(before), _by_key(after)
    for kind, title in KIND_TITLES.items():
        keys = [k for k in new if k[0] == kind and k in old]
        if not keys:
            continue
        keys.sort(key=lambda k: -max(new[k].get("froid_p50_ms") or 0, (new[k].get("chaud_p50_ms") or 0) * 10))
        shown = keys if limit is None else keys[:limit]
        what = ["requête", "périmètre"] if kind == "requete" else ["page", "périmètre"]
        if kind == "filtre":
            what.append("changement")
        header = [
            *what,
            f"froid {before_label}",
            f"froid {after_label}",
            "ratio",
            f"chaud {before_label}",
            f"chaud {after_label}",
            "ratio",
        ]
        rows = [
            [
                *_key_text(k, new[k]),
                _ms(old[k].get("froid_p50_ms")),
                _ms(new[k].get("froid_p50_ms")),
                _ratio(new[k].get("froid_p50_ms"), old[k].get("froid_p50_ms")),
                _ms(old[k].get("chaud_p50_ms")),
                _ms(new[k].get("chaud_p50_ms")),
                _ratio(new[k].get("chaud_p50_ms"), old[k].get("chaud_p50_ms")),
            ]
            for k in shown
        ]
        more = "" if limit is None or len(keys) <= limit else f" ({limit} plus coûteuses sur {len(keys)})"
        lines += ["", f"**{title}**{more}, médianes en millisecondes :", "", *_table(header, rows)]
    return lines


def markdown(results: dict[str, Any], reference: dict[str, Any] | None = None, reference_name: str = "") -> str:
    """BENCHMARKS.md (French)."""
    items = results["mesures"]
    ingest = results.get("chargement") or {}
    sizes = sizes_of([*items, *ingest.get("etapes", []), *ingest.get("reference_pandas", [])])
    sizes = sizes or list(results["entrepots"])
    m = results["machine"]
    versions = m["versions"]
    load = m.get("charge_moyenne") or {}
    lines = [
        "# Mesures de performance",
        "",
        f"Produit par `{results['commande']}` le {_when(results['date'])} (durée totale : "
        f"{_seconds(results['duree_totale_s'])}). Fichier généré : relancez la commande plutôt que de "
        "l'éditer ; toutes les mesures sont dans `benchmarks/results.json`.",
        "",
        "Relancer : `python -m fsdash bench` (ou `make bench`) construit au besoin les trois entrepôts dans "
        "`benchmarks/entrepots/` puis mesure tout ; `--reference ancien-results.json` met une mesure "
        "précédente en regard (avant / après), `--tailles`, `--pages`, `--perimetres`, `--mesures` et "
        "`--repetitions` restreignent ou allongent la mesure (`python -m fsdash bench --help`).",
        "",
        "## Machine",
        "",
        *_table(
            ["", ""],
            [
                ["processeur", f"{m['processeur']} ({m['coeurs']} cœurs, {m.get('coeurs_utilisables')} utilisables)"],
                ["mémoire", f"{formats.number(m['memoire_go'], 1)} Go" if m.get("memoire_go") else "—"],
                ["système", m["systeme"]],
                ["Python", m["python"]],
                ["bibliothèques", ", ".join(f"{k} {v}" for k, v in versions.items() if v)],
                [
                    "charge moyenne (1, 5, 15 min)",
                    f"au début {_loads(load.get('debut'))} ; à la fin {_loads(load.get('fin'))}",
                ],
            ],
        ),
        "",
        "Une charge moyenne supérieure au nombre de cœurs signale une machine partagée : les temps sont "
        "alors bruités et ne valent que comme ordre de grandeur.",
        "",
        "## Méthode",
        "",
        *[f"- {step}" for step in results["methode"]["etapes"]],
        "",
        "Répétitions : " + ", ".join(f"{k} {v}" for k, v in results["methode"]["repetitions"].items()) + ".",
        "",
        "## Entrepôts mesurés",
        "",
    ]
    wh_rows = []
    for size in sizes:
        w = results["entrepots"].get(size, {})
        scenario = w.get("scenario", {})
        wh_rows.append(
            [
                size,
                w.get("description", ""),
                str(w.get("trimestres", "—")),
                formats.number(w.get("sites")) if w.get("sites") is not None else "—",
                formats.number(w.get("lignes_detail")) if w.get("lignes_detail") is not None else "—",
                f"{formats.number(w.get('fichier_mo'), 0)} Mo" if w.get("fichier_mo") is not None else "—",
                _seconds(w.get("construction_s")) + ("" if w.get("construit_par_cette_execution") else " (réutilisé)"),
                _ms(w.get("ouverture_lecteur_ms")),
                f"{scenario.get('departement', '—')} / {scenario.get('site', '—')}",
            ]
        )
    lines += _table(
        [
            "taille",
            "contenu",
            "trimestres",
            "sites",
            "lignes de détail",
            "fichier",
            "construction",
            "ouverture du lecteur (ms)",
            "département / site mesurés",
        ],
        wh_rows,
    )
    lines += ["", "## Durée de chaque partie", ""]
    parts = ("construction", "rendus", "filtres", "requetes", "navigateur", "chargement")
    rows = []
    for size in sizes:
        d = results["durees_s"].get(size, {})
        rows.append([size, *(_seconds(d.get(p)) for p in parts), _seconds(sum(d.get(p) or 0 for p in parts))])
    lines += _table(
        ["taille", "construction", "rendus", "filtres", "requêtes", "navigateur", "chargement", "total"], rows
    )
    lines += [
        "",
        "La construction n'est payée que lorsque l'entrepôt manque ou a changé (sinon il est réutilisé).",
        "",
        "## Objectifs",
        "",
        "Ceux du ticket « Pages instantanées » (temps jugés sur le p95), puis ceux du ticket « Un trimestre "
        "national en quelques secondes » (chargement, mémoire, référence pandas : voir « Chargement des fichiers »).",
        "",
    ]
    rows = []
    for verdict in results["objectifs"]:
        rows.append(
            [
                verdict["texte"],
                f"≤ {formats.number(verdict['seuil_ms'])} ms",
                *(_target_cell(verdict["tailles"].get(size)) for size in sizes),
            ]
        )
    rows += ingest_target_rows(results, sizes)
    lines += _table(["objectif", "seuil", *sizes], rows)
    for kind, title in KIND_TITLES.items():
        lines += ["", f"## {title} : les pires", "", *_worst_table(items, kind, 15)]
    if results.get("charge"):
        lines += _load_section(results["charge"])
    lines += _ingest_section(results)
    lines += ["", "## Croissance de 1 an à 10 ans", ""]
    if all(s in sizes for s in GROWTH):
        lines += [
            "Même réseau, même dernière année, même horloge : le ratio est le coût de l'historique seul "
            "(`10ans` / `1an`, médianes). Une requête est représentée par sa fonction et son niveau de "
            "périmètre (le plus lent de ses appels).",
            *_compare_tables(
                [i for i in items if i["taille"] == GROWTH[0]],
                [i for i in items if i["taille"] == GROWTH[1]],
                GROWTH[0],
                GROWTH[1],
                25,
            ),
        ]
    else:
        lines.append("Non mesurée : il faut les tailles `1an` et `10ans` dans la même exécution.")
    if reference is not None:
        lines += ["", "## Comparaison avec la référence", ""]
        lines += [
            f"Référence : `{reference_name}`, mesurée le {_when(reference.get('date', '?'))} "
            f"(`{reference.get('commande', '?')}`). Ratio = maintenant / référence (sous 1 : plus rapide).",
        ]
        for size in sizes:
            before = [i for i in reference.get("mesures", []) if i["taille"] == size]
            if not before:
                continue
            lines += [
                "",
                f"### Taille {size}",
                *_compare_tables(before, [i for i in items if i["taille"] == size], "réf.", "maint.", 30),
            ]
        lines += _ingest_comparison(reference, results)
    errors = [i for i in items if i.get("erreur")]
    lines += ["", "## Erreurs", ""]
    if errors:
        lines += _table(
            ["taille", "mesure", "page", "périmètre", "nom", "erreur"],
            [[i["taille"], i["mesure"], i["page"], _scope_text(i), i["nom"], i["erreur"][:200]] for i in errors],
        )
    else:
        lines.append("Aucune : chaque page s'est affichée et chaque requête a répondu.")
    return "\n".join(lines) + "\n"


def _ingest_comparison(reference: dict[str, Any], results: dict[str, Any]) -> list[str]:
    """Each ingest step measured in both runs: seconds and peak memory, before and after, ratios."""
    before = {(s["taille"], s["etape"], s["format"]): s for s in (reference.get("chargement") or {}).get("etapes", [])}
    now = (results.get("chargement") or {}).get("etapes", [])
    rows = [
        [
            s["taille"],
            STEP_NAMES.get(s["etape"], s["etape"]),
            s["format"],
            _seconds_cell(old["secondes_p50"]),
            _seconds_cell(s["secondes_p50"]),
            _ratio(s["secondes_p50"], old["secondes_p50"]),
            f"{formats.number(old['rss_max_mo'] or 0)} Mo",
            f"{formats.number(s['rss_max_mo'] or 0)} Mo",
            _ratio(s["rss_max_mo"], old["rss_max_mo"]),
        ]
        for s in now
        if (old := before.get((s["taille"], s["etape"], s["format"])))
    ]
    if not rows:
        return []
    return [
        "",
        "### Chargement des fichiers",
        "",
        *_table(
            [
                "taille",
                "étape",
                "format",
                "secondes réf.",
                "secondes maint.",
                "ratio",
                "mémoire réf.",
                "mémoire maint.",
                "ratio",
            ],
            rows,
        ),
    ]


def _when(iso: str) -> str:
    """« 28/11/2026 à 04:14 » from the ISO date results.json keeps (left as is when unreadable)."""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment:%d/%m/%Y} à {moment:%H:%M}"


def _loads(values: list[float] | None) -> str:
    return " / ".join(formats.number(v, 2) for v in values) if values else "—"


# --- ingest and the pandas baseline (issue 10) ------------------------------------------------

#: The ingest steps as the report's tables name them.
STEP_NAMES = {"trimestre": "un trimestre", "annee": "une année", "historique": "historique", "rejet": "rejeté"}

#: Rows a second issue 10 asks of a national quarter's load, by format.
ROWS_PER_S_TARGET = {"parquet": 2_000_000, "csv": 1_000_000}

#: 1 Go: peak memory is the load's own high-water mark (``VmHWM``) in MiB (« Mo » in the report), so 1 Go is 1 024 of them.
RSS_LIMIT_MB = 1024


@dataclass(frozen=True)
class IngestTarget:
    """A target of issue 10 on the ingest steps or the baseline records of one size."""

    key: str
    text: str  # French
    threshold: str  # French

    def judge(self, steps: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Met or not, and the value in French, for one size's records; None when nothing was measured."""

        def chosen(etape: str, fmt: str | None = None) -> list[dict[str, Any]]:
            return [s for s in steps if s["etape"] == etape and (fmt is None or s["format"] == fmt)]

        failed = [s for s in steps if s.get("erreur")]
        if self.key in ("chargement_parquet", "chargement_csv"):
            mine = chosen("trimestre", self.key.removeprefix("chargement_"))
            limit = ROWS_PER_S_TARGET[self.key.removeprefix("chargement_")]
            if not mine:
                return None
            rate = min((s["lignes_par_s"] or 0) for s in mine)
            ok = rate >= limit and not any(s.get("erreur") for s in mine)
            return {"atteint": ok, "valeur": f"{formats.number(rate)} lignes/s"}
        if self.key == "memoire":
            if not steps:
                return None
            worst = max(steps, key=lambda s: s["rss_max_mo"] or 0)
            ok = (worst["rss_max_mo"] or 0) <= RSS_LIMIT_MB and not failed
            label = f"{worst['etape']}, {worst['format']}"
            return {"atteint": ok, "valeur": f"{formats.number(worst['rss_max_mo'] or 0)} Mo ({label})"}
        if self.key == "rejet":
            mine = chosen("rejet")
            if not mine:
                return None
            worst = max(mine, key=lambda s: s["secondes_max"] or 0)
            complete = all(s.get("rejet_complet") for s in mine)
            ok = complete and (worst["secondes_max"] or 0) <= 10 and not any(s.get("erreur") for s in mine)
            state = "code 1, toutes les lignes en quarantaine" if complete else "rejet incomplet"
            return {"atteint": ok, "valeur": f"{_seconds_cell(worst['secondes_max'])} ({state})"}
        if self.key == "historique":
            mine = chosen("historique")
            if not mine:
                return None
            values = " ; ".join(f"{s['format']} {_seconds_cell(s['secondes_p50'])}" for s in mine)
            ok = all(s["secondes_p50"] is not None and s["secondes_p50"] < 60 for s in mine)
            return {"atteint": ok and not any(s.get("erreur") for s in mine), "valeur": values}
        if self.key == "pandas":
            if not baseline:
                return None
            worst = min(baseline, key=lambda b: b["ratio_froid"] or 0)
            ok = (worst["ratio_froid"] or 0) >= 50 and not any(b.get("erreur") for b in baseline)
            value = f"pire : {_times(worst['ratio_froid'] or 0)} ({worst['requete']})"
            if not ok and worst.get("ratio_froid_max") is not None:
                value += (
                    f" ; au mieux {_times(worst['ratio_froid_max'])} pour elle : une requête vide "
                    f"coûte {formats.number(worst['plancher_froid_ms'], 2)} ms à froid"
                )
            return {"atteint": ok, "valeur": value}
        raise ValueError(self.key)


INGEST_TARGETS = (
    IngestTarget("chargement_parquet", "chargement d'un trimestre national, Parquet (médiane)", "≥ 2 M lignes/s"),
    IngestTarget("chargement_csv", "chargement d'un trimestre national, CSV français (médiane)", "≥ 1 M lignes/s"),
    IngestTarget(
        "memoire",
        "mémoire maximale de tout chargement, trimestre entièrement rejeté compris",
        f"≤ 1 Go ({formats.number(RSS_LIMIT_MB)} Mo)",
    ),
    IngestTarget("rejet", "trimestre entièrement rejeté : réponse (code 1, tout en quarantaine)", "≤ 10 s"),
    IngestTarget(
        "pandas", "requêtes des pages face à pandas (lecture des fichiers, jointure, regroupement), à froid", "≥ ×50"
    ),
    IngestTarget("historique", "reprise de dix ans d'historique, chaque format", "< 1 min"),
)


def ingest_document(steps: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> dict[str, Any]:
    """What results.json holds about ingest: the three fields issue 10 names, the records, the verdicts.

    ``ingest_rows_per_s[taille][format][etape]``, ``peak_rss_mb[taille][etape_format]`` and
    ``baseline_ratio[taille][requete] = {"froid": …, "chaud": …}`` (pandas time / app time)."""
    rates: dict[str, dict[str, dict[str, int | None]]] = {}
    rss: dict[str, dict[str, float | None]] = {}
    for s in steps:
        rates.setdefault(s["taille"], {}).setdefault(s["format"], {})[s["etape"]] = s["lignes_par_s"]
        rss.setdefault(s["taille"], {})[f"{s['etape']}_{s['format']}"] = s["rss_max_mo"]
    ratios: dict[str, dict[str, dict[str, float | None]]] = {}
    for b in baseline:
        ratios.setdefault(b["taille"], {})[b["requete"]] = {"froid": b["ratio_froid"], "chaud": b["ratio_chaud"]}
    sizes = sizes_of([*steps, *baseline])
    verdicts_ = []
    for target in INGEST_TARGETS:
        by_size = {}
        for size in sizes:
            judged = target.judge(
                [s for s in steps if s["taille"] == size], [b for b in baseline if b["taille"] == size]
            )
            if judged is not None:
                by_size[size] = judged
        verdicts_.append({"objectif": target.key, "texte": target.text, "seuil": target.threshold, "tailles": by_size})
    return {
        "ingest_rows_per_s": rates,
        "peak_rss_mb": rss,
        "baseline_ratio": ratios,
        "objectifs_chargement": verdicts_,
        "chargement": {"methode": INGEST_METHOD, "etapes": steps, "reference_pandas": baseline},
    }


INGEST_METHOD = [
    "Fichiers : ceux à partir desquels l'entrepôt de la taille a été construit (`build_demo(keep_files=…)`), "
    "gardés à côté de lui dans `benchmarks/entrepots/<taille>-fichiers/`, en Parquet ; leurs versions CSV "
    "françaises (`;`, virgule décimale, UTF-8 avec BOM) en sont tirées une fois et gardées aussi.",
    "Chaque chargement est un processus neuf qui exécute la commande `ingest` de `python -m fsdash` "
    "(`python -m fsdash.bench.ingest`), avec une seule différence : la date du jour est celle des données "
    "(les entrepôts du banc d'essai vont jusqu'en 2029). Temps : du lancement du processus à sa fin "
    "(démarrage de Python et imports compris) ; « dans la commande » : sans le démarrage de l'interpréteur. "
    "Mémoire : pic de mémoire résidente du processus de chargement lui-même (`VmHWM`, qu'il lit dans "
    "`/proc/self/status` avant de finir ; le `ru_maxrss` que voit le banc d'essai part de la mémoire du banc "
    "lui-même). Lignes : toutes les lignes des fichiers.",
    "Un trimestre : un entrepôt qui tient déjà le référentiel et les trimestres précédents (préparé une fois, "
    "copié avant chaque exécution, copie non comptée), puis les fichiers du dernier trimestre ; une année : "
    "le référentiel, puis les quatre derniers trimestres ; l'historique : tous les fichiers dans un entrepôt "
    "vide. Le trimestre rejeté : le fichier de détail du dernier trimestre, chaque ligne datée de l'année "
    "qui suit la date du jour (règle « période terminée »), chargé sur l'entrepôt du trimestre.",
    "Répétitions : le trimestre et le trimestre rejeté trois fois (médiane et maximum), l'année et "
    "l'historique une fois.",
    "Référence pandas : ce qu'écrirait une équipe sans fsdash — lire les fichiers Parquet de la période "
    "(détail ou activité, référentiel des sites), appliquer les règles qui écartent des lignes (dernière "
    "déclaration d'un site et d'un trimestre, courriels, détail au plus égal au total déclaré), joindre et "
    "regrouper ; même réponse que l'application (vérifié par les tests). Temps pandas : lecture comprise, "
    "médiane. Application : la requête comme sur un défaut de cache, à froid et à chaud (comme les "
    "requêtes ci-dessus). Ratio = temps pandas / temps de l'application.",
]


#: What the floor columns of the pandas table say, in French (:func:`fsdash.bench.baseline.app_empty_query`).
BASELINE_FLOOR_TEXT = (
    "Requête vide : `SELECT 1` lu en Polars sur le même lecteur, mesurée comme les requêtes (à froid : "
    "lecteurs fermés et réponses oubliées avant chaque exécution). Aucune requête de l'application ne va "
    "plus vite : le ratio au mieux (pandas / requête vide) est le plus haut qu'une requête puisse "
    "atteindre sur cette machine."
)


def _rate(value: float | None) -> str:
    return "—" if value is None else formats.number(value)


def _floor_text(step: dict[str, Any]) -> str:
    """The floor of a quarter's load (:func:`fsdash.bench.ingest.floor`) beside the target, in French."""
    floor = step["plancher"]
    total = floor["imports_s"] + floor["insertion_detail_s"]
    needed = step["lignes"] / ROWS_PER_S_TARGET["parquet"]
    return (
        f"**Plancher d'un trimestre** ({step['taille']}, dans la même exécution) : démarrage de Python et imports "
        f"de la commande {_seconds_cell(floor['imports_s'])} (médiane, un processus qui importe et s'arrête comme la commande) ; "
        f"insertion en bloc par DuckDB des {formats.number(floor['lignes_detail'])} lignes de détail seules "
        "(lues par DuckDB dans le fichier Parquet, sans contrôle, révision ni agrégat, validées et point de "
        f"contrôle fait) {_seconds_cell(floor['insertion_detail_s'])} ; ensemble {_seconds_cell(total)}, soit au "
        f"mieux {formats.number(round(step['lignes'] / total))} lignes/s pour les {formats.number(step['lignes'])} "
        f"lignes du trimestre, quand l'objectif de 2 M lignes/s demande {_seconds_cell(needed)} pour tout le "
        f"chargement. Mesuré : {_seconds_cell(step['secondes_p50'])}."
    )


def _ingest_section(results: dict[str, Any]) -> list[str]:
    """BENCHMARKS.md's ingest section (issue 10): steps, growth, rejected quarter, pandas."""
    record = results.get("chargement")
    lines = ["", "## Chargement des fichiers", ""]
    if not record:
        return [*lines, "Non mesuré (mesure `chargement`, sur les tailles `1an` et `10ans`)."]
    lines += [*(f"- {m}" for m in record["methode"]), ""]
    steps = record["etapes"]
    rows = [
        [
            s["taille"],
            STEP_NAMES.get(s["etape"], s["etape"]),
            s["format"],
            str(s["trimestres"]),
            formats.number(s["fichiers"]),
            formats.number(s["lignes"]),
            _seconds_cell(s["secondes_p50"]),
            _seconds_cell(s["secondes_max"]),
            _seconds_cell(s.get("commande_s_p50")),
            _rate(s["lignes_par_s"]),
            f"{formats.number(s['rss_max_mo'] or 0)} Mo",
            ", ".join(map(str, s["codes_sortie"])),
            (s.get("erreur") or "")[:80],
        ]
        for s in steps
    ]
    lines += _table(
        [
            "taille",
            "étape",
            "format",
            "trimestres",
            "fichiers",
            "lignes",
            "secondes p50",
            "max",
            "dans la commande",
            "lignes/s",
            "mémoire max",
            "code de sortie",
            "erreur",
        ],
        rows,
    )
    for s in (s for s in steps if s.get("plancher")):
        lines += ["", _floor_text(s)]
    growth = []
    for fmt in ("parquet", "csv"):
        chain = [
            s for key in ("trimestre", "annee", "historique") for s in steps if s["etape"] == key and s["format"] == fmt
        ]
        if len(chain) < 2:
            continue
        first = chain[0]
        for s in chain:
            growth.append(
                [
                    fmt,
                    f"{STEP_NAMES[s['etape']]} ({s['taille']})",
                    formats.number(s["lignes"]),
                    _ratio(s["lignes"], first["lignes"]),
                    _seconds_cell(s["secondes_p50"]),
                    _ratio(s["secondes_p50"], first["secondes_p50"]),
                    f"{formats.number(s['rss_max_mo'] or 0)} Mo",
                    _ratio(s["rss_max_mo"], first["rss_max_mo"]),
                ]
            )
    lines += ["", "**Croissance** d'un trimestre à une année puis à dix ans (ratios au trimestre) :", ""]
    if growth:
        lines += _table(["format", "étape", "lignes", "ratio", "secondes", "ratio", "mémoire max", "ratio"], growth)
    else:
        lines.append("Non mesurée : il faut au moins deux des étapes trimestre, année et historique.")
    for s in (s for s in steps if s["etape"] == "rejet"):
        state = (
            "toutes en quarantaine, aucune écrite"
            if s.get("rejet_complet")
            else f"**rejet incomplet** ({formats.number(s.get('lignes_en_quarantaine') or 0)} en quarantaine, "
            f"{formats.number(s.get('lignes_ecrites') or 0)} écrites)"
        )
        lines += [
            "",
            f"**Trimestre entièrement rejeté** ({s['taille']}) : {formats.number(s['lignes'])} lignes, {state} "
            f"(règles : {', '.join(s.get('regles') or []) or '—'}) ; code de sortie "
            f"{', '.join(map(str, s['codes_sortie']))} ; réponse en {_seconds_cell(s['secondes_p50'])} (médiane), "
            f"{_seconds_cell(s['secondes_max'])} au plus ; mémoire max {formats.number(s['rss_max_mo'] or 0)} Mo.",
        ]
    baseline = record.get("reference_pandas") or []
    lines += ["", "**Référence pandas** (millisecondes, médianes ; ratio = pandas / application) :", ""]
    if baseline:
        lines += _table(
            [
                "taille",
                "requête",
                "pandas",
                "application à froid",
                "application à chaud",
                "ratio à froid",
                "ratio à chaud",
                "requête vide à froid",
                "ratio au mieux à froid",
            ],
            [
                [
                    b["taille"],
                    b["libelle"],
                    _ms(b["pandas_ms"]),
                    _ms(b["application_froid_ms"]),
                    _ms(b["application_chaud_ms"]),
                    _times(b["ratio_froid"]),
                    _times(b["ratio_chaud"]),
                    "—" if b.get("plancher_froid_ms") is None else formats.number(b["plancher_froid_ms"], 2),
                    _times(b.get("ratio_froid_max")),
                ]
                for b in baseline
            ],
        )
        lines += ["", BASELINE_FLOOR_TEXT]
    else:
        lines.append("Non mesurée.")
    return lines


def ingest_target_rows(results: dict[str, Any], sizes: list[str]) -> list[list[str]]:
    """The rows of issue 10's targets in the targets table (a cell per size)."""
    rows = []
    for verdict in results.get("objectifs_chargement") or []:
        cells = []
        for size in sizes:
            entry = verdict["tailles"].get(size)
            if entry is None:
                cells.append("non mesuré")
            else:
                cells.append(("atteint" if entry["atteint"] else "**non atteint**") + f" ({entry['valeur']})")
        rows.append([verdict["texte"], verdict["seuil"], *cells])
    return rows
