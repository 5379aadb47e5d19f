"""Typing and validating a table read from a user's file, against the catalogue.

Two passes: parsing text cells into the catalogue's types (an unreadable cell is an error
at its line and column), then a Pandera schema *generated from the catalogue* checks ranges,
allowed codes, mandatory cells and the cross-field rules. Every failure becomes a French
message naming the file, line and column. A site-period is accepted or rejected whole, so a
revision never silently drops part of what a site declared.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import polars as pl

from fsdash.catalogue import Catalogue, Column, Rule, Table
from fsdash.pandera_polars import pa
from fsdash.periods import period_end_expr, period_start_expr
from fsdash.readers import LINE_COLUMN, RawTable, normalise_header

PERIOD = "periode"
_LABEL_DATE = "_date_label"
_PERIOD_END = "_fin_periode"
_TOTAL = "_total_reference"
_GROUP_TOTAL = "_somme_groupe"
_CLOSURE_DATE = "_date_fermeture"
_SEEN_IN = "_deja_dans"
_HELPERS = [_LABEL_DATE, _PERIOD_END, _TOTAL, _GROUP_TOTAL, _CLOSURE_DATE, _SEEN_IN]

FAILURE_SCHEMA = {
    LINE_COLUMN: pl.Int64,
    "colonne": pl.String,
    "valeur": pl.String,
    "regle": pl.String,
    "message": pl.String,
}

TYPE_NAMES = {
    "int": "nombre entier attendu",
    "float": "nombre attendu",
    "date": "date attendue (JJ/MM/AAAA)",
    "bool": "oui ou non attendu",
}
_TRUE = {"oui", "o", "vrai", "true", "1", "yes", "x"}
_FALSE = {"non", "n", "faux", "false", "0", "no"}


@dataclass(frozen=True)
class ValidationContext:
    """What the checks need to know beyond the file: the site registry, 'today', and the keys the
    other files and sheets of the same load already declared."""

    sites: pl.DataFrame  # site_id, date_labellisation[, date_fermeture]
    totals: dict[str, pl.DataFrame]  # table code -> site_id, periode, total column(s)
    today: dt.date
    #: table code -> the keys (:func:`load_keys`) accepted earlier in this load, and ``_deja_dans``:
    #: where (file, sheet) they were declared (see :func:`loaded_keys`).
    loaded: dict[str, pl.DataFrame] = field(default_factory=dict)


@dataclass
class ValidatedTable:
    raw: RawTable
    valid: pl.DataFrame  # typed rows, with ``periode`` for report tables
    rejected: pl.DataFrame  # text rows as read, with their line
    failures: pl.DataFrame  # one row per problem: line, column, value, rule, message

    @property
    def table(self) -> Table:
        return self.raw.table


def empty_failures() -> pl.DataFrame:
    return pl.DataFrame(schema=FAILURE_SCHEMA)


# --- parsing -----------------------------------------------------------------------------


def _number_text(col: str) -> pl.Expr:
    return pl.col(col).str.replace_all(r"[\s\u00a0\u202f]", "").str.replace(",", ".")


def _text_parse_expr(column: Column) -> pl.Expr:
    """A text cell read as the column's type; null when it cannot be (reported by :func:`parse`)."""
    src = pl.col(column.code).str.strip_chars()
    if column.type in ("int", "float"):
        # Most cells are plain numbers (« 1234 », « 2.5 »), cast as they are; the French writing
        # (« 1 234 », « 2,5 », « 12,0 ») is read by :func:`_french_number` where this cast fails.
        return pl.col(column.code).cast(column.polars_type, strict=False)
    if column.type == "date":
        return pl.coalesce(
            src.str.to_date("%d/%m/%Y", strict=False),
            src.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        )
    if column.type == "bool":
        lowered = src.str.to_lowercase()
        return (
            pl.when(lowered.is_in(list(_TRUE))).then(True).when(lowered.is_in(list(_FALSE))).then(False).otherwise(None)
        )
    return pl.when(src == "").then(None).otherwise(src)


