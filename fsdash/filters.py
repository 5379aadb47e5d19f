"""The shared filter bar's state, as a plain value the metric functions understand.

Kept apart from Streamlit so that the URL round trip and the comparison periods are tested
without a browser.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from fsdash.metrics.scope import NATIONAL, Scope
from fsdash.periods import quarter_of, quarter_offset, quarter_start, shift_quarters

COMPARISONS = {
    "aucune": "Aucune",
    "precedente": "Période précédente",
    "annee": "Même période l'an dernier",
    "nationale": "Moyenne nationale",
}


def quarter_code(day: dt.date) -> str:
    """``2024-T1``: the form used in URLs and on the command line."""
    year, quarter = quarter_of(day)
    return f"{year}-T{quarter}"


def parse_quarter_code(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        year, quarter = text.upper().split("-T")
        return quarter_start(int(year), int(quarter))
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    scope: Scope = NATIONAL
    first: dt.date | None = None  # first quarter (its first day)
    last: dt.date | None = None  # last quarter (its first day)
    comparison: str = "aucune"

    @property
    def quarter_count(self) -> int:
        if self.first is None or self.last is None:
            return 0
        return quarter_offset(self.last, self.first) + 1

    def compared(self) -> Filters | None:
        """The filters of the comparison the viewer chose (None when there is none)."""
        if self.comparison == "aucune" or self.first is None or self.last is None:
            return None
        if self.comparison == "precedente":
            n = self.quarter_count
            return replace(
                self, first=shift_quarters(self.first, -n), last=shift_quarters(self.last, -n), comparison="aucune"
            )
        if self.comparison == "annee":
            return replace(
                self, first=shift_quarters(self.first, -4), last=shift_quarters(self.last, -4), comparison="aucune"
            )
        if self.scope.level == "national":
            return None  # France entière against itself: nothing to compare
        return replace(self, scope=self.scope.national(), comparison="aucune")

    def to_params(self) -> dict[str, str]:
        """URL query parameters reproducing this view."""
        params = {"perimetre": self.scope.level}
        if self.scope.code:
            params["code"] = self.scope.code
        if self.first:
            params["du"] = quarter_code(self.first)
        if self.last:
            params["au"] = quarter_code(self.last)
        if self.scope.formats:
            params["formats"] = ",".join(self.scope.formats)
        if self.scope.carriers:
            params["porteurs"] = ",".join(self.scope.carriers)
        if self.comparison != "aucune":
            params["comparaison"] = self.comparison
        return params
