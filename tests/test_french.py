"""Everything a user reads is French: the command lines (help, argparse's errors, OS errors) and the
rendered text of every page, scanned for English words and for « 1 sites »-like plural errors."""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fsdash import cli, cli_french

ROOT = Path(__file__).resolve().parent.parent

#: English a user must never read (whole words, case ignored): argparse, Python's OS errors, Streamlit.
ENGLISH = re.compile(
    r"\b(usage|positional|optional arguments|show this help|error|required|invalid|unrecognized|expected|"
    r"choose from|no such file|errno|traceback|upload|drag and drop|browse files|per file|select all|"
    r"page not found|not found|none|null|nan|true|false)\b",
    re.IGNORECASE,
)
#: Nouns ending in s or x in the singular, and words that are no noun, after a « 1 ».
INVARIANT = {
    "mois", "fois", "cas", "avis", "accès", "temps", "pas", "recours", "cours", "concours", "secours",
    "des", "les", "ses", "sous", "dans", "sans", "après", "très", "plus", "moins", "puis", "vers",
}  # fmt: skip
#: A count of 0 or 1 (not part of a larger or decimal number) before a plural word.
PLURAL_AFTER_ONE = re.compile(r"(?<![\d,.\u202f\u00a0])(?<!\d )[01][ \u00a0]([a-zà-ÿ]+[sx])\b")


def english_words(text: str) -> list[str]:
    return sorted({m.group(0) for m in ENGLISH.finditer(text)})


def plural_errors(text: str) -> list[str]:
    """« 1 sites », « 0 communes », « 1 acceptées »: French puts 0 and 1 in the singular."""
    return sorted({m.group(0) for m in PLURAL_AFTER_ONE.finditer(text) if m.group(1) not in INVARIANT})


def test_the_scanners_catch_what_they_must():
    assert english_words("Drag and drop file here · Limit 200MB per file · Browse files") == [
        "Browse files",
        "Drag and drop",
        "per file",
    ]
    assert english_words("utilisation : python -m fsdash ; erreur : arguments inconnus") == []
    assert plural_errors("1 sites sur 1, 1 acceptées, 0 communes, 2 sites, 1 234 sites, 21 sites, 1 mois") == [
        "0 communes",
        "1 acceptées",
        "1 sites",
    ]


# --- the command lines ----------------------------------------------------------------------------------


def _argparse_messages() -> set[str]:
    """Every message the installed argparse passes to its gettext hook ``_``."""
    source = inspect.getsource(argparse)
    return {ast.literal_eval(m) for m in re.findall(r"\b_\(('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\)", source)}


def test_every_argparse_message_has_its_french_text():
    messages = _argparse_messages()
    assert "usage: " in messages and "the following arguments are required: %s" in messages  # the scan works
    assert messages <= set(cli_french.MESSAGES), sorted(messages - set(cli_french.MESSAGES))
    plural = set(re.findall(r"ngettext\(\s*'([^']*)',\s*'([^']*)'", inspect.getsource(argparse)))
    assert plural and plural <= set(cli_french.PLURAL_MESSAGES), sorted(plural - set(cli_french.PLURAL_MESSAGES))


def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out + out.err


def _commands() -> list[str]:
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


@pytest.mark.parametrize("argv", [["--help"], *([c, "--help"] for c in _commands())], ids=" ".join)
def test_every_help_is_french(argv, capsys):
    code, text = _run(argv, capsys)
    assert code == 0
    assert text.startswith("utilisation : python -m fsdash")
    assert "affiche cette aide et s'arrête" in text
    assert english_words(text) == [], text


@pytest.mark.parametrize(
    ("argv", "french"),
    [
        ([], "arguments obligatoires manquants : COMMANDE"),
        (["nope"], "choix inconnu : 'nope'"),
        (["ingest"], "arguments obligatoires manquants : FICHIER"),
        (["summary", "--x"], "arguments inconnus : --x"),
        (["demo", "--seed", "x"], "argument --seed : valeur invalide : 'x'"),
        (["demo", "--grain", "fin"], "valeurs possibles : 'standard', 'complet'"),
    ],
    ids=["sans commande", "commande inconnue", "fichier manquant", "option inconnue", "entier", "choix"],
)
def test_argparse_errors_are_french(argv, french, capsys):
    code, text = _run(argv, capsys)
    assert code == 2
    assert "utilisation : python -m fsdash" in text and ": erreur : " in text
    assert french in text
    assert english_words(text) == [], text


