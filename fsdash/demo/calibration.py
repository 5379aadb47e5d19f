"""Public figures the demo is calibrated on, each with its source, in one place.

These are not hard-coded results: the generator draws random sites and reports around them,
and the tests check that what comes out of the warehouse lands within 5 % of them.

Sources quoted below:

- [CC24] Cour des comptes, « Le programme France services (2020-2023) », rapport public thématique,
  évaluation de politique publique, septembre 2024: 1,17 M requests in 2020, ≈ 9 M in 2023, ≈ 82 %
  handled on the spot, 80 % of requests for five partners (France Titres/ANTS 19 %, CNAF 16 %, CNAM
  16 %, DGFiP 15 %, CNAV 14 %), 63 % of the structures in rural areas and 18 % in priority urban
  districts (QPV), 28 structures per département on average, users satisfied above 90 %.
- [DITP] Baromètre des résultats de l'action publique: IND-323 (monthly acts, 0.9–1 M a month in
  2024), IND-246 (kiosk satisfaction, ≈ 95 %).
- [ANCT] Liste des structures France Services, data.gouv.fr, 1 August 2024 (2,845 structures).
- [Etalab] nb-labellisations-france-services (labels 2020–2022).

Where no public figure exists (how outcomes split *by partner*, channels by partner, how much
départements differ), the value is an **assumption**, said so next to it; the demo is labelled
synthetic in the interface. Assumptions only shape the spread: national totals stay on the figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

#: Cumulative labelled structures by wave (date the labels take effect). 2020-2022: the official
#: national series (Etalab baromètre, « nb-labellisations-france-services », dated one month
#: later there); 2023-2026: waves leading to the 2,845 structures of the ANCT list of 1 Aug 2024.
LABEL_WAVES: list[tuple[dt.date, int]] = [
    (dt.date(2020, 1, 1), 460),
    (dt.date(2020, 2, 1), 534),
    (dt.date(2020, 9, 1), 856),
    (dt.date(2021, 1, 1), 1123),
    (dt.date(2021, 4, 1), 1304),
    (dt.date(2021, 7, 1), 1494),
    (dt.date(2021, 10, 1), 1745),
    (dt.date(2022, 1, 1), 2055),
    (dt.date(2022, 4, 1), 2197),
    (dt.date(2022, 7, 1), 2379),
    (dt.date(2022, 11, 1), 2538),
    (dt.date(2023, 4, 1), 2640),
    (dt.date(2023, 10, 1), 2720),
    (dt.date(2024, 1, 1), 2790),
    (dt.date(2024, 4, 1), 2850),
    (dt.date(2024, 7, 1), 2875),
    (dt.date(2025, 1, 1), 2890),
    (dt.date(2025, 7, 1), 2900),
    (dt.date(2026, 1, 1), 2910),
]

#: Sites closed each year from 2023 on (the list of 2024 counts 2,845 open structures).
CLOSURES_PER_YEAR = {2023: 12, 2024: 18, 2025: 15, 2026: 10}

#: Share of antennas among structures labelled from 2022 on (124 antennas in the 2024 list).
ANTENNA_SHARE_FROM_2022 = 0.14

#: Requests handled per year ([CC24]: ≈ 1.2 M in 2020, ≈ 9 M in 2023; [DITP] IND-323: 0.9–1 M acts a
#: month in 2024, and the 2026 target of ≈ 1.05 M a month; 2021–2022 interpolated).
REQUESTS_PER_YEAR = {
    2020: 1_200_000,
    2021: 3_600_000,
    2022: 6_400_000,
    2023: 9_000_000,
    2024: 11_200_000,
    2025: 12_000_000,
    2026: 12_600_000,
}

#: The network's first labels (1 January 2020): quarters before it have no site, hence no report.
FIRST_YEAR = min(REQUESTS_PER_YEAR)
#: The last year with a figure above. The demo clock can run past it (``demo --aujourdhui``, to build a
#: ten-year warehouse): later years keep this year's level — flat, not extrapolated, because the
#: network itself stops growing after the last wave of ``LABEL_WAVES`` and the last closures of
#: ``CLOSURES_PER_YEAR``, and a growth rate applied for years would invent a trend nobody published.
LAST_PUBLISHED_YEAR = max(REQUESTS_PER_YEAR)


def requests_per_year(year: int) -> int:
    """Requests of a calendar year: the figure above, none before the network, flat after the last figure."""
    if year < FIRST_YEAR:
        return 0
    return REQUESTS_PER_YEAR[min(year, LAST_PUBLISHED_YEAR)]


#: Quarterly seasonality: spring tax-return peak, summer dip.
SEASONALITY = {1: 1.00, 2: 1.10, 3: 0.86, 4: 1.04}

#: 2023 shares of requests by partner ([CC24] for the first five; the remaining ≈ 20 % spread by assumption).
PARTNER_SHARES = {
    "ANTS": 0.19,
    "CNAF": 0.16,
    "CNAM": 0.16,
    "DGFIP": 0.15,
    "CNAV": 0.14,
    "FRANCE_TRAVAIL": 0.06,
    "MSA": 0.04,
    "AUTRE": 0.05,
    "LA_POSTE": 0.03,
    "JUSTICE": 0.02,
}

#: Which life situations each partner's requests fall under, and how often.
PARTNER_SITUATIONS = {
    "ANTS": {"PAPIERS_IDENTITE": 0.75, "MOBILITE": 0.25},
    "CNAF": {"ALLOCATION_LOGEMENT": 0.45, "NAISSANCE": 0.2, "DIFFICULTES_FINANCIERES": 0.2, "HANDICAP": 0.15},
    "CNAM": {"REMBOURSEMENT_SOINS": 0.7, "SANTE_PREVENTION": 0.15, "HANDICAP": 0.1, "DECES_PROCHE": 0.05},
    "CNAV": {"RETRAITE": 0.9, "DECES_PROCHE": 0.1},
    "DGFIP": {"IMPOTS": 0.9, "DECES_PROCHE": 0.05, "DIFFICULTES_FINANCIERES": 0.05},
    "FRANCE_TRAVAIL": {"EMPLOI": 0.9, "JEUNESSE": 0.1},
    "MSA": {"AFFILIE_MSA": 0.7, "RETRAITE": 0.2, "REMBOURSEMENT_SOINS": 0.1},
    "LA_POSTE": {"SERVICE_POSTAL": 1.0},
    "JUSTICE": {"LITIGE_CONFLIT": 0.6, "VICTIME_INFRACTION": 0.4},
    "AUTRE": {
        "ENERGIE": 0.3,
        "JEUNESSE": 0.2,
        "LITIGE_CONSOMMATION": 0.2,
        "DIFFICULTES_FINANCIERES": 0.15,
        "HANDICAP": 0.15,
    },
}

#: National share answered on the spot (≈ 82 % [CC24]), passed to the partner's referent,
#: redirected (the split of the remaining 18 % is an assumption).
OUTCOME_SHARES = {"REPONDU_SUR_PLACE": 0.82, "TRANSMIS_REFERENT": 0.13, "REORIENTE": 0.05}

#: Share answered on the spot by partner — an **assumption** ordered as the programme describes
#: the work: a title pre-application, a tax return or a parcel is completed at the counter, while
#: pensions, benefits disputes and justice often need the partner's referent or another service.
#: Only the order and the range are assumed: every site's shares are shifted together (on the
#: logit scale) so that the national share lands on ``OUTCOME_SHARES`` (see ``feed.on_the_spot``).
PARTNER_ON_THE_SPOT = {
    "ANTS": 0.93,
    "DGFIP": 0.91,
    "LA_POSTE": 0.96,
    "CNAM": 0.83,
    "CNAF": 0.78,
    "FRANCE_TRAVAIL": 0.77,
    "MSA": 0.74,
    "AUTRE": 0.72,
    "CNAV": 0.62,
    "JUSTICE": 0.52,
}

#: Of the requests not answered on the spot, the share passed to the partner's referent (the rest
#: is redirected) — an assumption: partners with a referent network (caisses, DGFiP) take most.
PARTNER_REFERENT_SHARE = {
    "ANTS": 0.55,
    "DGFIP": 0.80,
    "LA_POSTE": 0.40,
    "CNAM": 0.78,
    "CNAF": 0.80,
    "FRANCE_TRAVAIL": 0.70,
    "MSA": 0.78,
    "AUTRE": 0.45,
    "CNAV": 0.82,
    "JUSTICE": 0.45,
}

#: Spread of the on-the-spot share between sites of a département (logit scale) — an assumption.
SITE_ON_THE_SPOT_SIGMA = 0.30

#: ``demo --grain complet``: the detail at the grain of a real national feed (≈ 0.75 M rows a quarter for
#: ≈ 2 900 sites, ≈ 260 partner × situation × channel × outcome combinations per site-quarter) instead of
#: the default's ≈ 130. A share of each partner's requests is spread evenly over every life situation,
#: and a share of each site's channels over every channel; partner and outcome shares stay as above.
FULL_GRAIN_SITUATION_SPREAD = 0.15
FULL_GRAIN_CHANNEL_SPREAD = 0.15

#: Channels of a fixed site and of a bus or itinerant one, before the partner's mix below (assumption).
CHANNEL_SHARES_FIXED = {"SUR_SITE": 0.78, "TELEPHONE": 0.17, "VISIO": 0.03, "ITINERANT": 0.02}
CHANNEL_SHARES_MOBILE = {"SUR_SITE": 0.10, "TELEPHONE": 0.08, "VISIO": 0.02, "ITINERANT": 0.80}

#: How each partner's requests lean on a channel, as multipliers of the site's mix (renormalised;
#: 1 when absent) — an assumption: titles need the user at the counter (photo, documents), the
#: caisses and France Travail hold video appointments with their advisers, the justice points of
#: access are often reached by video, La Poste's services are over the counter.
PARTNER_CHANNEL_WEIGHTS = {
    "ANTS": {"SUR_SITE": 1.2, "TELEPHONE": 0.3, "VISIO": 0.2},
    "DGFIP": {"TELEPHONE": 1.4},
    "LA_POSTE": {"SUR_SITE": 1.25, "TELEPHONE": 0.1, "VISIO": 0.1},
    "CNAM": {"TELEPHONE": 1.2, "VISIO": 1.5},
    "CNAF": {"TELEPHONE": 1.3, "VISIO": 2.5},
    "FRANCE_TRAVAIL": {"TELEPHONE": 1.2, "VISIO": 3.0},
    "MSA": {"TELEPHONE": 1.6, "VISIO": 2.0},
    "AUTRE": {"TELEPHONE": 1.4},
    "CNAV": {"TELEPHONE": 1.6, "VISIO": 3.0},
    "JUSTICE": {"TELEPHONE": 1.3, "VISIO": 5.0},
}

# --- départements: a persistent spread, drawn once from the seed -----------------------------------
# [CC24] gives the national picture (63 % rural, 18 % QPV, 28 structures a département on average).
# The published departmental series give the size of the spread (measured on the files of
# ``demo --official``): [DITP] IND-246 kiosk satisfaction, averaged over its months, runs from 84.7 %
# to 99.2 % by département (standard deviation 2.5 points); [DITP] IND-323 acts of April 2024 per
# structure labelled at the end of 2022 ([Etalab]) run from ≈ 190 to ≈ 710 (coefficient of variation
# ≈ 0.3), urban départements (Paris, Hauts-de-Seine) near the top. Which traits drive the spread
# (urbanity, overseas) and the on-the-spot and punctuality spreads are **assumptions**.

#: A commune of at least this population counts as urban; a département's urbanity is the share of
#: its population living in such communes (INSEE legal populations, ``geography.communes``).
URBAN_COMMUNE_POPULATION = 30_000

#: Requests per site: × (1 + bonus × urbanity) × a lognormal département draw (urban structures
#: serve more people, as in IND-323; the overseas départements are not busier there).
URBAN_ACTIVITY_BONUS = 0.8
DEPARTEMENT_ACTIVITY_SIGMA = 0.22

#: On-the-spot share, logit shifts: a département draw, urban areas and overseas send more on to
#: the partners' referents (assumption).
DEPARTEMENT_ON_THE_SPOT_SIGMA = 0.35
URBAN_ON_THE_SPOT_SHIFT = -0.35
OVERSEAS_ON_THE_SPOT_SHIFT = -0.45

#: Kiosk satisfaction, logit shifts: a département draw and rural areas a little happier
#: (assumption); re-centred so that the national rate stays ``KIOSK_SATISFACTION``.
DEPARTEMENT_SATISFACTION_SIGMA = 0.45
RURAL_SATISFACTION_SHIFT = 0.35

#: Reporting punctuality: late and missing reports × a lognormal département draw of mean 1
#: (some départements' sites report late far more often — assumption).
DEPARTEMENT_LATENESS_SIGMA = 0.8

#: Partners' weight in a département's requests: × a lognormal draw per département and partner,
#: re-centred so that the national partner shares stay ``PARTNER_SHARES`` (assumption).
DEPARTEMENT_PARTNER_SIGMA = 0.2

#: Carriers (communes and intercommunalities ≈ 63 %, La Poste ≈ 18 %, associations ≈ 15 %).
CARRIER_SHARES = {"COMMUNE": 0.28, "EPCI": 0.35, "LA_POSTE": 0.18, "ASSOCIATION": 0.15, "ETAT": 0.02, "MSA": 0.02}

#: Formats of principal structures (ANCT list 2024: 84 % fixed, 6 % multi-site, 5 % buses).
FORMAT_SHARES = {"FIXE": 0.86, "MULTISITES": 0.06, "BUS": 0.05, "ITINERANT": 0.01, "FIXE_ANTENNES": 0.02}

#: Kiosk satisfaction: ≈ 95 % satisfied ([DITP] IND-246), kiosks in ≈ 500 sites from 2022
#: (125,000 answers in 2022).
KIOSK_SATISFACTION = 0.95
KIOSK_SITES = 500
KIOSK_FIRST_YEAR = 2022
KIOSK_ANSWERS_PER_QUARTER = 62

#: Yearly survey (charter 3.2), first campaign 2020.
SURVEY_FIRST_YEAR = 2020
SURVEY_PARTICIPATION = 0.7
SURVEY_RESPONDENTS_MEAN = 30
SURVEY_LIKERT = [0.02, 0.03, 0.07, 0.33, 0.55]

#: Realistic defects.
SHARE_SITES_UNDER_24H = 0.03
SHARE_MISSING_REPORTS = 0.015
SHARE_LATE_REPORTS = 0.03
SHARE_LATE_LAST_QUARTER = 0.07
SHARE_CORRECTED_REPORTS = 0.005
SHARE_INCONSISTENT_REPORTS = 0.001

#: ``demo --official``: every département keeps at least this many kiosks, so that its kiosk
#: satisfaction can be compared with the official IND-246 value.
KIOSKS_MIN_PER_DEPARTEMENT = 2

#: ``demo --official``: official satisfaction rates are kept within these bounds before sites are
#: drawn around them (a département published at 100 % would leave no room for the sites' spread).
OFFICIAL_SATISFACTION_BOUNDS = (0.80, 0.995)


@dataclass(frozen=True)
class OfficialTargets:
    """Targets read from the official series imported into the demo warehouse (``demo --official``).

    Each part is optional: only the series the given files hold calibrate the demo.
    """

    #: Departmental label stocks as published: ``departement``, ``date``, ``sites``.
    label_stocks: pl.DataFrame | None = None
    #: National requests per quarter (official monthly acts: sum of 3 months, else mean × 3).
    requests_by_quarter: dict[tuple[int, int], float] = field(default_factory=dict)
    #: Départements' shares of the acts, per quarter; key None: over every published month.
    request_shares: dict[tuple[int, int] | None, dict[str, float]] = field(default_factory=dict)
    #: Kiosk satisfaction (0–1): ``departement``, ``annee``, ``trimestre`` (null: all quarters), ``taux``.
    satisfaction: pl.DataFrame | None = None
