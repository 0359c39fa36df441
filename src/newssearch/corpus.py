"""Reading the article files of some sources (files and directories) into a corpus."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from newssearch.articles import Article, Corpus, OnProblem, Problem, one_spelling_per_source
from newssearch.formats import article_kind, os_problem, read_article_file


def load_corpus(sources: Sequence[Path], on_problem: OnProblem | None = None) -> Corpus:
    """Read the articles in files and directories, skipping and reporting bad input.

    Each problem goes to on_problem as it is found and into Corpus.problems; files counts
    the files that gave at least one article.
    """
    problems: list[Problem] = []

    def report(problem: Problem) -> None:
        problems.append(problem)
        if on_problem is not None:
            on_problem(problem)

    articles: dict[str, Article] = {}  # assigning an existing key keeps its first position
    places: dict[str, str] = {}
    files = 0
    visited: list[str] = []
    origins: dict[str, str] = {}
    for path in iter_article_files(sources, report):
        found = False
        visited.append(origin := os.path.abspath(path))
        for line, article in read_article_file(path, report):
            if article.id in articles:
                report(Problem(str(path), line, "duplicate-id",
                               f"duplicate id {article.id!r}: this article replaces "
                               f"the one read at {places[article.id]}"))
            articles[article.id] = article
            places[article.id] = f"{path}:{line}" if line else str(path)
            origins[article.id] = origin
            found = True
        files += found
    return Corpus(one_spelling_per_source(tuple(articles.values())), tuple(problems), files,
                  origins, tuple(visited))


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
