"""A load tells how it goes, and holds one file's rows at a time.

Files are peeked at (table, columns) before anything is written; each file's rows are read when
the load comes to it, validated, written, and let go before the next file is read.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

from fsdash.catalogue import load_catalogue
from fsdash.progress import TerminalProgress
from fsdash.readers import peek_tables
from fsdash.warehouse import ingest
from fsdash.warehouse.ingest import IngestRefused, ingest_paths
from fsdash.warehouse.store import writer

from conftest import ACTIVITE_HEADER, ACTIVITE_ROWS, DETAIL_HEADER, DETAIL_ROWS, SITES_HEADER, SITES_ROWS, write_csv

CATALOGUE = load_catalogue()


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    detail = pl.DataFrame(DETAIL_ROWS, schema=DETAIL_HEADER, orient="row")
    detail.write_parquet(tmp_path / "detail.parquet")
    return [
        write_csv(tmp_path / "sites.csv", SITES_HEADER, SITES_ROWS),
        write_csv(tmp_path / "activite.csv", ACTIVITE_HEADER, ACTIVITE_ROWS),
        tmp_path / "detail.parquet",
    ]


def test_peeking_reads_no_row_of_a_csv_or_parquet(files: list[Path]) -> None:
    for path in files:
        (raw,), whole = peek_tables(path.read_bytes(), path.name, CATALOGUE)
        assert not whole and raw.frame.height == 0
    assert [peek_tables(p.read_bytes(), p.name, CATALOGUE)[0][0].table.code for p in files] == [
        "sites",
        "activite",
        "demandes_detail",
    ]


def test_each_file_is_read_validated_and_written_before_the_next(files: list[Path], tmp_path: Path) -> None:
    steps: list[str] = []
    with writer(tmp_path / "fsdash.duckdb") as con:
        result = ingest_paths(con, list(reversed(files)), progress=steps.append, today=ingest.dt.date(2024, 11, 27))
    assert result.exit_code == 0
    assert steps[0] == "3 fichiers contrôlés"
    # in the tables' order (sites, activity, detail), each file read, validated, written in turn
    expected = []
    for name, rows, written in (
        ("sites.csv", 4, "4 sites créés, modifiés ou fermés"),
        ("activite.csv", 5, "5 révisions créées"),
        ("detail.parquet", 9, "5 révisions créées"),
    ):
        expected += [
            f"{name} : {rows} lignes lues",
            f"{name} : {rows} lignes valides, 0 rejetée",
            f"{name} : {written}",
        ]
    kept = [f"{name} : fichier conservé dans l'entrepôt" for name in ("detail.parquet", "activite.csv", "sites.csv")]
    assert steps[1:-4] == expected
    assert steps[-4:] == ["agrégats des demandes mis à jour", *kept]  # each file's bytes, in the order given


def test_a_file_unreadable_when_its_turn_comes_refuses_the_whole_load(files: list[Path], tmp_path: Path) -> None:
    db = tmp_path / "fsdash.duckdb"
    with writer(db) as con:
        ingest_paths(con, files[:1], today=ingest.dt.date(2024, 11, 27))
    before = db.stat().st_mtime_ns
    ragged = tmp_path / "activite-abimee.csv"
    ragged.write_text(";".join(ACTIVITE_HEADER) + "\nFS001;2024;1\n" + "FS001;" * 40 + "\n", encoding="utf-8")
    with pytest.raises(IngestRefused) as refused, writer(db) as con:
        ingest_paths(con, [files[1], ragged], today=ingest.dt.date(2024, 11, 27))
    assert any("activite-abimee.csv" in m for m in refused.value.messages)
    assert db.stat().st_mtime_ns == before  # nothing published


def test_terminal_progress_rewrites_one_line_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    ticks = iter([0.0, 1.25, 3.5])
    live = TerminalProgress(Tty(), clock=lambda: next(ticks))
    live("lecture")
    live.done("écrit")
    assert live.stream.getvalue() == "\r\x1b[K[1,2 s] lecture\r\x1b[K[3,5 s] écrit\n"

    ticks = iter([0.0, 0.5])
    log = TerminalProgress(io.StringIO(), clock=lambda: next(ticks))
    log("lecture")
    log.done()
    assert log.stream.getvalue() == "[0,5 s] lecture\n"


def test_the_report_formats_only_the_messages_it_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = ingest.describe_failure
    monkeypatch.setattr(ingest, "describe_failure", lambda where, f: calls.append(1) or real(where, f))
    failures = pl.DataFrame(
        {"_ligne": list(range(2, 1002)), "colonne": ["annee"] * 1000, "valeur": ["2031"] * 1000}
        | {"regle": ["periode_terminee"] * 1000, "message": ["la période déclarée n'est pas encore terminée"] * 1000}
    )
    outcome = ingest.TableOutcome(CATALOGUE.table("activite"), "a.csv", 1000, 0, 1000, 0, failures, failures.height)
    result = ingest.IngestResult([ingest.FileOutcome("a.csv", "x", "rejete", 7, [outcome])])
    lines = ingest.report_lines(result, max_messages=50)
    assert len(calls) == 50
    assert lines[-1] == "  … et 950 autres erreurs (table quarantine de l'entrepôt)"
