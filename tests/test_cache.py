"""The read-side memory: keyed by warehouse version and arguments, bounded, computed once under concurrency."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from fsdash import cache


@dataclass(frozen=True)
class Source:
    """Stands for a Reader: its cache key is the warehouse version."""

    cache_key: tuple


calls: list[tuple] = []


@cache.cached(maxsize=3)
def square(source, x: int, *, plus: int = 0) -> int:
    calls.append((source, x, plus))
    return x * x + plus


@pytest.fixture(autouse=True)
def fresh():
    calls.clear()
    square.cache_clear()


def test_same_version_and_arguments_compute_once():
    v1 = Source(("db", 1))
    assert square(v1, 3) == 9 and square(v1, 3) == 9
    assert len(calls) == 1 and square.hits == 1 and square.misses == 1


def test_a_new_version_or_other_arguments_compute_again():
    square(Source(("db", 1)), 3)
    square(Source(("db", 2)), 3)
    square(Source(("db", 2)), 3, plus=1)
    assert len(calls) == 3


def test_a_plain_connection_is_never_cached():
    square(object(), 2)
    square(object(), 2)
    assert len(calls) == 2 and len(square) == 0


def test_the_table_is_bounded_least_recently_used_first():
    v = Source(("db", 1))
    for x in (1, 2, 3):
        square(v, x)
    square(v, 1)  # 1 is now the most recent
    square(v, 4)  # evicts 2
    assert len(square) == 3
    calls.clear()
    square(v, 1)
    square(v, 2)
    assert [c[1] for c in calls] == [2]


def test_unhashable_arguments_are_refused_loudly():
    with pytest.raises(TypeError, match="hashable"):
        square(Source(("db", 1)), [1, 2])


@cache.cached(maxsize=8)
def slow(source, x: int) -> int:
    calls.append(x)
    time.sleep(0.05)
    return x


def test_concurrent_callers_of_one_key_wait_for_the_first():
    slow.cache_clear()
    v = Source(("db", 1))
    results = []
    threads = [threading.Thread(target=lambda: results.append(slow(v, 7))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [7] * 8 and calls == [7]


@cache.cached(maxsize=8)
def failing(source, x: int) -> int:
    calls.append(x)
    raise ValueError("boom")


def test_errors_are_not_remembered():
    v = Source(("db", 1))
    for _ in range(2):
        with pytest.raises(ValueError):
            failing(v, 1)
    assert calls == [1, 1]


def test_recording_lists_every_query_call_hit_or_miss():
    v = Source(("db", 1))
    with cache.recording() as recorded:
        square(v, 2)
        square(v, 2, plus=1)
        square(v, 2)
    assert [(c.name.rsplit(".", 1)[-1], c.args, c.kwargs) for c in recorded] == [
        ("square", (2,), ()),
        ("square", (2,), (("plus", 1),)),
        ("square", (2,), ()),
    ]
    square(v, 5)
    assert len(recorded) == 3  # nothing recorded after the block


def test_clear_all_forgets_everything():
    square(Source(("db", 1)), 2)
    assert cache.entries() >= 1
    cache.clear_all()
    assert len(square) == 0


def test_forget_since_keeps_what_was_cached_before():
    v = Source(("db", 1))
    square(v, 2)
    before = cache.snapshot()
    square(v, 3)
    cache.forget_since(before)
    calls.clear()
    square(v, 2)
    square(v, 3)
    assert [c[1] for c in calls] == [3]
