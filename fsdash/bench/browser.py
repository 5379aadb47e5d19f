"""Moving between pages in a real browser: the time until the new page's title shows.

A committee member clicks a page in the sidebar and waits for it: what counts is the moment its
headline appears, measured here in Debian's Chromium driven by Playwright against
``python -m fsdash serve`` (the server a user runs), never on a timed assertion in the tests. The
first visit of each page in a fresh server is the cold sample (its sections are computed); the
later visits, in the same session, are warm (sections cached, only the browser's drawing left).

Without Chromium or Playwright the measurement is skipped and the report says so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from fsdash.bench.measure import Measurement
from fsdash.routes import ROOT, ROUTES, Route

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Each page's title (h1): what the viewer is waiting for.
HEADLINES = {
    "accueil": "Pilotage du réseau France Services",
    "frequentation": "Fréquentation",
    "motifs": "Motifs de contact",
    "satisfaction": "Satisfaction des usagers",
    "maillage": "Trajectoire et maillage",
    "financement": "Financement",
    "dictionnaire": "Dictionnaire des indicateurs",
    "chargements": "Chargements et qualité des données",
}


def chromium() -> str | None:
    """Debian's Chromium, if installed (never a browser downloaded at run time)."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        return None
    try:
        import playwright  # noqa: F401
    except ImportError:
        return None
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(path: Path, timeout: float = 90) -> Iterator[str]:
    """``python -m fsdash serve`` on ``path`` at a free local port, until the block ends."""
    port = _free_port()
    env = {**os.environ, "FSDASH_AUTH": "local", "FSDASH_DB": str(path)}  # no sign-in: local mode, banner shown
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsdash", "serve", "--db", str(path), "--port", str(port), "--address", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("le serveur ne répond pas") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _settle(page) -> None:
    """Wait until the page has finished running and drawing before the next click: a viewer reads
    a page before leaving it, so the next measure is not the previous page's charts still drawing."""
    with contextlib.suppress(Exception):
        page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(1500)


def measure_navigation(
    size: str,
    path: Path,
    rounds: int,
    routes: tuple[Route, ...] = ROUTES,
    progress: Callable[[str], None] = lambda _m: None,
) -> list[Measurement]:
    """Visit every page from the sidebar, ``rounds`` times over, in one browser session on a fresh
    server; one measurement per page (cold: first visit; warm: the next ones)."""
    executable = chromium()
    if executable is None:
        progress(f"{size} : navigateur absent (Chromium et Playwright), changements de page non mesurés")
        return []
    from playwright.sync_api import sync_playwright

    samples: dict[str, list[float]] = {r.url_path: [] for r in routes}
    errors: dict[str, str] = {}
    with served(path) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
        page.goto(url)
        page.get_by_role("heading", level=1).first.wait_for(timeout=120_000)
        page.get_by_text("Périmètre").first.wait_for(timeout=60_000)
        _settle(page)
        order = [*routes[1:], routes[0]]  # start away from the home page the browser opened on
        for _ in range(rounds):
            for route in order:
                headline = HEADLINES.get(route.url_path, route.title)
                link = page.get_by_test_id("stSidebarNav").get_by_text(route.title, exact=True)
                start = time.perf_counter()
                try:
                    link.click()
                    page.get_by_role("heading", level=1, name=headline).first.wait_for(timeout=60_000)
                    samples[route.url_path].append((time.perf_counter() - start) * 1000)
                except Exception as exc:  # a page that never shows: named in the report, the run goes on
                    errors[route.url_path] = f"{type(exc).__name__}: {exc}"[:200]
                _settle(page)
        browser.close()
    progress(f"{size} : {len(routes)} pages visitées {rounds} fois dans le navigateur")
    return [
        Measurement(
            size,
            route.url_path,
            "national",
            "navigation",
            f"vers {route.title}",
            cold=samples[route.url_path][:1],
            warm=samples[route.url_path][1:],
            error=errors.get(route.url_path),
        )
        for route in routes
    ]
