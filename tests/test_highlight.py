"""Marks on the original text and snippets: what a reader sees around the words searched."""

from __future__ import annotations

import html
import re

import pytest

import newssearch.highlight as highlighting
from newssearch.analysis import terms
from newssearch.highlight import MatchTerms, highlight, snippet


def match(query: str = "", exact: tuple[str, ...] = ()) -> MatchTerms:
    """Return what a query marks: the stems of its words, plus folded exact forms."""
    return MatchTerms(frozenset(terms(query)), frozenset(exact))


def visible(fragment_html: str) -> str:
    """Return the text a reader sees: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment_html))


def fragments(snippet_html: str) -> list[str]:
    """Split a snippet's visible text into its fragments, ellipses kept."""
    return visible(snippet_html).split("… …")


def assert_whole_words(text: str, fragment: str) -> None:
    """Check that a fragment starts and ends on word boundaries of the (spaced) text."""
    text = " ".join(text.split())
    inner = fragment.removeprefix("…").removesuffix("…")
    at = text.find(inner)
    assert at >= 0, inner
    end = at + len(inner)
    assert at == 0 or text[at - 1] == " ", f"starts inside a word: {text[at - 10:at + 10]!r}"
    assert end == len(text) or text[end] == " ", f"ends inside a word: {text[end - 10:end + 10]!r}"


SENTENCES = [
    "Le conseil municipal de Nantes s’est réuni jeudi soir pour examiner le budget.",
    "Les élus de l’opposition ont dénoncé une hausse des impôts locaux jugée excessive.",
    "Le maire a défendu un plan d’investissement dans les écoles et les transports.",
    "Plusieurs associations de parents d’élèves étaient présentes dans la salle.",
    "Elles réclament depuis des mois la rénovation des cantines scolaires.",
    "Le débat s’est prolongé jusqu’à minuit, dans une ambiance parfois tendue.",
    "Le vote définitif du budget aura lieu lors de la prochaine séance.",
    "En attendant, la préfecture examinera la légalité de plusieurs délibérations.",
    "Les syndicats des agents municipaux ont annoncé un préavis de grève.",
    "Ils demandent une revalorisation des salaires et davantage de postes.",
    "La direction des ressources humaines promet une réponse avant l’été.",
    "Le tramway de l’île de Nantes devrait, lui, être prolongé en 2026.",
    "Les travaux commenceront au printemps et dureront deux ans.",
    "Les riverains redoutent déjà les nuisances du chantier.",
    "Une réunion publique est prévue le mois prochain à la mairie annexe.",
]
ARTICLE = " ".join(SENTENCES)


@pytest.mark.parametrize(("text", "query", "exact", "expected"), [
    # Accents, case and plurals: the mark is on the original characters.
    ("Les élèves de l’école fêtent Noël", "eleve", (),
     "Les <mark>élèves</mark> de l’école fêtent Noël"),
    ("Les élèves de l’école fêtent Noël", "ecole noel", (),
     "Les élèves de l’<mark>école</mark> fêtent <mark>Noël</mark>"),
    ("Un élève de CM2", "ÉLÈVES", (), "Un <mark>élève</mark> de CM2"),
    ("Le cœur du problème", "coeur", (), "Le <mark>cœur</mark> du problème"),
    # Elision: the article stays outside the mark, with either apostrophe.
    ("Le vote de l’Assemblée nationale", "assemblee", (),
     "Le vote de l’<mark>Assemblée</mark> nationale"),
    ("Le vote de l'Assemblée nationale", "l'assemblee", (),
     "Le vote de l'<mark>Assemblée</mark> nationale"),
    ("Jusqu’à l’aube", "aube", (), "Jusqu’à l’<mark>aube</mark>"),
    # A hyphenated compound is marked whole; a part alone marks only that part.
    ("Une manifestation à Saint-Denis hier", "saint-denis", (),
     "Une manifestation à <mark>Saint-Denis</mark> hier"),
    ("Une manifestation à Saint-Denis hier", "denis", (),
     "Une manifestation à Saint-<mark>Denis</mark> hier"),
    ("Le porte-avions Charles-de-Gaulle appareille", "porte-avions", (),
     "Le <mark>porte-avions</mark> Charles-de-Gaulle appareille"),
    ("Kim Jong-un arrive à Vladivostok", "jong-un", (),
     "Kim <mark>Jong-un</mark> arrive à Vladivostok"),
    # HTML in the text is escaped first, and the words inside it are still marked.
    ("<script>alert('élèves')</script> & élèves", "eleve", (),
     "&lt;script&gt;alert('<mark>élèves</mark>')&lt;/script&gt; &amp; <mark>élèves</mark>"),
    ("Tom &amp; Jerry <b>élèves</b>", "eleve", (),
     "Tom &amp;amp; Jerry &lt;b&gt;<mark>élèves</mark>&lt;/b&gt;"),
    ("<mark>élèves</mark>", "eleve", (), "&lt;mark&gt;<mark>élèves</mark>&lt;/mark&gt;"),
    ("x<élèves>y", "eleve", (), "x&lt;<mark>élèves</mark>&gt;y"),
    ("<script>alert(1)</script>", "eleve", (), "&lt;script&gt;alert(1)&lt;/script&gt;"),
    # Stop words are marked only when the query asks for the exact form.
    ("La Poste et la poste", "la poste", (), "La <mark>Poste</mark> et la <mark>poste</mark>"),
    ("La Poste et la poste", "", ("la", "poste"),
     "<mark>La</mark> <mark>Poste</mark> et <mark>la</mark> <mark>poste</mark>"),
    ("On ne lâchera rien", "on", (), "On ne lâchera rien"),
    ("On ne lâchera rien", "", ("on",), "<mark>On</mark> ne lâchera rien"),
    # Nothing to mark: the text is only escaped.
    ("Les élèves & les profs", "", (), "Les élèves &amp; les profs"),
])
def test_highlight(text, query, exact, expected):
    assert highlight(text, match(query, exact)) == expected


