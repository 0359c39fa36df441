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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
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


OnProblem = Callable[[Problem], None]

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
# Paragraphs after a "Lire aussi" that are all this short are link titles, not article text.
_LINK_MAX = 300
_JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean",
               list: "an array", dict: "an object"}
_INVALID = object()


def load_corpus(sources: Sequence[Path], on_problem: OnProblem | None = None) -> Corpus:
    """Read the articles in files and directories, skipping and reporting bad input."""
    problems: list[Problem] = []

    def report(problem: Problem) -> None:
        problems.append(problem)
        if on_problem is not None:
            on_problem(problem)

    articles: dict[str, Article] = {}  # assigning an existing key keeps its first position
    places: dict[str, str] = {}
    files = 0
    for path in iter_article_files(sources, report):
        found = False
        for line, article in read_article_file(path, report):
            if article.id in articles:
                report(Problem(str(path), line, "duplicate-id",
                               f"duplicate id {article.id!r}: this article replaces "
                               f"the one read at {places[article.id]}"))
            articles[article.id] = article
            places[article.id] = f"{path}:{line}" if line else str(path)
            found = True
        files += found
    return Corpus(tuple(articles.values()), tuple(problems), files)


def article_kind(path: Path) -> str | None:
    """Return "text", "json" or "jsonl" for an article file name, None for others."""
    name = path.name.lower()
    return next((kind for suffix, kind in _KINDS
                 if name.endswith(suffix) and len(name) > len(suffix)), None)


