"""A cluster index's lifecycle: rebuild behind an alias, update, delete, rollback, pushes.

NAME (the location's alias) is what searches read. A rebuild creates
``NAME-<UTC timestamp>`` with no replicas and no refresh (the fastest load), fills
it, restores both, then moves NAME onto it and ``NAME-previous`` onto the index it
replaces in one ``POST _aliases``, which the cluster applies atomically: readers see
the old index or the new one, never a partial one, and ``rollback`` swaps them back.
Older indexes of NAME are deleted. While a rebuild loads, ``NAME-building`` points at
its index, so that pushed writes land in it too and survive the swap.

An update or a delete changes the live index in place (copying millions of
articles for each would cost what a rebuild costs), so ``rollback`` returns to the
index of the rebuild before, not to the moment before an update.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from newssearch import __version__, indexer, schema, store
from newssearch.articles import Article, Corpus, Problem, one_spelling_per_source
from newssearch.indexer import PUSHED, BuildError, BuildReport, Progress
from newssearch.opensearch import aliases, bulk, connection, fields
from newssearch.opensearch.connection import Location
from newssearch.schema import SCHEMA_VERSION
from newssearch.updates import Indexed, Removal, plan_update

REPLICAS = 1  # a lost machine loses nothing; `index --replicas` chooses more


def rebuild(sources: Sequence[Path], location: Location, *, progress: Progress | None = None,
            on_problem: Callable[[Problem], None] | None = None, force: bool = False,
            shards: int = 1, replicas: int = REPLICAS) -> BuildReport:
    """Build a fresh index of ``sources``, then move the alias onto it atomically.

    A rebuild that would leave less than half the live index's articles stops before
    writing anything, unless ``force``, as a rebuild of a directory does.
    """
    started = time.perf_counter()
    corpus = indexer.read_sources(sources, on_problem)
    client = connection.client(location)
    with aliases.talking(location):
        current = aliases.live(client, location)
        read_ids = {a.id for a in corpus.articles}
        pushed = _pushed(client, current, read_ids) if current else ()
        total = len(corpus.articles) + len(pushed)
        if not force and current is not None:
            indexer.refuse_to_shrink(total, aliases.count(client, current), str(location))
        name = aliases.index_name(location)
        built = store.IndexMeta(SCHEMA_VERSION, store.now_iso(), total,
                                tuple(os.path.abspath(s) for s in sources), __version__)
        client.indices.create(index=name, body=_body(location, shards, built))
        try:
            client.indices.update_aliases(body={"actions": [
                {"add": {"index": name, "alias": location.alias + aliases.BUILDING}}]})
            problems = _load(client, name, corpus, progress, on_problem)
            client.indices.put_settings(index=name, body={"index": {
                "number_of_replicas": replicas, "refresh_interval": None}})
            # Pushed articles last, read again now: those pushed while the corpus loaded.
            pushed = _pushed(client, current, read_ids) if current else ()
            problems += _report(bulk.write(client, bulk.upserts(name, pushed, lambda a: PUSHED)),
                                {}, on_problem)
            client.indices.refresh(index=name)
            documents = aliases.count(client, name)
            if documents == 0:
                raise BuildError(f"{location}: the cluster refused every article "
                                 f"({problems[0].message}); the index was left as it was.")
            aliases.record(client, name, dataclasses.replace(built, documents=documents))
            aliases.swap(client, location, name, current)
        except BaseException:
            with contextlib.suppress(Exception):
                client.indices.delete(index=name)
            raise
        aliases.prune(client, location, name, current)
    return BuildReport(documents, time.perf_counter() - started, corpus.problems + problems,
                       name, added=documents, skipped=indexer.skipped(corpus),
                       documents=documents, pushed=len(pushed))


def _body(location: Location, shards: int, built: store.IndexMeta) -> dict:
    """The new index's settings and mappings, with no replicas and no refresh while it loads."""
    from newssearch.opensearch import mapping

    body = mapping.index_body(shards=shards, replicas=0, analysis=location.analysis,
                              refresh_interval="-1")
    body["mappings"]["_meta"] = dataclasses.asdict(built) | {"sources": list(built.sources)}
    return body


def _load(client, index: str, corpus: Corpus, progress: Progress | None,
          on_problem: Callable[[Problem], None] | None) -> tuple[Problem, ...]:
    total = len(corpus.articles)
    outcome = bulk.write(client, bulk.upserts(index, corpus.articles,
                                              lambda a: corpus.origins.get(a.id, "")),
                         progress=(lambda n: progress(n, total)) if progress else None)
    return _report(outcome, corpus.origins, on_problem)


def _report(outcome: bulk.Outcome, origins: dict[str, str],
            on_problem: Callable[[Problem], None] | None) -> tuple[Problem, ...]:
    """Each article the cluster refused, as a problem of the file it came from."""
    problems = tuple(Problem(origins.get(f.id, PUSHED), None, "refused",
                             f"the cluster refused {f.id} ({f.message})")
                     for f in outcome.failures)
    for problem in problems:
        if on_problem is not None:
            on_problem(problem)
    return problems


def _pushed(client, index: str, read_ids: set[str]) -> tuple[Article, ...]:
    """The live index's articles pushed through the API, but those the sources hold."""
    kept = aliases.scan(client, index, ["*"], {"term": {schema.ORIGIN: PUSHED}})
    return tuple(a for a in map(fields.article, kept) if a.id not in read_ids)


