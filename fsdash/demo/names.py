"""French names of the demo sites: « France services d'Aubusson », « du Lamentin », « des Avirons ».

A site is named after its commune with the preposition « de », which French elides before a vowel
and contracts with the articles « le » and « les » that open many commune names. An h muet cannot
be told from an h aspiré without a list (« d'Hyères » but « de Hautmont »), so « de » stays before
every h: a correct-looking name beats a guess.
"""

from __future__ import annotations

#: Initials that elide « de » into « d' » (y included: « d'Yvetot », « d'Yerres »).
VOWELS = frozenset("AEIOUYÀÂÄÆÉÈÊËÎÏÔÖŒÙÛÜŸaeiouyàâäæéèêëîïôöœùûüÿ")

#: Articles opening a commune name that « de » contracts with; « La » and « L' » do not contract.
CONTRACTIONS = {"Le ": "du ", "Les ": "des "}


def of_commune(commune: str) -> str:
    """« de » + the commune's name, elided or contracted as French writes it (``d'Aubusson``, ``du Lamentin``)."""
    for article, contracted in CONTRACTIONS.items():
        if commune.startswith(article):
            return contracted + commune[len(article) :]
    if commune[:1] in VOWELS:
        return "d'" + commune
    return "de " + commune


def site_name(kind: str, commune: str, la_poste: bool = False) -> str:
    """A demo site's name: its kind (« France services », « Bus France services »…), La Poste's mark, its commune."""
    return f"{kind}{' La Poste' if la_poste else ''} {of_commune(commune)}"
