"""Fresh figures after a load: a reader reads exactly the version its cache key names.

Each load here writes a distinct value (its number) into the warehouse, and the test knows which
version each load published. Every answer a reader gives, and every answer the cache keeps, is
checked against that mapping: an answer cached under version V must have been read from the file
of version V. Also: what a killed load leaves behind is removed at the next start, never the
staging copy of a load still running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from fsdash import cache
from fsdash.warehouse import store
from fsdash.warehouse.store import (
    close_readers,
    current_reader,
    ensure_current,
    remove_leftovers,
    version,
    writer,
)

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8


@pytest.fixture(autouse=True)
def empty_pool():
    close_readers()
    yield
    close_readers()


def _load(db: Path, n: int) -> store.Version:
    """A load that leaves ``n`` as the warehouse's only value; the version it published."""
    with writer(db) as con:
        con.sql("CREATE OR REPLACE TABLE t AS SELECT ?::INTEGER AS load", params=[n])
    return version(db)


@cache.cached(maxsize=64)
def _which_load(source) -> int:
    """A versioned query: the number of the load whose file the connection reads."""
    return source.sql("SELECT load FROM t").fetchall()[0][0]


def _leftover_names(db: Path) -> list[str]:
    published = os.readlink(db) if db.is_symlink() else None
    return sorted(
        p.name
        for p in db.parent.iterdir()
        if p.name.startswith(db.name + ".") and p.name != published and not p.name.endswith(".lock")
    )


def test_no_answer_cached_under_a_version_holds_another_versions_data(tmp_path):
    db = tmp_path / "w.duckdb"
    published = {_load(db, 0): 0}
    _which_load.cache_clear()
    loads = 12
    stop = threading.Event()
    started = threading.Barrier(THREADS + 1)

    def work(_: int) -> list[tuple[store.Version, int]]:
        seen = []
        started.wait()
        while not stop.is_set() or len(seen) < 20:
            source = current_reader(db)
            seen.append((source.version, _which_load(source)))
        return seen

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(work, k) for k in range(THREADS)]
        started.wait()
        for n in range(1, loads + 1):
            published[_load(db, n)] = n
        stop.set()
        seen = [pair for f in futures for pair in f.result()]

    assert len(published) == loads + 1  # every load published a version of its own
    assert {v for v, _ in seen} <= set(published)
    wrong = [(v, got) for v, got in seen if published[v] != got]
    assert wrong == []
    cached = {key[0][1]: value for key, value in _which_load._data.items()}
    assert cached and all(published[v] == value for v, value in cached.items())
    assert _which_load(current_reader(db)) == loads


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_load_publishing_while_a_reader_opens_never_mislabels_it(tmp_path, monkeypatch, when):
    """The race made certain: a load publishes just before, or just after, the reader's attach."""
    db = tmp_path / "w.duckdb"
    published = {_load(db, 1): 1}
    attach = store.connect_reader
    fired = []

    def racing(path):
        if not fired:
            fired.append(True)
            if when == "before":
                published[_load(db, 2)] = 2
                return attach(path)
            con = attach(path)
            published[_load(db, 2)] = 2
            return con
        return attach(path)

    monkeypatch.setattr(store, "connect_reader", racing)
    opened = store.Reader(db)
    assert fired
    assert published[opened.version] == opened.sql("SELECT load FROM t").fetchall()[0][0]
    monkeypatch.setattr(store, "connect_reader", attach)
    assert _which_load(current_reader(db)) == 2


def test_a_plain_file_is_versioned_then_replaced_by_the_published_link(tmp_path):
    """A warehouse from before the versioned files: read by stat, replaced by the first load."""
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.sql("CREATE TABLE t AS SELECT 1::INTEGER AS load")
    old = current_reader(db)
    assert old.version[0] == "stat" and _which_load(old) == 1
    _load(db, 2)
    assert db.is_symlink() and os.readlink(db).startswith("w.duckdb.v-")
    new = current_reader(db)
    assert new.version == ("v", os.readlink(db)) and _which_load(new) == 2
    assert _which_load(old) == 1
    with duckdb.connect(str(db), read_only=True) as plain:  # the link is read like a file
        assert plain.sql("SELECT load FROM t").fetchall() == [(2,)]
    _load(db, 3)
    assert _leftover_names(db) == []  # the previous version file is gone once replaced


_KILLED = """
import os, signal, sys
from pathlib import Path
from fsdash.warehouse.store import writer
with writer(Path(sys.argv[1])) as con:
    con.sql("CREATE OR REPLACE TABLE t AS SELECT 99::INTEGER AS load")
    con.sql("CHECKPOINT")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_load(db: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _KILLED, str(db)], cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()


def test_a_killed_load_leaves_its_copy_which_the_next_load_removes(tmp_path):
    db = tmp_path / "w.duckdb"
    _load(db, 1)
    _killed_load(db)
    assert any(".tmp-" in name for name in _leftover_names(db))
    with duckdb.connect(str(db), read_only=True) as plain:  # the killed load published nothing
        assert plain.sql("SELECT load FROM t").fetchall() == [(1,)]
    _load(db, 2)
    assert _leftover_names(db) == []
    assert _which_load(current_reader(db)) == 2


def test_the_server_start_removes_what_a_killed_load_left(tmp_path):
    db = tmp_path / "w.duckdb"
    _load(db, 1)
    _killed_load(db)
    # an unpublished version file too (a load killed between its rename and the link's switch)
    stray = tmp_path / "w.duckdb.v-0-dead"
    stray.write_bytes(b"")
    left = _leftover_names(db)
    assert stray.name in left and len(left) >= 2
    ensure_current(db)  # what « python -m fsdash serve » calls first
    assert _leftover_names(db) == []
    assert _which_load(current_reader(db)) == 1


def test_the_copy_of_a_load_still_running_is_never_removed(tmp_path):
    db = tmp_path / "w.duckdb"
    _load(db, 1)
    inside, release = threading.Event(), threading.Event()

    def running_load() -> None:
        with writer(db) as con:
            con.sql("CREATE OR REPLACE TABLE t AS SELECT 2::INTEGER AS load")
            inside.set()
            release.wait(60)

    loader = threading.Thread(target=running_load)
    loader.start()
    try:
        assert inside.wait(60)
        staging = [name for name in _leftover_names(db) if ".tmp-" in name]
        assert staging
        assert remove_leftovers(db) == []
        ensure_current(db)
        assert all((tmp_path / name).exists() for name in staging)
    finally:
        release.set()
        loader.join()
    assert _which_load(current_reader(db)) == 2
    assert _leftover_names(db) == []
