"""SearchService end to end: real French articles, a real index, what a user would notice.

Each table row is one behaviour: which article comes first, which are absent, the
total, the notices, the marks in the results, the suggestion.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from newssearch import indexer, schema
from newssearch.articles import Article
from newssearch.records import BadRequest, SearchPage, SearchRequest
from newssearch.search import SearchService


def art(id_: str, title: str, lede: str, body: str, day: str, section: str,
        source: str) -> dict:
    """Return one article record as the JSONL corpus holds it."""
    return {"id": id_, "title": title, "lede": lede, "body": body, "date": day,
            "section": section, "source": source, "url": f"https://example.org/{id_}"}


NEWS = [
    art("elysee-retraites", "L’Élysée défend la réforme des retraites",
        "Le président Emmanuel Macron a reçu les syndicats à l’Élysée.",
        "Le gouvernement promet des annonces avant l’été. Les manifestations se poursuivent.",
        "2023-01-12", "politique", "AFP"),
    art("champs-elysees", "Les Champs-Élysées illuminés pour les fêtes",
        "Des milliers de visiteurs se pressent sur l’avenue parisienne.",
        "La mairie de Paris a installé des guirlandes le long des Champs-Élysées.",
        "2022-11-25", "société", "Le Parisien"),
    art("assemblee-vote", "Le budget adopté de justesse",
        "Les députés ont voté le texte dans la nuit.",
        "Le vote de l’Assemblée nationale a été serré : 289 voix contre 270. "
        "Le Sénat examinera le texte en décembre.",
        "2023-11-08", "politique", "AFP"),
    art("manif-nantes", "Des milliers de manifestants à Nantes contre la réforme",
        "Les manifestations ont réuni 12 000 personnes selon la préfecture.",
        "Les cortèges ont défilé dans le calme. Les retraites sont au cœur de la colère. "
        "Les syndicats appellent à une nouvelle journée de grève jeudi.",
        "2023-01-19", "société", "Ouest-France"),
    art("saint-denis-quartier", "Un nouveau quartier sort de terre à Saint-Denis",
        "Les logements du village olympique seront livrés au printemps.",
        "À Saint-Denis, les grues dominent le paysage depuis deux ans.",
        "2023-06-02", "société", "Le Parisien"),
    art("denis-chapelle", "Le père Denis restaure une chapelle",
        "Un prêtre breton se lance dans un chantier hors norme.",
        "Denis, 72 ans, consacre ses journées à la chapelle du village. Il y a quelques "
        "années, il a retrouvé dans la crypte la statue d’un saint oublié, aujourd’hui "
        "exposée au musée.",
        "2021-08-14", "société", "Le Télégramme"),
    art("kim-poutine", "Kim Jong-un reçu par Vladimir Poutine",
        "Le dirigeant nord-coréen est arrivé en train blindé à Vladivostok.",
        "Les deux hommes ont évoqué la guerre en Ukraine et la coopération spatiale.",
        "2023-09-13", "monde", "Reuters"),
    art("kim-skieuse", "La skieuse Kim Martin remporte le slalom de Courchevel",
        "La Savoyarde signe sa première victoire en Coupe du monde.",
        "Elle devance deux Autrichiennes sur une piste glacée.",
        "2024-01-07", "sport", "AFP"),
    art("la-poste", "La Poste ferme trois bureaux en Bretagne",
        "La Poste invoque la baisse de la fréquentation.",
        "Les élus locaux dénoncent un abandon des campagnes.",
        "2022-03-15", "économie", "Le Télégramme"),
    art("poste-police", "Un poste de police rouvre à Marseille",
        "Le ministre de l’Intérieur a inauguré le poste du quartier Noailles.",
        "Les habitants réclamaient depuis longtemps une présence policière.",
        "2022-05-20", "société", "AFP"),
    art("cgt-mobilisation", "« On ne lâchera rien », prévient la CGT",
        "Le syndicat appelle à la grève le 7 mars.",
        "La secrétaire générale a répété que la mobilisation continuerait jusqu’au "
        "retrait du texte.",
        "2023-02-28", "politique", "AFP"),
    art("rafale-france", "La France vend des Rafale à l’Inde",
        "Un contrat de 26 avions pour la marine indienne.",
        "Dassault Aviation se félicite de cette commande historique pour la France.",
        "2023-07-14", "économie", "Reuters"),
    art("billets-francs", "Des billets en francs retrouvés dans un grenier",
        "Une famille découvre 40 000 francs en anciens billets.",
        "Les francs ne sont plus échangeables depuis 2012, rappelle la banque centrale.",
        "2021-02-03", "société", "Ouest-France"),
    art("macron-bruxelles", "Emmanuel Macron à Bruxelles pour le sommet européen",
        "Le chef de l’État plaide pour une défense commune.",
        "Macron a rencontré ses homologues allemand et italien.",
        "2023-10-26", "politique", "AFP"),
    art("macron-agriculteurs", "Macron promet un plan pour les agriculteurs",
        "Le président a été chahuté au Salon de l’agriculture.",
        "Les syndicats agricoles attendent des mesures concrètes sur les prix.",
        "2024-02-24", "politique", "Le Figaro"),
    art("presidentielle-sondage", "Présidentielle : un sondage bouscule la campagne",
        "Deux candidats sont au coude-à-coude selon l’enquête.",
        "L’écart reste dans la marge d’erreur, préviennent les sondeurs.",
        "2022-03-02", "politique", "Le Figaro"),
    art("presidentielle-debat", "Le débat de l’entre-deux-tours fixé au 20 avril",
        "Les deux finalistes de la présidentielle s’affronteront à la télévision.",
        "Les chaînes ont fixé la durée à deux heures et demie.",
        "2022-04-12", "politique", "AFP"),
    art("greve-sncf-afp", "Grève à la SNCF : le trafic très perturbé jeudi",
        "Un TGV sur deux circulera, selon la direction.",
        "Les usagers sont invités à reporter leur voyage.",
        "2023-03-06", "société", "AFP"),
    art("greve-sncf-ouest", "Grève à la SNCF : le trafic très perturbé jeudi",
        "Un TGV sur deux circulera, selon la direction.",
        "Les usagers sont invités à reporter leur voyage. En Bretagne, peu de TER.",
        "2023-03-07", "société", "Ouest-France"),
    art("greve-sncf-figaro", "Grève à la SNCF : le trafic très perturbé jeudi",
        "Un TGV sur deux circulera, selon la direction.",
        "Les usagers sont invités à reporter leur voyage.",
        "2023-03-08", "société", "Le Figaro"),
    art("secheresse-recoltes", "La sécheresse menace les récoltes dans le Sud-Ouest",
        "Les agriculteurs réclament des restrictions d’eau plus souples.",
        "Le préfet a réuni les irrigants mardi.",
        "2022-08-10", "économie", "Ouest-France"),
    art("tourisme-ete", "Un été record pour le tourisme sur la côte",
        "Les campings affichent complet jusqu’à la fin août.",
        "Malgré la sécheresse, les plages n’ont jamais été aussi fréquentées.",
        "2022-08-30", "économie", "Le Parisien"),
    art("ecole-noel", "Les élèves de l’école fêtent Noël",
        "Un spectacle pour les parents avant les vacances.",
        "Les élèves ont chanté dans la cour. Le maire était présent.",
        "2019-12-20", "société", "AFP"),
    art("lycee-pirate", "Des élèves piratent le site du lycée <script>alert(1)</script>",
        "Le proviseur a porté plainte.",
        "Le code <script>document.cookie</script> a été injecté & supprimé en une heure.",
        "2020-10-05", "société", "AFP"),
]


BY_ID = {a["id"]: a for a in NEWS}
GREVE_COPIES = {"greve-sncf-afp", "greve-sncf-ouest", "greve-sncf-figaro"}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """Write records as a JSONL file and return its path."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


