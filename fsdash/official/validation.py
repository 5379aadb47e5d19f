"""Typing and validating an official file: zones, dates, indicators and value ranges.

Same two passes as the sites' reports (:mod:`fsdash.validation`): cells that cannot be read as
their type fail at their line and column, then a Pandera schema built from
``schemas/series_officielles.yaml`` checks indicators, zone levels, zone codes (against the
INSEE geography), date bounds, value ranges and duplicates. Rows without any value are placeholders
some publications carry (a zone listed with nothing measured): they are counted, not loaded and
not rejected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import polars as pl

from fsdash import formats, geography
from fsdash.official.definitions import Definitions, Source
from fsdash.official.readers import OfficialTable
from fsdash.pandera_polars import pa
from fsdash.readers import LINE_COLUMN
from fsdash.validation import FAILURE_SCHEMA, empty_failures

#: Dates outside these bounds are typing accidents (0202, 2202), not publications.
FIRST_DATE, LAST_DATE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
VALUE_KINDS = ("initiale", "realisee", "cible", "taux_avancement")
KEY = ["indicator", "zone_level", "zone_code", "date"]
_ZONE_KNOWN = "_zone_connue"
_DUPLICATE = "_doublon"


@dataclass
class ValidatedOfficial:
    table: OfficialTable
    rows_read: int
    rows_empty: int
    #: Long: indicator, source, zone_level, zone_code, date, reference_date, value_kind, value, line.
    values: pl.DataFrame
    rejected: pl.DataFrame  # text rows as read, with their line
    failures: pl.DataFrame  # FAILURE_SCHEMA, ``colonne`` named as in the file

    @property
    def rows_rejected(self) -> int:
        return self.rejected.height

    @property
    def rows_loaded(self) -> int:
        return self.rows_read - self.rows_empty - self.rows_rejected


@cache
def known_zones() -> dict[str, frozenset[str]]:
    """Zone codes of each level, from the committed INSEE geography."""
    return {
        "departement": frozenset(geography.departements()["code"].to_list()),
        "region": frozenset(geography.regions()["code"].to_list()),
        "national": frozenset({"FR"}),
    }


# --- normalising and parsing -----------------------------------------------------------------


def _text(frame: pl.DataFrame, column: str | None) -> pl.Expr:
    if column is None or column not in frame.columns:
        return pl.lit(None, pl.String)
    return pl.col(column).str.strip_chars()


def _number(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(r"[\s\u00a0\u202f]", "").str.replace(",", ".").cast(pl.Float64, strict=False)


def _date(column: str) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    return pl.coalesce(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False), text.str.to_date("%d/%m/%Y", strict=False)
    )


def _zone_code(source: Source) -> pl.Expr:
    """The zone's code without the format's prefix (D01 -> 01); the nation is always ``FR``."""
    zone = pl.col("zone_raw").str.to_uppercase()
    expr = pl.when(pl.col("zone_level") == "national").then(
        pl.when(zone == source.national_zone.upper()).then(pl.lit("FR"))
    )
    for level, prefix in source.zone_prefix.items():
        stripped = zone.str.strip_prefix(prefix) if prefix else zone
        ok = zone.str.starts_with(prefix) if prefix else pl.lit(True)
        expr = expr.when((pl.col("zone_level") == level) & ok).then(stripped)
    return expr.otherwise(None)


def normalise(table: OfficialTable) -> pl.DataFrame:
    """One row per file row, in the dashboard's names, still as text."""
    source, frame = table.source, table.frame
    indicator = (
        pl.lit(source.indicator) if source.indicator is not None else _text(frame, source.column_of("indicator"))
    )
    return frame.select(
        LINE_COLUMN,
        indicator.alias("indicator"),
        _text(frame, source.column_of("level")).alias("level_raw"),
        _text(frame, source.column_of("zone")).alias("zone_raw"),
        _text(frame, source.column_of("date")).alias("date_raw"),
        *[_text(frame, source.column_of(kind)).alias(f"{kind}_raw") for kind in VALUE_KINDS],
    ).with_columns(pl.col(f"{k}_raw").replace("", None) for k in VALUE_KINDS)


