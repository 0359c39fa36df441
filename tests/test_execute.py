"""The numpy engine against Whoosh's own matching and scoring, on a real multi-segment index."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq
from whoosh.scoring import bm25 as whoosh_bm25

from newssearch import indexer, schema
from newssearch.analysis import terms
from newssearch.query import bm25, tree
from newssearch.query.execute import Engine, PostingCache, Tables, in_sequence_docs
from newssearch.query.tree import InOrder
from newssearch.whoosh_backend import WhooshIndex

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "seeds" / "orangesum-sample.jsonl"


@pytest.mark.parametrize("positions, slop, expected", [
    ([[1], [2]], 1, True),            # adjacent
    ([[1], [3]], 1, False),           # one word between
    ([[1], [3]], 2, True),            # ... allowed by the slop
    ([[5], [2]], 4, False),           # wrong order
    ([[1, 10], [4, 11]], 1, True),    # the second occurrence
    ([[1], [2], [4]], 1, False),      # three words, the last too far
    ([[1], [2], [3]], 1, True),
    ([[1, 7], [3, 8], [9]], 2, True), # only the chain from 7 works
    ([[3], [3]], 1, False),           # same position (a compound and its part)
    ([[0], [1, 3], [6]], 3, True),    # the chain through 3, not the nearest 1
])
def test_in_sequence(positions, slop, expected):
    """Each word's occurrences in documents 0 and 5 (the same text): both match or neither."""
    keys = [np.array([d << 32 | p for d in (0, 5) for p in word], dtype=np.int64)
            for word in positions]
    assert in_sequence_docs(keys, slop).tolist() == ([0, 5] if expected else [])


@pytest.fixture(scope="module")
def updated_index(tmp_path_factory) -> Path:
    """415 articles (15 wire copies) in segments, then an update deleting 30, changing 5."""
    base = tmp_path_factory.mktemp("engine")
    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()][:400]
    (base / "articles").mkdir()

    def write(name: str, rows: list[dict]) -> None:
        with open(base / "articles" / name, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)

    # Wire copies: the same headline as an article of the first segment.
    write("a.jsonl", records[:300] + [dict(r, id=f"copie-{i}") for i, r in
                                      enumerate(records[:10] + records[:5])])
    write("b.jsonl", records[300:])
    indexer.rebuild([base / "articles"], base / "index", procs=2, limitmb=1)
    changed = [dict(r, body=r.get("body", "") + " Mise à jour du port de Marseille.")
               for r in records[330:335]]
    write("b.jsonl", changed + records[335:])
    indexer.update([base / "articles"], base / "index")
    return base / "index"


@pytest.fixture(scope="module")
def opened(updated_index: Path):
    gen = WhooshIndex(updated_index).snapshot().generation
    searcher = gen.searcher()
    reader = searcher.reader()
    assert len(reader.leaf_readers()) >= 2 and reader.has_deletions()
    yield searcher, Engine(reader, Tables(reader), PostingCache())
    del gen  # held until here: it closes its searchers when collected


def live(eng: Engine, ids: np.ndarray) -> set[int]:
    """The live documents among evaluated ones (which may include deleted ones)."""
    assert np.all(np.diff(ids) > 0), "matches come as sorted, unique document numbers"
    return set(ids[eng.tables.live[ids]].tolist())


