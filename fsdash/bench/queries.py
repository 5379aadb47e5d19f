"""The pages' own queries, replayed as the app runs them on a cache miss.

The list is not hand-picked: it is every metric call the measured renders and filter changes made
(:func:`fsdash.cache.recording`), deduplicated across pages and scopes. Each is run the way the
dashboard runs it when the fsdash cache has no answer: the undecorated function (``Call.function``,
the :class:`fsdash.cache.Memo`'s ``function``) on the pooled read-only connection of the published
version (:func:`fsdash.warehouse.store.current_reader`), a cursor per thread.

* **froid**: the first call on a freshly opened reader (every reader closed before, the opening
  itself not counted: it is measured apart, once per warehouse) — DuckDB's buffers are empty, the
  operating system's file cache is not (a server that has been up reads a file it has read before).
* **chaud**: repeated calls on the same reader, after one warm-up call, the queries it calls itself
  already answered — as on a server that has just drawn the page, where a metric that reads another
  (``opening_candidates`` reads the national commune access) finds it computed by an earlier section.
  Those inner queries are listed and measured on their own: counting them again in every caller
  would count them twice.

Before every cold call every fsdash answer is forgotten (:func:`fsdash.cache.clear_all`): the cold
time is the whole cost of the answer, inner queries included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsdash import cache, formats
from fsdash.bench.measure import Measurement, stopwatch
from fsdash.bench.pages import Recorded, Recordings
from fsdash.metrics.scope import Scope
from fsdash.warehouse.store import close_readers, current_reader


def function_name(call: cache.Call) -> str:
    """``activity.quarters``: the module under ``fsdash.metrics`` (or ``fsdash``) and the function."""
    module = call.function.__module__
    for prefix in ("fsdash.metrics.", "fsdash."):
        if module.startswith(prefix):
            module = module[len(prefix) :]
            break
    return f"{module}.{call.function.__qualname__}"


def _value_text(value: Any) -> str:
    if isinstance(value, Scope):
        text = value.level if value.code is None else f"{value.level} {value.code}"
        if value.formats:
            text += " formats=" + "+".join(value.formats)
        if value.carriers:
            text += " porteurs=" + "+".join(value.carriers)
        return text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        if len(value) > 4:  # a month axis: its ends and its length say enough
            return f"({_value_text(value[0])} … {_value_text(value[-1])} ; {len(value)} valeurs)"
        return "(" + ", ".join(_value_text(v) for v in value) + ")"
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def arguments_text(call: cache.Call) -> str:
    """The call's arguments in a short readable form (scopes by level and code, dates ISO)."""
    parts = [_value_text(a) for a in call.args]
    parts += [f"{k}={_value_text(v)}" for k, v in call.kwargs]
    return ", ".join(parts)


def scope_level(entry: Recorded) -> str:
    """The level of the call's scope argument; for calls without one, the scopes it was seen at."""
    for value in (*entry.call.args, *(v for _, v in entry.call.kwargs)):
        if isinstance(value, Scope):
            return value.level + (" filtré" if value.narrowed else "")
    return ", ".join(sorted(entry.scopes))


def _once(path: Path, call: cache.Call, *, fresh: bool) -> tuple[float, str | None]:
    if fresh:
        close_readers()
        cache.clear_all()
    wh = current_reader(path)  # opened here when fresh: not part of the time
    error = None
    with stopwatch() as elapsed:
        try:
            call.function(wh, *call.args, **dict(call.kwargs))
        except Exception as exc:  # named in the results, the replay goes on
            error = f"{type(exc).__name__}: {exc}"
    return elapsed(), error


def reader_opening(path: Path, runs: int) -> list[float]:
    """Milliseconds to open the pooled reader of a version (what the first query after a load pays)."""
    samples = []
    for _ in range(max(1, runs)):
        close_readers()
        with stopwatch() as elapsed:
            current_reader(path)
        samples.append(elapsed())
    close_readers()
    return samples


def replay(
    size: str,
    path: Path,
    recordings: Recordings,
    cold_runs: int,
    warm_runs: int,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[Measurement]:
    """Cold and warm times of every recorded call (see the module docstring), slowest first in the log."""
    path = path.absolute()  # the pool's key, as the app (FSDASH_DB) names it
    results = []
    for entry in recordings.values():
        cold, warm, error = [], [], None
        for _ in range(cold_runs):
            ms, failed = _once(path, entry.call, fresh=True)
            cold.append(ms)
            error = error or failed
        _once(path, entry.call, fresh=False)  # warm-up on the reader now open
        for _ in range(warm_runs):
            ms, failed = _once(path, entry.call, fresh=False)
            warm.append(ms)
            error = error or failed
        name = function_name(entry.call)
        results.append(
            Measurement(
                size,
                ", ".join(sorted(entry.pages)),
                scope_level(entry),
                "requete",
                f"{name}({arguments_text(entry.call)})",
                cold,
                warm,
                error,
                {"fonction": name},
            )
        )
    close_readers()
    cache.clear_all()
    worst = sorted(results, key=lambda m: -(m.item()["froid_p50_ms"] or 0))[:5]
    for m in worst:
        item = m.item()
        progress(
            f"  requête {m.name} : froid {formats.number(item['froid_p50_ms'] or 0, 1)} ms, "
            f"chaud {formats.number(item['chaud_p50_ms'] or 0, 1)} ms"
        )
    return results
