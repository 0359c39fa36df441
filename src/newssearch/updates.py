"""What an update may change: articles read are added or replaced, and an article is
removed only when the file it came from says so.

An update holds the authority of the files it read, and of nothing else. An
article leaves the index when the file it was read from was read again, in full,
and no longer holds it, or when that file has gone from a directory that was read
again. Articles from any other file, and those of a file that could not be read
in full (a bad line may be the very article), are kept.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from newssearch.articles import Article, Corpus

# Problems that flag a record but keep it: the file was still read in full.
FLAGGED_ONLY = frozenset({"bad-field", "bad-url", "bad-date", "duplicate-id"})

NOT_IN_FILE = "no longer in the file"
FILE_GONE = "the file is gone"


@dataclass(frozen=True)
class Indexed:
    """What the index holds of one article."""

    fingerprint: str
    origin: str


@dataclass(frozen=True)
class Removal:
    """Articles an update removes from one source file, and why."""

    origin: str
    why: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Spared:
    """Articles kept although their file was read again, because it was not read in full."""

    origin: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class UpdatePlan:
    """The articles to write and the articles to remove."""

    write: tuple[Article, ...]
    added: int
    # Read, unchanged, from another file than before: rewritten so that its new file
    # is the one with authority over it.
    moved: int
    removals: tuple[Removal, ...]
    spared: tuple[Spared, ...]

    @property
    def removed(self) -> int:
        return sum(len(r.ids) for r in self.removals)

    @property
    def changed(self) -> int:
        return len(self.write) - self.added - self.moved


def plan_update(indexed: Mapping[str, Indexed], corpus: Corpus,
                sources: Sequence[Path]) -> UpdatePlan:
    """Decide what an update of the index with ``corpus``, read from ``sources``, does."""
    write = tuple(a for a in corpus.articles
                  if indexed.get(a.id) != Indexed(a.fingerprint(), corpus.origins.get(a.id, "")))
    added = sum(a.id not in indexed for a in write)
    moved = sum(a.id in indexed and indexed[a.id].fingerprint == a.fingerprint() for a in write)
    incomplete = {os.path.abspath(p.path) for p in corpus.problems
                  if p.reason not in FLAGGED_ONLY}
    visited = set(corpus.visited)
    complete = visited - incomplete
    directories = _directories(sources)
    removed: dict[tuple[str, str], list[str]] = {}
    spared: dict[str, list[str]] = {}
    for article_id, held in indexed.items():
        if article_id in corpus.origins:
            continue
        origin = held.origin
        if origin in complete:
            removed.setdefault((origin, NOT_IN_FILE), []).append(article_id)
        elif origin in visited:
            spared.setdefault(origin, []).append(article_id)
        elif origin.startswith(directories) and not os.path.lexists(origin):
            removed.setdefault((origin, FILE_GONE), []).append(article_id)
    return UpdatePlan(
        write, added, moved,
        tuple(Removal(o, why, tuple(sorted(ids))) for (o, why), ids in sorted(removed.items())),
        tuple(Spared(o, tuple(sorted(ids))) for o, ids in sorted(spared.items())))


def in_reach(corpus: Corpus, sources: Sequence[Path]) -> Callable[[str], bool]:
    """Whether an update of ``corpus`` (read from ``sources``) may remove or spare the
    articles of a file: only of one it read, or one under a directory it read. What the
    index holds from other files, it neither needs nor reads."""
    visited, directories = frozenset(corpus.visited), _directories(sources)
    return lambda origin: origin in visited or origin.startswith(directories)


def _directories(sources: Sequence[Path]) -> tuple[str, ...]:
    return tuple(os.path.join(os.path.abspath(s), "") for s in sources if Path(s).is_dir())