def sample_terms(reader, field: str, count: int) -> list[str]:
    """Common, middling and rare terms of a field."""
    found = sorted(((info.doc_frequency(), t.decode("utf-8"))
                    for t, info in reader.iter_field(field)), reverse=True)
    step = max(1, len(found) // count)
    return [t for _, t in found[::step][:count]]


@pytest.mark.parametrize("field", ["title", "text", "title_exact", "text_exact"])
def test_term_matches_and_scores_as_whoosh_bm25(opened, field):
    searcher, eng = opened
    reader = searcher.reader()
    n = reader.doc_count_all()
    average = reader.field_length(field) / n
    for text in sample_terms(reader, field, 25):
        ids, scores = eng.evaluate(tree.Term(field, text, 2.0))
        score = dict(zip(ids.tolist(), scores.tolist(), strict=True))
        expected = set(searcher.docs_for_query(wq.Term(field, text)))
        assert live(eng, ids) == expected, text
        df = reader.doc_frequency(field, text)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        m = reader.postings(field, text)
        while m.is_active():
            doc = m.id()
            want = 2.0 * whoosh_bm25(idf, m.weight(), reader.doc_field_length(doc, field), average,
                                     bm25.B, bm25.K1)
            if field in schema.TITLE_FIELDS:
                want *= eng.tables.title_factor[doc]
            assert score[doc] == pytest.approx(want, rel=1e-5), (text, doc)
            m.next()


def test_sequences_match_as_whoosh_phrases(opened):
    searcher, eng = opened
    reader = searcher.reader()
    rng = random.Random(7)
    found = 0
    for field, stemmed, slop in (("text_exact", False, 1), ("text", True, 3),
                                 ("title", True, 2), ("title_exact", False, 1)):
        source = "title" if field.startswith("title") else "body"
        for _ in range(20):
            doc = rng.randrange(reader.doc_count_all())
            words = terms(searcher.stored_fields(doc).get(source) or "", stemmed=stemmed)
            if len(words) < 3:
                continue
            start = rng.randrange(len(words) - 2)
            # Pairs and triples from the text, and the same words reversed.
            pair = words[start:start + 2]
            for picked in (pair, words[start:start + 3], pair[::-1]):
                # One engine per request, as a snapshot has: each has its own work budget.
                fresh = Engine(reader, eng.tables, eng.cache)
                ids, _ = fresh.in_order(InOrder(field, tuple(picked), slop))
                got = live(eng, ids)
                want = set(searcher.docs_for_query(wq.Phrase(field, picked, slop=slop)))
                assert got == want, (field, picked, slop)
                found += bool(want)
    assert found >= 40  # most picked sequences do occur


def test_deleted_and_changed_articles(opened):
    searcher, eng = opened
    found, _ = eng.evaluate(tree.Term("text_exact", "marseille"))
    ids = {searcher.stored_fields(d)["id"] for d in live(eng, found)}
    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in records[330:335]} <= ids  # the changed copies, found
    assert not ids & {r["id"] for r in records[300:330]}  # the deleted ones, gone
    assert int(eng.tables.live.sum()) == searcher.doc_count() == 385


def test_posting_cache_stays_under_its_limit(opened):
    searcher, eng = opened
    cache = PostingCache(limit=20_000)
    small = Engine(searcher.reader(), eng.tables, cache)
    for text in sample_terms(searcher.reader(), "text", 60):
        small.term("text", text)
    assert 0 < cache.used <= 20_000 + 8 * eng.tables.size


@pytest.mark.parametrize("by_date", [False, True])
@pytest.mark.parametrize("collapse", [False, True])
def test_rank_of_a_page_is_the_prefix_of_the_full_order(opened, by_date, collapse):
    """Ranking only the best few gives the same order (ties by index order) as sorting all."""
    from newssearch.query.rank import rank

    searcher, eng = opened
    t = eng.tables
    rng = np.random.default_rng(5)
    mask = t.live & (rng.random(t.size) < 0.7)
    score = rng.integers(0, 6, t.size).astype(np.float32)  # many ties
    docs = np.flatnonzero(mask)
    order = sorted(docs.tolist(), key=lambda d: ((-t.days[d]) if by_date else 0, -score[d], d))
    keys = t.codes["title_key"]  # every article has one (its id when it has no headline)
    seen, full = set(), []
    for d in order:
        key = keys[d]
        if collapse and key in seen:
            continue
        seen.add(key)
        full.append(d)
    for want in (1, 10, 37, len(full) + 5):
        ranked = rank(t, docs, score[docs], by_date, collapse, want)
        assert ranked.docs.tolist() == full[:want]
        assert ranked.total == len(full)
        if collapse:
            copies = [int(np.sum(mask & (keys == keys[d]))) - 1 for d in full[:want]]
            assert ranked.duplicates.tolist() == copies


