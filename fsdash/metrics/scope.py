"""The viewer's scope, passed to every query so that access rules can be enforced where data is read."""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("national", "region", "departement", "site")
_COLUMN = {"region": "region", "departement": "departement", "site": "site_id"}


@dataclass(frozen=True)
class Scope:
    level: str = "national"
    code: str | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown scope level {self.level}")
        if (self.level == "national") != (self.code is None):
            raise ValueError("a national scope has no code; every other scope needs one")

    def sites_filter(self, alias: str = "s") -> tuple[str, list[str]]:
        """SQL condition on the ``sites`` table (aliased) and its bound parameters."""
        if self.level == "national":
            return "TRUE", []
        return f"{alias}.{_COLUMN[self.level]} = ?", [self.code]

    def rollup_filter(self, alias: str = "r") -> tuple[str, list[str]]:
        """Same condition on a departmental rollup (which has no site column)."""
        if self.level == "site":
            raise ValueError("site scope reads detail tables, not rollups")
        return self.sites_filter(alias)


NATIONAL = Scope()
