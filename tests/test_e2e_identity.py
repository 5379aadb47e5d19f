"""Sign-in in a real browser: Debian's Chromium, a local OpenID Connect provider (``oidc-provider-mock``,
started here on a free port), ``st.login`` configured by a temporary secrets file, and the roles file.

A programme officer signs in and uploads a file (the batch records their e-mail); a département's
committee signs in, sees its département, is refused another département's site by URL and has no
upload; signing out brings back the sign-in page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from browser_support import chromium, free_port, stop, wait_until_served

from fsdash.warehouse.store import reader

from conftest import (
    ACTIVITE_HEADER,
    ACTIVITE_ROWS,
    DETAIL_HEADER,
    DETAIL_ROWS,
    SITES_HEADER,
    SITES_ROWS,
    csv_bytes,
    ingest_files,
)

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parent.parent
PROGRAMME = "agent.programme@anct.gouv.fr"
AIN = "prefecture@ain.gouv.fr"
ROLES = f"courriel;role;departement\n{PROGRAMME};programme;\n{AIN};departement;01\n"


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=free_port()) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("identite") / "reel.duckdb"
    files = [
        ("sites.csv", csv_bytes(SITES_HEADER, SITES_ROWS)),
        ("activite.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS)),
        ("demandes_detail.csv", csv_bytes(DETAIL_HEADER, DETAIL_ROWS)),
    ]
    assert ingest_files(db, files).exit_code == 0
    return db


@pytest.fixture(scope="module")
def server(provider, warehouse, tmp_path_factory):
    folder = tmp_path_factory.mktemp("secrets")
    port = free_port()
    (folder / "roles.csv").write_text(ROLES, encoding="utf-8")
    secrets = folder / "secrets.toml"
    secrets.write_text(
        f"""[fsdash]
roles = "{folder / "roles.csv"}"

[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "{os.urandom(24).hex()}"
client_id = "fsdash-tests"
client_secret = "secret-de-test"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "FSDASH_AUTH"}  # sign-in mode from the secrets alone
    env["FSDASH_DB"] = str(warehouse)
    code = (
        "import sys; from fsdash.serve import serve; "
        f"sys.exit(serve({port}, 'localhost', ['--secrets.files', {str(secrets)!r}]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://localhost:{port}"
    wait_until_served(proc, url)
    yield url
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def _sign_in(browser, server: str, email: str, path: str = ""):
    """A new browser context (no cookie), signed in through the provider's form as ``email``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{server}/{path}")
    page.get_by_role("button", name="Se connecter").click(timeout=60_000)
    page.locator('input[name="sub"]').fill(email, timeout=30_000)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text("Se déconnecter").first.wait_for(timeout=60_000)
    return context, page


def _no_exception(page) -> None:
    page.wait_for_timeout(1000)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_programme_officer_signs_in_and_uploads(server, browser, warehouse, tmp_path):
    context, page = _sign_in(browser, server, PROGRAMME)
    page.get_by_text("Équipe du programme (ANCT)").first.wait_for(timeout=30_000)
    page.goto(f"{server}/chargements")
    page.get_by_text("Lots chargés").first.wait_for(timeout=60_000)
    corrected = [list(r) for r in ACTIVITE_ROWS]
    corrected[0][4] = 1550
    upload = tmp_path / "activite-corrigee.csv"
    upload.write_bytes(csv_bytes(ACTIVITE_HEADER, corrected))
    page.locator('input[type="file"]').set_input_files(str(upload))
    page.get_by_role("button", name="Charger ces fichiers").click(timeout=30_000)
    page.get_by_text("Fichiers chargés.").first.wait_for(timeout=60_000)
    _no_exception(page)
    with reader(warehouse) as con:
        last = con.sql("SELECT file_name, loaded_by FROM batches ORDER BY batch_id DESC LIMIT 1").fetchall()
    assert last == [("activite-corrigee.csv", PROGRAMME)]
    context.close()


def test_a_departement_user_sees_its_departement_only_and_signs_out(server, browser):
    context, page = _sign_in(browser, server, AIN)
    page.get_by_text("Comité départemental (01)").first.wait_for(timeout=30_000)
    page.goto(f"{server}/?perimetre=departement&code=01")
    page.get_by_text("Département Ain").first.wait_for(timeout=60_000)
    # another département's site by URL: its département's aggregate, and why
    page.goto(f"{server}/?perimetre=site&code=FS003")
    page.get_by_text("« FS003 » est réservé à son comité départemental").first.wait_for(timeout=60_000)
    page.get_by_text("Département Corse-du-Sud").first.wait_for(timeout=30_000)
    assert page.get_by_text("(FS003)").count() == 0
    _no_exception(page)
    # no upload: the loading page is refused, and not in the menu
    page.goto(f"{server}/chargements")
    page.get_by_text("« Chargements et qualité » est réservée").first.wait_for(timeout=60_000)
    assert page.locator('input[type="file"]').count() == 0
    assert page.get_by_test_id("stSidebarNav").get_by_text("Chargements et qualité").count() == 0
    # signing out: the provider's end of session, then the sign-in page again
    page.get_by_role("button", name="Se déconnecter").click()
    end = page.get_by_role("button", name="End session")
    end.wait_for(timeout=30_000)
    end.click()
    page.goto(server)
    page.get_by_role("button", name="Se connecter").wait_for(timeout=60_000)
    assert page.get_by_text("Comité départemental (01)").count() == 0
    context.close()
