"""The French analyzer, one table per rule of ../shared/FRENCH.md."""

import pickle
import threading

import pytest
import snowballstemmer

from newssearch.analysis import (
    FrenchPositions,
    analyze,
    exact_analyzer,
    fold,
    stem,
    stemmed_analyzer,
    terms,
    text_positions,
)


def matches(query: str, document: str) -> bool:
    """True when every analysed word of the query is among the document's."""
    doc = set(terms(document))
    return all(t in doc for t in terms(query))


# Rule 1: typography.
@pytest.mark.parametrize(("text", "expected"), [
    ("l’Assemblée", ["assemble"]),
    ("lʼAssemblée", ["assemble"]),
    ("l‘Assemblée", ["assemble"]),
    ("l′Assemblée", ["assemble"]),
    ("Quoi\u00a0? Le\u202fdébat\u00a0!", ["quoi", "debat"]),
    ("«\u00a0liberté\u00a0»", ["libert"]),
    ("Paris—Lyon – Marseille", ["paris", "lyon", "marseil"]),
])
def test_typography(text, expected):
    assert terms(text) == expected


def test_offsets_point_into_the_original_text():
    text = "«\u00a0L’Élysée\u00a0» — Saint-Denis"
    spans = [text[t.start:t.end] for t in analyze(text)]
    assert spans == ["Élysée", "Saint-Denis", "Saint", "Denis"]


# Rule 2: numbers and one-character tokens that carry meaning.
@pytest.mark.parametrize(("text", "expected"), [
    ("Ligue 1", ["ligu", "1"]),
    ("TF1", ["tf1"]),
    ("le G7", ["g7"]),
    ("CAC 40", ["cac", "40"]),
    ("l'A380", ["a380"]),
    ("article 2", ["articl", "2"]),
    ("à 14h30", ["14h30"]),
    ("vitamine C", ["vitamin", "c"]),
])
def test_numbers_and_short_tokens_are_kept(text, expected):
    assert terms(text) == expected


# Rule 3: elision.
@pytest.mark.parametrize(("a", "b"), [
    ("l’Assemblée", "l'assemblee"),
    ("l'assemblee", "Assemblée"),
    ("d'Europe", "Europe"),
    ("j'ai vu", "vu"),
    ("qu'il parte", "parte"),
    ("jusqu'au bout", "bout"),
    ("lorsqu'elle arrive", "arrive"),
    ("s'engager", "engager"),
    ("c’était", "était"),
])
def test_elision(a, b):
    assert terms(a) == terms(b)


@pytest.mark.parametrize(("word", "expected"), [
    ("aujourd'hui", "aujourdhui"),
    ("aujourd’hui", "aujourdhui"),
    ("quelqu'un", "quelquun"),
    ("presqu'île", "presquile"),
    ("prud'homme", "prudhomme"),
])
def test_apostrophe_words_stay_whole(word, expected):
    assert terms(word, stemmed=False) == [expected]
    assert matches(word, f"Il l'a dit {word.upper()}.")


# Rule 4: hyphens.
@pytest.mark.parametrize(("query", "document"), [
    ("Saint-Denis", "à Saint-Denis"),
    ("saint denis", "à Saint-Denis"),
    ("denis", "à Saint-Denis"),
    ("seine-saint-denis", "en Seine-Saint-Denis"),
    ("porte-avions", "le porte-avions"),
    ("avions", "le porte-avions"),
    ("jean-paul", "Jean-Paul Belmondo"),
    ("covid-19", "la COVID-19"),
    ("covid19", "la COVID-19"),
])
def test_hyphenated_words_match_whole_and_by_parts(query, document):
    assert matches(query, document)


def test_hyphenated_compound_is_its_own_term():
    assert "saintden" in terms("Saint-Denis")
    assert "saintden" not in terms("Saint Denis")


def test_parts_of_a_compound_have_consecutive_positions():
    positions = {t.text: t.pos for t in analyze("Seine-Saint-Denis")}
    assert positions["sein"] + 1 == positions["saint"] == positions["den"] - 1


@pytest.mark.parametrize("text", ["a-t-il", "dit-elle", "va-t-on"])
def test_verb_pronoun_inversions_make_no_compound(text):
    assert all(len(t) <= 4 for t in terms(text, stemmed=False))


# Rule 5: case and accents folded before stemming, ligatures too.
@pytest.mark.parametrize(("a", "b"), [
    ("ecole", "école"),
    ("noel", "Noël"),
    ("ca", "ça"),
    ("oeil", "œil"),
    ("ex aequo", "ex æquo"),
    ("elysee", "Élysée"),
    ("ELEVES", "élèves"),
    ("etat", "État"),
    ("Cote d'Ivoire", "Côte d’Ivoire"),
])
def test_case_and_accents_fold(a, b):
    assert terms(a) == terms(b)
    assert terms(a, stemmed=False) == terms(b, stemmed=False)


