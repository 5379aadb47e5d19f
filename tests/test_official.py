"""Official series (issue 4): import, validation, warehouse, reconciliation with the feed, demo calibration.

Figures on the real publications are read from ``../shared/reference/barometre/`` (skipped when
absent) and checked against values read here independently, with the ``csv`` module.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from fsdash.metrics import official as metrics
from fsdash.metrics.scope import NATIONAL, Scope, resolve
from fsdash.official import ACTS, LABELS, SATISFACTION, load_definitions
from fsdash.summary import build_summary
from fsdash.warehouse.official_series import import_official_paths
from fsdash.warehouse.schema import SCHEMA_VERSION
from fsdash.warehouse.store import reader, writer

from conftest import KIOSK_HEADER, REPO_ROOT, TODAY, ingest_files, write_csv

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "official"
REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "barometre"
REAL_FILES = [
    REFERENCE / "etalab-nb-labellisations-france-services.csv",
    REFERENCE / "ditp-ind-323-actes-mensuels.csv",
    REFERENCE / "ditp-ind-246-satisfaction.csv",
]
NO_REFERENCE = "séries officielles de référence absentes (../shared/reference/barometre)"
needs_reference = pytest.mark.skipif(not all(p.exists() for p in REAL_FILES), reason=NO_REFERENCE)
OFFICIAL_TABLES = ["official_series", "official_files", "raw_files", "quarantine", "batches"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fsdash", *args], capture_output=True, text=True, cwd=REPO_ROOT)


def counts(db: Path) -> dict[str, int]:
    with reader(db) as con:
        return {t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in OFFICIAL_TABLES}


def import_files(db: Path, paths: list[Path]):
    with writer(db) as con:
        return import_official_paths(con, paths, file_date=dt.date(2024, 9, 1), today=TODAY)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the declarative list ---------------------------------------------------------------------


def test_yaml_is_the_one_list_of_official_indicators():
    definitions = load_definitions()
    assert set(definitions.indicators) == {LABELS, ACTS, SATISFACTION}
    assert definitions.by_feed("demandes").code == ACTS
    assert definitions.by_feed("satisfaction_borne").code == SATISFACTION
    assert definitions.indicators[ACTS].initial_is_measure
    assert not definitions.indicators[SATISFACTION].initial_is_measure
    assert definitions.sources["etalab"].month_shift == {"national": 0, "region": 1, "departement": 1}
    for indicator in definitions.indicators.values():
        assert indicator.note and indicator.feed.label


# --- the real publications --------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not all(p.exists() for p in REAL_FILES):
        pytest.skip(NO_REFERENCE)
    db = tmp_path_factory.mktemp("official") / "fsdash.duckdb"
    out = run_cli("import-indicators", "--db", str(db), "--date", "2024-09-01", *map(str, REAL_FILES))
    assert out.returncode == 0, out.stderr
    return db


def expected_values(path: Path) -> int:
    """Non-empty value cells of a publication: what the warehouse must hold, one row each."""
    value_columns = ("indic_vi", "indic_va", "indic_vc", "indic_ta", "valeur")
    return sum(1 for row in read_rows(path) for c in value_columns if (row.get(c) or "").strip())


@needs_reference
def test_every_row_of_the_real_files_is_loaded(real_db):
    with reader(real_db) as con:
        stored = dict(
            con.sql("""SELECT f.file_name, count(*) FROM official_series s
                                 JOIN official_files f USING (batch_id) GROUP BY ALL""").fetchall()
        )
        files = {
            r[0]: r[1:]
            for r in con.sql(
                "SELECT file_name, rows_read, rows_loaded, rows_rejected, rows_empty, source FROM official_files"
            ).fetchall()
        }
        raw = con.sql("SELECT count(*) FROM raw_files").fetchall()[0][0]
    for path in REAL_FILES:
        rows = read_rows(path)
        assert stored[path.name] == expected_values(path), path.name
        read, loaded, rejected, empty, _ = files[path.name]
        assert (read, rejected) == (len(rows), 0)
        assert loaded + empty == read
    # The satisfaction file lists 19 zones with neither date nor value: counted, not loaded, not rejected.
    assert files["ditp-ind-246-satisfaction.csv"][3] == 19
    assert files["etalab-nb-labellisations-france-services.csv"][4] == "etalab"
    assert raw == 3


@needs_reference
def test_official_values_come_back_out(real_db):
    with reader(real_db) as con:
        labels = {d: v for d, _, v, *_ in metrics.official_series(con, NATIONAL, LABELS).iter_rows()}
        acts = metrics.official_series(con, NATIONAL, ACTS)
        targets = metrics.official_targets(con, NATIONAL, ACTS)
        ain = metrics.official_series(con, Scope("departement", "01"), ACTS)
        satisfaction = metrics.official_series(con, NATIONAL, SATISFACTION)
    assert labels[dt.date(2020, 1, 31)] == 460
    assert labels[dt.date(2022, 12, 31)] == 2538
    july = acts.filter(pl.col("date") == dt.date(2024, 7, 1)).row(0, named=True)
    assert july["value"] == 935_377 and july["progress"] == 78.23
    assert acts.filter(pl.col("date") == dt.date(2022, 5, 1))["initial"].item() == 510_034
    national_target = targets.filter(pl.col("zone_level") == "national").row(0, named=True)
    assert national_target["date"] == dt.date(2026, 12, 1)
    assert national_target["target"] == pytest.approx(1_053_711.89)
    assert targets.filter(pl.col("zone_level") == "departement").height == 101
    assert ain.filter(pl.col("date") == dt.date(2024, 4, 1))["value"].item() == 9103
    assert satisfaction.filter(pl.col("date") == dt.date(2024, 2, 1))["value"].item() == 96.5


@needs_reference
def test_departmental_label_dates_move_one_month_later(real_db):
    """Etalab dates a departmental wave one month earlier: the Ain's 11 labels published at
    31/12/2020 are read at 31/01/2021, next to the national series' January wave (1,123)."""
    with reader(real_db) as con:
        ain = metrics.official_series(con, Scope("departement", "01"), LABELS)
        by_date = {r["date"]: r for r in ain.iter_rows(named=True)}
        national = con.sql(
            """SELECT value FROM official_series WHERE indicator = ? AND zone_level = 'national'
                              AND reference_date = DATE '2021-01-31'""",
            params=[LABELS],
        ).fetchall()
        departments = con.sql(
            """SELECT sum(value) FROM official_series WHERE indicator = ?
                                 AND zone_level = 'departement' AND reference_date = DATE '2021-01-31'""",
            params=[LABELS],
        ).fetchall()
    assert by_date[dt.date(2021, 1, 31)]["published_date"] == dt.date(2020, 12, 31)
    assert by_date[dt.date(2021, 1, 31)]["value"] == 11
    assert national == [(1123.0,)] and departments == [(1123.0,)]


