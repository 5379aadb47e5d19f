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
from fsdash.demo.territory import draw_territories
from fsdash.periods import quarter_end, quarter_start

MOBILE_FORMATS = ("BUS", "ITINERANT")


@dataclass
class SiteProfile:
    """Per-site traits drawn once, so a site keeps its size and habits across quarters."""

    sites: pl.DataFrame
    size: np.ndarray
    partner_p: np.ndarray  # sites × pairs
    outcome_p: np.ndarray  # sites × partners × outcomes
    channel_p: np.ndarray  # sites × partners × channels
    agents: np.ndarray
    hours: np.ndarray
    days: np.ndarray
    kiosk: np.ndarray
    satisfaction: np.ndarray  # with the département's shift (the default demo)
    satisfaction_base: np.ndarray  # without it (``demo --official`` moves sites to the official rates)
    survey_shift: np.ndarray
    lateness: np.ndarray  # multiplier of the late and missing report shares

    def index_of(self, site_ids: pl.Series) -> np.ndarray:
        """Row positions of the given sites in the profile arrays."""
        positions = self.sites.select("site_id").with_row_index("i")
        return (
            pl.DataFrame({"site_id": site_ids})
            .join(positions, on="site_id", how="left", maintain_order="left")["i"]
            .to_numpy()
        )

    def report_shares(self, site_ids: pl.Series, share: float) -> np.ndarray:
        """Each row's chance of a late (or missing) report: the national share × its département's lateness."""
        return np.clip(share * self.lateness[self.index_of(site_ids)], 0.0, 0.5)


#: Partners in the order of the profile arrays' partner axis.
PARTNERS = list(cal.PARTNER_SHARES)


def pairs() -> list[tuple[str, str, float]]:
    """(partner, situation, share) for every pair the demo uses."""
    return [
        (p, s, cal.PARTNER_SHARES[p] * w)
        for p, situations in cal.PARTNER_SITUATIONS.items()
        for s, w in situations.items()
    ]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _centre(logits: np.ndarray, weights: np.ndarray, target: float) -> np.ndarray:
    """``logits`` shifted by one constant so that their weighted mean probability is ``target``.

    Why: département and site shifts on the logit scale do not average out on the probability
    scale; one common shift (found by bisection, the mean being monotonic in it) keeps the
    national figure on its calibration whatever the spread.
    """
    low, high = -10.0, 10.0
    total = weights.sum()
    for _ in range(60):
        mid = (low + high) / 2
        if (weights * _sigmoid(logits + mid)).sum() / total < target:
            low = mid
        else:
            high = mid
    return logits + (low + high) / 2


def _partner_mix(rng: np.random.Generator, size: np.ndarray, tilt: np.ndarray) -> np.ndarray:
    """Sites × pairs shares: a Dirichlet draw around the national shares, tilted by the département.

    The partner columns are then rescaled (a few rounds of proportional fitting) so that the
    size-weighted national partner shares stay ``PARTNER_SHARES``.
    """
    pair_list = pairs()
    partner_of = np.array([PARTNERS.index(p) for p, _, _ in pair_list])
    shares = np.array([w for _, _, w in pair_list])
    mix = rng.dirichlet(shares * 300, size=len(size)) * tilt[:, partner_of]
    mix /= mix.sum(axis=1, keepdims=True)
    target = np.array([cal.PARTNER_SHARES[p] for p in PARTNERS])
    target = target / target.sum()
    for _ in range(5):
        national = np.bincount(partner_of, weights=size @ mix, minlength=len(PARTNERS)) / size.sum()
        mix *= (target / national)[partner_of]
        mix /= mix.sum(axis=1, keepdims=True)
    return mix