@pytest.mark.parametrize("query", ["grève", "tramway", "cantines", "préfecture", "salaires"])
def test_snippet_is_about_200_chars_of_whole_words_around_the_match(query):
    result = snippet(ARTICLE, match(query))
    assert "<mark>" in result
    (fragment,) = fragments(result)
    assert 150 <= len(fragment) <= 205, (len(fragment), fragment)
    assert_whole_words(ARTICLE, fragment)


def test_snippet_marks_the_accented_original_and_escapes_html():
    text = ARTICLE.replace("préavis de grève", "préavis de <b>grève</b> & de blocage")
    result = snippet(text, match("greve"))
    assert "&lt;b&gt;<mark>grève</mark>&lt;/b&gt; &amp; de blocage" in result
    assert "<b>" not in result


@pytest.mark.parametrize(("query", "starts", "ends"), [
    ("conseil", False, True),     # the first sentence: no cut at the start
    ("grève", True, True),        # the middle: cut at both ends
    ("annexe", True, False),      # the last sentence: no cut at the end
])
def test_ellipsis_marks_the_cut_ends_only(query, starts, ends):
    (fragment,) = fragments(snippet(ARTICLE, match(query)))
    assert fragment.startswith("…") is starts
    assert fragment.endswith("…") is ends


def test_words_far_apart_give_two_fragments_at_most():
    result = snippet(ARTICLE, match("budget cantines grève tramway riverains"))
    parts = fragments(result)
    assert len(parts) == 2
    for part in parts:
        assert_whole_words(ARTICLE, part)
        assert len(part) <= 205
    assert result.count("<mark>") >= 2


@pytest.mark.parametrize("query", ["zèbre", "", "le la les"])
def test_no_match_gives_the_start_of_the_text(query):
    result = snippet(ARTICLE, match(query))
    assert "<mark>" not in result
    (fragment,) = fragments(result)
    assert fragment.startswith("Le conseil municipal de Nantes s’est réuni")
    assert fragment.endswith("…")
    assert 150 <= len(fragment) <= 205
    assert_whole_words(ARTICLE, fragment)


def test_short_text_is_shown_whole():
    text = "Les élèves ont chanté dans la cour."
    assert snippet(text, match("eleve")) == "Les <mark>élèves</mark> ont chanté dans la cour."
    assert snippet(text, match("zèbre")) == text


def test_line_breaks_and_runs_of_spaces_become_single_spaces():
    text = "Les élèves\n\nont   chanté\tdans la cour."
    assert snippet(text, match("chanter")) == "Les élèves ont <mark>chanté</mark> dans la cour."


@pytest.mark.parametrize("size", [62, 61])
def test_both_words_shown_when_they_fit_in_the_window(size):
    text = ("Ce jeudi matin, la grève des cheminots paralyse le réseau de la SNCF dans tout "
            "le pays, selon la direction.")
    result = snippet(text, match("grève SNCF"), size=size)
    assert "<mark>grève</mark>" in result
    assert "<mark>SNCF</mark>" in result


def test_match_in_the_last_sentence_still_gives_about_200_chars():
    (fragment,) = fragments(snippet(ARTICLE, match("annexe")))
    assert 150 <= len(fragment) <= 205, (len(fragment), fragment)


def test_snippet_never_starts_inside_a_long_word():
    text = ("Le formulaire est en ligne sur le site du ministère, à l’adresse "
            "https://www.service-public.fr/particuliers/vosdroits/F1234 retraite anticipée "
            "pour carrière longue. " + ARTICLE)
    (fragment, *_) = fragments(snippet(text, match("retraite")))
    assert_whole_words(text, fragment)


@pytest.mark.parametrize("limit", [highlighting.LEXICON_LIMIT, 40])
def test_spans_found_by_distinct_words_equal_a_reading_in_order(monkeypatch, limit):
    """The quick path (distinct words found through the lexicon, then their occurrences)
    marks what reading does, also once the lexicon is full."""
    import json
    import random
    from pathlib import Path

    from newssearch.highlight import _spans_in_order, spans

    lexicon = highlighting._Lexicon(limit)
    monkeypatch.setattr(highlighting, "_LEXICON", lexicon)

    sample = Path(__file__).resolve().parent.parent / "seeds" / "orangesum-sample.jsonl"
    records = [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(3)
    tricky = "L’Élysée, l'élysée, Saint-Denis, saint-denis-de-la-réunion, « Jong-un » -port"
    marked = 0
    for record in rng.sample(records, 150):
        text = f"{record['title']}\n{tricky}\n{record.get('body', '')}"
        words = terms(text, stemmed=False)
        picked = rng.sample(words, min(3, len(words))) + ["saint", "elysee", "saintdenis"]
        for query in (match(" ".join(picked)), match(exact=tuple(picked))):
            found = spans(text, query)
            assert found == _spans_in_order(text, query), picked
            marked += len(found)
    assert marked > 1000
    assert len(lexicon.known) > 2000 if limit > 40 else len(lexicon.known) < 200