def test_os_errors_are_french(tmp_path, capsys):
    missing = tmp_path / "absent.csv"
    for argv in (
        ["import-sites", "--db", str(tmp_path / "e.duckdb"), str(missing)],
        ["ingest", "--db", str(tmp_path / "e.duckdb"), str(missing)],
        ["import-indicators", "--db", str(tmp_path / "e.duckdb"), str(missing)],
        ["catalogue", "--out", str(tmp_path / "pas-de-dossier" / "x.md")],
    ):
        code, text = _run(argv, capsys)
        assert code == cli.EXIT_REFUSED, argv
        assert "fichier ou dossier introuvable" in text, text
        assert english_words(text) == [], text
        assert "No such file" not in text and "Errno" not in text


def test_the_real_command_line_and_the_other_parsers_are_french():
    """The same parser class in a fresh process: ``python -m fsdash``, the load test and the scripts."""
    for argv in (
        ["-m", "fsdash", "--help"],
        ["-m", "fsdash", "ingest"],
        ["-m", "fsdash.bench.load", "--help"],
        ["-m", "fsdash.bench.load", "--sessions", "x"],
        ["scripts/build_geography.py", "--help"],
        ["scripts/screenshots.py", "--help"],
        ["scripts/screenshots.py", "--nope"],
    ):
        result = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True)
        text = result.stdout + result.stderr
        assert text.startswith("utilisation : "), (argv, text)
        assert english_words(text) == [], (argv, text)


# --- the dictionary, rendered once ----------------------------------------------------------------------


def test_the_rules_read_as_sentences_without_placeholders():
    from fsdash.views import dictionary

    text = dictionary.dictionary_markdown()
    controls = dictionary.rules_frame()["Contrôle"].to_list()
    assert "les courriels répondus sous 72 h dépassent les courriels reçus" in controls
    assert "le site déclaré est inconnu du référentiel des sites" in controls
    assert not [c for c in controls if "{" in c or "()" in c]
    rules = text[text.index("## Règles de cohérence") :]
    assert "{" not in rules and "| les courriels répondus sous 72 h dépassent les courriels reçus |" in rules


def test_the_workbook_read_me_is_the_pages_dictionary():
    import io

    import polars as pl

    from fsdash.catalogue import load_catalogue
    from fsdash.templates import xlsx_template
    from fsdash.views import dictionary

    readme = pl.read_excel(
        io.BytesIO(xlsx_template(load_catalogue())), sheet_name="Lisez-moi", read_options={"header_row": 2}
    )
    page = dictionary.indicators().export
    assert readme.columns == page.columns
    assert readme.fill_null("").cast(pl.String).rows() == page.cast(pl.String).rows()


# --- the pages ------------------------------------------------------------------------------------------

APP = str(ROOT / "app.py")


