"""The failures found natively (Polars expressions, messages per distinct value) are exactly those
the generated Pandera schema reports on the whole frame.

The reference below is the former path, kept here as the oracle: Pandera validates every row and
its failure report is read case by case (``validation._failures_from``). Random rows of every table
of the catalogue, each cell spoiled with some probability (out of range, unknown code, empty,
unreadable, NaN, another site, a future or pre-label period, a duplicated key), must give the same
failure rows — line, column, value, rule and message — through :func:`validate`.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import subprocess
import sys
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from test_validation import BASE, CATALOGUE, context, other_site

from fsdash import validation
from fsdash.readers import LINE_COLUMN, RawTable, read_tables
from fsdash.validation import build_schema, validate

from conftest import csv_bytes

SPOILERS = ("-5", "999999", "abc", "", "NaN", "1,5", "INCONNU", "31/02/2024", "2031", "0")
#: Spoilers a typed (Parquet) column can hold: numbers out of range, NaN, a fraction, a missing cell.
TYPED_SPOILERS = ("-5", "999999", "", "NaN", "2031", "0", "1.5")


def reference_failures(raw) -> pl.DataFrame:
    """The former validation: Pandera on every row, its failure cases described one by one."""
    typed, failures = validation.parse(raw, CATALOGUE)
    frame = validation._with_context(typed, raw.table, CATALOGUE, context())
    try:
        build_schema(raw.table, CATALOGUE).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = pl.concat([failures, validation._failures_from(errors, frame, raw.table, CATALOGUE)])
    failures = pl.concat([failures, validation._group_rejections(typed, failures, raw.table)])
    failures = failures.unique(subset=[LINE_COLUMN, "colonne", "regle"], keep="first", maintain_order=True)
    return validation.once_per_cell(failures)


def _spoiled_rows(table: str, rng: random.Random, n: int, spoilers: tuple[str, ...] = SPOILERS) -> list[dict[str, str]]:
    good = [BASE[table], other_site(table)]
    rows = []
    for _ in range(n):
        row = dict(rng.choice(good))
        for column in row:
            if rng.random() < 0.08:
                row[column] = rng.choice(spoilers)
        rows.append(row)
    rows += rng.sample(rows, k=min(3, len(rows)))  # duplicated keys
    return rows


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(validation.FAILURE_SCHEMA.keys()).sort(pl.all(), nulls_last=True)


@pytest.mark.parametrize("table", sorted(CATALOGUE.tables))
@pytest.mark.parametrize("seed", range(4))
def test_native_failures_match_pandera(table: str, seed: int) -> None:
    rng = random.Random(f"{table}-{seed}")
    header = [c.code for c in CATALOGUE.table(table).columns]
    rows = _spoiled_rows(table, rng, 60)
    (raw,) = read_tables(csv_bytes(header, [[r[c] for c in header] for r in rows], sep=";"), "depot.csv", CATALOGUE)
    got = validate(raw, CATALOGUE, context()).failures
    want = reference_failures(raw)
    assert want.height > 0  # the spoilers did spoil something
    assert _sorted(got).to_dicts() == _sorted(want).to_dicts()


def test_pandera_still_has_the_last_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure the native pass missed (here: it is switched off) is still found and reported."""
    monkeypatch.setattr(validation, "_native_failures", lambda frame, table, catalogue: validation.empty_failures())
    header = [c.code for c in CATALOGUE.table("activite").columns]
    bad = {**BASE["activite"], "agents_formes": "9", "agents_accueil": "2"}
    (raw,) = read_tables(csv_bytes(header, [[bad[c] for c in header]], sep=";"), "depot.csv", CATALOGUE)
    result = validate(raw, CATALOGUE, context())
    assert "agents_formes_le_agents" in result.failures["regle"].to_list()
    assert result.valid.is_empty()


def _typed(frame: pl.DataFrame, rng: random.Random) -> pl.DataFrame:
    """The text frame as a tool would write it to Parquet: every column that can be typed is
    (whole numbers, decimals, dates), some whole-number columns as floats, the rest left as text."""
    out = []
    for name in frame.columns:
        column = frame[name]
        for dtype in (pl.Int64, pl.Float64, pl.Date):
            try:
                typed = column.cast(dtype) if dtype != pl.Date else column.str.to_date("%d/%m/%Y")
            except (pl.exceptions.PolarsError, pl.exceptions.InvalidOperationError):
                continue
            if typed.null_count() == column.null_count():
                column = typed.cast(pl.Float64) if dtype == pl.Int64 and rng.random() < 0.3 else typed
                break
        out.append(column)
    return pl.DataFrame(out)


