"""The rules and targets of the circular of 1 July 2019, each known by name with its source.

Pages, metrics and quality flags refer to these names, never to bare numbers, so that a
reader can trace every threshold on screen back to the text (../shared/seed/ has it whole).
Amounts that change by year after 2019 (35 000 € in 2023, 40 000 € in 2024) are data loaded
into the warehouse, not constants here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    value: float
    label: str
    source: str
    date: dt.date | None = None


SITES_AT_1_JAN_2020 = Rule(
    300, "implantations France Services au 1er janvier 2020", "circulaire, annexe 2", dt.date(2020, 1, 1)
)
SITES_END_2022 = Rule(
    2500,
    "structures labellisées fin 2022 (objectif du programme)",
    "objectif gouvernemental, baromètre des résultats de l'action publique",
    dt.date(2022, 12, 31),
)
EVERY_CANTON_COVERED = Rule(
    1.0, "part des cantons couverts par au moins un site, fin 2022", "circulaire, annexe 2", dt.date(2022, 12, 31)
)
MSAP_HOMOLOGATION_DEADLINE = Rule(
    0,
    "échéance d'homologation des MSAP (sinon fin du financement de l'État)",
    "circulaire, annexe 1 B",
    dt.date(2021, 12, 31),
)
VISIO_EQUIPPED = Rule(
    1.0, "part des sites équipés d'un dispositif de visio-conférence", "circulaire, annexe 1 A", dt.date(2022, 12, 31)
)
MIN_FRONT_OFFICE_AGENTS = Rule(2, "agents polyvalents présents en front office", "annexe 1 A ; charte 1.1")
MIN_OPENING_HOURS_PER_WEEK = Rule(24, "heures d'ouverture par semaine au minimum", "charte 2.4")
MIN_OPEN_DAYS_PER_WEEK = Rule(5, "jours ouvrables d'ouverture par semaine au minimum", "charte 2.4")
EMAIL_ANSWER_HOURS = Rule(72, "délai de réponse aux courriels et formulaires (heures)", "charte 1.1")
CLOSURE_NOTICE_DAYS = Rule(7, "préavis des fermetures exceptionnelles (jours)", "charte 2.4")
REPORTING_PER_YEAR = Rule(4, "reportings par an au minimum (trimestriel)", "charte 3.1")
TRAINING_MODULES = Rule(3, "modules du socle de formation CNFPT", "charte 4.2")
NATIONAL_COMMITTEES_PER_YEAR = Rule(2, "comités de pilotage stratégique national par an (semestriel)", "annexe 3")
DEPARTMENTAL_COMMITTEES_PER_YEAR = Rule(2, "comités départementaux par an au minimum", "annexe 3")
FLAT_FUNDING_PER_SITE_YEAR = Rule(30_000, "financement forfaitaire par structure et par an (€)", "annexe 4")
LA_POSTE_INTEROPERATOR_SHARE = Rule(4_000, "part du fonds inter-opérateurs pour une structure postale (€)", "annexe 4")
BDT_ENVELOPE = Rule(30_000_000, "enveloppe Banque des Territoires d'ici 2022 (€)", "annexe 4", dt.date(2022, 12, 31))
BDT_ENVELOPE_LINES = {
    "LA_POSTE": Rule(17_000_000, "montée en gamme des structures postales (€)", "annexe 4"),
    "ANIMATION": Rule(10_000_000, "animation globale du réseau (€)", "annexe 4"),
    "BUS": Rule(3_000_000, "déploiement des Bus France Services (€)", "annexe 4"),
}
MSAP_ARREARS_2018 = Rule(368, "MSAP n'ayant pas reçu leur part 2018 du fonds inter-opérateurs", "annexe 4")
LA_POSTE_MOBILE_TEAMS = Rule(250, "équipes de facteurs mobiles créées par La Poste", "annexe 2")

assert sum(r.value for r in BDT_ENVELOPE_LINES.values()) == BDT_ENVELOPE.value, "annex 4: 17 + 10 + 3 = 30 M€"
