"""The dashboard keeps serving while a load runs, and a failed load publishes nothing."""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from fsdash.catalogue import load_catalogue
from fsdash.warehouse.schema import MIGRATIONS, SCHEMA_VERSION, set_meta
from fsdash.warehouse.store import WarehouseMissing, connect_reader, reader, version, writer


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_readers_see_the_old_file_while_a_load_runs(tmp_path):
    db = tmp_path / "w.duckdb"
    with writer(db) as con:
        con.sql("CREATE TABLE t AS SELECT 1 AS x")
    before = version(db)
    with writer(db) as con:
        con.sql("INSERT INTO t VALUES (2)")
        # a reader process opens the served file during the load: allowed, and sees the old data
        probe = connect_reader(db)
        assert probe.sql("SELECT count(*) FROM t").fetchall() == [(1,)]
        probe.close()
    with duckdb.connect(str(db), read_only=True) as probe:
        assert probe.sql("SELECT count(*) FROM t").fetchall() == [(2,)]
    assert version(db) != before


def test_a_new_reader_sees_a_load_even_while_an_old_one_is_open(tmp_path):
    """DuckDB's Python module shares one instance per path: an open reader must not pin the old file."""
    db = tmp_path / "w.duckdb"
    with writer(db) as con:
        con.sql("CREATE TABLE t AS SELECT 1 AS x")
    old = connect_reader(db)
    try:
        with writer(db) as con:
            con.sql("INSERT INTO t VALUES (2)")
        with reader(db) as fresh:
            assert fresh.sql("SELECT count(*) FROM t").fetchall() == [(2,)]
        assert old.sql("SELECT count(*) FROM t").fetchall() == [(1,)]
    finally:
        old.close()


def test_failed_load_leaves_the_served_file_untouched(tmp_path):
    db = tmp_path / "w.duckdb"
    with writer(db) as con:
        con.sql("CREATE TABLE t AS SELECT 1 AS x")
    digest = _digest(db)
    with pytest.raises(RuntimeError), writer(db) as con:
        con.sql("INSERT INTO t VALUES (2)")
        raise RuntimeError("boom")
    assert _digest(db) == digest
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_reader_on_missing_warehouse_says_how_to_build_it(tmp_path):
    with pytest.raises(WarehouseMissing, match="python -m fsdash demo"):
        connect_reader(tmp_path / "absent.duckdb")


def test_new_warehouse_is_migrated_and_versioned(tmp_path):
    db = tmp_path / "w.duckdb"
    with writer(db):
        pass
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [(str(SCHEMA_VERSION),)]
        assert con.sql("SELECT count(*) FROM schema_migrations").fetchall()[0][0] >= 1
        tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"sites", "activite", "demandes_detail", "batches", "raw_files", "quarantine", "revisions"} <= tables


def test_catalogue_column_added_later_is_migrated(tmp_path):
    """An indicator added to the catalogue becomes a new column of an existing warehouse."""
    import dataclasses

    from fsdash.catalogue import Column, load_catalogue
    from fsdash.warehouse.schema import migrate

    db = tmp_path / "w.duckdb"
    with writer(db):
        pass
    catalogue = load_catalogue()
    table = catalogue.table("activite")
    extra = Column(code="rdv_partenaires", label="x", type="int")
    grown = dataclasses.replace(
        catalogue, tables={**catalogue.tables, "activite": dataclasses.replace(table, columns=(*table.columns, extra))}
    )
    with duckdb.connect(str(db)) as con:
        migrate(con, grown)
        cols = {
            r[0]
            for r in con.sql(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'activite'"
            ).fetchall()
        }
        log = con.sql("SELECT description FROM schema_migrations").fetchall()
    assert "rdv_partenaires" in cols
    assert any("activite.rdv_partenaires" in d for (d,) in log)


def test_old_warehouse_is_migrated_forward(tmp_path):
    """A warehouse written by schema version 1 opens with today's code and gains what v2 added."""
    db = tmp_path / "v1.duckdb"
    with duckdb.connect(str(db)) as con:
        con.sql("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        MIGRATIONS[0][2](con, load_catalogue())
        set_meta(con, "schema_version", "1")
        con.sql("INSERT INTO sites (site_id, nom) VALUES ('S1', 'ancien site')")
    with writer(db):
        pass
    with duckdb.connect(str(db), read_only=True) as con:
        cols = {
            r[0]
            for r in con.sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'sites'").fetchall()
        }
        versions = [r[0] for r in con.sql("SELECT version FROM schema_migrations ORDER BY version").fetchall()]
        kept = con.sql("SELECT nom FROM sites").fetchall()
    assert "source" in cols and versions[-1] == SCHEMA_VERSION
    assert kept == [("ancien site",)]


def test_serving_an_old_warehouse_migrates_it_first(tmp_path):
    from fsdash.warehouse.schema import is_up_to_date
    from fsdash.warehouse.store import ensure_current

    db = tmp_path / "v1.duckdb"
    with duckdb.connect(str(db)) as con:
        con.sql("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        MIGRATIONS[0][2](con, load_catalogue())
        set_meta(con, "schema_version", "1")
    with duckdb.connect(str(db), read_only=True) as con:
        assert not is_up_to_date(con, load_catalogue())
    assert ensure_current(db) is True
    assert ensure_current(db) is False  # nothing left to do: no copy on every start
    with duckdb.connect(str(db), read_only=True) as con:
        assert is_up_to_date(con, load_catalogue())


def test_the_writer_s_duckdb_memory_is_bounded_below_the_readers(tmp_path, monkeypatch):
    """A load's blocks are written once: DuckDB caches them up to its limit, which is why the writer's
    is lower than a reader's (a ten-year backfill stays under 1 Go in all); the environment sets it."""
    import duckdb

    from fsdash.warehouse import store

    def limit(value: str) -> str:
        return (
            duckdb.connect(config={"memory_limit": value})
            .sql("SELECT current_setting('memory_limit')")
            .fetchall()[0][0]
        )

    monkeypatch.delenv("FSDASH_DUCKDB_WRITER_MEMORY", raising=False)
    with store.writer(tmp_path / "w.duckdb") as con:
        assert con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0] == limit(store.WRITER_MEMORY)
    assert limit(store.WRITER_MEMORY) != limit("512MB")
    monkeypatch.setenv("FSDASH_DUCKDB_WRITER_MEMORY", "300MB")
    with store.writer(tmp_path / "w.duckdb") as con:
        assert con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0] == limit("300MB")