@pytest.fixture(scope="module")
def news_index(tmp_path_factory) -> Path:
    """A real index of NEWS, built once for the module."""
    root = tmp_path_factory.mktemp("news")
    indexer.rebuild([write_jsonl(root / "news.jsonl", NEWS)], root / "index")
    return root / "index"


@pytest.fixture(scope="module")
def service(news_index: Path) -> SearchService:
    """A SearchService over the NEWS index."""
    return SearchService(news_index)


def search(service: SearchService, q: str, **kwargs) -> SearchPage:
    """Run one search with the request's defaults."""
    return service.search(SearchRequest(q, **kwargs))


def ids(page: SearchPage) -> list[str]:
    """Return the ids of a page's hits, in order."""
    return [h.id for h in page.hits]


def all_ids(service: SearchService, q: str, **kwargs) -> list[str]:
    """Return the ids of every hit of a search, on one big page."""
    return ids(search(service, q, per_page=100, **kwargs))


def hit(page: SearchPage, article_id: str):
    """Return the hit of one article on a page."""
    return next(h for h in page.hits if h.id == article_id)


def has_notice(page: SearchPage, text: str) -> bool:
    """Tell whether one of the page's notices contains ``text``."""
    return any(text in n for n in page.notices)


def with_word(word: str) -> set[str]:
    """Return the ids of the NEWS articles whose text holds ``word`` as a whole word."""
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    return {a["id"] for a in NEWS
            if pattern.search(" ".join((a["title"], a["lede"], a["body"])))}


# FRENCH.md at the search level -------------------------------------------------------

@pytest.mark.parametrize(("query", "first", "also", "absent"), [
    # Case and accents are folded before stemming.
    ("elysee", "elysee-retraites", {"champs-elysees"}, set()),
    ("ÉLYSÉE", "elysee-retraites", {"champs-elysees"}, set()),
    ("coeur", "manif-nantes", set(), set()),
    # Plurals and stemming: the query's form need not be the article's.
    ("manifestation", "manif-nantes", {"elysee-retraites"}, set()),
    ("gouvernements", "elysee-retraites", set(), set()),
    # « été » is a word (summer), not a stop word.
    ("été", "tourisme-ete", set(), set()),
    # Elision, with either apostrophe, and none.
    ("l'assemblee", "assemblee-vote", set(), set()),
    ("l’Assemblée", "assemblee-vote", set(), set()),
    ("assemblée", "assemblee-vote", set(), set()),
    # Hyphens: the compound outranks its parts far apart; a part finds the compound.
    ("saint-denis", "saint-denis-quartier", {"denis-chapelle"}, set()),
    ("denis", "denis-chapelle", {"saint-denis-quartier"}, set()),
    # A hyphen inside a word is never NOT; only "-mot" excludes.
    ("Kim Jong-un", "kim-poutine", set(), set()),
    ("jong-un", "kim-poutine", set(), {"kim-skieuse"}),
    ("Kim -Jong-un", "kim-skieuse", set(), {"kim-poutine"}),
    ("Kim -Vladivostok", "kim-skieuse", set(), {"kim-poutine"}),
    # Stop-word queries find the exact sequence, never nothing.
    ("La Poste", "la-poste", set(), {"poste-police"}),
    ("la poste", "la-poste", set(), {"poste-police"}),
    ("On", "cgt-mobilisation", set(), set()),
    # Stemming merges France and francs: the exact form ranks first.
    ("France", "rafale-france", {"billets-francs"}, set()),
    ("francs", "billets-francs", {"rafale-france"}, set()),
])
def test_french_rules(service, query, first, also, absent):
    found = all_ids(service, query)
    assert found[0] == first, found
    assert also <= set(found)
    assert not absent & set(found)


def test_stop_word_query_finds_every_article_with_it(service):
    page = search(service, "On")
    assert set(ids(page)) == with_word("on") == {"cgt-mobilisation"}
    assert "<mark>On</mark>" in page.hits[0].title_html


def test_stop_word_sequence_is_required_when_it_exists(service):
    page = search(service, "La Poste")
    assert ids(page) == ["la-poste"] and page.total == 1
    assert "poste-police" in all_ids(service, "poste")