def _french_number(column: Column) -> pl.Expr:
    """A number written the French way: spaces grouping thousands, a decimal comma, ``12,0`` in a
    whole-number column. Gives the plain cast's number wherever that cast succeeds."""
    text = _number_text(column.code)
    if column.type == "int":
        text = text.str.replace(r"\.0+$", "")
    return text.cast(column.polars_type, strict=False)


def _read_french_numbers(typed: pl.DataFrame, frame: pl.DataFrame, columns: list[Column]) -> pl.DataFrame:
    """Read again, the French way, only the number cells the plain cast left null: the regular
    expressions run on those few cells, not on every cell of a national quarter."""
    for column in columns:
        missed = typed[column.code].is_null() & frame[column.code].is_not_null()
        if not missed.any():
            continue
        rows = missed.arg_true()
        again = frame.select(pl.col(column.code).gather(rows)).select(_french_number(column))[column.code]
        typed = typed.with_columns(typed[column.code].scatter(rows, again))
    return typed


def _is_native(column: Column, dtype: pl.DataType) -> bool:
    """A typed cell (Parquet) that is already what the column holds: read without going through
    text. Any other type (a float in a whole-number column, a date written as text…) is read as
    its text, exactly as a CSV cell would be."""
    if column.type == "int":
        return dtype.is_integer()
    if column.type == "float":
        return dtype.is_integer() or dtype.is_float()
    if column.type == "date":
        return dtype == pl.Date
    if column.type == "bool":
        return dtype == pl.Boolean
    return False


def _is_text(column: Column) -> bool:
    return column.type not in TYPE_NAMES


def _parse_expr(column: Column, dtype: pl.DataType) -> pl.Expr:
    """The column read as its type: a native cell cast, a text cell parsed (see :func:`parse`); a
    column of text kept as it is, read by :func:`_text_cells`."""
    if _is_native(column, dtype):
        return pl.col(column.code).cast(column.polars_type)
    return pl.col(column.code) if _is_text(column) else _text_parse_expr(column)


#: Share of distinct values under which a text column is read value by value (:func:`_text_cells`).
DISTINCT_SHARE = 0.25


def _text_cells(cells: pl.Series, column: Column) -> tuple[pl.Series, pl.Series]:
    """A text column read (:func:`_text_parse_expr`: trimmed, blank = empty) on its distinct values
    and replaced only where reading changed them: a national quarter's code columns hold a few
    thousand values, already clean, and are then left untouched instead of trimmed cell by cell.
    Also gives the values it holds once read (every distinct one, and maybe some twice or null),
    for :func:`_enum_mapping` not to look for them again."""
    distinct = cells.drop_nulls().unique()
    if distinct.len() > DISTINCT_SHARE * cells.len():
        read = cells.to_frame().select(_text_parse_expr(column).alias(column.code)).to_series()
        return read, read
    read = distinct.to_frame(column.code).select(_text_parse_expr(column).alias(column.code)).to_series()
    changed = (distinct != read).fill_null(True)
    return (cells.replace(distinct.filter(changed), read.filter(changed)) if changed.any() else cells), read


def _enum_mapping(values: pl.Series, codes: list[str], labels: dict[str, str]) -> dict[str, str]:
    """Map each distinct value of ``values`` that is not a code to one, accepting labels and
    case/accent variants (a value already a code, or matching none, is left out: nothing to replace)."""
    lookup = {normalise_header(code): code for code in codes}
    lookup |= {normalise_header(label): code for code, label in labels.items()}
    mapping = {}
    for value in values.drop_nulls().unique().to_list():
        code = lookup.get(normalise_header(value), value)
        if code != value:
            mapping[value] = code
    return mapping


