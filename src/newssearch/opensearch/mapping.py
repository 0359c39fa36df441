"""The index body (settings and mappings) of a cluster index, generated from analysis.py.

The custom chain is analysis.FrenchAnalyzer rebuilt from stock Lucene components, from
the same constants (elided articles, apostrophes, hyphens, stop words), so the two
cannot drift: typography as a ``mapping`` char filter; a ``pattern`` tokenizer that
emits each word without its leading elided article (group 1, so offsets start after
``l’``); ``word_delimiter_graph`` for a hyphenated word whole and by parts; case and
accent folding; then the joins, the pronoun rule, stop words and Snowball as filters.
tests/test_lucene_parity.py runs it on real Lucene and lists every difference.

Queries send terms we analysed ourselves, so the ranked fields ``title`` and ``text``
search with the pass-through ``TERMS``: ``combined_fields`` (BM25F) has no ``analyzer``
parameter and would re-stem our stems (not idempotent: ``assemble`` -> ``assembl``).
The ``exact`` sub-fields keep ``EXACT_SEARCH``, which leaves folded words as they are
and still reads raw text; ``STEMMED_SEARCH`` is there for ``_analyze`` and for match
queries that name it.

``analysis="builtin"`` uses OpenSearch's own ``french`` analyzer (lower quality:
FRENCH.md) for clusters or test servers that cannot run the custom chain.
"""

from __future__ import annotations

from newssearch import analysis as french
from newssearch import schema
from newssearch.opensearch import connection
from newssearch.opensearch.fields import FACET_KEYS, path

# Analyzer names, for the query translation: index-time and query-time chains.
STEMMED, STEMMED_SEARCH = "fr_stemmed", "fr_stemmed_search"
EXACT, EXACT_SEARCH = "fr_exact", "fr_exact_search"
# Query side only: takes terms we analysed ourselves (stems, folded words) as they are.
TERMS = "fr_terms"
EXACT_FIELD = "exact"  # the sub-field of title and text (fields.PATHS)

_WORD_CHAR = r"[\p{L}\p{N}_]"  # Python's \w, as analysis.WORD uses it
_HYPHENS = french.HYPHENS.replace("\\", "")  # a regex class there: drop its escape


def _alternatives(words: frozenset[str]) -> str:
    """A regex alternation of words, longest first."""
    return "|".join(sorted(words, key=lambda w: (-len(w), w)))


def _elided() -> str:
    """One or more elided articles with their apostrophe, as folded text spells them."""
    return f"(?:(?:{_alternatives(french.ELISIONS)})')+"


def _char_filters() -> dict:
    """Typographic apostrophes and hyphens to ASCII: one character for one, offsets kept."""
    rules = [f"\\u{ord(c):04X} => '" for c in french.APOSTROPHES if c != "'"]
    rules += [f"\\u{ord(c):04X} => -" for c in _HYPHENS if c != "-"]
    return {"fr_typography": {"type": "mapping", "mappings": rules}}


def _tokenizers() -> dict:
    """Words as analysis.WORD finds them; group 1 leaves out a leading elided article."""
    word = f"{_WORD_CHAR}+(?:['\\-]{_WORD_CHAR}+)*"
    articles = f"(?i:{_alternatives(french.ELISIONS)})"
    return {"fr_words": {"type": "pattern", "pattern": f"(?:{articles}')*({word})",
                         "group": 1}}


def _filters() -> dict:
    """Every token filter of the custom chain, named."""
    pronouns = _alternatives(french.PRONOUNS)
    return {
        # Whole word (the compound) first, at its first part's position, then the parts;
        # only hyphens split (apostrophes and _ are letters here), numbers stay whole.
        "fr_parts": {
            "type": "word_delimiter_graph", "preserve_original": True,
            "generate_word_parts": True, "generate_number_parts": True,
            "catenate_words": False, "catenate_numbers": False, "catenate_all": False,
            "split_on_case_change": False, "split_on_numerics": False,
            "stem_english_possessive": False, "type_table": ["' => ALPHA", "_ => ALPHA"]},
        "fr_fold": {"type": "asciifolding", "preserve_original": False},
        # a-t-il, dit-elle: no compound when the last part is a subject pronoun.
        "fr_no_inversion": {"type": "pattern_replace",
                            "pattern": f"^.*-(?:{_elided()})?(?:{pronouns})$",
                            "replacement": ""},
        # The compound is its parts joined, each without its elided article
        # (Saint-Jean-d'Angély); then, as analysis.fold, nothing but a-z0-9 is left
        # (aujourd'hui -> aujourdhui). No lookbehind: test servers reject it.
        "fr_elided": {"type": "pattern_replace", "pattern": f"(^|-){_elided()}",
                      "replacement": "$1"},
        "fr_join": {"type": "pattern_replace", "pattern": "[^a-z0-9]+", "replacement": ""},
        "fr_nonempty": {"type": "length", "min": 1},
        "fr_stop": {"type": "stop", "ignore_case": False,
                    "stopwords": sorted(french.STOP_WORDS)},
        # Numbers and codes (A380, 14h30, G7) are not stemmed: FrenchStemmer.
        "fr_codes": {"type": "keyword_marker", "keywords_pattern": ".*[0-9].*"},
        "fr_snowball": {"type": "stemmer", "language": "french"},
    }


