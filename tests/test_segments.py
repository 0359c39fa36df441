"""The fast segment writer writes exactly what Whoosh's own writer writes."""

from __future__ import annotations

import struct
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec

from newssearch import indexer, schema, segments
from newssearch import postings as postings_module
from newssearch.corpus import load_corpus

SEED = Path(__file__).parent.parent / "seeds"


def postings(ix) -> dict:
    """Every term's postings, blocks, term statistics and every field length of an index."""
    found = {}
    with ix.searcher() as s:
        reader = s.reader()
        for fieldname in ix.schema.names():
            if not ix.schema[fieldname].indexed:
                continue
            for btext in reader.lexicon(fieldname):
                m = reader.postings(fieldname, btext)
                info = reader.term_info(fieldname, btext)
                # A few postings are inlined in the term table (no blocks) by the fast writer.
                few = info.doc_frequency() <= segments.INLINE_LIMIT
                items, blocks = [], []
                while m.is_active():
                    if m._i == 0 and not few:  # a block's first posting: a reader skips by it
                        blocks.append((m.block_max_id(), m.block_max_weight(),
                                       m.block_min_length(), m.block_max_length()))
                    items.append((m.id(), m.weight(), m.value()))
                    m.next()
                found[fieldname, btext] = (items, blocks, info.min_length(), info.max_length(),
                                           info.max_weight(), info.doc_frequency(),
                                           info.weight(), info.min_id(), info.max_id())
        found["lengths"] = [(d, f, reader.doc_field_length(d, f))
                            for d in range(reader.doc_count()) for f in ("title", "text")]
    return found


def test_fast_writer_matches_whooshs_writer(tmp_path, monkeypatch):
    # Small blocks, so that 150 articles give common words several.
    monkeypatch.setattr(segments, "BLOCK_LIMIT", 64)
    articles = load_corpus([SEED]).articles[:150]
    docs = [schema.document(a) for a in articles]
    built, inlined = {}, {}
    for kind in ("whoosh", "fast"):
        (tmp_path / kind).mkdir()
        ix = whoosh_index.create_in(str(tmp_path / kind), schema.build_schema())
        if kind == "whoosh":
            writer = ix.writer(codec=W3Codec(blocklimit=segments.BLOCK_LIMIT))
            for doc in docs:
                writer.add_document(**doc)
            writer.commit()
        else:
            segments.write_all(ix, lambda start, stop: iter(docs[start:stop]), len(docs))
        built[kind], inlined[kind] = postings(ix), inlined_terms(ix)
        ix.close()
    assert len(built["fast"]) > 5_000
    assert built["fast"] == built["whoosh"]
    assert sum(len(found[1]) > 1 for key, found in built["fast"].items() if key != "lengths") > 50
    assert inlined["fast"] > 2_000 and inlined["whoosh"] == 0


def inlined_terms(ix) -> int:
    """How many terms have their postings in the term table."""
    with ix.searcher() as s:
        reader = s.reader()
        return sum(reader.term_info(f, t).is_inlined() for f in ix.schema.names()
                   if ix.schema[f].indexed for t in reader.lexicon(f))


def test_a_written_segment_lets_go_of_its_postings(tmp_path):
    docs = [schema.document(a) for a in load_corpus([SEED]).articles[:20]]
    ix = whoosh_index.create_in(str(tmp_path), schema.build_schema())
    writer = segments.new_writer(ix)
    for doc in docs:
        writer.add_document(**doc)
    assert len(writer.pool) > 1000 and writer.pool.currentsize > 0
    writer._finalize_segment()
    # A build writes many segments in one process: each one's postings must go.
    assert len(writer.pool) == 0 and not writer.pool.sorted().terms
    ix.close()


def test_memory_limit_splits_into_segments(tmp_path):
    articles = load_corpus([SEED]).articles[:400]
    ix = whoosh_index.create_in(str(tmp_path), schema.build_schema())
    documents = segments.documents_of(articles, schema.document)
    segments.write_all(ix, documents, len(articles), limitmb=1)
    assert len(ix._segments()) > 1
    with ix.searcher() as s:
        assert s.doc_count() == 400
        assert {f["id"] for f in s.all_stored_fields()} == {a.id for a in articles}
    ix.close()