def parse(raw: RawTable, catalogue: Catalogue) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed frame plus one failure per cell that could not be read as its type."""
    table = raw.table
    frame = raw.frame.with_columns(
        pl.lit(None, pl.String).alias(c.code) for c in table.columns if c.code not in raw.frame.columns
    )
    # Cells of another type than the column's (or than text) are read as their text, as a CSV's.
    native = {c.code for c in table.columns if _is_native(c, frame.schema[c.code])}
    frame = frame.with_columns(
        pl.col(c.code).cast(pl.String)
        for c in table.columns
        if c.code not in native and frame.schema[c.code] != pl.String
    )
    typed = frame.select(LINE_COLUMN, *[_parse_expr(c, frame.schema[c.code]).alias(c.code) for c in table.columns])
    texts = {c.code: _text_cells(typed[c.code], c) for c in table.columns if _is_text(c)}
    typed = typed.with_columns(cells for cells, _values in texts.values())
    typed = _read_french_numbers(
        typed, frame, [c for c in table.columns if c.type in ("int", "float") and c.code not in native]
    )
    for column in table.columns:
        if column.type == "enum":
            dim = catalogue.dimensions[column.dimension]
            mapping = _enum_mapping(texts[column.code][1], dim.codes, {v.code: v.label for v in dim.values})
            if mapping:
                typed = typed.with_columns(pl.col(column.code).replace(mapping))
    failures = []
    for column in table.columns:
        if _is_text(column) or column.code in native:  # text, or a native cell, is always readable
            continue
        if typed[column.code].null_count() == frame[column.code].null_count():  # every cell given was read
            continue
        bad = frame.select(LINE_COLUMN, pl.col(column.code).alias("valeur")).filter(
            pl.col("valeur").is_not_null() & (pl.col("valeur").str.strip_chars() != "") & typed[column.code].is_null()
        )
        if bad.height:
            failures.append(
                bad.with_columns(
                    pl.lit(column.code).alias("colonne"),
                    pl.lit("format").alias("regle"),
                    (
                        pl.lit("valeur « ") + pl.col("valeur") + pl.lit(f" » illisible : {TYPE_NAMES[column.type]}")
                    ).alias("message"),
                ).select(FAILURE_SCHEMA.keys())
            )
    return typed, pl.concat([empty_failures(), *failures])


# --- the generated Pandera schema --------------------------------------------------------


def _column_checks(column: Column, catalogue: Catalogue) -> list[pa.Check]:
    checks = []
    if column.min is not None or column.max is not None:
        low = column.min if column.min is not None else float("-inf")
        high = column.max if column.max is not None else float("inf")
        checks.append(pa.Check.in_range(low, high, error="plage"))
    if column.type == "enum":
        checks.append(pa.Check.isin(catalogue.dimensions[column.dimension].codes, error="valeurs_admises"))
    if column.pattern:
        checks.append(pa.Check.str_matches(column.pattern, error="motif"))
    return checks


def _row_check(rule_code: str, expr: pl.Expr) -> pa.Check:
    """A dataframe-level check whose failures are the rows where ``expr`` is false."""
    return pa.Check(lambda data: data.lazyframe.select(expr.fill_null(True)), error=rule_code)


def _rule_expr(rule: Rule, table: Table) -> pl.Expr | None:
    if rule.kind == "le":
        return pl.col(rule.left) <= pl.col(rule.right)
    if rule.kind == "sum_le":
        return pl.sum_horizontal(rule.left) <= pl.col(rule.right)
    if rule.kind == "group_sum_le_total":
        return pl.col(_TOTAL).is_not_null() & (pl.col(_GROUP_TOTAL) <= pl.col(_TOTAL))
    if rule.kind == "unique_key":
        return ~pl.struct(list(table.grain)).is_duplicated()
    if rule.kind == "known_site" and _refers_to_sites(table):
        return pl.col(_LABEL_DATE).is_not_null()
    if rule.kind == "after_label" and table.is_report:
        return pl.col(_PERIOD_END) >= pl.col(_LABEL_DATE)
    if rule.kind == "period_complete" and table.is_report:
        return pl.col(_PERIOD_END) < pl.col("_today")
    if rule.kind == "before_closure" and table.is_report:
        return pl.col(PERIOD) <= pl.col(_CLOSURE_DATE)
    if rule.kind == "unique_in_load":
        return pl.col(_SEEN_IN).is_null()
    return None


def load_keys(table: Table) -> list[str]:
    """What one load may declare once only: a site-period for a report (accepted or rejected
    whole), the grain of any other table."""
    return ["site_id", PERIOD] if table.is_report else list(table.grain)


def _key_fields(table: Table) -> list[str]:
    """The columns of the file that say a :func:`load_keys` key."""
    if table.is_report:
        return ["site_id", "annee"] + (["trimestre"] if table.period == "quarter" else [])
    return list(table.grain)


def loaded_keys(valid: pl.DataFrame, table: Table, where: str) -> pl.DataFrame:
    """The keys of ``valid`` rows, with where they come from, for the next files of a load."""
    return valid.select(load_keys(table)).unique(maintain_order=True).with_columns(pl.lit(where).alias(_SEEN_IN))


def _with_seen(frame: pl.DataFrame, table: Table, context: ValidationContext) -> pl.DataFrame:
    """``_deja_dans``: where an earlier file or sheet of the load declared the row's key (null when
    none did). Only the keys of the periods the file holds are joined: a backfill of one file per
    quarter joins nothing."""
    keys = load_keys(table)
    seen = context.loaded.get(table.code)
    if seen is not None and not seen.is_empty() and table.is_report:
        seen = seen.filter(pl.col(PERIOD).is_in(frame[PERIOD].unique().implode()))
    if seen is None or seen.is_empty():
        return frame.with_columns(pl.lit(None, pl.String).alias(_SEEN_IN))
    seen = seen.unique(keys, keep="first", maintain_order=True)
    return frame.join(seen, on=keys, how="left", maintain_order="left")


def _refers_to_sites(table: Table) -> bool:
    """Tables keyed by a site (reports, not the registry itself) must name a known site."""
    return "site_id" in table.grain and table.code != "sites"


def _applicable_rules(table: Table, catalogue: Catalogue) -> list[Rule]:
    return [r for r in catalogue.rules if r.table in (None, table.code) and _rule_expr(r, table) is not None]


def build_schema(table: Table, catalogue: Catalogue) -> pa.DataFrameSchema:
    """The Pandera schema of one table, generated from the catalogue (never written by hand)."""
    columns = {
        c.code: pa.Column(c.polars_type, checks=_column_checks(c, catalogue), nullable=not c.mandatory)
        for c in table.columns
    }
    checks = [_row_check(r.code, _rule_expr(r, table)) for r in _applicable_rules(table, catalogue)]
    return pa.DataFrameSchema(columns, checks=checks, strict=False, name=table.code)


def _with_context(typed: pl.DataFrame, table: Table, catalogue: Catalogue, context: ValidationContext) -> pl.DataFrame:
    """Add the helper columns the generated checks read (label date, period end, totals)."""
    frame = typed.with_columns(pl.lit(context.today).alias("_today"))
    if _refers_to_sites(table):
        closure = (
            pl.col("date_fermeture") if "date_fermeture" in context.sites.columns else pl.lit(None, pl.Date)
        ).alias(_CLOSURE_DATE)
        sites = context.sites.select("site_id", pl.col("date_labellisation").alias(_LABEL_DATE), closure)
        frame = frame.join(sites, on="site_id", how="left", maintain_order="left")
    if table.is_report:
        # dates built once per distinct period (a file holds one or two), not on each of its rows
        keys = ["annee", "trimestre"] if table.period == "quarter" else ["annee"]
        periods = (
            frame.select(keys)
            .unique()
            .with_columns(
                period_start_expr(table.period).alias(PERIOD), period_end_expr(table.period).alias(_PERIOD_END)
            )
        )
        frame = frame.join(periods, on=keys, how="left", nulls_equal=True, maintain_order="left")
    frame = _with_seen(frame, table, context)
    for rule in catalogue.rules_for(table.code):
        if rule.kind == "group_sum_le_total":
            totals = context.totals.get(rule.total_table)
            totals = (
                # only the file's periods: ten years of totals are not hashed for each part of a quarter
                totals.filter(pl.col(PERIOD).is_in(frame[PERIOD].unique().implode())).select(
                    "site_id", PERIOD, pl.col(rule.right).alias(_TOTAL)
                )
                if totals is not None
                else pl.DataFrame(schema={"site_id": pl.String, PERIOD: pl.Date, _TOTAL: pl.Int64})
            )
            frame = frame.join(totals, on=["site_id", PERIOD], how="left", maintain_order="left").with_columns(
                pl.col(rule.left).sum().over("site_id", PERIOD).alias(_GROUP_TOTAL)
            )
    return frame


# --- messages ------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def _column_message(check: str, column: Column, value: str | None) -> str:
    if check == "not_nullable":
        return "valeur obligatoire manquante"
    if check == "plage":
        unit = f" {column.unit}" if column.unit else ""
        return f"valeur « {value} » hors de la plage admise ({_fmt(column.min)} à {_fmt(column.max)}{unit})"
    if check == "valeurs_admises":
        return f"valeur « {value} » inconnue (voir la liste « {column.dimension} » du catalogue)"
    if check == "motif":
        return f"valeur « {value} » mal formée"
    return f"valeur « {value} » refusée ({check})"


def _rule_message(rule: Rule, row: dict, table: Table) -> tuple[str | None, str]:
    """(column, message) of a failed cross-field rule, with the row's own values."""
    if rule.kind in ("le", "sum_le"):
        left = sum(row[c] or 0 for c in rule.left) if isinstance(rule.left, list) else row[rule.left]
        column = rule.left if isinstance(rule.left, str) else rule.left[0]
        return column, rule.message.format(left=_fmt(left), right=_fmt(row[rule.right]))
    if rule.kind == "group_sum_le_total":
        if row[_TOTAL] is None:
            return rule.left, (
                f"aucun total « {rule.right} » dans la table « {rule.total_table} » pour ce site "
                "et cette période (à charger avant ou avec le détail)"
            )
        return rule.left, rule.message.format(left=_fmt(row[_GROUP_TOTAL]), right=_fmt(row[_TOTAL]))
    if rule.kind == "unique_key":
        return None, rule.message.format(key=", ".join(f"{k}={_fmt(row[k])}" for k in table.grain))
    if rule.kind == "known_site":
        return "site_id", rule.message.format(value=row["site_id"])
    period_column = "trimestre" if table.period == "quarter" else "annee"
    if rule.kind == "after_label":
        return period_column, rule.message.format(label_date=_fmt(row[_LABEL_DATE]))
    if rule.kind == "period_complete":
        return period_column, rule.message
    if rule.kind == "before_closure":
        return period_column, rule.message.format(closure_date=_fmt(row[_CLOSURE_DATE]))
    if rule.kind == "unique_in_load":
        key = ", ".join(f"{k}={_fmt(row[k])}" for k in _key_fields(table))
        return None, rule.message.format(key=key, other=row[_SEEN_IN])
    return None, rule.message


