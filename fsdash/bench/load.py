"""Load test of a live dashboard: many sessions at once, spoken in Streamlit's own websocket protocol.

The page benchmark (:mod:`fsdash.bench.pages`) times one viewer at a time inside the process. What
froze the dashboard in front of a committee was many viewers at once: script threads competing for
the GIL, Polars' pool and the server's event loop. This module measures that, against a real
``python -m fsdash serve`` process, the way browsers load it but without browsers:

* each **session** opens the websocket a browser tab opens (``/_stcore/stream``), asks for a page by
  its URL path (a ``rerun_script`` message, with a query string as a link carries it), and waits for
  the server's ``script_finished``; then it **changes a filter** as a click would: it sends the new
  value of the sidebar's « Périmètre » widget (found by its key in the page's own messages) and waits
  for that rerun. Each wait is one sample (« ouverture », « filtre »);
* a sample **fails** when the server does not answer within the timeout, closes the connection, or
  draws an exception or an error message; it is **busy** when the page says
  :data:`fsdash.admission.BUSY_MESSAGE` (the admission gate turned it away, see :mod:`fsdash.admission`);
* the server's **RSS** is read from ``/proc`` (start, peak, after the sessions closed), so it is
  only known for a server on this machine (started here, or given by its PID).

:func:`run_load` runs one plan against a URL; :func:`churn` opens and closes many sessions and
reports whether the RSS comes back (caches and session state bounded); :func:`measure` starts a
server on a warehouse, runs both and returns the JSON-ready record (French keys, like
``benchmarks/results.json``); ``python -m fsdash.bench.load`` is the command line (help in French).

Percentiles are nearest-rank (:func:`fsdash.bench.measure.percentile`). Never a timed assertion in
the tests: ``tests/test_load.py`` checks the shape of the results and that nothing failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsdash.admission import BUSY_MESSAGE
from fsdash.bench.measure import median, percentile
from fsdash.bench.procfs import memory_mb
from fsdash.cli_french import FrenchParser
from fsdash.routes import ROOT, ROUTES

#: Steps of a session, as results name them.
OPEN, FILTER = "ouverture", "filtre"
#: Outcomes of a sample.
OK, BUSY, FAILED = "ok", "occupe", "echec"

#: Settings of a server meant for many viewers (see docs/deploiement.md), as environment variables so
#: that they reach ``python -m fsdash serve`` unchanged. Measured on the 2-core machine (py-spy):
#:
#: * ``runner.postScriptGC``: Streamlit runs a full ``gc.collect(2)`` after every script run, holding
#:   the GIL for ≈ 0.3 s over the dashboard's heap (geography, cached sections) — every other
#:   session waits; Python's own generational collector still runs;
#: * ``server.fileWatcherType``: a watcher per session that, after every run, resolves the path of
#:   every imported module on the event loop (≈ 0.25 s a run with Polars, pandas, pyarrow loaded) —
#:   nothing to watch on a server that never reloads its code;
#: * ``OMP_NUM_THREADS``: pyarrow sizes its CPU pool from it, and ``st.dataframe``'s
#:   ``Table.from_pandas`` then starts a Python thread pool *per table* on every rerun; with one
#:   thread it converts in place (and numpy's BLAS, were it used, would not fight the server's
#:   threads either).
SERVER_ENV = {
    "STREAMLIT_RUNNER_POST_SCRIPT_GC": "false",
    "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
    "OMP_NUM_THREADS": "1",
}

#: The filter a session changes by default: the sidebar's scope, France entière ⇄ Département.
SCOPE_KEY = "scope_level"
SCOPE_OPTIONS = ("France entière", "Département")


def url_name(url_path: str) -> str:
    """The page name a browser sends for a route: the default page is served at the root."""
    return "" if url_path == ROUTES[0].url_path else url_path


# --- one session, in the protocol ----------------------------------------------------------------


@dataclass
class Run:
    """What the server sent for one script run (one ``rerun_script``), and how long it took."""

    seconds: float = 0.0
    deltas: int = 0
    widgets: dict[str, Any] = field(default_factory=dict)  # user key -> the widget's proto
    metrics: dict[str, str] = field(default_factory=dict)  # tile label -> value as shown
    alerts: list[tuple[int, str]] = field(default_factory=list)  # (Alert.Format, text)
    exceptions: list[str] = field(default_factory=list)
    query_string: str | None = None
    page_hash: str | None = None
    not_found: bool = False

    @property
    def busy(self) -> bool:
        return any(BUSY_MESSAGE in text for _, text in self.alerts)

    @property
    def errors(self) -> list[str]:
        from streamlit.proto.Alert_pb2 import Alert

        found = [f"exception : {text}" for text in self.exceptions]
        found += [f"erreur affichée : {text}" for kind, text in self.alerts if kind == Alert.ERROR]
        if self.not_found:
            found.append("page introuvable")
        return found


def _user_key(widget_id: str) -> str | None:
    """The key a page gave a widget: Streamlit ends the element id with ``-<key>``."""
    if not widget_id.startswith("$$ID-"):
        return None
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 else None


class Session:
    """One browser tab: a websocket, its current page hash and query string (what a browser keeps)."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.stream = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self.timeout_s = timeout_s
        self.ws: Any = None
        self.page_hash: str | None = None
        self.query_string = ""
        self.sent: dict[str, str] = {}  # widget id -> the last value this session chose

    async def __aenter__(self) -> Session:
        import websockets

        self.ws = await asyncio.wait_for(
            websockets.connect(self.stream, subprotocols=["streamlit"], max_size=None, ping_interval=None),
            timeout=self.timeout_s,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), timeout=5)

    async def run(self, page_name: str | None = None, query: str | None = None, widgets: Sequence = ()) -> Run:
        """Ask for a script run (a page, or a rerun of this one with new widget values) and read it whole."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        message = BackMsg()
        rerun = message.rerun_script
        rerun.query_string = self.query_string if query is None else query
        if page_name is not None:
            rerun.page_name = page_name
        elif self.page_hash:
            rerun.page_script_hash = self.page_hash
        for state in widgets:
            rerun.widget_states.widgets.append(state)
            if state.WhichOneof("value") == "string_value":
                self.sent[state.id] = state.string_value
        start = time.perf_counter()
        await self.ws.send(message.SerializeToString())
        run = await asyncio.wait_for(self._read(), timeout=self.timeout_s)
        run.seconds = time.perf_counter() - start
        if run.page_hash:
            self.page_hash = run.page_hash
        if run.query_string is not None:
            self.query_string = run.query_string
        return run

    async def _read(self) -> Run:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        run = Run()
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "delta":
                run.deltas += 1
                if msg.delta.WhichOneof("type") == "new_element":
                    _read_element(msg.delta.new_element, run)
            elif kind == "navigation":
                run.page_hash = msg.navigation.page_script_hash or run.page_hash
            elif kind == "page_info_changed":
                run.query_string = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                run.not_found = True
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    run.exceptions.append("erreur de compilation du script")
                    return run
                if status == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return run
                # FINISHED_EARLY_FOR_RERUN: another run follows, keep reading


def _read_element(element: Any, run: Run) -> None:
    kind = element.WhichOneof("type")
    if kind == "metric":
        run.metrics[element.metric.label] = element.metric.body
    elif kind == "alert":
        run.alerts.append((element.alert.format, element.alert.body))
    elif kind == "exception":
        run.exceptions.append(f"{element.exception.type}: {element.exception.message}"[:300])
    elif kind in ("selectbox", "multiselect", "slider", "radio"):
        widget = getattr(element, kind)
        key = _user_key(widget.id)
        if key:
            run.widgets[key] = widget


def _toggle(widget: Any, options: tuple[str, str], known: str | None = None) -> Any | None:
    """The widget state that moves a selectbox to whichever of ``options`` it is not showing.

    What it shows is the value this session last sent (``known``), else the value the server set,
    else its default: the frame derives the default from the URL, which mirrors the filters.
    """
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    labels = list(widget.options)
    current = known or (widget.raw_value if widget.HasField("raw_value") else None)
    if current is None and widget.HasField("default") and 0 <= widget.default < len(labels):
        current = labels[widget.default]
    target = options[1] if current == options[0] else options[0]
    if target not in labels:
        return None
    return WidgetState(id=widget.id, string_value=target)


# --- a plan, its samples and what they say ----------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the sessions do (see the module docstring).

    ``pages`` are URL paths; session *i* opens ``pages[i % len(pages)]`` — or, with ``every_page``, all
    of them in turn from that one (each with its filter change). ``ramp_s`` spreads the sessions'
    starts evenly over that many seconds (0: all at once, the harshest case); ``think_s`` is the
    most a viewer waits, at random, between a page drawn and the filter change (0: none).
    """

    sessions: int = 50
    pages: tuple[str, ...] = tuple(r.url_path for r in ROUTES)
    change_filter: bool = True
    every_page: bool = False
    ramp_s: float = 0.0
    think_s: float = 0.0
    timeout_s: float = 60.0
    query: str = ""
    seed: int = 2019

    def describe(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "pages": list(self.pages),
            "changement_de_filtre": self.change_filter,
            "toutes_les_pages_par_session": self.every_page,
            "montee_s": self.ramp_s,
            "reflexion_max_s": self.think_s,
            "delai_max_s": self.timeout_s,
            "adresse_initiale": self.query,
        }


