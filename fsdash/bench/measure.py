"""Timed samples and what one measurement of the benchmark reports.

A measurement keeps its raw samples (milliseconds), cold and warm, and turns them into the item of
``benchmarks/results.json``: median and 95th percentile of each. The percentile is the nearest rank
(``ceil(0.95 n)``-th smallest sample): with fewer than twenty runs it is the slowest one, which is
what a target on the p95 should be judged on with so few runs — no interpolation that would hide it.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

#: The kinds of measurement (French, as written in results.json).
KINDS = ("requete", "rendu", "filtre", "navigation")


def percentile(samples: list[float], share: float) -> float | None:
    """Nearest-rank percentile (see the module docstring); None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median(samples: list[float]) -> float | None:
    return statistics.median(samples) if samples else None


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """Time a block: ``with stopwatch() as elapsed: ...`` then ``elapsed()`` in milliseconds."""
    start = time.perf_counter()
    end: list[float] = []
    try:
        yield lambda: ((end[0] if end else time.perf_counter()) - start) * 1000
    finally:
        end.append(time.perf_counter())


@dataclass
class Measurement:
    """One line of results: a query, a page render or a filter change, cold and warm samples (ms).

    ``extra`` holds what only some kinds have (the query's arguments and pages, the very first
    render of a page); ``error`` the message when the page or query failed — the benchmark goes on
    and the report names the failure instead of a figure.
    """

    size: str
    page: str
    scope: str
    kind: str
    name: str
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")

    def item(self) -> dict[str, Any]:
        """The item of results.json (French keys, as the report and its readers expect them)."""
        return {
            "taille": self.size,
            "page": self.page,
            "perimetre": self.scope,
            "mesure": self.kind,
            "nom": self.name,
            "froid_p50_ms": _ms(median(self.cold)),
            "froid_p95_ms": _ms(percentile(self.cold, 0.95)),
            "chaud_p50_ms": _ms(median(self.warm)),
            "chaud_p95_ms": _ms(percentile(self.warm, 0.95)),
            "executions": {"froid": len(self.cold), "chaud": len(self.warm)},
            "erreur": self.error,
            **self.extra,
        }
