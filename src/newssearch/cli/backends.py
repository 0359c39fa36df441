"""One setting, two backends: each write command's call on a directory or on a cluster."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from newssearch import indexer, status, store
from newssearch.opensearch import aliases, cluster, connection
from newssearch.opensearch import status as cluster_status
from newssearch.opensearch.connection import Location
from newssearch.search import SearchService

Target = Path | Location


def service(target: Target) -> SearchService:
    """The search service of a directory or a cluster index."""
    return SearchService(target)


def outdated(target: Target, sources: Sequence[Path]) -> str | None:
    """Why `index --if-outdated` should build, or None (status.outdated)."""
    if isinstance(target, Location):
        return cluster_status.outdated(target, sources)
    return status.outdated(target, sources)


def built(target: Target) -> bool:
    """Whether the target holds a live index at all."""
    if isinstance(target, Location):
        with aliases.talking(target):
            return aliases.live(connection.client(target), target) is not None
    return store.current_generation(target) is not None


def rebuild(sources, target: Target, *, wait: float, procs: int, shards: int,
            replicas: int, **kwargs) -> indexer.BuildReport:
    if isinstance(target, Location):
        return cluster.rebuild(sources, target, shards=shards, replicas=replicas, **kwargs)
    return indexer.rebuild(sources, target, wait=wait, procs=procs, **kwargs)


def update(sources, target: Target, *, wait: float, **kwargs) -> indexer.BuildReport:
    if isinstance(target, Location):
        return cluster.update(sources, target, **kwargs)
    return indexer.update(sources, target, wait=wait, **kwargs)


def delete(ids: Sequence[str], target: Target, *, wait: float) -> indexer.BuildReport:
    if isinstance(target, Location):
        return cluster.delete(ids, target)
    return indexer.delete(ids, target, wait=wait)


def rollback(target: Target, *, wait: float
             ) -> tuple[str, store.IndexMeta, str, store.IndexMeta]:
    """Put the previous index back; return (restored, its meta, replaced, its meta)."""
    if isinstance(target, Location):
        rolled = aliases.rollback(target)
        return rolled.restored, rolled.restored_meta, rolled.replaced, rolled.replaced_meta
    restored, replaced = indexer.rollback(target, wait=wait)
    return (restored.name, store.IndexMeta.read(restored), replaced.name,
            store.IndexMeta.read(replaced))


def stats(target: Target) -> status.IndexStats:
    if isinstance(target, Location):
        return cluster_status.stats(target)
    return status.stats(target)