@dataclass(frozen=True)
class Sample:
    """One waited-for script run of one session."""

    session: int
    page: str
    step: str  # OPEN or FILTER
    seconds: float
    outcome: str  # OK, BUSY or FAILED
    error: str | None = None


def _summary(values: list[float]) -> dict[str, float | None]:
    return {
        "p50_s": None if not values else round(median(values) or 0.0, 3),
        "p95_s": None if not values else round(percentile(values, 0.95) or 0.0, 3),
        "max_s": None if not values else round(max(values), 3),
    }


@dataclass
class LoadResult:
    """Every sample of a load, the server's memory around it, and the figures of the first home page seen."""

    plan: Plan
    samples: list[Sample]
    wall_s: float
    rss_mb: dict[str, float | None]
    figures: dict[str, str] = field(default_factory=dict)
    cpu_s: float | None = None  # the server's CPU time during the load (see :func:`cpu_s`)

    @property
    def failures(self) -> list[Sample]:
        return [s for s in self.samples if s.outcome == FAILED]

    @property
    def busy(self) -> list[Sample]:
        return [s for s in self.samples if s.outcome == BUSY]

    def pages(self) -> dict[str, dict[str, Any]]:
        """Per page: served samples' p50/p95/max by step, and how many were busy or failed."""
        found: dict[str, dict[str, Any]] = {}
        for page in dict.fromkeys(s.page for s in self.samples):
            mine = [s for s in self.samples if s.page == page]
            entry: dict[str, Any] = {}
            for step in (OPEN, FILTER):
                served = [s.seconds for s in mine if s.step == step and s.outcome == OK]
                if served or any(s.step == step for s in mine):
                    entry[step] = {"servis": len(served), **_summary(served)}
            served_all = [s.seconds for s in mine if s.outcome == OK]
            entry["tout"] = {"servis": len(served_all), **_summary(served_all)}
            entry["occupes"] = sum(s.outcome == BUSY for s in mine)
            entry["echecs"] = sum(s.outcome == FAILED for s in mine)
            found[page] = entry
        return found

    def item(self) -> dict[str, Any]:
        """The JSON record (French keys)."""
        served = [s.seconds for s in self.samples if s.outcome == OK]
        return {
            "plan": self.plan.describe(),
            "duree_s": round(self.wall_s, 2),
            "executions": len(self.samples),
            "servies": len(served),
            "occupees": len(self.busy),
            "echecs": len(self.failures),
            "erreurs": sorted({s.error for s in self.failures if s.error})[:10],
            "ensemble": _summary(served),
            "pages": self.pages(),
            "rss_mo": self.rss_mb,
            "cpu_serveur_s": None if self.cpu_s is None else round(self.cpu_s, 2),
            "cpu_par_execution_ms": None
            if self.cpu_s is None or not self.samples
            else round(1000 * self.cpu_s / len(self.samples), 1),
        }

    def lines(self) -> list[str]:
        """The French report of the command line."""
        item = self.item()
        rss = self.rss_mb
        out = [
            f"{self.plan.sessions} sessions, {item['executions']} exécutions en {_num(self.wall_s, 1)} s : "
            f"{item['servies']} servies, {item['occupees']} « serveur occupé », {item['echecs']} échecs ; "
            f"p50 {_num(item['ensemble']['p50_s'])} s, p95 {_num(item['ensemble']['p95_s'])} s"
            + (f" ; CPU du serveur {_num(item['cpu_par_execution_ms'], 0)} ms par exécution" if self.cpu_s else ""),
        ]
        for page, entry in item["pages"].items():
            steps = []
            for step in (OPEN, FILTER):
                if step in entry:
                    e = entry[step]
                    steps.append(f"{step} p50 {_num(e['p50_s'])} s p95 {_num(e['p95_s'])} s ({e['servis']})")
            extra = (
                f", {entry['occupes']} occupées, {entry['echecs']} échecs"
                if entry["occupes"] or entry["echecs"]
                else ""
            )
            out.append(f"  {page} : " + " ; ".join(steps) + extra)
        if any(v is not None for v in rss.values()):
            out.append(
                f"  mémoire du serveur (RSS) : départ {_num(rss.get('depart'), 0)} Mo, pic {_num(rss.get('pic'), 0)} Mo, "
                f"après {_num(rss.get('apres'), 0)} Mo"
            )
        for error in item["erreurs"]:
            out.append(f"  échec : {error}")
        return out