def iter_article_files(sources: Sequence[Path], on_problem: OnProblem) -> Iterator[Path]:
    """Yield each article file under the sources once, in a stable order."""
    seen: set[tuple[int, int]] = set()
    for source in map(Path, sources):
        try:
            info = source.stat()
        except OSError as exc:
            on_problem(_os_problem(source, exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(source, seen, {}, on_problem)
        elif article_kind(source) is None:
            on_problem(Problem(str(source), None, "unsupported", "not an article file: "
                               "expected .txt, .md, .json, .jsonl or .jsonl.gz"))
        elif _first_visit(info, seen):
            yield source


def _first_visit(info: os.stat_result, seen: set[tuple[int, int]]) -> bool:
    key = (info.st_dev, info.st_ino)
    if key in seen:  # the same file or directory reached again through a link
        return False
    seen.add(key)
    return True


def _walk(directory: Path, seen: set[tuple[int, int]], ancestors: dict[tuple[int, int], Path],
          on_problem: OnProblem) -> Iterator[Path]:
    try:
        info = directory.stat()
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        on_problem(_os_problem(directory, exc))
        return
    key = (info.st_dev, info.st_ino)
    if key in ancestors:
        on_problem(Problem(str(directory), None, "symlink-loop",
                           f"symbolic link loops back to {ancestors[key]}; not followed"))
        return
    if not _first_visit(info, seen):
        return
    ancestors = {**ancestors, key: directory}
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):  # version-control and editor files, never articles
            continue
        try:
            target = entry.stat()
        except OSError as exc:  # a dangling or looping link
            if exc.errno == errno.ELOOP or article_kind(path) is not None:
                on_problem(_os_problem(path, exc))
            continue
        if stat.S_ISDIR(target.st_mode):
            yield from _walk(path, seen, ancestors, on_problem)
        elif (stat.S_ISREG(target.st_mode) and article_kind(path) is not None
              and entry.name.lower() != "readme.md" and _first_visit(target, seen)):
            yield path


def _os_problem(path: Path, exc: OSError) -> Problem:
    if exc.errno == errno.ELOOP:
        return Problem(str(path), None, "symlink-loop", "symbolic link loops; not followed")
    if isinstance(exc, FileNotFoundError):
        return Problem(str(path), None, "missing", "no such file or directory")
    return Problem(str(path), None, "unreadable", f"cannot read: {exc.strerror or exc}")


@dataclass(frozen=True)
class _Place:
    path: str
    line: int | None = None

    def problem(self, reason: str, message: str) -> Problem:
        return Problem(self.path, self.line, reason, message)


def read_article_file(path: Path, on_problem: OnProblem) -> Iterator[tuple[int | None, Article]]:
    """Yield (line number or None, article) for each article in one file."""
    gzip_error = None
    try:
        if path.name.lower().endswith(".gz"):
            data, gzip_error = _read_gzip(path)
        else:
            data = path.read_bytes()
    except OSError as exc:
        on_problem(_os_problem(path, exc))
        return
    text = _decode(_Place(str(path)), data, on_problem)
    kind = article_kind(path)
    if text is not None and kind == "jsonl":
        yield from _jsonl_articles(str(path), text, on_problem)
    elif text is not None and kind == "json":
        yield from ((None, a) for a in _json_articles(_Place(str(path)), text, on_problem))
    elif text is not None and (article := _text_article(path, text, on_problem)):
        yield None, article
    if gzip_error is not None:
        lines = data.count(b"\n")
        on_problem(Problem(str(path), lines + 1, "bad-gzip",
                           f"gzip data is corrupt after {lines} complete lines ({gzip_error}); "
                           "the rest of the file is skipped"))


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


def _decode(place: _Place, data: bytes, on_problem: OnProblem) -> str | None:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        message = "file is UTF-16 (it starts with a byte-order mark); save it as UTF-8"
        return on_problem(place.problem("undecodable", message))
    if b"\x00" in data[:8192]:
        message = "NUL bytes in the first 8 KB: this is not a text file"
        return on_problem(place.problem("binary", message))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = (f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                   "convert the file to UTF-8")
        return on_problem(place.problem("undecodable", message))
    if not text.strip():
        return on_problem(place.problem("empty", "file is empty"))
    return _clean(text)


def _clean(text: str) -> str:
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", _SURROGATE.sub("\ufffd", text))


def _paragraphs(text: str) -> str:
    return "\n\n".join(p for p in (part.strip() for part in _BLANK_LINE.split(text)) if p)


def _text_article(path: Path, text: str, on_problem: OnProblem) -> Article | None:
    title, _, rest = text.strip().partition("\n")
    paragraphs = _paragraphs(rest).split("\n\n")
    section = ""
    if (match := _RUBRIC.match(paragraphs[0])) and len(match["rubric"]) >= 3:
        section = match["rubric"].lower()
        paragraphs[0] = paragraphs[0][match.end():]
    fields = {"title": _HEADING.sub("", title), "body": "\n\n".join(_cut_related(paragraphs)),
              "section": section}
    return _article(path.stem, fields, _Place(str(path)), on_problem)


def _cut_related(paragraphs: list[str]) -> list[str]:
    """Cut the trailing related-links block, and lone "Lire aussi" lines mid-article."""
    marks = {i for i, p in enumerate(paragraphs) if _RELATED.match(p)}
    end = min((i for i in marks if all(len(p) <= _LINK_MAX for p in paragraphs[i + 1:])),
              default=len(paragraphs))
    return [p for i, p in enumerate(paragraphs[:end]) if i not in marks and p]


def _json_articles(place: _Place, text: str, on_problem: OnProblem) -> Iterator[Article]:
    value = _parse_json(place, text, on_problem)
    if value == []:
        on_problem(place.problem("empty", "file holds an empty list"))
    records = value if isinstance(value, list) else [] if value is _INVALID else [value]
    for number, record in enumerate(records, 1):
        where = f"item {number} of the list" if isinstance(value, list) else "the file"
        if (article := _record_article(place, where, record, on_problem)) is not None:
            yield article


def _jsonl_articles(path: str, text: str, on_problem: OnProblem
                    ) -> Iterator[tuple[int | None, Article]]:
    # Only "\n" ends a record: str.splitlines would also split at U+2028 inside strings.
    for number, line in enumerate(text.split("\n"), 1):
        place = _Place(path, number)
        if line.strip() and (value := _parse_json(place, line, on_problem)) is not _INVALID:
            if (article := _record_article(place, "the line", value, on_problem)) is not None:
                yield number, article


def _parse_json(place: _Place, text: str, on_problem: OnProblem) -> object:
    try:
        return json.loads(text)
    except RecursionError:
        on_problem(place.problem("bad-json", "JSON is nested too deeply"))
    except json.JSONDecodeError as exc:
        line = place.line or exc.lineno  # a .json file: where in the file
        message = f"not valid JSON: {exc.msg} (column {exc.colno})"
        on_problem(Problem(place.path, line, "bad-json", message))
    except ValueError as exc:  # e.g. an integer too long to convert
        on_problem(place.problem("bad-json", f"not valid JSON: {exc}"))
    return _INVALID


def _record_article(place: _Place, where: str, record: object,
                    on_problem: OnProblem) -> Article | None:
    if not isinstance(record, dict):
        kind = _JSON_TYPES.get(type(record), "null")
        on_problem(place.problem("bad-record", f"{where} holds {kind}, not an article object"))
        return None

    def field(name: str) -> str:
        value = record.get(name)
        if value is not None and (text := _scalar(value)) is None:
            message = f"field {name!r} is {_JSON_TYPES.get(type(value))}, not a string; ignored"
            on_problem(place.problem("bad-field", message))
        return "" if value is None else _clean(text or "")

    tags = record.get("tags") or ()
    if not isinstance(tags, str | list):
        on_problem(place.problem("bad-field", "field 'tags' is neither a list nor a string"))
        tags = ()
    tags = tags.split(",") if isinstance(tags, str) else tags
    fields = {name: field(name) for name in ("title", "lede", "body", "url", "source", "section")}
    fields.update(body=_paragraphs(fields["body"] or field("text")),
                  lede=_paragraphs(fields["lede"]), section=fields["section"].lower(),
                  tags=tuple(dict.fromkeys(t for t in (_clean(_scalar(t) or "").strip()
                                                       for t in tags) if t)),
                  date=_date(place, record, on_problem))
    return _article(field("id"), fields, place, on_problem)


def _scalar(value: object) -> str | None:
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _date(place: _Place, record: dict, on_problem: OnProblem) -> date | None:
    """Return the day from "date", or else from "published_time"."""
    for name in ("date", "published_time"):
        value = record.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, str) and (name != "date" or _DAY.fullmatch(value.strip())):
            try:
                return datetime.fromisoformat(value.strip()).date()
            except ValueError:
                pass
        on_problem(place.problem("bad-date", f"field {name!r} is not a valid date: {value!r:.60}"))
    return None


def _article(raw_id: str, fields: dict, place: _Place, on_problem: OnProblem) -> Article | None:
    """Build an article from cleaned fields, deriving a missing id or title."""
    title, body = " ".join(fields.pop("title").split()), fields.pop("body")
    if not title and not body:
        on_problem(place.problem("no-text", "the article has neither a title nor a body"))
        return None
    for name in ("url", "source", "section"):
        fields[name] = fields.get(name, "").strip()
    raw_id = raw_id.strip()
    if _SAFE_ID.fullmatch(raw_id) and raw_id not in (".", ".."):
        article_id = raw_id
    else:  # unsafe in a URL, or missing: derive a stable one
        article_id = _digest(raw_id or fields["url"] or f"{title}\n{body}")
    return Article(id=article_id, title=title or _title_from_body(body), body=body, **fields)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _title_from_body(body: str, limit: int = 80) -> str:
    text = " ".join(body[: limit * 4].split())
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else text[:limit]
    return cut.rstrip(" ,;:.-–—") + "…"
