"""What an update need not read again: each source line (or file) last read, filed by
the digest of its bytes under the article it gave.

A rebuild or an update writes the ledger of its generation: every article the
index holds from a file, by file, with its line and the digest of that line (JSON
lines) or of the file (other kinds), or no digest where the line had a problem
(it is read again each time, so that the problem is reported again). A later
update parses only the lines whose digest the ledger does not hold for that file:
the others would be read, compared with the index and left as they are. A file
whose size, times and inode are those it was read with, and that had no problem,
is not even read. The ledger also gives the update the articles it may remove, so
that it does not read every article of the index either.

Pushed writes and deletes do not rewrite the ledger: they add the ids they
changed to the generation's list of touched ids, whose entries no longer count.
A generation without a ledger (or with one this version cannot read) is updated
by reading everything, and gets one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from newssearch.articles import Corpus, Filed

LEDGER = "ledger.json"
TOUCHED = "ledger-touched.json"
VERSION = 1


@dataclass(frozen=True)
class FileLedger:
    """One file's entries, as parallel tuples, and how it was when it was read."""

    units: tuple[str, ...]  # "" where the line is to be read again
    ids: tuple[str, ...]
    lines: tuple[int | None, ...]
    stat: tuple[int, ...] | None  # corpus.file_stat, and when the file was read
    clean: bool  # every line read gave its article, with no problem


@dataclass(frozen=True)
class Ledger:
    """Each source file's entries, by absolute path; the ids changed since by pushed
    writes and deletes."""

    files: Mapping[str, FileLedger]
    touched: frozenset[str] = frozenset()
    # Whoosh's generation of the index it describes (its TOC number): an index changed
    # without a word to the ledger (by an older newssearch) shows another, and is read.
    toc: int = -1

    @classmethod
    def read(cls, generation: Path) -> Ledger | None:
        """The generation's ledger; None where it has none, or one this version cannot read."""
        try:
            data = json.loads((Path(generation) / LEDGER).read_text("utf-8"))
            if data.get("version") != VERSION:
                return None
            touched, toc = _read_touched(Path(generation))
            return cls({origin: _file_ledger(f) for origin, f in data["files"].items()},
                       touched, int(data["toc"]) if toc is None else toc)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def write(self, generation: Path, toc: int) -> None:
        """Write it as the ledger of the generation (whose TOC number is ``toc``), with no
        touched ids. The files are new (renamed into place): the old ones may be links
        to another generation's."""
        data = {"version": VERSION, "toc": toc,
                "files": {o: {"units": f.units, "ids": f.ids, "lines": f.lines,
                              "stat": f.stat, "clean": f.clean}
                          for o, f in self.files.items()}}
        _write_json(Path(generation) / LEDGER, data)
        (Path(generation) / TOUCHED).unlink(missing_ok=True)

    def known(self) -> Mapping[str, Filed]:
        """By file, what need not be read again (corpus.load_corpus); worked out only for
        the files asked for, since an update may read one file of many."""
        return _Known(self)

    def _filed(self, f: FileLedger) -> Filed:
        stale = {u for u, i in zip(f.units, f.ids, strict=True) if i in self.touched} \
            if self.touched else set()
        whole = f.clean and not stale and f.stat is not None
        return Filed(f.stat, functools.partial(_units, f, stale),
                     tuple(zip(f.lines, f.units, f.ids, strict=True)) if whole else None)

    def origins(self, wanted: Callable[[str], bool] | None = None) -> dict[str, str]:
        """The file of every article the index holds from one (touched ones aside), or
        from the ``wanted`` files."""
        found: dict[str, str] = {}
        for origin, f in self.files.items():
            if wanted is None or wanted(origin):
                found.update(dict.fromkeys(f.ids, origin))
        for article_id in self.touched:
            found.pop(article_id, None)
        return found

    def without(self, ids: Collection[str]) -> dict[str, FileLedger]:
        """The entries, by file, but those of these ids and of the touched ones."""
        gone = self.touched.union(ids)
        return {o: f if gone.isdisjoint(f.ids)  # the common case, at C speed
                else _keep(f, lambda i: i not in gone) if not gone.issuperset(f.ids)
                else FileLedger((), (), (), f.stat, False) for o, f in self.files.items()}


class _Known(Mapping[str, Filed]):
    """Ledger.known(): each file's Filed, made when it is asked for."""

    def __init__(self, ledger: Ledger):
        self._ledger = ledger

    def __getitem__(self, origin: str) -> Filed:
        return self._ledger._filed(self._ledger.files[origin])

    def __iter__(self):
        return iter(self._ledger.files)

    def __len__(self) -> int:
        return len(self._ledger.files)


def touch(generation: Path, ids: Iterable[str], toc: int) -> None:
    """Note that these articles changed (a pushed write, a delete) in a generation made
    from one with a ledger, now at TOC number ``toc``: their entries no longer say what
    the index holds."""
    generation = Path(generation)
    if not (generation / LEDGER).exists():
        return
    try:
        touched = _read_touched(generation)[0] | set(ids)
    except (OSError, ValueError, TypeError, KeyError):  # damaged: no ledger is the safe answer
        (generation / LEDGER).unlink()
        return
    _write_json(generation / TOUCHED, {"toc": toc, "ids": sorted(touched)})


