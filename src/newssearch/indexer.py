"""Full rebuilds swapped in atomically; incremental updates; stats."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from newssearch import __version__, columns, ledger, schema, segments, store
from newssearch.articles import Article, Corpus, Problem, one_spelling_each, one_spelling_per_source
from newssearch.corpus import load_corpus
from newssearch.postings import check_generation, open_index
from newssearch.schema import SCHEMA_VERSION, build_schema, document
from newssearch.updates import Indexed, Removal, Spared, in_reach, plan_update

Progress = Callable[[int, int], None]
PUSHED = "api"  # the origin of articles pushed through the write API (ingest.py)
# One indexing process per core: Whoosh is pure Python, so one process uses one core.
DEFAULT_PROCS = min(os.cpu_count() or 1, 8)


class BuildError(Exception):
    """An index could not be built or updated; the previous one still serves."""


@dataclass(frozen=True)
class BuildReport:
    """What a rebuild, update or delete did."""

    indexed: int
    seconds: float
    problems: tuple[Problem, ...]
    generation: Path | str  # a directory, or a cluster index's name
    added: int = 0
    changed: int = 0
    removed: int = 0
    moved: int = 0  # unchanged articles read from another file than before
    leftovers: tuple[str, ...] = ()
    skipped: dict[str, int] = field(default_factory=dict)
    removals: tuple[Removal, ...] = ()
    spared: tuple[Spared, ...] = ()
    unknown: tuple[str, ...] = ()  # ids a delete was given that the index did not hold
    documents: int = 0  # in the index afterwards
    pushed: int = 0  # articles pushed through the API that a rebuild kept

    @property
    def rate(self) -> float:
        return self.indexed / self.seconds if self.seconds > 0 else 0.0


def read_sources(sources: Sequence[Path], on_problem: Callable[[Problem], None] | None,
                 known: ledger.Ledger | None = None) -> Corpus:
    """Read the sources for a build (not the lines ``known`` shows unchanged);
    BuildError if no article could be read."""
    corpus = load_corpus(sources, on_problem, known.known() if known is not None else None)
    if not corpus.articles and not corpus.kept:
        names = ", ".join(str(s) for s in sources)
        raise BuildError(f"no article could be read from {names}; the index was left as it was.")
    return corpus


def skipped(corpus: Corpus) -> dict[str, int]:
    return dict(Counter(p.reason for p in corpus.problems))


def rebuild(sources: Sequence[Path], index_dir: Path, *, progress: Progress | None = None,
            on_problem: Callable[[Problem], None] | None = None, procs: int = DEFAULT_PROCS,
            limitmb: int = 512, wait: float = 10.0, force: bool = False) -> BuildReport:
    """Build a fresh index of ``sources`` beside the live one, then swap it in.

    A rebuild that would leave less than half the live index's articles stops before
    writing anything, unless ``force``: a mistyped source must not replace an archive.
    """
    started = time.perf_counter()
    store.check_index_dir(index_dir)
    try:
        return _rebuild(sources, index_dir, progress, on_problem, procs, limitmb, wait,
                        started, force)
    except OSError as e:  # the lock or the build directory could not be created
        raise BuildError(f"could not write the index in {index_dir}: {e}; "
                         "the previous index is still in place.") from e


def _rebuild(sources, index_dir, progress, on_problem, procs, limitmb, wait,
             started, force) -> BuildReport:
    with store.writer_lock(index_dir, wait):
        leftovers = store.remove_leftovers(index_dir)
        corpus = read_sources(sources, on_problem)
        # Articles pushed through the API have no file to be rebuilt from: they stay.
        pushed = _pushed(index_dir, {a.id for a in corpus.articles})
        articles = corpus.articles + pushed
        total = len(articles)
        if not force:
            _refuse_to_shrink(index_dir, total)
        with _new_generation(index_dir) as build_dir:
            ix = whoosh_index.create_in(str(build_dir), build_schema())
            origins = {**{a.id: PUSHED for a in pushed}, **corpus.origins}
            segments.write_all(
                ix, segments.documents_of(articles,
                                          lambda a: document(a, origins.get(a.id, ""))),
                total, procs=procs, limitmb=limitmb, progress=progress)
            toc = ix.latest_generation()
            ix.close()
            meta = store.IndexMeta(SCHEMA_VERSION, store.now_iso(), total,
                                   tuple(os.path.abspath(s) for s in sources), __version__)
            meta.write(build_dir)
            ledger.of_corpus(corpus, {}).write(build_dir, toc)
        generation = store.current_generation(index_dir)
    return BuildReport(total, time.perf_counter() - started, corpus.problems, generation,
                       added=total, leftovers=tuple(leftovers), skipped=skipped(corpus),
                       documents=total, pushed=len(pushed))


def _pushed(index_dir: Path, read: set[str]) -> tuple[Article, ...]:
    """The live index's articles pushed through the API, but those the sources hold."""
    if store.current_generation(index_dir) is None:
        return ()
    try:
        ix, _, _ = open_index(index_dir)
    except store.IndexUnavailable:
        return ()  # an index this version cannot read: nothing to carry over
    try:
        with ix.searcher() as searcher:
            reader = searcher.reader()
            origins = reader.column_reader(schema.ORIGIN)
            kept = (schema.stored_article(searcher.stored_fields(d))
                    for d in reader.all_doc_ids() if origins[d] == PUSHED)
            return tuple(a for a in kept if a.id not in read)
    finally:
        ix.close()



