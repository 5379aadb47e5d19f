"""Persistent traits of the départements, so that the demo's départements differ as real ones do.

Each département gets, once per seed, a level of activity per site, a shift of its on-the-spot
share and of its kiosk satisfaction, a punctuality of its reporting and a tilt of its partner mix.
Part of each trait follows how urban the département is (share of its population in communes of
``calibration.URBAN_COMMUNE_POPULATION`` or more) and whether it is overseas; the rest is a random
draw. Sizes and their sources: ``calibration``. National figures stay calibrated because the
feed re-centres every trait (``feed.draw_profiles``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from fsdash import geography
from fsdash.demo import calibration as cal


@dataclass(frozen=True)
class Territories:
    """One row per département code (sorted), every trait an aligned array."""

    codes: np.ndarray
    urbanity: np.ndarray  # 0–1: share of the population in urban communes
    overseas: np.ndarray  # bool
    activity: np.ndarray  # multiplier of a site's size
    on_the_spot_shift: np.ndarray  # logit shift of the on-the-spot share
    satisfaction_shift: np.ndarray  # logit shift of kiosk satisfaction
    lateness: np.ndarray  # multiplier of the late and missing report shares (mean 1)
    partner_tilt: np.ndarray  # départements × partners multipliers of the partner mix

    def index_of(self, departements: np.ndarray) -> np.ndarray:
        """Row of each given département code in the trait arrays."""
        return np.searchsorted(self.codes, departements.astype(str))


def urbanity(codes: list[str]) -> np.ndarray:
    """Share of each département's population living in communes of the urban threshold or more (0 if unknown)."""
    communes = geography.communes().with_columns(pl.col("population").fill_null(0))
    shares = communes.group_by("departement").agg(
        (pl.col("population").filter(pl.col("population") >= cal.URBAN_COMMUNE_POPULATION).sum())
        / pl.col("population").sum().clip(1, None)
    )
    known = dict(shares.iter_rows())
    return np.array([float(known.get(code, 0.0)) for code in codes])


def draw_territories(rng: np.random.Generator, extra_codes: list[str] | None = None) -> Territories:
    """Traits of every département of the geography (and of ``extra_codes``, e.g. a real list's).

    Drawn in the order of the sorted codes, so that a seed always gives each département the same traits.
    """
    codes = sorted(set(geography.departements()["code"].to_list()) | set(extra_codes or []))
    n = len(codes)
    urban = urbanity(codes)
    overseas = np.array([code.startswith("97") for code in codes])
    activity = (1 + cal.URBAN_ACTIVITY_BONUS * urban) * rng.lognormal(0.0, cal.DEPARTEMENT_ACTIVITY_SIGMA, n)
    on_the_spot = (
        rng.normal(0.0, cal.DEPARTEMENT_ON_THE_SPOT_SIGMA, n)
        + cal.URBAN_ON_THE_SPOT_SHIFT * urban
        + np.where(overseas, cal.OVERSEAS_ON_THE_SPOT_SHIFT, 0.0)
    )
    satisfaction = rng.normal(0.0, cal.DEPARTEMENT_SATISFACTION_SIGMA, n) + cal.RURAL_SATISFACTION_SHIFT * (1 - urban)
    sigma = cal.DEPARTEMENT_LATENESS_SIGMA
    lateness = rng.lognormal(-(sigma**2) / 2, sigma, n)
    tilt_sigma = cal.DEPARTEMENT_PARTNER_SIGMA
    tilt = rng.lognormal(-(tilt_sigma**2) / 2, tilt_sigma, (n, len(cal.PARTNER_SHARES)))
    return Territories(np.array(codes), urban, overseas, activity, on_the_spot, satisfaction, lateness, tilt)
