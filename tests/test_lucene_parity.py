"""Our French chain as the cluster runs it: the generated settings on real Lucene vs analysis.py.

tests/lucene/Analyze.java builds each analyzer of mapping.index_body() from Lucene's
own factories (Debian's liblucene8-java, the release OPENSEARCH.md names) and prints
its tokens; every FRENCH.md case and 200 sentences of seeds/ go through both chains.
Each difference is listed in DIFFERENCES with its reason: an unlisted one fails, and
so does a listed one that no longer occurs.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from newssearch import analysis
from newssearch.corpus import load_corpus
from newssearch.opensearch import mapping
from tests.lucene import spec

JARS = [Path("/usr/share/java/lucene-core-8.7.0.jar"),
        Path("/usr/share/java/lucene-analyzers-common-8.7.0.jar")]
HARNESS = Path(__file__).parent / "lucene" / "Analyze.java"
SEEDS = Path(__file__).parents[1] / "seeds"
CHAINS = {mapping.STEMMED: True, mapping.EXACT: False}  # analyzer -> analysis.py's stemmed=
SEARCH_OF = {mapping.STEMMED: mapping.STEMMED_SEARCH, mapping.EXACT: mapping.EXACT_SEARCH}

# FRENCH.md cases that no test_analysis.py table holds as an input.
EXTRA_CASES = [
    "«\u00a0L’Élysée\u00a0» — Saint-Denis", "Seine-Saint-Denis", "Cœur œil ex æquo",
    "France 2, TF1, G7, A380, 14h30, Ligue 1", "L'été est là : son et lumière",
    "Saint-Jean-d’Angély", "c'est-à-dire", "la maison de la culture", "Les françaises",
    "Les élèves de Saint-Denis", "rock'n'roll", "l'l'x", "a-t-elle dit, va-t-on, dit-il",
    "Le 🇫🇷 drapeau", "À Москва", "mot_clé", "Le palais", "Œuvre", "ŒUVRES", "N° 5",
]

SNOWBALL = ("Lucene 8.7's Snowball French is an older revision of the algorithm than "
            "snowballstemmer's; OpenSearch 3.x (Lucene 10) has the newer one: re-check there")
INNER_ELISION = ("an elided article inside a hyphenated word is dropped by a filter, which "
                 "cannot move a token's start: the part's offsets include the article")
TRANSLITERATION = ("Unidecode transliterates other scripts (Москва -> moskva); Lucene's "
                   "asciifolding leaves them, and the fold to a-z0-9 then drops the word "
                   "(OpenSearch's icu_transform Any-Latin would do it, as a plugin)")
STEMMED, EXACT = mapping.STEMMED, mapping.EXACT
# (analyzer, kind, analysis.py's side, Lucene's side) -> why they differ.
DIFFERENCES: dict[tuple[str, str, str, str], str] = {
    (STEMMED, "terms", "franc", "francais"): SNOWBALL,   # françaises
    (STEMMED, "terms", "palais", "pal"): SNOWBALL,
    (STEMMED, "offsets", "Angély", "d’Angély"): INNER_ELISION,  # Saint-Jean-d’Angély
    (EXACT, "offsets", "Angély", "d’Angély"): INNER_ELISION,
    (STEMMED, "terms", "moskv", ""): TRANSLITERATION,
    (EXACT, "terms", "moskva", ""): TRANSLITERATION,
}


def require_lucene() -> None:
    """Skip when Lucene or a JDK is missing, unless CI says they must be there."""
    missing = [str(j) for j in JARS if not j.exists()]
    missing += [tool for tool in ("javac", "java") if shutil.which(tool) is None]
    if missing:
        reason = f"real Lucene is needed: {', '.join(missing)} (apt-get install liblucene8-java)"
        if os.environ.get("NEWSSEARCH_REQUIRE_LUCENE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def lucene(tmp_path_factory):
    """Tokens on real Lucene: a function of [(analyzer, text)] -> token lists."""
    require_lucene()
    folder = tmp_path_factory.mktemp("lucene")
    classpath = ":".join(map(str, [folder, *JARS]))
    subprocess.run(["javac", "-d", str(folder), "-cp", classpath, str(HARNESS)], check=True)
    spec_file = spec.write(mapping.index_body()["settings"], folder)

    def run(requests: list[tuple[str, str]]) -> list[list[tuple[str, int, int, int]]]:
        stdin = "".join(f"{name}\t{text}\n" for name, text in requests)
        done = subprocess.run(["java", "-cp", classpath, "Analyze", str(spec_file)],
                              input=stdin, capture_output=True, text=True, encoding="utf-8",
                              check=True)
        return [[(term, points[start], points[end], increment)
                 for term, start, end, increment in json.loads(line)]
                for (_, text), line in zip(requests, done.stdout.splitlines(), strict=True)
                for points in [code_points(text)]]

    return run


def code_points(text: str) -> list[int]:
    """Java's offsets (UTF-16 units) -> Python's (code points): they differ after an emoji."""
    points = []
    for i, c in enumerate(text):
        points += [i] * (2 if ord(c) > 0xFFFF else 1)
    return [*points, len(text)]


def french_cases() -> list[str]:
    """Every text of test_analysis.py's tables, and the FRENCH.md cases they lack."""
    module = importlib.import_module("tests.test_analysis")
    found = []
    for test in vars(module).values():
        for mark in getattr(test, "pytestmark", []):
            if mark.name == "parametrize":
                for row in mark.args[1]:
                    found += [v for v in (row if isinstance(row, tuple) else (row,))
                              if isinstance(v, str)]
    return list(dict.fromkeys(found + EXTRA_CASES))


