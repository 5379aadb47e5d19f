"""Many viewers at once: no deadlock, by construction, and a busy limit that turns runs away cleanly.

The server once hung for good under eight concurrent sessions: script threads holding the GIL while
waiting on Polars' thread pool, whose tasks ran Python callbacks (per-row formatting) that needed the
GIL. ``tests/test_read_path.py`` forbids the callbacks; this module checks the behaviour that matters —
every page's sections computed and consumed by many threads at once, from cold caches, finish.

AppTest cannot run pages from several threads (each run creates and tears down Streamlit's runtime
singleton), so the pages are first rendered one at a time through the ``app.py`` frame while every
section call is recorded; then the caches and the pooled reader are dropped and sixteen threads replay
all the calls at once, each in its own order, and use each answer as :func:`fsdash.ui.render` does
(table to pandas, chart spec and map to JSON, the CSV download). The real server's threads are
exercised by ``tests/test_load.py``.

The replay runs in a child process watched by :mod:`faulthandler`: a deadlocked process cannot even
exit (its threads are stuck inside Polars), so the child prints every thread's stack and ends itself
when the bound passes, and the test fails with those stacks instead of hanging the suite. With the
per-row callbacks of the old formatting put back, this test hangs there in all sixteen threads.

The admission gate (:mod:`fsdash.admission`) is tested with plain threads and events: no clock
involved beyond a short wait that is meant to expire.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from fsdash import admission, cache
from fsdash.routes import ROUTES
from fsdash.warehouse.store import close_readers, current_reader

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
THREADS = 16
#: A liveness bound, not a performance target: the replay takes well under a minute on a loaded
#: 2-core machine; a deadlock never ends. Only a hang can exceed it.
HANG_S = 600


# --- the admission gate --------------------------------------------------------------------------


def _hold(gate: admission.Gate, entered: threading.Event, release: threading.Event, seen: list[bool]) -> None:
    with gate.slot() as admitted:
        seen.append(admitted)
        entered.set()
        if admitted:
            release.wait()


def test_the_gate_admits_at_most_its_limit_and_turns_the_next_away():
    gate = admission.Gate(admission.Settings(max_runs=2, wait_s=0.05))
    release = threading.Event()
    seen: list[bool] = []
    holders = []
    for _ in range(2):
        entered = threading.Event()
        thread = threading.Thread(target=_hold, args=(gate, entered, release, seen))
        thread.start()
        assert entered.wait(30)
        holders.append(thread)
    assert gate.running == 2
    with gate.slot() as admitted:
        assert not admitted  # no slot came free within the wait
    assert gate.turned_away == 1 and gate.running == 2
    release.set()
    for thread in holders:
        thread.join(30)
    assert seen == [True, True] and gate.running == 0
    with gate.slot() as admitted:
        assert admitted  # the slots came back


def test_a_waiting_run_gets_the_slot_a_finished_run_frees():
    gate = admission.Gate(admission.Settings(max_runs=1, wait_s=60))
    entered, release, seen = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=_hold, args=(gate, entered, release, seen))
    holder.start()
    assert entered.wait(30)
    waiter_entered = threading.Event()
    waiter = threading.Thread(target=_hold, args=(gate, waiter_entered, threading.Event(), seen))
    waiter.daemon = True
    waiter.start()
    _wait_until(lambda: gate.waiting == 1)
    assert not waiter_entered.is_set()
    release.set()
    assert waiter_entered.wait(30)
    assert seen == [True, True]


def _wait_until(condition, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert condition()


def test_slots_go_to_the_runs_that_waited_longest():
    """First come, first served: in a burst, no run waits while later ones pass it."""
    gate = admission.Gate(admission.Settings(max_runs=1, wait_s=60))
    entered, release, seen = threading.Event(), threading.Event(), []
    holder = threading.Thread(target=_hold, args=(gate, entered, release, seen))
    holder.start()
    assert entered.wait(30)
    order: list[int] = []

    def queued(n: int) -> None:
        with gate.slot() as admitted:
            assert admitted
            order.append(n)

    waiters = []
    for n in range(5):
        thread = threading.Thread(target=queued, args=(n,))
        thread.start()
        waiters.append(thread)
        _wait_until(lambda n=n: gate.waiting == n + 1)  # n + 1 runs queued, in this order
    release.set()
    for thread in [*waiters, holder]:
        thread.join(30)
    assert order == [0, 1, 2, 3, 4]
    assert gate.running == 0 and gate.waiting == 0


def test_a_failing_run_gives_its_slot_back():
    gate = admission.Gate(admission.Settings(max_runs=1, wait_s=0))
    with pytest.raises(RuntimeError), gate.slot() as admitted:
        assert admitted
        raise RuntimeError("la page a échoué")
    with gate.slot() as admitted:
        assert admitted and gate.running == 1
    assert gate.running == 0


def test_no_limit_admits_everyone():
    gate = admission.Gate(admission.Settings(max_runs=None, wait_s=0))
    with gate.slot() as a, gate.slot() as b, gate.slot() as c:
        assert a and b and c and gate.running == 3


def test_settings_come_from_the_environment_and_bad_values_are_said_in_french():
    assert admission.settings_from({}) == admission.Settings(admission.DEFAULT_MAX_RUNS, admission.DEFAULT_WAIT_S)
    assert admission.settings_from({"FSDASH_MAX_RUNS": "12", "FSDASH_BUSY_WAIT": "2,5"}) == admission.Settings(12, 2.5)
    assert admission.settings_from({"FSDASH_MAX_RUNS": "0"}).max_runs is None
    with pytest.raises(ValueError, match="nombre entier"):
        admission.settings_from({"FSDASH_MAX_RUNS": "beaucoup"})
    with pytest.raises(ValueError, match="positif"):
        admission.settings_from({"FSDASH_MAX_RUNS": "-1"})
    with pytest.raises(ValueError, match="secondes"):
        admission.settings_from({"FSDASH_BUSY_WAIT": "longtemps"})


def test_the_process_gate_is_read_once_from_the_environment(monkeypatch):
    monkeypatch.setenv("FSDASH_MAX_RUNS", "3")
    admission.reset()
    try:
        assert admission.gate() is admission.gate()
        assert admission.gate().settings.max_runs == 3
    finally:
        admission.reset()


@pytest.mark.slow
def test_a_turned_away_run_shows_the_busy_message_and_keeps_the_filters(demo_db, monkeypatch):
    """Through the real frame: the page stops on the French message, and the session's filters survive."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FSDASH_DB", str(demo_db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.selectbox(key="scope_level").set_value("departement").run()
    assert not at.exception
    full = admission.Gate(admission.Settings(max_runs=1, wait_s=0))
    monkeypatch.setattr(admission, "_gate", full)
    with full.slot():  # another run holds the only slot
        at.run()
    assert [w.body for w in at.warning] == [admission.BUSY_MESSAGE]
    assert not at.exception and not at.title
    monkeypatch.setattr(admission, "_gate", admission.Gate(admission.Settings(max_runs=1, wait_s=0)))
    at.run()
    assert at.title and at.selectbox(key="scope_level").value == "departement"


