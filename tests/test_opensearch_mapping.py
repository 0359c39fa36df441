"""The cluster index body: generated from analysis.py, every field mapped, accepted by a server."""

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner

from newssearch import analysis
from newssearch.articles import Article
from newssearch.cli import cli
from newssearch.opensearch import fields, mapping
from newssearch.opensearch.connection import BUILTIN, CUSTOM

ARTICLE = Article(id="a1", title="L’Assemblée vote à Saint-Denis", lede="Le texte passe.",
                  body="Les députés l’ont adopté.", date=date(2024, 3, 5),
                  url="https://example.org/a1", source="AFP", section="Société",
                  tags=("politique",))
UNDATED = Article(id="a2", title="Sans date", body="Un texte.")
# Components OpenSearch ships, which an index body names without defining.
BUILT_IN = {"flatten_graph", "lowercase", "asciifolding", "standard", "whitespace"}


def custom() -> dict:
    return mapping.index_body(analysis=CUSTOM)


def test_the_command_prints_the_body_with_the_shards_and_replicas_asked():
    result = CliRunner().invoke(cli, ["mapping", "--shards", "4", "--replicas", "2"],
                                catch_exceptions=False)
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body == mapping.index_body(shards=4, replicas=2)
    assert body["settings"]["index"]["number_of_shards"] == 4
    assert body["settings"]["index"]["number_of_replicas"] == 2


def test_the_command_prints_the_builtin_body_on_request():
    result = CliRunner().invoke(cli, ["mapping", "--analysis", "builtin"],
                                catch_exceptions=False)
    body = json.loads(result.output)
    assert body["settings"]["analysis"]["analyzer"][mapping.STEMMED] == {"type": "french"}


def test_the_command_refuses_zero_shards_saying_why():
    result = CliRunner().invoke(cli, ["mapping", "--shards", "0"])
    assert result.exit_code == 2
    assert "--shards" in result.output


def test_the_stop_list_is_analysis_py_s():
    stop = custom()["settings"]["analysis"]["filter"]["fr_stop"]
    assert set(stop["stopwords"]) == analysis.STOP_WORDS
    assert not analysis.HOMONYMS & set(stop["stopwords"])


def test_the_elided_articles_are_analysis_py_s():
    settings = custom()["settings"]["analysis"]
    tokenizer = settings["tokenizer"]["fr_words"]["pattern"]
    (articles,) = re.findall(r"\(\?i:([^)]*)\)", tokenizer)
    assert set(articles.split("|")) == analysis.ELISIONS
    (elided,) = re.findall(r"\(\?:\(\?:([^)]*)\)'\)\+", settings["filter"]["fr_elided"]["pattern"])
    assert set(elided.split("|")) == analysis.ELISIONS


def test_every_typographic_apostrophe_and_hyphen_is_mapped():
    rules = custom()["settings"]["analysis"]["char_filter"]["fr_typography"]["mappings"]
    mapped = {chr(int(rule[2:6], 16)): rule.split(" => ")[1] for rule in rules}
    assert {c for c, to in mapped.items() if to == "'"} == set(analysis.APOSTROPHES) - {"'"}
    assert {c for c, to in mapped.items() if to == "-"} == {"‐", "‑"}


def test_no_inversion_knows_analysis_py_s_pronouns():
    pattern = custom()["settings"]["analysis"]["filter"]["fr_no_inversion"]["pattern"]
    assert set(pattern.rsplit("(?:", 1)[1].rstrip(")$").split("|")) == analysis.PRONOUNS


@pytest.mark.parametrize("kind", [CUSTOM, BUILTIN])
def test_every_field_of_a_document_is_mapped_and_nothing_else(kind):
    properties = mapping.index_body(analysis=kind)["mappings"]["properties"]
    assert set(properties) == set(fields.source(ARTICLE, "/srv/news/a.jsonl"))
    assert {fields.path(f) for f in fields.PATHS} <= mapping.field_paths(
        mapping.index_body(analysis=kind))


@pytest.mark.parametrize("kind", [CUSTOM, BUILTIN])
def test_unknown_fields_are_refused_not_guessed(kind):
    assert mapping.index_body(analysis=kind)["mappings"]["dynamic"] == "strict"


