"""Admission: how many script runs the server computes at once, and what the others are told.

A Streamlit server runs every session's script in its own thread of one Python process. On a
2-core machine those threads share one GIL: twenty runs at once do not finish sooner than twenty
in a row, each of them takes twenty times longer, and past some point every viewer waits on every
other one — a page that never comes looks like a hung server. The gate bounds the runs computed
together (``FSDASH_MAX_RUNS``, :data:`DEFAULT_MAX_RUNS` when unset, ``0`` for no limit). A run that
finds no free slot waits for one, at most ``FSDASH_BUSY_WAIT`` seconds (:data:`DEFAULT_WAIT_S`),
then shows :data:`BUSY_MESSAGE` and stops: the viewer is told to come back instead of waiting for
nothing, and the server keeps serving the runs it admitted at their normal speed.

The runs that wait hold no CPU (a blocked ``acquire``), and a stopped run keeps the session's
filters: Streamlit does not forget the widgets of a run ended by ``st.stop()``.

No Streamlit here: :func:`fsdash.ui.start` puts every page run inside :meth:`Gate.slot`, the tests
drive the gate with plain threads.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

#: What a turned-away viewer reads (French, shown by the page frame).
BUSY_MESSAGE = "Serveur occupé : réessayez dans quelques instants."

ENV_MAX_RUNS = "FSDASH_MAX_RUNS"
ENV_WAIT = "FSDASH_BUSY_WAIT"
#: Runs computed together when ``FSDASH_MAX_RUNS`` is unset. A warm page run is a few tens of
#: milliseconds of Python, and one process runs Python on one core at a time whatever the machine:
#: measured with 50 sessions at once on 2 cores (``python -m fsdash.bench.load``), two admitted
#: runs gave the lowest p95 (1.9–3.3 s against 2.3–4.2 s for three, 2.4–5.1 s for four, 3.2–4.4 s
#: unlimited, noisy machine); more only share the GIL more finely. On a fresh server (every page
#: computed) two and four tie and no limit doubles the p95. More viewers call for more replicas.
DEFAULT_MAX_RUNS = 2
#: Seconds a run waits for a slot before the busy message: twice the p95 a page should stay under
#: (3 s). A committee opening the dashboard together (50 sessions) drains well within it; a real
#: overload is said quickly instead of being endured.
DEFAULT_WAIT_S = 6.0


@dataclass(frozen=True)
class Settings:
    """The gate's limit (``None``: none) and how long a run waits for a slot."""

    max_runs: int | None = DEFAULT_MAX_RUNS
    wait_s: float = DEFAULT_WAIT_S


def settings_from(environ: Mapping[str, str]) -> Settings:
    """Read the settings from the environment; a value that cannot be read is an error said in French.

    Failing at the first page run of a misconfigured server is better than silently serving without
    the limit the operator thought they had set.
    """
    max_runs: int | None = DEFAULT_MAX_RUNS
    wait_s = DEFAULT_WAIT_S
    raw = environ.get(ENV_MAX_RUNS, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{ENV_MAX_RUNS} doit être un nombre entier (0 : pas de limite), pas « {raw} »") from None
        if value < 0:
            raise ValueError(f"{ENV_MAX_RUNS} doit être positif ou nul (0 : pas de limite), pas {value}")
        max_runs = value or None
    raw = environ.get(ENV_WAIT, "").strip()
    if raw:
        try:
            wait_s = float(raw.replace(",", "."))
        except ValueError:
            raise ValueError(f"{ENV_WAIT} doit être un nombre de secondes, pas « {raw} »") from None
        if wait_s < 0:
            raise ValueError(f"{ENV_WAIT} doit être positif ou nul, pas {raw}")
    return Settings(max_runs, wait_s)


class Gate:
    """At most ``settings.max_runs`` holders at once; the others wait, first come first served, up to
    ``settings.wait_s``.

    First come, first served: a freed slot is handed to the oldest waiting run, never to one that
    just arrived (a semaphore lets newcomers barge in, and in a burst the unlucky ones then wait for
    the whole burst — the slowest pages are what the p95 is made of). ``running``, ``waiting`` and
    ``turned_away`` are read by tests and could feed a status page.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._free = settings.max_runs or 0
        self._queue: deque[threading.Event] = deque()
        self.running = 0
        self.turned_away = 0

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def _acquire(self) -> bool:
        with self._lock:
            if self._free > 0 and not self._queue:
                self._free -= 1
                self.running += 1
                return True
            ticket = threading.Event()
            self._queue.append(ticket)
        if ticket.wait(self.settings.wait_s):
            return True  # _release handed the slot over (and counted it)
        with self._lock:
            if ticket.is_set():  # handed over just as the wait ended
                return True
            self._queue.remove(ticket)
            self.turned_away += 1
            return False

    def _release(self) -> None:
        with self._lock:
            if self._queue:
                self._queue.popleft().set()  # the slot goes straight to the oldest waiting run
            else:
                self._free += 1
                self.running -= 1

    @contextlib.contextmanager
    def slot(self) -> Iterator[bool]:
        """Hold a slot for the block; yields False (and holds nothing) when none came free in time."""
        if not self.settings.max_runs:
            with self._lock:
                self.running += 1
            try:
                yield True
            finally:
                with self._lock:
                    self.running -= 1
            return
        if not self._acquire():
            yield False
            return
        try:
            yield True
        finally:
            self._release()


_gate: Gate | None = None
_gate_lock = threading.Lock()


def gate() -> Gate:
    """The process's gate, made from the environment at the first run (one per server process)."""
    global _gate
    if _gate is None:
        with _gate_lock:
            if _gate is None:
                _gate = Gate(settings_from(os.environ))
    return _gate


def reset() -> None:
    """Forget the process's gate, so the next run reads the environment again (tests)."""
    global _gate
    with _gate_lock:
        _gate = None
