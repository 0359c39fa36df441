"""Reading the article files of some sources (files and directories) into a corpus."""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from pathlib import Path

from newssearch.articles import Article, Corpus, Filed, OnProblem, Problem, one_spelling_per_source
from newssearch.formats import article_kind, os_problem, read_units, scan_json_lines


def load_corpus(sources: Sequence[Path], on_problem: OnProblem | None = None,
                known: Mapping[str, Filed] | None = None) -> Corpus:
    """Read the articles in files and directories, skipping and reporting bad input.

    Each problem goes to on_problem as it is found and into Corpus.problems; files counts
    the files that gave at least one article. ``known`` gives, by file, the lines (or
    whole files) not to parse again, and the ids of the articles they stand for
    (ledger.py): those go into Corpus.kept instead of Corpus.articles.
    """
    problems: list[Problem] = []

    def report(problem: Problem) -> None:
        problems.append(problem)
        if on_problem is not None:
            on_problem(problem)

    read = _Read(report)
    visited: list[str] = []
    stats: dict[str, tuple[int, ...] | None] = {}
    files = 0
    for path in iter_article_files(sources, report):
        name = str(path)
        visited.append(origin := os.path.abspath(path))
        filed, read_at = (known or {}).get(origin), time.time_ns()
        now = file_stat(path)
        if filed is not None and filed.whole is not None and unchanged(filed.stat, now):
            stats[origin] = filed.stat
            read.file(origin, name, filed.whole, [])
        else:
            stats[origin] = (*now, read_at) if now is not None else None
            _read_file(read, path, origin, report, filed.units() if filed is not None else {})
        files += origin in read.units
    articles = read.articles
    parsed = tuple(a for a in articles.values() if a is not None)
    return Corpus(one_spelling_per_source(parsed), tuple(problems), files, read.origins,
                  tuple(visited), read.units,
                  tuple(i for i, a in articles.items() if a is None), stats)


def _read_file(read: _Read, path: Path, origin: str, report: OnProblem,
               unread: Mapping[str, tuple[str, ...]]) -> None:
    """Read one file, but the lines (or the file) whose digests are ``unread``."""
    name = str(path)
    if (scanned := scan_json_lines(path, report, unread) if unread else None) is not None:
        digests, parsed = scanned
        read.file(origin, name, [(n, u, unread[u][0]) for n, u in enumerate(digests, 1)
                                 if u in unread], parsed)
        return
    for line, unit, article in read_units(path, report, unread):
        for article_id in unread[unit] if article is None else (article.id,):
            read.add(origin, name, line, unit, article, article_id)


class _Read:
    """The articles read so far, by id (None for those not parsed), in reading order."""

    def __init__(self, report: OnProblem):
        self.report = report
        self.articles: dict[str, Article | None] = {}  # a key assigned again keeps its place
        self.places: dict[str, tuple[str, int | None]] = {}
        self.origins: dict[str, str] = {}
        self.units: dict[str, tuple[list[str], list[int | None], list[str]]] = {}

    def add(self, origin: str, name: str, line: int | None, unit: str,
            article: Article | None, article_id: str) -> None:
        if article_id in self.articles:
            where, at = self.places[article_id]
            self.report(Problem(name, line, "duplicate-id", f"duplicate id {article_id!r}: "
                                f"this article replaces the one read at "
                                f"{f'{where}:{at}' if at else where}"))
        self.articles[article_id] = article
        self.places[article_id] = (name, line)
        self.origins[article_id] = origin
        units, lines, ids = self.units.setdefault(origin, ([], [], []))
        units.append(unit)
        lines.append(line)
        ids.append(article_id)

    def file(self, origin: str, name: str, unread: Sequence[tuple[int | None, str, str]],
             parsed: Sequence[tuple[int | None, str, Article]]) -> None:
        """One file's (line, digest, id) not parsed and (line, digest, article) parsed.

        At C speed where no id among them is read twice (their order cannot matter then);
        else one by one, in line order.
        """
        ids = [i for _, _, i in unread] + [a.id for _, _, a in parsed]
        if len(set(ids)) < len(ids) or not self.articles.keys().isdisjoint(ids):
            merged = sorted([(n, u, None, i) for n, u, i in unread]
                            + [(n, u, a, a.id) for n, u, a in parsed], key=lambda x: x[0] or 0)
            for line, unit, article, article_id in merged:
                self.add(origin, name, line, unit, article, article_id)
            return
        self.articles.update(dict.fromkeys([i for _, _, i in unread]))
        self.articles.update((a.id, a) for _, _, a in parsed)
        lines = [n for n, _, _ in unread] + [n for n, _, _ in parsed]
        self.places.update(zip(ids, zip(repeat(name), lines), strict=False))
        self.origins.update(dict.fromkeys(ids, origin))
        units, numbers, known = self.units.setdefault(origin, ([], [], []))
        units.extend([u for _, u, _ in unread] + [u for _, u, _ in parsed])
        numbers.extend(lines)
        known.extend(ids)


# A file changed within this long of its reading may keep the times it was read with.
_RACY_NS = 2_000_000_000


def file_stat(path: Path) -> tuple[int, ...] | None:
    """What tells a file changed: size, modification and change times, inode, device."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


def unchanged(then: tuple[int, ...] | None, now: tuple[int, ...] | None) -> bool:
    """Whether a file is as it was read (``then`` ends with when it was read): same size,
    times and inode, and its last change not so close to the reading that a change
    right after it could have kept the same times (as git does for racy files)."""
    if then is None or now is None or len(then) != len(now) + 1 or tuple(then[:-1]) != now:
        return False
    return max(now[1], now[2]) + _RACY_NS < then[-1]


def iter_article_files(sources: Sequence[Path], on_problem: OnProblem) -> Iterator[Path]:
    """Yield the article files in the sources, walking directories in name order."""
    seen: set[tuple[int, int]] = set()  # (device, inode) of the files and directories met
    for source in sources:
        yield from _visit(Path(source), seen, {}, on_problem, named=True)


def _visit(path: Path, seen: set[tuple[int, int]], ancestors: dict[tuple[int, int], Path],
           on_problem: OnProblem, named: bool = False) -> Iterator[Path]:
    try:
        info = path.stat()
    except OSError as exc:  # missing, unreadable, or a dangling or looping link
        if named or exc.errno == errno.ELOOP or article_kind(path):
            on_problem(os_problem(path, exc))
        return
    key = (info.st_dev, info.st_ino)
    if stat.S_ISDIR(info.st_mode) and key in ancestors:
        on_problem(Problem(str(path), None, "symlink-loop",
                           f"symbolic link loops back to {ancestors[key]}; not followed"))
    elif stat.S_ISDIR(info.st_mode) and key not in seen:
        seen.add(key)
        try:
            names = sorted(os.listdir(path))
        except OSError as exc:
            on_problem(os_problem(path, exc))
            return
        ancestors = {**ancestors, key: path}
        for name in names:
            # Hidden entries are version-control and editor files; a README describes the rest.
            if not name.startswith(".") and name.lower() != "readme.md":
                yield from _visit(path / name, seen, ancestors, on_problem)
    elif stat.S_ISREG(info.st_mode) and article_kind(path):
        if key not in seen:  # a file named twice, or linked, is read once
            seen.add(key)
            yield path
    elif named and not stat.S_ISDIR(info.st_mode):
        on_problem(Problem(str(path), None, "unsupported", "not an article file: "
                           "expected .txt, .md, .json, .jsonl or .jsonl.gz"))
