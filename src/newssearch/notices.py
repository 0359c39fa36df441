"""The French notices a search shows beside its results, written in this one place.

The parser, the planner and SearchService say what happened (a parenthesis left
open, an unknown source, a corrected word); the sentences are composed here.
"""

from __future__ import annotations

from datetime import date

from newssearch import schema
from newssearch.dates import french

EMPTY_QUERY = "Requête vide : tapez un ou plusieurs mots."
UNCLOSED_PARENTHESIS = "Parenthèse non fermée : elle a été ignorée."
EXTRA_PARENTHESIS = "Parenthèse fermante en trop : elle a été ignorée."
UNCLOSED_QUOTES = "Guillemets non fermés : la suite est cherchée mot à mot."
LONE_WILDCARD = "« * » seul ne cherche rien : ignoré."
LEADING_WILDCARD = "Les jokers en début de mot ne sont pas pris en charge : ignorés."
SHORT_PREFIX = "Un joker demande au moins 3 lettres avant « * »."
PHRASE_AS_WORDS = "Aucun article ne contient l’expression exacte : résultats pour ses mots."
NO_COMPLETE_MATCH = ("Aucun article ne contient tous les mots : "
                     "voici ceux qui en contiennent une partie.")


def too_deep(depth: int) -> str:
    return f"Plus de {depth} parenthèses imbriquées : les suivantes sont ignorées."


def unknown_field(name: str) -> str:
    return (f"Champ inconnu « {name} » : cherché comme un mot. "
            "Champs possibles : titre, source, rubrique.")


def too_many_words(limit: int) -> str:
    return f"Requête trop longue : seuls les {limit} premiers mots comptent."


def truncated(limit: int) -> str:
    return f"Requête tronquée à {limit} caractères."


def excluded_alternative(whole: str, names: list[str], instead: str) -> str:
    """``a OR -b`` reads as a, or anything without b: say so, and how to exclude b."""
    quoted = [f"« {n} »" for n in names]
    return (f"« {whole} » trouve aussi tous les articles sans {' ou sans '.join(quoted)} ; "
            f"pour exclure {' et '.join(quoted)}, écrivez « {instead} ».")


def unknown_facet(field: str, value: str) -> str:
    label = "source" if field == schema.SOURCE else "rubrique"
    return f"Aucune {label} « {value} » dans l’index."


def some_complete(complete: int) -> str:
    """Only ``complete`` articles have every word; partial matches follow them."""
    many = complete > 1
    return (f"Seul{'s' if many else ''} {complete} article{'s' if many else ''} "
            f"contien{'nent' if many else 't'} tous les mots ; "
            "les suivants n’en contiennent qu’une partie.")


def corrected(typed: str, shown: str) -> str:
    """Results for a corrected query: said once, with the way back to the words as typed."""
    return f"Résultats pour « {shown} ». Rechercher plutôt « {typed} »."


def dates_swapped(start: date | None, end: date | None) -> str:
    return f"Dates inversées : période du {french(start)} au {french(end)}."


def weak_left_out(count: int) -> str:
    """A date sort lists the strong matches only: say how many others relevance would show."""
    many = count > 1
    return (f"Tri par date : {count:,} article{'s' if many else ''} qui ne "
            f"{'font' if many else 'fait'} que mentionner ces mots "
            f"{'ne sont pas listés' if many else 'n’est pas listé'} ; "
            f"le tri par pertinence {'les' if many else 'le'} montre.").replace(",", "\u202f")


def unchecked(count: int) -> str:
    """The work budget of a request left candidates of a frequent phrase unchecked."""
    return (f"Expression très fréquente : elle n’a été vérifiée que dans les articles "
            f"indexés en dernier ({count:,} autres non vérifiés).").replace(",", "\u202f")


def partial_results(failed: int) -> str:
    """Some shards of a cluster index did not answer: the results lack their articles."""
    many = failed > 1
    return (f"Résultats partiels : {failed} fragment{'s' if many else ''} de l’index "
            f"n’{'ont' if many else 'a'} pas répondu.")