def _refuse_to_shrink(index_dir: Path, total: int) -> None:
    live = store.current_generation(index_dir)
    try:
        documents = store.IndexMeta.read(live).documents if live is not None else 0
    except (OSError, ValueError, KeyError):
        return  # a damaged index has nothing to protect that a rebuild could lose
    refuse_to_shrink(total, documents, "the index")


def refuse_to_shrink(total: int, documents: int, what: str) -> None:
    """BuildError if a rebuild from ``total`` articles would drop over half of ``documents``."""
    if total * 2 < documents:
        raise BuildError(
            f"the sources hold {total:,} articles and the live index {documents:,}: this "
            f"rebuild would drop more than half of {what}, so nothing was changed. "
            f"Check the sources, add --update to add them to the index, or add --force "
            f"to replace the index (newssearch rollback puts it back).")


@contextlib.contextmanager
def _new_generation(index_dir: Path, base: Path | None = None,
                    action: str = "write") -> Iterator[Path]:
    """Yield a build directory (linked to ``base``'s files), then swap it in, under the lock.

    On any failure the build is removed and the live generation stays as it was.
    """
    build_dir = store.new_build_dir(index_dir)
    try:
        if base is not None:
            store.link_generation(base, build_dir)
        yield build_dir
        store.swap_in(index_dir, build_dir)
    except OSError as e:
        store.remove_leftovers(index_dir)
        raise BuildError(f"could not {action} the index in {index_dir}: {e}; "
                         "the previous index is still in place.") from e
    except BaseException:
        store.remove_leftovers(index_dir)
        raise
    store.prune_generations(index_dir)