def _num(value: float | None, decimals: int = 2) -> str:
    from fsdash import formats

    return "—" if value is None else formats.number(value, decimals)


# --- the server's memory -------------------------------------------------------------------------


#: The server's processes on this machine: one PID, several (replicas: figures are summed), or none.
Pids = int | Sequence[int] | None


def _pids(pids: Pids) -> tuple[int, ...]:
    if not pids:
        return ()
    return (pids,) if isinstance(pids, int) else tuple(pids)


def rss_mb(pids: Pids, field_name: str = "VmRSS") -> float | None:
    """Resident memory of the server's processes on this machine, in MB, summed over replicas
    (``VmHWM``: each one's peak since it started)."""
    values = [memory_mb(pid, field_name) for pid in _pids(pids)]
    if not values or any(v is None for v in values):
        return None
    return round(sum(v for v in values if v is not None), 1)


def cpu_s(pids: Pids) -> float | None:
    """CPU time the server's processes on this machine have used (user + system), in seconds.

    The server's CPU per script run is what a shared, noisy machine distorts least: wall times
    stretch when colleagues compute, the work the server did for a load does not.
    """
    total = 0.0
    for pid in _pids(pids):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rpartition(")")[2].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total if _pids(pids) else None


class _Sampler:
    """Reads the server's RSS every ``every_s`` seconds while a load runs (the peak of *this* load)."""

    def __init__(self, pids: Pids, every_s: float = 0.2) -> None:
        self.pid, self.every_s = pids, every_s
        self.peak: float | None = None
        self._task: asyncio.Task | None = None

    def _read(self) -> None:
        value = rss_mb(self.pid)
        if value is not None and (self.peak is None or value > self.peak):
            self.peak = value

    async def _loop(self) -> None:
        while True:
            self._read()
            await asyncio.sleep(self.every_s)

    def start(self) -> None:
        if self.pid:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        self._read()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# --- running a plan ------------------------------------------------------------------------------


