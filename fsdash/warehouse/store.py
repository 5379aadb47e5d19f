"""Opening the warehouse: many readers, one writer, and no reader ever blocked by a load.

DuckDB allows one read-write process *or* many read-only processes on a file. The dashboard
must keep serving while a quarter loads, so a load never writes the served file: it copies it,
writes the copy, and atomically renames the copy over the original once everything has been
committed and checkpointed. Readers open short-lived read-only connections and see either the
old or the new file, never a half-written one; a failed load leaves the served file untouched
(the "no partial write" rule). A lock file serialises writers. The file's identity
(inode, mtime, size) is the warehouse *version* used in every cache key.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from fsdash.catalogue import load_catalogue
from fsdash.warehouse.schema import is_up_to_date, migrate

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DB = REPO_ROOT / "data" / "fsdash.duckdb"


class WarehouseMissing(Exception):
    """Raised when a reader asks for a warehouse file that does not exist."""


def default_db_path() -> Path:
    """``FSDASH_DB`` when set, else ``data/fsdash.duckdb`` in the repository."""
    env = os.environ.get("FSDASH_DB")
    return Path(env) if env else DEFAULT_DB


def version(path: Path) -> tuple[int, int, int]:
    """Changes whenever a load publishes a new file: put it in cache keys."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def connect_reader(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise WarehouseMissing(
            f"entrepôt introuvable : {path} (créez-le avec « python -m fsdash demo » "
            "ou chargez des données avec « python -m fsdash ingest »)"
        )
    return duckdb.connect(str(path), read_only=True)


@contextlib.contextmanager
def reader(path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_reader(path or default_db_path())
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def _write_lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def writer(path: Path | None = None, *, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a private copy, published only if the block succeeds.

    ``fresh`` starts from an empty warehouse instead of a copy (rebuilding the demo).
    """
    path = path or default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock(path):
        staging = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        staging.unlink(missing_ok=True)
        if path.exists() and not fresh:
            shutil.copyfile(path, staging)
        con = duckdb.connect(str(staging))
        published = False
        try:
            migrate(con, load_catalogue())
            yield con
            con.sql("CHECKPOINT")
            con.close()
            with open(staging, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(staging, path)
            published = True
        finally:
            if not published:
                con.close()
                staging.unlink(missing_ok=True)
                staging.with_name(staging.name + ".wal").unlink(missing_ok=True)


def ensure_current(path: Path) -> bool:
    """Migrate a warehouse written by an older fsdash before serving it; True if it was migrated.

    Readers open files read-only and cannot migrate them: without this, a dashboard started on
    a warehouse from before a catalogue change would fail on the new columns.
    """
    if not path.exists():
        return False
    con = connect_reader(path)
    try:
        current = is_up_to_date(con, load_catalogue())
    finally:
        con.close()
    if current:
        return False
    with writer(path):
        pass
    return True