def seed_sentences(count: int = 200, per_article: int = 2) -> list[str]:
    """The first sentences of seeds/' articles, a few from each."""
    found = []
    for article in load_corpus([SEEDS]).articles:
        text = f"{article.title}\n{article.lede or ''}\n{article.body}"
        sentences = [s for s in re.split(r"(?<=[.!?…])\s+|\s*\n\s*", text) if len(s) > 20]
        found += sentences[:per_article]
    return [re.sub(r"\s", " ", s) for s in found[:count]]


def ours(text: str, stemmed: bool) -> list[tuple[str, int, int, int]]:
    """analysis.py's tokens with position increments, as Lucene reports them."""
    tokens, last = [], -1
    for t in analysis.analyze(text, stemmed=stemmed):
        tokens.append((t.text, t.start, t.end, t.pos - last))
        last = t.pos
    return tokens


def differences(name: str, text: str, mine: list, theirs: list) -> tuple[set[tuple], int]:
    """How Lucene's tokens differ from ours, named by the words, not the sentence; and how
    many tokens are identical (term, offsets and position increment)."""
    found, same = set(), 0
    matcher = difflib.SequenceMatcher(None, [t[0] for t in mine], [t[0] for t in theirs],
                                      autojunk=False)
    previous = "equal"
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            found.add((name, "terms", " ".join(t[0] for t in mine[i1:i2]),
                       " ".join(t[0] for t in theirs[j1:j2])))
        else:
            for k, (a, b) in enumerate(zip(mine[i1:i2], theirs[j1:j2], strict=True)):
                same += a == b
                if a[1:3] != b[1:3]:
                    found.add((name, "offsets", text[a[1]:a[2]], text[b[1]:b[2]]))
                # After a differing token the increments may differ: that one is listed.
                elif a[3] != b[3] and not (k == 0 and previous != "equal"):
                    found.add((name, "position", f"{a[0]} +{a[3]}", f"{b[0]} +{b[3]}"))
        previous = op
    return found, same


@pytest.fixture(scope="module")
def compared(lucene):
    """Every text through every chain: (texts, identical tokens, all tokens, differences)."""
    texts = french_cases() + seed_sentences()
    requests = [(name, text) for name in CHAINS for text in texts]
    results = lucene(requests)
    same = total = 0
    found: set[tuple] = set()
    for (name, text), theirs in zip(requests, results, strict=True):
        mine = ours(text, CHAINS[name])
        total += max(len(mine), len(theirs))
        diff, identical = differences(name, text, mine, theirs)
        found |= diff
        same += identical
    return texts, same, total, found


def test_the_inputs_are_every_french_case_and_200_seed_sentences():
    assert len(seed_sentences()) == 200
    assert {"l’Assemblée", "aujourd'hui", "Seine-Saint-Denis", "a-t-il"} <= set(french_cases())


def test_every_difference_from_analysis_py_is_listed_with_its_reason(compared):
    texts, same, total, found = compared
    print(f"\n{same} of {total} tokens identical over {len(texts)} texts")
    unexplained = sorted(found - set(DIFFERENCES))
    assert not unexplained, "differences not in DIFFERENCES:\n" + "\n".join(map(str, unexplained))


def test_every_listed_difference_still_occurs(compared):
    gone = sorted(set(DIFFERENCES) - compared[3])
    assert not gone, "listed but no longer seen, remove them:\n" + "\n".join(map(str, gone))


def test_the_search_analyzers_give_the_index_analyzers_tokens(lucene):
    texts = french_cases() + seed_sentences()
    for index, search in SEARCH_OF.items():
        assert lucene([(index, t) for t in texts]) == lucene([(search, t) for t in texts])


def test_the_exact_search_analyzer_leaves_our_folded_words_as_they_are(lucene):
    """The translation may send folded words to the .exact fields as text."""
    words = sorted({t.text for text in french_cases() for t in analysis.analyze(text, False)})
    assert lucene([(mapping.EXACT_SEARCH, w) for w in words]) == [
        [(w, 0, len(w), 1)] for w in words]


def test_re_stemming_our_stems_would_change_them(lucene):
    """Why the ranked fields search with TERMS: Snowball is not idempotent."""
    stems = [t.text for t in analysis.analyze("L’Assemblée nationale")]
    again = [t[0] for (t,) in lucene([(mapping.STEMMED_SEARCH, s) for s in stems])]
    assert again != stems
    (tokens,) = lucene([(mapping.TERMS, " ".join(stems))])
    assert [t[0] for t in tokens] == stems


@pytest.mark.parametrize("text", ["L’Assemblée a voté", "saintden", "Saint-Denis 14h30"])
def test_the_terms_analyzer_takes_each_term_as_it_is(lucene, text):
    (tokens,) = lucene([(mapping.TERMS, text)])
    assert [t[0] for t in tokens] == text.split()


def test_the_chain_keeps_highlights_off_the_elided_article(lucene):
    text = "Selon l’Assemblée"
    (tokens,) = lucene([(mapping.STEMMED, text)])
    assert [text[s:e] for _, s, e, _ in tokens] == ["Selon", "Assemblée"]
