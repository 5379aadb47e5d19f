"""Opening the warehouse: many readers, one writer, and no reader ever blocked by a load.

DuckDB allows one read-write process *or* many read-only processes on a file. The dashboard
must keep serving while a quarter loads, so a load never writes the served file: it copies it
to a private staging file (``<name>.tmp-<pid>``), writes the copy, and once everything has been
committed and checkpointed publishes it. A failed load publishes nothing and leaves the served
file untouched (the "no partial write" rule). A lock file serialises writers.

Publishing: the checkpointed copy is renamed to an **immutable file named by its version**
(``<name>.v-<time>-<random>``, never written again, never reused), then the served path — a
symbolic link ``<name> -> <name>.v-…`` — is switched to it atomically (a new link renamed over
the old one), and the previous version file is unlinked (processes still reading it keep its
inode until they let go). Every reader, in this process or in another replica, follows the
link: a plain ``duckdb.connect(path)`` reads one whole version, old or new.

Version: the link's target name. A reader takes the version first (one ``readlink``) and then
attaches *that version file*, not the link: since the file of a version never changes, the
connection reads exactly the version its cache key names, by construction; if a later load has
already removed it, the attach fails and the reader takes the version again. (Attaching through
``/proc/self/fd/N`` of a descriptor opened first does not give this guarantee: DuckDB resolves
the path with ``realpath`` and opens the file again *by name*, measured with strace on 2.0.) A
regular file at the served path (a warehouse from before this scheme, or one written by hand)
is versioned by (inode, mtime, size), stat'ed before and after the attach; the first load
replaces it by the link.

Leftovers: a load killed before publishing leaves its staging copy (and maybe an unpublished
version file). Whoever holds the writers' lock is the only live writer of that warehouse, so
every ``<name>.tmp-*`` file and every version file the link does not name is a dead writer's:
the next writer removes them under the lock, and the server does at its start when no load
holds the lock (:func:`remove_leftovers`).

Reading: opening a connection costs 20–50 ms on the real warehouse, more than a whole answer
may take, so the dashboard keeps **one read-only connection per published version**
(:class:`Reader`, obtained from :func:`current_reader`) and gives each thread its own cursor on
it. Every connection is a fresh in-memory database that ``ATTACH``es the file: DuckDB's Python
module caches database instances by path, and ``duckdb.connect(path)`` while another connection
to that path is open returns the *same* instance, still reading the file a load has since
replaced — stale figures under the new version's cache key.

Retiring an old version: when a load publishes, :func:`current_reader` opens a Reader on the
new file and the pool forgets the old one, without closing it. The old Reader is closed by
Python's reference counting when the last query holding it ends (a metric function keeps its
``con`` for the duration of its call; a relation keeps its cursor), so a query that started on
the old version always finishes on it, however many loads follow, and the replaced file's
space is released as soon as nobody reads it. A fixed window ("close versions two behind")
would break a slow query caught by two quick loads, and an explicit reference count would ask
every caller to release what it took. :func:`close_readers` closes everything at once, for
tests and cold benchmark runs only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from fsdash.catalogue import load_catalogue
from fsdash.warehouse.schema import is_up_to_date, migrate

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DB = REPO_ROOT / "data" / "fsdash.duckdb"

#: The catalog name the warehouse file is attached under in every reading connection.
ALIAS = "wh"

#: ``("v", target name)`` for a published version file, ``("stat", inode, mtime, size)`` for a plain file.
Version = tuple[str | int, ...]

#: Infix of the immutable version files (``<name>.v-…``) and of the private staging files.
VERSION_INFIX = ".v-"
STAGING_INFIX = ".tmp-"


class WarehouseMissing(Exception):
    """Raised when a reader asks for a warehouse file that does not exist."""


def _missing(path: Path) -> WarehouseMissing:
    return WarehouseMissing(
        f"entrepôt introuvable : {path} (créez-le avec « python -m fsdash demo » "
        "ou chargez des données avec « python -m fsdash ingest »)"
    )


def default_db_path() -> Path:
    """``FSDASH_DB`` when set, else ``data/fsdash.duckdb`` in the repository."""
    env = os.environ.get("FSDASH_DB")
    return Path(env) if env else DEFAULT_DB


def _published_target(path: Path) -> str | None:
    """The version file the served link names, or None when ``path`` is not such a link.

    Raises ``FileNotFoundError`` when nothing is at ``path``.
    """
    try:
        target = os.readlink(path)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        return None  # a regular file
    if os.sep in target or not target.startswith(path.name + VERSION_INFIX):
        return None  # a link made by someone else (a deployment's switch): versioned by stat
    return target


def _stat_version(path: Path) -> Version:
    st = path.stat()
    return "stat", st.st_ino, st.st_mtime_ns, st.st_size


def version(path: Path) -> Version:
    """Changes whenever a load publishes a new file: put it in cache keys (module docstring)."""
    target = _published_target(path)
    return ("v", target) if target is not None else _stat_version(path)


#: The writer's DuckDB memory when ``FSDASH_DUCKDB_WRITER_MEMORY`` is unset. A load writes blocks once
#: and seldom reads them back, yet DuckDB keeps them cached up to its limit: at 512 Mo a ten-year
#: backfill peaked at 1 008-1 073 Mo in all (DuckDB's cache beside one file's rows in Polars); at
#: 384 Mo it peaks at 944-984 Mo in as little time (256 Mo: 800-900 Mo, but up to a fifth slower).
WRITER_MEMORY = "384MB"


def _memory_config(variable: str, default: str = "512MB") -> dict[str, str]:
    """DuckDB's ``memory_limit`` from the environment ``variable`` (``default`` when unset): readers
    (``FSDASH_DUCKDB_MEMORY``, 512 Mo) and the writer (``FSDASH_DUCKDB_WRITER_MEMORY``,
    :data:`WRITER_MEMORY`) are bounded alike; beyond the limit DuckDB evicts cached blocks, then
    spills to its temporary directory."""
    return {"memory_limit": os.environ.get(variable, "").strip() or default}


def connect_reader(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the file published *now* (see the module docstring on ATTACH).

    The file is attached as catalog ``wh`` and made the default, so unqualified table names
    and ``information_schema`` queries behave as on a plain connection to the file.

    Memory: DuckDB's default limit is 80 % of the machine's RAM *per database instance*, and the
    dashboard holds one instance per published version (two while a load is being picked up, more
    when several replicas share a host). Left alone, a reader's buffer pool keeps every block it
    ever read, up to that limit. ``FSDASH_DUCKDB_MEMORY`` bounds each reader (``512MB`` when
    unset: the pages' largest queries on ten years of national detail need far less, and beyond
    the limit DuckDB evicts cached blocks first, then spills to its temporary directory rather
    than fail). ``FSDASH_DUCKDB_THREADS`` sets its worker threads (DuckDB's default, one per core,
    when unset): replicas sharing a host may want fewer each.
    """
    if not path.exists():
        raise _missing(path)
    config = _memory_config("FSDASH_DUCKDB_MEMORY")
    threads = os.environ.get("FSDASH_DUCKDB_THREADS", "").strip()
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    try:
        con.sql(f"ATTACH ? AS {ALIAS} (READ_ONLY)", params=[str(path)])
        con.sql(f"USE {ALIAS}")
    except duckdb.IOException as exc:
        con.close()
        if not path.exists():  # removed between the check and the attach
            raise _missing(path) from exc
        raise
    except BaseException:
        con.close()
        raise
    return con