@pytest.mark.parametrize(("query", "suggestion", "expected"), [
    ("macorn", "Macron", {"elysee-retraites", "macron-bruxelles", "macron-agriculteurs"}),
    ("Macorn", "Macron", {"elysee-retraites", "macron-bruxelles", "macron-agriculteurs"}),
    # Two edits from 9 letters: y→i and a swap (ts→st).
    ("sindicast", "syndicats", {"elysee-retraites", "manif-nantes", "macron-agriculteurs",
                                "cgt-mobilisation"}),
    # Two edits in a longer word, shown in the accented form the articles use.
    ("presidantiele", "présidentielle", {"presidentielle-sondage", "presidentielle-debat"}),
])
def test_typo_is_corrected_with_a_suggestion(service, query, suggestion, expected):
    page = search(service, query)
    assert set(ids(page)) == expected
    assert page.total == len(expected)
    assert page.suggestion is not None
    assert page.suggestion.text == suggestion
    assert page.suggestion.html == f"<em>{suggestion}</em>"
    assert page.suggestion.total == len(expected)
    # Said once, by the page's « Résultats pour … Rechercher plutôt … », not by a notice too.
    assert page.corrected_from == query
    assert not has_notice(page, "Aucun résultat pour")


def test_verbatim_searches_the_words_as_typed_and_offers_the_correction(service):
    page = search(service, "macorn", verbatim=True)
    assert page.total == 0 and page.corrected_from is None
    assert page.suggestion is not None and page.suggestion.text == "Macron"


@pytest.mark.parametrize("query", [
    "grve",       # 4 letters: never corrected, although « grève » is one edit away
    "sindicas",   # 8 letters and two edits from « syndicats »: one edit only under 9
])
def test_short_words_are_not_corrected_beyond_their_budget(service, query):
    page = search(service, query)
    assert page.total == 0 and page.hits == ()
    assert page.suggestion is None


def test_typo_correction_keeps_the_other_words(service):
    page = search(service, "macorn agriculteurs")
    assert ids(page)[0] == "macron-agriculteurs"
    assert page.suggestion is not None
    assert page.suggestion.text == "Macron agriculteurs"


def test_typo_after_a_field_is_shown_corrected(service):
    page = search(service, "titre:macorn")
    assert set(ids(page)) == {"macron-bruxelles", "macron-agriculteurs"}
    assert page.suggestion is not None
    assert page.suggestion.text == "titre:Macron"
    assert page.corrected_from == "titre:macorn"


@pytest.fixture(scope="module")
def txt_index(tmp_path_factory) -> Path:
    """An index of one .txt article that ends with a related-links block."""
    root = tmp_path_factory.mktemp("txt")
    src = root / "src"
    src.mkdir()
    (src / "kim-russie.txt").write_text(
        "Kim Jong-un en visite en Russie\n\n"
        "MONDE - Le dirigeant nord-coréen est arrivé à Vladivostok en train blindé.\n\n"
        "Il doit rencontrer Vladimir Poutine dans la journée.\n\n"
        "À voir également sur Le HuffPost :\n\n"
        "Bakhmout sous les bombes depuis des mois\n\n"
        "Le prix du blé s’envole sur les marchés\n", "utf-8")
    indexer.rebuild([src], root / "index")
    return root / "index"


@pytest.mark.parametrize(("query", "total"), [
    ("Vladivostok", 1),
    ("Poutine", 1),
    ("Bakhmout", 0),
    ("blé", 0),
    ("HuffPost", 0),
])
def test_related_links_block_is_not_searchable(txt_index, query, total):
    page = search(SearchService(txt_index), query)
    assert page.total == total
    assert ids(page) == ["kim-russie"] * total


# Ranking ---------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "above", "below"), [
    ("sécheresse", "secheresse-recoltes", "tourisme-ete"),      # title above body only
    ("Macron", "macron-bruxelles", "elysee-retraites"),          # title above lede only
    ("réforme retraites", "elysee-retraites", "manif-nantes"),  # together, in the title
    ("saint-denis", "saint-denis-quartier", "denis-chapelle"),
    ("France", "rafale-france", "billets-francs"),
])
def test_ranking(service, query, above, below):
    found = all_ids(service, query)
    assert found.index(above) < found.index(below), found


@pytest.mark.parametrize(("query", "expected"), [
    ("grève Nantes", ["manif-nantes"]),
    ("Macron syndicats", ["elysee-retraites", "macron-agriculteurs"]),
])
def test_articles_with_all_the_words_come_first(service, query, expected):
    page = search(service, query)
    assert sorted(ids(page)[:len(expected)]) == sorted(expected)
    assert len(ids(page)) > len(expected)  # then those with some of the words
    count = len(expected)
    assert has_notice(page, f"{count} article{'s' if count > 1 else ''} conti")
    assert not has_notice(page, "Aucun article ne contient tous les mots")


def test_a_full_page_of_articles_with_all_the_words_comes_alone(service):
    page = search(service, "grève Nantes", per_page=1)
    assert ids(page) == ["manif-nantes"] and page.total == 1 and page.notices == ()


def test_partial_matches_of_a_name_rank_below_the_full_name(service):
    found = all_ids(service, "Kim Jong-un")
    assert found.index("kim-poutine") < found.index("kim-skieuse")


def test_without_all_the_words_the_best_partial_matches_come_with_a_notice(service):
    page = search(service, "sécheresse Vladivostok")
    assert set(ids(page)) == {"secheresse-recoltes", "tourisme-ete", "kim-poutine"}
    assert ids(page)[0] == "secheresse-recoltes"
    assert has_notice(page, "Aucun article ne contient tous les mots")


