"""The query language: what parse() makes of what people type, and how it degrades.

Parsing never raises: malformed input keeps the words it contains and a French
notice says what was ignored. Notices are checked by substring.
"""

from __future__ import annotations

import pytest

from newssearch.query.parse import AllOf, AnyOf, Filter, Not, Phrase, Word, parse


def W(text: str, field: str | None = None, prefix: bool = False) -> Word:
    """Build a Word node, shorter to read in the tables."""
    return Word(text, field, prefix)


def words(query: str) -> list[str]:
    """Return the texts of the positive words and phrases of a parsed query."""
    return [node.text for node in parse(query).positive()]


@pytest.mark.parametrize(("query", "nodes"), [
    # Words and phrases.
    ("retraites grève", (W("retraites"), W("grève"))),
    ('"réforme des retraites"', (Phrase("réforme des retraites"),)),
    ("« réforme des retraites »", (Phrase("réforme des retraites"),)),
    ("«\u00a0réforme des retraites\u00a0»", (Phrase("réforme des retraites"),)),
    ("“réforme des retraites”", (Phrase("réforme des retraites"),)),
    ('grève "réforme des retraites" Paris',
     (W("grève"), Phrase("réforme des retraites"), W("Paris"))),
    # A "-" at the start of a word excludes it; inside a word it never does.
    ("retraites -grève", (W("retraites"), Not(W("grève")))),
    ("-grève retraites", (Not(W("grève")), W("retraites"))),
    ('retraites -"mouvement social"', (W("retraites"), Not(Phrase("mouvement social")))),
    ("Kim Jong-un", (W("Kim"), W("Jong-un"))),
    ("COVID-19 vaccin", (W("COVID-19"), W("vaccin"))),
    ("Saint-Denis", (W("Saint-Denis"),)),
    ("Seine-Saint-Denis", (W("Seine-Saint-Denis"),)),
    ("Kim -Jong-un", (W("Kim"), Not(W("Jong-un")))),
    ("Paris - Marseille", (W("Paris"), W("Marseille"))),
    # OR and OU; lowercase "or" is the French word (gold), ET is a word.
    ("Macron OR Borne", (AnyOf((W("Macron"), W("Borne"))),)),
    ("Macron OU Borne", (AnyOf((W("Macron"), W("Borne"))),)),
    ("Macron OR Borne OR Attal", (AnyOf((W("Macron"), W("Borne"), W("Attal"))),)),
    ("prix de l’or", (W("prix"), W("de"), W("l’or"))),
    ("cours or argent", (W("cours"), W("or"), W("argent"))),
    ("Macron ET Borne", (W("Macron"), W("ET"), W("Borne"))),
    # Groups in parentheses.
    ("(Macron OR Borne) retraites",
     (AnyOf((W("Macron"), W("Borne"))), W("retraites"))),
    ("grève OR (SNCF RATP)", (AnyOf((W("grève"), AllOf((W("SNCF"), W("RATP"))))),)),
    ("-(grève SNCF) trafic", (Not(AllOf((W("grève"), W("SNCF")))), W("trafic"))),
    ("((retraites))", (W("retraites"),)),
    # Fields: titre:, source:, rubrique: (and their English names), quoted values.
    ("titre:Élysée", (W("Élysée", "title"),)),
    ("TITRE:Élysée", (W("Élysée", "title"),)),
    ('titre:"réforme des retraites"', (Phrase("réforme des retraites", "title"),)),
    ("titre:« Élysée »", (Phrase("Élysée", "title"),)),
    ("titre:Jong-un", (W("Jong-un", "title"),)),
    ("source:AFP retraites", (Filter("source", "AFP"), W("retraites"))),
    ("source:afp", (Filter("source", "afp"),)),
    ('source:"Le Télégramme"', (Filter("source", "Le Télégramme"),)),
    ("rubrique:monde", (Filter("section", "monde"),)),
    ('rubrique:"faits divers"', (Filter("section", "faits divers"),)),
    ("section:politique", (Filter("section", "politique"),)),
    ("-source:AFP grève", (Not(Filter("source", "AFP")), W("grève"))),
    # Prefixes.
    ("retrait*", (W("retrait", prefix=True),)),
])
def test_parses_into_nodes(query, nodes):
    parsed = parse(query)
    assert parsed.root == AllOf(nodes)
    assert parsed.notices == ()


@pytest.mark.parametrize(("query", "expected_words", "notice"), [
    ('"réforme des retraites', ["réforme", "des", "retraites"], "Guillemets non fermés"),
    ("« réforme des retraites", ["réforme", "des", "retraites"], "Guillemets non fermés"),
    ('réforme" retraites', ["réforme", "retraites"], "Guillemets non fermés"),
    ("(Macron OR Borne retraites", ["Macron", "Borne", "retraites"],
     "Parenthèse non fermée"),
    ("Macron) retraites", ["Macron", "retraites"], "Parenthèse fermante en trop"),
    (")(", [], "Parenthèse fermante en trop"),
    ("*", [], "« * » seul ne cherche rien"),
    ("retraites *", ["retraites"], "« * » seul ne cherche rien"),
    ("*traites", ["traites"], "jokers en début de mot ne sont pas pris en charge"),
    ("re*", ["re"], "au moins 3 lettres avant « * »"),
    ("foo:bar", ["foo:bar"], "Champ inconnu « foo »"),
    ("auteur:Dupont retraites", ["auteur:Dupont", "retraites"], "Champs possibles : titre"),
    ("x" * 10_000, ["x" * 1000], "Requête tronquée à 1000 caractères"),
    ("loi " * 1000, ["loi"] * 100, "seuls les 100 premiers mots comptent"),
])
def test_malformed_input_degrades_to_its_words_with_a_notice(query, expected_words, notice):
    parsed = parse(query)
    assert words(query) == expected_words
    assert any(notice in n for n in parsed.notices), parsed.notices