def held(client, index: str) -> tuple[dict[str, Indexed], Counter[str]]:
    """The id, fingerprint and origin of every article, and how it spells its sources."""
    indexed: dict[str, Indexed] = {}
    spellings: Counter[str] = Counter()
    for doc in aliases.scan(client, index, [schema.ID, schema.FINGERPRINT, schema.ORIGIN,
                                    schema.SOURCE]):
        indexed[doc[schema.ID]] = Indexed(doc.get(schema.FINGERPRINT, ""),
                                          doc.get(schema.ORIGIN, ""))
        spellings[doc.get(schema.SOURCE) or ""] += 1
    spellings.pop("", None)
    return indexed, spellings


def update(sources: Sequence[Path], location: Location, *,
           on_problem: Callable[[Problem], None] | None = None,
           progress: Progress | None = None) -> BuildReport:
    """Add and replace the articles of ``sources``; remove only what their files no longer
    hold (updates.py): one bulk on the live index, refreshed at the end."""
    started = time.perf_counter()
    corpus = indexer.read_sources(sources, on_problem)
    client = connection.client(location)
    with aliases.talking(location):
        index = aliases.require_live(client, location)
        indexed, spellings = held(client, index)
        corpus = dataclasses.replace(
            corpus, articles=one_spelling_per_source(corpus.articles, spellings))
        plan = plan_update(indexed, corpus, sources)
        doomed = [i for r in plan.removals for i in r.ids]
        problems: tuple[Problem, ...] = ()
        if plan.write or doomed:
            total = len(plan.write) + len(doomed)
            actions = [*bulk.deletes(index, doomed),
                       *bulk.upserts(index, plan.write, lambda a: corpus.origins.get(a.id, ""))]
            outcome = bulk.write(client, actions,
                                 progress=(lambda n: progress(n, total)) if progress else None)
            problems = _report(outcome, corpus.origins, on_problem)
        documents = _refreshed(client, index)
    return BuildReport(len(plan.write), time.perf_counter() - started,
                       corpus.problems + problems, index, added=plan.added,
                       changed=plan.changed, removed=plan.removed, moved=plan.moved,
                       skipped=indexer.skipped(corpus),
                       removals=plan.removals, spared=plan.spared, documents=documents)


def _refreshed(client, index: str) -> int:
    """Make the changes searchable, record the new count; return it."""
    client.indices.refresh(index=index)
    documents = aliases.count(client, index)
    recorded = aliases.meta(client, index)
    aliases.record(client, index, dataclasses.replace(recorded, built_at=store.now_iso(),
                                                      documents=documents))
    return documents


def delete(ids: Sequence[str], location: Location) -> BuildReport:
    """Remove the articles with these ids; report the ids the index did not hold."""
    started = time.perf_counter()
    wanted = tuple(dict.fromkeys(i.strip() for i in ids if i.strip()))
    client = connection.client(location)
    with aliases.talking(location):
        index = aliases.require_live(client, location)
        origins = {}
        for start in range(0, len(wanted), aliases.PAGE):
            chunk = list(wanted[start:start + aliases.PAGE])
            for doc in aliases.scan(client, index, [schema.ID, schema.ORIGIN],
                            {"terms": {schema.ID: chunk}}):
                origins[doc[schema.ID]] = doc.get(schema.ORIGIN, "")
        doomed = [i for i in wanted if i in origins]
        outcome = bulk.write(client, bulk.deletes(index, doomed)) if doomed else None
        documents = _refreshed(client, index)
    failed = {f.id for f in outcome.failures} if outcome else set()
    if failed:
        raise BuildError(f"{location}: the cluster did not delete {', '.join(sorted(failed))} "
                         f"({outcome.failures[0].message}); run the delete again.")
    by_origin: dict[str, list[str]] = {}
    for i in doomed:
        by_origin.setdefault(origins[i], []).append(i)
    removals = tuple(Removal(o, "deleted by id", tuple(v)) for o, v in sorted(by_origin.items()))
    return BuildReport(0, time.perf_counter() - started, (), index, removed=len(doomed),
                       removals=removals, unknown=tuple(i for i in wanted if i not in origins),
                       documents=documents)


def apply(location: Location, upserts: Sequence[Article], deletes: Sequence[str],
          origin: str = PUSHED) -> tuple[bulk.Failure, ...]:
    """Write pushed articles and removals; return once durable and searchable.

    ``refresh: wait_for`` answers when the change is visible to searches; the
    cluster acknowledges a write only once its translog is on disk. A rebuild
    loading meanwhile gets the change too, so that its swap does not lose it.
    """
    client = connection.client(location)
    with aliases.talking(location):
        targets = [aliases.require_live(client, location)]
        building = aliases.aliased(client, location.alias + aliases.BUILDING)
        targets += [i for i in building if i not in targets]
        failures: list[bulk.Failure] = []
        for n, index in enumerate(targets):
            outcome = bulk.write(client, [*bulk.deletes(index, deletes),
                                          *bulk.upserts(index, upserts, lambda a: origin)],
                                 refresh="wait_for")
            if n == 0:  # the live index is what the writer is answered about
                failures = list(outcome.failures)
    return tuple(failures)