# The query language ------------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected", "notice"), [
    ('"réforme des retraites"', {"elysee-retraites"}, None),
    ("« réforme des retraites »", {"elysee-retraites"}, None),
    # A phrase no article holds as typed (a misremembered quotation): its words.
    ('"les retraites de la réforme"', {"elysee-retraites", "manif-nantes"},
     "Aucun article ne contient l’expression exacte : résultats pour ses mots."),
    ("réforme retraites", {"elysee-retraites", "manif-nantes"}, None),
    ("Rafale OR billets", {"rafale-france", "billets-francs"}, None),
    ("Rafale OU billets", {"rafale-france", "billets-francs"}, None),
    ("(Rafale OR billets) Inde", {"rafale-france"}, None),
    ("Macron -Bruxelles", {"elysee-retraites", "macron-agriculteurs"}, None),
    ("titre:sécheresse", {"secheresse-recoltes"}, None),
    ("titre:Macron", {"macron-bruxelles", "macron-agriculteurs"}, None),
    ("source:reuters", {"kim-poutine", "rafale-france"}, None),
    ("source:AFP élèves", {"ecole-noel", "lycee-pirate"}, None),
    ('source:"le telegramme"', {"denis-chapelle", "la-poste"}, None),
    ("rubrique:societe poste", {"poste-police"}, None),
    ("rubrique:ÉCONOMIE sécheresse", {"secheresse-recoltes", "tourisme-ete"}, None),
    ("-source:AFP Macron", {"macron-agriculteurs"}, None),
    ("source:Libération retraites", set(), "Aucune source « Libération » dans l’index."),
    ("rubrique:cuisine", set(), "Aucune rubrique « cuisine » dans l’index."),
    ("retraites foo:bar", {"elysee-retraites", "manif-nantes"}, "Champ inconnu « foo »"),
    ('"réforme des retraites', {"elysee-retraites", "manif-nantes"}, "Guillemets non fermés"),
])
def test_query_language(service, query, expected, notice):
    page = search(service, query)
    found = ids(page)
    assert set(found[:len(expected)]) == expected
    if len(found) > len(expected):  # articles with only some of the words follow
        assert has_notice(page, "tous les mots"), page.notices
    if notice:
        assert has_notice(page, notice), page.notices


def test_a_long_quotation_misremembered_finds_its_article_by_its_words(service):
    page = search(service, '"les syndicats appellent à une nouvelle journée de grève vendredi"')
    assert ids(page)[0] == "manif-nantes"
    assert has_notice(page, "Aucun article ne contient l’expression exacte")


def test_unknown_source_filter_gets_the_same_notice_as_in_the_query(service):
    page = search(service, "retraites", source="Libération")
    assert page.total == 0
    assert has_notice(page, "Aucune source « Libération » dans l’index.")


# Exclusions inside groups ----------------------------------------------------------

@pytest.mark.parametrize(("query", "expected"), [
    # An exclusion in a group excludes, as it does outside one.
    ("(retraites -grève)", {"elysee-retraites"}),
    ('(manifestations -"réforme des retraites")', {"manif-nantes"}),
    # Inside titre:(…) it excludes from the headline only: manif-nantes has the
    # word in its body, not in its headline…
    ("titre:(réforme -retraites)", {"manif-nantes"}),
    # … while after titre:réforme it excludes from the whole article.
    ("titre:réforme -retraites", set()),
    # A group excluded as a whole: articles with all its words, or with any of them.
    ("grève -(SNCF jeudi)", {"manif-nantes", "cgt-mobilisation"}),
    ("grève -(SNCF OR Nantes)", {"cgt-mobilisation"}),
    # Excluding « SNCF without Bretagne » keeps the copy of the story that has Bretagne.
    ("grève -(SNCF -Bretagne)", {"manif-nantes", "cgt-mobilisation", "greve-sncf-ouest"}),
])
def test_an_exclusion_in_a_group_excludes(service, query, expected):
    assert set(all_ids(service, query)) == expected


@pytest.mark.parametrize(("grouped", "flat"), [
    ("(retraites -grève)", "retraites -grève"),
    # The excluded article stays out of the partial matches too.
    ("(Macron -Bruxelles) syndicats", "Macron syndicats -Bruxelles"),
    # Only exclusions: every article without them, as at the top level.
    ("(-grève -syndicats)", "-grève -syndicats"),
])
def test_a_group_with_exclusions_reads_as_its_words_typed_alone(service, grouped, flat):
    page, expected = search(service, grouped, per_page=100), search(service, flat, per_page=100)
    assert ids(page) == ids(expected) and ids(page)
    assert page.notices == expected.notices


MACRON = {"elysee-retraites", "macron-bruxelles", "macron-agriculteurs"}


@pytest.mark.parametrize("query", ["Macron OR -syndicats", "-syndicats OU Macron"])
def test_an_exclusion_as_an_alternative_adds_every_article_without_the_word(service, query):
    page = search(service, query, per_page=100, collapse=False)
    # The articles with Macron first (they alone have a score), then all those
    # without syndicats; only those with syndicats and no Macron are left out.
    assert set(ids(page)[:3]) == MACRON
    assert set(ids(page)) == set(BY_ID) - {"manif-nantes", "cgt-mobilisation"}
    assert page.notices == (
        f"« {query} » trouve aussi tous les articles sans « syndicats » ; "
        "pour exclure « syndicats », écrivez « Macron -syndicats ».",)


def test_an_exclusion_as_an_alternative_in_a_group(service):
    page = search(service, "(Élysée OR -grève) syndicats", per_page=100)
    # Articles with syndicats, and either Élysée or no grève.
    assert set(ids(page)[:2]) == {"elysee-retraites", "macron-agriculteurs"}
    # The partial matches have one of the words: « no grève » alone is not one.
    assert set(ids(page)) == {"elysee-retraites", "macron-agriculteurs", "champs-elysees",
                              "manif-nantes", "cgt-mobilisation"}
    assert page.notices == (
        "« Élysée OR -grève » trouve aussi tous les articles sans « grève » ; "
        "pour exclure « grève », écrivez « Élysée -grève ».",
        "Seuls 2 articles contiennent tous les mots ; "
        "les suivants n’en contiennent qu’une partie.")


# Filters, sorting, paging, facets, duplicates --------------------------------------

@pytest.mark.parametrize(("q", "kwargs", "expected"), [
    ("", {"section": "monde"}, {"kim-poutine"}),
    ("", {"section": "economie"}, {"la-poste", "rafale-france", "secheresse-recoltes",
                                   "tourisme-ete"}),
    ("Macron", {"source": "afp"}, {"elysee-retraites", "macron-bruxelles"}),
    ("", {"source": "Le Télégramme"}, {"denis-chapelle", "la-poste"}),
    ("Macron", {"section": "politique", "source": "Le Figaro"}, {"macron-agriculteurs"}),
    ("grève", {"date_from": date(2023, 2, 1), "date_to": date(2023, 3, 6)},
     {"cgt-mobilisation", "greve-sncf-afp"}),
    ("", {"date_from": date(2024, 1, 1)}, {"kim-skieuse", "macron-agriculteurs"}),
    ("", {"date_to": date(2020, 12, 31)}, {"ecole-noel", "lycee-pirate"}),
    ("", {"date_from": date(2022, 8, 10), "date_to": date(2022, 8, 10)},
     {"secheresse-recoltes"}),
    ("Macron", {"section": "monde"}, set()),
])
def test_filters(service, q, kwargs, expected):
    page = search(service, q, **kwargs)
    assert set(ids(page)) == expected
    assert page.total == len(expected)