@needs_reference
def test_summary_json_lists_official_series(real_db):
    out = run_cli("summary", "--db", str(real_db), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    series = data["official_series"]
    assert series[ACTS] == {
        "source": "ditp",
        "rows": expected_values(REAL_FILES[1]),
        "latest_date": "2024-07-01",
        "last_date": "2026-12-01",
    }
    assert series[LABELS]["latest_date"] == "2022-12-31" and series[LABELS]["source"] == "etalab"
    assert series[SATISFACTION]["rows"] == expected_values(REAL_FILES[2])
    assert data["schema_version"] == SCHEMA_VERSION and "sites_labelled_at" in data


@needs_reference
def test_reimporting_the_real_files_changes_nothing(real_db):
    before = counts(real_db)
    out = run_cli("import-indicators", "--db", str(real_db), *map(str, REAL_FILES))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("déjà chargé") == 3
    assert counts(real_db) == before


# --- validation, with hand-made files ---------------------------------------------------------


def test_each_bad_row_is_named_by_line_and_column(db_path):
    result = import_files(db_path, [FIXTURES / "invalid-rows.csv"])
    outcome = result.files[0]
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected) == ("partiel", 8, 1, 7)
    failures = {(r["_ligne"], r["colonne"], r["regle"]) for r in outcome.failures.iter_rows(named=True)}
    assert failures == {
        (3, "enforce_zone_id", "zone_inconnue"),
        (4, "metric_enforce_date", "format"),
        (5, "indic_va", "plage_realisee"),
        (6, "indic_id", "indicateur_inconnu"),
        (7, "indic_va", "format"),
        (8, "metric_enforce_date", "date_manquante"),
        (9, "indic_va", "plage_realisee"),
    }
    messages = outcome.messages()
    assert (
        "invalid-rows.csv, ligne 3, colonne « enforce_zone_id » : zone « D99 » inconnue pour la maille "
        "« DEPT » (département ; codes de la géographie INSEE) [zone_inconnue]"
    ) in messages
    assert (
        "invalid-rows.csv, ligne 5, colonne « indic_va » : valeur « 120.0 » hors de la plage admise pour "
        "IND-246 (0 à 100 %) [plage_realisee]"
    ) in messages
    assert any(
        m.startswith("invalid-rows.csv, ligne 6, colonne « indic_id » : indicateur « IND-999 » inconnu")
        for m in messages
    )
    assert "invalid-rows.csv, ligne 8, colonne « metric_enforce_date » : date manquante [date_manquante]" in messages
    with reader(db_path) as con:
        stored = con.sql("SELECT zone_code, value FROM official_series").fetchall()
        quarantined = con.sql("""SELECT line, column_name, rule FROM quarantine
                                 WHERE table_code = 'official_series' ORDER BY line""").fetchall()
    assert stored == [("01", 900.0)]
    assert [q[0] for q in quarantined] == [3, 4, 5, 6, 7, 8, 9]


