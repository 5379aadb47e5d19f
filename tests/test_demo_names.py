"""Demo site names follow French elision and contraction (issue 9)."""

from __future__ import annotations

import pytest

from fsdash.demo.names import of_commune, site_name


@pytest.mark.parametrize(
    ("commune", "expected"),
    [
        ("Aubusson", "d'Aubusson"),
        ("Yvetot", "d'Yvetot"),
        ("Évreux", "d'Évreux"),
        ("Île-d'Arz", "d'Île-d'Arz"),
        ("Le Lamentin", "du Lamentin"),
        ("Les Avirons", "des Avirons"),
        ("La Rochelle", "de La Rochelle"),
        ("L'Haÿ-les-Roses", "de L'Haÿ-les-Roses"),
        ("Hautmont", "de Hautmont"),
        ("Hyères", "de Hyères"),
        ("Guéret", "de Guéret"),
        ("Lesneven", "de Lesneven"),
        ("Levallois-Perret", "de Levallois-Perret"),
    ],
)
def test_of_commune(commune, expected):
    assert of_commune(commune) == expected


def test_site_name_with_kind_and_la_poste():
    assert site_name("France services", "Aubusson") == "France services d'Aubusson"
    assert site_name("France services", "Le Lamentin", la_poste=True) == "France services La Poste du Lamentin"
    assert site_name("Bus France services", "Les Avirons") == "Bus France services des Avirons"
    assert site_name("Antenne France services", "La Rochelle") == "Antenne France services de La Rochelle"
