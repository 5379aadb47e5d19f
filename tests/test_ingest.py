"""End to end: writer() + ingest_blobs/ingest_paths, and the command line (exit codes 0/1/2)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from fsdash.warehouse import raw_files
from fsdash.warehouse.ingest import IngestRefused, ingest_blobs, ingest_paths
from fsdash.warehouse.store import reader, writer

from conftest import (
    ACTIVITE_HEADER,
    ACTIVITE_ROWS,
    DETAIL_HEADER,
    DETAIL_ROWS,
    REPO_ROOT,
    SITES_HEADER,
    SITES_ROWS,
    csv_bytes,
    ingest_files,
    sha256_file,
    table_counts,
    write_csv,
)


def rows(db: Path, query: str, params: list | None = None) -> list[tuple]:
    with reader(db) as con:
        return con.sql(query, params=params).fetchall()


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Full content of the tables a re-ingest must not touch (timestamps excluded)."""
    queries = {
        "activite": "SELECT * FROM activite ORDER BY ALL",
        "demandes_detail": "SELECT * FROM demandes_detail ORDER BY ALL",
        "sites": "SELECT * EXCLUDE (updated_at) FROM sites ORDER BY ALL",
        "revisions": "SELECT * EXCLUDE (loaded_at) FROM revisions ORDER BY ALL",
        "batches": "SELECT * EXCLUDE (loaded_at) FROM batches ORDER BY ALL",
        "raw_files": "SELECT sha256, file_name, size_bytes FROM raw_files ORDER BY ALL",
        "quarantine": "SELECT * FROM quarantine ORDER BY ALL",
        "rollup": "SELECT * FROM agg_demandes_departement ORDER BY ALL",
        "site_history": "SELECT * FROM site_history ORDER BY ALL",
    }
    return {name: rows(db, q) for name, q in queries.items()}


def leftovers(db: Path) -> list[str]:
    """Staging copies or WAL files a failed load must not leave behind."""
    return sorted(p.name for p in db.parent.iterdir() if ".tmp" in p.name or p.name.endswith(".wal"))


def messages(result) -> list[str]:
    return [m for f in result.files for t in f.tables for m in t.messages()]


# --- first load ------------------------------------------------------------------------------


def test_small_network_loads(loaded_db):
    counts = table_counts(loaded_db)
    assert {
        k: counts[k]
        for k in ("sites", "activite", "demandes_detail", "batches", "raw_files", "quarantine", "revisions")
    } == {
        "sites": 4,
        "activite": 5,
        "demandes_detail": 9,
        "batches": 3,
        "raw_files": 3,
        "quarantine": 0,
        # 4 sites are not revisioned; 5 activity site-quarters + 5 detail site-quarters
        "revisions": 10,
    }
    assert rows(loaded_db, "SELECT site_id, departement, region FROM sites ORDER BY 1") == [
        ("FS001", "01", "84"),
        ("FS002", "01", "84"),
        ("FS003", "2A", "94"),
        ("FS004", "2A", "94"),
    ]
    assert rows(loaded_db, "SELECT DISTINCT revision, is_current FROM activite") == [(1, True)]
    assert rows(loaded_db, "SELECT DISTINCT periode FROM activite ORDER BY 1") == [
        (dt.date(2023, 10, 1),),
        (dt.date(2024, 1, 1),),
    ]
    assert rows(loaded_db, "SELECT agents_etp, heures_ouverture_hebdo FROM activite WHERE site_id = 'FS003'") == [
        (1.8, 24.0)
    ]
    assert rows(loaded_db, "SELECT nom FROM sites WHERE site_id = 'FS004'") == [
        ("Bus France Services de l'Extrême-Sud",)
    ]  # read from a cp1252 file
    assert rows(
        loaded_db, "SELECT file_name, status, rows_read, rows_accepted, rows_rejected FROM batches ORDER BY batch_id"
    ) == [
        ("sites.csv", "accepte", 4, 4, 0),
        ("activite.csv", "accepte", 5, 5, 0),
        ("demandes_detail.csv", "accepte", 9, 9, 0),
    ]
    assert rows(loaded_db, "SELECT value FROM meta WHERE key = 'nature'") == [("reel",)]


def test_files_are_loaded_in_dependency_order(db_path, input_files):
    """Detail before activity before sites on the command line: still all accepted."""
    with writer(db_path) as con:
        result = ingest_paths(con, list(reversed(input_files)), today=dt.date(2024, 11, 27))
    assert result.exit_code == 0, messages(result)
    assert [f.status for f in result.files] == ["accepte"] * 3
    assert table_counts(db_path)["demandes_detail"] == 9


# --- idempotence -------------------------------------------------------------------------------


def test_reingesting_identical_files_changes_nothing(loaded_db, input_files):
    before, before_counts = snapshot(loaded_db), table_counts(loaded_db)
    result = ingest_files(loaded_db, [(p.name, p.read_bytes()) for p in input_files])
    assert [f.status for f in result.files] == ["deja_charge"] * 3
    assert [f.batch_id for f in result.files] == [None] * 3
    assert result.exit_code == 0
    assert table_counts(loaded_db) == before_counts
    assert snapshot(loaded_db) == before