@pytest.mark.parametrize("table", sorted(CATALOGUE.tables))
@pytest.mark.parametrize("seed", range(3))
def test_a_typed_parquet_validates_as_its_text(table: str, seed: int) -> None:
    """Typed cells read natively give what the same cells read as text gave (the former path)."""
    rng = random.Random(f"parquet-{table}-{seed}")
    header = [c.code for c in CATALOGUE.table(table).columns]
    rows = _spoiled_rows(table, rng, 40, TYPED_SPOILERS)
    text = pl.DataFrame({c: [r[c] or None for r in rows] for c in header}, schema={c: pl.String for c in header})
    typed = _typed(text, rng)
    buffer = io.BytesIO()
    typed.write_parquet(buffer)
    (native,) = read_tables(buffer.getvalue(), "depot.parquet", CATALOGUE)
    as_text = RawTable(
        "depot.parquet", native.table, native.frame.with_columns(pl.exclude(LINE_COLUMN).cast(pl.String))
    )
    got, want = validate(native, CATALOGUE, context()), validate(as_text, CATALOGUE, context())
    assert any(dtype != pl.String for dtype in native.frame.drop(LINE_COLUMN).dtypes)  # something was typed
    assert _sorted(got.failures).to_dicts() == _sorted(want.failures).to_dicts()
    assert got.valid.to_dicts() == want.valid.to_dicts()
    assert got.rejected.to_dicts() == want.rejected.to_dicts()


def _trust_context(raw) -> validation.ValidationContext:
    """A context where one site is closed before the rows' periods and an earlier file of the load
    declared the keys of the first rows (so that the two rules of issue 11 fail on some rows)."""
    base = context()
    closures = [dt.date(2020, 1, 1) if i % 2 else None for i in range(base.sites.height)]
    sites = base.sites.with_columns(pl.Series("date_fermeture", closures, dtype=pl.Date))
    plain = validation.ValidationContext(sites=sites, totals=base.totals, today=base.today)
    typed, _ = validation.parse(raw, CATALOGUE)
    frame = validation._with_context(typed, raw.table, CATALOGUE, plain)
    keys = validation.load_keys(raw.table)
    earlier = validation.loaded_keys(frame.head(5).drop_nulls(keys), raw.table, "avant.csv")
    return validation.ValidationContext(
        sites=sites, totals=base.totals, today=base.today, loaded={raw.table.code: earlier}
    )


@pytest.mark.parametrize("table", sorted(CATALOGUE.tables))
def test_native_failures_match_pandera_with_closures_and_earlier_files(table: str) -> None:
    rng = random.Random(f"trust-{table}")
    header = [c.code for c in CATALOGUE.table(table).columns]
    rows = _spoiled_rows(table, rng, 40)
    (raw,) = read_tables(csv_bytes(header, [[r[c] for c in header] for r in rows], sep=";"), "depot.csv", CATALOGUE)
    ctx = _trust_context(raw)
    got = validate(raw, CATALOGUE, ctx).failures
    typed, failures = validation.parse(raw, CATALOGUE)
    frame = validation._with_context(typed, raw.table, CATALOGUE, ctx)
    try:
        build_schema(raw.table, CATALOGUE).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = pl.concat([failures, validation._failures_from(errors, frame, raw.table, CATALOGUE)])
    failures = pl.concat([failures, validation._group_rejections(typed, failures, raw.table)])
    want = validation.once_per_cell(
        failures.unique(subset=[LINE_COLUMN, "colonne", "regle"], keep="first", maintain_order=True)
    )
    assert "cle_unique_chargement" in want["regle"].to_list()
    if raw.table.is_report:
        assert "periode_avant_fermeture" in want["regle"].to_list()
    assert _sorted(got).to_dicts() == _sorted(want).to_dicts()


#: Run in a fresh interpreter: fsdash.validation imported first, as ``fsdash ingest`` imports it, or
#: after pandas, as in the dashboard (Streamlit imports pandas).
_FRESH = """
import sys
sys.path[:0] = [{root!r}, {tests!r}]
if {pandas_first}:
    import pandas
import fsdash.validation
import pandera
assert ("pandas" in sys.modules) == {pandas_first}, "pandas imported with pandera"
assert hasattr(pandera, "DataFrameSchema") == {pandas_first}, "pandera's pandas API"
import random
import test_validation_native as t
from fsdash.readers import read_tables
for table in sorted(t.CATALOGUE.tables):
    for seed in range(2):
        rng = random.Random(f"{{table}}-{{seed}}")
        header = [c.code for c in t.CATALOGUE.table(table).columns]
        rows = t._spoiled_rows(table, rng, 60)
        data = t.csv_bytes(header, [[r[c] for c in header] for r in rows], sep=";")
        (raw,) = read_tables(data, "depot.csv", t.CATALOGUE)
        got = t._sorted(t.validate(raw, t.CATALOGUE, t.context()).failures)
        want = t._sorted(t.reference_failures(raw))
        assert want.height > 0 and got.to_dicts() == want.to_dicts(), table
        got.write_csv(sys.stdout)
assert ("pandas" in sys.modules) == {pandas_first}, "pandas imported by a check"
"""


def test_pandera_imported_without_pandas_reports_the_same_failures() -> None:
    """``fsdash ingest`` imports pandera without its pandas API (``fsdash.pandera_polars``, 0,4 s less
    per load): there, Pandera's own failure cases and the failures of :func:`validate` are exactly
    those of a process where pandas was loaded first (pandera imported as usual)."""
    root = Path(__file__).resolve().parent.parent
    outputs = []
    for pandas_first in (False, True):
        code = _FRESH.format(root=str(root), tests=str(root / "tests"), pandas_first=pandas_first)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and outputs[0].count("\n") > 100