def _outcome(run: Run) -> tuple[str, str | None]:
    errors = run.errors
    if errors:
        return FAILED, errors[0]
    if run.busy:
        return BUSY, None
    return OK, None


async def _one_session(
    url: str, index: int, plan: Plan, rng: random.Random, samples: list[Sample], figures: dict[str, str]
) -> None:
    start_page = index % len(plan.pages)
    pages = plan.pages[start_page:] + plan.pages[:start_page] if plan.every_page else (plan.pages[start_page],)
    think = [rng.uniform(0, plan.think_s) if plan.think_s else 0.0 for _ in pages]
    if plan.ramp_s and plan.sessions > 1:
        await asyncio.sleep(plan.ramp_s * index / (plan.sessions - 1))
    page, step = pages[0], OPEN
    started = time.perf_counter()
    try:
        async with Session(url, plan.timeout_s) as session:
            for n, page in enumerate(pages):
                step = OPEN
                started = time.perf_counter()
                run = await session.run(url_name(page), plan.query if n == 0 else None)
                outcome, error = _outcome(run)
                samples.append(Sample(index, page, OPEN, run.seconds, outcome, error))
                if page == ROUTES[0].url_path and outcome == OK and not figures:
                    figures.update(run.metrics)
                if not plan.change_filter or outcome != OK:
                    continue
                widget = run.widgets.get(SCOPE_KEY)
                state = widget and _toggle(widget, SCOPE_OPTIONS, session.sent.get(widget.id))
                if state is None:
                    samples.append(Sample(index, page, FILTER, 0.0, FAILED, "filtre « Périmètre » introuvable"))
                    continue
                if think[n]:
                    await asyncio.sleep(think[n])
                step = FILTER
                started = time.perf_counter()
                run = await session.run(widgets=[state])
                outcome, error = _outcome(run)
                samples.append(Sample(index, page, FILTER, run.seconds, outcome, error))
    except Exception as exc:  # no answer in time, or the connection dropped: counted, the others go on
        text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        samples.append(Sample(index, page, step, time.perf_counter() - started, FAILED, text[:200]))


async def run_load_async(url: str, plan: Plan, pid: Pids = None) -> LoadResult:
    """:func:`run_load` inside a running event loop."""
    rng = random.Random(plan.seed)
    samples: list[Sample] = []
    figures: dict[str, str] = {}
    sampler = _Sampler(pid)
    start_rss, start_cpu = rss_mb(pid), cpu_s(pid)
    sampler.start()
    started = time.perf_counter()
    await asyncio.gather(
        *(_one_session(url, i, plan, random.Random(rng.random()), samples, figures) for i in range(plan.sessions))
    )
    wall = time.perf_counter() - started
    await sampler.stop()
    end_cpu = cpu_s(pid)
    await asyncio.sleep(1.0)  # let the server finish the closed sessions' last work
    rss = {"depart": start_rss, "pic": sampler.peak, "apres": rss_mb(pid), "pic_processus": rss_mb(pid, "VmHWM")}
    used = None if start_cpu is None or end_cpu is None else end_cpu - start_cpu
    return LoadResult(plan, sorted(samples, key=lambda s: (s.session, s.step != OPEN)), wall, rss, figures, used)


def run_load(url: str, plan: Plan, pid: Pids = None) -> LoadResult:
    """Run ``plan`` against the server at ``url`` (its PID or its replicas' PIDs, if local, for RSS and CPU)."""
    return asyncio.run(run_load_async(url, plan, pid))