def test_a_rejected_file_keeps_its_first_failures_in_memory_and_all_in_quarantine(loaded_db, monkeypatch):
    """The outcome of a load holds only the first failures (a quarter rejected whole has a million):
    the report counts the others, the quarantine holds them all, and loading the same file again is
    recognised from the quarantine (no duplicate rows)."""
    import fsdash.warehouse.ingest

    monkeypatch.setattr(fsdash.warehouse.ingest, "KEPT_FAILURES", 3)
    monkeypatch.setattr(fsdash.warehouse.ingest, "REPORT_PART_ROWS", 3)
    blob = csv_bytes(DETAIL_HEADER, [[*row[:1], 2025, *row[2:]] for row in DETAIL_ROWS])
    result = ingest_files(loaded_db, [("futur.csv", blob)], today=dt.date(2024, 11, 27))
    (table,) = result.files[0].tables
    kept = rows(loaded_db, "SELECT count(*), min(line) FROM quarantine WHERE batch_id = ?", [result.files[0].batch_id])
    assert table.failure_count == kept[0][0] >= 2 * len(DETAIL_ROWS)
    assert table.failures.height == 3 and table.failures["_ligne"].to_list() == [2, 2, 3]
    lines = fsdash.warehouse.ingest.report_lines(result, max_messages=2)
    assert lines[-1] == f"  … et {table.failure_count - 2} autres erreurs (table quarantine de l'entrepôt)"
    before = table_counts(loaded_db)
    again = ingest_files(loaded_db, [("futur.csv", blob)], today=dt.date(2024, 11, 27))
    assert again.files[0].status == "deja_charge"
    assert table_counts(loaded_db) == before


