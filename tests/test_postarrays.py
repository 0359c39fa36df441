"""The postings arrays file beside each segment hold exactly what Whoosh reads."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.qparser import QueryParser

from newssearch import columns, indexer, postarrays, postings, schema, segments, store
from newssearch.analysis import terms
from newssearch.query import execute
from newssearch.records import SearchRequest
from newssearch.search import SearchService

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "seeds" / "orangesum-sample.jsonl"
FIELDS = (*schema.TEXT_FIELDS, schema.SECTION, schema.SOURCE, schema.ID)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """300 articles in several segments, one of them with a word 300 positions apart, then
    an update (a new segment) and a deletion."""
    base = tmp_path_factory.mktemp("arrays")
    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    far = dict(records[0], id="loin", body="zeugma " + "mot " * 300 + "zeugma fin")
    (base / "articles").mkdir()
    path = base / "articles" / "a.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                            for r in [*records[:300], far]), encoding="utf-8")
    indexer.rebuild([base / "articles"], base / "index", procs=2, limitmb=1)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                            for r in [*records[:280], far, *records[300:320]]), encoding="utf-8")
    indexer.update([base / "articles"], base / "index")
    return base / "index"


@pytest.fixture(scope="module")
def reader(built: Path):
    ix = whoosh_index.open_dir(str(store.current_generation(built)))
    r = ix.reader()
    yield r
    r.close()
    ix.close()


def whoosh_terms(reader, field: str) -> list[str]:
    return [t.decode("utf-8") for t, _ in reader.iter_field(field)]


def test_every_segment_has_its_arrays_file(reader, built):
    arrays = postings.segment_postings(reader, postings.SegmentArrays())
    assert len(arrays) >= 3 and all(a is not None for a in arrays)
    generation = store.current_generation(built)
    segments = {p.name.split(".")[0] for p in generation.iterdir() if p.suffix == ".seg"} | {
        p.name.split(".")[0] for p in generation.iterdir() if p.suffix == ".trm"}
    files = {p.name.split(".")[0] for p in generation.iterdir()
             if p.suffix == "." + postarrays.EXTENSION}
    assert files == segments  # and none left behind by merged or deleted segments


@pytest.mark.parametrize("field", FIELDS)
def test_postings_read_from_the_arrays_are_whooshs(reader, field):
    arrays = postings.segment_postings(reader, postings.SegmentArrays())
    words = whoosh_terms(reader, field)
    assert len(words) > 2
    for text in words[::5] if len(words) > 1000 else words:
        got_ids, got_tf = postings.read_postings(reader, field, text, arrays)
        ids, tf = postings.read_postings(reader, field, text)
        assert got_ids.tolist() == ids.tolist(), text
        assert got_tf.tolist() == tf.tolist(), text
    assert postings.read_postings(reader, field, "zzzabsent", arrays)[0].size == 0
    for text in words[::10]:
        for found in (arrays, None):
            assert postings.doc_frequency(reader, field, text, found) == \
                reader.doc_frequency(field, text), text
    assert postings.doc_frequency(reader, field, "zzzabsent", arrays) == 0


@pytest.mark.parametrize("field", schema.TEXT_FIELDS)
def test_positions_read_from_the_arrays_are_whooshs(reader, field):
    arrays = postings.segment_postings(reader, postings.SegmentArrays())
    everyone = np.arange(reader.doc_count_all(), dtype=np.int32)
    some = everyone[::3]
    for text in whoosh_terms(reader, field)[::29]:
        for docs in (everyone, some):
            got = postings.position_keys(reader, field, text, docs, arrays)
            want = postings.position_keys(reader, field, text, docs)
            assert got.tolist() == want.tolist(), text
            expected = {doc: p for doc, p in postings.read_positions(reader, field, text,
                                                                    docs).items()}
            as_dict: dict[int, list[int]] = {}
            for key in got.tolist():
                as_dict.setdefault(key >> 32, []).append(key & 0xFFFFFFFF)
            assert as_dict == expected, text


def test_positions_far_apart_are_read_whole(reader):
    """Gaps of 256 positions or more are stored as 32-bit numbers, not bytes."""
    arrays = postings.segment_postings(reader, postings.SegmentArrays())
    everyone = np.arange(reader.doc_count_all(), dtype=np.int32)
    (stem,) = terms("zeugma")
    keys = postings.position_keys(reader, schema.TEXT, stem, everyone, arrays)
    positions = (keys & 0xFFFFFFFF).tolist()
    assert len(set((keys >> 32).tolist())) == 1 and positions[1] - positions[0] == 301


@pytest.mark.parametrize("without", [0, 2])
def test_vocabulary_from_the_arrays_is_whooshs(built, tmp_path, without):
    """Document frequencies summed over segments and fields, with some segments read
    through Whoosh (no arrays file), are those Whoosh counts."""
    copy = tmp_path / "copy"
    shutil.copytree(built, copy, symlinks=True)
    files = sorted(store.current_generation(copy).glob("*." + postarrays.EXTENSION))
    for path in files[:without]:
        path.unlink()
    ix = whoosh_index.open_dir(str(store.current_generation(copy)))
    with ix.reader() as reader:
        arrays = postings.segment_postings(reader, postings.SegmentArrays())
        assert len(arrays) > without and sum(a is None for a in arrays) == without
        for fields in ([schema.TEXT], schema.EXACT_FIELDS):
            got = columns.document_frequencies(reader, fields, postings.SegmentArrays())
            want: Counter[str] = Counter()
            for leaf, _ in reader.leaf_readers():
                for field in fields:
                    want.update({t.decode("utf-8"): i.doc_frequency()
                                 for t, i in leaf.iter_field(field)})
            assert got == want and len(got) > 1000
            assert all(type(w) is str for w in got)
    ix.close()


def test_whoosh_alone_still_opens_and_searches_the_index(built):
    ix = whoosh_index.open_dir(str(store.current_generation(built)))
    with ix.searcher() as searcher:
        hits = searcher.search(QueryParser(schema.TEXT, ix.schema).parse("zeugma"))
        assert [h["id"] for h in hits] == ["loin"]
        assert searcher.doc_count() == 301
    ix.close()


def test_large_posting_blocks_are_compressed_and_whoosh_reads_them(reader):
    """Whoosh's own matcher reads compressed and plain blocks and inlined postings alike:
    their documents and positions are those of the arrays (the test above), and a
    block's info says whether it is compressed."""
    levels = Counter()
    for leaf, _ in reader.leaf_readers():
        for text in leaf.lexicon(schema.TEXT_EXACT):
            m = leaf._terms.matcher(schema.TEXT_EXACT, text, leaf.schema[schema.TEXT_EXACT].format)
            if not isinstance(m, W3LeafMatcher):  # a rare word's postings, in the term table
                levels["inlined"] += 1
                assert m.supports("positions") and len(m.value_as("positions")) == m.weight()
                continue
            while m.is_active():
                levels[m._compression] += 1
                assert len(m.value_as("positions")) == m.weight() >= 1
                m._next_block()
    assert levels[segments.ZLIB_LEVEL] and levels[0] and levels["inlined"], levels