def update(sources: Sequence[Path], index_dir: Path, *,
           on_problem: Callable[[Problem], None] | None = None,
           progress: Progress | None = None, wait: float = 10.0) -> BuildReport:
    """Add and replace the articles of ``sources``; remove only what their files no longer hold.

    See updates.py for what an update may remove. The change is a new generation,
    so ``rollback`` undoes it. Lines the live generation's ledger shows unchanged are
    not parsed again (ledger.py).
    """
    started = time.perf_counter()
    live = store.current_generation(index_dir)
    previous = _ledger(live)
    corpus = read_sources(sources, on_problem, previous)
    try:
        with store.writer_lock(index_dir, wait):
            leftovers = store.remove_leftovers(index_dir)
            if store.current_generation(index_dir) != live:
                # Another writer swapped in a generation meanwhile: that is the one to update.
                # What the ledger let this read skip is checked against that one's ledger;
                # a read in full needs no ledger (the whole index is read instead).
                previous = _ledger(store.current_generation(index_dir)) if corpus.kept else None
                if corpus.kept:
                    corpus = read_sources(sources, None, previous)
            live, meta, indexed, spellings, held = _held_for(index_dir, corpus, previous, sources)
            if previous is not None and not one_spelling_each(spellings):
                # Articles the ledger skipped may be given another name: read them all.
                corpus, previous = read_sources(sources, None), None
                live, meta, indexed, spellings, held = _held_for(index_dir, corpus, None, sources)
            corpus = dataclasses.replace(
                corpus, articles=one_spelling_per_source(corpus.articles, spellings))
            plan = plan_update(indexed, corpus, sources)
            doomed = [i for r in plan.removals for i in r.ids]
            after = ledger.of_corpus(corpus, held, doomed)
            documents = meta.documents
            if plan.write or plan.removals:
                documents = _change(index_dir, live, meta, doomed, plan.write, corpus.origins,
                                    progress, after)
            elif after != previous:
                # Nothing to write, but lines were read in full: filed for the next update.
                # The ledger is derived, so the live generation may get it in place.
                after.write(live, _toc(live))
    except OSError as e:
        raise BuildError(f"could not update the index in {index_dir}: {e}; "
                         "the index was left as it was.") from e
    return BuildReport(len(plan.write), time.perf_counter() - started, corpus.problems,
                       store.current_generation(index_dir), added=plan.added,
                       changed=plan.changed, removed=plan.removed, moved=plan.moved,
                       skipped=skipped(corpus),
                       removals=plan.removals, spared=plan.spared, documents=documents,
                       leftovers=tuple(leftovers))


def delete(ids: Sequence[str], index_dir: Path, *, wait: float = 10.0) -> BuildReport:
    """Remove the articles with these ids; report the ids the index did not hold."""
    started = time.perf_counter()
    wanted = tuple(dict.fromkeys(i.strip() for i in ids if i.strip()))
    try:
        with store.writer_lock(index_dir, wait):
            store.remove_leftovers(index_dir)  # of a killed change
            live, meta, held, _ = _held(index_dir)
            doomed = [i for i in wanted if i in held]
            documents = meta.documents
            if doomed:
                documents = _change(index_dir, live, meta, doomed, (), {}, None)
    except OSError as e:
        raise BuildError(f"could not change the index in {index_dir}: {e}; "
                         "the index was left as it was.") from e
    by_origin: dict[str, list[str]] = {}
    for i in doomed:
        by_origin.setdefault(held[i].origin, []).append(i)
    removals = tuple(Removal(o, "deleted by id", tuple(v)) for o, v in sorted(by_origin.items()))
    return BuildReport(0, time.perf_counter() - started, (), store.current_generation(index_dir),
                       removed=len(doomed), removals=removals,
                       unknown=tuple(i for i in wanted if i not in held), documents=documents)


def _toc(generation: Path) -> int:
    ix = whoosh_index.open_dir(str(generation))
    try:
        return ix.latest_generation()
    finally:
        ix.close()


def _ledger(generation: Path | None) -> ledger.Ledger | None:
    """The generation's ledger, if it has one that describes it."""
    found = ledger.Ledger.read(generation) if generation is not None else None
    try:
        return found if found is not None and found.toc == _toc(generation) else None
    except (OSError, ValueError, whoosh_index.EmptyIndexError):
        return None


def _held_for(index_dir: Path, corpus: Corpus, previous: ledger.Ledger | None,
              sources: Sequence[Path]):
    """What the update of ``corpus`` needs of the live index: its generation and metadata,
    what it holds of each article that matters, its sources' names, and its ledger's
    entries by file. With a ledger, the articles that matter are those read and those
    the ledger lists, in a file within the update's reach, that the sources did not
    give: the others are unchanged."""
    if previous is None:
        live, meta, indexed, spellings = _held(index_dir)
        others: dict[str, list[str]] = {}
        for article_id, what in indexed.items():
            if what.origin not in ("", PUSHED) and article_id not in corpus.origins:
                others.setdefault(what.origin, []).append(article_id)
        return live, meta, indexed, spellings, {
            o: ledger.FileLedger(("",) * len(ids), tuple(ids), (None,) * len(ids), None, False)
            for o, ids in others.items()}
    ix, live, meta = open_index(index_dir)
    try:
        with ix.searcher() as searcher:
            reader = searcher.reader()
            spellings = columns.value_counts(reader, schema.SOURCE)
            reached = previous.origins(in_reach(corpus, sources))
            unread = {o: Indexed("", o) for o in set(reached.values())}  # one per file
            indexed = {i: unread[o] for i, o in reached.items() if i not in corpus.origins}
            prints, origins = (reader.column_reader(n) for n in (schema.FINGERPRINT,
                                                                  schema.ORIGIN))
            for article in corpus.articles:
                if (d := searcher.document_number(id=article.id)) is not None:
                    indexed[article.id] = Indexed(prints[d], origins[d])
    finally:
        ix.close()
    return live, meta, indexed, spellings, previous.without(corpus.origins.keys())