def test_cli_exit_codes(tmp_path):
    db = tmp_path / "w.duckdb"
    ok = run_cli("import-indicators", "--db", str(db), str(FIXTURES / "ditp-ain.csv"))
    assert ok.returncode == 0, ok.stderr
    assert "ditp-ain.csv : chargé" in ok.stdout
    before = counts(db)
    rejected = run_cli("import-indicators", "--db", str(db), str(FIXTURES / "invalid-rows.csv"))
    assert rejected.returncode == 1
    assert (
        "invalid-rows.csv, ligne 4, colonne « metric_enforce_date » : valeur « 2024-13-01 » illisible"
        in rejected.stderr
    )
    assert "Lignes rejetées : 7 ;" in rejected.stderr
    after_rejects = counts(db)
    assert after_rejects["quarantine"] == before["quarantine"] + 7
    refused = run_cli(
        "import-indicators", "--db", str(db), str(FIXTURES / "etalab-ain.csv"), str(FIXTURES / "wrong-shape.csv")
    )
    assert refused.returncode == 2
    assert "wrong-shape.csv : colonnes manquantes" in refused.stderr
    for column in ("enforce_zone_id", "maille", "indic_va", "code"):
        assert column in refused.stderr
    assert "aucun fichier n'a été chargé" in refused.stderr
    assert counts(db) == after_rejects  # the good Etalab file of the same call was not written either


def test_unreadable_file_is_refused(tmp_path):
    db = tmp_path / "w.duckdb"
    bad = tmp_path / "series.pdf"
    bad.write_bytes(b"%PDF-1.4")
    out = run_cli("import-indicators", "--db", str(db), str(bad))
    assert out.returncode == 2 and "format non pris en charge" in out.stderr
    assert not db.exists() or counts(db)["official_series"] == 0


