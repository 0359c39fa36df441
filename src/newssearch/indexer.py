"""Full rebuilds swapped in atomically; incremental updates; stats."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from whoosh import index as whoosh_index

from newssearch import __version__, segments, store
from newssearch.corpus import Corpus, Problem, load_corpus
from newssearch.schema import SCHEMA_VERSION, build_schema, document

Progress = Callable[[int, int], None]
# One indexing process per core: Whoosh is pure Python, so one process uses one core.
DEFAULT_PROCS = min(os.cpu_count() or 1, 8)


class BuildError(Exception):
    """An index could not be built or updated; the previous one still serves."""


@dataclass(frozen=True)
class BuildReport:
    """What a rebuild or update did."""

    indexed: int
    seconds: float
    problems: tuple[Problem, ...]
    generation: Path
    added: int = 0
    changed: int = 0
    removed: int = 0
    leftovers: tuple[str, ...] = ()
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.indexed / self.seconds if self.seconds > 0 else 0.0


def _read(sources: Sequence[Path], on_problem: Callable[[Problem], None] | None) -> Corpus:
    corpus = load_corpus(sources, on_problem)
    if not corpus.articles:
        names = ", ".join(str(s) for s in sources)
        raise BuildError(f"no article could be read from {names}; the index was left as it was.")
    return corpus


def rebuild(sources: Sequence[Path], index_dir: Path, *, progress: Progress | None = None,
            on_problem: Callable[[Problem], None] | None = None, procs: int = DEFAULT_PROCS,
            limitmb: int = 512, wait: float = 10.0) -> BuildReport:
    """Build a fresh index of ``sources`` beside the live one, then swap it in."""
    started = time.perf_counter()
    store.check_index_dir(index_dir)
    try:
        return _rebuild(sources, index_dir, progress, on_problem, procs, limitmb, wait,
                        started)
    except OSError as e:  # the lock or the build directory could not be created
        raise BuildError(f"could not write the index in {index_dir}: {e}; "
                         "the previous index is still in place.") from e


def _rebuild(sources, index_dir, progress, on_problem, procs, limitmb, wait,
             started) -> BuildReport:
    with store.writer_lock(index_dir, wait):
        leftovers = store.remove_leftovers(index_dir)
        corpus = _read(sources, on_problem)
        build_dir = store.new_build_dir(index_dir)
        try:
            ix = whoosh_index.create_in(str(build_dir), build_schema())
            total = len(corpus.articles)
            segments.write_all(ix, segments.documents_of(corpus.articles, document), total,
                               procs=procs, limitmb=limitmb, progress=progress)
            ix.close()
            meta = store.IndexMeta(SCHEMA_VERSION, store.now_iso(), total,
                                   tuple(str(s) for s in sources), __version__)
            meta.write(build_dir)
            generation = store.swap_in(index_dir, build_dir)
        except OSError as e:
            store.remove_leftovers(index_dir)
            raise BuildError(f"could not write the index in {index_dir}: {e}; "
                             "the previous index is still in place.") from e
        except BaseException:
            store.remove_leftovers(index_dir)
            raise
        store.prune_generations(index_dir)
    return BuildReport(total, time.perf_counter() - started, corpus.problems, generation,
                       added=total, leftovers=tuple(leftovers),
                       skipped=dict(Counter(p.reason for p in corpus.problems)))


def update(sources: Sequence[Path], index_dir: Path, *,
           on_problem: Callable[[Problem], None] | None = None,
           progress: Progress | None = None, wait: float = 10.0) -> BuildReport:
    """Add new and changed articles and remove vanished ones, in the live index."""
    started = time.perf_counter()
    corpus = _read(sources, on_problem)
    try:
        with store.writer_lock(index_dir, wait):
            # Opened under the lock: a rebuild that finished meanwhile is the one to update.
            ix, generation, meta = open_index(index_dir)
            try:
                report = _update(ix, corpus, progress)
            finally:
                ix.close()
            store.IndexMeta(SCHEMA_VERSION, store.now_iso(), report.indexed,
                            meta.sources, __version__).write(generation)
    except OSError as e:
        raise BuildError(f"could not update the index in {index_dir}: {e}; "
                         "the index was left as it was.") from e
    added, changed, removed = report.added, report.changed, report.removed
    return BuildReport(added + changed, time.perf_counter() - started, corpus.problems,
                       generation, added=added, changed=changed, removed=removed,
                       skipped=dict(Counter(p.reason for p in corpus.problems)))


@dataclass(frozen=True)
class _Changes:
    indexed: int
    added: int
    changed: int
    removed: int


def _update(ix, corpus: Corpus, progress: Progress | None) -> _Changes:
    with ix.searcher() as searcher:
        reader = searcher.reader()
        ids = reader.column_reader("id")
        prints = reader.column_reader("fingerprint")
        indexed = {ids[d]: prints[d] for d in reader.all_doc_ids()}
    wanted = {a.id for a in corpus.articles}
    todo = [a for a in corpus.articles if indexed.get(a.id) != a.fingerprint()]
    gone = [i for i in indexed if i not in wanted]
    if todo or gone:
        writer = ix.writer(compound=False)  # see segments.FastSegmentWriter
        try:
            for doc_id in gone:
                writer.delete_by_term("id", doc_id)
            for n, article in enumerate(todo, 1):
                writer.update_document(**document(article))
                if progress is not None:
                    progress(n, len(todo))
            writer.commit()
        except BaseException:
            # Leave no half-written segment in the live generation.
            with contextlib.suppress(Exception):
                writer.cancel()
            _remove_unlisted_files(ix)
            raise
    added = sum(a.id not in indexed for a in todo)
    return _Changes(ix.doc_count(), added, len(todo) - added, len(gone))


def _remove_unlisted_files(ix) -> None:
    """Delete segment files that the live table of contents does not list."""
    with contextlib.suppress(Exception):
        listed = tuple(seg.segment_id() for seg in ix._segments())
        prefix = f"{ix.indexname}_"
        for name in ix.storage.list():
            if name.startswith(prefix) and not name.endswith("_WRITELOCK") \
                    and not name.startswith(listed):
                ix.storage.delete_file(name)
        shutil.rmtree(Path(ix.storage.folder) / f"{ix.indexname}.tmp", ignore_errors=True)


def open_index(index_dir: Path) -> tuple[whoosh_index.Index, Path, store.IndexMeta]:
    """Open the live generation, checking it was built by this version's analysis."""
    index_dir = Path(index_dir)
    generation = store.current_generation(index_dir)
    if generation is None:
        raise store.IndexUnavailable(
            f"no index in {index_dir}. Build one with: newssearch index SOURCE --index {index_dir}")
    try:
        meta = store.IndexMeta.read(generation)
    except (OSError, ValueError, KeyError) as e:
        raise store.IndexUnavailable(
            f"the index in {index_dir} is damaged ({e}); rebuild it with: newssearch index") from e
    if meta.schema_version != SCHEMA_VERSION:
        raise store.IndexUnavailable(
            f"the index in {index_dir} was built with schema version {meta.schema_version}, "
            f"this newssearch reads version {SCHEMA_VERSION}; rebuild it with: newssearch index")
    problem = None
    # Whoosh leaves a damaged file open; let it close quietly with the exception.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            ix = whoosh_index.open_dir(str(generation))
            ix.reader().close()  # opens every segment: a missing or cut file shows now
        except Exception as e:  # Whoosh raises many kinds on a damaged index.
            problem = f"{type(e).__name__}: {e}"
        if problem is not None:
            gc.collect()
    if problem is not None:
        raise store.IndexUnavailable(f"the index in {index_dir} cannot be opened ({problem}); "
                                     "rebuild it with: newssearch index")
    return ix, generation, meta


@dataclass(frozen=True)
class IndexStats:
    """A summary of the live index."""

    documents: int
    sections: tuple[tuple[str, int], ...]
    sources: tuple[tuple[str, int], ...]
    first_date: date | None
    last_date: date | None
    size_bytes: int
    schema_version: int
    built_at: str
    path: Path


def stats(index_dir: Path) -> IndexStats:
    """Count documents, sections and sources, and measure the live index."""
    ix, generation, meta = open_index(index_dir)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        sections: Counter[str] = Counter()
        sources: Counter[str] = Counter()
        dates = []
        for _, fields in reader.iter_docs():
            sections[fields.get("section") or "—"] += 1
            sources[fields.get("source") or "—"] += 1
            if "date" in fields:
                dates.append(fields["date"])
        count = reader.doc_count()
    ix.close()
    size = sum(p.stat().st_size for p in generation.iterdir() if p.is_file())
    return IndexStats(count, tuple(sections.most_common()), tuple(sources.most_common()),
                      min(dates).date() if dates else None, max(dates).date() if dates else None,
                      size, meta.schema_version, meta.built_at, generation)
