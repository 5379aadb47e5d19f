"""What no load and no query can go under on this machine: the benchmark's floors.

DuckDB's bulk insert of a detail file alone (:func:`bare_insert`): the benchmark
(:func:`fsdash.bench.ingest.floor`) sets it beside the measured load — the rows read by DuckDB itself
from the Parquet file and inserted into the warehouse's table, with none of what a load adds (reading
in Polars, validation, revisions, rollups, the file kept), committed and checkpointed on a fresh file
with the writer's memory limit. And a query that reads nothing (:func:`empty_query`), set beside the
page queries and their pandas baseline (:mod:`fsdash.bench.baseline`).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import polars as pl

from fsdash.catalogue import load_catalogue
from fsdash.warehouse.schema import table_ddl
from fsdash.warehouse.store import WRITER_MEMORY


def bare_insert(detail: Path, db: Path) -> tuple[float, int]:
    """Seconds to insert ``detail`` (a Parquet file of ``demandes_detail``) into a new warehouse table
    at ``db`` and checkpoint it, and the rows inserted."""
    table = load_catalogue().tables["demandes_detail"]
    cols = ", ".join(c.code for c in table.columns)
    source = str(detail).replace("'", "''")
    con = duckdb.connect(str(db), config={"memory_limit": WRITER_MEMORY})
    try:
        con.sql(table_ddl(table))
        start = time.perf_counter()
        con.sql(
            f"""INSERT INTO {table.code} ({cols}, periode, revision, batch_id, is_current)
                SELECT {cols}, make_date(annee::INTEGER, 3 * trimestre::INTEGER - 2, 1), 1, 1, true
                FROM read_parquet('{source}')"""
        )
        con.sql("CHECKPOINT")
        seconds = time.perf_counter() - start
        return seconds, con.sql(f"SELECT count(*) FROM {table.code}").fetchall()[0][0]
    finally:
        con.close()


def empty_query(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``SELECT 1`` into a Polars frame: what every page query pays at least to go through DuckDB
    into Polars on the reader ``con``, whatever it reads."""
    return con.sql("SELECT 1 AS un").pl()