@dataclass
class ChurnResult:
    """Sessions opened and closed in rounds, and the server's RSS after each round."""

    sessions: int
    concurrency: int
    page: str
    rss_mb: list[float | None]  # before, then after each round
    wall_s: float
    failures: int
    errors: list[str] = field(default_factory=list)

    def item(self) -> dict[str, Any]:
        start, end = self.rss_mb[0], self.rss_mb[-1]
        return {
            "sessions": self.sessions,
            "simultanees": self.concurrency,
            "page": self.page,
            "duree_s": round(self.wall_s, 1),
            "echecs": self.failures,
            "erreurs": self.errors[:10],
            "rss_mo": {
                "depart": start,
                "pic": max((v for v in self.rss_mb if v is not None), default=None),
                "apres": end,
                "ecart": None if start is None or end is None else round(end - start, 1),
                "par_tranche": self.rss_mb,
            },
        }

    def lines(self) -> list[str]:
        item = self.item()
        rss = item["rss_mo"]
        return [
            f"{self.sessions} sessions ouvertes puis fermées ({self.concurrency} à la fois, page {self.page}) "
            f"en {_num(self.wall_s, 1)} s, {self.failures} échecs : RSS {_num(rss['depart'], 0)} Mo au départ, "
            f"{_num(rss['pic'], 0)} Mo au plus haut, {_num(rss['apres'], 0)} Mo après "
            f"(écart {_num(rss['ecart'], 0)} Mo)",
        ]