def _failures_from(
    errors: pa.errors.SchemaErrors, frame: pl.DataFrame, table: Table, catalogue: Catalogue
) -> pl.DataFrame:
    cases = errors.failure_cases.filter(pl.col("index").is_not_null())
    records = []
    for case in cases.iter_rows(named=True):
        row = frame.row(case["index"], named=True)
        if case["schema_context"] == "Column":
            column = table.column(case["column"])
            records.append(
                (
                    row[LINE_COLUMN],
                    column.code,
                    case["failure_case"],
                    case["check"],
                    _column_message(case["check"], column, case["failure_case"]),
                )
            )
        else:
            rule = catalogue.rule(case["check"])
            column, message = _rule_message(rule, row, table)
            value = _fmt(row[column]) if column else None
            records.append((row[LINE_COLUMN], column, value, rule.code, message))
    unexplained = errors.failure_cases.filter(pl.col("index").is_null())
    for case in unexplained.iter_rows(named=True):  # schema-level problems (e.g. a dtype)
        records.append(
            (None, case["column"], case["failure_case"], case["check"], f"contrôle « {case['check']} » en échec")
        )
    return pl.DataFrame(records, schema=FAILURE_SCHEMA, orient="row")


# --- failures found natively ----------------------------------------------------------------
#
# The generated Pandera schema is the rule book; finding *which* rows break it is done here with
# Polars expressions that say exactly what the schema's checks say (null or NaN in a mandatory
# column, range bounds included, allowed codes, ``^``-anchored patterns, a row rule false; a null
# check result passes, as Pandera's ``ignore_na``). Messages are written once per distinct set of
# values they quote, then joined back to their rows: a quarter rejected whole (a wrong year on
# every row) costs joins, not a Python call per failure — Pandera's own failure report builds one
# Python object per failing row (seconds per 10⁵ rows). The rows found clean are then validated by
# Pandera itself (:func:`validate`), which has the last word.


