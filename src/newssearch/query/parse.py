"""The query language: words, "phrases", -exclusions, OR, (groups), titre:/source:/rubrique:.

Parsing never fails: malformed input degrades to the words it contains and a
French notice says what was ignored.

An exclusion means the same in a group: ``(retraites -grève)`` is ``retraites -grève``,
and in ``titre:(réforme -retraites)`` it applies to the headline, as the group's words
do. As an OR alternative it keeps its meaning, ``a OR -b`` being a or any article
without b (as in Elasticsearch), and a notice says so and how to exclude b instead.

>>> parse('retraites -grève titre:"Élysée" source:AFP').root
AllOf(nodes=(Word(text='retraites', field=None, prefix=False), Not(node=Word(text='grève', \
field=None, prefix=False)), Phrase(text='Élysée', field='title'), Filter(field='source', \
value='AFP')))
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from newssearch import notices, schema

MAX_QUERY_CHARS = 1000
MAX_WORDS = 100  # a pasted paragraph still counts whole
MAX_DEPTH = 16

FIELDS = {"titre": schema.TITLE, "title": schema.TITLE, "source": schema.SOURCE,
          "rubrique": schema.SECTION, "section": schema.SECTION}
FILTER_FIELDS = set(schema.FACET_FIELDS)
QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“"}
_FIELD = re.compile(r"([^\W\d_]+):(?=[^\s:/])")
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_STOP_CHARS = set('()"«»“”„') | {" ", "\t", "\n"}


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Filter:
    field: str
    value: str


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class AnyOf:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    nodes: tuple[Node, ...]


Node = Word | Phrase | Filter | Not | AnyOf | AllOf


@dataclass(frozen=True)
class ParsedQuery:
    """A parsed query and the notices about what was ignored or changed."""

    text: str
    root: AllOf
    notices: tuple[str, ...] = field(default=())

    def positive(self) -> list[Word | Phrase]:
        """Return the words and phrases the results should contain, in order."""
        found: list[Word | Phrase] = []

        def walk(node: Node) -> None:
            if isinstance(node, Word | Phrase):
                found.append(node)
            elif isinstance(node, AnyOf | AllOf):
                for child in node.nodes:
                    walk(child)

        walk(self.root)
        return found

    def phrases_as_words(self) -> ParsedQuery | None:
        """The query with its phrases (not its excluded ones) as plain words, if it has any."""

        def words(phrase: Phrase) -> tuple[Word, ...]:
            return tuple(Word(w, phrase.field) for w in phrase.text.split())

        def loosen(node: Node) -> Node:
            if isinstance(node, Phrase):  # an alternative of a group: all its words
                return AllOf(words(node))
            if isinstance(node, AnyOf):
                return AnyOf(tuple(loosen(n) for n in node.nodes))
            if isinstance(node, AllOf):  # the words join the others, as if typed alone
                return AllOf(tuple(w for n in node.nodes for w in (
                    words(n) if isinstance(n, Phrase) else (loosen(n),))))
            return node

        root = loosen(self.root)
        return None if root == self.root else ParsedQuery(self.text, root, self.notices)


def clean(text: str) -> str:
    """Drop control characters and lone surrogates, normalise to NFC, cap the length."""
    # Controls, lone surrogates and bidirectional overrides (which would reorder
    # the page around the query) become spaces.
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI else c
                   for c in text[:MAX_QUERY_CHARS])
    return unicodedata.normalize("NFC", text).strip()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.i = 0
        self.notices: list[str] = []
        self.words = 0
        self.field: str | None = None
        self.excluding = 0  # how many exclusions the parser is inside

    def notice(self, message: str) -> None:
        if message not in self.notices:
            self.notices.append(message)

    def parse(self) -> AllOf:
        nodes = self.sequence(depth=0)
        return AllOf(tuple(nodes))

    def sequence(self, depth: int) -> list[Node]:
        nodes: list[Node] = []
        # Where each node's OR alternatives were typed, for the notice about exclusions.
        spans: list[list[tuple[int, int, Node]]] = []
        pending_or = False
        while True:
            self.skip_space()
            if self.i >= len(self.text):
                if depth > 0:
                    self.notice(notices.UNCLOSED_PARENTHESIS)
                break
            if self.text[self.i] == ")":
                self.i += 1
                if depth > 0:
                    break
                self.notice(notices.EXTRA_PARENTHESIS)
                continue
            start = self.i
            node = self.unary(depth)
            if node == "OR":
                pending_or = bool(nodes)
                continue
            if node is None or isinstance(node, str):
                continue
            if pending_or:
                previous = nodes[-1]
                left = previous.nodes if isinstance(previous, AnyOf) else (previous,)
                nodes[-1] = AnyOf((*left, node))
                spans[-1].append((start, self.i, node))
            else:
                nodes.append(node)
                spans.append([(start, self.i, node)])
            pending_or = False
        for alternatives in spans:
            self.excluded_alternatives(alternatives)
        return nodes

    def excluded_alternatives(self, alternatives: list[tuple[int, int, Node]]) -> None:
        """Say how an OR with an exclusion reads, and how to write the exclusion instead.

        ``a OR -b`` means what it says (a, or any article without b, as Elasticsearch
        reads it), which is rarely what was meant: most people want ``a -b``.
        """
        typed = [(self.text[s:e], node) for s, e, node in alternatives]
        excluded = [(text, node.node) for text, node in typed if isinstance(node, Not)]
        if len(typed) < 2 or not excluded or self.excluding:
            return  # under an exclusion, « write a -b » would be the wrong advice
        # « gilets jaunes », not « "gilets jaunes" »; anything else as typed after its -.
        names = [n.text if isinstance(n, Phrase) and n.field is None else t[1:]
                 for t, n in excluded]
        kept = [text for text, node in typed if not isinstance(node, Not)]
        if len(kept) > 1:
            kept = [f"({' OR '.join(kept)})"]
        instead = " ".join(kept + [text for text, _ in excluded])
        whole = self.text[alternatives[0][0]:alternatives[-1][1]]
        self.notice(notices.excluded_alternative(whole, names, instead))

    def skip_space(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def unary(self, depth: int) -> Node | str | None:
        text, i = self.text, self.i
        # Only "-" at the start of a word excludes; Jong-un and COVID-19 stay whole.
        if text[i] == "-" and i + 1 < len(text) and not text[i + 1].isspace():
            self.i += 1
            self.excluding += 1
            try:
                node = self.atom(depth)
            finally:
                self.excluding -= 1
            if node is None or node == "OR":
                return None
            return Not(node)
        return self.atom(depth)

    def atom(self, depth: int) -> Node | str | None:
        text = self.text
        if text[self.i] == "(":
            self.i += 1
            if depth >= MAX_DEPTH:
                self.notice(notices.too_deep(MAX_DEPTH))
                return None
            nodes = self.sequence(depth + 1)
            return AllOf(tuple(nodes)) if len(nodes) > 1 else (nodes[0] if nodes else None)
        fieldname = self.field
        m = _FIELD.match(text, self.i)
        if m:
            fieldname = FIELDS.get(m.group(1).lower())
            if fieldname is None:
                self.notice(notices.unknown_field(m.group(1)))
                self.i = m.start(1)
                return self.word(None)
            self.i = m.end()
            if text[self.i] == "(" and fieldname == schema.TITLE:
                # titre:(réforme retraites): every word of the group in the title.
                outer, self.field = self.field, fieldname
                try:
                    return self.atom(depth)
                finally:
                    self.field = outer
        if self.i < len(text) and text[self.i] in QUOTES:
            close = QUOTES[text[self.i]]
            end = text.find(close, self.i + 1)
            if end == -1 and close != '"':
                end = text.find('"', self.i + 1)
            if end == -1:
                self.notice(notices.UNCLOSED_QUOTES)
                self.i += 1
                return None
            phrase = text[self.i + 1:end].strip()
            self.i = end + 1
            if not phrase:
                return None
            if fieldname in FILTER_FIELDS:
                return Filter(fieldname, phrase)
            return Phrase(phrase, fieldname)
        return self.word(fieldname)

    def word(self, fieldname: str | None) -> Node | str | None:
        text, start = self.text, self.i
        while self.i < len(text) and text[self.i] not in _STOP_CHARS and not (
                text[self.i].isspace()):
            self.i += 1
        if self.i == start:  # a stray quote closing nothing
            self.i += 1
            return None
        word = text[start:self.i]
        if word in ("OR", "OU") and fieldname is None:
            return "OR"
        if fieldname in FILTER_FIELDS:
            return Filter(fieldname, word)
        prefix = False
        if word.strip("*") == "":
            self.notice(notices.LONE_WILDCARD)
            return None
        if word.startswith("*"):
            word = word.lstrip("*")
            self.notice(notices.LEADING_WILDCARD)
        if word.endswith("*"):
            word = word.rstrip("*")
            prefix = len(word) >= 3
            if not prefix and word:
                self.notice(notices.SHORT_PREFIX)
        if not any(c.isalnum() for c in word):
            return None
        self.words += 1
        if self.words > MAX_WORDS:
            self.notice(notices.too_many_words(MAX_WORDS))
            return None
        return Word(word, fieldname, prefix)


def parse(text: str) -> ParsedQuery:
    """Parse a user's query; never raises."""
    cleaned = clean(text)
    notes: list[str] = []
    if len(text) > MAX_QUERY_CHARS:
        notes.append(notices.truncated(MAX_QUERY_CHARS))
    parser = _Parser(cleaned)
    root = parser.parse()
    return ParsedQuery(cleaned, root, tuple(notes + parser.notices))
