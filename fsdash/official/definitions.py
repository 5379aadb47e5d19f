"""The official indicators, read once from ``schemas/series_officielles.yaml``.

The importer (formats, known indicators, ranges) and the reconciliation (feed indicator, notes)
both read these objects, so that the YAML stays the only list of official series.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from fsdash.catalogue import read_yaml

DEFINITIONS_PATH = Path(__file__).resolve().parent.parent.parent / "schemas" / "series_officielles.yaml"

#: Codes of the official indicators the dashboard reconciles (see schemas/series_officielles.yaml).
LABELS = "nb-labellisations-france-services"
ACTS = "IND-323"
SATISFACTION = "IND-246"

#: Roles a file column can play besides carrying a value.
KEY_ROLES = ("indicator", "zone", "date", "level")


@dataclass(frozen=True)
class Source:
    """A publication format: its columns, how it names zone levels and how it dates them."""

    code: str
    label: str
    columns: dict[str, str]  # file column -> role (a key role or a value kind)
    levels: dict[str, str]  # cell of the level column -> zone level
    zone_prefix: dict[str, str]  # zone level -> prefix of its codes in the file
    national_zone: str
    month_shift: dict[str, int]  # zone level -> months added to reach the reference date
    indicator: str | None = None  # the one indicator of a format without an indicator column
    optional_columns: tuple[str, ...] = ()

    def column_of(self, role: str) -> str | None:
        """The file column playing ``role`` (a key role or a value kind)."""
        return next((c for c, r in self.columns.items() if r == role), None)

    @property
    def value_columns(self) -> dict[str, str]:
        """File column -> value kind, for the columns holding values."""
        return {c: r for c, r in self.columns.items() if r not in KEY_ROLES}


@dataclass(frozen=True)
class FeedLink:
    indicator: str
    label: str
    scale: float = 1.0


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    unit: str
    source: str
    period: str  # stock | month
    ranges: dict[str, tuple[float, float]]
    feed: FeedLink
    note: str
    initial_is_measure: bool = False


@dataclass(frozen=True)
class Definitions:
    version: int
    value_kinds: dict[str, str]
    zone_levels: dict[str, str]
    sources: dict[str, Source]
    indicators: dict[str, Indicator] = field(default_factory=dict)

    def indicators_of(self, source: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.source == source]

    def by_feed(self, feed_indicator: str) -> Indicator:
        """The official indicator reconciled with a feed indicator (``demandes``…)."""
        for indicator in self.indicators.values():
            if indicator.feed.indicator == feed_indicator:
                return indicator
        raise KeyError(feed_indicator)


def _source(raw: dict) -> Source:
    return Source(
        code=raw["code"],
        label=raw["label"],
        columns=dict(raw["columns"]),
        levels=dict(raw["levels"]),
        zone_prefix=dict(raw.get("zone_prefix", {})),
        national_zone=str(raw["national_zone"]),
        month_shift={k: int(v) for k, v in raw.get("month_shift", {}).items()},
        indicator=raw.get("indicator"),
        optional_columns=tuple(raw.get("optional_columns", ())),
    )


def _indicator(raw: dict) -> Indicator:
    return Indicator(
        code=raw["code"],
        label=raw["label"],
        unit=raw["unit"],
        source=raw["source"],
        period=raw["period"],
        ranges={k: (float(v[0]), float(v[1])) for k, v in raw["ranges"].items()},
        feed=FeedLink(**raw["feed"]),
        note=" ".join(raw["note"].split()),
        initial_is_measure=bool(raw.get("initial_is_measure", False)),
    )


def parse_definitions(data: dict) -> Definitions:
    definitions = Definitions(
        version=int(data["version"]),
        value_kinds=dict(data["value_kinds"]),
        zone_levels=dict(data["zone_levels"]),
        sources={s["code"]: _source(s) for s in data["sources"]},
        indicators={i["code"]: _indicator(i) for i in data["indicators"]},
    )
    for indicator in definitions.indicators.values():
        if indicator.source not in definitions.sources:
            raise ValueError(f"indicator {indicator.code}: unknown source {indicator.source}")
        unknown = set(indicator.ranges) - set(definitions.value_kinds)
        if unknown:
            raise ValueError(f"indicator {indicator.code}: unknown value kinds {sorted(unknown)}")
    return definitions


@functools.cache
def load_definitions(path: Path = DEFINITIONS_PATH) -> Definitions:
    return parse_definitions(read_yaml(path))