@pytest.mark.parametrize("damage", ["removed", "cut", "garbled"])
def test_an_index_without_arrays_files_answers_the_same(built, tmp_path, damage):
    """A segment without its arrays file (one Whoosh wrote), or with one cut short or
    garbled, is read through Whoosh."""
    copy = tmp_path / "copy"
    shutil.copytree(built, copy, symlinks=True)
    generation = store.current_generation(copy)
    for path in generation.glob("*." + postarrays.EXTENSION):
        data = path.read_bytes()
        if damage == "removed":
            path.unlink()
        elif damage == "cut":
            path.write_bytes(data[:len(data) // 2])
        else:
            path.write_bytes(postarrays.MAGIC + (40).to_bytes(8, "little") + b"{" * 40)
    queries = ["gouvernement", "\"premier ministre\"", "paris -france", "zeugma fin"]
    with_files, without = SearchService(built), SearchService(copy)
    for q in queries:
        a, b = with_files.search(SearchRequest(q=q)), without.search(SearchRequest(q=q))
        assert a.total == b.total and [h.id for h in a.hits] == [h.id for h in b.hits], q
    assert with_files.search(SearchRequest(q="gouvernement")).total > 10


def test_weights_and_numbers_keep_their_values(tmp_path):
    """Fractional weights stay floats; document numbers past 65,535 stay whole."""
    terms = [(("f", b"a"), [(1, 0.5, None), (70_000, 2.0, None)]),
             (("f", b"b"), [(3, 300.0, b"\x00\x01")]),
             (("g", b"a"), [(2, 1.0, b"\x00\x02\x03")])]
    path = tmp_path / "x.nsa"
    with open(path, "wb") as f:
        postarrays.write(f, postarrays.SortedPostings.of(terms))
    arrays = postarrays.SegmentPostings(path)
    for (field, text), want in terms:
        row = arrays.row(postarrays.term_key(field, text))
        docs, weights = arrays.postings(row)
        assert docs.tolist() == [d for d, _, _ in want]
        assert weights.tolist() == [w for _, w, _ in want]
    assert arrays.row(postarrays.term_key("f", b"c")) == -1
    assert arrays.row(postarrays.term_key("g", b"b")) == -1
    blob, lengths = arrays.values(arrays.row(postarrays.term_key("g", b"a")), np.array([0]))
    assert blob.tobytes() == b"\x00\x02\x03" and lengths.tolist() == [3]
    hashes, counts, numbers = arrays.field_terms("f")
    assert hashes.tolist() == sorted(hashes.tolist())
    assert dict(zip(arrays.words("f", numbers), counts.tolist(), strict=True)) == {"a": 2, "b": 1}


@pytest.mark.parametrize("longest", [200, 300, 70_000])
def test_any_postings_values_are_read_back_across_value_blocks(tmp_path, longest):
    """Values are found from their group's start and the lengths before them (a value of
    255 bytes or more from the table of long ones): every subset read back equals what
    was written, over several terms, groups, empty values and long ones."""
    rng = np.random.default_rng(longest)
    terms = []
    for t in range(3):
        count = [1, 2 * postarrays.VALUE_GROUP + 7, 40 * postarrays.VALUE_GROUP][t]
        values = [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes()
                  for n in rng.choice([0, 2, 3, 9, longest], size=count, p=[.1, .4, .3, .1, .1])]
        terms.append((("f", b"t%d" % t), [(d, 1.0, v or None) for d, v in enumerate(values)]))
    path = tmp_path / "x.nsa"
    with open(path, "wb") as f:
        postarrays.write(f, postarrays.SortedPostings.of(terms))
    arrays = postarrays.SegmentPostings(path)
    assert (arrays._long.size > 0) == (longest >= 255)
    for key, want in terms:
        row = arrays.row(postarrays.term_key(*key))
        few = np.unique([0, len(want) // 3, len(want) - 2, len(want) - 1]).clip(0)  # far apart
        for which in (np.arange(len(want)), few,
                      np.sort(rng.choice(len(want), len(want) // 2 + 1, replace=False))):
            blob, lengths = arrays.values(row, which)
            wanted = [want[i][2] or b"" for i in which.tolist()]
            assert lengths.tolist() == [len(v) for v in wanted]
            assert blob.tobytes() == b"".join(wanted)


def test_columns_from_the_arrays_are_whooshs(built, tmp_path):
    """Labels and label numbers of each column, and the headline key's grouping, read from
    the arrays files equal those read from Whoosh's own column files."""
    assert set(postarrays.COLUMNS) == {*execute.COLUMNS, schema.TITLE_KEY}
    copy = tmp_path / "copy"
    shutil.copytree(built, copy, symlinks=True)
    for path in store.current_generation(copy).glob("*." + postarrays.EXTENSION):
        path.unlink()
    readers = [whoosh_index.open_dir(str(store.current_generation(d))).reader()
               for d in (built, copy)]
    for name in execute.COLUMNS:
        (labels, codes), (want_labels, want_codes) = (
            columns.column_codes(r, name, postings.SegmentArrays()) for r in readers)
        assert labels == want_labels and codes.tolist() == want_codes.tolist(), name
        assert len(labels) > 2, name
    keys, want = (columns.key_codes(r, schema.TITLE_KEY, postings.SegmentArrays())
                  for r in readers)
    labels, codes = columns.column_codes(readers[1], schema.TITLE_KEY, postings.SegmentArrays())
    # The same grouping: equal numbers exactly where the headline keys are equal.
    for got in (keys, want):
        pairs = set(zip(got.tolist(), codes.tolist(), strict=True))
        assert len(pairs) == len(set(got.tolist())) == len(set(codes.tolist())) > 250
    for r in readers:
        r.close()


@pytest.mark.parametrize("documents", [300, 70_000])
def test_documents_read_back_from_bitmaps_and_lists_alike(tmp_path, documents):
    """A term in many of a segment's documents keeps them as a bitmap, the others as
    numbers: every term's documents and weights read back as written, in order."""
    rng = np.random.default_rng(documents)
    terms = []
    for t, share in enumerate([1.0, 0.5, 0.2, 0.03, 0.001, 0.0]):
        docs = np.flatnonzero(rng.random(documents) < share).tolist() or [documents - 1]
        terms.append((("f", b"t%d" % t), [(d, float(d % 7 + 1), None) for d in docs]))
    path = tmp_path / "x.nsa"
    with open(path, "wb") as f:
        postarrays.write(f, postarrays.SortedPostings.of(terms), documents)
    arrays = postarrays.SegmentPostings(path)
    assert arrays._dense_rows.size == 3  # the terms in more than 1/16 of the documents
    for _ in range(2):  # decoded, then remembered
        for key, want in terms:
            docs, weights = arrays.postings(arrays.row(postarrays.term_key(*key)))
            assert docs.tolist() == [d for d, _, _ in want]
            assert weights.tolist() == [w for _, w, _ in want]