def parse(rows: pl.DataFrame, source: Source) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed rows plus one failure per unreadable date or number, named by its file column."""
    typed = rows.with_columns(
        pl.col("level_raw").replace_strict(source.levels, default=None).alias("zone_level"),
        _date("date_raw").alias("date"),
        *[_number(f"{k}_raw").alias(k) for k in VALUE_KINDS],
    ).with_columns(_zone_code(source).alias("zone_code"))
    failures = []
    checks = [("date_raw", "date", source.column_of("date"), "date attendue (AAAA-MM-JJ ou JJ/MM/AAAA)")]
    checks += [(f"{k}_raw", k, source.column_of(k), "nombre attendu") for k in VALUE_KINDS]
    for raw, parsed, column, expected in checks:
        bad = typed.filter(pl.col(raw).is_not_null() & (pl.col(raw) != "") & pl.col(parsed).is_null())
        if bad.height:
            failures.append(
                bad.select(
                    LINE_COLUMN,
                    pl.lit(column).alias("colonne"),
                    pl.col(raw).alias("valeur"),
                    pl.lit("format").alias("regle"),
                    (pl.lit("valeur « ") + pl.col(raw) + pl.lit(f" » illisible : {expected}")).alias("message"),
                )
            )
    return typed, pl.concat([empty_failures(), *failures])


# --- the Pandera schema ----------------------------------------------------------------------


def _with_helpers(typed: pl.DataFrame, definitions: Definitions) -> pl.DataFrame:
    """Add what the row checks read: zone known, the indicator's ranges, duplicate keys."""
    zones = known_zones()
    known = pl.lit(False)
    for level, codes in zones.items():
        known = known | ((pl.col("zone_level") == level) & pl.col("zone_code").is_in(sorted(codes)))
    ranges = pl.DataFrame(
        [
            {
                "indicator": code,
                **{f"_min_{k}": ind.ranges.get(k, (None, None))[0] for k in VALUE_KINDS},
                **{f"_max_{k}": ind.ranges.get(k, (None, None))[1] for k in VALUE_KINDS},
            }
            for code, ind in definitions.indicators.items()
        ],
        schema={"indicator": pl.String, **{f"_{b}_{k}": pl.Float64 for b in ("min", "max") for k in VALUE_KINDS}},
    )
    return typed.with_columns(
        pl.when(pl.col("zone_level").is_null())
        .then(None)
        .otherwise(pl.col("zone_code").is_not_null() & known)
        .alias(_ZONE_KNOWN),
        (pl.struct(KEY).is_duplicated() & pl.col("date").is_not_null()).alias(_DUPLICATE),
    ).join(ranges, on="indicator", how="left", maintain_order="left")


def _row_check(rule: str, expr: pl.Expr) -> pa.Check:
    """A dataframe-level check whose failures are the rows where ``expr`` is false."""
    return pa.Check(lambda data: data.lazyframe.select(expr.fill_null(True)), error=rule)


def build_schema(source: Source, definitions: Definitions) -> pa.DataFrameSchema:
    """The Pandera schema of one format, generated from ``schemas/series_officielles.yaml``."""
    indicators = [i.code for i in definitions.indicators_of(source.code)]
    columns = {
        "indicator": pa.Column(
            pl.String, checks=[pa.Check.isin(indicators, error="indicateur_inconnu")], nullable=False
        ),
        "level_raw": pa.Column(
            pl.String, checks=[pa.Check.isin(list(source.levels), error="maille_inconnue")], nullable=False
        ),
        "date": pa.Column(
            pl.Date, checks=[pa.Check.in_range(FIRST_DATE, LAST_DATE, error="date_plage")], nullable=False
        ),
        **{k: pa.Column(pl.Float64, nullable=True) for k in VALUE_KINDS},
    }
    checks = [_row_check("zone_inconnue", pl.col(_ZONE_KNOWN)), _row_check("doublon", ~pl.col(_DUPLICATE))]
    checks += [
        _row_check(f"plage_{k}", pl.col(k).is_between(pl.col(f"_min_{k}"), pl.col(f"_max_{k}"))) for k in VALUE_KINDS
    ]
    return pa.DataFrameSchema(columns, checks=checks, strict=False, name=f"series_officielles_{source.code}")


# --- messages --------------------------------------------------------------------------------


def _number_text(value: float | None) -> str:
    return "" if value is None else formats.number(value, 0 if float(value).is_integer() else 2)


def _message(rule: str, row: dict, source: Source, definitions: Definitions) -> tuple[str | None, str | None, str]:
    """(file column, value, French message) of one failed check on one row."""
    if rule == "indicateur_inconnu":
        known = ", ".join(i.code for i in definitions.indicators_of(source.code))
        return (
            source.column_of("indicator"),
            row["indicator"],
            f"indicateur « {row['indicator']} » inconnu (indicateurs connus pour ce format : {known} ; "
            "voir schemas/series_officielles.yaml)",
        )
    if rule == "maille_inconnue":
        return (
            source.column_of("level"),
            row["level_raw"],
            f"maille « {row['level_raw'] or ''} » inconnue (attendu : {', '.join(source.levels)})",
        )
    if rule == "date_manquante":
        return source.column_of("date"), None, "date manquante"
    if rule == "date_plage":
        return (
            source.column_of("date"),
            row["date_raw"],
            f"date « {row['date_raw']} » hors de la plage admise ({FIRST_DATE:%d/%m/%Y} au {LAST_DATE:%d/%m/%Y})",
        )
    if rule == "zone_inconnue" and row["zone_raw"] in (None, ""):
        return source.column_of("zone"), None, "zone manquante"
    if rule == "zone_inconnue":
        level = definitions.zone_levels.get(row["zone_level"], row["zone_level"]).lower()
        return (
            source.column_of("zone"),
            row["zone_raw"],
            f"zone « {row['zone_raw'] or ''} » inconnue pour la maille « {row['level_raw']} » ({level} ; "
            "codes de la géographie INSEE)",
        )
    if rule == "doublon":
        return (
            source.column_of("zone"),
            row["zone_raw"],
            f"ligne en double : l'indicateur {row['indicator']}, la zone {row['zone_raw']} et la date "
            f"{row['date_raw']} figurent sur plusieurs lignes du fichier",
        )
    if rule.startswith("plage_"):
        kind = rule.removeprefix("plage_")
        indicator = definitions.indicators[row["indicator"]]
        low, high = indicator.ranges[kind]
        return (
            source.column_of(kind),
            row[f"{kind}_raw"],
            f"valeur « {row[f'{kind}_raw']} » hors de la plage admise pour {indicator.code} "
            f"({_number_text(low)} à {_number_text(high)} {indicator.unit})",
        )
    return None, None, f"contrôle « {rule} » en échec"


