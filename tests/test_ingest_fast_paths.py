"""The fast load paths give exactly the warehouse the former ones gave.

The former way of writing a report table (every incoming row compared with the stored ones by
``EXCEPT ALL``, new quarters included) is kept here as the oracle: the same sequence of loads — a
first load, a reload, corrections mixed with new and unchanged site-quarters, a partly rejected
file — goes through the production path and through the oracle, and every table, revisions,
batches and quarantine included, must come out the same.
"""

from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import polars as pl
import pytest
from test_ingest import snapshot

from fsdash.warehouse import ingest
from fsdash.warehouse.store import reader

from conftest import (
    ACTIVITE_HEADER,
    ACTIVITE_ROWS,
    DETAIL_HEADER,
    DETAIL_ROWS,
    SITES_HEADER,
    SITES_ROWS,
    csv_bytes,
    ingest_files,
)


def former_write_report(con: duckdb.DuckDBPyConnection, table, valid: pl.DataFrame, batch_id: int) -> pl.DataFrame:
    """The former ``_write_report``: every incoming site-period diffed against the stored one."""
    cols = [c.code for c in table.columns] + [ingest.PERIOD]
    col_list = ", ".join(cols)
    con.register("_incoming", valid.select(cols))
    con.sql(
        f"""
        CREATE OR REPLACE TEMP TABLE _changed AS
        WITH inc AS (SELECT {col_list} FROM _incoming),
        groups AS (SELECT DISTINCT site_id, periode FROM _incoming),
        cur AS (SELECT {col_list} FROM {table.code} t SEMI JOIN groups g
                ON t.site_id = g.site_id AND t.periode = g.periode WHERE t.is_current),
        diff AS ((SELECT * FROM inc EXCEPT ALL SELECT * FROM cur)
                 UNION ALL (SELECT * FROM cur EXCEPT ALL SELECT * FROM inc)),
        last AS (SELECT site_id, periode, max(revision) AS rev FROM revisions
                 WHERE table_code = ? GROUP BY ALL)
        SELECT DISTINCT d.site_id, d.periode, coalesce(l.rev, 0) + 1 AS revision
        FROM diff d LEFT JOIN last l ON d.site_id = l.site_id AND d.periode = l.periode
    """,
        params=[table.code],
    )
    con.sql(f"""UPDATE {table.code} t SET is_current = false FROM _changed c
                WHERE t.site_id = c.site_id AND t.periode = c.periode AND t.is_current""")
    con.sql(
        f"""INSERT INTO {table.code} ({col_list}, revision, batch_id, is_current)
                SELECT {", ".join("i." + c for c in cols)}, c.revision, ?, true
                FROM _incoming i JOIN _changed c ON i.site_id = c.site_id AND i.periode = c.periode""",
        params=[batch_id],
    )
    con.sql(
        "INSERT INTO revisions SELECT ?, site_id, periode, revision, ?, current_timestamp FROM _changed",
        params=[table.code, batch_id],
    )
    con.unregister("_incoming")
    return con.sql("SELECT site_id, periode FROM _changed").pl()


