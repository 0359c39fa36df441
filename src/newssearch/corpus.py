"""Article records and reading article files (txt, md, json, jsonl, jsonl.gz)."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import re
import stat
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path


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


OnProblem = Callable[[Problem], None]
Here = partial[Problem]  # a Problem with its path and line filled in

# Longest suffix first, so that "x.jsonl.gz" is not taken for something else.
_KINDS = ((".jsonl.gz", "jsonl"), (".jsonl", "jsonl"), (".json", "json"),
          (".txt", "text"), (".md", "text"))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
# json.loads turns "\ud800" into a lone surrogate, which UTF-8 cannot encode later.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BLANK_LINE = re.compile(r"\n\s*\n")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SAFE_ID = re.compile(r"[A-Za-z0-9._~-]{1,200}")
_HEADING = re.compile(r"^#+(?:\s+|$)")
_UPPER = "A-ZÀ-ÖØ-ÞŒŸ"
_RUBRIC = re.compile(rf"(?P<rubric>[{_UPPER}]+(?:[ '’-][{_UPPER}]+)*)\s+[-–—]\s+(?=\S)")
_RELATED = re.compile(
    r"(?:[àa]\s+voir\s+[ée]galement|voir\s+aussi|(?:[àa]\s+)?lire\s+aussi)\b", re.IGNORECASE)
# « À voir également sur Le HuffPost : » names a site; "sur notre site", "sur le même sujet" do not.
_RELATED_SITE = re.compile(rf"(?i:{_RELATED.pattern})\s+(?i:sur)\s+(?P<site>(?i:(?:le|la|les)\s+"
                           rf"|l['’])?[{_UPPER}0-9][^:\n,;!?«»]{{0,59}}?)\s*(?::|\Z)")
_APOSTROPHES = str.maketrans("’‘ʼ", "'''")
# Quotes, dots, dashes and colons around a source name are typing, not the name: "Canal+",
# "Salut les Terriens !" or "Media365 (vidéo)" keep theirs.
_SOURCE_EDGES = " «»\"“”„‹›'.,;:-–—"
_SOURCE_PREFIX = re.compile(r"source(?:\s*:|\s|$)", re.IGNORECASE)
# Paragraphs after a "Lire aussi" that are all this short are link titles, not article text.
_LINK_MAX = 300
# Fifty times the longest news article of our corpus (about 20,000): such a
# file is a book, a dump or a mistake, and would slow every search that hits it.
MAX_ARTICLE_CHARS = 1_000_000
_JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean",
               list: "an array", dict: "an object"}
_INVALID = object()


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


def article_kind(path: Path) -> str | None:
    """Return "text", "json" or "jsonl" for an article file name, None for others."""
    name = path.name.lower()
    return next((kind for suffix, kind in _KINDS
                 if name.endswith(suffix) and len(name) > len(suffix)), None)


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
            on_problem(_os_problem(path, exc))
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
            on_problem(_os_problem(path, exc))
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


def _os_problem(path: Path, exc: OSError) -> Problem:
    if exc.errno == errno.ELOOP:
        return Problem(str(path), None, "symlink-loop", "symbolic link loops; not followed")
    if isinstance(exc, FileNotFoundError):
        return Problem(str(path), None, "missing", "no such file or directory")
    return Problem(str(path), None, "unreadable", f"cannot read: {exc.strerror or exc}")


def read_article_file(path: Path, on_problem: OnProblem) -> Iterator[tuple[int | None, Article]]:
    """Yield (line number or None, article) for each article in one file."""
    here, kind, broken = partial(Problem, str(path), None), article_kind(path), None
    try:
        if path.name.lower().endswith(".gz"):
            data, broken = _read_gzip(path)
        else:
            data = path.read_bytes()
    except OSError as exc:
        on_problem(_os_problem(path, exc))
        return
    # A gzip broken before its first line is not an empty file: only the damage is reported.
    text = _decode(here, data, on_problem) if data or not broken else None
    if text is not None and kind in ("json", "jsonl"):
        for line, where, value in _records(str(path), text, kind, on_problem):
            record_here = partial(Problem, str(path), line)
            if (article := _record_article(record_here, where, value, on_problem)) is not None:
                yield line, article
    elif text is not None and (article := _text_article(path, text, on_problem)) is not None:
        yield None, article
    if broken:
        lines = data.count(b"\n")
        on_problem(Problem(str(path), lines + 1, "bad-gzip", f"gzip data is corrupt or truncated "
                           f"({broken}); kept the {lines} lines before it, skipped the rest"))


def _read_gzip(path: Path) -> tuple[bytes, str | None]:
    """Decompress what can be, returning the complete lines and what stopped it."""
    chunks: list[bytes] = []
    with open(path, "rb") as raw:
        try:
            with gzip.GzipFile(fileobj=raw) as stream:
                # read1 decompresses one buffer at a time, so corruption loses only its part.
                while chunk := stream.read1(1 << 16):
                    chunks.append(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            data = b"".join(chunks)
            return data[: data.rfind(b"\n") + 1], str(exc) or type(exc).__name__
    return b"".join(chunks), None


def _decode(here: Here, data: bytes, on_problem: OnProblem) -> str | None:
    """Return the text of UTF-8 data, or report why it is skipped; never guess an encoding."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        problem = here("undecodable", "file is UTF-16 (byte-order mark); save it as UTF-8")
    elif b"\x00" in data[:8192]:
        problem = here("binary", "NUL bytes in the first 8 KB: this is not a text file")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            problem = here("undecodable", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at "
                                          f"offset {exc.start}); convert the file to UTF-8")
        else:
            if text.strip():
                return text
            problem = here("empty", "file is empty")
    on_problem(problem)
    return None


