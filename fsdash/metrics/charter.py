"""The charter's measurable commitments, from the quarterly activity feed.

Each share is computed over the sites that reported the quarter, with the rule it checks named
from :mod:`fsdash.circulaire` so a reader can trace the threshold to the text.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fsdash.cache import cached
from fsdash.circulaire import (
    CLOSURE_NOTICE_DAYS,
    EMAIL_ANSWER_HOURS,
    MIN_FRONT_OFFICE_AGENTS,
    MIN_OPEN_DAYS_PER_WEEK,
    MIN_OPENING_HOURS_PER_WEEK,
    TRAINING_MODULES,
    VISIO_EQUIPPED,
)
from fsdash.metrics.scope import Scope


@cached(maxsize=128)
def charter_commitments(con: duckdb.DuckDBPyConnection, scope: Scope, period: dt.date) -> pl.DataFrame:
    """One row per commitment for one quarter: ``engagement``, ``source``, ``valeur`` (a share),
    ``numerateur``, ``denominateur`` (sites or counts behind the share)."""
    where, params = scope.sites_filter()
    row = con.sql(
        f"""
        SELECT count(*) AS sites,
               count(*) FILTER (WHERE a.agents_accueil >= ?) AS sites_2_agents,
               count(*) FILTER (WHERE a.heures_ouverture_hebdo >= ? AND a.jours_ouverture_hebdo >= ?) AS sites_horaires,
               count(*) FILTER (WHERE a.visios_realisees > 0) AS sites_visio,
               sum(a.courriels_repondus_72h)::BIGINT AS repondus, sum(a.courriels_recus)::BIGINT AS recus,
               sum(a.fermetures_annoncees_7j)::BIGINT AS annoncees, sum(a.fermetures_exceptionnelles)::BIGINT AS fermetures,
               sum(a.agents_formes)::BIGINT AS formes, sum(a.agents_accueil)::BIGINT AS agents
        FROM activite a {scope.sites_join("a")}
        WHERE a.is_current AND a.periode = ? AND {where}""",
        params=[
            MIN_FRONT_OFFICE_AGENTS.value,
            MIN_OPENING_HOURS_PER_WEEK.value,
            MIN_OPEN_DAYS_PER_WEEK.value,
            period,
            *params,
        ],
    ).fetchall()[0]
    sites, two_agents, hours, visio, answered, received, announced, closures, trained, agents = row
    rows = [
        (
            f"Sites avec au moins {MIN_FRONT_OFFICE_AGENTS.value:g} agents d'accueil",
            MIN_FRONT_OFFICE_AGENTS.source,
            two_agents,
            sites,
        ),
        (
            f"Sites ouverts au moins {MIN_OPENING_HOURS_PER_WEEK.value:g} h sur {MIN_OPEN_DAYS_PER_WEEK.value:g} jours",
            MIN_OPENING_HOURS_PER_WEEK.source,
            hours,
            sites,
        ),
        (f"Courriels répondus sous {EMAIL_ANSWER_HOURS.value:g} h", EMAIL_ANSWER_HOURS.source, answered, received),
        (
            f"Fermetures exceptionnelles annoncées {CLOSURE_NOTICE_DAYS.value:g} jours avant",
            CLOSURE_NOTICE_DAYS.source,
            announced,
            closures,
        ),
        (f"Agents formés aux {TRAINING_MODULES.value:g} modules du CNFPT", TRAINING_MODULES.source, trained, agents),
        ("Sites ayant tenu au moins un rendez-vous en visio-conférence", VISIO_EQUIPPED.source, visio, sites),
    ]
    return pl.DataFrame(
        [(label, source, (num / den) if den else None, num or 0, den or 0) for label, source, num, den in rows],
        schema={
            "engagement": pl.String,
            "source": pl.String,
            "valeur": pl.Float64,
            "numerateur": pl.Int64,
            "denominateur": pl.Int64,
        },
        orient="row",
    )
