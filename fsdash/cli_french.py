"""The command line in French: one parser for every ``argparse`` of the repository, and OS errors.

argparse looks every message it prints up, at the moment it prints it, through its module-level
gettext hooks ``argparse._`` and ``argparse.ngettext`` — the translation point argparse itself
offers. Rather than depend on the machine's locale and a compiled ``.mo`` file, :func:`install`
points those hooks at a French catalogue held here; :class:`FrenchParser` installs it before
building its groups and its ``-h`` option (their titles are looked up at construction). A test
checks that every message of the installed argparse has its French text, so a Python upgrade that
adds one fails loudly instead of printing English.

Stdlib only: ``scripts/`` import it without the dashboard's dependencies.
"""

from __future__ import annotations

import argparse
import errno
import gettext

#: argparse's messages (Python 3.11) and their French text; placeholders kept as argparse fills them.
MESSAGES = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "affiche cette aide et s'arrête",
    "show program's version number and exit": "affiche la version et s'arrête",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix inconnu : %(value)r (valeurs possibles : %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "expected one argument": "une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut désigner %(matches)s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "ignored explicit argument %r": "valeur %r ignorée",
    "unexpected option string: %s": "option inattendue : %s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "commande inconnue %(parser_name)r (commandes : %(choices)s)",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "'required' is an invalid argument for positionals": "« required » ne s'applique pas à un argument positionnel",
    "%r is not callable": "%r n'est pas appelable",
    ".__call__() not defined": ".__call__() n'est pas défini",
    'argument "-" with mode %r': "argument « - » en mode %r",
    "cannot have multiple subparser arguments": "un seul groupe de commandes est possible",
    "cannot merge actions - two groups are named %r": "fusion impossible : deux groupes s'appellent %r",
    "conflicting subparser alias: %s": "alias de commande en double : %s",
    "conflicting subparser: %s": "commande en double : %s",
    "dest= is required for options like %r": "dest= est obligatoire pour une option comme %r",
    "invalid conflict_resolution value: %r": "valeur de conflict_resolution invalide : %r",
    "mutually exclusive arguments must be optional": "des arguments exclusifs doivent être des options",
}
#: argparse's plural messages: (singular, plural) → French (singular, plural).
PLURAL_MESSAGES = {
    ("expected %s argument", "expected %s arguments"): ("%s valeur attendue", "%s valeurs attendues"),
    ("conflicting option string: %s", "conflicting option strings: %s"): (
        "option en double : %s",
        "options en double : %s",
    ),
}

#: Operating-system errors a user can meet on the command line, by errno, in French.
OS_ERRORS = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EEXIST: "le fichier existe déjà",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENAMETOOLONG: "nom de fichier trop long",
}


class FrenchCatalogue(gettext.NullTranslations):
    """A gettext catalogue read from :data:`MESSAGES`; an unknown message is returned as is."""

    def gettext(self, message: str) -> str:
        return MESSAGES.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        one, many = PLURAL_MESSAGES.get((singular, plural), (singular, plural))
        return one if n <= 1 else many  # French: 0 and 1 take the singular


CATALOGUE = FrenchCatalogue()


def install() -> None:
    """Point argparse's translation hooks at the French catalogue (idempotent)."""
    argparse._ = CATALOGUE.gettext
    argparse.ngettext = CATALOGUE.ngettext


class FrenchParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` speaking French: usage, group titles, ``-h`` and every error.

    Sub-command parsers made by ``add_subparsers`` are of the same class, hence French too.
    """

    def __init__(self, *args, **kwargs) -> None:
        install()
        super().__init__(*args, **kwargs)


def os_error_reason(exc: OSError) -> str:
    """Why the system refused, in French (« fichier ou dossier introuvable »), for a message that
    names the file itself."""
    return OS_ERRORS.get(exc.errno, "erreur du système de fichiers")


def os_error_text(exc: OSError) -> str:
    """An OS error in French for a user: « fichier ou dossier introuvable : données.csv »,
    instead of Python's « [Errno 2] No such file or directory: 'données.csv' »."""
    return f"{os_error_reason(exc)} : {exc.filename}" if exc.filename else os_error_reason(exc)
