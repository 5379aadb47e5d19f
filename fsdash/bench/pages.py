"""Pages and filter changes measured server-side, through Streamlit's ``AppTest`` and the real frame.

What a viewer waits for, minus the network and the browser's drawing: ``app.py`` runs (frame, shared
filter bar, ``st.navigation``) then the page, every section computed or taken from the fsdash cache.
``AppTest`` runs the script as the server's script runner does, so the time of ``at.run()`` is the
time of a rerun on the server.

Page renders, for each scope (one session per scope, opened on the page's URL parameters, as a link
would open it):

* **froid** (first render): every fsdash answer forgotten (:func:`fsdash.cache.clear_all`) and every
  pooled reader closed (:func:`fsdash.warehouse.store.close_readers`) before the run — what the first
  viewer after a load waits for: the reader is opened, every query and section computed. The first of
  these runs is a warm-up (it also pays Python's one-time costs, such as compiling the page) and is
  only reported as ``premier_ms``; during it every metric call is recorded
  (:func:`fsdash.cache.recording`) for the query replay (:mod:`fsdash.bench.queries`).
* **chaud**: the same page rerun, every answer cached — what every later viewer, and every widget
  click that changes nothing upstream, waits for.

Filter changes, on the home and Fréquentation pages: the sidebar widget is set and the page rerun.
**froid** is the first time that value is asked (computed), **chaud** the same change asked again
(cached, after going back to the starting value). Between repetitions the answers the new value
added are forgotten, and only those: the starting view stays warm, as on a live server.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsdash import cache, formats
from fsdash.bench.measure import Measurement, stopwatch
from fsdash.bench.scenario import Scenario
from fsdash.filters import COMPARISONS
from fsdash.routes import ROOT, Route
from fsdash.warehouse.store import close_readers

APP = ROOT / "app.py"
#: A cold render of the 10-year warehouse takes seconds; a stuck page should fail, not hang the run.
TIMEOUT_S = 600
#: The pages whose filter changes are measured (the home page and the busiest feed page).
FILTER_PAGES = ("accueil", "frequentation")


@contextlib.contextmanager
def app_environment(path: Path) -> Iterator[None]:
    """The app reads ``path``; reruns go through the ``st.navigation`` frame; Streamlit's logs are quiet.

    AppTest (1.67) re-detects the legacy ``pages/`` folder before each run and then reruns the page
    file alone, skipping ``app.py``; the server switches that detection off the first time
    ``st.navigation`` runs, and so do we (as ``tests/conftest.py`` does), so that every measured
    rerun pays the frame too. Failures are recorded in the results, not logged with a traceback.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original_init = PagesManager.__init__

    def init(self, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    import streamlit.logger as st_logger
    from streamlit import config

    previous_db = os.environ.get("FSDASH_DB")
    previous_auth = os.environ.get("FSDASH_AUTH")
    previous_level = logging.getLogger("streamlit").getEffectiveLevel()
    previous_option = config.get_option("logger.level")
    PagesManager.__init__ = init  # type: ignore[method-assign]
    os.environ["FSDASH_DB"] = str(path.absolute())
    os.environ["FSDASH_AUTH"] = "local"  # measured without sign-in (the app serves no data with no setting)
    # the option too: Streamlit resets its loggers to it whenever it parses its configuration again
    config.set_option("logger.level", "critical")
    st_logger.set_log_level(logging.CRITICAL)
    try:
        yield
    finally:
        PagesManager.__init__ = original_init  # type: ignore[method-assign]
        if previous_db is None:
            os.environ.pop("FSDASH_DB", None)
        else:
            os.environ["FSDASH_DB"] = previous_db
        if previous_auth is None:
            os.environ.pop("FSDASH_AUTH", None)
        else:
            os.environ["FSDASH_AUTH"] = previous_auth
        config.set_option("logger.level", previous_option)
        st_logger.set_log_level(previous_level)


def session(params: dict[str, str]):
    """A new viewer session opened on a URL carrying ``params`` (not run yet)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def timed_run(at) -> tuple[float, str | None]:
    """One rerun: milliseconds, and the first exception the page raised (None when it drew)."""
    error = None
    with stopwatch() as elapsed:
        try:
            at.run()
        except Exception as exc:  # a timeout or a crash of the runner: measured and named, not fatal
            error = f"{type(exc).__name__}: {exc}"
    if error is None and len(at.exception):
        error = at.exception[0].message
    return elapsed(), error


def cold_start() -> None:
    """Forget every answer and close every reader: the state right after a load is published."""
    cache.clear_all()
    close_readers()


@dataclass
class Recorded:
    """A metric call seen during the measured renders, with where it was seen."""

    call: cache.Call
    pages: set[str] = field(default_factory=set)
    scopes: set[str] = field(default_factory=set)


Recordings = dict[cache.Call, Recorded]


def _keep(recordings: Recordings, calls: list[cache.Call], page: str, scope: str) -> None:
    for call in calls:
        entry = recordings.setdefault(call, Recorded(call))
        entry.pages.add(page)
        entry.scopes.add(scope)


def measure_pages(
    size: str,
    scenario: Scenario,
    routes: tuple[Route, ...],
    scopes: tuple[str, ...],
    cold_runs: int,
    warm_runs: int,
    recordings: Recordings,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[Measurement]:
    """Cold and warm renders of every route at every scope (see the module docstring)."""
    results = []
    for scope in scopes:
        at = session(scenario.query_params(scope))
        timed_run(at)  # the session opens on the home page: not measured
        for route in routes:
            cold_start()
            at.switch_page(route.path)
            with cache.recording() as calls:
                first, error = timed_run(at)
            _keep(recordings, calls, route.url_path, scope)
            cold = []
            for _ in range(cold_runs):
                cold_start()
                ms, later_error = timed_run(at)
                cold.append(ms)
                error = error or later_error
            timed_run(at)  # warm-up: every answer is cached from here on
            warm = []
            for _ in range(warm_runs):
                ms, later_error = timed_run(at)
                warm.append(ms)
                error = error or later_error
            found = Measurement(
                size, route.url_path, scope, "rendu", route.title, cold, warm, error, {"premier_ms": round(first, 2)}
            )
            results.append(found)
            progress(_line(found))
    return results


def _line(m: Measurement) -> str:
    item = m.item()
    text = (
        f"  {m.kind} {m.page} ({m.scope}) {m.name} : froid {_num(item['froid_p50_ms'])} ms, "
        f"chaud {_num(item['chaud_p50_ms'])} ms"
    )
    return text + (f" — ERREUR {m.error}" if m.error else "")


def _num(value: float | None) -> str:
    return "—" if value is None else formats.number(value, 0)


# --- filter changes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterChange:
    """One sidebar change: the widget (kind and key), from ``base`` to ``new``, from a view at ``scope``."""

    name: str  # French, for the report
    scope: str  # the scope of the starting view (national or departement)
    widget: str  # AppTest accessor: selectbox, multiselect, select_slider
    key: str
    base: Any
    new: Any


def filter_changes(scenario: Scenario) -> list[FilterChange]:
    """The changes measured, from France entière over the whole period unless said (module docstring)."""
    q = scenario.quarters
    changes = [
        FilterChange(
            "périmètre : France entière → département",
            "national",
            "selectbox",
            "scope_level",
            "national",
            "departement",
        ),
        FilterChange(
            f"département : {scenario.departement} → {scenario.other_departement}",
            "departement",
            "selectbox",
            "scope_code_departement",
            scenario.departement,
            scenario.other_departement,
        ),
    ]
    if len(q) > 1:
        narrowed = q[-4] if len(q) > 4 else q[-2] if len(q) > 2 else q[-1]
        kept = len(q) - q.index(narrowed)
        changes.append(
            FilterChange(
                f"période : {len(q)} trimestres → " + ("le dernier" if kept == 1 else f"les {kept} derniers"),
                "national",
                "select_slider",
                "filtre_periode",
                (q[0], q[-1]),
                (narrowed, q[-1]),
            )
        )
    if scenario.format:
        changes.append(
            FilterChange(
                f"format : tous → {scenario.format}", "national", "multiselect", "filtre_formats", [], [scenario.format]
            )
        )
    if scenario.carrier:
        changes.append(
            FilterChange(
                f"porteur : tous → {scenario.carrier}",
                "national",
                "multiselect",
                "filtre_porteurs",
                [],
                [scenario.carrier],
            )
        )
    changes.append(
        FilterChange(
            f"comparaison : aucune → {COMPARISONS['annee'].lower()}",
            "national",
            "selectbox",
            "filtre_comparaison",
            "aucune",
            "annee",
        )
    )
    return changes


def _set(at, change: FilterChange, value: Any) -> None:
    getattr(at, change.widget)(key=change.key).set_value(value)


def measure_filters(
    size: str,
    scenario: Scenario,
    routes: tuple[Route, ...],
    runs: int,
    recordings: Recordings,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[Measurement]:
    """Each filter change on each page of :data:`FILTER_PAGES` among ``routes`` (module docstring)."""
    results = []
    changes = filter_changes(scenario)
    for route in (r for r in routes if r.url_path in FILTER_PAGES):
        for scope in dict.fromkeys(c.scope for c in changes):
            cold_start()
            at = session(scenario.query_params(scope))
            timed_run(at)
            at.switch_page(route.path)
            timed_run(at)
            for change in (c for c in changes if c.scope == scope):
                cold, warm, error = [], [], None
                for repetition in range(runs):
                    _set(at, change, change.base)
                    timed_run(at)  # the starting view, cached (computed on the first repetition)
                    timed_run(at)
                    snapshot = cache.snapshot()
                    _set(at, change, change.new)
                    with cache.recording() as calls:
                        ms, failed = timed_run(at)
                    if repetition == 0:
                        _keep(recordings, calls, f"{route.url_path} (filtre)", scope)
                    cold.append(ms)
                    error = error or failed
                    _set(at, change, change.base)
                    timed_run(at)
                    _set(at, change, change.new)
                    ms, failed = timed_run(at)
                    warm.append(ms)
                    error = error or failed
                    cache.forget_since(snapshot)
                _set(at, change, change.base)
                timed_run(at)
                found = Measurement(
                    size, route.url_path, scope, "filtre", change.name, cold, warm, error, {"filtre": change.key}
                )
                results.append(found)
                progress(_line(found))
    return results