def test_a_build_leaves_the_cycle_collector_as_it_found_it(tmp_path):
    """Indexing pauses Python's garbage collector; a process that indexes keeps its own."""
    import gc

    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            indexer.rebuild([SEED], tmp_path / f"ix-{enabled}", procs=1)
            assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_a_document_sent_to_a_worker_leaves_the_parents_strings_as_they_were():
    import pickle
    import sys

    article = load_corpus([SEED]).articles[0]
    doc = schema.document(article)
    body = doc[schema.BODY]
    assert not body.isascii()
    before = sys.getsizeof(body)
    received = pickle.loads(pickle.dumps(segments._portable(doc)))
    # A pickled str would keep a UTF-8 copy of itself, growing the parent by its size.
    assert sys.getsizeof(body) == before
    restored = segments._restored(received)
    assert restored == doc
    assert restored[schema.TEXT] is restored[schema.TEXT_EXACT]
    pickle.dumps(doc)
    assert sys.getsizeof(body) > before  # what the encoding avoids


def test_merged_segments_keep_every_posting(tmp_path):
    """Merging reads each segment's postings back into the pool one at a time (Whoosh's
    add_reader): the merged segment holds the same postings, in Whoosh's files and in
    its arrays file."""
    docs = [schema.document(a) for a in load_corpus([SEED]).articles[:150]]
    ix = whoosh_index.create_in(str(tmp_path), schema.build_schema())
    segments.write_all(ix, lambda start, stop: iter(docs[start:stop]), len(docs), limitmb=1)
    assert len(ix._segments()) > 1

    def items(ix) -> dict:
        found = {}
        with ix.searcher() as s:
            reader = s.reader()
            for field in ix.schema.names():
                if ix.schema[field].indexed:
                    for btext in reader.lexicon(field):
                        m = reader.postings(field, btext)
                        found[field, btext] = list(m.items_as("weight"))  # (id, weight)
                        m = reader.postings(field, btext)
                        found[field, btext].append([v for _, v in m.all_items()])
        return found

    before = items(ix)
    segments.new_writer(ix).commit(optimize=True)
    assert len(ix._segments()) == 1
    assert items(ix) == before and len(before) > 5_000
    with ix.reader() as reader:
        arrays = postings_module.segment_postings(reader, postings_module.SegmentArrays())
        assert arrays[0] is not None
        for field, btext in [k for k in before if k[0] in (*schema.TEXT_FIELDS, schema.ID)][::7]:
            text = btext.decode("utf-8")
            got = postings_module.read_postings(reader, field, text, arrays)
            want = postings_module.read_postings(reader, field, text)
            assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    ix.close()


def test_term_table_hashes_find_every_key_in_fewer_slots(tmp_path):
    """Whoosh's hash reader finds every key of a table written with fewer slots (some
    keys wrapping past the end of their table), and no key that is not there."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import HashReader, HashWriter

    storage = FileStorage(str(tmp_path))
    keys = [b"term-%d" % i for i in range(30_000)]
    sizes = {}
    for kind in ("whoosh", "fast"):
        writer = HashWriter(storage.create_file(kind))
        if kind == "fast":
            writer._write_hashes = lambda w=writer: segments._write_hashes(w)
        for key in keys:
            writer.add(key, key[::-1])
        writer.close()
        sizes[kind] = storage.file_length(kind)
    reader = HashReader.open(storage, "fast")
    assert all(reader[key] == key[::-1] for key in keys)
    assert not any(b"absent-%d" % i in reader for i in range(2_000))
    wrapped = 0
    for start, slots in reader.tables:
        for slot in range(slots):
            h, position = struct.unpack("!Iq", reader.dbfile.get(start + 12 * slot, 12))
            wrapped += bool(position) and (h >> 8) % slots > slot
    assert wrapped > 0
    assert sizes["whoosh"] - sizes["fast"] > 0.7 * 12 * len(keys)
    reader.close()