def test_same_file_twice_changes_nothing_and_a_revision_is_kept(db_path, tmp_path):
    import_files(db_path, [FIXTURES / "ditp-ain.csv"])
    before = counts(db_path)
    again = import_files(db_path, [FIXTURES / "ditp-ain.csv"])
    assert again.files[0].status == "deja_charge" and again.exit_code == 0
    assert counts(db_path) == before
    # The same partly rejected file twice: rejected again (exit 1), recorded once.
    import_files(db_path, [FIXTURES / "invalid-rows.csv"])
    once = counts(db_path)
    twice = import_files(db_path, [FIXTURES / "invalid-rows.csv"])
    assert twice.files[0].status == "deja_charge" and twice.exit_code == 1
    assert counts(db_path) == once
    # A newer publication revising one value: the new one is current, the old one kept.
    revised = tmp_path / "ditp-ain-revise.csv"
    revised.write_text(
        (FIXTURES / "ditp-ain.csv")
        .read_text()
        .replace("IND-323,D01,2023-11-01,DEPT,,900.0", "IND-323,D01,2023-11-01,DEPT,,950.0")
    )
    result = import_files(db_path, [revised])
    assert result.files[0].values_written == 1
    with reader(db_path) as con:
        versions = con.sql("""SELECT value, is_current FROM official_series WHERE zone_code = '01'
                              AND indicator = 'IND-323' AND date = DATE '2023-11-01' ORDER BY value""").fetchall()
    assert versions == [(900.0, False), (950.0, True)]


def test_placeholder_rows_are_counted_not_loaded(db_path):
    result = import_files(db_path, [FIXTURES / "ditp-ain.csv"])
    outcome = result.files[0]
    assert (outcome.rows_read, outcome.rows_empty, outcome.rows_rejected, result.exit_code) == (11, 1, 0, 0)
    assert outcome.values_written == 11  # one row a value cell: 4 + 2 + 1 + 1 acts, 3 satisfaction


