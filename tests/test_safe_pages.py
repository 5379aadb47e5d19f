"""Safe exports and pages: every download of every page is injection-safe, no user text runs as HTML.

A small warehouse whose site names are hostile (a spreadsheet formula, a script tag, markdown) is
served page by page, nationally and on the hostile site itself. Every download button the pages
draw is captured and its file built as a click would build it: no CSV cell may start a formula. And
no element that renders HTML may carry a site name, nor any markdown element render one as markup.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from fsdash.routes import ROUTES

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

APP = str(Path(__file__).resolve().parent.parent / "app.py")
FORMULA = '=HYPERLINK("http://exemple.invalid";"clic")'
SCRIPT = "<script>alert(1)</script>"
BOLD = "**gras**"
HOSTILE = {"FS001": FORMULA, "FS002": SCRIPT, "FS003": BOLD}
_RUNS = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?[0-9]+([.,][0-9]+)?$")


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("hostile") / "fsdash.duckdb"
    name = SITES_HEADER.index("nom")
    rows = [[*r[:name], HOSTILE.get(r[0], r[name]), *r[name + 1 :]] for r in SITES_ROWS]
    files = [
        ("sites.csv", csv_bytes(SITES_HEADER, rows)),
        ("activite.csv", csv_bytes(ACTIVITE_HEADER, ACTIVITE_ROWS)),
        ("demandes_detail.csv", csv_bytes(DETAIL_HEADER, DETAIL_ROWS)),
    ]
    result = ingest_files(db, files)
    assert result.exit_code == 0
    return db


@pytest.fixture
def captured(monkeypatch) -> list[tuple[str, object]]:
    """Every download button drawn: (file name, data or the callable a click calls)."""
    got: list[tuple[str, object]] = []
    original = DeltaGenerator.download_button

    def download_button(self, label, data, *args, **kwargs):
        got.append((kwargs.get("file_name") or "", data))
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", download_button)
    import streamlit as st

    monkeypatch.setattr(st, "download_button", lambda *a, **k: download_button(st._main, *a, **k))
    return got


def _page(db: Path, monkeypatch, route_path: str, params: dict) -> AppTest:
    monkeypatch.setenv("FSDASH_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    at.run()
    at.switch_page(route_path).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _built(data: object) -> bytes:
    data = data() if callable(data) else data
    return data.encode() if isinstance(data, str) else bytes(data)


def _unsafe_cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [
        cell
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=";")
        for cell in row
        if _RUNS.match(cell) and not _NUMBER.match(cell)
    ]


def _markdown_bodies(at: AppTest) -> list[tuple[str, bool]]:
    """(body, renders HTML) of every element Streamlit renders as markdown."""
    out = []
    for kind in ("markdown", "caption", "info", "warning", "success", "error", "title", "header", "subheader"):
        for element in at.get(kind):
            proto = element.proto
            body = getattr(proto, "body", None) or getattr(proto, "text", None) or ""
            out.append((body, bool(getattr(proto, "allow_html", False))))
    for metric in at.metric:
        out.append((metric.label, False))
    return out


PARAMS = {
    "national": {},
    "site-gras": {"perimetre": "site", "code": "FS003"},
    "site-formule": {"perimetre": "site", "code": "FS001"},
}


@pytest.mark.parametrize("level", list(PARAMS))
@pytest.mark.parametrize("route", ROUTES, ids=[r.url_path for r in ROUTES])
def test_every_download_of_every_page_is_injection_safe_and_no_name_goes_to_html(
    hostile_db, monkeypatch, captured, route, level
):
    at = _page(hostile_db, monkeypatch, route.path, PARAMS[level])
    for file_name, data in captured:
        if file_name.endswith(".csv"):
            assert _unsafe_cells(_built(data)) == [], file_name
    html = "\n".join(str(e.proto) for e in at.get("html"))
    assert not any(name in html for name in HOSTILE.values())
    for body, allows_html in _markdown_bodies(at):
        if allows_html:
            assert SCRIPT not in body and "<script" not in body


def _markdown_cases() -> list:
    """Every route nationally and on the hostile site (the page header draws its scope title there)."""
    return [pytest.param(r, level, id=f"{r.url_path}-{level}") for r in ROUTES for level in ("national", "site-gras")]


@pytest.mark.parametrize("route, level", _markdown_cases())
def test_no_site_name_renders_as_markdown(hostile_db, monkeypatch, route, level):
    at = _page(hostile_db, monkeypatch, route.path, PARAMS[level])
    leaks = [body for body, _ in _markdown_bodies(at) if BOLD in body]
    assert leaks == []  # escaped (\\*\\*) or drawn as text


def test_the_hostile_names_do_reach_the_downloads(hostile_db, monkeypatch, captured):
    """The test above would prove nothing if no download carried a site name: one does, quoted."""
    _page(hostile_db, monkeypatch, "pages/page_chargements.py", {})
    texts = [_built(d).decode("utf-8-sig") for f, d in captured if f.endswith(".csv")]
    assert any("'" + FORMULA.replace('"', '""') in t for t in texts)


def test_uploads_are_size_limited_and_typed():
    import tomllib

    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == 200
    source = (Path(APP).parent / "pages" / "page_chargements.py").read_text(encoding="utf-8")
    assert "type=list(UPLOADER_TYPES)" in source and 'UPLOADER_TYPES = ("csv", "txt", "xlsx", "parquet")' in source