def _column_tests(column: Column, catalogue: Catalogue, dtype: pl.DataType) -> list[tuple[str, pl.Expr]]:
    """(check, failing) pairs of one column, in the schema's order: nullability, then its checks."""
    value = pl.col(column.code)
    tests = []
    if column.mandatory:
        missing = value.is_null()
        if dtype.is_float():
            missing = missing | value.is_nan()
        tests.append(("not_nullable", missing))
    if column.min is not None or column.max is not None:
        low = column.min if column.min is not None else float("-inf")
        high = column.max if column.max is not None else float("inf")
        tests.append(("plage", ~(value.ge(low) & value.le(high)).fill_null(True)))
    if column.type == "enum":
        codes = pl.Series(catalogue.dimensions[column.dimension].codes, dtype=pl.String)
        tests.append(("valeurs_admises", ~value.is_in(codes.implode()).fill_null(True)))
    if column.pattern:
        pattern = column.pattern if column.pattern.startswith("^") else f"^{column.pattern}"
        tests.append(("motif", ~value.str.contains(pattern).fill_null(True)))
    return tests


def _described(bad: pl.DataFrame, keys: list[str], describe) -> pl.DataFrame:
    """``bad`` with the ``colonne``, ``valeur``, ``message`` that ``describe(row, texts)`` writes for
    each distinct combination of ``keys`` (called once per combination with the row's values and
    their text as Polars casts it — as Pandera reports a failing cell —, then joined back on it)."""
    as_text = [pl.col(k).cast(pl.String).alias(f"_k{i}") for i, k in enumerate(keys)]
    distinct = bad.select(keys).unique(maintain_order=True)
    rows = [
        (*describe(row, texts), *texts)
        for row, texts in zip(distinct.iter_rows(named=True), distinct.select(as_text).iter_rows(), strict=True)
    ]
    texts = pl.DataFrame(
        rows,
        schema={"colonne": pl.String, "valeur": pl.String, "message": pl.String}
        | {f"_k{i}": pl.String for i in range(len(keys))},
        orient="row",
    )
    return bad.with_columns(as_text).join(
        texts, on=[f"_k{i}" for i in range(len(keys))], how="left", nulls_equal=True, maintain_order="left"
    )


