"""Responses as the OpenSearch documentation shows them, read into our records."""

from __future__ import annotations

from newssearch import notices
from newssearch.opensearch import response
from newssearch.opensearch.fields import article
from newssearch.records import FacetValue, Period


def hit(doc_id: str, score: float, copies: int | None = None) -> dict:
    found = {"_index": "news-20240101t000000", "_id": doc_id, "_score": score,
             "_source": {"id": doc_id, "title": f"Titre {doc_id}", "lede": "", "body": "Texte.",
                         "url": "", "date": "2023-01-12", "section": "politique",
                         "source": "AFP", "tags": []},
             "fields": {"title_key": [f"titre {doc_id}"]}}
    if copies is not None:
        found["inner_hits"] = {"copies": {"hits": {
            "total": {"value": copies, "relation": "eq"}, "max_score": None, "hits": []}}}
    return found


# A collapsed search whose fourth shard failed (search API, "_shards.failures").
COLLAPSED = {
    "took": 12, "timed_out": False,
    "_shards": {"total": 4, "successful": 3, "skipped": 0, "failed": 1, "failures": [
        {"shard": 2, "index": "news-20240101t000000", "node": "n3",
         "reason": {"type": "node_not_connected_exception", "reason": "[n3] disconnected"}}]},
    "hits": {"total": {"value": 5, "relation": "eq"}, "max_score": 3.2,
             "hits": [hit("a", 3.2, copies=3), hit("b", 1.5, copies=1)]},
    "aggregations": {"stories": {"value": 2}},
}


def test_a_collapsed_partial_answer_reads_as_a_ranking_with_copies_and_a_notice():
    ranked = response.ranked(COLLAPSED, collapse=True, matches="m")
    assert [article(d).id for d in ranked.docs] == ["a", "b"]
    assert ranked.scores.tolist() == [3.2, 1.5]
    assert ranked.duplicates.tolist() == [2, 0]  # the others sharing the headline
    assert ranked.total == 2  # headlines, not the 5 articles
    assert ranked.matches == "m"
    assert ranked.notices == ("Résultats partiels : 1 fragment de l’index n’a pas répondu.",)


def test_without_collapse_the_hits_total_counts_and_a_limit_caps_it():
    plain = {**COLLAPSED, "_shards": {"total": 4, "successful": 4, "skipped": 0, "failed": 0},
             "hits": {**COLLAPSED["hits"], "hits": [hit("a", 3.2), hit("b", 1.5)]}}
    ranked = response.ranked(plain, collapse=False)
    assert (ranked.total, ranked.duplicates.tolist(), ranked.notices) == (5, [0, 0], ())
    assert response.ranked(plain, collapse=False, limit=3).total == 3
    assert response.max_score(plain) == 3.2


def test_several_lost_shards_are_said_in_the_plural():
    assert notices.partial_results(3) == ("Résultats partiels : 3 fragments de l’index "
                                          "n’ont pas répondu.")


def buckets(*pairs, collapse=False):
    return [{"key": k, "doc_count": n, **({"stories": {"value": n - 1 or 1}} if collapse else {})}
            for k, n in pairs]


FACETS = {
    "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
    "hits": {"total": {"value": 6, "relation": "eq"}, "max_score": None, "hits": []},
    "aggregations": {
        "section": {"doc_count": 6, "values": {"doc_count_error_upper_bound": 0,
                                               "sum_other_doc_count": 0,
                                               "buckets": buckets(("societe", 3), ("monde", 3))}},
        "source": {"doc_count": 6, "values": {"buckets": buckets(("AFP", 4), ("Reuters", 2))}},
        "year": {"doc_count": 6, "values": {"buckets": buckets(("2023", 5), ("", 1))}},
        "timeline": {"doc_count": 6, "months": {"buckets": [
            {"key_as_string": "2022-11", "key": 1667260800000, "doc_count": 2},
            {"key_as_string": "2023-02", "key": 1675209600000, "doc_count": 3}]}},
    },
}


def test_facets_read_as_the_embedded_backend_counts_them():
    counts = response.counts(FACETS, collapse=False)
    # Ties by name, sections labelled, years newest first, the undated left out.
    assert counts.facets["section"] == (FacetValue("monde", 3, "Monde"),
                                        FacetValue("societe", 3, "Société"))
    assert counts.facets["source"] == (FacetValue("AFP", 4, "AFP"),
                                       FacetValue("Reuters", 2, "Reuters"))
    assert counts.facets["year"] == (FacetValue("2023", 5, "2023"),)
    # The months between are shown empty, as on the timeline of the embedded index.
    assert counts.histogram == (Period("2022-11", 2), Period("2022-12", 0),
                                Period("2023-01", 0), Period("2023-02", 3))


def test_collapsed_facets_count_distinct_headlines():
    collapsed = {**FACETS, "aggregations": {**FACETS["aggregations"], "source": {
        "doc_count": 6, "values": {"buckets": buckets(("AFP", 4), ("Reuters", 2),
                                                      collapse=True)}}}}
    counts = response.counts(collapsed, collapse=True)
    assert [(v.value, v.count) for v in counts.facets["source"]] == [("AFP", 3), ("Reuters", 1)]


def test_term_suggestions_and_filter_counts():
    suggested = {"suggest": {"in_title_exact": [{"text": "retraotes", "offset": 0, "length": 9,
                                                 "options": [{"text": "retraites", "score": 0.89,
                                                              "freq": 12}]}]}}
    assert response.suggestions(suggested, "in_title_exact") == [("retraites", 12)]
    assert response.suggestions(suggested, "in_text_exact") == []
    filtered = {"aggregations": {"with": {"buckets": {"0": {"doc_count": 4},
                                                      "1": {"doc_count": 0}}}}}
    assert response.filter_counts(filtered, "with") == {"0": 4, "1": 0}
