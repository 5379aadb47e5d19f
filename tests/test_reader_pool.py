"""One shared read-only connection per published warehouse version, a cursor per thread.

The dashboard answers from many threads at once and a load may publish at any moment: the
pooled Reader must always read the file published now (never a stale DuckDB instance), give
right answers under concurrency, keep answering through a load, and behave like a plain
connection for the metric functions.
"""

from __future__ import annotations

import datetime as dt
import gc
import inspect
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from fsdash import cache
from fsdash.metrics import activity, funding, network
from fsdash.metrics.scope import Scope
from fsdash.warehouse.store import (
    Reader,
    WarehouseMissing,
    close_readers,
    current_reader,
    reader,
    version,
    writer,
)

THREADS = 8


@pytest.fixture(autouse=True)
def empty_pool():
    close_readers()
    yield
    close_readers()


def _publish_rows(db: Path, rows: int) -> None:
    """A load that leaves ``t`` with ``rows`` rows, numbered 1..rows."""
    with writer(db) as con:
        con.sql("CREATE OR REPLACE TABLE t AS SELECT range + 1 AS x FROM range(?)", params=[rows])


def _count(source) -> int:
    return source.sql("SELECT count(*) FROM t").fetchall()[0][0]


def _open_files(path: Path) -> list[str]:
    """What this process holds open under ``path`` (Linux), ``(deleted)`` for a replaced file."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with_target = f"/proc/self/fd/{fd}"
        try:
            target = os.readlink(with_target)
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    _publish_rows(db, 1)
    return db


def test_a_load_is_seen_despite_an_open_reader(small_db):
    """The stale-instance trap: a connection to the same path must not pin the old file."""
    with reader(small_db) as still_open:
        first = current_reader(small_db)
        assert _count(first) == 1
        _publish_rows(small_db, 2)
        second = current_reader(small_db)
        assert second is not first
        assert second.version == version(small_db)
        assert second.cache_key != first.cache_key
        assert _count(second) == 2
        assert _count(first) == 1  # the old version still answers, consistently
        assert _count(still_open) == 1


def test_the_same_version_gives_the_same_reader(small_db):
    one = current_reader(small_db)
    assert current_reader(small_db) is one
    assert one.path == small_db and one.cache_key == (str(small_db), version(small_db))
    hash(one.cache_key)


def test_many_threads_asking_together_open_one_reader(small_db):
    barrier = threading.Barrier(THREADS)

    def ask(_: int) -> Reader:
        barrier.wait()
        return current_reader(small_db)

    with ThreadPoolExecutor(THREADS) as pool:
        got = list(pool.map(ask, range(THREADS)))
    assert len({id(r) for r in got}) == 1


def test_threads_querying_one_reader_get_right_answers(tmp_path):
    db = tmp_path / "w.duckdb"
    _publish_rows(db, 1000)
    shared = current_reader(db)

    def work(k: int) -> list[tuple[int, int]]:
        answers = []
        for i in range(60):
            limit = (k * 60 + i) % 1000 + 1
            rows = shared.sql("SELECT count(*), sum(x) FROM t WHERE x <= ?", params=[limit]).fetchall()
            frame = shared.sql("SELECT x FROM t WHERE x <= ? ORDER BY x", params=[limit]).pl()
            assert frame["x"].to_list() == list(range(1, limit + 1))
            answers.append((rows[0], (limit, limit * (limit + 1) // 2)))
        return answers

    with ThreadPoolExecutor(THREADS) as pool:
        results = [a for answers in pool.map(work, range(THREADS)) for a in answers]
    assert len(results) == THREADS * 60
    assert all(got == expected for got, expected in results)


def test_a_load_while_threads_query_breaks_no_query(small_db):
    """Readers keep answering through three loads; each thread only ever moves forward."""
    loads = 3
    stop = threading.Event()
    started = threading.Barrier(THREADS + 1)

    def work(_: int) -> list[int]:
        seen = []
        started.wait()
        while not stop.is_set() or len(seen) < 50:
            source = current_reader(small_db)
            count = _count(source)
            rows = source.sql("SELECT x FROM t ORDER BY x").fetchall()
            assert rows == [(i,) for i in range(1, count + 1)]  # one consistent version per query
            seen.append(count)
        return seen

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(work, k) for k in range(THREADS)]
        started.wait()
        for n in range(2, loads + 2):
            _publish_rows(small_db, n)
        stop.set()
        seen = [f.result() for f in futures]  # re-raises any failed query
    for counts in seen:
        assert counts == sorted(counts)
        assert set(counts) <= set(range(1, loads + 2))
    assert _count(current_reader(small_db)) == loads + 1


def test_a_retired_version_is_closed_when_its_last_user_lets_go(small_db):
    old = current_reader(small_db)
    _count(old)
    with ThreadPoolExecutor(2) as pool:  # an idle worker thread keeps its cursor on ``old``
        assert pool.submit(_count, old).result() == 1
        _publish_rows(small_db, 2)
        assert _count(current_reader(small_db)) == 2
        assert any(t.endswith("(deleted)") for t in _open_files(small_db))
        # a query still holding the old version finishes on it
        assert _count(old) == 1
        gone = weakref.ref(old)
        del old
        gc.collect()
        assert gone() is None
        assert not any(t.endswith("(deleted)") for t in _open_files(small_db))


def test_register_is_private_to_each_thread(small_db):
    shared = current_reader(small_db)
    barrier = threading.Barrier(THREADS)

    def work(k: int) -> list[tuple[int]]:
        shared.register("_mine", pl.DataFrame({"v": [k] * (k + 1)}))
        barrier.wait()  # every thread has registered its own ``_mine``
        try:
            return shared.sql("SELECT count(*), min(v) FROM _mine").fetchall()
        finally:
            shared.unregister("_mine")

    with ThreadPoolExecutor(THREADS) as pool:
        got = list(pool.map(work, range(THREADS)))
    assert got == [[(k + 1, k)] for k in range(THREADS)]


def test_information_schema_and_unqualified_names_see_the_warehouse(loaded_db):
    shared = current_reader(loaded_db)
    with duckdb.connect(str(loaded_db), read_only=True) as plain:
        expected = plain.sql("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()
    got = shared.sql("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()
    assert got == expected
    assert shared.sql("SELECT count(*) FROM sites").fetchall() == [(4,)]


@pytest.mark.parametrize(
    "metric, kwargs",
    [
        (activity.quarters, {}),
        (activity.activity_by_quarter, {}),
        (activity.requests_by_partner, {"year": 2023}),
        (network.sites_labelled_at, {"dates": (dt.date(2020, 1, 1), dt.date(2023, 12, 31), dt.date(2024, 11, 1))}),
        (network.sites_total, {"scope": Scope("departement", "2A")}),
        (funding.funding_rates, {}),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_metric_answers_on_a_reader_as_on_a_plain_connection(loaded_db, metric, kwargs):
    """Run uncached from four threads at once (a cached metric would compute only once), then cached."""
    raw = inspect.unwrap(metric)
    with duckdb.connect(str(loaded_db), read_only=True) as plain:
        expected = raw(plain, **kwargs)
    shared = current_reader(loaded_db)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: raw(shared, **kwargs), range(4)))
    answers.append(metric(shared, **kwargs))
    for got in answers:
        if isinstance(expected, pl.DataFrame):
            assert_frame_equal(got, expected)
        else:
            assert got == expected


def test_the_known_figures_through_the_reader(loaded_db):
    shared = current_reader(loaded_db)
    assert list(activity.quarters(shared)) == [dt.date(2023, 10, 1), dt.date(2024, 1, 1)]
    by_quarter = activity.activity_by_quarter(shared)
    assert by_quarter["demandes"].to_list() == [3150, 2600]


def test_cached_answers_follow_the_published_version(small_db):
    @cache.cached(maxsize=4)
    def rows(source) -> int:
        return _count(source)

    assert rows(current_reader(small_db)) == 1
    assert rows(current_reader(small_db)) == 1 and rows.hits == 1
    _publish_rows(small_db, 5)
    assert rows(current_reader(small_db)) == 5


def test_missing_warehouse_says_how_to_build_it(tmp_path):
    with pytest.raises(WarehouseMissing, match="python -m fsdash demo"):
        current_reader(tmp_path / "absent.duckdb")


def test_a_removed_warehouse_is_reported_missing(small_db):
    current_reader(small_db)
    small_db.unlink()
    with pytest.raises(WarehouseMissing, match="entrepôt introuvable"):
        current_reader(small_db)


def test_default_path_comes_from_the_environment(small_db, monkeypatch):
    monkeypatch.setenv("FSDASH_DB", str(small_db))
    assert current_reader().path == small_db
    assert current_reader() is current_reader(small_db)


def test_close_readers_closes_everything(small_db):
    shared = current_reader(small_db)
    _count(shared)
    close_readers()
    assert shared.closed
    with pytest.raises(duckdb.ConnectionException):
        _count(shared)
    assert _open_files(small_db) == []
    fresh = current_reader(small_db)
    assert fresh is not shared and _count(fresh) == 1
