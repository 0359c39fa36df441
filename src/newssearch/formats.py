"""Reading one article file: plain text or Markdown, JSON, JSON lines, gzipped JSON lines."""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import re
import unicodedata
import zlib
from collections.abc import Container, Iterable, Iterator
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO

from newssearch.articles import Article, OnProblem, Problem, source_name

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
# Paragraphs after a "Lire aussi" that are all this short are link titles, not article text.
_LINK_MAX = 300
# Fifty times the longest news article of our corpus (about 20,000): such a
# file is a book, a dump or a mistake, and would slow every search that hits it.
MAX_ARTICLE_CHARS = 1_000_000
_JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean",
               list: "an array", dict: "an object"}
_INVALID = object()


def article_kind(path: Path) -> str | None:
    """Return "text", "json" or "jsonl" for an article file name, None for others."""
    name = path.name.lower()
    return next((kind for suffix, kind in _KINDS
                 if name.endswith(suffix) and len(name) > len(suffix)), None)


def os_problem(path: Path, exc: OSError) -> Problem:
    if exc.errno == errno.ELOOP:
        return Problem(str(path), None, "symlink-loop", "symbolic link loops; not followed")
    if isinstance(exc, FileNotFoundError):
        return Problem(str(path), None, "missing", "no such file or directory")
    return Problem(str(path), None, "unreadable", f"cannot read: {exc.strerror or exc}")


def read_article_file(path: Path, on_problem: OnProblem) -> Iterator[tuple[int | None, Article]]:
    """Yield (line number or None, article) for each article in one file."""
    for line, _, article in read_units(path, on_problem):
        if article is not None:
            yield line, article


def read_units(path: Path, on_problem: OnProblem, known: Container[str] = frozenset()
               ) -> Iterator[tuple[int | None, str, Article | None]]:
    """Yield (line number or None, digest, article) for each article in one file.

    The digest is of the article's line in a plain JSON lines file, else of the whole
    file. A line or file whose digest is ``known`` is not parsed: it is yielded once,
    with None for its articles.
    """
    here, kind, broken = partial(Problem, str(path), None), article_kind(path), None
    if kind == "jsonl" and not path.name.lower().endswith(".gz"):
        yield from _stream_json_lines(path, on_problem, known)
        return
    try:
        if path.name.lower().endswith(".gz"):
            data, broken = _read_gzip(path)
        else:
            data = path.read_bytes()
    except OSError as exc:
        on_problem(os_problem(path, exc))
        return
    unit = digest(data)
    if unit in known and not broken:
        yield None, unit, None
        return
    # A gzip broken before its first line is not an empty file: only the damage is reported.
    text = _decode(here, data, on_problem) if data or not broken else None
    if text is not None and kind in ("json", "jsonl"):
        for line, article in _record_articles(str(path), _records(str(path), text, kind,
                                                                  on_problem), on_problem):
            yield line, unit, article
    elif text is not None and (article := _text_article(path, text, on_problem)) is not None:
        yield None, unit, article
    if broken:
        lines = data.count(b"\n")
        on_problem(Problem(str(path), lines + 1, "bad-gzip", f"gzip data is corrupt or truncated "
                           f"({broken}); kept the {lines} lines before it, skipped the rest"))


def digest(data: bytes) -> str:
    """The digest a line's (without its newline) or a file's bytes are filed under
    (ledger.py): SHA-1 is the fastest hashlib has here, and a chance collision of 96
    bits will not happen."""
    return hashlib.sha1(data).hexdigest()[:24]


_CHUNK = 1 << 20


def _stream_json_lines(path: Path, on_problem: OnProblem, known: Container[str]
                       ) -> Iterator[tuple[int, str, Article | None]]:
    """A plain JSON lines file, read a line at a time: a file of a million articles is
    never held whole (nor its text, nor its lines) beside the articles read from it.

    The file is first checked as _decode checks a whole file (a file that is not
    UTF-8 gives no article), without keeping what it reads.
    """
    here = partial(Problem, str(path), None)
    try:
        with open(path, "rb") as f:
            if not _checked_utf8(here, f, on_problem):
                return
            f.seek(0)
            for number, unit, text in _decoded_lines(path, f, on_problem, known):
                if text is None:
                    yield number, unit, None
                    continue
                for line, article in _line_articles(str(path), number, text, on_problem):
                    yield line, unit, article
    except OSError as exc:
        on_problem(os_problem(path, exc))


def _line_articles(path: str, number: int, text: str, on_problem: OnProblem
                   ) -> Iterator[tuple[int | None, Article]]:
    return _record_articles(path, _line_records(path, ((number, text),), on_problem),
                            on_problem)


def scan_json_lines(path: Path, on_problem: OnProblem, known: Container[str]
                    ) -> tuple[list[str], list[tuple[int, str, Article]]] | None:
    """A plain JSON lines file some of whose lines have ``known`` digests, read at once:
    every line's digest (line n's at n - 1), and (line, digest, article) for the others.

    It is checked as _checked_utf8 checks a file, but only in its other lines (the
    known ones were read before). None where read_units is the better reader: not
    such a file, no line known, or other lines too long to keep aside.
    """
    if article_kind(path) != "jsonl" or path.name.lower().endswith(".gz"):
        return None
    here = partial(Problem, str(path), None)
    try:
        with open(path, "rb") as f:
            scanned = _scan_known(here, f, known)
    except OSError as exc:
        on_problem(os_problem(path, exc))
        return [], []
    if isinstance(scanned, Problem):
        on_problem(scanned)
        return [], []
    if scanned is None:
        return None
    units, texts = scanned
    return units, [(line, units[number - 1], article) for number, text in texts
                   for line, article in _line_articles(str(path), number, text, on_problem)]