@pytest.mark.parametrize("keys, size, expected", [
    ([], 0, []),
    ([3], 4, [0]),
    ([2, 2, 2], 3, [0]),
    ([1, 0, 1, 0, 2], 3, [0, 1, 4]),
    ([4, 3, 2, 1, 0, 0], 5, [0, 1, 2, 3, 4]),
    ([4, 3, 2, 1, 0, 0], 100_000, [0, 1, 2, 3, 4]),  # few keys of many: sorted
    ([7, 99_999, 7], 100_000, [0, 1]),
])
def test_first_of_each_headline_key(keys, size, expected):
    """Facets count one article per headline: the first met of each key."""
    from newssearch.query.rank import first_of_each, key_counts

    keys = np.array(keys, dtype=np.int32)
    assert first_of_each(keys, size).tolist() == expected
    distinct, counts = key_counts(keys, size)
    assert dict(zip(distinct.tolist(), counts.tolist(), strict=True)) == Counter(keys.tolist())


@pytest.mark.parametrize("size", [5_000, 2_000_000])
def test_first_of_each_is_uniques_first_index(size):
    from newssearch.query.rank import first_of_each, key_counts

    keys = np.random.default_rng(3).integers(0, min(size, 5_000), 20_000).astype(np.int32)
    want = np.sort(np.unique(keys, return_index=True)[1])
    assert first_of_each(keys, size).tolist() == want.tolist()
    distinct, counts = key_counts(keys, size)
    assert [distinct.tolist(), counts.tolist()] == [a.tolist() for a in np.unique(
        keys, return_counts=True)]


@pytest.mark.parametrize("held, wanted", [
    (0, 10), (10, 0), (1, 1), (5, 50_000), (50_000, 5), (30_000, 30_000), (60_000, 60_000),
])
def test_contains_answers_membership_by_search_or_by_mask(held, wanted):
    """Few wanted are searched for, many looked up in a mask: the same answer either way,
    with ids past the last held and the last held itself."""
    from newssearch.query.execute import contains

    rng = np.random.default_rng(held + wanted)
    ids = np.unique(rng.integers(0, 70_000, held)).astype(np.int32)
    asked = np.unique(np.concatenate([rng.integers(0, 80_000, wanted), ids[-1:]]))
    asked = asked[:wanted].astype(np.int32)
    assert contains(ids, asked).tolist() == np.isin(asked, ids).tolist()
    assert contains(ids, ids).all()


@pytest.mark.parametrize("each", [3, 40, 400, 4_000])
def test_union_and_sums_are_the_same_sorted_or_through_a_mask(each):
    """Small unions are sorted, larger ones go through a mask over the archive, and
    scores through an array over it: the same documents and sums either way."""
    from newssearch.query.execute import added, union

    size, rng = 100_000, np.random.default_rng(each)
    parts = [np.unique(rng.integers(0, size, each)).astype(np.int32) for _ in range(3)]
    scores = [rng.random(p.size).astype(np.float32) for p in parts]
    want: dict[int, np.float32] = {}
    for ids, got in zip(parts, scores, strict=True):
        for d, x in zip(ids.tolist(), got.tolist(), strict=True):
            want[d] = np.float32(want.get(d, np.float32(0)) + np.float32(x))
    assert union(parts, size).tolist() == sorted(want)
    ids, sums = added(list(zip(parts, scores, strict=True)), size)
    assert ids.tolist() == sorted(want)
    assert sums.tolist() == [want[d] for d in sorted(want)]


