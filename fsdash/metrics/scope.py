"""What the viewer looks at: the scope (and the access rules it carries), and the site filters.

Every query takes a :class:`Scope`, so access rules can be enforced where data is read. A scope
is a territory (national, région, département) or one site, optionally narrowed to some site
formats and carriers (the shared filter bar).
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("national", "region", "departement", "site")
_COLUMN = {"region": "region", "departement": "departement", "site": "site_id"}
#: The carrier of a site the source does not name (the ANCT list only knows La Poste).
UNKNOWN_CARRIER = "NON_RENSEIGNE"


@dataclass(frozen=True)
class Scope:
    level: str = "national"
    code: str | None = None
    formats: tuple[str, ...] = ()
    carriers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown scope level {self.level}")
        if (self.level == "national") != (self.code is None):
            raise ValueError("a national scope has no code; every other scope needs one")

    @property
    def narrowed(self) -> bool:
        """True when site formats or carriers are filtered (rollups cannot answer then)."""
        return bool(self.formats or self.carriers)

    @property
    def uses_rollup(self) -> bool:
        """Whether the departmental rollups can answer for this scope."""
        return self.level != "site" and not self.narrowed

    def territory(self) -> Scope:
        """The same territory without the format/carrier narrowing."""
        return Scope(self.level, self.code)

    def national(self) -> Scope:
        """France entière with the same narrowing (the 'national average' comparison)."""
        return Scope("national", None, self.formats, self.carriers)

    def sites_filter(self, alias: str = "s") -> tuple[str, list[str]]:
        """SQL condition on the ``sites`` table (aliased) and its bound parameters."""
        parts, params = ["TRUE"], []
        if self.level != "national":
            parts.append(f"{alias}.{_COLUMN[self.level]} = ?")
            params.append(self.code)
        if self.formats:
            parts.append(f"{alias}.format IN ({', '.join('?' * len(self.formats))})")
            params += list(self.formats)
        if self.carriers:
            parts.append(f"coalesce({alias}.porteur, '{UNKNOWN_CARRIER}') IN ({', '.join('?' * len(self.carriers))})")
            params += list(self.carriers)
        return " AND ".join(parts), params

    def rollup_filter(self, alias: str = "r") -> tuple[str, list[str]]:
        """Same condition on a departmental rollup (which has no site columns)."""
        if not self.uses_rollup:
            raise ValueError("site scopes and format/carrier filters read detail tables, not rollups")
        return self.sites_filter(alias)


NATIONAL = Scope()