@pytest.mark.parametrize(("query", "expected_words"), [
    ("", []),
    ("   \t\n ", []),
    ('""', []),
    ("()", []),
    ("OR", []),
    ("-", []),
    ("titre:", ["titre:"]),
    ("retraites\x00grève", ["retraites", "grève"]),
    ("retraites\x07\x1b\x7fgrève", ["retraites", "grève"]),
    ("\ud800", []),
    ("retraites \ud800 grève", ["retraites", "grève"]),
    ("\udfff\ud800(", []),
])
def test_hostile_input_never_raises(query, expected_words):
    assert words(query) == expected_words


def test_control_characters_leave_no_trace_in_the_cleaned_text():
    assert parse("retraites\x00grève").text == "retraites grève"


def test_lone_surrogate_leaves_no_trace_in_the_cleaned_text():
    assert parse("retraites\ud800grève").text == "retraites grève"


def test_field_before_a_group_gives_no_false_parenthesis_notice():
    parsed = parse("titre:(réforme retraites)")
    assert words("titre:(réforme retraites)") == ["réforme", "retraites"]
    assert not any("Parenthèse" in n for n in parsed.notices), parsed.notices


def test_notices_are_not_repeated():
    parsed = parse('"a" ) ) * * foo:x foo:y')
    assert len(parsed.notices) == len(set(parsed.notices))
    assert sum("Parenthèse fermante" in n for n in parsed.notices) == 1


def test_positive_lists_words_and_phrases_but_not_exclusions_or_filters():
    parsed = parse('(Macron OR Borne) "réforme des retraites" -grève source:AFP')
    assert parsed.positive() == [W("Macron"), W("Borne"), Phrase("réforme des retraites")]


@pytest.mark.parametrize("query", ["rendez-vous à 12:30", "voir https://www.example.fr/a"])
def test_times_and_addresses_are_not_fields(query):
    assert parse(query).notices == ()


def test_field_applies_to_a_whole_group():
    root = parse("titre:(réforme retraites) grève").root
    assert [(w.text, w.field) for w in parse("titre:(réforme retraites) grève").positive()] == [
        ("réforme", "title"), ("retraites", "title"), ("grève", None)]
    assert len(root.nodes) == 2


@pytest.mark.parametrize(("query", "nodes", "notice"), [
    # An exclusion as an alternative keeps its meaning: any article without the word.
    ("Macron OR -Borne", (AnyOf((W("Macron"), Not(W("Borne")))),),
     "« Macron OR -Borne » trouve aussi tous les articles sans « Borne » ; "
     "pour exclure « Borne », écrivez « Macron -Borne »."),
    ("-Borne OU Macron", (AnyOf((Not(W("Borne")), W("Macron"))),),
     "« -Borne OU Macron » trouve aussi tous les articles sans « Borne » ; "
     "pour exclure « Borne », écrivez « Macron -Borne »."),
    ("Macron OR Attal OR -Borne", (AnyOf((W("Macron"), W("Attal"), Not(W("Borne")))),),
     "pour exclure « Borne », écrivez « (Macron OR Attal) -Borne »."),
    ('Macron OR -"gilets jaunes"', (AnyOf((W("Macron"), Not(Phrase("gilets jaunes")))),),
     "tous les articles sans « gilets jaunes » ; pour exclure « gilets jaunes », "
     'écrivez « Macron -"gilets jaunes" ».'),
    ("-Borne OR -Attal", (AnyOf((Not(W("Borne")), Not(W("Attal")))),),
     "« -Borne OR -Attal » trouve aussi tous les articles sans « Borne » ou sans « Attal » ; "
     "pour exclure « Borne » et « Attal », écrivez « -Borne -Attal »."),
    # In a group, the notice quotes the group's OR.
    ("(grève OR -SNCF) Paris", (AnyOf((W("grève"), Not(W("SNCF")))), W("Paris")),
     "« grève OR -SNCF » trouve aussi tous les articles sans « SNCF »"),
])
def test_an_exclusion_in_an_or_is_an_alternative_with_a_notice(query, nodes, notice):
    parsed = parse(query)
    assert parsed.root == AllOf(nodes)
    assert any(notice in n for n in parsed.notices), parsed.notices
    assert len(parsed.notices) == 1


def test_an_or_inside_an_exclusion_gets_no_advice_to_exclude():
    parsed = parse("grève -(SNCF OR -Bretagne)")
    assert parsed.root == AllOf((W("grève"), Not(AnyOf((W("SNCF"), Not(W("Bretagne")))))))
    assert parsed.notices == ()
