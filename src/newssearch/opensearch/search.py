"""The cluster backend's read side: backend.Index and backend.Snapshot over OpenSearch.

A snapshot resolves the alias to its concrete index once, so that every request a
search sends (ranking, facets, spelling) reads one generation even while a
rebuild swaps the alias. Hits are ranked by the cluster; the page is built from
their ``_source`` by our own highlighter, as for the embedded index.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from newssearch import schema, store
from newssearch.articles import Article
from newssearch.opensearch import connection, lexicon, response
from newssearch.opensearch.fields import FACET_KEYS, article, path
from newssearch.opensearch.translate import Scope, Translator, facets_body, search_body
from newssearch.query.rank import Counts, Ranked
from newssearch.query.select import DATE_SORT_FLOOR
from newssearch.query.tree import Clause, InOrder
from newssearch.records import IndexInfo
from newssearch.spelling import Vocabulary

RELATED_TERMS = 12  # as the embedded backend's more-like-this takes


@dataclass(frozen=True)
class Matches:
    """What a ranking matched, kept so that its facets can be counted by the cluster."""

    query: dict
    scope: Scope | None
    min_score: float | None


class OpenSearchIndex:
    """An alias on a cluster, followed across rebuilds (alias swaps) without a restart."""

    def __init__(self, location: connection.Location | str):
        if isinstance(location, str):
            location = connection.parse(location)
        self.location = location
        self.client = connection.client(location)

    def snapshot(self) -> OpenSearchSnapshot:
        with self.reading():
            found = self.client.indices.get(index=self.location.alias)
        # Mid-swap an alias never names two indexes (the swap is atomic); if an operator
        # made it so, the newest build (NAME-<timestamp> sorts by time) is the one read.
        name = max(found)
        meta = (found[name].get("mappings") or {}).get("_meta") or {}
        return OpenSearchSnapshot(self, name, meta)

    def warm_up(self) -> None:
        with contextlib.suppress(store.IndexUnavailable):
            self.snapshot()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Report a cluster that is down, refuses us or lost the index as unavailable."""
        from opensearchpy import exceptions as os_errors

        try:
            yield
        except store.IndexUnavailable:
            raise
        except (os_errors.OpenSearchException, OSError) as e:
            raise connection.failure(self.location, e) from e