def of_corpus(corpus: Corpus, held: Mapping[str, FileLedger],
              removed: Collection[str] = ()) -> Ledger:
    """The ledger after writing ``corpus``: the entries ``held`` by file (for articles not
    read) but the ``removed``, then every article read, under its winning unit."""
    gone = set(removed)
    if gone:
        held = {o: _keep(f, lambda i: i not in gone) for o, f in held.items()}
    troubled = {(os.path.abspath(p.path), p.line) for p in corpus.problems}
    unclean = {path for path, _ in troubled}
    read: dict[str, tuple[list[str], list[str], list[int | None]]]
    if not troubled and sum(len(ids) for _, _, ids in corpus.units.values()) == len(
            corpus.origins):  # every article read once, with no problem: filed as read
        read = {o: (units, ids, lines) for o, (units, lines, ids) in corpus.units.items()}
    else:
        read = _winners(corpus, troubled, unclean)
    # A file read again that gave nothing keeps only what was spared, never to be skipped.
    files = {o: f if o not in corpus.stats else dataclasses.replace(f, clean=False)
             for o, f in held.items() if f.ids and o not in read}
    for origin, (units, ids, lines) in read.items():
        before = held.get(origin)
        spared = before is not None and bool(before.ids)  # kept although not read
        if spared:
            units, ids, lines = [*before.units, *units], [*before.ids, *ids], \
                [*before.lines, *lines]
        clean = not spared and origin not in unclean and "" not in units
        files[origin] = FileLedger(tuple(units), tuple(ids), tuple(lines),
                                   corpus.stats.get(origin), clean)
    return Ledger(files)


def _winners(corpus: Corpus, troubled: set[tuple[str, int | None]], unclean: set[str]
             ) -> dict[str, tuple[list[str], list[str], list[int | None]]]:
    """By file, the articles that won their ids, with no digest where a problem or a lost
    id means the line (or file) is to be read again; files with either are unclean."""
    flat = [(o, u, line, i) for o, (units, lines, ids) in corpus.units.items()
            for u, line, i in zip(units, lines, ids, strict=True)]
    last = {article_id: (origin, unit, line) for origin, unit, line, article_id in flat}
    lost = {(origin, unit) for origin, unit, line, article_id in flat
            if last[article_id] != (origin, unit, line)}
    unclean.update(origin for origin, _ in lost)
    read: dict[str, tuple[list[str], list[str], list[int | None]]] = {}
    for article_id, (origin, unit, line) in last.items():
        if (origin, line) in troubled or (origin, unit) in lost \
                or (line is None and origin in unclean):
            unit = ""
        units, ids, lines = read.setdefault(origin, ([], [], []))
        units.append(unit)
        ids.append(article_id)
        lines.append(line)
    return read


def _units(f: FileLedger, stale: set[str]) -> dict[str, tuple[str, ...]]:
    """The ids each digest of the file gave, but stale ones."""
    # At C speed where each digest gives one article (every line of a JSON lines file).
    units = dict(zip(f.units, zip(f.ids), strict=True))
    if stale or len(units) + max(f.units.count("") - 1, 0) != len(f.units):
        grouped: dict[str, list[str]] = {}
        for unit, article_id in zip(f.units, f.ids, strict=True):
            if unit not in stale:
                grouped.setdefault(unit, []).append(article_id)
        units = {u: tuple(v) for u, v in grouped.items()}
    units.pop("", None)
    return units


def _keep(f: FileLedger, wanted) -> FileLedger:
    kept = [e for e in zip(f.units, f.ids, f.lines, strict=True) if wanted(e[1])]
    if len(kept) == len(f.ids):
        return f
    units, ids, lines = map(tuple, zip(*kept, strict=True)) if kept else ((), (), ())
    return FileLedger(units, ids, lines, f.stat, False)


def _file_ledger(data: dict) -> FileLedger:
    units, ids, lines = tuple(data["units"]), tuple(data["ids"]), tuple(data["lines"])
    stat = tuple(data["stat"]) if data["stat"] is not None else None
    if not (len(units) == len(ids) == len(lines) and isinstance(data["clean"], bool)):
        raise ValueError("entries of unequal lengths")
    return FileLedger(units, ids, lines, stat, data["clean"])


def _read_touched(generation: Path) -> tuple[frozenset[str], int | None]:
    """The ids touched since the ledger was written, and the TOC number they bring it to."""
    try:
        data = json.loads((generation / TOUCHED).read_text("utf-8"))
    except FileNotFoundError:
        return frozenset(), None
    return frozenset(data["ids"]), int(data["toc"])


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        # dumps, not dump: only dumps has the C encoder (dump took 4 s for 336,840 entries).
        f.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