def _outcomes(rng: np.random.Generator, size: np.ndarray, partner_p: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Sites × partners × outcomes: each partner's on-the-spot share, moved by the site's département
    (``shift``, logit) and a site draw, centred on the national share; the rest split by the partner's
    referent share."""
    base = np.array([cal.PARTNER_ON_THE_SPOT[p] for p in PARTNERS])
    logits = (
        np.log(base / (1 - base))[None, :]
        + shift[:, None]
        + rng.normal(0.0, cal.SITE_ON_THE_SPOT_SIGMA, (len(size), 1))
    )
    partner_of = np.array([PARTNERS.index(p) for p, _, _ in pairs()])
    volume = np.stack([partner_p[:, partner_of == i].sum(axis=1) for i in range(len(PARTNERS))], axis=1)
    on_spot = _sigmoid(_centre(logits, size[:, None] * volume, cal.OUTCOME_SHARES["REPONDU_SUR_PLACE"]))
    referent = np.array([cal.PARTNER_REFERENT_SHARE[p] for p in PARTNERS])[None, :] * (1 - on_spot)
    return np.stack([on_spot, referent, 1 - on_spot - referent], axis=2)


def _channels(mobile: np.ndarray) -> np.ndarray:
    """Sites × partners × channels: the site's mix (fixed or mobile) leaned by each partner's weights."""
    channels = list(cal.CHANNEL_SHARES_FIXED)
    site = np.where(mobile[:, None], list(cal.CHANNEL_SHARES_MOBILE.values()), list(cal.CHANNEL_SHARES_FIXED.values()))
    lean = np.array([[cal.PARTNER_CHANNEL_WEIGHTS.get(p, {}).get(c, 1.0) for c in channels] for p in PARTNERS])
    mix = site[:, None, :] * lean[None, :, :]
    return mix / mix.sum(axis=2, keepdims=True)


def draw_profiles(rng: np.random.Generator, sites: pl.DataFrame) -> SiteProfile:
    """Every site's persistent traits, its département's among them (``territory``)."""
    n = sites.height
    departements = sites["departement"].cast(pl.String).to_numpy().astype(str)
    land = draw_territories(rng, sorted(set(departements)))
    where = land.index_of(departements)
    mobile = sites["format"].is_in(MOBILE_FORMATS).to_numpy()
    antenna = (sites["type_site"] == "ANTENNE").to_numpy()
    poste = (sites["porteur"] == "LA_POSTE").to_numpy()
    size = (
        rng.lognormal(0.0, 0.45, n)
        * np.where(mobile, 0.6, 1.0)
        * np.where(antenna, 0.4, 1.0)
        * np.where(poste, 0.75, 1.0)
        * land.activity[where]
    )
    partner_p = _partner_mix(rng, size, land.partner_tilt[where])
    outcome_p = _outcomes(rng, size, partner_p, land.on_the_spot_shift[where])
    drawn_hours, drawn_days = opening_hours(rng, n)
    hours = sites["heures_ouverture_hebdo"].fill_null(pl.Series(drawn_hours)).to_numpy()
    days = sites["jours_ouverture_hebdo"].fill_null(pl.Series(drawn_days)).to_numpy()
    agents = np.clip(rng.poisson(2.3, n), 1, 6) + np.where(rng.random(n) < 0.9, 1, 0)
    kiosk = np.zeros(n, dtype=bool)
    kiosk[rng.choice(n, size=min(cal.KIOSK_SITES, n), replace=False)] = True
    base = rng.beta(cal.KIOSK_SATISFACTION * 80, (1 - cal.KIOSK_SATISFACTION) * 80, n)
    shift = land.satisfaction_shift[where]
    answers = np.clip(size, 0.3, 3) * kiosk
    satisfaction = _sigmoid(_centre(_logit(base) + shift, answers, cal.KIOSK_SATISFACTION))
    return SiteProfile(
        sites,
        size,
        partner_p,
        outcome_p,
        _channels(mobile),
        agents,
        hours.astype(float),
        days,
        kiosk,
        satisfaction,
        base,
        rng.normal(0, 0.04, n) + 0.1 * (shift - shift.mean()),
        land.lateness[where],
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
    missing = np.clip(cal.SHARE_MISSING_REPORTS * profile.lateness[idx], 0.0, 0.5)
    mean = (
        profile.size[idx]
        * frac[idx]
        * ramp(profile.sites, year, quarter)[idx]
        * cal.SEASONALITY[quarter]
        * per_site[idx]
        * (1 - cal.SHARE_MISSING_REPORTS)
        / (1 - missing)  # a département that reports less often keeps its expected reported volume
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
    pair_list = full_pairs() if full_grain else pairs()
    partner_of = np.array([PARTNERS.index(x[0]) for x in pair_list])
    ch_p = profile.channel_p[rows_idx]  # rows × partners × channels
    if full_grain:
        ch_p = (1 - cal.FULL_GRAIN_CHANNEL_SPREAD) * ch_p + cal.FULL_GRAIN_CHANNEL_SPREAD / ch_p.shape[2]
    co_p = ch_p[:, :, :, None] * profile.outcome_p[rows_idx][:, :, None, :]  # rows × partners × ch × outcomes
    co_p = co_p.reshape(len(rows_idx), len(PARTNERS), -1)[:, partner_of, :]  # rows × pairs × (channel·outcome)
    cells = rng.multinomial(pair_counts, co_p)  # rows × pairs × (channel·outcome)
    r, p, k = np.nonzero(cells)
    channels = list(cal.CHANNEL_SHARES_FIXED)
    outcomes = list(cal.OUTCOME_SHARES)
    n_out = len(outcomes)
    return pl.DataFrame(
        {
            "site_id": pl.Series(act["site_id"]).gather(r),
            "annee": act["annee"].to_numpy()[r],
            "trimestre": act["trimestre"].to_numpy()[r],
            "partenaire": pl.Series([x[0] for x in pair_list]).gather(p),
            "situation": pl.Series([x[1] for x in pair_list]).gather(p),
            "canal": pl.Series(channels).gather(k // n_out),
            "issue": pl.Series(outcomes).gather(k % n_out),
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
    if targets is not None:  # the official rates replace the département's own shift
        probability = profile.satisfaction_base[idx]
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
