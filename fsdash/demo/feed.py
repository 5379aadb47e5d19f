"""Synthetic quarterly reports for the demo sites, in the catalogue's table shapes.

Volumes are drawn per site-quarter (site size, ramp-up after labelling, seasonality), scaled
so that each year's national total lands on ``calibration.REQUESTS_PER_YEAR``, then split by
multinomial draws into partner × situation × channel × outcome, so the detail never exceeds
the total (rule ``detail_le_total``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from fsdash.catalogue import load_catalogue
from fsdash.demo import calibration as cal
from fsdash.demo.network import opening_hours
from fsdash.periods import quarter_end, quarter_start

MOBILE_FORMATS = ("BUS", "ITINERANT")


@dataclass
class SiteProfile:
    """Per-site traits drawn once, so a site keeps its size and habits across quarters."""

    sites: pl.DataFrame
    size: np.ndarray
    partner_p: np.ndarray  # sites × pairs
    outcome_p: np.ndarray  # sites × outcomes
    agents: np.ndarray
    hours: np.ndarray
    days: np.ndarray
    kiosk: np.ndarray
    satisfaction: np.ndarray
    survey_shift: np.ndarray

    def index_of(self, site_ids: pl.Series) -> np.ndarray:
        """Row positions of the given sites in the profile arrays."""
        positions = self.sites.select("site_id").with_row_index("i")
        return (
            pl.DataFrame({"site_id": site_ids})
            .join(positions, on="site_id", how="left", maintain_order="left")["i"]
            .to_numpy()
        )


def pairs() -> list[tuple[str, str, float]]:
    """(partner, situation, share) for every pair the demo uses."""
    return [
        (p, s, cal.PARTNER_SHARES[p] * w)
        for p, situations in cal.PARTNER_SITUATIONS.items()
        for s, w in situations.items()
    ]


def draw_profiles(rng: np.random.Generator, sites: pl.DataFrame) -> SiteProfile:
    n = sites.height
    mobile = sites["format"].is_in(MOBILE_FORMATS).to_numpy()
    antenna = (sites["type_site"] == "ANTENNE").to_numpy()
    poste = (sites["porteur"] == "LA_POSTE").to_numpy()
    size = (
        rng.lognormal(0.0, 0.45, n)
        * np.where(mobile, 0.6, 1.0)
        * np.where(antenna, 0.4, 1.0)
        * np.where(poste, 0.75, 1.0)
    )
    shares = np.array([w for _, _, w in pairs()])
    partner_p = rng.dirichlet(shares * 300, size=n)
    outcome_p = rng.dirichlet(np.array(list(cal.OUTCOME_SHARES.values())) * 120, size=n)
    drawn_hours, drawn_days = opening_hours(rng, n)
    hours = sites["heures_ouverture_hebdo"].fill_null(pl.Series(drawn_hours)).to_numpy()
    days = sites["jours_ouverture_hebdo"].fill_null(pl.Series(drawn_days)).to_numpy()
    agents = np.clip(rng.poisson(2.3, n), 1, 6) + np.where(rng.random(n) < 0.9, 1, 0)
    kiosk = np.zeros(n, dtype=bool)
    kiosk[rng.choice(n, size=min(cal.KIOSK_SITES, n), replace=False)] = True
    satisfaction = rng.beta(cal.KIOSK_SATISFACTION * 80, (1 - cal.KIOSK_SATISFACTION) * 80, n)
    return SiteProfile(
        sites,
        size,
        partner_p,
        outcome_p,
        agents,
        hours.astype(float),
        days,
        kiosk,
        satisfaction,
        rng.normal(0, 0.04, n),
    )


def active_fraction(sites: pl.DataFrame, year: int, quarter: int) -> np.ndarray:
    """Share of the quarter each site was open (0 when not labelled yet or closed)."""
    start, end = quarter_start(year, quarter), quarter_end(year, quarter)
    days = (end - start).days + 1
    label = sites["date_labellisation"].to_list()
    close = sites["date_fermeture"].to_list()
    out = np.zeros(sites.height)
    for i, (lab, clo) in enumerate(zip(label, close, strict=True)):
        first = max(lab, start)
        last = min(clo - dt.timedelta(days=1), end) if clo else end
        out[i] = max(0, (last - first).days + 1) / days
    return out


def ramp(sites: pl.DataFrame, year: int, quarter: int) -> np.ndarray:
    """New sites take about a year to reach their cruising activity."""
    start = quarter_start(year, quarter)
    age_days = np.array([(start - d).days for d in sites["date_labellisation"].to_list()])
    return np.clip(0.55 + 0.45 * age_days / 365, 0.55, 1.0)


def year_scale(profile: SiteProfile, year: int, quarters: list[int]) -> float:
    """Requests per unit of site size so that the year's *reported* total hits its calibration.

    Reports that never arrive (``SHARE_MISSING_REPORTS``) are compensated for.
    """
    share_of_year = sum(cal.SEASONALITY[q] for q in quarters) / sum(cal.SEASONALITY.values())
    target = cal.requests_per_year(year) / (1 - cal.SHARE_MISSING_REPORTS) * share_of_year
    weight = sum(
        (
            profile.size * active_fraction(profile.sites, year, q) * ramp(profile.sites, year, q) * cal.SEASONALITY[q]
        ).sum()
        for q in quarters
    )
    return target / weight if weight else 0.0  # no site open yet: nothing to scale


def expected_weight(profile: SiteProfile, year: int, quarter: int) -> np.ndarray:
    """Each site's expected requests in a quarter, per unit of scale."""
    return (
        profile.size
        * active_fraction(profile.sites, year, quarter)
        * ramp(profile.sites, year, quarter)
        * cal.SEASONALITY[quarter]
    )


