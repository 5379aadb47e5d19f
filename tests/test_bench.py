"""The benchmark's machinery runs end to end on a tiny warehouse, so that it cannot rot between runs.

No timing is asserted (the suite runs on shared machines): only that every measurement is taken,
named and written, that the report and the reference comparison are produced, and that the
warehouse cache reuses what it built. The real sizes (``1an``, ``10ans``) are built only by the
``slow`` test at the end.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from fsdash import cli, formats
from fsdash.bench import baseline, ingest, measure, procfs, report, run, warehouses
from fsdash.routes import route

#: Two quarters of the demo (the network's first labels): built in seconds, every page has data.
TINY = warehouses.Size(
    "mini", "démonstration de deux trimestres", dt.date(2026, 11, 27), until="2020-T2", keep_files=True
)

ITEM_KEYS = {
    "taille",
    "page",
    "perimetre",
    "mesure",
    "nom",
    "froid_p50_ms",
    "froid_p95_ms",
    "chaud_p50_ms",
    "chaud_p95_ms",
    "executions",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> warehouses.Warehouse:
    return warehouses.ensure(TINY, tmp_path_factory.mktemp("bench"))


def test_percentiles_are_nearest_rank():
    assert measure.percentile([5.0, 1.0, 3.0], 0.95) == 5.0
    assert measure.percentile(list(map(float, range(1, 101))), 0.95) == 95.0
    assert measure.percentile([], 0.95) is None
    assert measure.median([1.0, 3.0]) == 2.0


def test_a_built_warehouse_is_reused_until_its_parameters_change(tiny, tmp_path):
    again = warehouses.ensure(TINY, tiny.path.parent)
    assert tiny.built and not again.built
    assert again.path == tiny.path and again.contents == tiny.contents
    assert tiny.contents["trimestres"] == 2 and tiny.contents["lignes_detail"] > 0
    side = json.loads(tiny.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert side["parametres"]["until"] == "2020-T2" and side["empreinte_code"] == warehouses.content_digest()
    side_path, digests = tiny.path.with_suffix(".json"), warehouses.content_digests()
    assert side["fichiers"] and side["fichiers"] == warehouses._kept_files(tiny.path)
    changed = warehouses.Size("mini", TINY.label, TINY.today, until="2020-T1", keep_files=True)
    assert warehouses._reusable(changed, tiny.path, side_path, digests)[1] == "paramètres changés"
    edited = {**digests, "fsdash/warehouse/ingest.py": "0" * 64}
    assert warehouses._reusable(TINY, tiny.path, side_path, edited)[1] == "code changé : fsdash/warehouse/ingest.py"


def test_sizes_are_the_three_of_the_issue():
    assert list(warehouses.SIZES) == ["demo", "1an", "10ans"]
    assert warehouses.SIZES["1an"].grain == warehouses.SIZES["10ans"].grain == "complet"
    assert warehouses.SIZES["1an"].today == warehouses.SIZES["10ans"].today  # same last year: ratio = history


def test_a_small_run_writes_results_and_report(tiny, tmp_path):
    plan = run.Plan(
        routes=(route("accueil"), route("frequentation")),
        scopes=("site",),  # national and département views are opened by the filter changes
        kinds=("rendu", "filtre", "requete"),  # the browser's own test is below
        warm_runs=1,
        cold_runs=1,
    )
    out, md = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    results = run.run([lambda: tiny], plan, output=out, markdown_path=md)

    written = json.loads(out.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(results))
    assert {"machine", "methode", "objectifs", "entrepots", "durees_s", "mesures"} <= set(written)
    assert written["machine"]["coeurs"] and written["machine"]["versions"]["duckdb"]
    items = written["mesures"]
    assert all(set(i) >= ITEM_KEYS for i in items)
    renders = [i for i in items if i["mesure"] == "rendu"]
    assert {(i["page"], i["perimetre"]) for i in renders} == {
        ("accueil", "site"),
        ("frequentation", "site"),
    }
    assert all(i["executions"] == {"froid": 1, "chaud": 1} and i["chaud_p50_ms"] > 0 for i in renders)
    assert not [i for i in items if i["erreur"]], [i["erreur"] for i in items if i["erreur"]]
    filters = [i for i in items if i["mesure"] == "filtre"]
    assert {i["filtre"] for i in filters} >= {"scope_level", "scope_code_departement", "filtre_periode"}
    assert {i["page"] for i in filters} == {"accueil", "frequentation"}
    queries = [i for i in items if i["mesure"] == "requete"]
    names = {i["fonction"] for i in queries}
    assert "scope.directory" in names and len(queries) == len({i["nom"] for i in queries})  # deduplicated
    assert set(written["durees_s"]["mini"]) == {"construction", "rendus", "filtres", "requetes"}
    assert {v["objectif"] for v in written["objectifs"]} == {t.key for t in report.TARGETS}

    text = md.read_text(encoding="utf-8")
    for heading in ("## Machine", "## Méthode", "## Objectifs", "## Rendus des pages", "## Requêtes"):
        assert heading in text
    assert "Non mesurée : il faut les tailles `1an` et `10ans`" in text

    # the report rewritten from the results, with themselves as the reference: every ratio is 1
    again = tmp_path / "again.md"
    assert cli.main(["bench", "--depuis", str(out), "--reference", str(out), "--rapport", str(again)]) == 0
    compared = again.read_text(encoding="utf-8")
    assert "## Comparaison avec la référence" in compared and "×1,00" in compared and "×1,01" not in compared


def test_growth_compares_one_year_with_ten():
    def item(size: str, cold: float) -> dict:
        return {
            "taille": size,
            "page": "accueil",
            "perimetre": "national",
            "mesure": "rendu",
            "nom": "Accueil",
            "froid_p50_ms": cold,
            "froid_p95_ms": cold,
            "chaud_p50_ms": 10.0,
            "chaud_p95_ms": 10.0,
            "executions": {"froid": 1, "chaud": 1},
            "erreur": None,
        }

    items = [item("1an", 100.0), item("10ans", 400.0)]
    results = report.document(
        command="test",
        started="2030-01-01T00:00:00+01:00",
        total_seconds=1.0,
        machine_info=report.machine(),
        load={"debut": None, "fin": None},
        repetitions={"rendus": 1},
        warehouses={},
        durations={},
        items=items,
    )
    text = report.markdown(results)
    assert "×4,00" in text
    verdict = next(v for v in results["objectifs"] if v["objectif"] == "rendu_chaud")
    assert verdict["tailles"]["10ans"]["atteint"]


def test_the_command_refuses_unknown_sizes_and_pages(capsys):
    assert cli.main(["bench", "--tailles", "100ans"]) == run.EXIT_REFUSED
    assert "taille inconnue" in capsys.readouterr().err
    assert cli.main(["bench", "--pages", "inexistante"]) == run.EXIT_REFUSED
    assert "page inconnue" in capsys.readouterr().err


@pytest.mark.slow
def test_the_one_year_warehouse_is_national_at_full_grain(tmp_path: Path):
    built = warehouses.ensure(warehouses.SIZES["1an"], tmp_path)
    assert built.contents["trimestres"] == 4 and built.contents["sites"] > 2500
    assert built.contents["lignes_detail"] > 2_000_000


@pytest.mark.e2e
@pytest.mark.slow
def test_moving_between_pages_is_measured_in_the_browser(tiny):
    from fsdash.bench import browser

    if browser.chromium() is None:
        pytest.skip("Chromium absent (make test l'installe avec apt-get)")
    measured = browser.measure_navigation("mini", tiny.path, 2, (route("accueil"), route("dictionnaire")))
    items = [m.item() for m in measured]
    assert [(i["page"], i["mesure"]) for i in items] == [("accueil", "navigation"), ("dictionnaire", "navigation")]
    assert all(i["erreur"] is None and i["executions"] == {"froid": 1, "chaud": 1} for i in items)


def test_the_load_test_has_its_section_in_the_report():
    record = {
        "reglages_serveur": {"FSDASH_MAX_RUNS": "2"},
        "objectifs": [
            {"texte": "50 sessions simultanées : toutes servies, aucun échec", "valeur": "100/100", "atteint": True}
        ],
        "charge": {
            "plan": {"sessions": 50},
            "pages": {"motifs": {"ouverture": {"p50_s": 0.5, "p95_s": 1.25}, "filtre": {"p50_s": 0.1}, "occupes": 0}},
        },
    }
    text = "\n".join(report._load_section(record))
    assert "## Plusieurs utilisateurs à la fois" in text and "`FSDASH_MAX_RUNS=2`" in text
    assert "| motifs | 0,50 s | 1,25 s | 0,10 s | — | 0 | 0 |" in text
    assert "| 50 sessions simultanées : toutes servies, aucun échec | 100/100 | oui |" in text


# --- issue 10: ingest and the pandas baseline ------------------------------------------------


def test_the_demo_keeps_the_files_it_loads_in_load_order_and_builds_the_same_warehouse(tiny, tmp_path):
    from fsdash.demo.build import build_demo
    from fsdash.warehouse.store import reader

    names = [p.name for p in ingest.kept(tiny.files)]
    assert names[0] == "0000-00-demo-sites.parquet" and names[1].startswith("0001-00-demo-2020-T1-activite")
    assert names[-1].endswith(".csv")  # the funding files, loaded last
    plain = tmp_path / "sans-fichiers.duckdb"
    build_demo(plain, seed=TINY.seed, until=TINY.until, today=TINY.today)

    def tables(path: Path) -> dict[str, list]:
        """Every row of the data tables (load times and batch numbers aside) and the quarantine."""
        with reader(path) as con:
            out = {
                t: sorted(con.sql(f"SELECT * EXCLUDE (batch_id{extra}) FROM {t}").fetchall(), key=repr)
                for t, extra in (("sites", ", updated_at"), ("activite", ""), ("demandes_detail", ""))
            }
            out["quarantine"] = sorted(con.sql("SELECT table_code, line, rule FROM quarantine").fetchall())
        return out

    assert tables(plain) == tables(tiny.path)


def test_the_pandas_baseline_gives_the_apps_answers(tiny):
    from fsdash.warehouse.store import reader

    files = ingest.kept(tiny.files)
    queries = baseline.page_queries(files)
    assert [q.key for q in queries] == [
        "departement_partenaire_annee",
        "tendance_nationale_partenaire",
        "tendance_activite",
    ]
    with reader(tiny.path) as con:
        assert baseline.check(con, queries) == dict.fromkeys(q.key for q in queries)
        # not vacuous: both sides have rows, and a baseline that skips a validation rule differs
        app, pandas_side = baseline.comparable(queries[1], queries[1].app.function(con), queries[1].baseline())
        assert app.height > 10 and app["nb_demandes"].sum() == pandas_side["nb_demandes"].sum()
        naive = baseline._read(baseline._table_files(files, "demandes_detail"), ["nb_demandes"])
        assert naive["nb_demandes"].sum() > app["nb_demandes"].sum()  # the demo's detail breaks detail_le_total


def test_the_ingest_measurement_writes_its_fields(tiny, tmp_path):
    plan = run.Plan(kinds=("chargement",), warm_runs=1, cold_runs=1, ingest_runs=1)
    out, md = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    run.run([lambda: tiny], plan, output=out, markdown_path=md)
    written = json.loads(out.read_text(encoding="utf-8"))

    rates = written["ingest_rows_per_s"]["mini"]
    assert set(rates) == {"parquet", "csv"}
    assert set(rates["parquet"]) == {"trimestre", "annee", "historique", "rejet"}
    assert set(rates["csv"]) == {"trimestre", "annee", "historique"}
    assert all(v > 0 for fmt in rates.values() for v in fmt.values())
    assert set(written["peak_rss_mb"]["mini"]) == {
        "trimestre_parquet",
        "trimestre_csv",
        "annee_parquet",
        "annee_csv",
        "historique_parquet",
        "historique_csv",
        "rejet_parquet",
    }
    assert all(v > 0 for v in written["peak_rss_mb"]["mini"].values())
    steps = written["chargement"]["etapes"]
    assert not [s["erreur"] for s in steps if s["erreur"]]
    by_key = {(s["etape"], s["format"]): s for s in steps}
    quarter, year, history = (by_key[(k, "parquet")] for k in ("trimestre", "annee", "historique"))
    assert 0 < quarter["lignes"] < year["lignes"] < history["lignes"]
    assert by_key[("trimestre", "csv")]["lignes"] == quarter["lignes"]  # the same rows in French CSV
    assert history["trimestres"] == 2 and history["codes_sortie"] in ([0], [1])
    rejected = by_key[("rejet", "parquet")]
    assert rejected["codes_sortie"] == [1] and rejected["rejet_complet"]
    assert rejected["lignes_en_quarantaine"] == rejected["lignes"] > 0 and rejected["lignes_ecrites"] == 0
    assert "periode_terminee" in rejected["regles"]
    floor = quarter["plancher"]  # what no load of the quarter goes under, measured beside it
    assert floor["imports_s"] > 0 and floor["insertion_detail_s"] > 0
    detail = next(f for f in ingest.Loads.of(ingest.kept(tiny.files)).quarters[-1] if "demandes_detail" in f.name)
    assert floor["lignes_detail"] == pl.scan_parquet(detail).select(pl.len()).collect().item() > 0
    assert "plancher" not in by_key[("trimestre", "csv")]
    csv_file = next(tiny.files.with_name(tiny.files.name + "-csv").glob("*demandes_detail.csv"))
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbfsite_id;annee;trimestre;")

    ratios = written["baseline_ratio"]["mini"]
    assert set(ratios) == {"departement_partenaire_annee", "tendance_nationale_partenaire", "tendance_activite"}
    assert all(r["froid"] > 0 and r["chaud"] > 0 for r in ratios.values())
    for b in written["chargement"]["reference_pandas"]:  # the floor: a query reading nothing, timed beside them
        assert 0 < b["plancher_froid_ms"] <= b["application_froid_ms"]
        assert b["ratio_froid_max"] == round(b["pandas_ms"] / b["plancher_froid_ms"], 1) >= b["ratio_froid"]
    verdicts = {v["objectif"]: v for v in written["objectifs_chargement"]}
    assert set(verdicts) == {t.key for t in report.INGEST_TARGETS}
    assert all("mini" in v["tailles"] for v in verdicts.values())
    assert written["durees_s"]["mini"]["chargement"] > 0

    text = md.read_text(encoding="utf-8")
    assert "## Chargement des fichiers" in text and "**Référence pandas**" in text
    assert "**Trimestre entièrement rejeté** (mini)" in text and "**Croissance**" in text
    assert "| chargement d'un trimestre national, Parquet (médiane) | ≥ 2 M lignes/s |" in text
    assert "**Plancher d'un trimestre** (mini, dans la même exécution)" in text
    assert "| requête vide à froid | ratio au mieux à froid |" in text and report.BASELINE_FLOOR_TEXT in text
    again = tmp_path / "again.md"
    assert cli.main(["bench", "--depuis", str(out), "--rapport", str(again)]) == 0
    assert again.read_text(encoding="utf-8") == text
    # beside a reference, each load step before and after (here the run against itself: ×1,00)
    compared = tmp_path / "compared.md"
    assert cli.main(["bench", "--depuis", str(out), "--reference", str(out), "--rapport", str(compared)]) == 0
    section = compared.read_text(encoding="utf-8").split("### Chargement des fichiers", 1)[1].split("\n## ", 1)[0]
    quarter_row = next(line for line in section.splitlines() if line.startswith("| mini | un trimestre | parquet |"))
    assert quarter_row.count("×1,00") == 2
    assert len([line for line in section.splitlines() if line.startswith("| mini |")]) == len(steps)


def test_ingest_targets_are_judged_on_their_thresholds():
    def step(etape: str, fmt: str, rate: int, rss: float, seconds: float, **extra) -> dict:
        return {
            "taille": "1an",
            "etape": etape,
            "format": fmt,
            "lignes_par_s": rate,
            "rss_max_mo": rss,
            "secondes_p50": seconds,
            "secondes_max": seconds,
            "erreur": None,
            **extra,
        }

    steps = [
        step("trimestre", "parquet", 2_500_000, 600.0, 0.3),
        step("trimestre", "csv", 900_000, 700.0, 0.8),
        step("rejet", "parquet", 1_000_000, 1100.0, 2.0, rejet_complet=True),
    ]
    pandas_side = [{"taille": "1an", "requete": "q", "ratio_froid": 80.0, "ratio_chaud": 400.0, "erreur": None}]
    judged = {
        v["objectif"]: v["tailles"].get("1an")
        for v in report.ingest_document(steps, pandas_side)["objectifs_chargement"]
    }
    assert judged["chargement_parquet"]["atteint"] and not judged["chargement_csv"]["atteint"]
    assert (
        not judged["memoire"]["atteint"]
        and f"{formats.number(1100)} Mo (rejet, parquet)" in judged["memoire"]["valeur"]
    )
    assert judged["rejet"]["atteint"] and judged["pandas"]["atteint"]
    assert judged["historique"] is None  # not measured at this size
    slow = [
        pandas_side[0],
        {"taille": "1an", "requete": "r", "ratio_froid": 5.0, "ratio_chaud": 8.0, "erreur": None}
        | {"plancher_froid_ms": 0.47, "ratio_froid_max": 46.8},
    ]
    pandas_verdict = next(
        v for v in report.ingest_document(steps, slow)["objectifs_chargement"] if v["objectif"] == "pandas"
    )["tailles"]["1an"]
    assert not pandas_verdict["atteint"]
    assert pandas_verdict["valeur"] == (
        "pire : ×5,0 (r) ; au mieux ×46,8 pour elle : une requête vide coûte 0,47 ms à froid"
    )


def test_a_load_s_peak_memory_is_its_own_not_the_bench_s(tmp_path):
    """Linux hands a spawned child the parent's high-water mark (its ``ru_maxrss`` starts there): a
    bench holding 500 Mo must still measure a small load at its own size (about 250 Mo, mostly imports)."""
    from conftest import SITES_HEADER, SITES_ROWS, write_csv

    held = b"x" * (500 * 1024 * 1024)  # resident: the bench after building its warehouses
    sites = write_csv(tmp_path / "sites.csv", SITES_HEADER, SITES_ROWS)
    result = ingest.run_child(tmp_path / "e.duckdb", [sites], dt.date(2024, 11, 27), tmp_path / "sortie.txt")
    assert result.exit_code == 0, (tmp_path / "sortie.txt").read_text(encoding="utf-8")
    assert 20 < result.rss_mb < 400 < len(held) / 2**20 < procfs.memory_mb("self", "VmHWM")