def _chain(stemmed: bool, index: bool) -> dict:
    """A custom analyzer: index analyzers flatten word_delimiter_graph's token graph."""
    filters = ["fr_parts", *(["flatten_graph"] if index else []), "lowercase", "fr_fold",
               "fr_no_inversion", "fr_elided", "fr_join", "fr_nonempty"]
    if stemmed:
        filters += ["fr_stop", "fr_codes", "fr_snowball"]
    return {"type": "custom", "char_filter": ["fr_typography"], "tokenizer": "fr_words",
            "filter": filters}


def _custom_analysis() -> dict:
    """Our chain, in its index and search variants."""
    return {
        "char_filter": _char_filters(), "tokenizer": _tokenizers(), "filter": _filters(),
        "analyzer": {
            STEMMED: _chain(stemmed=True, index=True),
            STEMMED_SEARCH: _chain(stemmed=True, index=False),
            EXACT: _chain(stemmed=False, index=True),
            EXACT_SEARCH: _chain(stemmed=False, index=False),
            TERMS: _terms_analyzer(),
        },
    }


def _builtin_analysis() -> dict:
    """OpenSearch's ``french`` analyzer and a folded exact copy, from built-ins only."""
    exact = {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}
    return {"analyzer": {STEMMED: {"type": "french"}, STEMMED_SEARCH: {"type": "french"},
                         EXACT: exact, EXACT_SEARCH: exact, TERMS: _terms_analyzer()}}


def _terms_analyzer() -> dict:
    """Space-separated terms, each taken as it is (no folding, no stemming)."""
    return {"type": "custom", "tokenizer": "whitespace", "filter": []}


def _text_field(analysis: str) -> dict:
    """A ranked text field with its folded, unstemmed copy as the ``exact`` sub-field."""
    search = TERMS if analysis == connection.CUSTOM else STEMMED_SEARCH
    return {"type": "text", "analyzer": STEMMED, "search_analyzer": search,
            "fields": {EXACT_FIELD: {"type": "text", "analyzer": EXACT,
                                     "search_analyzer": EXACT_SEARCH}}}


def _properties(analysis: str) -> dict:
    """Every field of fields.source(), typed."""
    keyword = {"type": "keyword"}
    stored_text = {"type": "text", "index": False}  # kept for highlighting only
    return {
        schema.ID: keyword,
        path(schema.TITLE): _text_field(analysis), path(schema.TEXT): _text_field(analysis),
        schema.LEDE: stored_text, schema.BODY: stored_text,
        schema.URL: {"type": "keyword", "index": False},
        schema.DATE: {"type": "date", "format": "yyyy-MM-dd"},
        schema.DAY: keyword, schema.YEAR: keyword,
        schema.SECTION: keyword, schema.SOURCE: keyword,
        FACET_KEYS[schema.SECTION]: keyword, FACET_KEYS[schema.SOURCE]: keyword,
        schema.TAGS: keyword, schema.TITLE_KEY: keyword,
        schema.FINGERPRINT: keyword, schema.ORIGIN: keyword,
    }


def index_body(shards: int = 1, replicas: int = 1, analysis: str = connection.CUSTOM,
               refresh_interval: str = "1s") -> dict:
    """The body of ``PUT /<index>``: settings (with the analysis chain) and mappings."""
    if analysis not in (connection.CUSTOM, connection.BUILTIN):
        raise ValueError(f"analysis is {connection.CUSTOM} or {connection.BUILTIN}")
    if shards < 1 or replicas < 0:
        raise ValueError("shards must be at least 1 and replicas at least 0")
    chain = _custom_analysis() if analysis == connection.CUSTOM else _builtin_analysis()
    return {
        "settings": {
            "index": {"number_of_shards": shards, "number_of_replicas": replicas,
                      "refresh_interval": refresh_interval},
            "analysis": chain,
        },
        "mappings": {"dynamic": "strict", "properties": _properties(analysis)},
    }


def field_paths(body: dict) -> set[str]:
    """Every field path the mapping defines, sub-fields included (``title.exact``)."""
    found: set[str] = set()

    def walk(properties: dict, prefix: str) -> None:
        for name, spec in properties.items():
            found.add(prefix + name)
            walk(spec.get("properties", {}), f"{prefix}{name}.")
            walk(spec.get("fields", {}), f"{prefix}{name}.")

    walk(body["mappings"]["properties"], "")
    return found


def analyzers(body: dict) -> set[str]:
    """Every analyzer the index body defines."""
    return set(body["settings"]["analysis"]["analyzer"])
