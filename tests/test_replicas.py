"""Scale-out on one published warehouse: two replicas, a load on both, an ingest publishing meanwhile.

The deployment (docs/deploiement.md, deploy/) runs N identical ``python -m fsdash serve`` processes
behind a reverse proxy with sticky sessions, all reading the same warehouse file read-only, while the
ingest runs as its own job and publishes a new version by an atomic rename. Tested here without a
container runtime: two server processes on two ports over one small *real* warehouse (the demo one
refuses real data), a few sessions on both while ``python -m fsdash ingest`` publishes a corrected
quarter in a subprocess; no error anywhere, and both replicas show the corrected figure afterwards —
read from the home page's « Demandes » tile in the websocket stream, as a browser receives it.

When Debian's nginx is installed, the same replicas are also reached through ``deploy/nginx.conf``
(health check, websockets, sticky cookie); otherwise that test is skipped.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from fsdash import formats
from fsdash.bench import load

from conftest import ACTIVITE_HEADER, ACTIVITE_ROWS, write_csv

pytestmark = [pytest.mark.load, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
#: Slow shared machines make runs slower, never « occupé »: this test is about errors, not speed.
PATIENT = {"FSDASH_BUSY_WAIT": "600"}
#: FS001's 2024 T1 requests, corrected from 1 600: the national total of the quarter becomes 2 700.
CORRECTED = 1700
BEFORE, AFTER = 2600, 2600 - 1600 + CORRECTED


def _requests_tile(url: str) -> str:
    """The home page's « Demandes — <dernier trimestre> » tile, as this replica sends it now."""

    async def read() -> str:
        async with load.Session(url, 300) as session:
            run = await session.run(load.url_name("accueil"), "")
        assert not run.errors, run.errors
        found = [value for label, value in run.metrics.items() if label.startswith("Demandes")]
        assert found, sorted(run.metrics)
        return found[0]

    return asyncio.run(read())


def _corrected_activity(folder: Path) -> Path:
    rows = [list(row) for row in ACTIVITE_ROWS]
    for row in rows:
        if row[0] == "FS001" and (row[1], row[2]) == (2024, 1):
            row[4] = CORRECTED
    return write_csv(folder / "activite_corrigee.csv", ACTIVITE_HEADER, rows, encoding="utf-8-sig")


def _no_traceback(server: load.Server) -> None:
    log = server.log_tail(200_000)
    assert "Traceback" not in log, log[-4000:]


@pytest.fixture
def replicas(loaded_db):
    """Two replicas over the same warehouse file (started one after the other, as deploy/replicas.sh does)."""
    with load.server(loaded_db, env=PATIENT) as first, load.server(loaded_db, env=PATIENT) as second:
        yield first, second


def test_two_replicas_serve_through_an_ingest_and_both_show_the_new_figures(replicas, loaded_db, tmp_path):
    first, second = replicas
    assert _requests_tile(first.url) == _requests_tile(second.url) == formats.number(BEFORE)

    corrected = _corrected_activity(tmp_path)
    published = threading.Event()
    rounds: list[load.LoadResult] = []
    plan = load.Plan(sessions=4, pages=("accueil", "frequentation", "motifs"), ramp_s=1.0, timeout_s=300)

    def keep_loading() -> None:
        """Rounds on both replicas at once until the ingest has published, then one more."""
        while True:
            done = published.is_set()

            async def both() -> list[load.LoadResult]:
                return list(
                    await asyncio.gather(
                        load.run_load_async(first.url, plan, first.pid),
                        load.run_load_async(second.url, plan, second.pid),
                    )
                )

            rounds.extend(asyncio.run(both()))
            if done:
                return

    loader = threading.Thread(target=keep_loading)
    loader.start()
    try:
        ingest = subprocess.run(
            [sys.executable, "-m", "fsdash", "ingest", "--db", str(loaded_db), str(corrected)],
            cwd=ROOT,
            env={**os.environ, "FSDASH_DB": str(loaded_db)},
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        published.set()
        loader.join(900)
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    assert not loader.is_alive()
    assert len(rounds) >= 4  # at least one round on each replica during the ingest, one after
    for result in rounds:
        item = result.item()
        assert item["echecs"] == 0, item["erreurs"]
        assert item["occupees"] == 0
    assert _requests_tile(first.url) == _requests_tile(second.url) == formats.number(AFTER)
    _no_traceback(first)
    _no_traceback(second)


# --- through the reverse proxy ------------------------------------------------------------------


@pytest.fixture
def proxy(replicas):
    """nginx with deploy/nginx.conf in front of the two replicas (skipped without Debian's nginx)."""
    if load.nginx_binary() is None:
        pytest.skip("nginx absent (apt-get install nginx-light) : test du mandataire inverse ignoré")
    with load.proxy([s.port for s in replicas]) as url:
        yield url, replicas


def _replica_of(opener: urllib.request.OpenerDirector, url: str) -> str:
    with opener.open(url + "/_stcore/health", timeout=10) as resp:
        assert resp.status == 200
        return resp.headers["X-Fsdash-Replica"]


def test_the_proxy_checks_health_keeps_a_browser_on_its_replica_and_carries_websockets(proxy, loaded_db):
    url, (first, second) = proxy
    ports = {str(s.port) for s in (first, second)}
    fresh = {_replica_of(urllib.request.build_opener(), url).rsplit(":", 1)[1] for _ in range(30)}
    assert fresh == ports  # new browsers are spread over both replicas
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    assert len({_replica_of(browser, url) for _ in range(10)}) == 1  # one browser stays on its replica
    result = load.run_load(url, load.Plan(sessions=4, pages=("accueil", "satisfaction"), timeout_s=300))
    assert result.item()["echecs"] == 0, result.item()["erreurs"]
    assert result.figures  # the home page's tiles came through the proxy's websocket
    assert _requests_tile(url) == formats.number(BEFORE)