def test_a_file_s_bytes_are_kept_in_parts_and_given_back_as_loaded(loaded_db, monkeypatch):
    """Kept whole, forty national CSV quarters made DuckDB's checkpoint fail under the writer's memory
    limit: the bytes are cut into parts, and put back together byte for byte. A text file is kept as
    one standard Zstandard frame (a tenth of a CSV quarter's bytes to write)."""
    import pyarrow as pa

    monkeypatch.setattr(raw_files, "PART_BYTES", 100)
    data = csv_bytes(DETAIL_HEADER, CORRECTED_DETAIL)
    result = ingest_files(loaded_db, [("detail-corrige.csv", data)])
    sha = hashlib.sha256(data).hexdigest()
    [(size, codec, whole)] = rows(loaded_db, "SELECT size_bytes, codec, content FROM raw_files WHERE sha256 = ?", [sha])
    assert (size, codec, whole) == (len(data), "zstd", None)
    parts = rows(loaded_db, "SELECT part, content FROM raw_file_parts WHERE sha256 = ? ORDER BY 1", [sha])
    stored = b"".join(content for _, content in parts)
    assert len(stored) < raw_files.KEEP_COMPRESSED_BELOW * len(data) and len(stored) > 200 and len(stored) % 100
    assert [p for p, _ in parts] == list(range(len(stored) // 100 + 1))
    assert {len(c) for _, c in parts[:-1]} == {100} and len(parts[-1][1]) == len(stored) % 100
    assert pa.Codec("zstd").decompress(stored, decompressed_size=len(data), asbytes=True) == data
    with reader(loaded_db) as con:
        assert raw_files.content(con, sha) == data
        assert raw_files.content(con, "0" * 64) is None
    assert result.files[0].status == "accepte"


def test_a_file_that_does_not_compress_is_kept_as_it_came(tmp_path):
    """Parquet (compressed already) is kept as loaded, codec NULL; an empty file too."""
    import polars as pl

    data_path = tmp_path / "sites.parquet"
    pl.DataFrame({"x": list(range(2000))}).write_parquet(data_path, compression="zstd")
    for data in (data_path.read_bytes(), b""):
        assert raw_files._stored(data) == (data, None)
    text = b"site_id;annee\n" * 500
    stored, codec = raw_files._stored(text)
    assert codec == "zstd" and len(stored) < len(text) / 10


def test_an_older_warehouse_s_whole_files_move_into_parts(loaded_db):
    """Migration 6: the bytes an older warehouse kept whole in raw_files move into parts, unchanged
    (kept as they came: migration 7 marks them with no codec)."""
    from fsdash.warehouse.schema import SCHEMA_VERSION, set_meta

    with writer(loaded_db) as con:  # as fsdash wrote it before migration 6
        kept = {sha: raw_files.content(con, sha) for (sha,) in con.sql("SELECT sha256 FROM raw_files").fetchall()}
        con.sql("DROP TABLE raw_file_parts")
        con.sql("ALTER TABLE raw_files DROP COLUMN codec")
        for sha, data in kept.items():
            con.sql("UPDATE raw_files SET content = ? WHERE sha256 = ?", params=[data, sha])
        con.sql("DELETE FROM schema_migrations WHERE version >= 6")
        set_meta(con, "schema_version", "5")
    assert len(kept) >= 3 and all(kept.values())
    with writer(loaded_db) as con:
        assert {sha: raw_files.content(con, sha) for sha in kept} == kept
        assert con.sql("SELECT count(*) FROM raw_files WHERE content IS NOT NULL").fetchall() == [(0,)]
        assert con.sql("SELECT count(*) FROM raw_files WHERE codec IS NOT NULL").fetchall() == [(0,)]
        assert con.sql("SELECT count(DISTINCT sha256) FROM raw_file_parts").fetchall() == [(len(kept),)]
        assert con.sql("SELECT max(version) FROM schema_migrations").fetchall() == [(SCHEMA_VERSION,)]


def test_same_content_under_another_name_is_already_loaded(loaded_db, activite_csv):
    before = snapshot(loaded_db)
    result = ingest_files(loaded_db, [("copie de activite.csv", activite_csv.read_bytes())])
    assert result.files[0].status == "deja_charge"
    assert snapshot(loaded_db) == before


def test_same_values_in_a_different_file_create_no_revision(loaded_db):
    """Another encoding and separator: a new batch, but no site-quarter changed."""
    before = snapshot(loaded_db)
    data = csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS, encoding="cp1252", sep=",")
    result = ingest_files(loaded_db, [("activite-excel.csv", data)])
    assert result.files[0].status == "accepte"
    assert result.files[0].tables[0].revisions_created == 0
    after = snapshot(loaded_db)
    for table in ("activite", "demandes_detail", "revisions", "rollup", "sites"):
        assert after[table] == before[table], table
    assert len(after["batches"]) == len(before["batches"]) + 1


def test_reingesting_a_partially_rejected_file_adds_nothing(loaded_db):
    """Same bytes, same warehouse: no new revision, and rejected rows are not quarantined twice."""
    bad = copy.deepcopy(ACTIVITE_ROWS)
    bad[0][4] = "beaucoup"
    data = csv_bytes(ACTIVITE_HEADER, bad)
    first = ingest_files(loaded_db, [("activite-erreur.csv", data)])
    assert first.files[0].status == "partiel"
    before = snapshot(loaded_db)
    second = ingest_files(loaded_db, [("activite-erreur.csv", data)])
    assert sum(t.revisions_created for t in second.files[0].tables) == 0
    after = snapshot(loaded_db)
    assert after["revisions"] == before["revisions"]
    assert after["activite"] == before["activite"]
    assert after["quarantine"] == before["quarantine"]


# --- corrections and revisions -----------------------------------------------------------------


def corrected_activite() -> list[list]:
    corrected = copy.deepcopy(ACTIVITE_ROWS)
    corrected[0][4] = 1550  # FS001 2023 T4: 1 500 -> 1 550 requests; the other four unchanged
    return corrected


def test_correction_creates_revision_2_and_keeps_revision_1(loaded_db, tmp_path):
    path = write_csv(tmp_path / "activite-corrigee.csv", ACTIVITE_HEADER, corrected_activite())
    with writer(loaded_db) as con:
        result = ingest_paths(con, [path], today=dt.date(2024, 11, 27))
    assert result.exit_code == 0
    assert result.files[0].tables[0].revisions_created == 1

    assert rows(
        loaded_db,
        """SELECT revision, is_current, demandes FROM activite
                              WHERE site_id = 'FS001' AND periode = DATE '2023-10-01' ORDER BY revision""",
    ) == [(1, False, 1500), (2, True, 1550)]
    # identical site-quarters of the corrected file get no new revision
    assert rows(
        loaded_db,
        """SELECT site_id, periode, revision FROM activite
                              WHERE NOT (site_id = 'FS001' AND periode = DATE '2023-10-01') ORDER BY 1, 2""",
    ) == [
        ("FS001", dt.date(2024, 1, 1), 1),
        ("FS002", dt.date(2023, 10, 1), 1),
        ("FS002", dt.date(2024, 1, 1), 1),
        ("FS003", dt.date(2023, 10, 1), 1),
    ]
    assert rows(loaded_db, "SELECT count(*) FROM activite WHERE is_current") == [(5,)]
    batch = result.files[0].batch_id
    assert rows(
        loaded_db, "SELECT table_code, site_id, periode, revision, batch_id FROM revisions WHERE revision > 1"
    ) == [("activite", "FS001", dt.date(2023, 10, 1), 2, batch)]
    assert rows(loaded_db, "SELECT revisions_created FROM batches WHERE batch_id = ?", [batch]) == [(1,)]

    # a second correction: revision 3, revision 2 no longer current
    third = corrected_activite()
    third[0][4] = 1560
    ingest_files(loaded_db, [("activite-v3.csv", csv_bytes(ACTIVITE_HEADER, third))])
    assert rows(
        loaded_db,
        """SELECT revision, is_current, demandes FROM activite
                              WHERE site_id = 'FS001' AND periode = DATE '2023-10-01' ORDER BY revision""",
    ) == [(1, False, 1500), (2, False, 1550), (3, True, 1560)]


def test_correction_of_one_quarter_only_file(loaded_db):
    """A file holding just the corrected site-quarter leaves the others as they were."""
    only = [corrected_activite()[0]]
    result = ingest_files(loaded_db, [("fs001-t4.csv", csv_bytes(ACTIVITE_HEADER, only))])
    assert result.files[0].tables[0].revisions_created == 1
    assert rows(loaded_db, "SELECT count(*), sum(demandes) FROM activite WHERE is_current") == [
        (5, 1550 + 950 + 700 + 1600 + 1000)
    ]


CORRECTED_DETAIL = [
    ["FS001", 2023, 4, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 450],
    ["FS001", 2023, 4, "ANTS", "PAPIERS_IDENTITE", "SUR_SITE", "REPONDU_SUR_PLACE", 300],
    ["FS001", 2023, 4, "CNAM", "REMBOURSEMENT_SOINS", "SUR_SITE", "REPONDU_SUR_PLACE", 100],
    *DETAIL_ROWS[3:],  # FS002, FS003 and 2024 unchanged
]

_CURRENT_DETAIL = """SELECT d.periode, s.region, s.departement, s.format,
                             coalesce(s.porteur, 'NON_RENSEIGNE') AS porteur, d.partenaire, d.situation, d.canal,
                             d.issue, d.nb_demandes
                      FROM demandes_detail d JOIN sites s USING (site_id) WHERE d.is_current"""
#: The rollups computed straight from the current detail, written independently of the ingest code.
DIRECT_ROLLUP = (
    " UNION ALL ".join(
        f"""SELECT periode, region, departement, format, porteur, '{dim}', {dim}, issue, sum(nb_demandes)
        FROM ({_CURRENT_DETAIL}) GROUP BY ALL"""
        for dim in ("partenaire", "situation", "canal")
    )
    + " ORDER BY ALL"
)
DIRECT_NATIONAL = (
    " UNION ALL ".join(
        f"""SELECT periode, format, porteur, '{dim}', {dim}, issue, sum(nb_demandes)
        FROM ({_CURRENT_DETAIL}) GROUP BY ALL"""
        for dim in ("partenaire", "situation", "canal")
    )
    + " ORDER BY ALL"
)
DIRECT_PARTNER = f"""SELECT periode, region, departement, format, porteur, partenaire, sum(nb_demandes)
                     FROM ({_CURRENT_DETAIL}) GROUP BY ALL ORDER BY ALL"""


#: The rollups' key columns are ENUMs (sorted by their catalogue order): compared as text.
_AS_TEXT = "format::VARCHAR, porteur::VARCHAR, dimension::VARCHAR, code::VARCHAR, issue::VARCHAR, nb_demandes"


def assert_rollups_match_the_detail(db: Path) -> None:
    departmental = f"SELECT periode, region, departement, {_AS_TEXT} FROM agg_demandes_departement ORDER BY ALL"
    assert rows(db, departmental) == rows(db, DIRECT_ROLLUP)
    assert rows(db, f"SELECT periode, {_AS_TEXT} FROM agg_demandes_national ORDER BY ALL") == rows(db, DIRECT_NATIONAL)
    partners = """SELECT periode, region, departement, format::VARCHAR, porteur::VARCHAR, partenaire::VARCHAR,
                         nb_demandes FROM agg_demandes_departement_partenaire ORDER BY ALL"""
    assert rows(db, partners) == rows(db, DIRECT_PARTNER)


def test_requests_rollups_after_the_first_load(loaded_db):
    assert_rollups_match_the_detail(loaded_db)
    assert rows(loaded_db, "SELECT count(*) FROM agg_demandes_national") > [(0,)]


def test_requests_rollup_after_a_detail_correction(loaded_db):
    result = ingest_files(loaded_db, [("detail-corrige.csv", csv_bytes(DETAIL_HEADER, CORRECTED_DETAIL))])
    assert result.exit_code == 0, messages(result)
    assert result.files[0].tables[0].revisions_created == 1
    assert rows(
        loaded_db,
        "SELECT DISTINCT revision FROM demandes_detail WHERE is_current AND site_id = 'FS001' "
        "AND periode = DATE '2023-10-01'",
    ) == [(2,)]
    assert rows(loaded_db, "SELECT count(*) FROM demandes_detail WHERE NOT is_current") == [(3,)]

    assert_rollups_match_the_detail(loaded_db)
    # golden figures, by hand: département 01, 2023 T4
    q4 = dt.date(2023, 10, 1)
    assert rows(
        loaded_db,
        """SELECT code::VARCHAR, sum(nb_demandes) FROM agg_demandes_departement
           WHERE dimension = 'partenaire' AND departement = '01' AND periode = ? GROUP BY 1 ORDER BY 1""",
        [q4],
    ) == [("ANTS", 300), ("CNAF", 700), ("CNAM", 250)]
    for dimension in ("partenaire", "situation", "canal"):
        assert rows(
            loaded_db,
            "SELECT sum(nb_demandes) FROM agg_demandes_departement WHERE departement = '2A' AND dimension = ?",
            [dimension],
        ) == [(250,)]
    assert rows(
        loaded_db,
        """SELECT format::VARCHAR, porteur::VARCHAR, sum(nb_demandes) FROM agg_demandes_national
           WHERE dimension = 'canal' AND periode = ? GROUP BY ALL ORDER BY ALL""",
        [q4],
    ) == [("FIXE", "COMMUNE", 850), ("FIXE", "LA_POSTE", 250), ("MULTISITES", "EPCI", 400)]


def test_requests_rollup_follows_a_site_moving_departement(loaded_db):
    """Correcting a site's département in the registry must move its requests in the rollup."""
    moved = copy.deepcopy(SITES_ROWS)
    moved[2][2], moved[2][3] = "2B033", "2B"  # FS003 was mis-located: Bastia, Haute-Corse
    result = ingest_files(loaded_db, [("sites-corriges.csv", csv_bytes(SITES_HEADER, moved))])
    assert result.exit_code == 0
    assert rows(loaded_db, "SELECT departement, region FROM sites WHERE site_id = 'FS003'") == [("2B", "94")]
    assert_rollups_match_the_detail(loaded_db)
    assert rows(loaded_db, "SELECT count(*) FROM agg_demandes_departement WHERE departement = '2A'") == [(0,)]


@pytest.mark.parametrize(
    ("column", "value"),
    [(4, "BUS"), (6, "ASSOCIATION"), (6, None)],
    ids=["format", "porteur", "porteur-inconnu"],
)
def test_requests_rollups_follow_a_site_changing_format_or_carrier(loaded_db, column, value):
    """The filter bar's format and carrier read the rollups: a registry change must regroup the site."""
    changed = copy.deepcopy(SITES_ROWS)
    changed[0][column] = value  # FS001, département 01
    result = ingest_files(loaded_db, [("sites-corriges.csv", csv_bytes(SITES_HEADER, changed))])
    assert result.exit_code == 0, messages(result)
    assert_rollups_match_the_detail(loaded_db)
    expected = value or "NON_RENSEIGNE"
    assert rows(
        loaded_db,
        f"""SELECT DISTINCT {"format" if column == 4 else "porteur"}::VARCHAR FROM agg_demandes_national
            WHERE code = 'ANTS' AND periode = DATE '2023-10-01' AND format <> 'MULTISITES'
              AND porteur <> 'LA_POSTE'""",
    ) == [(expected,)]


def test_registry_change_outside_the_rollup_keys_leaves_the_rollups_alone(loaded_db, monkeypatch):
    """A new name or new hours change no rollup row: nothing is recomputed."""
    import fsdash.warehouse.ingest

    calls = []
    monkeypatch.setattr(fsdash.warehouse.ingest, "refresh_requests_rollup", lambda *a, **k: calls.append(a))
    renamed = copy.deepcopy(SITES_ROWS)
    renamed[0][1] = "France Services de Bourg-en-Bresse (centre)"
    result = ingest_files(loaded_db, [("sites-renommes.csv", csv_bytes(SITES_HEADER, renamed))])
    assert result.exit_code == 0 and calls == []


# --- nothing written on failure ----------------------------------------------------------------


def test_one_unreadable_file_among_several_refuses_everything(loaded_db, tmp_path):
    before_sha, before_counts = sha256_file(loaded_db), table_counts(loaded_db)
    good = write_csv(tmp_path / "activite-corrigee.csv", ACTIVITE_HEADER, corrected_activite())
    shapeless = tmp_path / "export.csv"
    shapeless.write_text("commune;population\nBourg-en-Bresse;41248\n", encoding="utf-8")
    with pytest.raises(IngestRefused) as err, writer(loaded_db) as con:
        ingest_paths(con, [good, shapeless], today=dt.date(2024, 11, 27))
    assert any(m.startswith("export.csv : colonnes manquantes") for m in err.value.messages)
    assert err.value.messages[-1] == "aucun fichier n'a été chargé."
    assert sha256_file(loaded_db) == before_sha
    assert table_counts(loaded_db) == before_counts
    assert leftovers(loaded_db) == []


def test_exception_during_load_leaves_the_served_file_unchanged(loaded_db, monkeypatch):
    import fsdash.warehouse.ingest

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(fsdash.warehouse.ingest, "refresh_requests_rollup", broken)
    before_sha, before_counts = sha256_file(loaded_db), table_counts(loaded_db)
    with pytest.raises(RuntimeError, match="disque plein"):
        ingest_files(loaded_db, [("detail-corrige.csv", csv_bytes(DETAIL_HEADER, CORRECTED_DETAIL))])
    assert sha256_file(loaded_db) == before_sha
    assert table_counts(loaded_db) == before_counts
    assert leftovers(loaded_db) == []


def test_a_load_on_the_staging_copy_commits_file_by_file_yet_stays_all_or_nothing(loaded_db, monkeypatch):
    """DuckDB holds every uncommitted row in memory: on a writer's copy a load commits after each file
    (a cursor, which sees only committed rows, sees the first file while the second loads), and a
    failure after those commits still leaves the served warehouse as it was."""
    import fsdash.warehouse.ingest
    from fsdash.warehouse.store import is_staging

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(fsdash.warehouse.ingest, "refresh_requests_rollup", broken)
    before_sha, before_counts = sha256_file(loaded_db), table_counts(loaded_db)
    seen = []
    with pytest.raises(RuntimeError, match="disque plein"), writer(loaded_db) as con:
        assert is_staging(con)

        def progress(message: str) -> None:
            if message.startswith("detail-corrige.csv") and "lignes lues" in message:
                seen.append(con.cursor().sql("SELECT max(revision) FROM activite").fetchall()[0][0])

        files = [
            ("activite-corrigee.csv", csv_bytes(ACTIVITE_HEADER, corrected_activite())),
            ("detail-corrige.csv", csv_bytes(DETAIL_HEADER, CORRECTED_DETAIL)),
        ]
        ingest_blobs(con, files, today=dt.date(2024, 11, 27), progress=progress)
    assert seen == [2]  # the corrected activity, committed on the copy before the detail was read
    assert not is_staging(con)
    assert sha256_file(loaded_db) == before_sha
    assert table_counts(loaded_db) == before_counts
    assert leftovers(loaded_db) == []


def test_a_report_file_on_the_staging_copy_commits_part_by_part(loaded_db, tmp_path, monkeypatch):
    """A quarter rejected whole writes two quarantine rows per line: on a writer's copy each part of
    a report file is committed once written (a cursor sees the earlier parts' rejections while the
    next part is validated), and the quarantine ends as with one part."""
    import shutil

    import fsdash.warehouse.ingest

    future = [[*row[:1], 2025, *row[2:]] for row in DETAIL_ROWS]  # every period after the load's today
    blob = csv_bytes(DETAIL_HEADER, future)
    kept = "SELECT line, column_name, value, rule, message, row_json FROM quarantine WHERE batch_id = ? ORDER BY ALL"
    whole = tmp_path / "en-une-partie.duckdb"
    shutil.copyfile(loaded_db, whole)
    with writer(whole) as con:
        batch = ingest_blobs(con, [("futur.csv", blob)], today=dt.date(2024, 11, 27)).files[0].batch_id
    expected = rows(whole, kept, [batch])
    assert {line for line, *_ in expected} == set(range(2, len(future) + 2))

    monkeypatch.setattr(fsdash.warehouse.ingest, "REPORT_PART_ROWS", 3)
    check, seen = fsdash.warehouse.ingest.check, []
    with writer(loaded_db) as con:
        before = con.sql("SELECT count(*) FROM quarantine").fetchall()[0][0]

        def counting(raw, *args, **kwargs):
            seen.append(con.cursor().sql("SELECT count(*) FROM quarantine").fetchall()[0][0] - before)
            return check(raw, *args, **kwargs)

        monkeypatch.setattr(fsdash.warehouse.ingest, "check", counting)
        batch = ingest_blobs(con, [("futur.csv", blob)], today=dt.date(2024, 11, 27)).files[0].batch_id
    assert len(seen) > 1 and seen[0] == 0 and seen == sorted(seen) and seen[-1] > 0
    assert rows(loaded_db, kept, [batch]) == expected


def test_a_load_on_the_staging_copy_commits_each_file_s_bytes_once_recorded(loaded_db, monkeypatch):
    """Each file's bytes are kept in raw_files at the end of the load: on a writer's copy each is
    committed once recorded (forty national quarters of CSV are 1,8 Go), the load still all or nothing."""
    import fsdash.warehouse.ingest

    record, seen = fsdash.warehouse.ingest._record_batch, []
    files = [
        ("activite-corrigee.csv", csv_bytes(ACTIVITE_HEADER, corrected_activite())),
        ("detail-corrige.csv", csv_bytes(DETAIL_HEADER, CORRECTED_DETAIL)),
    ]
    with writer(loaded_db) as con:
        before = con.sql("SELECT count(*) FROM raw_files").fetchall()[0][0]

        def counting(*args, **kwargs):
            seen.append(con.cursor().sql("SELECT count(*) FROM raw_files").fetchall()[0][0] - before)
            return record(*args, **kwargs)

        monkeypatch.setattr(fsdash.warehouse.ingest, "_record_batch", counting)
        ingest_blobs(con, files, today=dt.date(2024, 11, 27))
    assert seen == [0, 1]
    assert rows(loaded_db, "SELECT count(*) FROM raw_files") == [(before + 2,)]


def test_refused_first_load_creates_no_warehouse(db_path):
    with pytest.raises(IngestRefused):
        ingest_files(db_path, [("vide.csv", b"")])
    assert not db_path.exists()
    assert leftovers(db_path) == []


def test_ingest_is_one_transaction_on_a_plain_connection(tmp_path, sites_csv, activite_csv, monkeypatch):
    """Without writer(): an exception rolls back every table, including batches and raw_files."""
    import fsdash.warehouse.ingest
    from fsdash.catalogue import load_catalogue
    from fsdash.warehouse.schema import migrate

    con = duckdb.connect(str(tmp_path / "direct.duckdb"))
    migrate(con, load_catalogue())

    def broken(*args, **kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr(fsdash.warehouse.ingest, "_record_batch", broken)
    with pytest.raises(RuntimeError):
        ingest_blobs(
            con,
            [(sites_csv.name, sites_csv.read_bytes()), (activite_csv.name, activite_csv.read_bytes())],
            today=dt.date(2024, 11, 27),
        )
    for table in ("sites", "activite", "batches", "raw_files", "revisions", "site_history"):
        assert con.sql(f"SELECT count(*) FROM {table}").fetchall() == [(0,)], table
    assert con.sql("SELECT count(*) FROM meta WHERE key = 'nature'").fetchall() == [(0,)]
    con.close()


# --- quarantine and raw files ------------------------------------------------------------------


def test_rejected_rows_go_to_quarantine_and_raw_file_is_kept(loaded_db):
    bad = copy.deepcopy(ACTIVITE_ROWS)
    bad[3][10] = 5  # FS001 2024 T1 (line 5): 5 trained agents for 3 agents
    data = csv_bytes(ACTIVITE_HEADER, bad)
    result = ingest_files(loaded_db, [("activite-erreur.csv", data)])
    assert result.exit_code == 1
    outcome = result.files[0]
    assert outcome.status == "partiel"
    assert (outcome.tables[0].rows_read, outcome.tables[0].rows_accepted, outcome.tables[0].rows_rejected) == (5, 4, 1)
    assert messages(result) == [
        "activite-erreur.csv, ligne 5, colonne « agents_formes » : les agents formés (5) dépassent l'effectif "
        "d'accueil (3) [agents_formes_le_agents]"
    ]

    (q,) = rows(
        loaded_db, "SELECT batch_id, table_code, line, column_name, value, rule, message, row_json FROM quarantine"
    )
    assert q[:6] == (outcome.batch_id, "activite", 5, "agents_formes", "5", "agents_formes_le_agents")
    assert q[6] == "les agents formés (5) dépassent l'effectif d'accueil (3)"
    row_json = json.loads(q[7])
    assert row_json["site_id"] == "FS001" and row_json["annee"] == "2024" and row_json["trimestre"] == "1"
    assert row_json["agents_formes"] == "5" and row_json["agents_etp"] == "2,5"  # as typed by the site
    assert set(row_json) == set(ACTIVITE_HEADER)

    sha = hashlib.sha256(data).hexdigest()
    assert outcome.sha256 == sha
    assert rows(loaded_db, "SELECT file_name, size_bytes FROM raw_files WHERE sha256 = ?", [sha]) == [
        ("activite-erreur.csv", len(data))
    ]
    with reader(loaded_db) as con:
        assert raw_files.content(con, sha) == data
    assert rows(
        loaded_db,
        "SELECT status, rows_read, rows_accepted, rows_rejected FROM batches WHERE batch_id = ?",
        [outcome.batch_id],
    ) == [("partiel", 5, 4, 1)]
    # the rejected site-quarter keeps its earlier, valid revision
    assert rows(
        loaded_db,
        "SELECT agents_formes, revision FROM activite WHERE is_current AND site_id = 'FS001' "
        "AND periode = DATE '2024-01-01'",
    ) == [(3, 1)]


def test_fully_rejected_file(loaded_db):
    data = csv_bytes(
        DETAIL_HEADER, [["FS999", 2023, 4, "CNAF", "ALLOCATION_LOGEMENT", "SUR_SITE", "REPONDU_SUR_PLACE", 10]]
    )
    result = ingest_files(loaded_db, [("inconnu.csv", data)])
    assert result.files[0].status == "rejete"
    assert {r[0] for r in rows(loaded_db, "SELECT rule FROM quarantine")} == {"site_connu", "detail_le_total"}
    assert rows(loaded_db, "SELECT count(*) FROM raw_files WHERE sha256 = ?", [hashlib.sha256(data).hexdigest()]) == [
        (1,)
    ]


# --- natures -------------------------------------------------------------------------------------


def test_real_data_is_not_mixed_into_a_demo_warehouse(db_path, sites_csv, activite_csv):
    ingest_files(db_path, [(sites_csv.name, sites_csv.read_bytes())], nature="demo")
    before_sha = sha256_file(db_path)
    with pytest.raises(IngestRefused) as err:
        ingest_files(db_path, [(activite_csv.name, activite_csv.read_bytes())], nature="reel")
    assert "données de démonstration" in str(err.value) and "données réelles" in str(err.value)
    assert sha256_file(db_path) == before_sha
    assert rows(db_path, "SELECT value FROM meta WHERE key = 'nature'") == [("demo",)]


def test_demo_data_is_not_mixed_into_a_real_warehouse(loaded_db, activite_csv):
    with pytest.raises(IngestRefused, match="données réelles"):
        ingest_files(loaded_db, [("demo.csv", csv_bytes(ACTIVITE_HEADER, corrected_activite()))], nature="demo")


# --- command line --------------------------------------------------------------------------------


def _errors(stderr: str) -> list[str]:
    """The lines of standard error that are not progress lines (``[1,2 s] …``)."""
    return [line for line in stderr.splitlines() if not re.match(r"^\[\d+,\d s\] ", line)]


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONIOENCODING": "utf-8"}
    env.pop("FSDASH_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "fsdash", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_cli_ingest_exit_codes(db_path, input_files, tmp_path):
    ok = cli("ingest", "--db", str(db_path), *map(str, input_files))
    assert ok.returncode == 0, ok.stderr
    assert "sites.csv : chargé (lot 1)" in ok.stdout
    assert "table activite : 5 lignes lues, 5 acceptées, 0 rejetée" in ok.stdout
    assert "Traceback" not in ok.stderr

    bad = copy.deepcopy(ACTIVITE_ROWS)
    bad[1][3] = "huit cents"  # FS002 2023 T4, line 3
    bad_path = write_csv(tmp_path / "activite-erreur.csv", ACTIVITE_HEADER, bad)
    rejected = cli("ingest", "--db", str(db_path), str(bad_path))
    assert rejected.returncode == 1, rejected.stderr
    assert (
        "activite-erreur.csv, ligne 3, colonne « usagers_accueillis » : valeur « huit cents » illisible : "
        "nombre entier attendu [format]"
    ) in rejected.stderr
    assert "Lignes rejetées : 1 ; elles sont conservées dans la table quarantine" in rejected.stderr
    assert "Traceback" not in rejected.stderr

    before = sha256_file(db_path)
    shapeless = tmp_path / "export.csv"
    shapeless.write_text(
        "site_id;annee;trimestre;usagers_accueillis;demandes;agents_accueil\nFS001;2024;2;1300;1600;3\n",
        encoding="utf-8",
    )
    refused = cli("ingest", "--db", str(db_path), str(input_files[1]), str(shapeless))
    assert refused.returncode == 2
    # progress lines (« [0,1 s] … ») come first on standard error, then the refusal
    assert _errors(refused.stderr)[0].startswith("erreur : export.csv : colonnes manquantes pour la table « activite »")
    assert ": agents_etp, heures_ouverture_hebdo, jours_ouverture_hebdo\n" in refused.stderr
    assert "erreur : aucun fichier n'a été chargé." in refused.stderr
    assert sha256_file(db_path) == before

    missing = cli("ingest", "--db", str(db_path), str(tmp_path / "absent.csv"))
    assert missing.returncode == 2
    assert "fichier illisible" in missing.stderr
    assert sha256_file(db_path) == before


def test_cli_refuses_real_data_in_demo_warehouse(db_path, sites_csv, activite_csv):
    ingest_files(db_path, [(sites_csv.name, sites_csv.read_bytes())], nature="demo")
    before = sha256_file(db_path)
    result = cli("ingest", "--db", str(db_path), str(activite_csv))
    assert result.returncode == 2
    assert _errors(result.stderr)[0].startswith("erreur : l'entrepôt contient des données de démonstration")
    assert sha256_file(db_path) == before


def test_cli_out_of_range_quarter_is_a_rejection_not_a_crash(loaded_db, tmp_path):
    bad = copy.deepcopy(ACTIVITE_ROWS)
    bad[4][2] = 5  # "trimestre 5", line 6
    path = write_csv(tmp_path / "activite-t5.csv", ACTIVITE_HEADER, bad)
    result = cli("ingest", "--db", str(loaded_db), str(path))
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 1
    assert "ligne 6, colonne « trimestre »" in result.stderr and "[plage]" in result.stderr


def test_cli_summary_json_golden_figures(loaded_db):
    result = cli("summary", "--db", str(loaded_db), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["demo"] is False
    assert summary["sites_total"] == 4
    # FS001 labelled 15/11/2019, FS002 01/06/2021 (closed 30/06/2024), FS003 01/01/2022, FS004 01/10/2024
    expected_labelled = {"2020-01-01": 1, "2020-12-31": 1, "2021-12-31": 2, "2022-12-31": 3, "2023-12-31": 3}
    expected_labelled |= {f"{y}-12-31": 3 for y in range(2024, dt.date.today().year)}
    assert summary["sites_labelled_at"] == expected_labelled
    assert summary["quarters"] == {"first": "2023-10-01", "last": "2024-01-01", "count": 2}
    assert summary["requests_by_year"] == {"2023": 1500 + 950 + 700, "2024": 1600 + 1000}
    # 2023 detail: CNAF 400+250, ANTS 300+100, DGFIP 200+150, CNAM 150 — out of 1 550
    assert summary["requests_by_partner_2023"] == {"CNAF": 0.4194, "ANTS": 0.2581, "DGFIP": 0.2258, "CNAM": 0.0968}
    assert list(summary["requests_by_partner_2023"]) == ["CNAF", "ANTS", "DGFIP", "CNAM"]
    # 2024 T1: FS001, FS002 and FS003 expected (FS004 not yet labelled), FS003 did not report
    assert summary["reporting_completeness_last_quarter"] == {
        "quarter": "2024-01-01",
        "expected": 3,
        "reported": 2,
        "rate": 0.6667,
    }
    for key in (
        "sites_total",
        "sites_labelled_at",
        "quarters",
        "requests_by_year",
        "requests_by_partner_2023",
        "reporting_completeness_last_quarter",
        "demo",
    ):
        assert key in summary


def test_cli_summary_on_missing_warehouse(tmp_path):
    result = cli("summary", "--db", str(tmp_path / "absent.duckdb"), "--json")
    assert result.returncode == 2
    assert result.stderr.startswith("erreur : entrepôt introuvable")


def test_quarter_headline_on_the_small_warehouse(loaded_db):
    """Golden figures of tests/conftest.py: 2024 T1 = 1 600 + 1 000 requests; no 2023 T1 to compare."""
    import datetime as dt

    from fsdash.metrics.activity import quarter_headline
    from fsdash.metrics.scope import NATIONAL
    from fsdash.warehouse.store import reader

    with reader(loaded_db) as con:
        q1 = quarter_headline(con, NATIONAL, dt.date(2024, 1, 1))
        q4 = quarter_headline(con, NATIONAL, dt.date(2023, 10, 1))
    assert q1 == {"demandes": 2600, "usagers": 2200, "demandes_an_passe": None, "evolution": None}
    assert q4["demandes"] == 3150 and q4["usagers"] == 2600


def test_a_failure_of_the_engine_is_said_in_french_with_its_own_exit_code(loaded_db, activite_csv, monkeypatch, capsys):
    """Not the files' fault (here DuckDB's fatal checkpoint error, as a ten-year CSV backfill kept
    whole once met): exit 3, a French sentence, nothing published — not a traceback and code 1, the
    code of a load with rejected rows."""
    import fsdash.warehouse.ingest
    from fsdash import cli

    def fatal(*args, **kwargs):
        raise duckdb.FatalException("FATAL Error: failed to pin block of size 42.3 MiB\nPossible solutions: …")

    monkeypatch.setattr(fsdash.warehouse.ingest, "refresh_requests_rollup", fatal)
    before = sha256_file(loaded_db)
    detail = loaded_db.parent / "detail-corrige.csv"
    detail.write_bytes(csv_bytes(DETAIL_HEADER, CORRECTED_DETAIL))
    assert cli.main(["ingest", "--db", str(loaded_db), str(detail)]) == cli.EXIT_FAILED == 3
    err = capsys.readouterr().err.splitlines()
    assert err[-2] == (
        "erreur interne : la commande a échoué sans que les fichiers soient en cause ; rien n'a été publié, "
        "l'entrepôt servi est inchangé."
    )
    assert err[-1] == "  détail technique : FatalException : FATAL Error: failed to pin block of size 42.3 MiB"
    assert sha256_file(loaded_db) == before
    assert leftovers(loaded_db) == []