def _clean(text: str) -> str:
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SURROGATE.sub("\ufffd", text)
    # The check is much faster than normalize on text that is already NFC, as most is.
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _paragraphs(text: str) -> str:
    return "\n\n".join(p for p in (part.strip() for part in _BLANK_LINE.split(text)) if p)


def _text_article(path: Path, text: str, on_problem: OnProblem) -> Article | None:
    title, _, rest = _clean(text).strip().partition("\n")
    paragraphs = _paragraphs(rest).split("\n\n")
    section = ""
    if (match := _RUBRIC.match(paragraphs[0])) and len(match["rubric"]) >= 3:
        section = match["rubric"].lower()
        paragraphs[0] = paragraphs[0][match.end():]
    kept, site = _cut_related(paragraphs)
    fields = {"title": _HEADING.sub("", title), "body": "\n\n".join(kept), "section": section,
              "source": site}
    return _article(path.stem, fields, partial(Problem, str(path), None), on_problem)


def _cut_related(paragraphs: list[str]) -> tuple[list[str], str]:
    """Cut the trailing related-links block, and lone "Lire aussi" lines mid-article.

    Also return the site the block's first line names (« À voir également sur Le HuffPost »).
    """
    marks = {i for i, p in enumerate(paragraphs) if _RELATED.match(p)}
    end = min((i for i in marks if all(len(p) <= _LINK_MAX for p in paragraphs[i + 1:])),
              default=len(paragraphs))
    named = _RELATED_SITE.match(paragraphs[end]) if end < len(paragraphs) else None
    kept = [p for i, p in enumerate(paragraphs[:end]) if i not in marks and p]
    return kept, named["site"] if named else ""


def _records(path: str, text: str, kind: str, on_problem: OnProblem
             ) -> Iterator[tuple[int | None, str, object]]:
    """Yield (line, what it is, JSON value) for each record of a .json or .jsonl text."""
    if kind == "json":
        value = _parse_json(partial(Problem, path, None), text, on_problem)
        if value == []:
            on_problem(Problem(path, None, "empty", "file holds an empty list"))
        if isinstance(value, list):
            yield from ((None, f"item {n} of the list", item) for n, item in enumerate(value, 1))
        elif value is not _INVALID:
            yield None, "the file", value
        return
    # Only "\n" ends a record: str.splitlines would also split at U+2028 inside strings.
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            value = _parse_json(partial(Problem, path, number), line, on_problem)
            if value is not _INVALID:
                yield number, "the line", value