def test_field_paths_name_the_exact_sub_fields():
    paths = mapping.field_paths(custom())
    assert {"title", "title.exact", "text", "text.exact", "section_key", "date"} <= paths
    assert "lede.exact" not in paths


@pytest.mark.parametrize("kind", [CUSTOM, BUILTIN])
def test_every_analyzer_and_component_named_is_defined(kind):
    body = mapping.index_body(analysis=kind)
    named = set()

    def walk(spec: dict) -> None:
        for key in ("analyzer", "search_analyzer"):
            if key in spec:
                named.add(spec[key])
        for sub in (spec.get("fields") or {}).values():
            walk(sub)

    for spec in body["mappings"]["properties"].values():
        walk(spec)
    assert named <= mapping.analyzers(body)
    assert {mapping.STEMMED, mapping.STEMMED_SEARCH, mapping.EXACT, mapping.EXACT_SEARCH,
            mapping.TERMS} <= mapping.analyzers(body)
    chain = body["settings"]["analysis"]
    for analyzer in chain["analyzer"].values():
        if analyzer["type"] != "custom":
            continue
        assert analyzer["tokenizer"] in {*chain.get("tokenizer", {}), *BUILT_IN}
        for name in analyzer["filter"]:
            assert name in {*chain.get("filter", {}), *BUILT_IN}
        for name in analyzer.get("char_filter", []):
            assert name in chain["char_filter"]


def test_the_builtin_body_needs_no_custom_component():
    chain = mapping.index_body(analysis=BUILTIN)["settings"]["analysis"]
    assert set(chain) == {"analyzer"}


@pytest.mark.parametrize(("kind", "search"), [(CUSTOM, mapping.TERMS),
                                              (BUILTIN, mapping.STEMMED_SEARCH)])
def test_ranked_fields_search_with_terms_as_sent_on_our_chain(kind, search):
    """combined_fields has no analyzer parameter: it must not re-stem our stems."""
    properties = mapping.index_body(analysis=kind)["mappings"]["properties"]
    for name in ("title", "text"):
        assert properties[name]["analyzer"] == mapping.STEMMED
        assert properties[name]["search_analyzer"] == search
        assert properties[name]["fields"]["exact"]["search_analyzer"] == mapping.EXACT_SEARCH


def test_only_index_analyzers_flatten_the_token_graph():
    analyzers = custom()["settings"]["analysis"]["analyzer"]
    assert "flatten_graph" in analyzers[mapping.STEMMED]["filter"]
    assert "flatten_graph" not in analyzers[mapping.STEMMED_SEARCH]["filter"]
    assert "flatten_graph" in analyzers[mapping.EXACT]["filter"]
    assert "flatten_graph" not in analyzers[mapping.EXACT_SEARCH]["filter"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"analysis": "english"}, "analysis"), ({"shards": 0}, "shards"),
    ({"replicas": -1}, "replicas"),
])
def test_a_bad_body_request_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mapping.index_body(**kwargs)


@pytest.mark.parametrize("kind", [CUSTOM, BUILTIN])
def test_a_server_accepts_the_body_and_our_documents(osmem_clone, kind):
    """Shapes only: osmem is not Lucene, so its tokens prove nothing about ours."""
    from opensearchpy import OpenSearch
    from opensearchpy.exceptions import RequestError

    client = OpenSearch(hosts=[osmem_clone.url])
    assert client.indices.create(index="news-1", body=mapping.index_body(analysis=kind))[
        "acknowledged"]
    for name in mapping.analyzers(mapping.index_body(analysis=kind)):
        tokens = client.indices.analyze(index="news-1", body={"analyzer": name,
                                                              "text": ARTICLE.title})
        assert tokens["tokens"]
    client.index(index="news-1", id="a1", body=fields.source(ARTICLE, "/srv/a.jsonl"))
    client.index(index="news-1", id="a2", body=fields.source(UNDATED, "api"), refresh=True)
    assert client.count(index="news-1")["count"] == 2
    with pytest.raises(RequestError, match="strict"):
        client.index(index="news-1", id="a3", body={"id": "a3", "headline": "x"})
