"""Real-browser smoke test: Debian's Chromium driven by Playwright against `streamlit run`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from browser_support import chromium, free_port, stop, wait_until_served

from fsdash.routes import ROUTES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server(demo_db):
    port = free_port()
    env = {**os.environ, "FSDASH_DB": str(demo_db)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsdash", "serve", "--db", str(demo_db), "--port", str(port), "--address", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_served(proc, url)
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def _routes() -> list[str]:
    return ["", *(r.url_path for r in ROUTES[1:])]  # the default page is served at the root


def _check(page, server: str, path: str) -> None:
    page.goto(f"{server}/{path}")
    page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
    page.get_by_text("Données de démonstration").first.wait_for(timeout=30_000)
    page.get_by_text("Périmètre").first.wait_for(timeout=10_000)  # the frame's shared filter
    page.wait_for_timeout(1500)  # let late elements (charts, maps) raise if they will
    assert page.locator('[data-testid="stException"]').count() == 0, path
    assert page.get_by_text("does not seem to exist").count() == 0, path


def test_a_link_to_a_sub_page_works_right_after_start(server, browser):
    """Opened as the very first request, a sub-page still runs through the frame (fsdash/serve.py)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    _check(page, server, "chargements")
    page.get_by_text("Lots chargés").first.wait_for(timeout=30_000)
    page.close()


@pytest.mark.parametrize("url", _routes())
@pytest.mark.parametrize("query", ["", "?perimetre=departement&code=23"])
def test_every_page_opens_without_exception(server, browser, url, query):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    _check(page, server, url + query)
    page.close()


def test_moving_between_pages_shows_the_new_page(server, browser):
    """The sidebar's navigation opens each page in the same session: its title, no exception."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    _check(page, server, "")
    for route in ROUTES[1:]:
        page.get_by_test_id("stSidebarNav").get_by_text(route.title, exact=True).click()
        page.get_by_role("heading", level=1).filter(has_text=route.title.split(" ")[0]).first.wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0, route.url_path
    page.close()
