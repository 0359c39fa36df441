"""What a cluster index knows of its words: prefixes, corrections, completions, spellings.

OpenSearch has no API listing the terms of a text field, and loading a 10-million
article vocabulary into every process is what the cluster is there to avoid. So:

- corrections ask the ``term`` suggester, which reads the index's own terms
  dictionary on every shard (our rule on top: first letter kept, 1 edit from 5
  letters and 2 from 9, the most frequent of the nearest);
- prefixes and completions read the words of the articles a ``prefix`` query
  finds, with our analyzer, then exclude the words found and ask again, so that
  rarer expansions are met too; completions are then ranked by their exact
  document frequency, counted in one ``filters`` aggregation.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterator

from rapidfuzz.distance import OSA

from newssearch import schema
from newssearch.analysis import terms
from newssearch.opensearch import response
from newssearch.opensearch.fields import path
from newssearch.spelling import COMPLETION_MIN_DF, Vocabulary, max_edits, written_form

# The articles read per round, and the rounds, when collecting a prefix's words.
PREFIX_SAMPLE = 50
PREFIX_ROUNDS = 4
SUGGESTIONS = 10
# Where each searched field's words are read from in an article's _source.
READ_FROM = {schema.TITLE: (schema.TITLE,), schema.TITLE_EXACT: (schema.TITLE,),
             schema.TEXT: (schema.LEDE, schema.BODY), schema.TEXT_EXACT: (schema.LEDE, schema.BODY)}
STEMMED = {schema.TITLE, schema.TEXT}

Search = Callable[[dict], dict]
TermQuery = Callable[[str, str], dict]  # Translator.term: a word of a field as a query


def prefixed(search: Search, field: str, prefix: str, limit: int) -> list[str]:
    """Up to ``limit`` words of ``field`` starting with ``prefix``, as our analyzer writes them."""
    found: Counter[str] = Counter()
    for _ in range(PREFIX_ROUNDS):
        query: dict = {"bool": {"must": [{"prefix": {path(field): prefix}}]}}
        if found:
            query["bool"]["must_not"] = [{"terms": {path(field): sorted(found)}}]
        hits = response.sources(search({"size": PREFIX_SAMPLE, "query": query,
                                        "_source": list(READ_FROM[field])}))
        before = len(found)
        for doc in hits:
            for name in READ_FROM[field]:
                found.update({t for t in terms(doc.get(name) or "", stemmed=field in STEMMED)
                              if t.startswith(prefix)})
        if len(hits) < PREFIX_SAMPLE or len(found) >= limit or len(found) == before:
            break
    return sorted(w for w, _ in found.most_common(limit))


def frequencies(search: Search, term: TermQuery, words: list[str]) -> dict[str, int]:
    """How many articles have each folded word in their headline or text."""
    if not words:
        return {}
    filters = {w: {"bool": {"should": [term(f, w) for f in schema.EXACT_FIELDS],
                            "minimum_should_match": 1}} for w in words}
    found = search({"size": 0, "aggs": {"words": {"filters": {"filters": filters}}}})
    return response.filter_counts(found, "words")


class ClusterVocabulary(Vocabulary):
    """The index's folded words, asked of the cluster as corrections and completions need them.

    ``df`` holds the frequencies of the words looked up so far (completions rank by it).
    """

    def __init__(self, search: Search, term: TermQuery):
        self.search, self.term = search, term
        self.df: dict[str, int] = {}

    def correct(self, word: str) -> tuple[str, int] | None:
        edits = max_edits(word)
        if not edits:
            return None
        suggest = {f"in_{f}": {"text": word, "term": {
            "field": path(f), "suggest_mode": "always", "max_edits": edits, "prefix_length": 1,
            "min_word_length": 5, "size": SUGGESTIONS, "string_distance": "damerau_levenshtein"}}
            for f in schema.EXACT_FIELDS}
        found = self.search({"size": 0, "suggest": suggest})
        best: tuple[int, int, str] | None = None
        frequency: Counter[str] = Counter()
        for f in schema.EXACT_FIELDS:
            for text, freq in response.suggestions(found, f"in_{f}"):
                folded = " ".join(terms(text, stemmed=False))
                frequency[folded] = max(frequency[folded], freq)
        for candidate, freq in frequency.items():
            dist = OSA.distance(word, candidate)
            if not 0 < dist <= edits or candidate[:1] != word[:1]:
                continue
            key = (dist, -freq, candidate)
            if best is None or key < best:
                best = key
        if best is None:
            return None
        self.df[best[2]] = -best[1]
        return best[2], -best[1]

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        words = {w for f in schema.EXACT_FIELDS
                 for w in prefixed(self.search, f, prefix, 4 * limit)}
        words = {w for w in words if len(w) > 2 and w.isalpha()}
        self.df.update(frequencies(self.search, self.term, sorted(words)))
        known = [w for w in words if self.df.get(w, 0) >= COMPLETION_MIN_DF]
        return heapq.nlargest(limit, known, key=lambda w: (self.df[w], w))


def surface_form(search: Search, term: TermQuery, folded: str, titles_only: bool = False
                 ) -> str:
    """How the articles write a folded word, read as the embedded backend reads it."""
    places = [schema.TITLE_EXACT] if titles_only else [schema.TITLE_EXACT, schema.TEXT_EXACT]

    def texts(field: str) -> Iterator[str]:
        names = READ_FROM[field]
        for doc in response.sources(search({"size": 3, "_source": list(names),
                                            "query": term(field, folded)})):
            yield from (doc.get(name) or "" for name in names)

    return written_form(folded, (texts(field) for field in places))
