"""Real-browser smoke test: Debian's Chromium driven by Playwright against `streamlit run`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_db):
    port = _free_port()
    env = {**os.environ, "FSDASH_DB": str(demo_db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsdash", "serve", "--db", str(demo_db), "--port", str(port),
         "--address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stderr.read().decode()[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium absent (make test l'installe avec apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


# The sub-page comes first: a shared link opened right after the server starts must still run
# through the frame (see fsdash/serve.py).
@pytest.mark.parametrize("path, expected", [("chargements", "Lots chargés"), ("", "Sites labellisés")])
def test_page_opens_without_exception(server, browser, path, expected):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    page.goto(f"{server}/{path}")
    page.get_by_text(expected).first.wait_for(timeout=60_000)
    page.get_by_text("Données de démonstration").first.wait_for(timeout=30_000)
    page.get_by_text("Périmètre").first.wait_for(timeout=10_000)  # the frame's shared filter
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("does not seem to exist").count() == 0
    page.close()
