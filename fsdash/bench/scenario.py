"""What the benchmark looks at in a warehouse, chosen from its data, the same way on every run.

The département scope is the département with the most sites (its pages have the most to draw), the
site scope that département's site with the most reported quarters (the longest series), ties broken
by code. The filter changes start from France entière over the whole period and move to: the
département scope, another département (the second by sites), the last four quarters, one site format
(the second most common: a real subset, not nearly everything), one carrier (likewise) and a comparison.

Everything is read on a plain read-only connection (:func:`fsdash.warehouse.store.reader`), which the
fsdash cache never answers: choosing the scenario leaves no answer behind to flatter a cold measurement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

#: The scope levels measured, in order (query parameter ``perimetre``).
SCOPES = ("national", "departement", "site")


@dataclass(frozen=True)
class Scenario:
    departement: str
    other_departement: str
    site: str
    quarters: tuple[dt.date, ...]
    format: str | None
    carrier: str | None

    def query_params(self, scope: str) -> dict[str, str]:
        """The URL of a scope (``perimetre``, ``code``), as a link to the dashboard would carry it."""
        if scope == "national":
            return {}
        if scope == "departement":
            return {"perimetre": "departement", "code": self.departement}
        if scope == "site":
            return {"perimetre": "site", "code": self.site}
        raise ValueError(f"unknown scope {scope}")

    def describe(self) -> dict[str, object]:
        return {
            "departement": self.departement,
            "autre_departement": self.other_departement,
            "site": self.site,
            "trimestres": len(self.quarters),
            "format": self.format,
            "porteur": self.carrier,
        }


def _second(rows: list[tuple]) -> str | None:
    """The second most common value (the only one when there is one), ``rows`` sorted by count."""
    values = [r[0] for r in rows if r[0] is not None]
    if not values:
        return None
    return values[1] if len(values) > 1 else values[0]


def choose(path: Path) -> Scenario:
    """The scenario of the warehouse at ``path`` (see the module docstring)."""
    from fsdash.metrics import activity, quality
    from fsdash.warehouse.store import reader

    with reader(path) as con:
        largest = quality.busiest(con)
        quarters = activity.quarters(con)
    deps = [(d,) for d in largest["departements"]]
    if not deps:
        raise ValueError(f"{path} : aucun site dans l'entrepôt, rien à mesurer")
    departement, site = deps[0][0], largest["site"]
    site_format = _second([(f,) for f in largest["formats"]])
    carrier = _second([(c,) for c in largest["porteurs"]])
    other = deps[1][0] if len(deps) > 1 else departement
    return Scenario(departement, other, site, quarters, site_format, carrier)
