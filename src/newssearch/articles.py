"""Article records, the problems met reading them, and one name per source."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

_APOSTROPHES = str.maketrans("’‘ʼ", "'''")
# Quotes, dots, dashes and colons around a source name are typing, not the name: "Canal+",
# "Salut les Terriens !" or "Media365 (vidéo)" keep theirs.
_SOURCE_EDGES = " «»\"“”„‹›'.,;:-–—"
_SOURCE_PREFIX = re.compile(r"source(?:\s*:|\s|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    """One news article as read from a source file."""

    id: str
    title: str
    body: str
    lede: str = ""
    date: date | None = None
    url: str = ""
    source: str = ""
    section: str = ""
    tags: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """Return a digest of everything indexed, to detect changed articles."""
        parts = (self.title, self.lede, self.body, str(self.date or ""), self.url,
                 self.source, self.section, "\x1f".join(self.tags))
        return hashlib.sha1("\x1e".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Problem:
    """A piece of input that was skipped (or overridden), and why."""

    path: str
    line: int | None
    reason: str  # short code, e.g. "undecodable", "binary", "empty", "bad-json"
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Corpus:
    """The articles read from some sources, deduplicated by id, and what was skipped."""

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]
    files: int
    # The absolute path of the file each article was read from, by id, and every
    # article file visited (even those that gave none): what an update may delete.
    origins: dict[str, str] = field(default_factory=dict)
    visited: tuple[str, ...] = ()
    # By file, every article read from it, in order, as parallel lists of the digests of
    # their lines or file, their lines and their ids: what the ledger files (ledger.py).
    units: dict[str, tuple[list[str], list[int | None], list[str]]] = field(
        default_factory=dict)
    # Articles the ledger showed unchanged: in origins, not parsed, so not in articles.
    kept: tuple[str, ...] = ()
    # By file, its corpus.file_stat when it was read (or, if it was not, when it last was).
    stats: dict[str, tuple[int, ...] | None] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Filed:
    """What an update need not read of one file again (ledger.py): the ids each digest of
    a line or file gave; where the whole file may be skipped, its (line, digest, id)
    entries, and the file_stat it must still have."""

    stat: tuple[int, ...] | None
    units: Callable[[], Mapping[str, tuple[str, ...]]]  # built only for a file read again
    whole: tuple[tuple[int | None, str, str], ...] | None


OnProblem = Callable[[Problem], None]


def source_name(raw: str) -> str:
    """Return a source's name without the "Source :" typed before it, quotes or dots.

    ``Source : L'Opinion``, ``source L'Opinion``, ``L'Opinion.`` and ``« L’Opinion »`` are all
    ``L'Opinion``; the case is kept (load_corpus picks one spelling per corpus).
    """
    name = " ".join(raw.translate(_APOSTROPHES).split()).strip(_SOURCE_EDGES)
    if match := _SOURCE_PREFIX.match(name):
        name = name[match.end():].strip(_SOURCE_EDGES)
    return name


def _source_key(name: str) -> str:
    """Fold case and accents: ``6Médias`` and ``6medias`` are one source."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def one_spelling_each(names: Iterable[str]) -> bool:
    """Whether no two of these source names are spellings of one source."""
    keys = [_source_key(n) for n in names if n]
    return len(keys) == len(set(keys))


def one_spelling_per_source(articles: tuple[Article, ...],
                            known: Mapping[str, int] | None = None) -> tuple[Article, ...]:
    """Give each source the spelling most of its articles have (ties: code-point order).

    One article cannot tell ``AFP`` from ``afp``; the corpus can, and so the index, its facets
    and its stats hold one name per source. ``known`` counts the spellings an index already
    holds: they win, so that an update of a few articles keeps the index's spelling.
    """
    spellings: dict[str, list[tuple[int, int, str]]] = {}
    for name, count in Counter(a.source for a in articles if a.source).items():
        spellings.setdefault(_source_key(name), []).append((1, -count, name))
    for name, count in (known or {}).items():
        if name:
            spellings.setdefault(_source_key(name), []).append((0, -count, name))
    chosen = {name: min(group)[2] for group in spellings.values() for *_, name in group}
    return tuple(a if chosen.get(a.source, a.source) == a.source
                 else replace(a, source=chosen[a.source]) for a in articles)