def test_browsing_a_section_with_an_empty_query_lists_that_section(service):
    page = search(service, "", section="politique", per_page=100)
    assert set(ids(page)) == {a["id"] for a in NEWS if a["section"] == "politique"}
    assert not page.notices


def test_sort_by_date_puts_the_newest_first(service):
    assert all_ids(service, "Macron")[0] == "macron-bruxelles"
    page = search(service, "Macron", sort="date")
    assert ids(page) == ["macron-agriculteurs", "macron-bruxelles", "elysee-retraites"]
    assert [h.date for h in page.hits] == sorted((h.date for h in page.hits), reverse=True)
    assert page.sort == "date"


@pytest.mark.parametrize(("q", "kwargs"), [
    ("", {"source": "AFP"}),
    ("syndicats", {}),
    ("", {"date_from": date(2022, 1, 1), "section": "politique"}),
])
def test_paging(service, q, kwargs):
    everything = all_ids(service, q, **kwargs)
    per_page = 3
    pages = [search(service, q, page=n, per_page=per_page, **kwargs) for n in (1, 2, 3, 4)]
    expected_pages = -(-len(everything) // per_page)
    assert expected_pages >= 2
    for n, page in enumerate(pages, 1):
        assert ids(page) == everything[(n - 1) * per_page:n * per_page]
        assert (page.page, page.per_page, page.total) == (n, per_page, len(everything))
        assert page.pages == expected_pages
    last = pages[expected_pages - 1]
    assert len(last.hits) == len(everything) - (expected_pages - 1) * per_page < per_page


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"per_page": 0}, "bad_per_page"),
    ({"per_page": 101}, "bad_per_page"),
    ({"per_page": -5}, "bad_per_page"),
    ({"page": 0}, "bad_page"),
    ({"page": 1001}, "bad_page"),
    ({"sort": "pertinence"}, "bad_sort"),
])
def test_bad_requests_are_refused_with_a_code(kwargs, code):
    with pytest.raises(BadRequest) as raised:
        SearchRequest("retraites", **kwargs)
    assert raised.value.code == code
    assert raised.value.message


def test_a_period_typed_backwards_is_searched_forwards_and_said(service):
    backwards = search(service, "", date_from=date(2023, 12, 31), date_to=date(2023, 1, 1))
    forwards = search(service, "", date_from=date(2023, 1, 1), date_to=date(2023, 12, 31))
    assert backwards.total == forwards.total > 0
    assert ids(backwards) == ids(forwards)
    assert has_notice(backwards, "Dates inversées : période du 1er janvier 2023 au "
                                 "31 décembre 2023.")


@pytest.mark.parametrize("kwargs", [{"per_page": 1}, {"per_page": 100}, {"page": 1000}])
def test_bounds_are_accepted(service, kwargs):
    page = search(service, "Macron", **kwargs)
    assert page.total == 3


def counts(page: SearchPage, facet: str) -> dict[str, int]:
    """Return one facet of a page as {value: count}."""
    return {v.value: v.count for v in page.facets[facet]}


def fixture_counts(article_ids) -> dict[str, dict[str, int]]:
    """Count sections, sources and years of some NEWS articles."""
    chosen = [BY_ID[i] for i in article_ids]
    return {"section": dict(Counter(a["section"] for a in chosen)),
            "source": dict(Counter(a["source"] for a in chosen)),
            "year": dict(Counter(a["date"][:4] for a in chosen))}


@pytest.mark.parametrize(("q", "kwargs", "expected_ids"), [
    ("", {"source": "AFP"}, {a["id"] for a in NEWS if a["source"] == "AFP"}),
    ("syndicats", {}, {"elysee-retraites", "manif-nantes", "macron-agriculteurs",
                       "cgt-mobilisation"}),
    ("Macron OR présidentielle", {}, {"elysee-retraites", "macron-bruxelles",
                                      "macron-agriculteurs", "presidentielle-sondage",
                                      "presidentielle-debat"}),
    ("grève", {}, {"greve-sncf-afp", "cgt-mobilisation", "manif-nantes"}),
])
def test_facets_count_the_whole_result_set(service, q, kwargs, expected_ids):
    page = search(service, q, per_page=1, **kwargs)
    assert page.total == len(expected_ids) and len(page.hits) == 1
    expected = fixture_counts(expected_ids)
    for facet in ("section", "source", "year"):
        if facet not in kwargs:  # a chosen facet counts its other values too (below)
            assert counts(page, facet) == expected[facet], facet
    assert [v.value for v in page.facets["year"]] == sorted(expected["year"], reverse=True)
    section_counts = [v.count for v in page.facets["section"]]
    assert section_counts == sorted(section_counts, reverse=True)