# --- every section from many threads at once (in a child process) -------------------------------


Recorded = list[tuple[cache.Memo, tuple, dict]]


def _record_sections(db: Path) -> Recorded:
    """Every section call the pages make at three scopes, rendered one at a time through the frame."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    from fsdash.bench.scenario import choose

    scenario = choose(db)
    calls: dict[tuple, tuple[cache.Memo, tuple, dict]] = {}
    original_call = cache.Memo.__call__
    original_init = PagesManager.__init__

    def recording(self: cache.Memo, source, *args, **kwargs):
        if self.kind == "section":
            calls.setdefault((id(self), args, tuple(sorted(kwargs.items()))), (self, args, kwargs))
        return original_call(self, source, *args, **kwargs)

    def init(self, *args, **kwargs):  # as the navigation_mode fixture: reruns go through the frame
        original_init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FSDASH_DB", str(db))
        patch.setattr(cache.Memo, "__call__", recording)
        patch.setattr(PagesManager, "__init__", init)
        for level in ("national", "departement", "site"):
            at = AppTest.from_file(APP, default_timeout=300)
            at.query_params.update(scenario.query_params(level))
            at.run()
            for route in ROUTES:
                at.switch_page(route.path).run()
                if at.exception:
                    raise AssertionError((route.url_path, level, [e.message for e in at.exception]))
    return list(calls.values())


def _consume(answer: object) -> None:
    """Use a section as ``ui.render`` does with its data: what runs Polars, Arrow and JSON per view."""
    from fsdash import exports
    from fsdash.views.section import Section

    sections = answer if isinstance(answer, tuple) else (answer,)
    for section in sections:
        if not isinstance(section, Section):
            continue
        section.caption()
        if section.table is not None:
            section.table.frame.to_pandas()
            section.table.described()
        if section.chart is not None:  # its datasets are Arrow IPC bytes, sent as they are
            json.dumps({k: v for k, v in section.chart.items() if k != "datasets"})
        if section.deck is not None:
            section.deck.to_json()
        if section.download_frame is not None:
            exports.csv_bytes(section.download_frame)


def _run_all(workers: list[Callable[[], None]]) -> list[str]:
    """Start every worker at once and wait for all (the child's faulthandler bounds the wait)."""
    errors: list[str] = []

    def guarded(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:
            errors.append(traceback.format_exc(limit=8))

    threads = [threading.Thread(target=guarded, args=(w,), name=f"fil-{i}") for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _replay(db: Path, calls: Recorded) -> dict:
    """Sixteen threads replay every section call, each in its own order, from cold caches."""
    cache.clear_all()
    close_readers()

    def viewer(seed: int) -> Callable[[], None]:
        def work() -> None:
            order = list(calls)
            random.Random(seed).shuffle(order)
            for memo, args, kwargs in order:
                _consume(memo(current_reader(db), *args, **kwargs))

        return work

    errors = _run_all([viewer(seed) for seed in range(THREADS)])
    memos = {memo for memo, _, _ in calls}
    return {"appels": len(calls), "calcules": sum(m.misses for m in memos), "erreurs": errors}


def _replay_while_publishing(db: Path, served: Path, calls: Recorded) -> dict:
    """Eight threads replay sections on ``served`` while three loads publish new versions of it."""
    import shutil

    from fsdash.warehouse.store import version, writer

    shutil.copyfile(db, served)
    first = version(served)
    cache.clear_all()
    close_readers()
    stop = threading.Event()
    versions: set = set()

    def viewer(seed: int) -> Callable[[], None]:
        def work() -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                memo, args, kwargs = rng.choice(calls)
                reader = current_reader(served)
                versions.add(reader.version)
                _consume(memo(reader, *args, **kwargs))

        return work

    def publisher() -> None:
        try:
            for _ in range(3):
                with writer(served):
                    pass  # a load that changes nothing still publishes a new file: a new version
        finally:
            stop.set()

    errors = _run_all([viewer(seed) for seed in range(8)] + [publisher])
    return {
        "appels": len(calls),
        "versions_lues": len(versions),
        "version_finale_nouvelle": current_reader(served).version != first,
        "erreurs": errors,
    }


def _child(argv: list[str]) -> None:
    """Entry point of the child process (see the module docstring): record, replay, print a JSON summary."""
    import faulthandler

    faulthandler.dump_traceback_later(HANG_S, exit=True)  # every thread's stack on stderr, then exit 1
    mode, db = argv[0], Path(argv[1])
    calls = _record_sections(db)
    summary = _replay(db, calls) if mode == "rejouer" else _replay_while_publishing(db, Path(argv[2]), calls)
    faulthandler.cancel_dump_traceback_later()
    print(json.dumps(summary, default=str))
    sys.stdout.flush()
    os._exit(0)  # a clean exit: nothing left to wait for


def _in_child(*args: str) -> dict:
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); import test_concurrency as t; t._child(sys.argv[1:])"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=HANG_S + 600,  # the child ends itself first; this only guards against the unforeseen
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"le processus de rejeu ne s'est pas arrêté : {(exc.stderr or '')[-5000:]}")
    if done.returncode != 0:
        blocked = "Timeout" in done.stderr or "Thread 0x" in done.stderr
        what = f"fils bloqués après {HANG_S} s" if blocked else f"code {done.returncode}"
        pytest.fail(f"rejeu : {what}\n{done.stderr[-12000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_every_section_from_sixteen_threads_at_once_finishes(demo_db):
    """A liveness check (see :data:`HANG_S`): cold caches and a closed reader first, so that the threads
    compute together — the case that hung — instead of reading what the recording left."""
    summary = _in_child("rejouer", str(demo_db))
    assert not summary["erreurs"], summary["erreurs"][0]
    assert summary["appels"] >= 20  # every page contributed its sections
    assert summary["calcules"] >= summary["appels"]  # computed concurrently, not read from the recording


@pytest.mark.slow
def test_sections_keep_answering_while_a_load_publishes(demo_db, tmp_path):
    """The pooled reader opens each new version and retires the old one without a query failing or
    waiting forever, while eight threads read."""
    summary = _in_child("publier", str(demo_db), str(tmp_path / "fsdash.duckdb"))
    assert not summary["erreurs"], summary["erreurs"][0]
    assert summary["version_finale_nouvelle"]
    assert summary["versions_lues"] >= 2
