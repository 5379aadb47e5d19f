"""Screenshots of every page at national and département scope, for the README (docs/screenshots/).

Drives Debian's Chromium with Playwright against `python -m fsdash serve` on a warehouse
(the demo by default). Usage:

    python scripts/screenshots.py [--db data/fsdash.duckdb] [--departement 23] [--out docs/screenshots]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the French command line, fsdash/cli_french.py
from fsdash.cli_french import FrenchParser  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def routes() -> list[tuple[str, str, str, str]]:
    """The routes table (fsdash/routes.py): (path, title, icon, url path) of each page."""
    from fsdash.routes import ROUTES

    return [(r.path, r.title, r.icon, r.url_path) for r in ROUTES]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsdash", "serve", "--db", str(db), "--port", str(port), "--address", "127.0.0.1"],
        cwd=ROOT,
        # local mode: the screenshots show a demo warehouse, with its banner (no sign-in)
        env={**os.environ, "FSDASH_DB": str(db), "FSDASH_AUTH": "local"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("le serveur Streamlit n'a pas démarré")


def main() -> None:
    parser = FrenchParser(description="captures d'écran de chaque page")
    parser.add_argument("--db", default=str(ROOT / "data" / "fsdash.duckdb"), metavar="ENTREPOT", help="entrepôt servi")
    parser.add_argument("--departement", default="23", metavar="CODE", help="département des captures à ce périmètre")
    parser.add_argument(
        "--out", default=str(ROOT / "docs" / "screenshots"), metavar="DOSSIER", help="dossier des captures"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = serve(Path(args.db), port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for index, (_path, title, _icon, url) in enumerate(routes()):
                path = "" if index == 0 else url  # the default page is served at the root
                for label, query in (
                    ("national", ""),
                    ("departement", f"?perimetre=departement&code={args.departement}"),
                ):
                    page = browser.new_page(viewport={"width": 1440, "height": 2400}, locale="fr-FR")
                    page.goto(f"http://127.0.0.1:{port}/{path}{query}")
                    page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
                    page.wait_for_timeout(4000)  # charts and maps finish drawing
                    target = out / f"{url}-{label}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(f"{title} ({label}) → {target.relative_to(ROOT)}")
                    page.close()
            browser.close()
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