# What a scan of a file with known lines may keep of its other lines (else it reads twice).
_SCAN_LIMIT = 64 << 20


def _scan_known(here: Here, f: BinaryIO, known: Container[str]
                ) -> tuple[list[str], list[tuple[int, str]]] | Problem | None:
    """Every line's digest, and (line, text) for the lines not known; or the problem that
    makes the file unreadable; None if no line is known, the other lines pass
    _SCAN_LIMIT, or the file does not look like UTF-8 from its start.

    Read by large chunks split at newlines, with list comprehensions: a million lines
    hashed one ``for`` step at a time cost twice as much.
    """
    if _not_utf8_at_once(f.read(8192)):
        return None
    f.seek(0)
    units: list[str] = []
    texts: list[tuple[int, str]] = []
    kept = done = 0
    rest = b""
    while True:
        if chunk := f.read(_CHUNK * 16):
            parts = (rest + chunk).split(b"\n")
            rest = parts.pop()
        elif rest:  # the last line, without a newline
            parts, rest = [rest], b""
        else:
            break
        first = len(units)
        units.extend([digest(p) for p in parts])
        for i in [i for i, u in enumerate(units[first:]) if u not in known]:
            raw = parts[i]
            kept += len(raw)
            if kept > _SCAN_LIMIT:
                return None
            try:
                texts.append((first + i + 1, raw.decode("utf-8-sig" if first + i == 0
                                                        else "utf-8")))
            except UnicodeDecodeError as exc:
                return _undecodable(here, raw[exc.start],
                                    done + sum(len(p) + 1 for p in parts[:i]) + exc.start)
        done += sum(map(len, parts)) + len(parts)
    return (units, texts) if len(texts) < len(units) else None


def _decoded_lines(path: Path, f: BinaryIO, on_problem: OnProblem, known: Container[str]
                   ) -> Iterator[tuple[int, str, str | None]]:
    """The file's lines as (number, digest, text), None for a line whose digest is known;
    a line that is no longer UTF-8 (the file changed after it was checked) is reported and
    read as blank."""
    for n, raw in enumerate(f):
        unit = digest(raw[:-1] if raw.endswith(b"\n") else raw)
        if unit in known:
            yield n + 1, unit, None
            continue
        try:
            yield n + 1, unit, raw.decode("utf-8-sig" if n == 0 else "utf-8")
        except UnicodeDecodeError as exc:
            on_problem(Problem(str(path), n + 1, "undecodable", f"not valid UTF-8 ({exc.reason}):"
                               " the file changed while it was read"))
            yield n + 1, unit, ""


def _record_articles(path: str, records: Iterator[tuple[int | None, str, object]],
                     on_problem: OnProblem) -> Iterator[tuple[int | None, Article]]:
    """The articles of a file's (line, what it is, JSON value) records."""
    for line, where, value in records:
        if (article := _record_article(partial(Problem, path, line), where, value,
                                       on_problem)) is not None:
            yield line, article


def _checked_utf8(here: Here, f: BinaryIO, on_problem: OnProblem) -> bool:
    """True if the file is UTF-8 text with something in it; else report why not."""
    head = f.read(8192)
    if _not_utf8_at_once(head):
        return _decode(here, head, on_problem) is not None  # reports it
    f.seek(0)
    done, blank = 0, True
    while chunk := f.read(_CHUNK):
        chunk += f.readline()  # to the end of a line: no character is cut in two
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            on_problem(_undecodable(here, chunk[exc.start], done + exc.start))
            return False
        if blank:
            blank = not (text.replace("\ufeff", "", 1) if done == 0 else text).strip()
        done += len(chunk)
    if blank:
        on_problem(here("empty", "file is empty"))
    return not blank


def _not_utf8_at_once(head: bytes) -> bool:
    """A file's first bytes show UTF-16 or binary data (_decode says which)."""
    return head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head


def _undecodable(here: Here, byte: int, offset: int) -> Problem:
    return here("undecodable", f"not valid UTF-8 (byte 0x{byte:02x} at offset {offset}); "
                               "convert the file to UTF-8")


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
    yield from _line_records(path, enumerate(text.split("\n"), 1), on_problem)


def _line_records(path: str, lines: Iterable[tuple[int, str]], on_problem: OnProblem
                  ) -> Iterator[tuple[int, str, object]]:
    """Yield (line, "the line", JSON value) for each numbered line of a JSON lines text."""
    for number, line in lines:
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


def json_lines(name: str, text: str, on_problem: OnProblem) -> Iterator[tuple[int, object]]:
    """Yield (line number, JSON value) for each line of a JSON lines text; report bad lines."""
    for line, _, value in _records(name, text, "jsonl", on_problem):
        yield line or 0, value


def record_article(name: str, line: int | None, where: str, record: object,
                   on_problem: OnProblem) -> Article | None:
    """The article of one JSON record, checked as a file's records are (``where`` says which)."""
    return _record_article(partial(Problem, name, line), where, record, on_problem)