def _loads() -> list[list[tuple[str, bytes]]]:
    """A first load, an identical reload, then corrections mixed with new and unchanged quarters."""
    corrected = copy.deepcopy(ACTIVITE_ROWS)
    corrected[0][4] = 1550  # FS001 2023 T4 corrected
    corrected.append(["FS003", 2024, 1, 650, 720, 90, 20, 18, 2, 1.8, 1, 24.0, 5, 0, 0])  # a new site-quarter
    detail = copy.deepcopy(DETAIL_ROWS)
    detail[0][7] = 450  # FS001 2023 T4 CNAF: 400 -> 450
    detail.append(["FS003", 2024, 1, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 300])
    spoiled = copy.deepcopy(corrected)
    spoiled[1][7] = 99  # FS002 2023 T4: answered e-mails above those received -> rejected whole
    spoiled[2][4] = 710  # FS003 2023 T4 corrected too
    return [
        [
            ("sites.csv", csv_bytes(SITES_HEADER, SITES_ROWS)),
            ("activite.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS)),
            ("detail.csv", csv_bytes(DETAIL_HEADER, DETAIL_ROWS)),
        ],
        [("activite-bis.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS))],
        [
            ("activite-v2.csv", csv_bytes(ACTIVITE_HEADER, corrected)),
            ("detail-v2.csv", csv_bytes(DETAIL_HEADER, detail)),
        ],
        [("activite-v3.csv", csv_bytes(ACTIVITE_HEADER, spoiled))],
    ]


def _warehouse(path: Path) -> dict[str, list[tuple]]:
    tables = snapshot(path)
    with reader(path) as con:
        tables["current"] = con.sql(
            "SELECT site_id, periode, revision, batch_id FROM activite WHERE is_current ORDER BY ALL"
        ).fetchall()
    return tables


def test_report_writes_match_the_former_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, former = tmp_path / "rapide" / "fsdash.duckdb", tmp_path / "ancien" / "fsdash.duckdb"
    outcomes = {}
    for path, write in ((fast, ingest._write_report), (former, former_write_report)):
        monkeypatch.setattr(ingest, "_write_report", write)
        outcomes[path] = [
            [
                (t.table.code, t.rows_accepted, t.revisions_created)
                for f in ingest_files(path, load).files
                for t in f.tables
            ]
            for load in _loads()
        ]
    assert outcomes[fast] == outcomes[former]
    assert any(revisions for load in outcomes[fast][2:] for _, _, revisions in load)  # corrections did happen
    assert _warehouse(fast) == _warehouse(former)


def test_quarantine_written_slice_by_slice_is_the_whole_quarantine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rejected rows written a few at a time give the same quarantine as written at once."""
    spoiled = copy.deepcopy(ACTIVITE_ROWS)
    for row in spoiled:
        row[7] = 999  # every site-quarter: answered e-mails above those received
    load = [
        ("sites.csv", csv_bytes(SITES_HEADER, SITES_ROWS)),
        ("activite-abimee.csv", csv_bytes(ACTIVITE_HEADER, spoiled)),
    ]
    quarantines = []
    for name, slice_rows in (("entier", 10**6), ("tranches", 2)):
        monkeypatch.setattr(ingest, "QUARANTINE_SLICE", slice_rows)
        path = tmp_path / name / "fsdash.duckdb"
        ingest_files(path, load)
        with reader(path) as con:
            quarantines.append(con.sql("SELECT * EXCLUDE (batch_id) FROM quarantine ORDER BY ALL").fetchall())
    assert len(quarantines[0]) == len(ACTIVITE_ROWS)
    assert quarantines[0] == quarantines[1]


def test_a_report_validated_part_by_part_gives_the_warehouse_of_one_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cut by site into parts of two rows, every load of the sequence gives the same outcomes
    (rows, rejections in line order) and the same warehouse as validated whole."""
    results = {}
    for name, part_rows in (("entier", 10**6), ("parties", 2)):
        monkeypatch.setattr(ingest, "REPORT_PART_ROWS", part_rows)
        path = tmp_path / name / "fsdash.duckdb"
        outcomes = []
        for load in _loads():
            for f in ingest_files(path, load).files:
                for t in f.tables:
                    outcomes.append((t.table.code, t.rows_read, t.rows_accepted, t.rows_rejected, t.revisions_created))
                    outcomes.append(t.failures.to_dicts())
        results[name] = (outcomes, _warehouse(path))
    assert results["entier"] == results["parties"]
    assert any(isinstance(o, list) and o for o in results["parties"][0])  # some rejections were compared


def test_pandera_asked_once_per_write_still_rejects_what_the_native_checks_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pandera sees the rows of several parts in one call (:func:`fsdash.validation.confirm`): with the
    native rule checks switched off, every failure they find is found by Pandera instead, rejected
    with the rest of its site-period, counted and quarantined — the same outcomes and warehouse."""
    from fsdash import validation

    spoiled_detail = copy.deepcopy(DETAIL_ROWS)
    spoiled_detail[0][3] = "INCONNU"  # an unknown partner: its site-quarter's other rows go with it
    monkeypatch.setattr(ingest, "REPORT_PART_ROWS", 2)
    monkeypatch.setattr(ingest, "REPORT_CONFIRM_ROWS", 3)  # a few parts per Pandera call, several calls per file
    monkeypatch.setattr(ingest, "REPORT_WRITE_ROWS", 5)  # and per write
    results = {}
    for name, native in (("natif", validation._native_failures), ("pandera", lambda *_: validation.empty_failures())):
        monkeypatch.setattr(validation, "_native_failures", native)
        path = tmp_path / name / "fsdash.duckdb"
        outcomes = []
        for load in [*_loads(), [("detail-v3.csv", csv_bytes(DETAIL_HEADER, spoiled_detail))]]:
            for f in ingest_files(path, load).files:
                for t in f.tables:
                    outcomes.append((t.table.code, t.rows_read, t.rows_accepted, t.rows_rejected, t.revisions_created))
                    outcomes.append(sorted(map(str, t.failures.to_dicts())))
        results[name] = (outcomes, _warehouse(path))
    assert results["natif"] == results["pandera"]
    failures = [f for o in results["pandera"][0] if isinstance(o, list) for f in o]
    assert any("groupe_rejete" in f for f in failures) and any("valeurs_admises" in f for f in failures)
