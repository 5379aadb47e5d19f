"""What the viewer looks at — the scope — resolved once, and the site filters it carries.

Every query takes a :class:`Scope`, so access rules can be enforced where data is read. A scope
is a territory (France, région, département) or one site, optionally narrowed to some site
formats and carriers (the shared filter bar).

:func:`resolve_scope` is the one place where the viewer's choice (URL, widgets) and the signed-in
person's rights (:class:`fsdash.identity.Identity`) become a scope: it checks the codes against the warehouse's sites and
the geography, and fills what every page needs to know about the territory — the site's
département and région, the départements of a région, names and title. Nothing else derives a
territory: metrics, sections, charts and maps read it from the scope (:meth:`Scope.territory`,
:meth:`Scope.comparison_area`, :attr:`Scope.official_zone`, :meth:`Scope.area_filter`,
:meth:`Scope.sites_filter`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import duckdb
import polars as pl

from fsdash import geography
from fsdash.cache import cached
from fsdash.catalogue import load_catalogue
from fsdash.identity import Identity

LEVELS = ("national", "region", "departement", "site")
LEVEL_LABELS = {"national": "France entière", "region": "Région", "departement": "Département", "site": "Site"}
_COLUMN = {"region": "region", "departement": "departement", "site": "site_id"}
#: The carrier of a site the source does not name (the ANCT list only knows La Poste).
UNKNOWN_CARRIER = "NON_RENSEIGNE"
UNKNOWN_CARRIER_LABEL = "Non renseigné"
#: Overseas collectivities the geography has no département for (their sites still need a name).
COLLECTIVITIES = {
    "975": "Saint-Pierre-et-Miquelon",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
    "986": "Wallis-et-Futuna",
    "987": "Polynésie française",
    "988": "Nouvelle-Calédonie",
}
#: How the official series name France entière.
NATIONAL_ZONE = "FR"


@dataclass(frozen=True)
class Scope:
    """A territory or a site, and the site formats and carriers kept (empty: all).

    Equality and cache keys use what the viewer chose (level, code, formats, carriers) and what they
    may see in detail (``detail_departements``: None for every département, else the départements
    whose sites a département's committee sees one by one), so a section cached for one role is never
    served to another; the other fields are filled by :func:`resolve_scope` from the warehouse and
    the geography.
    """

    level: str = "national"
    code: str | None = None
    formats: tuple[str, ...] = ()
    carriers: tuple[str, ...] = ()
    detail_departements: tuple[str, ...] | None = None
    departement: str | None = field(default=None, compare=False)
    region: str | None = field(default=None, compare=False)
    name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown scope level {self.level}")
        if (self.level == "national") != (self.code is None):
            raise ValueError("a national scope has no code; every other scope needs one")

    def shows_site_detail(self, departement: str | None) -> bool:
        """Whether the viewer may see the sites of ``departement`` one by one (their figures, funding,
        audit comments): always, unless the scope was resolved for a département's committee."""
        return self.detail_departements is None or departement in self.detail_departements

    def site_detail_filter(self, column: str = "departement") -> pl.Expr:
        """Polars condition keeping the site rows the viewer may see one by one (see :meth:`shows_site_detail`)."""
        if self.detail_departements is None:
            return pl.lit(True)
        return pl.col(column).is_in(list(self.detail_departements))

    @property
    def narrowed(self) -> bool:
        """True when site formats or carriers are filtered (rollups cannot answer then)."""
        return bool(self.formats or self.carriers)

    @property
    def whole_network(self) -> bool:
        """France entière with no format or carrier filter: every site counts, so a feed table answers
        without joining the sites (every row's site is in the registry: rule ``known_site``)."""
        return self.level == "national" and not self.narrowed

    def sites_join(self, alias: str, reads_sites: bool = False) -> str:
        """The join of feed table ``alias`` to the sites table (aliased ``s``), empty when neither the
        scope (:attr:`whole_network`; the condition of :meth:`sites_filter` is then ``TRUE``) nor the
        query (``reads_sites``: it groups by a site's column) needs it."""
        return "" if self.whole_network and not reads_sites else f"JOIN sites s ON s.site_id = {alias}.site_id"

    @property
    def uses_rollup(self) -> bool:
        """Whether the requests rollups can answer for this scope: every territory, format and carrier
        filters included (the rollups carry them); only a single site reads the detail."""
        return self.level != "site"

    @property
    def resolved(self) -> bool:
        """Whether the parents of the scope are known (see :func:`resolve_scope`)."""
        return self.level in ("national", "region") or self.departement is not None

    def territory(self) -> Scope:
        """The territory the scope lies in, without format/carrier narrowing: a site's département,
        else the scope's own area. Coverage and official series are measured on territories."""
        if self.level == "site":
            if not self.resolved:
                raise ValueError(f"site {self.code}: resolve the scope first (resolve_scope)")
            return Scope(
                "departement",
                self.departement,
                departement=self.departement,
                region=self.region,
                name=_departement_name(self.departement),
            )
        return Scope(
            self.level,
            self.code,
            departement=self.departement,
            region=self.region,
            name=self.name,
        )

    def national(self) -> Scope:
        """France entière with the same narrowing (the 'national average' comparison)."""
        return Scope("national", None, self.formats, self.carriers, name="France entière")

    def comparison_area(self) -> Scope:
        """The territory whose départements a view compares with each other: France for a national
        scope, the région itself, or the région of a département or site (format and carrier
        filters kept; France when the région is unknown)."""
        if self.level in ("national", "region"):
            return self
        if self.level == "site" and not self.resolved:
            raise ValueError(f"site {self.code}: resolve the scope first (resolve_scope)")
        if self.region is None:
            return self.national()
        return Scope(
            "region",
            self.region,
            self.formats,
            self.carriers,
            region=self.region,
        )

    @property
    def departements(self) -> tuple[str, ...]:
        """The départements of the scope's territory (empty for France entière: all of them)."""
        area = self.territory()
        if area.level == "national":
            return ()
        if area.level == "region":
            return _departements_of_region(area.code)
        return (area.code,)

    @property
    def official_zone(self) -> tuple[str, str]:
        """(zone level, zone code) of the official series for this scope (France entière is ``FR``)."""
        area = self.territory()
        return ("national", NATIONAL_ZONE) if area.level == "national" else (area.level, area.code)

    def area_filter(self, departement: str = "departement", region: str = "region") -> pl.Expr:
        """Polars condition keeping the rows (communes, cantons…) of the scope's territory."""
        area = self.territory()
        if area.level == "national":
            return pl.lit(True)
        if area.level == "region":
            return pl.col(region) == area.code
        return pl.col(departement) == area.code

    @property
    def title(self) -> str:
        """« France entière », « Département Creuse », « Site France services de Guéret (FS1) »,
        with the format and carrier narrowing in words."""
        if self.level == "national":
            title = "France entière"
        elif self.level == "site":
            title = f"Site {self.name} ({self.code})" if self.name else f"Site {self.code}"
        else:
            title = f"{LEVEL_LABELS[self.level]} {self.name or self.code}"
        narrowing = []
        catalogue = load_catalogue()
        if self.formats:
            dim = catalogue.dimensions["format"]
            narrowing.append("formats : " + ", ".join(dim.label_of(f) for f in self.formats))
        if self.carriers:
            labels = {**carrier_labels(), UNKNOWN_CARRIER: UNKNOWN_CARRIER_LABEL.lower()}
            narrowing.append("porteurs : " + ", ".join(labels.get(c, c) for c in self.carriers))
        return title + (f" ({' ; '.join(narrowing)})" if narrowing else "")

    def sites_filter(self, alias: str = "s") -> tuple[str, list[str]]:
        """SQL condition on the ``sites`` table (aliased) and its bound parameters."""
        return self._filter(alias, f"coalesce({alias}.porteur, '{UNKNOWN_CARRIER}')")

    def rollup_filter(self, alias: str = "r") -> tuple[str, list[str]]:
        """Same condition on a requests rollup, whose rows carry the territory and the sites' format and
        carrier (unknown carrier stored as ``UNKNOWN_CARRIER``, so no ``coalesce`` that would hide the
        column from zone maps)."""
        if not self.uses_rollup:
            raise ValueError("a site scope reads detail tables, not rollups")
        return self._filter(alias, f"{alias}.porteur")

    def _filter(self, alias: str, carrier: str) -> tuple[str, list[str]]:
        parts, params = ["TRUE"], []
        if self.level != "national":
            parts.append(f"{alias}.{_COLUMN[self.level]} = ?")
            params.append(self.code)
        if self.formats:
            parts.append(f"{alias}.format IN ({', '.join('?' * len(self.formats))})")
            params += list(self.formats)
        if self.carriers:
            parts.append(f"{carrier} IN ({', '.join('?' * len(self.carriers))})")
            params += list(self.carriers)
        return " AND ".join(parts), params


NATIONAL = Scope(name="France entière")


def carrier_labels() -> dict[str, str]:
    """Carrier code -> French label, the unknown carrier included."""
    dim = load_catalogue().dimensions["porteur"]
    return {**{v.code: v.label for v in dim.values}, UNKNOWN_CARRIER: UNKNOWN_CARRIER_LABEL}


@functools.cache
def _departement_name(code: str) -> str | None:
    found = geography.departements().filter(pl.col("code") == code)["nom"]
    return found[0] if found.len() else COLLECTIVITIES.get(code)


@functools.cache
def _departements_of_region(region: str) -> tuple[str, ...]:
    deps = geography.departements()
    return tuple(sorted(deps.filter(pl.col("region") == region)["code"].to_list()))


# --- the resolver ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Directory:
    """What the resolver knows: every site's name and areas, and the areas' names.

    ``sites`` has ``site_id``, ``nom``, ``departement``, ``region``; areas are the geography's plus
    any area code the registry uses that the geography lacks (Saint-Martin, 978, has no région).
    """

    sites: pl.DataFrame
    departements: dict[str, tuple[str, str | None]]  # code -> (name, région)
    regions: dict[str, str]  # code -> name

    def site(self, site_id: str) -> dict | None:
        found = self.sites.filter(pl.col("site_id") == site_id)
        return found.row(0, named=True) if found.height else None

    def sites_of(self, departement: str) -> pl.DataFrame:
        """``site_id``, ``nom`` of a département's sites, by name."""
        return self.sites.filter(pl.col("departement") == departement).select("site_id", "nom").sort("nom", "site_id")

    def area_label(self, level: str, code: str) -> str:
        """« 23 — Creuse » for a département, « Nouvelle-Aquitaine » for a région."""
        if level == "region":
            return self.regions.get(code, code)
        name = self.departements.get(code, (code, None))[0]
        return f"{code} — {name}"


@cached(maxsize=4, kind="query")
def directory(con: duckdb.DuckDBPyConnection) -> Directory:
    """The sites of the warehouse and the geography's areas (read once per warehouse version)."""
    sites = con.sql("SELECT site_id, nom, departement, region FROM sites ORDER BY site_id").pl()
    deps = {
        code: (name, region)
        for code, name, region in geography.departements().select("code", "nom", "region").iter_rows()
    }
    regions = dict(geography.regions().select("code", "nom").iter_rows())
    for code, region in sites.select("departement", "region").unique().drop_nulls("departement").iter_rows():
        deps.setdefault(code, (COLLECTIVITIES.get(code, code), region))
    for (code,) in sites.select("region").unique().drop_nulls().iter_rows():
        regions.setdefault(code, code)
    return Directory(sites, deps, regions)


@dataclass(frozen=True)
class Resolution:
    """A resolved scope, and what the resolver could not honour (French, for the viewer)."""

    scope: Scope
    problems: tuple[str, ...] = ()


def resolve_scope(
    directory: Directory,
    level: str | None = "national",
    code: str | None = None,
    formats: tuple[str, ...] = (),
    carriers: tuple[str, ...] = (),
    identity: Identity | None = None,
) -> Resolution:
    """The scope the viewer asked for, checked, clamped to the viewer's rights and completed — or
    France entière, said so.

    A mistyped link never shows another territory silently: an unknown level, région, département
    or site falls back to France entière with a French message naming what was not found;
    unknown formats or carriers are dropped, also said.

    ``identity`` (None: the command line and tests, every right) clamps the scope before any query:
    a département's committee asking for a site of another département (a link, a typed URL) gets
    that département's aggregate and a French message saying why; its scopes carry
    ``detail_departements`` so the sections listing sites keep only its own (:meth:`Scope.shows_site_detail`).
    National and other départements' aggregates stay open to it.
    """
    catalogue = load_catalogue()
    problems = []
    known_formats = set(catalogue.dimensions["format"].codes)
    kept_formats = tuple(f for f in formats if f in known_formats)
    known_carriers = set(carrier_labels())
    kept_carriers = tuple(c for c in carriers if c in known_carriers)
    if dropped := [f for f in formats if f not in known_formats]:
        problems.append(f"Format inconnu ignoré : {', '.join(dropped)}.")
    if dropped := [c for c in carriers if c not in known_carriers]:
        problems.append(f"Porteur inconnu ignoré : {', '.join(dropped)}.")
    detail = identity.detail_departements if identity is not None else None
    narrowing = {"formats": kept_formats, "carriers": kept_carriers, "detail_departements": detail}
    national = Scope("national", None, name="France entière", **narrowing)
    level = level or "national"
    if level not in LEVELS:
        problems.append(f"Périmètre « {level} » inconnu : la vue montre la France entière.")
        return Resolution(national, tuple(problems))
    if level == "national":
        return Resolution(national, tuple(problems))
    if not code:
        problems.append(f"{LEVEL_LABELS[level]} non précisé : la vue montre la France entière.")
        return Resolution(national, tuple(problems))
    if level == "region":
        if code not in directory.regions:
            problems.append(f"Aucune région de code « {code} » : la vue montre la France entière.")
            return Resolution(national, tuple(problems))
        scope = Scope(
            "region",
            code,
            name=directory.regions[code],
            region=code,
            **narrowing,
        )
        return Resolution(scope, tuple(problems))
    if level == "departement":
        if code not in directory.departements:
            problems.append(f"Aucun département de code « {code} » : la vue montre la France entière.")
            return Resolution(national, tuple(problems))
        name, region = directory.departements[code]
        scope = Scope("departement", code, name=name, departement=code, region=region, **narrowing)
        return Resolution(scope, tuple(problems))
    site = directory.site(code)
    if site is None:
        problems.append(f"Aucun site d'identifiant « {code} » : la vue montre la France entière.")
        return Resolution(national, tuple(problems))
    if identity is not None and not identity.sees_site_detail(site["departement"]):
        dep = site["departement"]
        name, region = directory.departements.get(dep, (dep, None))
        problems.append(
            f"Le détail du site « {code} » est réservé à son comité départemental ({dep}), au comité national et à "
            f"l'équipe du programme : la vue montre l'ensemble du département {name}."
        )
        scope = Scope("departement", dep, name=name, departement=dep, region=region, **narrowing)
        return Resolution(scope, tuple(problems))
    scope = Scope(
        "site",
        code,
        name=site["nom"],
        departement=site["departement"],
        region=site["region"],
        **narrowing,
    )
    return Resolution(scope, tuple(problems))


def resolve(con: duckdb.DuckDBPyConnection, scope: Scope) -> Scope:
    """``scope`` completed from the warehouse behind ``con`` (tests and the command line; the
    dashboard resolves once per view). Raises ``ValueError`` for an unknown area or site."""
    resolution = resolve_scope(directory(con), scope.level, scope.code, scope.formats, scope.carriers)
    if resolution.problems:
        raise ValueError(" ".join(resolution.problems))
    return resolution.scope