def churn(
    url: str,
    pid: Pids = None,
    *,
    sessions: int = 200,
    concurrency: int = 10,
    page: str = "frequentation",
    timeout_s: float = 60.0,
    settle_s: float = 2.0,
) -> ChurnResult:
    """Open and close ``sessions`` sessions, ``concurrency`` at a time, each opening ``page`` and changing
    a filter; read the RSS before and after each round (after ``settle_s`` for the server to let go).

    The first round is a warm-up, not counted in the baseline: it fills the shared caches, which are
    meant to stay. What must not grow with the number of sessions is everything else.
    """
    plan = Plan(sessions=concurrency, pages=(page,), timeout_s=timeout_s)
    rounds = max(1, -(-sessions // concurrency))
    failures, errors = 0, []
    started = time.perf_counter()
    warm = run_load(url, plan, pid)
    time.sleep(settle_s)
    readings = [rss_mb(pid)]
    failures += len(warm.failures)
    for _ in range(rounds):
        result = run_load(url, plan, pid)
        failures += len(result.failures)
        errors += [s.error for s in result.failures if s.error]
        time.sleep(settle_s)
        readings.append(rss_mb(pid))
    return ChurnResult(
        rounds * concurrency, concurrency, page, readings, time.perf_counter() - started, failures, errors
    )


# --- a server to load ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout_s: float = 120.0, process: subprocess.Popen | None = None) -> None:
    """Wait for ``/_stcore/health`` to answer (the endpoint a reverse proxy checks)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"le serveur s'est arrêté au démarrage (code {process.returncode})")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} ne répond pas après {timeout_s:.0f} s")


@dataclass
class Server:
    """A ``python -m fsdash serve`` process started by :func:`server`."""

    url: str
    pid: int
    process: subprocess.Popen
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


@contextlib.contextmanager
def server(
    db: Path,
    *,
    port: int | None = None,
    env: dict[str, str] | None = None,
    production: bool = True,
    timeout_s: float = 120.0,
) -> Iterator[Server]:
    """Start ``python -m fsdash serve`` on ``db`` (port free unless given), wait until healthy, stop it after.

    ``production`` applies :data:`SERVER_ENV`; ``env`` adds or overrides variables (e.g.
    ``FSDASH_MAX_RUNS``). The server's output goes to a temporary log file (named on failure).
    """
    port = port or free_port()
    # local mode (no sign-in, said by a banner): the measured server serves data without an identity provider
    environment = {
        **os.environ,
        "FSDASH_AUTH": "local",
        **(SERVER_ENV if production else {}),
        **(env or {}),
        "FSDASH_DB": str(db),
    }
    log = Path(tempfile.mkstemp(prefix="fsdash-serve-", suffix=".log")[1])
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "fsdash", "serve", "--db", str(db), "--port", str(port), "--address", "127.0.0.1"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    found = Server(f"http://127.0.0.1:{port}", process.pid, process, log)
    try:
        try:
            wait_healthy(found.url, timeout_s, process)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{found.log_tail()}") from None
        yield found
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


#: The reverse proxy's configuration of the deployment (an http-context snippet).
NGINX_CONF = ROOT / "deploy" / "nginx.conf"


def nginx_binary() -> str | None:
    """Debian's nginx when installed (``apt-get install nginx-light``), else None."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


def nginx_config(folder: Path, listen: int, ports: Sequence[int]) -> Path:
    """``deploy/nginx.conf`` with these replicas' ports and this listening port, wrapped in a main
    configuration that runs unprivileged from ``folder`` (what ``deploy/replicas.sh`` does with sed)."""
    snippet = NGINX_CONF.read_text(encoding="utf-8")
    snippet, found = re.subn(r"(?m)^    server 127\.0\.0\.1:\d+ [^\n]*\n", "", snippet)
    if found < 1:
        raise ValueError(f"{NGINX_CONF} : les répliques doivent y être écrites « server 127.0.0.1:PORT …; »")
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n" for port in ports)
    anchor = "    hash $fsdash_sticky_key consistent;\n"
    if anchor not in snippet:
        raise ValueError(f"{NGINX_CONF} : ligne « hash $fsdash_sticky_key consistent; » introuvable")
    snippet = snippet.replace(anchor, anchor + servers)
    snippet, found = re.subn(r"(?m)^    listen \d+;", f"    listen 127.0.0.1:{listen};", snippet)
    if found != 1:
        raise ValueError(f"{NGINX_CONF} : une seule ligne « listen PORT; » attendue")
    (folder / "fsdash.conf").write_text(snippet, encoding="utf-8")
    main = folder / "nginx.conf"
    temp = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main.write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\nworker_processes 1;\n"
        f"events {{ worker_connections 4096; }}\nhttp {{\n    access_log off;\n{temp}\n"
        f"    include {folder}/fsdash.conf;\n}}\n",
        encoding="utf-8",
    )
    return main


@contextlib.contextmanager
def proxy(ports: Sequence[int], *, listen: int | None = None) -> Iterator[str]:
    """nginx with ``deploy/nginx.conf`` in front of the replicas on ``ports``; yields its URL."""
    nginx = nginx_binary()
    if nginx is None:
        raise RuntimeError("nginx est absent (Debian : apt-get install nginx-light)")
    listen = listen or free_port()
    with tempfile.TemporaryDirectory(prefix="fsdash-nginx-") as tmp:
        folder = Path(tmp)
        main = nginx_config(folder, listen, ports)
        check = subprocess.run([nginx, "-t", "-q", "-p", str(folder), "-c", str(main)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"configuration nginx refusée : {check.stderr.strip()}")
        process = subprocess.Popen(
            [nginx, "-p", str(folder), "-c", str(main), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{listen}"
        try:
            wait_healthy(url, 60, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Cluster:
    """What a load is aimed at: one server, or replicas behind nginx (``url`` is then the proxy's)."""

    url: str
    servers: list[Server]

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(s.pid for s in self.servers)


@contextlib.contextmanager
def cluster(db: Path, replicas: int = 1, *, env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """``replicas`` servers on ``db`` (started one after the other: the first migrates an old schema
    once), behind nginx when more than one — the deployment of docs/deploiement.md on one machine."""
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(server(db, env=env)) for _ in range(max(1, replicas))]
        url = servers[0].url if len(servers) == 1 else stack.enter_context(proxy([s.port for s in servers]))
        yield Cluster(url, servers)


# --- the whole measurement -----------------------------------------------------------------------


def measure(
    db: Path,
    plan: Plan,
    *,
    churn_sessions: int = 200,
    overload: int = 0,
    replicas: int = 1,
    env: dict[str, str] | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Start a server on ``db`` (or ``replicas`` behind nginx), warm it (every page once per replica),
    run ``plan``, then the overload and the session churn if asked; return the JSON-ready record (what
    the benchmark stores). Memory and CPU are summed over the replicas.

    The warm-up measures nothing: the load then measures many viewers on a running server, not the
    first viewer after a start (the page benchmark measures that one).
    """
    record: dict[str, Any] = {
        "entrepot": str(db),
        "repliques": replicas,
        "reglages_serveur": {**SERVER_ENV, **(env or {})},
    }
    with cluster(db, replicas, env=env) as target:
        record["rss_mo_au_demarrage"] = rss_mb(target.pids)
        progress(
            f"serveur {target.url} ({replicas} réplique(s), PID {', '.join(map(str, target.pids))}) : échauffement"
        )
        warm_plan = Plan(sessions=1, every_page=True, change_filter=True, timeout_s=300)
        warm = [run_load(s.url, warm_plan, s.pid) for s in target.servers]
        record["echauffement"] = {
            "duree_s": round(sum(w.wall_s for w in warm), 1),
            "echecs": sum(len(w.failures) for w in warm),
        }
        progress(f"charge : {plan.sessions} sessions")
        result = run_load(target.url, plan, target.pids)
        record["charge"] = result.item()
        for line in result.lines():
            progress(line)
        if overload:
            progress(f"surcharge : {overload} sessions")
            over = run_load(target.url, Plan(**{**plan.__dict__, "sessions": overload}), target.pids)
            record["surcharge"] = over.item()
            for line in over.lines():
                progress(line)
        if churn_sessions:
            progress(f"sessions ouvertes et fermées : {churn_sessions}")
            churned = churn(target.url, target.pids, sessions=churn_sessions, timeout_s=plan.timeout_s)
            record["sessions_fermees"] = churned.item()
            for line in churned.lines():
                progress(line)
        record["rss_mo_pic_processus"] = rss_mb(target.pids, "VmHWM")
    return record


# --- the targets of the issue --------------------------------------------------------------------

#: « Plusieurs utilisateurs à la fois » (issue 12), on a 2-core machine and the demo warehouse.
P95_LIMIT_S = 3.0
RSS_LIMIT_MB = 1536.0
#: After sessions are opened and closed, the RSS may stay this far above its start (allocator slack).
CHURN_SLACK_MB = 64.0


def verdicts(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue, met or not, from a record of :func:`measure` (French texts).

    The page p95 is the slowest page's, over its opening and its filter change; the memory is the
    servers' peak since they started (warm-up and load together, summed over replicas).
    """
    found: list[dict[str, Any]] = []
    load = record.get("charge")
    if load:
        sessions = load["plan"]["sessions"]
        found.append(
            {
                "texte": f"{sessions} sessions simultanées : toutes servies, aucun échec",
                "valeur": f"{load['servies']}/{load['executions']} servies, {load['echecs']} échecs",
                "atteint": load["servies"] == load["executions"] and load["echecs"] == 0,
            }
        )
        worst = max((e["tout"]["p95_s"] or 0.0 for e in load["pages"].values()), default=None)
        found.append(
            {
                "texte": f"95ᵉ centile de chaque page ≤ {_num(P95_LIMIT_S, 0)} s",
                "valeur": None if worst is None else f"pire page {_num(worst)} s",
                "atteint": worst is not None and worst <= P95_LIMIT_S,
            }
        )
        peak = load["rss_mo"].get("pic_processus") or load["rss_mo"].get("pic")
        found.append(
            {
                "texte": f"mémoire du serveur ≤ {_num(RSS_LIMIT_MB / 1024, 1)} Go",
                "valeur": None if peak is None else f"pic {_num(peak, 0)} Mo",
                "atteint": peak is not None and peak <= RSS_LIMIT_MB,
            }
        )
    over = record.get("surcharge")
    if over:
        found.append(
            {
                "texte": f"au-delà ({over['plan']['sessions']} sessions) : « serveur occupé » plutôt qu'un blocage",
                "valeur": f"{over['servies']} servies, {over['occupees']} « occupé », {over['echecs']} échecs",
                "atteint": over["echecs"] == 0,
            }
        )
    churned = record.get("sessions_fermees")
    if churned:
        gap = churned["rss_mo"]["ecart"]
        found.append(
            {
                "texte": f"{churned['sessions']} sessions ouvertes puis fermées : la mémoire revient à "
                f"{_num(CHURN_SLACK_MB, 0)} Mo de son départ",
                "valeur": None if gap is None else f"écart {_num(gap, 0)} Mo",
                "atteint": gap is not None and gap <= CHURN_SLACK_MB and churned["echecs"] == 0,
            }
        )
    return found


# --- command line ----------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = FrenchParser(
        prog="python -m fsdash.bench.load",
        add_help=False,
        description="Test de charge du tableau de bord : des sessions simultanées parlent le protocole "
        "websocket de Streamlit (comme un navigateur, sans navigateur), ouvrent une page puis changent un "
        "filtre ; p50/p95 par page, échecs, « serveur occupé », mémoire du serveur.",
    )
    p.add_argument("-h", "--help", action="help", help="affiche cette aide et s'arrête")
    p.add_argument(
        "--url",
        help="serveur déjà lancé à charger (ex. http://127.0.0.1:8501) ; sans --url, un serveur "
        "« python -m fsdash serve » est lancé sur --db",
    )
    p.add_argument(
        "--pid",
        type=int,
        nargs="+",
        help="PID du serveur donné par --url (ou de ses répliques), pour lire sa mémoire (RSS) et son CPU",
    )
    p.add_argument(
        "--db",
        help="entrepôt servi par le serveur lancé (défaut : l'entrepôt de démonstration du banc d'essai, "
        "benchmarks/entrepots/demo.duckdb, construit s'il manque)",
    )
    p.add_argument("--sessions", type=int, default=50, help="sessions simultanées (défaut : 50)")
    p.add_argument(
        "--pages",
        default=",".join(r.url_path for r in ROUTES),
        help="pages ouvertes, chemins d'URL séparés par des virgules ; la session n ouvre la page n modulo "
        "leur nombre (défaut : les huit pages)",
    )
    p.add_argument(
        "--toutes-les-pages", action="store_true", help="chaque session parcourt toutes les pages (un filtre par page)"
    )
    p.add_argument("--sans-filtre", action="store_true", help="n'ouvre que la page, sans changer de filtre")
    p.add_argument(
        "--montee",
        type=float,
        default=0.0,
        metavar="S",
        help="départs des sessions répartis sur S secondes (défaut : 0, toutes à la fois)",
    )
    p.add_argument(
        "--reflexion",
        type=float,
        default=0.0,
        metavar="S",
        help="attente au hasard, jusqu'à S secondes, entre la page affichée et le changement de filtre (défaut : 0)",
    )
    p.add_argument(
        "--delai",
        type=float,
        default=60.0,
        metavar="S",
        help="au-delà, une exécution compte comme un échec (défaut : 60)",
    )
    p.add_argument(
        "--adresse", default="", help="paramètres de l'adresse à l'ouverture, ex. perimetre=departement&code=23"
    )
    p.add_argument(
        "--max-runs",
        type=int,
        metavar="N",
        help="FSDASH_MAX_RUNS du serveur lancé : exécutions admises en même temps (défaut : celui de fsdash.admission)",
    )
    p.add_argument(
        "--surcharge",
        type=int,
        default=0,
        metavar="N",
        help="après la charge, N sessions au-delà de la cible, pour voir « serveur occupé » plutôt qu'un blocage",
    )
    p.add_argument(
        "--sessions-fermees",
        type=int,
        default=200,
        metavar="N",
        help="sessions ouvertes puis fermées par tranches de 10 pour voir si la mémoire revient (défaut : 200 ; 0 : non)",
    )
    p.add_argument(
        "--repliques",
        type=int,
        default=1,
        metavar="N",
        help="lance N serveurs derrière nginx (deploy/nginx.conf, nginx requis) au lieu d'un seul ; "
        "mémoire et CPU additionnés (défaut : 1)",
    )
    p.add_argument("--json", metavar="FICHIER", help="écrit les résultats en JSON (ex. benchmarks/charge.json)")
    return p


def _default_db(progress: Callable[[str], None]) -> Path:
    from fsdash.bench import warehouses
    from fsdash.bench.run import DEFAULT_FOLDER

    return warehouses.ensure(warehouses.SIZES["demo"], DEFAULT_FOLDER, progress=progress).path


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    pages = tuple(p.strip() for p in args.pages.split(",") if p.strip())
    known = {r.url_path for r in ROUTES}
    unknown = [p for p in pages if p not in known]
    if unknown or not pages:
        print(
            f"erreur : page inconnue : {', '.join(unknown) or '(aucune)'} (pages : {', '.join(known)})", file=sys.stderr
        )
        return 2
    if args.sessions < 1:
        print("erreur : --sessions doit valoir au moins 1", file=sys.stderr)
        return 2
    plan = Plan(
        sessions=args.sessions,
        pages=pages,
        change_filter=not args.sans_filtre,
        every_page=args.toutes_les_pages,
        ramp_s=args.montee,
        think_s=args.reflexion,
        timeout_s=args.delai,
        query=args.adresse,
    )
    start = time.perf_counter()

    def progress(message: str) -> None:
        elapsed = time.perf_counter() - start
        print(f"[{int(elapsed // 60):02d}:{int(elapsed % 60):02d}] {message}", flush=True)

    if args.url:
        record: dict[str, Any] = {"url": args.url}
        result = run_load(args.url, plan, args.pid)
        record["charge"] = result.item()
        for line in result.lines():
            progress(line)
        if args.surcharge:
            over = run_load(args.url, Plan(**{**plan.__dict__, "sessions": args.surcharge}), args.pid)
            record["surcharge"] = over.item()
            for line in over.lines():
                progress(line)
        if args.sessions_fermees:
            churned = churn(args.url, args.pid, sessions=args.sessions_fermees, timeout_s=args.delai)
            record["sessions_fermees"] = churned.item()
            for line in churned.lines():
                progress(line)
    else:
        db = Path(args.db) if args.db else _default_db(progress)
        if not db.exists():
            print(f"erreur : entrepôt introuvable : {db}", file=sys.stderr)
            return 2
        env = {"FSDASH_MAX_RUNS": str(args.max_runs)} if args.max_runs is not None else None
        if args.repliques < 1:
            print("erreur : --repliques doit valoir au moins 1", file=sys.stderr)
            return 2
        if args.repliques > 1 and nginx_binary() is None:
            print("erreur : --repliques demande nginx (Debian : apt-get install nginx-light)", file=sys.stderr)
            return 2
        record = measure(
            db,
            plan,
            churn_sessions=args.sessions_fermees,
            overload=args.surcharge,
            replicas=args.repliques,
            env=env,
            progress=progress,
        )
    record["commande"] = "python -m fsdash.bench.load " + " ".join(argv if argv is not None else sys.argv[1:])
    record["objectifs"] = verdicts(record)
    for verdict in record["objectifs"]:
        state = "atteint" if verdict["atteint"] else "NON atteint"
        progress(f"objectif {state} — {verdict['texte']} : {verdict['valeur'] or '—'}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        progress(f"résultats : {args.json}")
    return 1 if record["charge"]["echecs"] else 0


if __name__ == "__main__":
    sys.exit(main())