def _rule_fields(rule: Rule, table: Table) -> list[str]:
    """The row's fields that :func:`_rule_message` quotes for ``rule``."""
    period_column = "trimestre" if table.period == "quarter" else "annee"
    if rule.kind == "le":
        return [rule.left, rule.right]
    if rule.kind == "sum_le":
        return [*rule.left, rule.right]
    if rule.kind == "group_sum_le_total":
        return [rule.left, _TOTAL, _GROUP_TOTAL]
    if rule.kind == "unique_key":
        return list(table.grain)
    if rule.kind == "known_site":
        return ["site_id"]
    if rule.kind == "after_label":
        return [period_column, _LABEL_DATE]
    if rule.kind == "period_complete":
        return [period_column]
    if rule.kind == "before_closure":
        return [period_column, _CLOSURE_DATE]
    if rule.kind == "unique_in_load":
        return [*_key_fields(table), _SEEN_IN]
    return []


def _native_failures(frame: pl.DataFrame, table: Table, catalogue: Catalogue) -> pl.DataFrame:
    """Every failure of the generated schema on ``frame``, as :func:`_failures_from` reports them.

    Every test is first asked at once whether it fails anywhere (one pass over the frame); only
    the tests that do fail select their rows."""
    column_tests = [
        (column, check, failing)
        for column in table.columns
        for check, failing in _column_tests(column, catalogue, frame.schema[column.code])
    ]
    rules = [(rule, ~_rule_expr(rule, table).fill_null(True)) for rule in _applicable_rules(table, catalogue)]
    tests = [failing for _, _, failing in column_tests] + [failing for _, failing in rules]
    fails = frame.select(f.any().alias(f"t{i}") for i, f in enumerate(tests)).row(0) if tests else ()
    parts = []
    for (column, check, failing), fail in zip(column_tests, fails[: len(column_tests)], strict=True):
        if not fail:
            continue
        bad = frame.filter(failing).select(LINE_COLUMN, column.code)
        described = _described(
            bad,
            [column.code],
            lambda _row, texts, c=column, k=check: (c.code, texts[0], _column_message(k, c, texts[0])),
        )
        parts.append(described.with_columns(pl.lit(check).alias("regle")))
    for (rule, failing), fail in zip(rules, fails[len(column_tests) :], strict=True):
        if not fail:
            continue
        bad = frame.filter(failing)
        fields = _rule_fields(rule, table)

        def describe(row: dict, _texts: tuple, rule: Rule = rule) -> tuple[str | None, str | None, str]:
            column, message = _rule_message(rule, row, table)
            return column, (_fmt(row[column]) if column else None), message

        described = (
            _described(bad.select(LINE_COLUMN, *fields), fields, describe)
            if fields
            else bad.select(LINE_COLUMN).with_columns(
                pl.lit(None, pl.String).alias("colonne"),
                pl.lit(None, pl.String).alias("valeur"),
                pl.lit(rule.message).alias("message"),
            )
        )
        parts.append(described.with_columns(pl.lit(rule.code).alias("regle")))
    return pl.concat([empty_failures(), *(p.select(FAILURE_SCHEMA.keys()) for p in parts)])


