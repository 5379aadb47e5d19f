"""Bounded, thread-safe memory of read-side answers, keyed by the warehouse version.

Every session of the dashboard asks the same questions of the same published warehouse: the
answer of a metric (a Polars frame) or of a page section (plain data) is computed once and
shared by reference, until a load publishes a new warehouse version. Two rules make sharing safe:

* the key holds the *version* of the warehouse the answer was read from (``source.cache_key``
  of a :class:`fsdash.warehouse.store.Reader`) and the function's arguments, so a new load is
  seen at once and nothing stale is served under a new version;
* answers are immutable by convention (Polars frames, frozen dataclasses, tuples): callers
  derive new values, they never modify a cached one.

Each decorated function keeps its own least-recently-used table of at most ``maxsize`` entries,
so memory stays bounded however many sessions, filters and versions pass by. Concurrent callers
of the same key wait for the first one instead of computing it again (a committee opening a page
together does one query, not ten). A plain DuckDB connection (tests, command line) has no
``cache_key``: calls go straight through.

No Streamlit here: metrics and sections are cached the same way in the dashboard, the benchmark
and the tests.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

KINDS = ("query", "section")


@dataclass(frozen=True)
class Call:
    """One recorded call of a cached function (see :func:`recording`)."""

    function: Callable[..., Any]
    args: tuple
    kwargs: tuple

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"


class Memo:
    """The bounded table of one function's answers (see the module docstring)."""

    def __init__(self, function: Callable[..., Any], maxsize: int, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.function = function
        self.maxsize = maxsize
        self.kind = kind
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        functools.update_wrapper(self, function)

    def __call__(self, source: Any, *args: Any, **kwargs: Any) -> Any:
        _record(self, args, kwargs)
        token = getattr(source, "cache_key", None)
        if token is None:
            return self.function(source, *args, **kwargs)
        key = (token, args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError as exc:
            raise TypeError(f"{self.__qualname__}: arguments must be hashable to be cached ({exc})") from exc
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                if key in self._data:  # computed by the caller we waited for
                    self._data.move_to_end(key)
                    self.hits += 1
                    return self._data[key]
            try:
                value = self.function(source, *args, **kwargs)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            with self._lock:
                self.misses += 1
                self._data[key] = value
                while len(self._data) > self.maxsize:
                    self._data.popitem(last=False)
        return value

    def keys(self) -> set[Hashable]:
        """The keys held now (a snapshot, see :func:`snapshot`)."""
        with self._lock:
            return set(self._data)

    def forget(self, keys: set[Hashable]) -> None:
        """Forget these answers (unknown keys are ignored)."""
        with self._lock:
            for key in keys:
                self._data.pop(key, None)

    def cache_clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


_MEMOS: list[Memo] = []


def cached(maxsize: int = 128, kind: str = "query") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Remember a read-side function's answers per warehouse version (see the module docstring).

    ``kind`` is ``query`` for a metric (what the benchmark replays) or ``section`` for a page
    section built from metrics.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        memo = Memo(function, maxsize, kind)
        _MEMOS.append(memo)
        return memo  # type: ignore[return-value]

    return decorate


def memos(kind: str | None = None) -> list[Memo]:
    """Every cached function of the process (of one kind), for the benchmark and the tests."""
    return [m for m in _MEMOS if kind is None or m.kind == kind]


def clear_all() -> None:
    """Forget every answer (a cold start, for the benchmark)."""
    for memo in _MEMOS:
        memo.cache_clear()


def entries() -> int:
    """Answers held in memory, all functions together (the load test reports it)."""
    return sum(len(m) for m in _MEMOS)


def snapshot() -> dict[Memo, set[Hashable]]:
    """The keys every cached function holds now (see :func:`forget_since`)."""
    return {memo: memo.keys() for memo in _MEMOS}


def forget_since(before: dict[Memo, set[Hashable]]) -> None:
    """Forget every answer added since ``before``: what was cached then stays cached (the benchmark
    asks a new filter value as if for the first time, on a server whose starting view is warm)."""
    for memo in _MEMOS:
        memo.forget(memo.keys() - before.get(memo, set()))


_recordings: list[list[Call]] = []
_recordings_lock = threading.Lock()


def _record(memo: Memo, args: tuple, kwargs: dict) -> None:
    if not _recordings or memo.kind != "query":
        return
    call = Call(memo.function, args, tuple(sorted(kwargs.items())))
    with _recordings_lock:
        for calls in _recordings:
            calls.append(call)


@contextlib.contextmanager
def recording() -> Iterator[list[Call]]:
    """Collect every metric call made inside the block, hit or miss, from any thread.

    The benchmark renders each page inside this block, then replays exactly the queries the page
    made: the measured list is the pages' own, not a hand-picked one.
    """
    calls: list[Call] = []
    with _recordings_lock:
        _recordings.append(calls)
    try:
        yield calls
    finally:
        with _recordings_lock:
            _recordings.remove(calls)