@contextlib.contextmanager
def reader(path: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection, for the command line and tests (no pooling)."""
    con = connect_reader(path or default_db_path())
    try:
        yield con
    finally:
        con.close()


class Reader:
    """One read-only connection on one published version of one warehouse file.

    Shared by every thread of the dashboard; each thread queries through its own cursor (a
    DuckDB connection is not meant for concurrent use, a cursor is cheap), so ``register`` of
    one thread never shows in, or collides with, another's. ``cache_key`` names the version
    the connection really reads, for :mod:`fsdash.cache`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._con, self.version = self._open(path)
        self.cache_key: tuple[str, Version] = (str(path), self.version)
        self._local = threading.local()
        self._cursor_lock = threading.Lock()
        self.closed = False

    @staticmethod
    def _open(path: Path, attempts: int = 5) -> tuple[duckdb.DuckDBPyConnection, Version]:
        """Attach the file of one version and name it (module docstring).

        A published version: read the link once, attach the immutable file it names. A plain
        file: stat before and after the attach; equal stats prove the attached file is the one
        named. Either way a load publishing meanwhile costs one more attempt, never a mislabel.
        """
        for _ in range(attempts):
            try:
                target = _published_target(path)
            except FileNotFoundError:
                raise _missing(path) from None
            if target is not None:
                try:
                    return connect_reader(path.with_name(target)), ("v", target)
                except WarehouseMissing:
                    continue  # removed by a later load: take the version again
            try:
                before = _stat_version(path)
            except FileNotFoundError:
                raise _missing(path) from None
            con = connect_reader(path)
            try:
                after = version(path)
            except FileNotFoundError:
                con.close()
                raise _missing(path) from None
            if before == after:
                return con, after
            con.close()
        raise RuntimeError(f"entrepôt {path} remplacé pendant chaque ouverture ({attempts} essais)")

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._cursor_lock:  # cursor() registers itself in the parent: not concurrently
                cursor = self._con.cursor()
            cursor.sql(f"USE {ALIAS}")  # a cursor starts on the in-memory catalog
            self._local.cursor = cursor
        return cursor

    def sql(self, query: str, params: Any = None) -> duckdb.DuckDBPyRelation | None:
        """``DuckDBPyConnection.sql`` on the calling thread's cursor (bind values as ``params``)."""
        return self._cursor().sql(query, params=params)

    def register(self, name: str, frame: Any) -> None:
        """Make a Polars frame queryable as ``name``, for the calling thread only."""
        self._cursor().register(name, frame)

    def unregister(self, name: str) -> None:
        self._cursor().unregister(name)

    def close(self) -> None:
        """Close the connection and every thread's cursor: queries still running will fail."""
        self.closed = True
        self._con.close()

    def __repr__(self) -> str:
        state = "fermé" if self.closed else "ouvert"
        return f"Reader({str(self.path)!r}, version={self.version}, {state})"


_pool: dict[Path, Reader] = {}
_pool_lock = threading.Lock()


def _pool_key(path: Path | None) -> Path:
    # Absolute, not resolved: a served path may be a symlink that a deployment switches.
    return Path(os.path.abspath(path or default_db_path()))


def current_reader(path: Path | None = None) -> Reader:
    """The shared Reader of the version published now (``FSDASH_DB`` or the default file).

    A stat per call (microseconds) notices a new load at once. A new version is opened once,
    under a lock, however many threads ask together; the one it replaces is retired as the
    module docstring explains.
    """
    key = _pool_key(path)
    try:
        now = version(key)
    except FileNotFoundError:
        with _pool_lock:
            _pool.pop(key, None)
        raise _missing(key) from None
    found = _pool.get(key)
    if found is not None and not found.closed and found.version == now:
        return found
    with _pool_lock:
        found = _pool.get(key)
        if found is not None and not found.closed:
            # another thread may have opened a newer version while this one waited: stat again
            try:
                if found.version == version(key):
                    return found
            except FileNotFoundError:
                _pool.pop(key, None)
                raise _missing(key) from None
        try:
            opened = Reader(key)
        except WarehouseMissing:
            _pool.pop(key, None)
            raise
        _pool[key] = opened
        return opened


def close_readers() -> None:
    """Close every pooled Reader (tests, cold benchmark runs): queries running on them fail."""
    with _pool_lock:
        readers = list(_pool.values())
        _pool.clear()
    for opened in readers:
        opened.close()


@contextlib.contextmanager
def _write_lock(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the writers' lock of ``path``; with ``wait=False`` yield False at once if a writer holds it."""
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _leftovers(path: Path) -> list[Path]:
    """Staging files, and version files the served link does not name (call under the lock)."""
    if not path.parent.is_dir():
        return []
    try:
        current = _published_target(path)
    except FileNotFoundError:
        current = None
    keep = {current, f"{current}.wal"}
    staging, versions = path.name + STAGING_INFIX, path.name + VERSION_INFIX
    return sorted(
        entry
        for entry in path.parent.iterdir()
        if entry.name.startswith(staging) or (entry.name.startswith(versions) and entry.name not in keep)
    )


def _remove(paths: list[Path]) -> list[Path]:
    removed = []
    for leftover in paths:
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed.append(leftover)
    return removed


def remove_leftovers(path: Path | None = None) -> list[Path]:
    """Remove what killed loads left next to ``path`` (module docstring); the paths removed.

    Never waits: while a load holds the writers' lock nothing is touched (its staging copy is
    alive), and that load's own start has already cleaned up.
    """
    path = path or default_db_path()
    if not path.parent.is_dir():
        return []
    with _write_lock(path, wait=False) as held:
        return _remove(_leftovers(path)) if held else []


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(staging: Path, path: Path) -> None:
    """Make the checkpointed ``staging`` the served version (module docstring)."""
    previous = None
    with contextlib.suppress(FileNotFoundError):
        previous = _published_target(path)
    name = f"{path.name}{VERSION_INFIX}{time.time_ns():x}-{secrets.token_hex(4)}"
    os.replace(staging, path.with_name(name))
    link = path.with_name(f"{path.name}{STAGING_INFIX}{os.getpid()}.lien")
    link.unlink(missing_ok=True)
    os.symlink(name, link)
    os.replace(link, path)  # atomic: readers see the old link or the new one
    _fsync_dir(path.parent)
    if previous is not None:
        path.with_name(previous).unlink(missing_ok=True)


#: Connections (by ``id``) on a staging copy that :func:`writer` has open: what a load commits there
#: stays private, and the copy is thrown away unless the whole block succeeds (:func:`is_staging`).
_staging: set[int] = set()


def is_staging(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` writes to a staging copy opened by :func:`writer`.

    A load on such a copy may commit as it goes: readers never see the copy before it is published,
    and it is deleted if the block fails, so a load stays all or nothing. DuckDB keeps every row a
    transaction inserted in memory until it commits, whatever its ``memory_limit`` (about 90 Mo per
    national quarter of detail): a ten-year backfill in one transaction peaked at 4,4 Go.
    """
    return id(con) in _staging


@contextlib.contextmanager
def writer(path: Path | None = None, *, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection on a private copy, published only if the block succeeds.

    ``fresh`` starts from an empty warehouse instead of a copy (rebuilding the demo).
    """
    path = path or default_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock(path):
        _remove(_leftovers(path))  # the lock is ours: every staging file is a dead writer's
        staging = path.with_name(f"{path.name}{STAGING_INFIX}{os.getpid()}")
        if path.exists() and not fresh:
            shutil.copyfile(path, staging)
        # no English progress bar on the user's terminal (progress is reported in French by the caller)
        con = duckdb.connect(str(staging), config=_memory_config("FSDASH_DUCKDB_WRITER_MEMORY", WRITER_MEMORY))
        con.sql("SET enable_progress_bar = false")
        published = False
        _staging.add(id(con))
        try:
            migrate(con, load_catalogue())
            yield con
            con.sql("CHECKPOINT")
            con.close()
            with open(staging, "rb+") as fh:
                os.fsync(fh.fileno())
            _publish(staging, path)
            published = True
        finally:
            _staging.discard(id(con))
            if not published:
                con.close()
                staging.unlink(missing_ok=True)
                staging.with_name(staging.name + ".wal").unlink(missing_ok=True)


def ensure_current(path: Path) -> bool:
    """Migrate a warehouse written by an older fsdash before serving it; True if it was migrated.

    Readers open files read-only and cannot migrate them: without this, a dashboard started on
    a warehouse from before a catalogue change would fail on the new columns. Called when the
    server starts, it first removes what killed loads left (:func:`remove_leftovers`).
    """
    remove_leftovers(path)
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
