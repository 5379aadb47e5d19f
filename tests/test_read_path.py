"""No Python callback inside a Polars expression on the read path.

``map_elements``, ``map_batches``, ``map_rows`` and ``.apply`` run Python once per row (Babel per row:
seconds on 10⁴ rows) and, worse, run on Polars' thread pool and need the GIL while other server threads
hold the GIL waiting on that pool: under concurrent sessions the Streamlit server deadlocks. The read
side formats with native expressions (:mod:`fsdash.formats`' ``*_expr``) or after collecting.

The source is read as Python tokens, so a comment or a docstring naming these methods is not a call.
"""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Folders (or files) of the read side that are scanned, relative to the repository root.
SCANNED_ROOTS = ("fsdash", "pages", "app.py")

#: The write side (ingestion, validation, reading source files, the demo generator, the CLI), where a
#: callback runs in a batch process and never under the server's threads.
WRITE_SIDE = (
    "fsdash/warehouse/ingest.py",
    "fsdash/validation.py",
    "fsdash/readers.py",
    "fsdash/templates.py",
    "fsdash/warehouse/official_series.py",
    "fsdash/official/readers.py",
    "fsdash/official/validation.py",
    "fsdash/network/",
    "fsdash/demo/",
    "fsdash/warehouse/registry.py",
    "fsdash/cli.py",
)

#: Methods that call Python per element, per batch or per row.
CALLBACK_METHODS = frozenset({"map_elements", "map_batches", "map_rows"})


def _read_side_files() -> list[Path]:
    files = []
    for root in SCANNED_ROOTS:
        path = REPO_ROOT / root
        candidates = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in candidates:
            relative = file.relative_to(REPO_ROOT).as_posix()
            if not any(relative == w or (w.endswith("/") and relative.startswith(w)) for w in WRITE_SIDE):
                files.append(file)
    return files


def callbacks(source: str) -> list[tuple[int, str]]:
    """(line, text) of every ``map_elements(``/``map_batches(``/``map_rows(``/``.apply(`` call in
    ``source``, comments and strings left aside."""
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    ]
    found = []
    for i, token in enumerate(tokens[:-1]):
        if token.type != tokenize.NAME or tokens[i + 1].string != "(":
            continue
        is_apply = token.string == "apply" and i > 0 and tokens[i - 1].string == "."
        if token.string in CALLBACK_METHODS or is_apply:
            found.append((token.start[0], token.line.strip()))
    return found


def test_the_scan_finds_calls_and_ignores_comments_and_strings():
    source = (
        "x = pl.col('a').map_elements(f)\n"
        "y = frame.apply(g)  # .apply( again\n"
        "z = s.map_batches (h)\n"
        "w = df.map_rows(\n    k)\n"
        '"""never map_elements( in a docstring"""\n'
        "# map_rows( in a comment\n"
        "apply(x)  # a plain function named apply\n"
        "q = s.map_elements\n"
    )
    assert [line for line, _ in callbacks(source)] == [1, 2, 3, 4]


def test_the_read_side_is_scanned():
    files = {f.relative_to(REPO_ROOT).as_posix() for f in _read_side_files()}
    assert {"fsdash/formats.py", "fsdash/maps.py", "fsdash/charts/reasons.py"} <= files
    assert "fsdash/warehouse/ingest.py" not in files and not any(f.startswith("fsdash/demo/") for f in files)


def test_no_python_callback_in_polars_expressions_on_the_read_path():
    offences = [
        f"{file.relative_to(REPO_ROOT).as_posix()}:{line}: {text}"
        for file in _read_side_files()
        for line, text in callbacks(file.read_text(encoding="utf-8"))
    ]
    assert not offences, (
        "Python callbacks on the read path (format with fsdash.formats' *_expr or after collecting):\n"
        + "\n".join(offences)
    )