def _rule_of(check: str, column: str | None) -> str:
    """Pandera names built-in checks by their kind; the date column's null check is ours."""
    if column == "date" and check == "not_nullable":
        return "date_manquante"
    if column == "indicator" and check == "not_nullable":
        return "indicateur_inconnu"
    if column == "level_raw" and check == "not_nullable":
        return "maille_inconnue"
    return check


def _failures_from(
    errors: pa.errors.SchemaErrors, frame: pl.DataFrame, source: Source, definitions: Definitions
) -> pl.DataFrame:
    records = []
    for case in errors.failure_cases.iter_rows(named=True):
        if case["index"] is None:  # schema-level problem (a dtype): cannot name a line
            records.append(
                (
                    None,
                    case["column"],
                    str(case["failure_case"]),
                    case["check"],
                    f"contrôle « {case['check']} » en échec",
                )
            )
            continue
        row = frame.row(case["index"], named=True)
        column = case["column"] if case["schema_context"] == "Column" else None
        rule = _rule_of(case["check"], column)
        file_column, value, message = _message(rule, row, source, definitions)
        records.append((row[LINE_COLUMN], file_column, value, rule, message))
    return pl.DataFrame(records, schema=FAILURE_SCHEMA, orient="row")


# --- the whole pass --------------------------------------------------------------------------


def _reference_date(source: Source) -> pl.Expr:
    """The date in the national convention: departmental label stocks move one month later."""
    shift = pl.col("zone_level").replace_strict(source.month_shift, default=0, return_dtype=pl.Int64)
    moved = pl.col("date").dt.offset_by(pl.format("{}mo", shift))
    month_end = pl.col("date") == pl.col("date").dt.month_end()
    return pl.when(shift == 0).then(pl.col("date")).when(month_end).then(moved.dt.month_end()).otherwise(moved)


def _long_values(valid: pl.DataFrame, source: Source) -> pl.DataFrame:
    return (
        valid.with_columns(_reference_date(source).alias("reference_date"), pl.lit(source.code).alias("source"))
        .unpivot(
            index=[LINE_COLUMN, "indicator", "source", "zone_level", "zone_code", "date", "reference_date"],
            on=list(VALUE_KINDS),
            variable_name="value_kind",
            value_name="value",
        )
        .drop_nulls("value")
        .rename({LINE_COLUMN: "line"})
        .select(
            "indicator", "source", "zone_level", "zone_code", "date", "reference_date", "value_kind", "value", "line"
        )
        .sort("line", "value_kind")
    )


def validate_official(table: OfficialTable, definitions: Definitions) -> ValidatedOfficial:
    """Check every row of one official file; valid rows come back as long (one value a row)."""
    rows = normalise(table)
    has_value = pl.any_horizontal(pl.col(f"{k}_raw").is_not_null() for k in VALUE_KINDS)
    empty = rows.filter(~has_value).height
    rows = rows.filter(has_value)
    typed, failures = parse(rows, table.source)
    frame = _with_helpers(typed, definitions)
    try:
        build_schema(table.source, definitions).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failures = pl.concat([failures, _failures_from(errors, frame, table.source, definitions)])
    failures = failures.unique(subset=[LINE_COLUMN, "colonne"], keep="first", maintain_order=True)
    bad_lines = failures[LINE_COLUMN].drop_nulls().implode()
    valid = typed.filter(~pl.col(LINE_COLUMN).is_in(bad_lines))
    rejected = table.frame.filter(pl.col(LINE_COLUMN).is_in(bad_lines))
    return ValidatedOfficial(
        table,
        table.frame.height,
        empty,
        _long_values(valid, table.source),
        rejected,
        failures.sort(LINE_COLUMN, nulls_last=True),
    )
