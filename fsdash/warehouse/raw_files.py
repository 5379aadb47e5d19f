"""The bytes of every file loaded, kept in the warehouse by their SHA-256, in parts.

Nothing a user loaded is lost: each file is kept as it came (``raw_files`` holds its name and size,
``raw_file_parts`` its bytes). The bytes are cut into parts of :data:`PART_BYTES` rather than
stored as one value: at each checkpoint DuckDB rewrites a table's last row group and must then
pin every value of it in memory. Kept whole, forty national quarters of CSV (45 Mo each) failed
the checkpoint of a ten-year backfill under the writer's 512 Mo (« failed to pin block », a fatal
error that invalidates the connection); in parts the same bytes checkpoint within the limit and
compress about 13 to 1. Warehouses written before keep their old files' bytes in
``raw_files.content`` until migration 6 moves them (:func:`move_legacy_content`).

A file whose bytes compress well (CSV, JSON: text) is kept as one Zstandard frame (``raw_files.codec``
= ``zstd``, migration 7), cut into parts the same way: a national quarter of French CSV (45 Mo) is then
4 Mo to write instead of 45 Mo through DuckDB's log and checkpoint, a quarter of the time the ten-year
CSV backfill spent keeping its files. Parquet and Excel files, compressed already, are kept as they
came (``codec`` NULL, as every file kept before migration 7). Either way :func:`content` gives back
the bytes as loaded, and the parts of a ``zstd`` file are a standard frame any ``zstd -d`` reads.
"""

from __future__ import annotations

import mmap

import duckdb
import polars as pl

#: Bytes per part: well under DuckDB's 256 KiB block (measured: 16 KiB parts store 40 national CSV
#: quarters in 12 s and 141 Mo with a peak of 786 Mo; 200 000-byte parts took 17 s and 1 014 Mo).
PART_BYTES = 16_384

#: The codec of files kept compressed, its level (the fastest: a CSV quarter in 0,05 s, 11 to 1), and
#: the share of its size a file must come down to for its compressed bytes to be kept.
CODEC, CODEC_LEVEL, KEEP_COMPRESSED_BELOW = "zstd", 1, 0.9

#: How files compressed already begin: Parquet, and the zip of an Excel workbook (kept as they came
#: without trying: nothing to gain, and a Parquet load then never imports pyarrow).
_COMPRESSED_ALREADY = (b"PAR1", b"PK\x03\x04")

PARTS_DDL = "CREATE TABLE IF NOT EXISTS raw_file_parts (sha256 VARCHAR NOT NULL, part INTEGER NOT NULL, content BLOB)"


def _parts(data: bytes | mmap.mmap) -> pl.DataFrame:
    starts = range(0, len(data), PART_BYTES)
    return pl.DataFrame(
        {"part": list(range(len(starts))), "content": [data[s : s + PART_BYTES] for s in starts]},
        schema={"part": pl.Int32, "content": pl.Binary},
    )


def _write_parts(con: duckdb.DuckDBPyConnection, sha256: str, data: bytes | mmap.mmap) -> None:
    con.register("_raw_file_parts", _parts(data))
    con.sql("INSERT INTO raw_file_parts SELECT ?, part, content FROM _raw_file_parts", params=[sha256])
    con.unregister("_raw_file_parts")


def _codec(name: str, level: int | None = None):
    """pyarrow's codec ``name``, pyarrow imported on demand: every process that opens a warehouse
    imports this module, and a Parquet load never needs it."""
    import pyarrow as pa

    return pa.Codec(name, level)


def _stored(data: bytes | mmap.mmap) -> tuple[bytes | mmap.mmap, str | None]:
    """The bytes to keep for ``data`` and their codec (None: ``data`` itself, which did not compress)."""
    if not data or data[:4].startswith(_COMPRESSED_ALREADY):
        return data, None
    packed = _codec(CODEC, CODEC_LEVEL).compress(data, asbytes=True)
    return (packed, CODEC) if len(packed) < KEEP_COMPRESSED_BELOW * len(data) else (data, None)


def keep(con: duckdb.DuckDBPyConnection, sha256: str, file_name: str, data: bytes | mmap.mmap) -> None:
    """Keep a file's bytes, once per content (the same bytes loaded again under another name are
    already kept); ``data`` may be a file mapped in memory (:func:`fsdash.warehouse.ingest`'s files
    on disk), which is not copied whole."""
    if con.sql("SELECT count(*) FROM raw_files WHERE sha256 = ?", params=[sha256]).fetchall()[0][0]:
        return
    stored, codec = _stored(data)
    con.sql(
        "INSERT INTO raw_files (sha256, file_name, size_bytes, content, codec) VALUES (?, ?, ?, NULL, ?)",
        params=[sha256, file_name, len(data), codec],
    )
    _write_parts(con, sha256, stored)


def content(con: duckdb.DuckDBPyConnection, sha256: str) -> bytes | None:
    """The bytes of the file kept under ``sha256``, as they were loaded; None if none is (read from
    the parts: every writer, and the server when it starts, applies migrations 6 and 7 first)."""
    kept = con.sql("SELECT size_bytes, codec FROM raw_files WHERE sha256 = ?", params=[sha256]).fetchall()
    if not kept:
        return None
    size, codec = kept[0]
    parts = con.sql("SELECT content FROM raw_file_parts WHERE sha256 = ? ORDER BY part", params=[sha256]).fetchall()
    stored = b"".join(part for (part,) in parts)
    return _codec(codec).decompress(stored, decompressed_size=size, asbytes=True) if codec else stored


def move_legacy_content(con: duckdb.DuckDBPyConnection) -> None:
    """Move the bytes kept whole by older warehouses into parts, one file at a time."""
    con.sql(PARTS_DDL)
    legacy = con.sql("SELECT sha256 FROM raw_files WHERE content IS NOT NULL ORDER BY sha256").fetchall()
    for (sha256,) in legacy:
        data = con.sql("SELECT content FROM raw_files WHERE sha256 = ?", params=[sha256]).fetchall()[0][0]
        _write_parts(con, sha256, data)
    con.sql("UPDATE raw_files SET content = NULL WHERE content IS NOT NULL")
