"""Describing an index: its articles, sections, sources, dates, size and generations."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from newssearch import schema, store
from newssearch.postings import open_index
from newssearch.schema import SCHEMA_VERSION


def outdated(index_dir: Path, sources: Sequence[Path]) -> str | None:
    """Say why the index should be built from ``sources``, or None to leave it as it is.

    An index built by an older schema is rebuilt only when it was built from these
    very sources (a demo index), never a user's own index behind their back.
    """
    live = store.current_generation(index_dir)
    if live is None:
        return f"No index in {index_dir} yet: building it."
    try:
        meta = store.IndexMeta.read(live)
    except (OSError, ValueError, KeyError):
        return None  # damaged: serving says so and how to rebuild
    if meta.schema_version == SCHEMA_VERSION:
        return None
    wanted = sorted(os.path.abspath(s) for s in sources)
    if sorted(os.path.abspath(s) for s in meta.sources) != wanted:
        return None
    names = ", ".join(str(s) for s in sources)
    return (f"The index in {index_dir} was built from {names} by an older newssearch "
            f"(schema {meta.schema_version}, this one reads {SCHEMA_VERSION}): rebuilding it.")


@dataclass(frozen=True)
class Generation:
    """One kept generation of the index."""

    name: str
    role: str  # "live" or "previous"
    documents: int
    built_at: str


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
    path: Path | str  # a directory, or a cluster location and its live index
    generations: tuple[Generation, ...] = ()


def stats(index_dir: Path) -> IndexStats:
    """Count documents, sections and sources, and measure the live index."""
    ix, generation, meta = open_index(index_dir)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        sections: Counter[str] = Counter()
        sources: Counter[str] = Counter()
        dates = []
        for _, fields in reader.iter_docs():
            sections[fields.get(schema.SECTION) or "—"] += 1
            sources[fields.get(schema.SOURCE) or "—"] += 1
            if schema.DATE in fields:
                dates.append(fields[schema.DATE])
        count = reader.doc_count()
    ix.close()
    size = sum(p.stat().st_size for p in generation.iterdir() if p.is_file())
    return IndexStats(count, tuple(sections.most_common()), tuple(sources.most_common()),
                      min(dates).date() if dates else None, max(dates).date() if dates else None,
                      size, meta.schema_version, meta.built_at, generation,
                      tuple(_generation(role, path) for role, path in store.generations(index_dir)))


def _generation(role: str, path: Path) -> Generation:
    try:
        meta = store.IndexMeta.read(path)
    except (OSError, ValueError, KeyError):
        return Generation(path.name, role + ", damaged", 0, "?")
    return Generation(path.name, role, meta.documents, meta.built_at)
