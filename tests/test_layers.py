"""The layers import only downward: the dashboard's read side never loads the write side, Streamlit
stays in the frame, the ui and the page scripts, and SQL stays in the metrics and the warehouse."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Modules of the write side (reading and validating inputs, loading) and what only they need.
WRITE_SIDE = (
    "fsdash.warehouse.ingest",
    "fsdash.validation",
    "fsdash.readers",
    "fsdash.warehouse.official_series",
    "fsdash.official.readers",
    "fsdash.official.validation",
    "fsdash.warehouse.registry",
    "fsdash.network.anct",
    "fsdash.demo",
    "pandera",
    "pandas",
)
#: Where ``import streamlit`` may appear: the frame, the ui glue, the server launcher, the pages — and
#: the benchmark, which drives pages through AppTest and speaks the server's websocket protocol.
STREAMLIT_ALLOWED = ("app.py", "fsdash/ui.py", "fsdash/serve.py", "pages/", "fsdash/bench/")
#: Where SQL may be written.
SQL_ALLOWED = ("fsdash/metrics/", "fsdash/warehouse/")


def _sources() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "fsdash").rglob("*.py"))]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _read_side_modules() -> list[str]:
    """Every fsdash module the pages import at top level (the lazy upload import inside a click
    handler is not at top level), and everything under fsdash.views and fsdash.metrics."""
    modules = {"fsdash.ui"}
    for page in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        tree = ast.parse(page.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fsdash"):
                modules.add(node.module)
                modules |= {
                    f"{node.module}.{a.name}"
                    for a in node.names
                    if (ROOT / node.module.replace(".", "/") / f"{a.name}.py").exists()
                }
            elif isinstance(node, ast.Import):
                modules |= {a.name for a in node.names if a.name.startswith("fsdash")}
    for package in ("views", "metrics"):
        modules |= {
            f"fsdash.{package}.{p.stem}" for p in (ROOT / "fsdash" / package).glob("*.py") if p.stem != "__init__"
        }
    return sorted(modules)


def test_the_read_side_never_loads_the_write_side():
    modules = _read_side_modules()
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    leaked = sorted(w for w in WRITE_SIDE if any(m == w or m.startswith(w + ".") for m in loaded))
    assert not leaked, f"the read side loads the write side: {leaked}"


def test_streamlit_stays_in_the_frame_the_ui_and_the_pages():
    offenders = [
        str(path.relative_to(ROOT))
        for path in _sources()
        if any(name == "streamlit" or name.startswith("streamlit.") for name in _imports(path))
        and not str(path.relative_to(ROOT)).startswith(STREAMLIT_ALLOWED)
    ]
    assert not offenders, f"import streamlit outside the frame, ui and pages: {offenders}"


def _runs_sql(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("sql", "execute"):
            return True
    return False


def test_sql_stays_in_the_metrics_and_the_warehouse():
    offenders = [
        str(path.relative_to(ROOT))
        for path in _sources()
        if _runs_sql(path) and not str(path.relative_to(ROOT)).startswith(SQL_ALLOWED)
    ]
    assert not offenders, f"SQL outside fsdash/metrics and fsdash/warehouse: {offenders}"