class OpenSearchSnapshot:
    """One request's view of one concrete index behind the alias."""

    def __init__(self, index: OpenSearchIndex, name: str, meta: dict):
        self.index, self.name, self.meta = index, name, meta
        self.translator = Translator(index.location.analysis == connection.BUILTIN)
        self._df: dict[tuple[str, str], int] = {}
        self._facet_names: dict[str, dict[str, list[str]]] | None = None
        self._vocabulary: Vocabulary | None = None

    def search(self, body: dict) -> dict:
        return self.index.client.search(index=self.name, body=body)

    def info(self) -> IndexInfo:
        count = self.index.client.count(index=self.name)["count"]
        return IndexInfo(int(count), int(self.meta.get("schema_version") or 0),
                         str(self.meta.get("built_at") or ""))

    def expand_prefix(self, field: str, prefix: str) -> Iterable[str]:
        from newssearch.query.plan import MAX_PREFIX_TERMS

        return lexicon.prefixed(self.search, field, prefix, MAX_PREFIX_TERMS)

    def facet_values(self, field: str, key: str) -> list[str]:
        if self._facet_names is None:
            aggs = {name: {"terms": {"field": FACET_KEYS[name], "size": 10_000},
                           "aggs": {"names": {"terms": {"field": name, "size": 100}}}}
                    for name in schema.FACET_FIELDS}
            found = self.search({"size": 0, "aggs": aggs})["aggregations"]
            self._facet_names = {
                name: {b["key"]: sorted(n["key"] for n in b["names"]["buckets"])
                       for b in found[name]["buckets"]} for name in schema.FACET_FIELDS}
        return self._facet_names.get(field, {}).get(key, [])

    def doc_frequency(self, field: str, word: str) -> int:
        if (field, word) not in self._df:
            query = self.translator.term(field, word)
            self._df[field, word] = int(self.index.client.count(
                index=self.name, body={"query": query})["count"])
        return self._df[field, word]

    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = lexicon.ClusterVocabulary(self.search, self.translator.term)
        return self._vocabulary

    def allowed(self, filters: Sequence[Clause], date_from: date | None,
                date_to: date | None, facets: Mapping[str, Clause] | None = None
                ) -> Scope | None:
        return self.translator.filters(filters, date_from, date_to, facets)

    def rank(self, clause: Clause | None, allowed: object | None, *, by_date: bool,
             collapse: bool, want: int, limit: int | None = None,
             proximity: Sequence[InOrder] = (), ascending: bool = False) -> Ranked:
        scope = allowed if isinstance(allowed, Scope) else None
        query = self.translator.clause(clause) if clause is not None else {"match_all": {}}
        size = min(want, limit) if limit is not None else want
        floor, left = None, 0
        if by_date:
            # Sorted by date, only strong matches are listed: a share of the best score.
            best = self.search(search_body(query, scope, size=1, collapse=collapse))
            top = response.max_score(best)
            if top > 0:
                floor = DATE_SORT_FLOOR * top
                left = response.total_hits(best, collapse)
        body = search_body(query, scope, size=size, by_date=by_date, ascending=ascending,
                           collapse=collapse, min_score=floor,
                           proximity=[self.translator.clause(p) for p in proximity])
        found = self.search(body)
        ranked = response.ranked(found, collapse, limit, Matches(query, scope, floor))
        if floor is not None and left > ranked.total:
            ranked = replace(ranked, left_out=left - ranked.total)
        return ranked

    def facets(self, ranked: Ranked, collapse: bool) -> Counts:
        matches = ranked.matches
        if not isinstance(matches, Matches):
            return Counts({}, ())
        found = self.search(facets_body(matches.query, matches.scope, collapse=collapse,
                                        min_score=matches.min_score))
        return response.counts(found, collapse)

    def stored(self, doc: object) -> Article:
        return article(doc)  # type: ignore[arg-type]

    def _by_id(self, article_id: str) -> dict | None:
        hits = response.sources(self.search({"size": 1, "query": {
            "term": {schema.ID: article_id}}}))
        return hits[0] if hits else None

    def article(self, article_id: str) -> Article | None:
        doc = self._by_id(article_id)
        return article(doc) if doc is not None else None

    def cooccurrences(self, word: str, candidates: Sequence[str]) -> list[int]:
        def anywhere(w: str) -> dict:
            return {"bool": {"should": [self.translator.term(f, w) for f in schema.EXACT_FIELDS],
                             "minimum_should_match": 1}}

        if not candidates:
            return []
        filters = {str(i): anywhere(c) for i, c in enumerate(candidates)}
        found = self.search({"size": 0, "query": anywhere(word),
                             "aggs": {"with": {"filters": {"filters": filters}}}})
        counts = response.filter_counts(found, "with")
        return [counts[str(i)] for i in range(len(candidates))]

    def surface_form(self, folded: str, titles_only: bool = False) -> str:
        return lexicon.surface_form(self.search, self.translator.term, folded, titles_only)

    def related(self, article_id: str, limit: int) -> list[tuple[Article, float]]:
        """More like this, on the cluster: the article's most telling words, any of them.

        Its republished copies share its headline key and are left out, as collapsing
        leaves them out of a result page.
        """
        own = self._by_id(article_id)
        if own is None:
            return []
        key = schema.title_key(own.get(schema.TITLE) or "") or article_id
        like = {"more_like_this": {
            "fields": [path(schema.TITLE), path(schema.TEXT)],
            "like": [{"_index": self.name, "_id": article_id}],
            "min_term_freq": 1, "min_doc_freq": 2, "max_query_terms": RELATED_TERMS}}
        body = search_body({"bool": {"must": [like],
                                     "must_not": [{"term": {schema.TITLE_KEY: key}}]}},
                           None, size=limit, collapse=True)
        ranked = response.ranked(self.search(body), collapse=True)
        return [(article(doc), float(score))
                for doc, score in zip(ranked.docs[:limit], ranked.scores[:limit], strict=True)]