def test_fields_add_frequencies_before_saturating(opened):
    """BM25F: a word's weighted, length-normalised frequencies in each field add up first."""
    searcher, eng = opened
    reader = searcher.reader()
    n = reader.doc_count_all()
    weights = {"title": 2.0, "text": 1.0}
    checked = 0
    for text in sample_terms(reader, "title", 30):
        node = tree.BM25F(tuple(tree.Term(f, text, w) for f, w in weights.items()))
        ids, scores = eng.evaluate(node)
        score = dict(zip(ids.tolist(), scores.tolist(), strict=True))
        docs = set()
        for f in weights:
            docs |= set(searcher.docs_for_query(wq.Term(f, text)))
        assert live(eng, ids) == docs
        idf = math.log(1 + (n - ids.size + 0.5) / (ids.size + 0.5))
        for doc in sorted(docs)[:5]:
            tf = 0.0
            for f, w in weights.items():
                m = reader.postings(f, text) if (f, text) in reader else None
                if m is None:
                    continue
                while m.is_active() and m.id() < doc:
                    m.next()
                if m.is_active() and m.id() == doc:
                    norm = 1 - bm25.B + bm25.B * reader.doc_field_length(
                        doc, f) / (reader.field_length(f) / n)
                    factor = eng.tables.title_factor[doc] if f == "title" else 1.0
                    tf += w * factor * m.weight() / norm
            want = idf * tf * (bm25.K1 + 1) / (tf + bm25.K1)
            assert score[doc] == pytest.approx(want, rel=1e-4)
            checked += 1
    assert checked > 50


def test_tables_of_a_changed_generation_reuse_segments_and_equal_fresh_ones(updated_index,
                                                                          tmp_path, monkeypatch):
    """A generation after a change reads only its new segments, and gets the same tables."""
    import shutil

    from newssearch import columns, ingest, postings
    from newssearch.articles import Article
    from newssearch.query.execute import COLUMNS
    index = tmp_path / "index"
    shutil.copytree(updated_index, index, symlinks=True)
    shared = postings.SegmentArrays()
    before = WhooshIndex(index).snapshot()  # held: it closes its readers when collected
    Tables(before.reader, shared)
    ingest.submit(index, ingest.Change(
        (Article(id="poussee", title="Une dépêche poussée", body="Le texte.", source="AFP"),),
        deletes=("copie-3",)))
    after = WhooshIndex(index).snapshot()
    read: list[str] = []
    real = columns._leaf_codes

    def counted(leaf, name, cache):
        read.append(name)
        return real(leaf, name, cache)

    monkeypatch.setattr(columns, "_leaf_codes", counted)
    reused = Tables(after.reader, shared)
    assert 0 < len(read) < len(COLUMNS) * len(after.reader.leaf_readers())  # new segments only
    fresh = Tables(after.reader)
    for name in COLUMNS:
        assert [reused.labels[name][c] for c in reused.codes[name]] == \
            [fresh.labels[name][c] for c in fresh.codes[name]]
    assert (reused.live == fresh.live).all() and not reused.live.all()
    for field in reused.lengths:
        assert (reused.lengths[field] == fresh.lengths[field]).all()


def test_a_phrase_of_words_in_every_article_is_checked_within_the_budget(updated_index,
                                                                        monkeypatch):
    """« de la » is everywhere: over the budget, only the last indexed candidates are
    checked, each result really has the phrase, and the page says the search was cut."""
    from newssearch.query import execute
    from newssearch.records import SearchRequest
    from newssearch.search import SearchService

    whole = SearchService(updated_index).search(SearchRequest(q='"de la"', per_page=100))
    assert whole.total > 100 and not any("vérifiée" in n for n in whole.notices)
    monkeypatch.setattr(execute, "POSITION_BUDGET", 3)
    cut = SearchService(updated_index).search(SearchRequest(q='"de la"', per_page=100))
    assert 0 < cut.total < whole.total
    assert any(n.startswith("Expression très fréquente") for n in cut.notices)
    snapshot = SearchService(updated_index).snapshot()
    for hit in cut.hits:
        found = snapshot.article(hit.id)
        words = terms(f"{found.title}\n{found.lede}\n{found.body}", stemmed=False)
        assert ("de", "la") in set(zip(words, words[1:], strict=False)), hit.id
    # At the real budget, a phrase of rarer words is never cut.
    monkeypatch.undo()
    rare = SearchService(updated_index).search(SearchRequest(q='"port de marseille"'))
    assert rare.total >= 5 and not any("vérifiée" in n for n in rare.notices)


