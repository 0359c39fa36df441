"""Alerts and exports of a search: an Atom feed of its newest matches, CSV and JSON lines."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date
from xml.etree import ElementTree as ET

from newssearch.articles import Article
from newssearch.records import SearchPage

ATOM = "http://www.w3.org/2005/Atom"
EXPORT_LIMIT = 10_000
EXPORT_FIELDS = ("id", "date", "title", "source", "section", "url")
_TAG = re.compile(r"<[^>]+>")


def _stamp(day: date | None, fallback: str) -> str:
    """An RFC 3339 timestamp: an article's day at midnight UTC."""
    return f"{day.isoformat()}T00:00:00Z" if day else fallback


def atom_feed(page: SearchPage, *, title: str, self_url: str, page_url: str,
              article_url: str, built_at: str) -> bytes:
    """The page's hits as an Atom 1.0 feed (RFC 4287); ``article_url`` has ``{id}``."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    newest = max((h.date for h in page.hits if h.date), default=None)
    add(feed, "id", self_url)
    add(feed, "title", title)
    add(feed, "updated", _stamp(newest, built_at))
    add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    add(feed, "link", rel="alternate", type="text/html", href=page_url)
    add(add(feed, "author"), "name", "newssearch")
    add(feed, "generator", "newssearch")
    for hit in page.hits:
        entry = add(feed, "entry")
        url = article_url.format(id=hit.id)
        add(entry, "id", url)
        add(entry, "title", hit.title)
        add(entry, "updated", _stamp(hit.date, built_at))
        if hit.date:
            add(entry, "published", _stamp(hit.date, built_at))
        add(entry, "link", rel="alternate", type="text/html", href=url)
        if hit.url:
            add(entry, "link", rel="related", href=hit.url)
        if hit.source:
            add(add(entry, "author"), "name", hit.source)
        if hit.section:
            add(entry, "category", term=hit.section)
        add(entry, "summary", html.unescape(_TAG.sub("", hit.snippet_html)))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8",
                                                                     xml_declaration=False)


def _row(article: Article) -> list[str]:
    return [article.id, article.date.isoformat() if article.date else "", article.title,
            article.source, article.section, article.url]


def cut_notice(total: int, limit: int) -> str:
    return (f"Export limité aux {limit:,} premiers résultats sur {total:,}.").replace(",", "\u202f")


def csv_lines(total: int, articles: Iterable[Article], limit: int) -> Iterator[str]:
    """CSV with a header; a last row says so when the matches were cut at ``limit``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(row: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        return buffer.getvalue()

    yield line(list(EXPORT_FIELDS))
    for article in articles:
        yield line(_row(article))
    if total > limit:
        yield line([f"# {cut_notice(total, limit)}"])


def jsonl_lines(total: int, articles: Iterable[Article], limit: int) -> Iterator[str]:
    """One JSON object per article; a last ``{"truncated": …}`` line when cut at ``limit``."""
    for article in articles:
        yield json.dumps(dict(zip(EXPORT_FIELDS, _row(article), strict=True)),
                         ensure_ascii=False) + "\n"
    if total > limit:
        yield json.dumps({"truncated": True, "exported": limit, "total": total,
                          "message": cut_notice(total, limit)}, ensure_ascii=False) + "\n"