def _group_rejections(typed: pl.DataFrame, failures: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Reject the other rows of any site-period that has a failure, saying why."""
    if not table.is_report or failures.is_empty():
        return empty_failures()
    keys = ["site_id", "annee"] + (["trimestre"] if table.period == "quarter" else [])
    failed_lines = failures[LINE_COLUMN].drop_nulls().unique()
    located = typed.select(LINE_COLUMN, *keys)  # only the keys: a quarter rejected whole is a million rows
    bad_groups = located.filter(pl.col(LINE_COLUMN).is_in(failed_lines.implode())).select(keys).drop_nulls().unique()
    companions = located.join(bad_groups, on=keys, how="semi").filter(
        ~pl.col(LINE_COLUMN).is_in(failed_lines.implode())
    )
    return companions.select(
        LINE_COLUMN,
        pl.lit(None, pl.String).alias("colonne"),
        pl.lit(None, pl.String).alias("valeur"),
        pl.lit("groupe_rejete").alias("regle"),
        pl.lit(
            "ligne rejetée avec les autres lignes du même site et de la même période, qui comportent une erreur"
        ).alias("message"),
    )


def _without_lines(frame: pl.DataFrame, failures: pl.DataFrame) -> pl.DataFrame:
    """``frame`` without the lines that have a failure (``frame`` itself when none has)."""
    lines = failures[LINE_COLUMN].drop_nulls()
    return frame.filter(~pl.col(LINE_COLUMN).is_in(lines.implode())) if lines.len() else frame


def check(raw: RawTable, catalogue: Catalogue, context: ValidationContext) -> ValidatedTable:
    """The native checks of ``raw``: its failures and rejected rows are final, but its ``valid`` rows
    still carry the checks' helper columns and await Pandera's word (:func:`confirm`).

    Apart from :func:`validate`, so that a file checked in parts asks Pandera for several at once:
    each call costs about 15 ms before the first row, a national quarter's detail is seven parts, and a
    ten-year backfill spent a fifth of its time there."""
    table = raw.table
    typed, failures = parse(raw, catalogue)
    frame = _with_context(typed, table, catalogue, context)
    failures = pl.concat([failures, _native_failures(frame, table, catalogue)])
    failures = once_per_cell(_once_each(pl.concat([failures, _group_rejections(typed, failures, table)])))
    return ValidatedTable(raw, _without_lines(frame, failures), _rejected_rows(raw, failures), _in_line_order(failures))


def confirm(raw: RawTable, clean: list[pl.DataFrame], catalogue: Catalogue) -> ValidatedTable:
    """Pandera's word, in one call, on rows of ``raw`` the native checks found clean (the ``valid``
    frames of :func:`check`, one per part of the file): their valid rows without the helper columns,
    and what Pandera still rejects — nothing, unless the native checks missed a failure; then with
    the other rows of its site-period, as the native checks reject them."""
    table = raw.table
    rows = pl.concat(clean) if len(clean) > 1 else clean[0]
    try:
        # a LazyFrame, so that Pandera does not collect a copy of the rows to return; its data checks
        # must then be asked for (on a LazyFrame it checks names and types only by default)
        with pa.config.config_context(validation_depth=pa.config.ValidationDepth.SCHEMA_AND_DATA):
            build_schema(table, catalogue).validate(rows.lazy(), lazy=True)
        failures = empty_failures()
    except pa.errors.SchemaErrors as errors:
        failures = _failures_from(errors, rows, table, catalogue)
        failures = _once_each(pl.concat([failures, _group_rejections(rows, failures, table)]))
        rows = _without_lines(rows, failures)
    valid = rows.drop([c for c in [*_HELPERS, "_today"] if c in rows.columns])
    return ValidatedTable(raw, valid, _rejected_rows(raw, failures), _in_line_order(failures))


def validate(raw: RawTable, catalogue: Catalogue, context: ValidationContext) -> ValidatedTable:
    """:func:`check`, then Pandera's last word on every row found clean (:func:`confirm`)."""
    native = check(raw, catalogue, context)
    late = confirm(raw, [native.valid], catalogue)
    if late.failures.is_empty():
        return replace(native, valid=late.valid)
    failures = pl.concat([native.failures, late.failures])
    return ValidatedTable(raw, late.valid, _rejected_rows(raw, failures), _in_line_order(failures))