def share_factors(weights: np.ndarray, departements: np.ndarray, shares: dict[str, float]) -> np.ndarray:
    """Per-site multipliers giving each département its target share of the total weight.

    Départements without a target (or without weight) keep their factor 1; the targets are
    rescaled to the weight the others leave. Plain numpy in a fixed order, so that a seed always
    gives the same draws.
    """
    codes, position = np.unique(departements.astype(str), return_inverse=True)
    weight = np.bincount(position, weights=weights, minlength=len(codes))
    target = np.array([shares.get(code, 0.0) for code in codes])
    targeted = (target > 0) & (weight > 0)
    factor = np.ones(len(codes))
    if targeted.any():
        factor[targeted] = target[targeted] / target[targeted].sum() * weight[targeted].sum() / weight[targeted]
    return factor[position]


def activity(
    rng: np.random.Generator, profile: SiteProfile, year: int, quarter: int, scale: float | np.ndarray
) -> pl.DataFrame:
    """The ``activite`` rows of one quarter (every site open during it).

    ``scale`` is requests per unit of site size: one number, or one per site (calibrated demo).
    """
    frac = active_fraction(profile.sites, year, quarter)
    idx = np.flatnonzero(frac > 0)
    per_site = np.broadcast_to(np.asarray(scale, dtype=float), profile.size.shape)
    mean = (
        profile.size[idx]
        * frac[idx]
        * ramp(profile.sites, year, quarter)[idx]
        * cal.SEASONALITY[quarter]
        * per_site[idx]
    )
    demandes = rng.poisson(mean)
    m = len(idx)
    agents = profile.agents[idx]
    emails = rng.poisson(demandes * 0.05)
    closures = rng.poisson(0.4, m)
    return pl.DataFrame(
        {
            "site_id": profile.sites["site_id"].to_numpy()[idx],
            "annee": year,
            "trimestre": quarter,
            "usagers_accueillis": np.round(demandes / rng.uniform(1.15, 1.45, m)).astype(np.int64),
            "demandes": demandes,
            "appels_recus": rng.poisson(demandes * 0.35),
            "courriels_recus": emails,
            "courriels_repondus_72h": rng.binomial(emails, 0.9),
            "visios_realisees": rng.poisson(demandes * 0.01),
            "agents_accueil": agents,
            "agents_etp": np.round(agents * rng.uniform(0.55, 1.0, m), 1),
            "agents_formes": rng.binomial(agents, min(max(0.4 + 0.15 * (year - 2020), 0.0), 0.95)),
            "heures_ouverture_hebdo": profile.hours[idx],
            "jours_ouverture_hebdo": profile.days[idx],
            "fermetures_exceptionnelles": closures,
            "fermetures_annoncees_7j": rng.binomial(closures, 0.85),
            "postes_numeriques": np.clip(agents + rng.integers(0, 3, m), 1, None),
            "pass_numeriques_remis": rng.poisson(demandes * 0.004),
            "sessions_numeriques": rng.poisson(2.0, m),
            "situations_non_recours": rng.poisson(demandes * 0.012),
        }
    )