def test_old_warehouse_migrates_to_the_current_version(db_path):
    with writer(db_path) as con:
        con.sql("DROP TABLE official_series")
        con.sql("DROP TABLE official_files")
        con.sql("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with reader(db_path) as con:
        assert not metrics.has_official_series(con)
        assert metrics.official_summary(con) == {}
    import_files(db_path, [FIXTURES / "etalab-ain.csv"])
    with reader(db_path) as con:
        assert con.sql("SELECT max(version) FROM schema_migrations").fetchall() == [(SCHEMA_VERSION,)]
        assert metrics.official_summary(con)[LABELS]["rows"] == 4


# --- reconciliation on a hand-made feed -------------------------------------------------------

#: Ain, 2023 T4: (50 + 30) / 100 and (40 + 40) / 100 -> 160 / 200 = 80 %.
KIOSK_ROWS = [["FS001", 2023, 4, 50, 30, 15, 5], ["FS002", 2023, 4, 40, 40, 10, 10]]


@pytest.fixture
def reconciled_db(loaded_db: Path, tmp_path: Path) -> Path:
    """The conftest network (Ain: FS001 labelled 15/11/2019, FS002 labelled 01/06/2021 and closed
    30/06/2024), its activity, kiosk answers, and hand-made official files for the Ain."""
    kiosk = write_csv(tmp_path / "satisfaction_borne.csv", KIOSK_HEADER, KIOSK_ROWS)
    result = ingest_files(loaded_db, [(kiosk.name, kiosk.read_bytes())])
    assert result.exit_code == 0
    import_files(loaded_db, [FIXTURES / "ditp-ain.csv", FIXTURES / "etalab-ain.csv"])
    return loaded_db


def row_at(frame: pl.DataFrame, day: dt.date) -> dict:
    return frame.filter(pl.col("date") == day).row(0, named=True)


def test_requests_gap_on_a_hand_made_feed(reconciled_db):
    with reader(reconciled_db) as con:
        frame = metrics.reconcile(con, Scope("departement", "01"), ACTS, tolerance=0.03)
        loose = metrics.reconcile(con, Scope("departement", "01"), ACTS, tolerance=0.05)
    assert list(frame.columns) == list(metrics.RECONCILIATION_SCHEMA)
    q4 = row_at(frame, dt.date(2023, 10, 1))
    # Official: 800 + 900 + 850 (three months published) ; feed: 1,500 + 950 requests.
    assert (q4["official"], q4["feed"], q4["gap"], q4["months_published"]) == (2550, 2450, -100, 3)
    assert q4["gap_relative"] == pytest.approx(-100 / 2550)
    assert q4["flag"] is True and row_at(loose, dt.date(2023, 10, 1))["flag"] is False
    assert "une demande peut donner lieu à plusieurs actes" in q4["note"]
    q1 = row_at(frame, dt.date(2024, 1, 1))
    # One month published (January, 900): estimated 2,700 for the quarter; feed 1,600 + 1,000.
    assert (q1["official"], q1["feed"], q1["gap"], q1["months_published"]) == (2700, 2600, -100, 1)
    assert q1["gap_relative"] == pytest.approx(-100 / 2700)
    assert "Estimation : 1 mois publié(s) sur 3." in q1["note"]
    q3 = row_at(frame, dt.date(2023, 7, 1))  # the initial value is a measure for IND-323
    assert q3["official"] == 2100 and q3["feed"] is None and q3["flag"] is False
    assert "Aucune donnée du flux" in q3["note"]
    assert set(frame["zone_name"]) == {"Ain"}


def test_satisfaction_gap_on_a_hand_made_feed(reconciled_db):
    with reader(reconciled_db) as con:
        frame = metrics.reconcile(con, Scope("region", "84"), SATISFACTION)
    # The initial 0 of 2023-01-01 is a placeholder, not a measure: only 2023 T4 is compared.
    assert frame.height == 1
    row = frame.row(0, named=True)
    assert (row["zone_code"], row["official"], row["feed"]) == ("01", 85.0, 80.0)
    assert row["gap"] == pytest.approx(-5.0) and row["gap_relative"] == pytest.approx(-5 / 85)
    assert row["flag"] is True
    assert "ce n'est pas l'enquête annuelle" in row["note"]


def test_label_gap_on_a_hand_made_feed(reconciled_db):
    with reader(reconciled_db) as con:
        ain = metrics.reconcile(con, Scope("departement", "01"), LABELS)
        france = metrics.reconcile(con, NATIONAL, LABELS, by="scope")
        narrowed = metrics.reconcile(con, Scope("departement", "01", formats=("FIXE",)), LABELS)
    # Published 30/04/2021 (2 labels) -> compared on 31/05/2021, when only FS001 is labelled.
    may = row_at(ain, dt.date(2021, 5, 31))
    assert (may["official"], may["feed"], may["gap"], may["gap_relative"], may["flag"]) == (2, 1, -1, -0.5, True)
    assert "Valeur publiée au 30/04/2021." in may["note"]
    june = row_at(ain, dt.date(2021, 6, 30))
    assert (june["official"], june["feed"], june["gap"], june["flag"]) == (2, 2, 0, False)
    # Cumulative labels vs open sites: FS002 closed on 30/06/2024.
    july = row_at(ain, dt.date(2024, 7, 31))
    assert (july["official"], july["feed"]) == (2, 1)
    national = france.row(0, named=True)
    assert (national["zone_level"], national["date"], national["official"], national["feed"]) == (
        "national",
        dt.date(2021, 6, 30),
        3,
        2,
    )
    assert "Filtres de format et de porteur ignorés" in narrowed["note"][0]
    assert narrowed["feed"].to_list() == ain["feed"].to_list()


def test_accessors_on_a_hand_made_file(reconciled_db):
    with reader(reconciled_db) as con:
        series = metrics.official_series(
            con, resolve(con, Scope("site", "FS001")), ACTS
        )  # a site speaks for its département
        targets = metrics.official_targets(con, None, ACTS)
        everything = metrics.reconcile(con, Scope("departement", "01"), None)
        summary = build_summary(con, today=TODAY)
    assert row_at(series, dt.date(2024, 1, 1))["progress"] == 45.0
    assert row_at(series, dt.date(2023, 7, 1))["initial"] == 700
    assert targets.select("zone_code", "target").rows() == [("01", 1000.0)]
    assert set(everything["indicator"]) == {LABELS, ACTS, SATISFACTION}
    assert summary["official_series"][SATISFACTION] == {
        "source": "ditp",
        "rows": 3,
        "latest_date": "2023-11-01",
        "last_date": "2026-12-01",
    }


# --- the demo calibrated on the official series ---------------------------------------------


@pytest.fixture(scope="module")
def official_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not all(p.exists() for p in REAL_FILES):
        pytest.skip(NO_REFERENCE)
    from fsdash.demo.build import build_demo

    from demo_fixtures import DEMO_TODAY

    path = tmp_path_factory.mktemp("demo-official") / "fsdash.duckdb"
    build_demo(path, seed=2019, until="2024-T3", today=DEMO_TODAY, official_files=REAL_FILES)
    return path


def official_by_departement(path: Path, date: str, column: str = "indic_va") -> dict[str, float]:
    return {
        r["enforce_zone_id"][1:]: float(r[column])
        for r in read_rows(path)
        if r["maille"] == "DEPT" and r["metric_enforce_date"] == date and r[column]
    }


@pytest.mark.slow
def test_demo_sites_follow_official_departmental_labels(official_demo):
    """End 2022: Etalab departmental stocks published at 30/11/2022 (one month earlier), 2,536 in all,
    scaled to the demo's 2,538 sites: every département within one site."""
    official = {
        r["code"]: float(r["valeur"])
        for r in read_rows(REAL_FILES[0])
        if r["maille"] == "departemental" and r["date"] == "2022-11-30"
    }
    scale = 2538 / sum(official.values())
    with reader(official_demo) as con:
        demo = dict(
            con.sql("""SELECT departement, count(*) FROM sites WHERE date_labellisation <= DATE '2022-12-31'
                               AND (date_fermeture IS NULL OR date_fermeture > DATE '2022-12-31')
                               GROUP BY ALL""").fetchall()
        )
    assert sum(demo.values()) == 2538
    assert max(abs(demo.get(dep, 0) - n * scale) for dep, n in official.items()) <= 1


@pytest.mark.slow
def test_demo_request_shares_follow_official_acts(official_demo):
    """2024 T2: the département shares of April 2024's acts (IND-323) vs the demo's requests."""
    official = official_by_departement(REAL_FILES[1], "2024-04-01")
    total = sum(official.values())
    with reader(official_demo) as con:
        demo = dict(
            con.sql("""SELECT s.departement, sum(a.demandes) FROM activite a JOIN sites s USING (site_id)
                               WHERE a.is_current AND a.periode = DATE '2024-04-01' GROUP BY ALL""").fetchall()
        )
    demo_total = sum(demo.values())
    gaps = [abs(demo.get(dep, 0) / demo_total - n / total) for dep, n in official.items()]
    assert max(gaps) < 0.005  # within half a point for every département
    assert sum(gaps) / len(gaps) < 0.0005
    assert demo_total == pytest.approx(3 * 971_082, rel=0.01)  # the national level of April 2024, × 3


@pytest.mark.slow
def test_demo_reconciliation_gaps_are_small(official_demo):
    with reader(official_demo) as con:
        acts = metrics.reconcile(con, NATIONAL, ACTS)
        satisfaction = metrics.reconcile(con, NATIONAL, SATISFACTION)
        labels = metrics.reconcile(con, NATIONAL, LABELS)
        ain = con.sql("""SELECT sum(a.demandes) FROM activite a JOIN sites s USING (site_id)
                         WHERE a.is_current AND s.departement = '01' AND a.periode = DATE '2024-04-01'""").fetchall()
    ain_row = acts.filter((pl.col("zone_code") == "01") & (pl.col("date") == dt.date(2024, 4, 1))).row(0, named=True)
    assert ain_row["official"] == 3 * 9103 and ain_row["feed"] == ain[0][0]
    assert abs(ain_row["gap_relative"]) < 0.05
    # Every quarter but the last (whose late reports never arrive in a build stopped at 2024 T3).
    settled = acts.filter(pl.col("date") < dt.date(2024, 7, 1))
    assert settled["feed"].null_count() == 0
    assert settled["gap_relative"].abs().median() < 0.03
    assert settled["flag"].mean() < 0.15
    compared = satisfaction.filter(pl.col("feed").is_not_null())
    assert compared.height >= 0.95 * satisfaction.height
    assert compared["gap"].abs().median() < 2.0  # points
    end_2022 = labels.filter(pl.col("date") == dt.date(2022, 12, 31))
    assert end_2022.height == 101 and end_2022["gap"].abs().max() <= 1


@needs_reference
def test_demo_official_option_on_the_command_line(tmp_path):
    out = run_cli("demo", "--db", str(tmp_path / "d.duckdb"), "--until", "2022-T2", "--official", *map(str, REAL_FILES))
    assert out.returncode == 0, out.stderr
    with reader(tmp_path / "d.duckdb") as con:
        summary = build_summary(con, today=TODAY)
        meta = dict(con.sql("SELECT key, value FROM meta WHERE key LIKE 'demo_%'").fetchall())
    assert summary["demo"] is True and set(summary["official_series"]) == {LABELS, ACTS, SATISFACTION}
    assert meta["demo_network"] == "synthétique (labellisations officielles)"
    assert summary["sites_labelled_at"]["2020-12-31"] == 856


def test_waves_are_shared_by_official_departmental_stocks():
    """Two départements, stocks published a month early for the second wave: each wave's sites go
    where the official stock grows, scaled to the wave's national count (no random draw)."""
    from fsdash.demo.network import allocate_waves

    stocks = pl.DataFrame(
        {
            "departement": ["01", "2A", "01", "2A", "01", "2A"],
            "date": [
                dt.date(2020, 1, 31),
                dt.date(2020, 1, 31),
                dt.date(2020, 2, 29),
                dt.date(2020, 2, 29),
                dt.date(2020, 12, 31),
                dt.date(2020, 12, 31),
            ],
            "sites": [30, 10, 40, 10, 45, 35],
        }
    )
    waves = [(dt.date(2020, 1, 1), 40), (dt.date(2020, 2, 1), 50), (dt.date(2021, 1, 1), 160)]
    dates = allocate_waves(stocks, waves)
    by_wave = {dep: [d.count(day) for day, _ in waves] for dep, d in dates.items()}
    # Wave 3 reads the stocks published at 31/12/2020 (80 in all), scaled to 160: 90 and 70.
    assert by_wave == {"01": [30, 10, 50], "2A": [10, 0, 60]}


@pytest.mark.slow
@needs_reference
def test_same_seed_same_calibrated_demo(tmp_path):
    from fsdash.demo.build import build_demo

    from demo_fixtures import DEMO_TODAY

    figures = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.duckdb"
        build_demo(path, seed=7, until="2020-T4", today=DEMO_TODAY, official_files=REAL_FILES)
        with reader(path) as con:
            figures.append(
                con.sql("""SELECT sum(demandes), count(*), (SELECT string_agg(departement, ',' ORDER BY
                                      site_id) FROM sites) FROM activite""").fetchall()
            )
    assert figures[0] == figures[1]