def _parse_json(here: Here, text: str, on_problem: OnProblem) -> object:
    try:
        return json.loads(text, strict=False)  # control characters in strings are cleaned
    except RecursionError:
        on_problem(here("bad-json", "JSON is nested too deeply"))
    except json.JSONDecodeError as exc:
        line = here.args[1] or exc.lineno  # in a .json file, where the error is
        on_problem(Problem(here.args[0], line, "bad-json",
                           f"not valid JSON: {exc.msg} (column {exc.colno})"))
    except ValueError as exc:  # e.g. an integer too long to convert
        on_problem(here("bad-json", f"not valid JSON: {exc}"))
    return _INVALID


def _record_article(here: Here, where: str, record: object,
                    on_problem: OnProblem) -> Article | None:
    if not isinstance(record, dict):
        kind = _JSON_TYPES.get(type(record), "null")
        on_problem(here("bad-record", f"{where} holds {kind}, not an article object"))
        return None

    def text(value: object, name: str) -> str:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return _clean(str(value))
        if value is not None:
            message = f"field {name!r} is {_JSON_TYPES.get(type(value))}, not a string; ignored"
            on_problem(here("bad-field", message))
        return ""

    fields = {name: text(record.get(name), name)
              for name in ("title", "lede", "body", "url", "source", "section")}
    tags = record.get("tags") or []
    tags = tags.split(",") if isinstance(tags, str) else tags
    if not isinstance(tags, list):
        tags = [text(tags, "tags")]
    fields.update(body=_paragraphs(fields["body"] or text(record.get("text"), "text")),
                  lede=_paragraphs(fields["lede"]), section=fields["section"].lower(),
                  tags=tuple(dict.fromkeys(filter(None, (text(t, "tags").strip() for t in tags)))),
                  date=_date(here, record, on_problem))
    return _article(text(record.get("id"), "id"), fields, here, on_problem)


def _date(here: Here, record: dict, on_problem: OnProblem) -> date | None:
    """Return the day from "date", or else from "published_time" (its local day)."""
    for name in ("date", "published_time"):
        value = record.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, str) and (name != "date" or _DAY.fullmatch(value.strip())):
            try:
                return datetime.fromisoformat(value.strip()).date()
            except ValueError:
                pass
        on_problem(here("bad-date", f"field {name!r} is not a valid date: {value!r:.60}"))
    return None


def _article(raw_id: str, fields: dict, here: Here, on_problem: OnProblem) -> Article | None:
    """Build an article from cleaned fields, deriving a missing id or title."""
    title, body = " ".join(fields.pop("title").split()), fields.pop("body")
    if not title and not body:
        on_problem(here("no-text", "the article has neither a title nor a body"))
        return None
    size = len(title) + len(body) + len(fields.get("lede", ""))
    if size > MAX_ARTICLE_CHARS:
        on_problem(here("too-large", f"the article has {size:,} characters, more than the "
                                     f"{MAX_ARTICLE_CHARS:,} an article can have"))
        return None
    for name in ("url", "source", "section"):
        fields[name] = fields.get(name, "").strip()
    fields["source"] = source_name(fields["source"])
    if fields["url"] and not fields["url"].lower().startswith(("http://", "https://")):
        # The result page links to it: javascript: or data: must never become a link.
        on_problem(here("bad-url", f"url {fields['url'][:60]!r} is not http(s); dropped"))
        fields["url"] = ""
    raw_id = raw_id.strip()
    if _SAFE_ID.fullmatch(raw_id) and raw_id not in (".", ".."):
        article_id = raw_id
    else:  # unsafe in a URL, or missing: derive a stable one
        seed = raw_id or fields["url"] or f"{title}\n{body}"
        article_id = hashlib.sha1(seed.encode("utf-8")).hexdigest()[:16]
    return Article(id=article_id, title=title or _title_from_body(body), body=body, **fields)


def _title_from_body(body: str, limit: int = 80) -> str:
    text = " ".join(body[: limit * 4].split())
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else text[:limit]
    return cut.rstrip(" ,;:.-–—") + "…"