def _once_each(failures: pl.DataFrame) -> pl.DataFrame:
    """``failures`` with one row per line, column and rule. There is one by construction (each check
    names its own rule, companions of a rejected group are other lines, Pandera sees only the lines
    found clean): checked, not deduplicated — a copy of a million failures for nothing."""
    if failures.height and failures.select(pl.struct(LINE_COLUMN, "colonne", "regle").is_duplicated().any()).item():
        return failures.unique(subset=[LINE_COLUMN, "colonne", "regle"], keep="first", maintain_order=True)
    return failures


def _rejected_rows(raw: RawTable, failures: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``raw`` with a failure, as they were read, as text (a typed file's cells written out)."""
    as_text = pl.exclude(LINE_COLUMN).cast(pl.String)
    if failures.is_empty():
        return raw.frame.clear().with_columns(as_text)
    bad_lines = failures[LINE_COLUMN].drop_nulls().implode()
    return raw.frame.filter(pl.col(LINE_COLUMN).is_in(bad_lines)).with_columns(as_text)


def _in_line_order(failures: pl.DataFrame) -> pl.DataFrame:
    return failures.sort(LINE_COLUMN, nulls_last=True, maintain_order=True)


def once_per_cell(failures: pl.DataFrame) -> pl.DataFrame:
    """A cell that could not be read as its type (``format``) is not reported again as a missing
    mandatory value (its typed cell is null): one message per cell."""
    if failures.is_empty() or not failures.select((pl.col("regle") == "format").any()).item():
        return failures
    unreadable = failures.filter(pl.col("regle") == "format").select(LINE_COLUMN, "colonne")
    again = (pl.col("regle") == "not_nullable") & pl.struct(LINE_COLUMN, "colonne").is_in(
        unreadable.select(pl.struct(LINE_COLUMN, "colonne").implode()).to_series()
    )
    return failures.filter(~again)


def describe_failure(where: str, failure: dict) -> str:
    """The one-line French message shown to a user: file, line, column, reason."""
    parts = [where]
    if failure[LINE_COLUMN] is not None:
        parts.append(f"ligne {failure[LINE_COLUMN]}")
    if failure["colonne"]:
        parts.append(f"colonne « {failure['colonne']} »")
    return ", ".join(parts) + f" : {failure['message']} [{failure['regle']}]"