def test_fold_handles_ligatures_unlike_nfkd():
    assert fold("Œuvre") == "oeuvre"
    assert fold("Cæsar") == "caesar"


# Rule 6: stop words, never content homonyms.
@pytest.mark.parametrize("word", ["été", "est", "son", "avions", "fait", "or", "car"])
def test_content_homonyms_are_not_stop_words(word):
    assert terms(word) != []


@pytest.mark.parametrize("text", ["le", "la les des", "et ou", "que qui", "dans sur pour"])
def test_function_words_are_stopped_in_ranked_fields(text):
    assert terms(text) == []


@pytest.mark.parametrize("text", ["La Poste", "Les Républicains", "On"])
def test_exact_field_keeps_every_word(text):
    assert len(terms(text, stemmed=False)) == len(text.split())


def test_stopped_words_keep_their_positions():
    positions = [t.pos for t in analyze("la maison de la culture")]
    assert positions == [1, 4]


# Rule 7: Snowball stemming.
@pytest.mark.parametrize(("a", "b"), [
    ("manifestations", "manifestation"),
    ("gouvernements", "gouvernement"),
    ("présidentielles", "présidentielle"),
    ("élections", "élection"),
    ("économiques", "économique"),
])
def test_plurals_and_inflections_share_a_stem(a, b):
    assert terms(a) == terms(b)


def test_exact_field_keeps_forms_that_stemming_merges():
    assert terms("France") == terms("francs")
    assert terms("France", stemmed=False) != terms("francs", stemmed=False)


def test_stems_equal_the_reference_snowball_stemmer():
    reference = snowballstemmer.stemmer("french")
    for word in ["nationales", "gouvernement", "manifestants", "rapidement", "heureuse"]:
        assert stem(word) == reference.stemWord(word)


def test_analyzers_pickle_since_whoosh_stores_the_schema():
    for analyzer in (stemmed_analyzer(), exact_analyzer()):
        copy = pickle.loads(pickle.dumps(analyzer))
        assert [t.text for t in copy("Les élèves de Saint-Denis")] == [
            t.text for t in analyzer("Les élèves de Saint-Denis")]


def test_threads_get_the_same_stems():
    words = [f"{w}{suffix}" for w in ("manifest", "gouvern", "national", "rapid")
             for suffix in ("ations", "ements", "ales", "ement", "es", "ait")]
    expected = {w: snowballstemmer.stemmer("french").stemWord(w) for w in words}
    failures = []

    def work():
        for w in words * 20:
            # Bypass the cache so that the per-thread stemmers really run.
            if stem.__class__.__call__(stem, w) != expected[w]:
                failures.append(w)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@pytest.mark.parametrize("positions", [[0], [300], [3, 4, 9], [0, 255, 256, 70_000],
                                       list(range(600))])
def test_positions_format_round_trips(positions):
    fmt = FrenchPositions()
    encoded = fmt.encode(positions)
    assert fmt.decode_positions(encoded) == positions
    assert fmt.decode_frequency(encoded) == len(positions)
    assert fmt.decode_weight(encoded) == float(len(positions))


def test_fast_path_gives_the_same_terms_and_positions_as_tokens():
    text = ("L’Assemblée a voté, à Saint-Denis, la loi « travail » : a-t-il dit ? "
            "Aujourd'hui le porte-avions Charles-de-Gaulle et l'A380 de 14h30.")
    for i, analyzer in enumerate((stemmed_analyzer(), exact_analyzer())):
        tokens: dict[str, list[int]] = {}
        for t in analyzer(text, positions=True):
            tokens.setdefault(t.text, []).append(t.pos)
        assert text_positions(text)[i] == tokens
        assert text_positions(text)[i] == tokens  # again, from the one-text cache


@pytest.mark.parametrize("stemmed", [True, False])
def test_terms_are_the_analyzers_words(stemmed):
    texts = ["L’Assemblée a voté, à Saint-Denis, la loi « travail » : a-t-il dit ?",
             "Aujourd'hui le porte-avions Charles-de-Gaulle et l'A380 de 14h30.",
             "qu’il jusqu'à Jong-un le la les", "", "  --  ", "ŒUVRES complètes d'Émile"]
    for text in texts:
        want = [t.text for t in (stemmed_analyzer() if stemmed else exact_analyzer())(text)]
        assert terms(text, stemmed) == want, text
