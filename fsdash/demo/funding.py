"""Demo funding files: the flat rates, the Banque des Territoires envelope, the 2018 arrears.

What the programme team would load with ``python -m fsdash ingest`` (tables ``forfaits``,
``enveloppe_bdt``, ``regularisation_msap_2018`` of the catalogue), calibrated on annex 4 of the
circular:

* flat amount per structure and year: 30 000 € from 2019 to 2022 (annex 4), 35 000 € in 2023 and
  40 000 € in 2024 (published amounts), the 2024 amount carried over after that (assumption);
  postal structures: 4 000 € from the inter-operator fund, the rest from the postal equalisation
  fund (annex 4); other carriers: half FNADT, half inter-operator fund — **a demo split**, the
  circular does not give it; State-hosted structures: a reduction of 20 % of the amount
  (**demo value**: the text says « à la hauteur du coût des prestations mutualisées »). Each row's
  ``origine`` says which of these it is;
* envelope: commitments per quarter from late 2019, ahead of payments (paid in three tranches a
  quarter, three quarters and six quarters after signature), each line staying under its
  envelope (17 / 10 / 3 M€) and mostly committed by the end of 2022;
* 2018 arrears: the 368 MSAP spread over départements, regularised from autumn 2019, a few left.

Files are French CSV (``;``, decimal comma, JJ/MM/AAAA), as the team's spreadsheets export them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from fsdash import exports, geography
from fsdash.catalogue import load_catalogue
from fsdash.circulaire import (
    BDT_ENVELOPE,
    BDT_ENVELOPE_LINES,
    FLAT_FUNDING_PER_SITE_YEAR,
    LA_POSTE_INTEROPERATOR_SHARE,
    MSAP_ARREARS_2018,
)
from fsdash.periods import quarter_end, quarters_between

FIRST_FUNDING_YEAR = 2019
#: Published flat amounts after 2019 (annex 4 sets 30 000 € « au titre de l'année 2019 et des années suivantes »).
PUBLISHED_AMOUNTS = {2023: 35_000, 2024: 40_000}
#: Demo assumptions, each said in the ``origine`` column of the rows that use it.
DEMO_FNADT_SHARE = 0.5
DEMO_STATE_HOSTED_REDUCTION = 0.2
#: Share of each envelope line committed by the end of 2022 (the text: « d'ici à 2022 »), then in 2023.
COMMITTED_BY_END_2022 = {"LA_POSTE": 0.96, "ANIMATION": 0.93, "BUS": 0.98}
COMMITTED_IN_2023 = {"LA_POSTE": 0.02, "ANIMATION": 0.04, "BUS": 0.0}
#: Payment tranches of a commitment: (quarters after signature, share of the amount).
TRANCHES = [(1, 0.4), (3, 0.4), (6, 0.2)]
#: MSAP of the 2018 arrears left unpaid in the demo, and the demo amount of one MSAP's share.
ARREARS_LEFT = 4
DEMO_ARREARS_PER_MSAP = 7_500

_LINE_LABELS = {
    "LA_POSTE": "Montée en gamme des structures postales",
    "ANIMATION": "Animation du réseau",
    "BUS": "Déploiement de bus France Services",
}


def _amount(year: int) -> int:
    if year in PUBLISHED_AMOUNTS:
        return PUBLISHED_AMOUNTS[year]
    if year < min(PUBLISHED_AMOUNTS):
        return int(FLAT_FUNDING_PER_SITE_YEAR.value)
    return PUBLISHED_AMOUNTS[max(PUBLISHED_AMOUNTS)]


def _amount_origin(year: int) -> str:
    if year < min(PUBLISHED_AMOUNTS):
        return "montant : circulaire du 1er juillet 2019, annexe 4"
    if year in PUBLISHED_AMOUNTS:
        return "montant publié"
    return f"montant {max(PUBLISHED_AMOUNTS)} reconduit (démonstration)"


def rates(last_year: int) -> pl.DataFrame:
    """``forfaits`` rows for every carrier, 2019 to ``last_year``."""
    rows = []
    for year in range(FIRST_FUNDING_YEAR, last_year + 1):
        amount = _amount(year)
        reduction = round(amount * DEMO_STATE_HOSTED_REDUCTION)
        for carrier in load_catalogue().dimensions["porteur"].codes:
            if carrier == "LA_POSTE":
                interop = int(LA_POSTE_INTEROPERATOR_SHARE.value)
                fnadt, postal = 0, amount - interop
                split = "répartition : annexe 4 (4 000 € du fonds inter-opérateurs, le reste du fonds postal)"
            else:
                fnadt = round(amount * DEMO_FNADT_SHARE)
                interop, postal = amount - fnadt, 0
                split = "répartition FNADT / fonds inter-opérateurs de démonstration (la circulaire ne la fixe pas)"
            rows.append(
                {
                    "annee": year,
                    "porteur": carrier,
                    "montant_forfait": amount,
                    "part_fnadt": fnadt,
                    "part_fonds_interoperateurs": interop,
                    "part_fonds_postal": postal,
                    "abattement_heberge_etat": reduction,
                    "origine": f"{_amount_origin(year)} ; {split} ; abattement État de démonstration "
                    f"({DEMO_STATE_HOSTED_REDUCTION:.0%} du forfait)".replace("%", "\u00a0%"),
                }
            )
    return pl.DataFrame(rows)


def _shift(year: int, quarter: int, n: int) -> tuple[int, int]:
    index = year * 4 + quarter - 1 + n
    return index // 4, index % 4 + 1


def _day_in(rng: np.random.Generator, year: int, quarter: int) -> dt.date:
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    return start + dt.timedelta(days=int(rng.integers(0, (quarter_end(year, quarter) - start).days + 1)))


def envelope(rng: np.random.Generator, last_quarter: tuple[int, int]) -> pl.DataFrame:
    """``enveloppe_bdt`` operations (k€) up to the end of ``last_quarter``."""
    cutoff = quarter_end(*last_quarter)
    rows = []
    for line, rule in BDT_ENVELOPE_LINES.items():
        envelope_k = rule.value / 1000
        periods = [
            (quarters_between((2019, 4), (2022, 4)), COMMITTED_BY_END_2022[line]),
            (quarters_between((2023, 1), (2023, 4)), COMMITTED_IN_2023[line]),
        ]
        number = 0
        for quarters, share in periods:
            if share <= 0:
                continue
            weights = rng.dirichlet(np.full(len(quarters), 3.0))
            amounts = np.floor(weights * envelope_k * share * 10) / 10  # k€ with one decimal, never above
            for (year, quarter), amount in zip(quarters, amounts, strict=True):
                if amount <= 0:
                    continue
                number += 1
                code = f"BDT-{line}-{number:03d}"
                signed = _day_in(rng, year, quarter)
                rows.append(
                    {
                        "code_operation": code,
                        "date_operation": signed,
                        "ligne": line,
                        "engagement": float(amount),
                        "paiement": 0.0,
                        "libelle": f"{_LINE_LABELS[line]} — convention n° {number}",
                    }
                )
                paid = 0.0
                for k, (lag, part) in enumerate(TRANCHES, start=1):
                    tranche = round(amount * part, 1) if k < len(TRANCHES) else round(amount - paid, 1)
                    paid += tranche
                    rows.append(
                        {
                            "code_operation": f"{code}-P{k}",
                            "date_operation": _day_in(rng, *_shift(year, quarter, lag)),
                            "ligne": line,
                            "engagement": 0.0,
                            "paiement": tranche,
                            "libelle": f"{_LINE_LABELS[line]} — convention n° {number}, paiement {k}",
                        }
                    )
    frame = pl.DataFrame(rows).filter(pl.col("date_operation") <= cutoff).sort("date_operation", "code_operation")
    assert frame["engagement"].sum() <= BDT_ENVELOPE.value / 1000
    return frame


def arrears(rng: np.random.Generator, last_quarter: tuple[int, int]) -> pl.DataFrame:
    """``regularisation_msap_2018`` rows: the 368 MSAP by département, regularised from autumn 2019."""
    deps = geography.departements()["code"].to_list()
    chosen = sorted(rng.choice(deps, size=min(75, len(deps)), replace=False).tolist())
    owed = int(MSAP_ARREARS_2018.value)
    counts = rng.multinomial(owed, np.full(len(chosen), 1 / len(chosen)))
    owing = [d for d, c in zip(chosen, counts, strict=True) if c]
    left = set(rng.choice(owing, size=ARREARS_LEFT, replace=True).tolist())  # départements with one MSAP unpaid
    rows = []
    for dep, count in zip(chosen, counts, strict=True):
        if count == 0:
            continue
        count -= sum(1 for d in left if d == dep)
        first = min(count, int(rng.integers(max(1, count // 2), count + 1))) if count else 0
        batches = [
            (first, _day_in(rng, 2019, 4) if rng.random() < 0.7 else _day_in(rng, 2020, 1)),
            (count - first, _day_in(rng, 2020, int(rng.integers(2, 5)))),
        ]
        for n, day in batches:
            if n > 0:
                rows.append(
                    {
                        "departement": dep,
                        "date_delegation": day,
                        "msap_regularisees": n,
                        "montant_verse": n * DEMO_ARREARS_PER_MSAP,
                        "libelle": "part 2018 du fonds inter-opérateurs (montant de démonstration)",
                    }
                )
    cutoff = quarter_end(*last_quarter)
    return pl.DataFrame(rows).filter(pl.col("date_delegation") <= cutoff).sort("date_delegation", "departement")


def funding_files(rng: np.random.Generator, folder: Path, last_quarter: tuple[int, int]) -> list[Path]:
    """Write the three demo funding files into ``folder``; returns their paths (load them with the rest).

    Deterministic for a given generator state; draws from ``rng``.
    """
    frames = {
        "forfaits": rates(last_quarter[0]),
        "enveloppe_bdt": envelope(rng, last_quarter),
        "regularisation_msap_2018": arrears(rng, last_quarter),
    }
    paths = []
    for table, frame in frames.items():
        if frame.is_empty():
            continue
        path = folder / f"demo-{table}.csv"
        path.write_bytes(exports.csv_bytes(frame))
        paths.append(path)
    return paths
