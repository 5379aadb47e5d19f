"""The one scope resolver: codes checked against the warehouse and the geography, parents filled,
and everything a page needs about a territory read from the resolved scope."""

from __future__ import annotations

import pytest
from test_attendance import build_warehouse

from fsdash.metrics.scope import NATIONAL, Scope, directory, resolve, resolve_scope


@pytest.fixture
def con():
    connection = build_warehouse()
    yield connection
    connection.close()


def test_each_level_is_resolved_with_its_parents(con):
    d = directory(con)
    dep = resolve_scope(d, "departement", "01").scope
    assert (dep.departement, dep.region, dep.name, dep.title) == ("01", "84", "Ain", "Département Ain")
    region = resolve_scope(d, "region", "84").scope
    assert region.name == "Auvergne-Rhône-Alpes" and "01" in region.departements and "38" in region.departements
    site = resolve_scope(d, "site", "S3").scope
    assert (site.departement, site.region) == ("2A", "94")
    assert site.territory() == Scope("departement", "2A") and site.territory().name == "Corse-du-Sud"
    assert resolve_scope(d, "national").scope == NATIONAL and NATIONAL.title == "France entière"


@pytest.mark.parametrize(
    "level, code, words",
    [
        ("departement", "999", "Aucun département de code « 999 »"),
        ("site", "NOPE", "Aucun site d'identifiant « NOPE »"),
        ("region", "00", "Aucune région de code « 00 »"),
        ("departement", None, "Département non précisé"),
        ("canton", "0101", "Périmètre « canton » inconnu"),
    ],
)
def test_a_mistyped_link_falls_back_to_france_and_says_so(con, level, code, words):
    resolution = resolve_scope(directory(con), level, code)
    assert resolution.scope == NATIONAL
    assert len(resolution.problems) == 1 and resolution.problems[0].startswith(words)
    assert "la vue montre la France entière" in resolution.problems[0]


def test_unknown_formats_and_carriers_are_dropped_and_said(con):
    resolution = resolve_scope(directory(con), "departement", "01", ("BUS", "SOUCOUPE"), ("LA_POSTE", "X"))
    assert resolution.scope == Scope("departement", "01", ("BUS",), ("LA_POSTE",))
    assert resolution.problems == ("Format inconnu ignoré : SOUCOUPE.", "Porteur inconnu ignoré : X.")
    assert resolution.scope.title == "Département Ain (formats : Bus (ou équivalent) ; porteurs : La Poste)"


def test_comparison_area_official_zone_and_area_filter(con):
    site = resolve(con, Scope("site", "S1", formats=("BUS",)))
    assert site.comparison_area() == Scope("region", "84", ("BUS",))
    assert resolve(con, Scope("departement", "01")).comparison_area() == Scope("region", "84")
    assert resolve(con, Scope("region", "84")).comparison_area() == Scope("region", "84")
    assert NATIONAL.comparison_area() == NATIONAL
    assert site.official_zone == ("departement", "01") and NATIONAL.official_zone == ("national", "FR")
    assert resolve(con, Scope("region", "84")).official_zone == ("region", "84")
    assert str(site.area_filter()) == str(Scope("departement", "01").area_filter())


def test_an_unresolved_site_cannot_name_its_territory(con):
    with pytest.raises(ValueError, match="resolve"):
        Scope("site", "S1").territory()
    with pytest.raises(ValueError, match="Aucun site"):
        resolve(con, Scope("site", "NOPE"))


def test_equality_and_cache_keys_ignore_what_the_resolver_fills(con):
    resolved = resolve(con, Scope("departement", "01"))
    assert resolved == Scope("departement", "01") and hash(resolved) == hash(Scope("departement", "01"))


def test_a_region_is_named_a_departement_numbered(con):
    d = directory(con)
    assert d.area_label("region", "94") == "Corse"
    assert d.area_label("departement", "2A") == "2A — Corse-du-Sud"
    assert resolve_scope(d, "region", "94").scope.title == "Région Corse"


def test_only_the_whole_network_reads_a_feed_table_without_the_sites():
    assert NATIONAL.whole_network and NATIONAL.sites_join("a") == ""
    assert NATIONAL.sites_filter("s") == ("TRUE", [])  # nothing refers to the sites that were not joined
    assert NATIONAL.sites_join("b", reads_sites=True) == "JOIN sites s ON s.site_id = b.site_id"  # grouped by area
    for scope in (
        Scope("national", None, formats=("BUS",)),
        Scope("national", None, carriers=("COMMUNE",)),
        Scope("departement", "01"),
        Scope("site", "S1"),
    ):
        assert not scope.whole_network
        assert scope.sites_join("a") == "JOIN sites s ON s.site_id = a.site_id"