def _texts(at) -> list[str]:
    """Every string a page shows through Streamlit's elements (labels, bodies, values, table cells)."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success", "code"):
        out += [str(e.value) for e in getattr(at, kind)]
    for metric in at.metric:
        out += [metric.label, str(metric.value), str(metric.proto.delta or "")]
    for kind in ("button", "text_input", "slider", "radio", "checkbox", "toggle", "selectbox", "multiselect"):
        for widget in getattr(at, kind):
            out += [widget.label, str(widget.proto.help or ""), str(getattr(widget.proto, "placeholder", "") or "")]
            out += [str(o) for o in getattr(widget, "options", [])]
    out += [e.label for e in at.expander]
    for table in [*at.dataframe, *at.table]:
        frame = table.value
        out += [str(c) for c in frame.columns] + [str(v) for v in frame.astype(str).to_numpy().ravel()]
    return out


def _page(db: Path, monkeypatch, route_path: str, **params: str):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FSDASH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)
    at.run()
    at.switch_page(route_path).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _routes():
    from fsdash.routes import ROUTES

    return ROUTES


@pytest.mark.parametrize("params", [{}, {"perimetre": "departement", "code": "01"}], ids=["national", "departement"])
@pytest.mark.parametrize("route", _routes(), ids=[r.url_path for r in _routes()])
def test_every_page_reads_french(loaded_db, monkeypatch, route, params):
    at = _page(loaded_db, monkeypatch, route.path, **params)
    texts = _texts(at)
    assert "".join(texts).strip()
    assert [t for t in texts if english_words(t)] == []
    assert [t for t in texts if plural_errors(t)] == []
    assert all(m.proto.select_all == 0 for m in at.multiselect)  # no English « Select all » in the dropdown


def _as_demo(db: Path) -> Path:
    from fsdash.warehouse.schema import set_meta
    from fsdash.warehouse.store import writer

    with writer(db) as con:
        set_meta(con, "nature", "demo")
    return db


def test_a_demo_warehouse_offers_no_uploader_and_says_why(loaded_db, monkeypatch):
    at = _page(_as_demo(loaded_db), monkeypatch, "pages/page_chargements.py")
    assert not at.get("file_uploader")
    (explained,) = [i.value for i in at.info if "démonstration" in i.value]
    assert "n'accepte aucun fichier" in explained and "l'équipe du programme" in explained
    assert "--db" not in explained and "FSDASH_DB" not in explained


def test_a_real_warehouse_offers_the_uploader_with_french_instructions(loaded_db, monkeypatch):
    at = _page(loaded_db, monkeypatch, "pages/page_chargements.py")
    assert at.get("file_uploader")
    css = "\n".join(str(e.proto) for e in at.get("html"))
    assert "Parcourir" in css and "200 Mo au plus par fichier" in css and "st-key-chargement_fichiers" in css


# --- in a browser: what only the frontend draws ---------------------------------------------------------


@pytest.fixture(scope="module")
def small_server(tmp_path_factory):
    """``python -m fsdash serve`` on the small hand-made (real, not demo) warehouse of conftest."""
    import os
    import socket
    import time
    import urllib.request

    from conftest import ACTIVITE_HEADER, ACTIVITE_ROWS, SITES_HEADER, SITES_ROWS, csv_bytes, ingest_files

    db = tmp_path_factory.mktemp("petit") / "fsdash.duckdb"
    files = [
        ("sites.csv", csv_bytes(SITES_HEADER, SITES_ROWS)),
        ("activite.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS)),
    ]
    assert ingest_files(db, files).exit_code == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsdash", "serve", "--db", str(db), "--port", str(port), "--address", "127.0.0.1"],
        cwd=ROOT,
        env={**os.environ, "FSDASH_DB": str(db)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2).close()
            break
        except OSError:
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def chromium():
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium absent (make test l'installe avec apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


_DRAWN = """sel => [...document.querySelectorAll(sel)].map(e => [
    getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content])"""


@pytest.mark.e2e
@pytest.mark.slow
def test_in_a_browser_accueil_link_and_french_uploader(small_server, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    page.goto(small_server + "/accueil")
    page.get_by_role("heading", name="Pilotage du réseau France Services").wait_for(timeout=60_000)
    assert "Page not found" not in page.inner_text("body")
    page.goto(small_server + "/chargements")
    page.locator('[data-testid="stFileUploaderDropzone"]').wait_for(timeout=60_000)
    uploader = ".st-key-chargement_fichiers "
    button = page.evaluate(_DRAWN, uploader + 'button [data-testid="stMarkdownContainer"] p')
    hint = page.evaluate(_DRAWN, uploader + '[data-testid="stFileUploaderDropzoneInstructions"] span')
    assert button == [["0px", '"Parcourir"']]  # the English « Upload » is not drawn, « Parcourir » is
    assert hint == [["0px", '"200 Mo au plus par fichier · CSV, TXT, XLSX, Parquet"']]
    page.close()