def full_pairs() -> list[tuple[str, str]]:
    """(partner, situation) for every partner and every life situation of the catalogue (full grain)."""
    situations = load_catalogue().dimensions["situation"].codes
    return [(p, s) for p in cal.PARTNER_SHARES for s in situations]


def _full_grain_pairs(partner_p: np.ndarray) -> np.ndarray:
    """Site probabilities over :func:`full_pairs`: each partner keeps its share, a part of which
    (``FULL_GRAIN_SITUATION_SPREAD``) is spread evenly over every life situation."""
    wide = full_pairs()
    position = {pair: i for i, pair in enumerate(wide)}
    partners = list(cal.PARTNER_SHARES)
    to_wide = np.zeros((len(pairs()), len(wide)))
    to_partner = np.zeros((len(pairs()), len(partners)))
    for i, (partner, situation, _w) in enumerate(pairs()):
        to_wide[i, position[(partner, situation)]] = 1.0
        to_partner[i, partners.index(partner)] = 1.0
    per_partner = len(wide) // len(partners)
    spread = cal.FULL_GRAIN_SITUATION_SPREAD
    even = np.repeat(partner_p @ to_partner, per_partner, axis=1) / per_partner
    return (1 - spread) * (partner_p @ to_wide) + spread * even


def request_detail(
    rng: np.random.Generator, profile: SiteProfile, act: pl.DataFrame, full_grain: bool = False
) -> pl.DataFrame:
    """``demandes_detail`` rows: multinomial splits of each site-quarter's total (non-zero rows only).

    ``full_grain`` (``demo --grain complet``) splits over every partner × situation of the catalogue with
    flatter channels, for as many rows a site-quarter as a real national feed (see ``calibration``).
    """
    rows_idx = profile.index_of(act["site_id"])
    totals = act["demandes"].to_numpy()
    pair_p = _full_grain_pairs(profile.partner_p[rows_idx]) if full_grain else profile.partner_p[rows_idx]
    pair_counts = rng.multinomial(totals, pair_p)  # rows × pairs
    mobile = profile.sites["format"].is_in(MOBILE_FORMATS).to_numpy()[rows_idx]
    channels = list(cal.CHANNEL_SHARES_FIXED)
    ch_p = np.where(mobile[:, None], list(cal.CHANNEL_SHARES_MOBILE.values()), list(cal.CHANNEL_SHARES_FIXED.values()))
    if full_grain:
        ch_p = (1 - cal.FULL_GRAIN_CHANNEL_SPREAD) * ch_p + cal.FULL_GRAIN_CHANNEL_SPREAD / len(channels)
    co_p = (ch_p[:, :, None] * profile.outcome_p[rows_idx][:, None, :]).reshape(len(rows_idx), -1)
    cells = rng.multinomial(pair_counts, co_p[:, None, :])  # rows × pairs × (channel·outcome)
    r, p, k = np.nonzero(cells)
    pair_list = full_pairs() if full_grain else pairs()
    outcomes = list(cal.OUTCOME_SHARES)
    n_out = len(outcomes)
    return pl.DataFrame(
        {
            "site_id": act["site_id"].to_numpy()[r],
            "annee": act["annee"].to_numpy()[r],
            "trimestre": act["trimestre"].to_numpy()[r],
            "partenaire": np.array([x[0] for x in pair_list])[p],
            "situation": np.array([x[1] for x in pair_list])[p],
            "canal": np.array(channels)[k // n_out],
            "issue": np.array(outcomes)[k % n_out],
            "nb_demandes": cells[r, p, k],
        }
    )


def _logit(p: np.ndarray | float) -> np.ndarray:
    return np.log(p) - np.log1p(-np.asarray(p))


def kiosk_answers(
    rng: np.random.Generator, profile: SiteProfile, act: pl.DataFrame, targets: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``satisfaction_borne`` rows for the sites equipped with a kiosk.

    ``targets`` (``departement``, ``annee``, ``trimestre``, ``taux``; a null quarter is the
    département's default) moves each site's satisfaction on the logit scale, so that its
    département sits around the official rate while sites keep their spread.
    """
    idx = profile.index_of(act["site_id"])
    keep = profile.kiosk[idx] & (act["annee"].to_numpy() >= cal.KIOSK_FIRST_YEAR)
    idx, sub = idx[keep], act.filter(pl.Series(keep))
    answers = rng.poisson(cal.KIOSK_ANSWERS_PER_QUARTER * np.clip(profile.size[idx], 0.3, 3))
    probability = profile.satisfaction[idx]
    if targets is not None:
        rate = _row_targets(profile, sub, targets)
        shift = np.where(np.isnan(rate), 0.0, _logit(np.nan_to_num(rate, nan=0.5)) - _logit(cal.KIOSK_SATISFACTION))
        probability = 1 / (1 + np.exp(-(_logit(probability) + shift)))
    satisfied = rng.binomial(answers, probability)
    very = rng.binomial(satisfied, 0.7)
    unhappy = answers - satisfied
    little = rng.binomial(unhappy, 0.6)
    return sub.select("site_id", "annee", "trimestre").with_columns(
        pl.Series("reponses_tres_satisfait", very),
        pl.Series("reponses_satisfait", satisfied - very),
        pl.Series("reponses_peu_satisfait", little),
        pl.Series("reponses_pas_satisfait", unhappy - little),
    )


def _row_targets(profile: SiteProfile, rows: pl.DataFrame, targets: pl.DataFrame) -> np.ndarray:
    """The target rate of each row's département and quarter (its default, else NaN)."""
    deps = profile.sites.select("site_id", "departement")
    keys = [pl.col("annee").cast(pl.Int64), pl.col("trimestre").cast(pl.Int64)]
    frame = rows.select("site_id", *keys).join(deps, on="site_id", how="left", maintain_order="left")
    by_quarter = targets.filter(pl.col("trimestre").is_not_null()).with_columns(keys)
    default = targets.filter(pl.col("trimestre").is_null()).select("departement", pl.col("taux").alias("defaut"))
    frame = frame.join(by_quarter, on=["departement", "annee", "trimestre"], how="left", maintain_order="left").join(
        default, on="departement", how="left", maintain_order="left"
    )
    return frame.select(pl.coalesce("taux", "defaut").cast(pl.Float64)).to_series().fill_null(np.nan).to_numpy()


def place_kiosks(rng: np.random.Generator, profile: SiteProfile, before: dt.date) -> None:
    """Re-place the kiosks so that every département has some, labelled before ``before`` if it can.

    Used by the calibrated demo: a département's satisfaction can only be compared with the
    official one if some of its sites have a kiosk.
    """
    sites = profile.sites.with_row_index("i")
    kiosk = np.zeros(sites.height, dtype=bool)
    for _, group in sites.sort("departement").group_by("departement", maintain_order=True):
        early = group.filter(pl.col("date_labellisation") < before)["i"].to_numpy()
        pool = early if len(early) >= cal.KIOSKS_MIN_PER_DEPARTEMENT else group["i"].to_numpy()
        kiosk[rng.choice(pool, size=min(cal.KIOSKS_MIN_PER_DEPARTEMENT, len(pool)), replace=False)] = True
    rest = np.flatnonzero(~kiosk)
    extra = max(0, min(cal.KIOSK_SITES - int(kiosk.sum()), len(rest)))
    kiosk[rng.choice(rest, size=extra, replace=False)] = True
    profile.kiosk = kiosk


def survey(rng: np.random.Generator, profile: SiteProfile, year: int, site_ids: list[str]) -> pl.DataFrame:
    """``enquete_annuelle`` rows: a 5-point scale per question for participating sites."""
    idx = profile.index_of(pl.Series(site_ids))
    idx = idx[rng.random(len(idx)) < cal.SURVEY_PARTICIPATION]
    if len(idx) == 0:
        return pl.DataFrame()
    questions = {"ACCUEIL": 0.03, "ATTENTE": -0.08, "REPONSE": 0.0, "CONFIDENTIALITE": 0.02, "RECOMMANDATION": 0.01}
    respondents = rng.poisson(cal.SURVEY_RESPONDENTS_MEAN, len(idx)) + 1
    frames = []
    base = np.array(cal.SURVEY_LIKERT)
    for question, shift in questions.items():
        top = np.clip(base[4] + shift + profile.survey_shift[idx], 0.2, 0.9)
        p = np.column_stack([np.tile(base[:4], (len(idx), 1)) * ((1 - top) / base[:4].sum())[:, None], top])
        answered = respondents - rng.binomial(respondents, 0.03)
        counts = rng.multinomial(answered, p)
        frames.append(
            pl.DataFrame(
                {
                    "site_id": profile.sites["site_id"].to_numpy()[idx],
                    "annee": year,
                    "question": question,
                    "repondants": respondents,
                    **{f"reponses_{k + 1}": counts[:, k] for k in range(5)},
                }
            )
        )
    return pl.concat(frames)
