"""The indicator catalogue, read once from ``schemas/catalogue.yaml``.

Everything that knows an indicator's name (validation, warehouse DDL, templates, the
dictionary page) goes through these objects, so that the YAML stays the only list.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "schemas" / "catalogue.yaml"

#: Catalogue type -> Polars dtype used once a file has been parsed.
POLARS_TYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "enum": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "date": pl.Date(),
    "bool": pl.Boolean(),
}

#: Catalogue type -> DuckDB column type.
SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class DimensionValue:
    code: str
    label: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    source: str
    values: tuple[DimensionValue, ...]

    @property
    def codes(self) -> list[str]:
        return [v.code for v in self.values]

    def label_of(self, code: str) -> str:
        return next((v.label for v in self.values if v.code == code), code)

    def frame(self) -> pl.DataFrame:
        """Codes, labels and extra attributes (e.g. a situation's theme) as a lookup frame."""
        rows = [{"code": v.code, "label": v.label, **v.extra} for v in self.values]
        return pl.DataFrame(rows)


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    type: str
    definition: str = ""
    mandatory: bool = False
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    dimension: str | None = None
    source: str | None = None
    is_key: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def polars_type(self) -> pl.DataType:
        return POLARS_TYPES[self.type]

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    code: str
    label: str
    kind: str  # "reference" or "report"
    definition: str
    grain: tuple[str, ...]
    columns: tuple[Column, ...]  # key columns first, then the table's own
    period: str | None = None  # "quarter", "year" or None

    @property
    def key_columns(self) -> list[Column]:
        return [c for c in self.columns if c.code in self.grain]

    @property
    def value_columns(self) -> list[Column]:
        return [c for c in self.columns if c.code not in self.grain]

    @property
    def measure_columns(self) -> list[Column]:
        """Numeric indicators (what a site counts), as opposed to keys and attributes."""
        return [c for c in self.value_columns if c.type in ("int", "float")]

    @property
    def dimension_columns(self) -> list[Column]:
        """Enum columns that belong to the grain (partner, channel…)."""
        return [c for c in self.key_columns if c.type == "enum"]

    @property
    def required_columns(self) -> list[str]:
        return [c.code for c in self.columns if c.is_key or c.mandatory]

    def column(self, code: str) -> Column:
        return next(c for c in self.columns if c.code == code)

    @property
    def is_report(self) -> bool:
        return self.kind == "report"


#: A column's type in French (the dictionary, the templates, the validation's messages).
TYPE_LABELS = {
    "text": "texte",
    "enum": "code de liste",
    "int": "nombre entier",
    "float": "nombre décimal",
    "date": "date JJ/MM/AAAA",
    "bool": "oui / non",
}


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    message: str
    table: str | None = None
    left: Any = None
    right: str | None = None
    total_table: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Catalogue:
    version: int
    dimensions: dict[str, Dimension]
    tables: dict[str, Table]
    rules: tuple[Rule, ...]

    def table(self, code: str) -> Table:
        return self.tables[code]

    def rule(self, code: str) -> Rule:
        return next(r for r in self.rules if r.code == code)

    def rules_for(self, table: str) -> list[Rule]:
        return [r for r in self.rules if r.table == table]

    @property
    def report_tables(self) -> list[Table]:
        return [t for t in self.tables.values() if t.is_report]

    def situation_theme(self) -> pl.DataFrame:
        """Situation code -> theme code, used to roll requests up to the bouquet's six themes."""
        return self.dimensions["situation"].frame().select(pl.col("code").alias("situation"), pl.col("theme"))


_COLUMN_FIELDS = {
    "code",
    "label",
    "type",
    "definition",
    "mandatory",
    "unit",
    "min",
    "max",
    "pattern",
    "dimension",
    "source",
}


def _column(spec: dict[str, Any], *, is_key: bool = False) -> Column:
    known = {k: v for k, v in spec.items() if k in _COLUMN_FIELDS}
    attrs = {k: v for k, v in spec.items() if k not in _COLUMN_FIELDS}
    if is_key:
        known["mandatory"] = True
    return Column(**known, is_key=is_key, attrs=attrs)


def _resolve_ref(spec: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """``{ref: name, mandatory: …}`` -> the shared column's definition, with local overrides."""
    if "ref" not in spec:
        return spec
    name = spec["ref"]
    if name not in shared:
        raise ValueError(f"unknown shared column {name}")
    return {"code": name, **shared[name], **{k: v for k, v in spec.items() if k != "ref"}}


def _dimension(code: str, spec: dict[str, Any]) -> Dimension:
    values = tuple(
        DimensionValue(v["code"], v["label"], {k: x for k, x in v.items() if k not in ("code", "label")})
        for v in spec["values"]
    )
    return Dimension(code, spec["label"], spec.get("source", ""), values)


def parse_catalogue(raw: dict[str, Any]) -> Catalogue:
    """Build the catalogue and check its internal references, failing loudly on a typo."""
    dimensions = {code: _dimension(code, spec) for code, spec in raw["dimensions"].items()}
    shared = raw.get("shared_columns", {})
    tables: dict[str, Table] = {}
    for spec in raw["tables"]:
        specs = [_resolve_ref(c, shared) for c in spec["columns"]]
        own = {c["code"]: c for c in specs}
        columns: list[Column] = []
        for key in spec["grain"]:
            if key in shared:
                columns.append(_column({"code": key, **shared[key]}, is_key=True))
            elif key in own:
                columns.append(_column(own[key], is_key=True))
            else:
                raise ValueError(f"table {spec['code']}: grain column {key} is not defined")
        columns += [_column(c) for c in specs if c["code"] not in spec["grain"]]
        for col in columns:
            if col.type not in POLARS_TYPES:
                raise ValueError(f"{spec['code']}.{col.code}: unknown type {col.type}")
            if col.type == "enum" and col.dimension not in dimensions:
                raise ValueError(f"{spec['code']}.{col.code}: unknown dimension {col.dimension}")
        tables[spec["code"]] = Table(
            code=spec["code"],
            label=spec["label"],
            kind=spec["kind"],
            definition=spec.get("definition", ""),
            grain=tuple(spec["grain"]),
            columns=tuple(columns),
            period=spec.get("period"),
        )
    rules = tuple(Rule(**r) for r in raw.get("rules", []))
    for rule in rules:
        if rule.table is not None and rule.table not in tables:
            raise ValueError(f"rule {rule.code}: unknown table {rule.table}")
    return Catalogue(raw["version"], dimensions, tables, rules)


def read_yaml(path: Path) -> Any:
    """A YAML file of the project read safely, by libyaml when PyYAML has it (PyYAML's wheels do):
    the pure-Python parser took 0,14 s of every ``fsdash ingest`` on the catalogue alone."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@functools.cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    return parse_catalogue(read_yaml(path))