@pytest.mark.parametrize(("q", "kwargs"), [
    ("grève", {}),
    ("syndicats", {"per_page": 1}),
    ("", {"source": "AFP", "per_page": 4}),
    ("grève", {"sort": "date"}),
])
def test_total_pages_and_facets_agree_with_the_hits(service, q, kwargs):
    per_page = kwargs.pop("per_page", 10)
    everything = all_ids(service, q, **kwargs)
    page = search(service, q, per_page=per_page, **kwargs)
    assert page.total == len(everything)
    assert page.pages == -(-len(everything) // per_page)
    assert sum(v.count for v in page.facets["section"]) == len(everything)


@pytest.mark.parametrize(("q", "kwargs"), [
    ("grève SNCF", {}),
    ("Grève à la SNCF : le trafic très perturbé jeudi", {}),
    ("usagers", {}),
    ("grève SNCF", {"section": "société"}),
    ("grève SNCF", {"date_from": date(2023, 1, 1)}),
    ("rubrique:société grève SNCF", {}),
    ("", {"section": "société"}),
    ("grève SNCF", {"sort": "date"}),
])
def test_duplicates_are_collapsed_into_one_hit(service, q, kwargs):
    page = search(service, q, per_page=100, **kwargs)
    copies = [h for h in page.hits if h.id in GREVE_COPIES]
    assert len(copies) == 1
    assert copies[0].duplicates == len(GREVE_COPIES) - 1
    assert page.total == len(page.hits)


def test_duplicates_are_listed_when_collapse_is_off(service):
    page = search(service, "grève SNCF", collapse=False, per_page=3)
    assert set(ids(page)) == GREVE_COPIES
    assert page.total == 3
    assert all(h.duplicates == 0 for h in page.hits)


# Highlighting in results -------------------------------------------------------------

@pytest.mark.parametrize(("query", "article_id", "title_html", "in_snippet"), [
    ("eleve", "ecole-noel", "Les <mark>élèves</mark> de l’école fêtent Noël",
     "Les <mark>élèves</mark> ont chanté"),
    ("noel ecole", "ecole-noel", "Les élèves de l’<mark>école</mark> fêtent <mark>Noël</mark>",
     None),
    ("l'assemblee", "assemblee-vote", "Le budget adopté de justesse",
     "de l’<mark>Assemblée</mark> nationale"),
    ("elysee", "elysee-retraites", "L’<mark>Élysée</mark> défend la réforme des retraites",
     "à l’<mark>Élysée</mark>."),
    ("saint-denis", "saint-denis-quartier",
     "Un nouveau quartier sort de terre à <mark>Saint-Denis</mark>",
     "À <mark>Saint-Denis</mark>, les grues"),
    ("La Poste", "la-poste",
     "<mark>La</mark> <mark>Poste</mark> ferme trois bureaux en Bretagne",
     "<mark>La</mark> <mark>Poste</mark> invoque"),
])
def test_marks_on_the_accented_original(service, query, article_id, title_html, in_snippet):
    result = hit(search(service, query), article_id)
    assert result.title_html == title_html
    if in_snippet:
        assert in_snippet in result.snippet_html


def test_phrase_marks_no_stray_stop_words(service):
    result = hit(search(service, '"réforme des retraites"'), "elysee-retraites")
    assert "<mark>des</mark> annonces" not in result.snippet_html


def only_safe_tags(fragment: str) -> bool:
    """Tell whether the only tags in some HTML are <mark> and <em>."""
    return "<" not in re.sub(r"</?(mark|em)>", "", fragment)


@pytest.mark.parametrize("query", [
    "élèves piratent",
    "<script>alert(1)</script> élèves",
    "script",
    "<script>alert(1)</script> macorn",
    "<script>élèves</script> &amp;",
])
def test_html_in_articles_and_queries_is_escaped(service, query):
    page = search(service, query)
    assert page.hits, query
    for h in page.hits:
        assert only_safe_tags(h.title_html), h.title_html
        assert only_safe_tags(h.snippet_html), h.snippet_html
    if page.suggestion is not None:
        assert only_safe_tags(page.suggestion.html), page.suggestion.html
    pirate = [h for h in page.hits if h.id == "lycee-pirate"]
    if pirate:
        assert "lycée &lt;" in pirate[0].title_html
        assert "&lt;/" in pirate[0].title_html and "&lt;/" in pirate[0].snippet_html


def test_script_in_title_and_body_is_escaped_and_words_marked(service):
    result = hit(search(service, "élèves piratent"), "lycee-pirate")
    assert result.title_html == ("Des <mark>élèves</mark> <mark>piratent</mark> le site du "
                                 "lycée &lt;script&gt;alert(1)&lt;/script&gt;")
    assert "&lt;script&gt;document.cookie&lt;/script&gt; a été injecté &amp; supprimé" in (
        result.snippet_html)
    assert result.title == "Des élèves piratent le site du lycée <script>alert(1)</script>"


# Empty queries, articles, rebuilds, JSON -------------------------------------------------

@pytest.mark.parametrize(("query", "notice"), [
    ("", "Requête vide"),
    ("   ", "Requête vide"),
    ("*", "« * » seul ne cherche rien"),
    ("()", "Requête vide"),
    ('""', "Requête vide"),
    ("\x00\ud800", "Requête vide"),
])
def test_empty_query_gives_nothing_and_says_so(service, query, notice):
    page = search(service, query)
    assert (page.total, page.hits, page.pages) == (0, (), 0)
    assert has_notice(page, notice), page.notices
    assert page.suggestion is None


@pytest.mark.parametrize(("article_id", "q", "title_html", "lede_html", "in_body"), [
    ("elysee-retraites", "elysee manifestation",
     "L’<mark>Élysée</mark> défend la réforme des retraites",
     "Le président Emmanuel Macron a reçu les syndicats à l’<mark>Élysée</mark>.",
     "Les <mark>manifestations</mark> se poursuivent."),
    ("saint-denis-quartier", "saint-denis",
     "Un nouveau quartier sort de terre à <mark>Saint-Denis</mark>",
     "Les logements du village olympique seront livrés au printemps.",
     "À <mark>Saint-Denis</mark>, les grues"),
    ("lycee-pirate", "code",
     "Des élèves piratent le site du lycée &lt;script&gt;alert(1)&lt;/script&gt;",
     "Le proviseur a porté plainte.",
     "<p>Le <mark>code</mark> &lt;script&gt;document.cookie&lt;/script&gt; a été injecté "
     "&amp; supprimé en une heure.</p>"),
    ("ecole-noel", "", "Les élèves de l’école fêtent Noël",
     "Un spectacle pour les parents avant les vacances.",
     "<p>Les élèves ont chanté dans la cour. Le maire était présent.</p>"),
])
def test_article_marks_the_query_words(service, article_id, q, title_html, lede_html, in_body):
    view = service.article(article_id, q)
    assert view is not None
    assert (view.id, view.title_html, view.lede_html) == (article_id, title_html, lede_html)
    assert in_body in view.body_html
    assert view.date == date.fromisoformat(BY_ID[article_id]["date"])
    assert (view.source, view.section) == (BY_ID[article_id]["source"],
                                           BY_ID[article_id]["section"])


@pytest.mark.parametrize("article_id", ["inconnu", "", "../etc/passwd", "ELYSEE-RETRAITES"])
def test_unknown_article_is_none(service, article_id):
    assert service.article(article_id, "elysee") is None


def test_service_sees_a_rebuilt_index_without_a_restart(tmp_path):
    corpus = tmp_path / "news.jsonl"
    index_dir = tmp_path / "index"
    write_jsonl(corpus, [BY_ID["la-poste"], BY_ID["poste-police"]])
    indexer.rebuild([corpus], index_dir)
    service = SearchService(index_dir)
    assert search(service, "Vladivostok").total == 0
    assert set(all_ids(service, "poste")) == {"poste-police", "la-poste"}
    assert service.info().documents == 2

    write_jsonl(corpus, [BY_ID["la-poste"], BY_ID["kim-poutine"]])
    indexer.rebuild([corpus], index_dir)
    assert ids(search(service, "Vladivostok")) == ["kim-poutine"]
    assert all_ids(service, "poste") == ["la-poste"]
    assert service.info().documents == 2
    assert service.article("poste-police") is None


PAGE_KEYS = ["query", "total", "page", "per_page", "pages", "sort", "took_ms", "hits",
             "suggestion", "notices", "facets", "histogram", "corrected_from"]
HIT_KEYS = ["id", "title", "title_html", "snippet_html", "url", "date", "source", "section",
            "score", "duplicates"]


def test_to_json_shape(service):
    data = search(service, "grève", per_page=3).to_json()
    assert list(data) == PAGE_KEYS
    assert (data["query"], data["total"], data["page"], data["per_page"], data["pages"],
            data["sort"]) == ("grève", 3, 1, 3, 1, "relevance")
    assert isinstance(data["took_ms"], float) and data["took_ms"] >= 0
    assert data["suggestion"] is None and data["notices"] == []
    first = next(h for h in data["hits"] if h["id"] == "greve-sncf-afp")
    assert list(first) == HIT_KEYS
    assert (first["id"], first["date"], first["url"], first["duplicates"]) == (
        "greve-sncf-afp", "2023-03-06", "https://example.org/greve-sncf-afp", 2)
    assert isinstance(first["score"], float) and first["score"] > 0
    assert data["facets"] == {
        "section": [{"value": "société", "count": 2, "label": "Société"},
                    {"value": "politique", "count": 1, "label": "Politique"}],
        "source": [{"value": "AFP", "count": 2, "label": "AFP"},
                   {"value": "Ouest-France", "count": 1, "label": "Ouest-France"}],
        "year": [{"value": "2023", "count": 3, "label": "2023"}]}
    assert "2023-03-06" in [h["date"] for h in json.loads(json.dumps(data))["hits"]]


def test_to_json_with_a_suggestion_and_notices(service):
    data = search(service, "macorn").to_json()
    assert data["suggestion"] == {"text": "Macron", "html": "<em>Macron</em>", "total": 3}
    assert data["notices"] == []
    assert data["corrected_from"] == "macorn"
    assert [h["id"] for h in json.loads(json.dumps(data))["hits"]][0] == "macron-bruxelles"


def test_to_json_holds_plain_json_types(service):
    data = search(service, "grève").to_json()
    assert json.loads(json.dumps(data)) == data


def test_date_sort_reports_no_sort_key_as_score(service):
    for h in search(service, "Macron", sort="date").to_json()["hits"]:
        assert 0 <= h["score"] < 1000, h["score"]


# One name per source -----------------------------------------------------------------

OPINION = [
    art("opinion-budget", "Le budget 2024 adopté par le Sénat", "Les sénateurs ont voté.",
        "Le budget passe.", "2023-12-01", "politique", "Source : L'Opinion"),
    art("opinion-dette", "La dette inquiète Bercy", "Le budget dérape.",
        "Bercy cherche des économies.", "2023-12-02", "economie", "source L'Opinion"),
    art("opinion-impots", "Les impôts ne baisseront pas", "Le budget reste serré.",
        "Le ministre l’a confirmé.", "2023-12-03", "economie", "« l’Opinion »."),
    art("afp-budget", "Le budget de la Sécurité sociale voté", "Le budget est adopté.",
        "Les députés ont voté.", "2023-12-04", "politique", "AFP"),
]
OPINION_IDS = {"opinion-budget", "opinion-dette", "opinion-impots"}


@pytest.fixture(scope="module")
def opinion_service(tmp_path_factory) -> SearchService:
    """A SearchService over articles whose source is written three ways."""
    root = tmp_path_factory.mktemp("opinion")
    indexer.rebuild([write_jsonl(root / "news.jsonl", OPINION)], root / "index")
    return SearchService(root / "index")


def test_source_spellings_are_one_facet_value(opinion_service):
    page = search(opinion_service, "budget")
    assert counts(page, "source") == {"L'Opinion": 3, "AFP": 1}
    assert {h.id: h.source for h in page.hits}["opinion-impots"] == "L'Opinion"


@pytest.mark.parametrize(("q", "kwargs"), [
    ("budget source:\"L'Opinion\"", {}),
    ("budget source:\"Source : L'Opinion\"", {}),
    ("budget source:opinion", {}),
    ("budget source:\"l’opinion.\"", {}),
    ("budget", {"source": "source L'Opinion"}),
    ("budget", {"source": "L'OPINION"}),
])
def test_source_filter_finds_every_spelling(opinion_service, q, kwargs):
    page = search(opinion_service, q, **kwargs)
    assert set(ids(page)) == OPINION_IDS
    assert page.notices == ()


# Related articles -------------------------------------------------------------------------

@pytest.mark.parametrize(("article", "first", "never"), [
    # The same story, republished, is the article itself, not a related one.
    ("greve-sncf-afp", {"manif-nantes"}, GREVE_COPIES),
    ("presidentielle-sondage", {"presidentielle-debat"}, {"presidentielle-sondage"}),
    # Drought: the farmers' worries, the beaches' record summer.
    ("secheresse-recoltes", {"macron-agriculteurs", "tourisme-ete"}, {"secheresse-recoltes"}),
])
def test_related_articles_share_the_telling_words_not_the_headline(service, article, first,
                                                                   never):
    related = [h.id for h in service.related(article)]
    assert set(related[:len(first)]) == first
    assert not never & set(related)
    assert len(related) == len(set(related)) <= 5


def test_related_of_an_unknown_article_is_empty(service):
    assert service.related("nope") == ()


# Sorting by date ----------------------------------------------------------------------

FILLER = " ".join(["Le conseil municipal a débattu du budget de la commune."] * 60)
VOLCANO = [
    {"id": "volcan-eruption", "title": "Le volcan de la Soufrière entre en éruption",
     "lede": "Le volcan crache des cendres depuis l’aube.", "body": "Les habitants évacuent.",
     "date": "2021-04-09", "section": "monde", "source": "AFP"},
    {"id": "volcan-alerte", "title": "Alerte rouge autour du volcan",
     "lede": "Les autorités redoutent une nouvelle éruption du volcan.", "body": "Vigilance.",
     "date": "2021-03-01", "section": "monde", "source": "Reuters"},
    # The newest mentions the word once, deep in a long text: a weak match.
    {"id": "conseil-municipal", "title": "Le conseil municipal vote le budget",
     "lede": "Une séance de quatre heures.", "body": f"{FILLER} Un élu a cité le volcan. {FILLER}",
     "date": "2021-06-30", "section": "france", "source": "AFP"},
]


@pytest.fixture(scope="module")
def volcano(tmp_path_factory) -> SearchService:
    """A service over two articles about a volcano and one that only mentions it."""
    root = tmp_path_factory.mktemp("volcano")
    indexer.rebuild([write_jsonl(root / "v.jsonl", VOLCANO)], root / "ix")
    return SearchService(root / "ix")


def test_date_sorts_leave_out_weak_matches(volcano):
    assert set(ids(search(volcano, "volcan"))) == {a["id"] for a in VOLCANO}
    newest = search(volcano, "volcan", sort="date")
    assert ids(newest) == ["volcan-eruption", "volcan-alerte"]
    assert newest.total == 2 and sum(p.count for p in newest.histogram) == 2
    assert newest.notices == ("Tri par date : 1 article qui ne fait que mentionner ces mots "
                              "n’est pas listé ; le tri par pertinence le montre.",)
    assert ids(search(volcano, "volcan", sort="date_asc")) == ["volcan-alerte",
                                                               "volcan-eruption"]


def test_date_sort_when_browsing_keeps_every_article(volcano):
    page = search(volcano, "", sources=("AFP", "Reuters"), sort="date_asc")
    assert ids(page) == ["volcan-alerte", "volcan-eruption", "conseil-municipal"]


# Completions ---------------------------------------------------------------------------

def _article(n: int, title: str, body: str) -> dict:
    return {"id": f"c{n}", "title": title, "body": body, "date": f"2020-01-{n % 28 + 1:02d}"}


COMPLETION_NEWS = [
    *(_article(n, f"Manifestation numéro {n}", "Les gilets jaunes défilent samedi.")
      for n in range(3)),
    *(_article(10 + n, f"Le jour des résultats {n}", "Un jour de juin, un jour ordinaire.")
      for n in range(6)),
    *(_article(20 + n, f"La réforme des retraites, acte {n}", "La réforme des retraites avance.")
      for n in range(3)),
    *(_article(30 + n, f"Le retour du printemps {n}", "Le retour des beaux jours, retour.")
      for n in range(6)),
    _article(40, "Réforme : un retour en arrière ?", "La réforme prévoit le retour des aides."),
    *(_article(50 + n, f"Débat Macron-Le Pen, épisode {n}", "Macron face à Le Pen.")
      for n in range(2)),
    *(_article(60 + n, f"Macron en visite {n}", "Le président Macron voyage.")
      for n in range(2)),
    *(_article(70 + n, f"Une soirée au palais {n}", "La diplomatie élyséenne s’active.")
      for n in range(2)),
]


@pytest.fixture(scope="module")
def completing(tmp_path_factory) -> SearchService:
    """A service over articles where the frequent completion is not the one that fits."""
    root = tmp_path_factory.mktemp("completions")
    indexer.rebuild([write_jsonl(root / "c.jsonl", COMPLETION_NEWS)], root / "ix")
    return SearchService(root / "ix")


@pytest.mark.parametrize(("typed", "first", "later"), [
    # « jour » is in twice as many articles, but « gilets » goes with « jaunes ».
    ("gilets j", "gilets jaunes", "gilets jour"),
    ("reforme ret", "reforme retraites", "reforme retour"),
    # The stop word in between says nothing: the word before it does.
    ("reforme des ret", "reforme des retraites", "reforme des retour"),
    # Without a word before, the most frequent comes first.
    ("ret", "retour", "retraites"),
])
def test_completions_follow_the_word_before(completing, typed, first, later):
    found = completing.suggest(typed)
    assert found[0] == first
    assert later in found[1:]


def test_a_completion_never_repeats_the_word_before(completing):
    assert "reforme réforme" not in completing.suggest("reforme r")
    assert completing.suggest("reforme r")[0] == "reforme retraites"


def test_completions_are_words_as_written_never_fragments(completing):
    found = completing.suggest("macr")
    assert found == ["Macron"]  # not « Macron-Le » of « Macron-Le Pen »
    assert completing.suggest("macron-l") == ["Macron-Le"]  # a hyphen typed: the compound
    assert completing.suggest("elys") == ["élyséenne"]  # accented, as the texts write it


def test_a_commit_into_the_live_generation_is_found_by_the_next_search(tmp_path):
    index = tmp_path / "index"
    indexer.rebuild([write_jsonl(tmp_path / "news.jsonl", NEWS[:3])], index)
    live = (index / "current").resolve()
    settled = time.time() - 3600
    os.utime(live, (settled, settled))  # a generation built an hour ago
    service = SearchService(index)
    assert all_ids(service, "gastronomie lyonnaise") == []
    assert all_ids(service, "gastronomie lyonnaise") == []  # its settled time now seen
    ix = whoosh_index.open_dir(str(live))
    writer = ix.writer()
    writer.add_document(**schema.document(Article(
        id="bouchons", title="La gastronomie lyonnaise à l’honneur", lede="", body="",
        date=None, url="", source="", section="", tags=())))
    writer.commit()
    ix.close()
    assert all_ids(service, "gastronomie lyonnaise") == ["bouchons"]