def test_tables_read_the_columns_and_lengths_whoosh_reads(opened):
    """The raw reads of columns and field lengths give what Whoosh's own readers give."""
    from newssearch.query.execute import COLUMNS

    searcher, eng = opened
    reader, t = searcher.reader(), eng.tables
    for name in COLUMNS:
        whoosh_values = [v or "" for v in reader.column_reader(name)]
        ours = [t.labels[name][c] for c in t.codes[name].tolist()]
        assert ours == whoosh_values, name
        assert t.labels[name] == sorted(t.labels[name])
    for field in schema.TEXT_FIELDS:
        for doc in range(0, reader.doc_count_all(), 7):
            assert t.lengths[field][doc] == reader.doc_field_length(doc, field, 0), (field, doc)


def test_an_or_scores_the_parts_of_a_group_where_only_some_occur(opened):
    """MatchAny(a, MatchAll(b, c)): an article with a and b but no c matches through a, and
    b still counts in its score (the parts of ouest-africaine where only ouest occurs)."""
    searcher, eng = opened
    words = sample_terms(searcher.reader(), "text", 40)
    checked = 0
    for a, b, c in zip(words, words[1:], words[2:], strict=False):
        docs = {w: dict(zip(*(x.tolist() for x in eng.term("text", w)), strict=True))
                for w in (a, b, c)}
        node = tree.MatchAny((tree.Term("text", a), tree.MatchAll(
            (tree.Term("text", b), tree.Term("text", c)))))
        ids, scores = eng.evaluate(node)
        got = dict(zip(ids.tolist(), scores.tolist(), strict=True))
        for doc in set(docs[a]) & set(docs[b]) - set(docs[c]):
            assert got[doc] == pytest.approx(docs[a][doc] + docs[b][doc], rel=1e-6)
            checked += 1
        for doc in set(docs[b]) - set(docs[a]) - set(docs[c]):
            assert doc not in got  # b alone does not match
    assert checked > 20


def test_all_words_and_bonuses_score_their_matches_as_the_whole_lists_would(opened):
    """Every word of a query, and the bonus of its exact forms, are scored only where all
    the words are; the scores are those of each word's whole list, to the last bit."""
    searcher, _ = opened
    reader = searcher.reader()
    tables = Tables(reader)
    words = sample_terms(reader, "text", 40)
    checked = 0
    common = [(a, b) for i, a in enumerate(words[:6]) for b in words[i + 1:6]]
    for a, b in [*common, *zip(words, words[1:], strict=False)]:
        nodes = [tree.BM25F((tree.Term("title", w, 2.0), tree.Term("text", w, 1.0)))
                 for w in (a, b)]
        bonus = tree.MatchAny(tuple(tree.Term(f, w, 0.5) for w in (a, b)
                                    for f in ("title_exact", "text_exact")))
        query = tree.WithBonus(tree.MatchAll(tuple(nodes)), bonus)
        ids, scores = Engine(reader, tables, PostingCache()).evaluate(query)
        whole = Engine(reader, tables, PostingCache())
        parts = [whole.evaluate(n) for n in nodes]
        want = np.intersect1d(parts[0][0], parts[1][0])
        expected = np.zeros(want.size, dtype=np.float32)
        for got, part in parts:
            expected += part[np.searchsorted(got, want)]
        got, extra = whole.evaluate(bonus)
        inside = np.isin(got, want)
        expected[np.searchsorted(want, got[inside])] += extra[inside]
        assert ids.tolist() == want.tolist()
        assert scores.tolist() == expected.tolist()
        checked += int(want.size)
    assert checked > 100
