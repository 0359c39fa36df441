"""The records a page shows, built from stored articles: hits with marks and snippets, and
whole articles."""

from __future__ import annotations

from newssearch import schema
from newssearch.articles import Article
from newssearch.highlight import MatchTerms, highlight, snippet
from newssearch.records import ArticleView, Hit


def hit(article: Article, match: MatchTerms | None, score: float = 0.0,
        duplicates: int = 0) -> Hit:
    """One result; marked and with a snippet unless ``match`` is None (evaluation runs)."""
    text = schema.full_text(article.lede, article.body)
    return Hit(
        id=article.id, title=article.title,
        title_html=highlight(article.title, match) if match is not None else "",
        snippet_html=snippet(text, match) if match is not None else "",
        url=article.url, date=article.date, source=article.source, section=article.section,
        score=round(score, 4), duplicates=duplicates)


def related_hit(article: Article, score: float) -> Hit:
    """An article listed under another: its headline, no snippet."""
    return Hit(id=article.id, title=article.title,
               title_html=highlight(article.title, MatchTerms()), snippet_html="",
               url=article.url, date=article.date, source=article.source,
               section=article.section, score=round(score, 4))


def article_view(article: Article, match: MatchTerms) -> ArticleView:
    """A whole article, its headline, lede and paragraphs marked with the query's words."""
    return ArticleView(
        id=article.id, title=article.title, title_html=highlight(article.title, match),
        lede_html=highlight(article.lede, match),
        body_html="".join(f"<p>{highlight(p, match)}</p>"
                          for p in article.body.split("\n\n") if p.strip()),
        url=article.url, date=article.date, source=article.source, section=article.section,
        tags=article.tags)
