"""Issue 10 — a file on disk is copied into memory once per load, not three times.

A national quarter of French CSV is 45 Mo. It was read whole to hash it and peek at its header,
read again for its rows (then copied without its control characters, then decoded into a text of
its own), and read a third time to keep its bytes: each copy costs its pages afresh, 11 000 page
faults, and the ten-year CSV backfill spent twice the system time of the Parquet one. Now the hash
is computed block by block, the header is peeked at in the first bytes, a clean UTF-8 file is checked
chunk by chunk and read as it is, and the bytes are kept from the file mapped in memory. These tests
prove the result is the same as before: same frames, same refusals, same warehouse.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest
from test_ingest import snapshot

from fsdash import readers
from fsdash.catalogue import load_catalogue
from fsdash.readers import ReadError, read_csv
from fsdash.warehouse import raw_files
from fsdash.warehouse.ingest import ingest_blobs, ingest_paths
from fsdash.warehouse.store import reader, writer

from conftest import (
    ACTIVITE_HEADER,
    ACTIVITE_ROWS,
    DETAIL_HEADER,
    DETAIL_ROWS,
    SITES_HEADER,
    SITES_ROWS,
    TODAY,
    csv_bytes,
)

CATALOGUE = load_catalogue()


def _as_before(data: bytes, monkeypatch: pytest.MonkeyPatch) -> readers.CsvText:
    """What :func:`read_csv` gave before the clean-UTF-8 path: every file through ``_decode``."""
    with monkeypatch.context() as patch:
        patch.setattr(readers, "_clean_utf8", lambda _data: False)
        return read_csv(data, "x.csv")


def _big_csv(cell: str, rows: int = 20_000) -> bytes:
    """A CSV of several chunks (:data:`fsdash.readers.CHUNK_BYTES`) whose every row holds ``cell``."""
    body = "".join(f"S{i:05d};{cell};{i}\n" for i in range(rows))
    return ("\ufeffsite_id;nom;valeur\n" + body).encode("utf-8")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_big_csv("Élancourt"), id="accents-across-chunks"),
        pytest.param(_big_csv("Saint-Étienne \u202f€") + b"S99999;a\x01b;1\n", id="control-after-first-chunk"),
        pytest.param(_big_csv("Chambéry").replace(b"\xc3\xa9", b"\xe9"), id="windows-1252"),
        pytest.param(_big_csv("plain")[3:], id="ascii-without-bom"),
        pytest.param(_big_csv("ok", rows=300) + b"S99998;x\x7fy;2\n", id="small-with-delete"),
    ],
)
def test_a_csv_reads_the_same_through_the_clean_utf8_path(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(data) > readers.CHUNK_BYTES or b"\x7f" in data
    read, before = read_csv(data, "x.csv"), _as_before(data, monkeypatch)
    assert (read.encoding, read.separator) == (before.encoding, before.separator)
    assert read.frame.equals(before.frame)
    assert not read.frame["nom"].str.contains_any(readers._CONTROL_CHARS).any()


def test_a_file_of_control_characters_is_refused_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _big_csv("x\x7fy", rows=10)
    with pytest.raises(ReadError) as before:
        _as_before(data, monkeypatch)
    with pytest.raises(ReadError) as now:
        read_csv(data, "x.csv")
    assert str(now.value) == str(before.value) and "caractères de contrôle" in str(now.value)


def test_a_character_cut_by_a_chunk_boundary_is_still_utf8() -> None:
    """A two-byte « é » whose first byte ends a chunk: the incremental decoder joins it to the next."""
    data = b"a" * (readers.CHUNK_BYTES - 1) + "é\n".encode()
    assert data[readers.CHUNK_BYTES - 1 : readers.CHUNK_BYTES] == b"\xc3"
    assert readers._clean_utf8(data)
    assert not readers._clean_utf8(data[: readers.CHUNK_BYTES])  # the character cut off for good
    assert not readers._clean_utf8(data + b"\x1b")


def test_a_long_file_of_blank_text_is_still_said_empty() -> None:
    """Only its head is decoded on the clean path: when that head is blank, the whole text is looked at."""
    blank = ("\u00a0 \n" * (readers.HEADER_CHARS // 2)).encode("utf-8")
    assert len(blank) > readers.HEADER_CHARS and readers._clean_utf8(blank)
    with pytest.raises(ReadError, match="fichier vide"):
        read_csv(blank, "vide.csv")
    with pytest.raises(ReadError, match="fichier vide"):
        read_csv(blank.replace(b"\xc2\xa0", b" "), "vide.csv")


def _files(folder: Path) -> list[Path]:
    """The fixtures' three files, the detail with a header longer than what is peeked at (ignored
    columns), and a file of its header only: every way a file on disk is peeked, read and kept."""
    folder.mkdir(parents=True, exist_ok=True)
    wide = [f"commentaire_{'x' * 60}_{i}" for i in range(readers.PEEK_BYTES // 60)]
    detail = [[*("" for _ in wide), *row] for row in DETAIL_ROWS]  # the table's columns after the head
    contents = {
        "sites.csv": csv_bytes(SITES_HEADER, SITES_ROWS),
        "activite.csv": csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS),
        "detail.csv": csv_bytes(wide + DETAIL_HEADER, detail),
        "vide.csv": csv_bytes(DETAIL_HEADER, []),
    }
    assert len(contents["detail.csv"].split(b"\n", 1)[0]) > readers.PEEK_BYTES
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in contents]


def test_files_on_disk_load_as_their_bytes_do(tmp_path: Path) -> None:
    files = _files(tmp_path / "fichiers")
    on_disk, in_memory = tmp_path / "disque" / "fsdash.duckdb", tmp_path / "memoire" / "fsdash.duckdb"
    with writer(on_disk) as con:
        from_disk = ingest_paths(con, files, today=TODAY)
    with writer(in_memory) as con:
        from_bytes = ingest_blobs(con, [(f.name, f.read_bytes()) for f in files], today=TODAY)
    assert [(f.file_name, f.sha256, f.status) for f in from_disk.files] == [
        (f.file_name, f.sha256, f.status) for f in from_bytes.files
    ]
    assert [f.sha256 for f in from_disk.files] == [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    assert [f.status for f in from_disk.files] == ["accepte", "accepte", "accepte", "vide"]
    assert snapshot(on_disk) == snapshot(in_memory)
    with reader(on_disk) as con:
        for path in files[:3]:
            assert raw_files.content(con, hashlib.sha256(path.read_bytes()).hexdigest()) == path.read_bytes()
        assert con.sql("SELECT count(*) FROM demandes_detail").fetchall()[0][0] == len(DETAIL_ROWS)


def test_an_empty_file_on_disk_gives_no_bytes_to_keep(tmp_path: Path) -> None:
    """A file emptied after it was peeked at cannot be mapped: nothing is kept of it, no failure."""
    from fsdash.warehouse.ingest import FileOutcome, _PendingFile

    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    item = _PendingFile(path.name, path, "", [], FileOutcome(path.name, "", "accepte"))
    with item.kept_bytes() as data:
        assert data == b""
    assert item.digest() == hashlib.sha256(b"").hexdigest() and item.head() == b""


def test_a_parquet_file_on_disk_is_kept_byte_for_byte(tmp_path: Path) -> None:
    """Compressed already, it is kept as it came: from the mapped file, part by part."""
    files = _files(tmp_path / "fichiers")[:2]
    parquet = tmp_path / "fichiers" / "detail.parquet"
    pl.DataFrame(dict(zip(DETAIL_HEADER, zip(*DETAIL_ROWS, strict=True), strict=True))).write_parquet(parquet)
    db = tmp_path / "fsdash.duckdb"
    with writer(db) as con:
        result = ingest_paths(con, [*files, parquet], today=TODAY)
    assert [f.status for f in result.files] == ["accepte"] * 3
    sha = hashlib.sha256(parquet.read_bytes()).hexdigest()
    with reader(db) as con:
        assert raw_files.content(con, sha) == parquet.read_bytes()
        assert con.sql("SELECT codec FROM raw_files WHERE sha256 = ?", params=[sha]).fetchall() == [(None,)]


@pytest.mark.parametrize("when", ["avant la lecture des lignes", "avant la conservation des octets"])
def test_a_file_changed_during_the_load_is_refused_and_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """A file is hashed when it is checked, its rows read and its bytes kept later: one written to
    meanwhile (a copy still arriving, an edit saved) would be recorded under a SHA-256 that is not
    what the warehouse holds. The load is refused, the file named, and the warehouse left as it was."""
    from fsdash.warehouse import ingest

    files = _files(tmp_path / "fichiers")[:3]
    changed = files[1]  # activite.csv
    db = tmp_path / "fsdash.duckdb"
    with writer(db) as con:
        ingest_paths(con, files[:1], today=TODAY)  # the registry: a warehouse to leave untouched
    before = snapshot(db)
    rows_of = ingest._PendingFile.rows_of

    def edited_meanwhile(self, raw, catalogue):
        if self.source == changed and when == "avant la lecture des lignes":
            changed.write_bytes(changed.read_bytes() + b"\n")
        read = rows_of(self, raw, catalogue)
        if self.source == changed and when == "avant la conservation des octets":
            changed.write_bytes(changed.read_bytes() + b"\n")
        return read

    monkeypatch.setattr(ingest._PendingFile, "rows_of", edited_meanwhile)
    with pytest.raises(ingest.IngestRefused) as refused, writer(db) as con:
        ingest_paths(con, files, today=TODAY)
    assert refused.value.messages == [
        f"{changed} : fichier modifié ou remplacé pendant le chargement (depuis son contrôle) ; "
        "relancez le chargement une fois le fichier complet.",
        "aucun fichier n'a été chargé.",
    ]
    assert snapshot(db) == before
    monkeypatch.setattr(ingest._PendingFile, "rows_of", rows_of)  # unchanged since: it loads
    with writer(db) as con:
        assert [f.status for f in ingest_paths(con, files, today=TODAY).files] == ["deja_charge", "accepte", "accepte"]