def _held(index_dir: Path) -> tuple[Path, store.IndexMeta, dict[str, Indexed], Counter[str]]:
    """The live generation, its metadata, what it holds of each article, its sources' names."""
    ix, live, meta = open_index(index_dir)
    try:
        return (live, meta, *_indexed(ix))
    finally:
        ix.close()


def _indexed(ix) -> tuple[dict[str, Indexed], Counter[str]]:
    """Read the id, fingerprint and origin of every article, and count its sources' names."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        ids, prints, origins, sources = (columns.column_values(reader, name) for name in (
            schema.ID, schema.FINGERPRINT, schema.ORIGIN, schema.SOURCE))
        docs = np.flatnonzero(columns.live_documents(reader)).tolist()
        return ({ids[d]: Indexed(prints[d], origins[d]) for d in docs},
                Counter(sources[d] for d in docs))


def _change(index_dir: Path, live: Path, meta: store.IndexMeta, doomed: Sequence[str],
            write: Sequence, origins: dict[str, str], progress: Progress | None,
            sources: ledger.Ledger | None = None) -> int:
    """Write a new generation: the live one without ``doomed``, with ``write`` replaced or added,
    and the ledger ``sources`` (else the live one's, with these articles touched).

    Segments are written by the same writer, with the same settings, as a rebuild's.
    """
    with _new_generation(index_dir, base=live, action="update") as build_dir:
        ix = whoosh_index.open_dir(str(build_dir))
        try:
            writer = segments.new_writer(ix)
            try:
                for doc_id in doomed:
                    writer.delete_by_term(schema.ID, doc_id)
                for n, article in enumerate(write, 1):
                    writer.update_document(**document(article, origins.get(article.id, "")))
                    if progress is not None:
                        progress(n, len(write))
                writer.commit(mergetype=segments.merge_tiers)
            except BaseException:
                with contextlib.suppress(Exception):
                    writer.cancel()
                raise
            documents, toc = ix.doc_count(), ix.latest_generation()
        finally:
            ix.close()
        store.IndexMeta(SCHEMA_VERSION, store.now_iso(), documents, meta.sources,
                        __version__).write(build_dir)
        if sources is not None:
            sources.write(build_dir, toc)
        else:
            ledger.touch(build_dir, [*doomed, *(a.id for a in write)], toc)
    return documents


def apply_locked(index_dir: Path, upserts: Sequence[Article], deletes: Sequence[str],
                 origin: str) -> int:
    """Add or replace ``upserts`` and remove ``deletes`` as one new generation; return the
    articles it holds. The caller holds the writers' lock (ingest.py batches pushed writes)."""
    store.remove_leftovers(index_dir)  # of a killed change
    ix, live, meta = open_index(index_dir)
    ix.close()
    return _change(index_dir, live, meta, deletes, upserts,
                   {a.id: origin for a in upserts}, None)


def rollback(index_dir: Path, *, wait: float = 10.0) -> tuple[Path, Path]:
    """Put the previous generation back, atomically; return (restored, replaced)."""
    with store.writer_lock(index_dir, wait):
        live = store.current_generation(index_dir)
        previous = store.previous_generation(index_dir)
        if live is None:
            raise store.IndexUnavailable(f"no index in {index_dir}: there is nothing to roll back.")
        if previous is None:
            raise store.IndexUnavailable(
                f"{index_dir} keeps no generation before the live one ({live.name}): "
                "there is nothing to roll back to.")
        check_generation(index_dir, previous)
        store.point(index_dir, previous)
    return previous, live
