"""Tests for reading article files into a Corpus."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import re
from datetime import date
from pathlib import Path

import pytest

from newssearch.articles import Article, Corpus, Problem
from newssearch.corpus import load_corpus

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SAFE_ID = re.compile(r"[A-Za-z0-9._~-]+")

GOOD_RECORD = {"id": "bon-1", "title": "Le Sénat adopte le budget",
               "body": "Les sénateurs ont voté le texte mardi soir."}


def jsonl(*records: object) -> str:
    """Return records as JSON lines, passing strings through as raw lines."""
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                   for r in records)


def write(path: Path, content: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to path, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_good(directory: Path) -> Path:
    """Write one valid article file next to a bad one."""
    return write(directory / "bon.jsonl", jsonl(GOOD_RECORD))


def reasons(corpus: Corpus) -> list[tuple[str, int | None]]:
    """Return the (reason, line) of each problem."""
    return [(p.reason, p.line) for p in corpus.problems]


def sha16(text: str) -> str:
    """Return the first 16 hex digits of the SHA-1 of text, as derived ids are."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


# --- the seed article -----------------------------------------------------------------------------

def test_seed_article_title_section_and_body():
    corpus = load_corpus([SEEDS / "000_ea821b09932b2197.txt"])
    assert corpus.problems == ()
    assert corpus.files == 1
    [article] = corpus.articles
    assert article.id == "000_ea821b09932b2197"
    assert article.title == ("En Russie, Vladimir Poutine et Kim Jong-un échangent une poignée "
                             "de main au cosmodrome de Vostotchny")
    assert article.section == "international"
    assert article.body.startswith("Premières images d’une rencontre très scrutée.")
    assert "À voir également" not in article.body
    assert "Guerre en Ukraine" not in article.body
    assert "Lula" not in article.body
    assert article.body.endswith("à Vladivostok en 2019.")
    assert "\n\n" in article.body and "\n\n\n" not in article.body
    assert (article.date, article.url) == (None, "")


def test_seeds_directory_loads_without_problems():
    corpus = load_corpus([SEEDS])
    assert corpus.problems == ()
    assert corpus.files == 2  # the start article and the OrangeSum sample; README.md is skipped
    assert 900 <= len(corpus.articles) <= 1200
    assert {a.section for a in corpus.articles} >= {"france", "politique", "monde", "societe",
                                                     "auto", "international"}


# --- text files -----------------------------------------------------------------------------------

def test_text_file_title_and_normalised_paragraphs(tmp_path):
    path = write(tmp_path / "article-1.txt",
                 "\n\n  Grève à la SNCF  \r\n\r\nPremier paragraphe,\nsur deux lignes.  \r\n"
                 "\n \n\n\tDeuxième paragraphe.\n\n\n")
    [article] = load_corpus([path]).articles
    assert article == Article(id="article-1", title="Grève à la SNCF",
                              body="Premier paragraphe,\nsur deux lignes.\n\nDeuxième paragraphe.")


def test_markdown_heading_is_removed_from_title(tmp_path):
    path = write(tmp_path / "note.md", "# La réforme des retraites\n\nLe texte arrive au Sénat.\n")
    [article] = load_corpus([path]).articles
    assert (article.id, article.title, article.body) == (
        "note", "La réforme des retraites", "Le texte arrive au Sénat.")


def test_text_file_with_title_only_is_kept(tmp_path):
    path = write(tmp_path / "seul.txt", "Un titre sans corps\n")
    [article] = load_corpus([path]).articles
    assert (article.title, article.body) == ("Un titre sans corps", "")


@pytest.mark.parametrize(("opening", "section", "body_start"), [
    ("INTERNATIONAL - Premières images d’une rencontre.", "international", "Premières images"),
    ("POLITIQUE – Le gouvernement recule.", "politique", "Le gouvernement"),
    ("ÉCONOMIE — La croissance ralentit.", "économie", "La croissance"),
    ("FAITS DIVERS - Un incendie à Lyon.", "faits divers", "Un incendie"),
    ("ÉTATS-UNIS - Joe Biden parle.", "états-unis", "Joe Biden"),
    ("UE - Deux lettres ne font pas une rubrique.", "", "UE - Deux"),
    ("International - Pas en capitales.", "", "International - Pas"),
    ("COVID-19 : le point sur l'épidémie.", "", "COVID-19 : le point"),
    ("La SNCF - en grève - bloque tout.", "", "La SNCF"),
])
def test_uppercase_rubric_becomes_section(tmp_path, opening, section, body_start):
    path = write(tmp_path / "a.txt", f"Un titre\n\n{opening}\n\nSuite de l'article.\n")
    [article] = load_corpus([path]).articles
    assert article.section == section
    assert article.body.startswith(body_start)
    assert article.body.endswith("\n\nSuite de l'article.")


@pytest.mark.parametrize("marker", [
    "À voir également sur Le HuffPost :",
    "A voir également",
    "Voir aussi",
    "Lire aussi :",
    "À lire aussi : Zanzibar vote",
    "A LIRE AUSSI",
    "à voir également sur Le HuffPost: une vidéo",
])
def test_related_links_block_is_cut(tmp_path, marker):
    text = ("Titre\n\nPremier paragraphe.\n\nDernier paragraphe.\n\n"
            f"{marker}\n\nZanzibar : le lien vers un autre article\n\nUn second lien\n")
    [article] = load_corpus([write(tmp_path / "a.txt", text)]).articles
    assert article.body == "Premier paragraphe.\n\nDernier paragraphe."
    assert "Zanzibar" not in article.body


def test_mid_article_read_also_line_does_not_cut_the_article(tmp_path):
    long_paragraph = "La suite de l'enquête révèle de nouveaux éléments. " * 10
    text = (f"Titre\n\nDébut.\n\nÀ lire aussi : un autre article\n\n{long_paragraph}\n\n"
            "Voir aussi\n\nZanzibar\n")
    [article] = load_corpus([write(tmp_path / "a.txt", text)]).articles
    assert article.body == f"Début.\n\n{long_paragraph.strip()}"


def test_words_that_merely_start_like_a_marker_are_kept(tmp_path):
    text = "Titre\n\nVoir aussitôt les résultats.\n\nRelire aussi le texte.\n"
    [article] = load_corpus([write(tmp_path / "a.txt", text)]).articles
    assert article.body == "Voir aussitôt les résultats.\n\nRelire aussi le texte."


# --- JSON formats ---------------------------------------------------------------------------------

RECORDS = [
    {"id": "orangesum-2", "title": "Olivier Véran : 400 millions d'euros",
     "lede": "Cela porte à 7 milliards.", "body": "Premier.\n\nSecond.", "date": "2020-07-02",
     "published_time": "2020-07-02T19:09:00+02:00", "url": "https://actu.orange.fr/a.html",
     "section": "France", "subsection": None, "section_meta": "France",
     "source": "AFP", "tags": ["santé", "hôpital"], "orangesum_split_title": "train"},
    {"id": 42, "title": "Tempête en Bretagne", "text": "Des rafales à 150 km/h.",
     "published_time": "2019-12-31T23:30:00-05:00", "tags": "météo, bretagne ,, vent",
     "source": None, "section": " Societe "},
]
EXPECTED = [
    Article(id="orangesum-2", title="Olivier Véran : 400 millions d'euros",
            body="Premier.\n\nSecond.", lede="Cela porte à 7 milliards.", date=date(2020, 7, 2),
            url="https://actu.orange.fr/a.html", source="AFP", section="france",
            tags=("santé", "hôpital")),
    Article(id="42", title="Tempête en Bretagne", body="Des rafales à 150 km/h.",
            date=date(2019, 12, 31), section="societe", tags=("météo", "bretagne", "vent")),
]


@pytest.mark.parametrize(("name", "content"), [
    ("a.json", json.dumps(RECORDS, ensure_ascii=False).encode("utf-8")),
    ("a.jsonl", jsonl(*RECORDS).encode("utf-8")),
    ("a.jsonl.gz", gzip.compress(jsonl(*RECORDS).encode("utf-8"))),
    ("A.JSONL", ("\ufeff" + jsonl(*RECORDS).replace("\n", "\r\n")).encode("utf-8")),
])
def test_json_formats_give_the_same_articles(tmp_path, name, content):
    corpus = load_corpus([write(tmp_path / name, content)])
    assert corpus.problems == ()
    assert list(corpus.articles) == EXPECTED
    assert corpus.files == 1


def test_json_file_with_one_object(tmp_path):
    path = write(tmp_path / "one.json", json.dumps(RECORDS[0]))
    assert load_corpus([path]).articles == (EXPECTED[0],)


def test_text_fields_are_cleaned(tmp_path):
    record = {"id": "x", "title": "Cafe\u0301\x00 du\tcommerce\x07", "lede": "  Le\x1f lede  ",
              "body": "Ligne\r\nsuivante\x0b.\n\n\n\nÀ\u0300 part \ud800."}
    # json.dumps escapes the lone surrogate as \\ud800, as a real producer would; the second
    # line holds raw control characters, which strict JSON rejects.
    raw_line = '{"id": "y", "title": "Un\x07 titre\rsur deux lignes", "body": "a\x01b"}'
    path = write(tmp_path / "a.jsonl", json.dumps(record) + "\r\n" + raw_line + "\n")
    corpus = load_corpus([path])
    assert corpus.problems == ()
    article, other = corpus.articles
    assert article.title == "Café du commerce"
    assert article.body == "Ligne\nsuivante.\n\nÀ\u0300 part \ufffd."
    assert article.lede == "Le lede"
    article.fingerprint()  # every field can be encoded
    assert (other.title, other.body) == ("Un titre sur deux lignes", "ab")


def test_missing_title_is_taken_from_the_body(tmp_path):
    body = ("Le conseil municipal de Marseille a voté jeudi soir un plan de rénovation des écoles "
            "de la ville, attendu depuis des années.")
    records = [{"id": "a", "body": body}, {"id": "b", "title": None, "body": "Court texte."}]
    a, b = load_corpus([write(tmp_path / "a.jsonl", jsonl(*records))]).articles
    assert a.title == ("Le conseil municipal de Marseille a voté jeudi soir un plan de "
                       "rénovation des…")
    assert len(a.title) <= 81 and body.startswith(a.title[:-1])
    assert b.title == "Court texte."


def test_body_without_title_and_title_without_body_are_kept(tmp_path):
    records = [{"id": "t", "title": "Seulement un titre"},
               {"id": "b", "body": "Seulement un corps"}]
    corpus = load_corpus([write(tmp_path / "a.jsonl", jsonl(*records))])
    assert corpus.problems == ()
    assert [(a.title, a.body) for a in corpus.articles] == [
        ("Seulement un titre", ""), ("Seulement un corps", "Seulement un corps")]


# --- ids ------------------------------------------------------------------------------------------

def test_missing_id_is_derived_from_url_then_text(tmp_path):
    records = [{"title": "T", "body": "B", "url": "https://exemple.fr/a"},
               {"title": "T", "body": "B"},
               {"id": None, "title": "Autre", "body": "Corps", "url": ""}]
    path = write(tmp_path / "a.jsonl", jsonl(*records))
    ids = [a.id for a in load_corpus([path]).articles]
    assert ids == [sha16("https://exemple.fr/a"), sha16("T\nB"), sha16("Autre\nCorps")]
    # The same record gives the same id in another file and format.
    again = write(tmp_path / "b.json", json.dumps(records[1]))
    assert load_corpus([again]).articles[0].id == sha16("T\nB")


@pytest.mark.parametrize(("raw_id", "kept"), [
    ("orangesum-2", True), ("A.b_c~d-1", True), (7, True),
    ("a/b", False), ("l'été", False), ("a b", False), ("..", False), ("x?y=1", False),
    ("a" * 300, False),
])
def test_ids_are_safe_in_a_url_path(tmp_path, raw_id, kept):
    path = write(tmp_path / "a.jsonl", jsonl({"id": raw_id, "title": "T", "body": "B"}))
    [article] = load_corpus([path]).articles
    assert SAFE_ID.fullmatch(article.id) and article.id not in (".", "..")
    assert (article.id == str(raw_id)) is kept
    if not kept:
        assert article.id == sha16(str(raw_id))


def test_unsafe_text_file_stem_gives_a_derived_id(tmp_path):
    [article] = load_corpus([write(tmp_path / "l'été à Paris.txt", "Titre\n\nCorps\n")]).articles
    assert article.id == sha16("l'été à Paris")


def test_duplicate_id_last_one_wins_in_first_seen_order(tmp_path):
    write(tmp_path / "a.jsonl", jsonl({"id": "x", "title": "Ancien", "body": "v1"},
                                      {"id": "y", "title": "Autre", "body": "b"}))
    write(tmp_path / "b.jsonl", jsonl({"id": "z", "title": "Z", "body": "z"},
                                      {"id": "x", "title": "Nouveau", "body": "v2"}))
    seen: list[Problem] = []
    corpus = load_corpus([tmp_path], on_problem=seen.append)
    assert [(a.id, a.title) for a in corpus.articles] == [
        ("x", "Nouveau"), ("y", "Autre"), ("z", "Z")]
    [problem] = corpus.problems
    assert seen == [problem]
    assert (problem.path, problem.line, problem.reason) == (str(tmp_path / "b.jsonl"), 2,
                                                             "duplicate-id")
    assert "'x'" in problem.message and f"{tmp_path / 'a.jsonl'}:1" in problem.message


# --- dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "expected"), [
    ({"date": "2023-09-13"}, date(2023, 9, 13)),
    ({"published_time": "2023-09-13T01:30:00+02:00"}, date(2023, 9, 13)),
    ({"published_time": "2023-09-12T22:30:00Z"}, date(2023, 9, 12)),
    ({"date": None, "published_time": None}, None),
    ({"date": "", "published_time": "2020-01-02T10:00:00+01:00"}, date(2020, 1, 2)),
])
def test_dates(tmp_path, fields, expected):
    path = write(tmp_path / "a.jsonl", jsonl({"id": "d", "title": "T", "body": "B", **fields}))
    corpus = load_corpus([path])
    assert corpus.problems == ()
    assert corpus.articles[0].date == expected


@pytest.mark.parametrize("fields", [
    {"date": "13/09/2023"}, {"date": "2023-02-30"}, {"date": 20230913},
    {"date": "2023-09-13T10:00:00"}, {"published_time": "hier soir"},
])
def test_bad_date_keeps_the_article_without_a_date(tmp_path, fields):
    path = write(tmp_path / "a.jsonl", jsonl({"id": "d", "title": "T", "body": "B", **fields}))
    corpus = load_corpus([path])
    assert reasons(corpus) == [("bad-date", 1)]
    assert corpus.articles[0].date is None and corpus.articles[0].title == "T"


def test_bad_date_falls_back_to_published_time(tmp_path):
    record = {"id": "d", "title": "T", "date": "13/09/2023",
              "published_time": "2023-09-13T08:00:00+02:00"}
    corpus = load_corpus([write(tmp_path / "a.jsonl", jsonl(record))])
    assert reasons(corpus) == [("bad-date", 1)]
    assert "'date'" in corpus.problems[0].message and "13/09/2023" in corpus.problems[0].message
    assert corpus.articles[0].date == date(2023, 9, 13)


# --- bad input ------------------------------------------------------------------------------------

def gzip_cut_in_half() -> bytes:
    """Return the first half of a gzipped JSON-lines file of 200 articles."""
    noise = random.Random(7)  # incompressible bodies, so half the file is half the articles
    records = [{"id": f"g{i}", "title": f"Article {i}", "body": noise.randbytes(600).hex()}
               for i in range(200)]
    data = gzip.compress(jsonl(*records).encode("utf-8"), mtime=0)
    return data[: len(data) // 2]


BAD_FILES = [
    # (name, content, reason, line, ids read from the bad file)
    ("latin1.txt", "Été à Paris\n\nCorps".encode("latin-1"), "undecodable", None, []),
    ("utf16.txt", "Titre\n\nCorps".encode("utf-16"), "undecodable", None, []),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary", None, []),
    ("nul.jsonl", b'{"id": "n", "title": "T"}\n\x00\x00', "binary", None, []),
    ("vide.txt", b"", "empty", None, []),
    ("blancs.jsonl", b"\n  \n\t\n", "empty", None, []),
    ("bom.md", b"\xef\xbb\xbf \n", "empty", None, []),
    ("bom.jsonl", b"\xef\xbb\xbf\n \n", "empty", None, []),
    ("latin1.jsonl", jsonl({"id": "x1", "title": "Un"}).encode()
     + '{"id": "x2", "title": "Été"}\n'.encode("latin-1"), "undecodable", None, []),
    # Read a megabyte at a time: the bad byte far from the start still keeps every article out.
    ("tard.jsonl", jsonl(*({"id": f"t{i}", "title": "Un", "body": "é" * 500}
                           for i in range(1500))).encode()
     + '{"id": "x", "title": "Été"}\n'.encode("latin-1"), "undecodable", None, []),
    ("liste.json", b"[]", "empty", None, []),
    ("lignes.jsonl", jsonl({"id": "l1", "title": "Un"}, '{"id": "l2", "title": ',
                           {"id": "l3", "title": "Trois"}).encode(), "bad-json", 2, ["l1", "l3"]),
    ("fichier.json", b'{\n  "id": "f1",\n  "title": oops\n}', "bad-json", 3, []),
    ("profond.jsonl", ("[" * 100_000 + "\n" + jsonl({"id": "p2", "title": "Deux"})).encode(),
     "bad-json", 1, ["p2"]),
    ("tableau.jsonl", jsonl([1, 2], {"id": "r2", "title": "Deux"}).encode(), "bad-record", 1,
     ["r2"]),
    ("chaine.jsonl", jsonl({"id": "r1", "title": "Un"}, "null").encode(),
     "bad-record", 2, ["r1"]),
    ("nombre.json", b"42", "bad-record", None, []),
    ("items.json", json.dumps([{"id": "i1", "title": "Un"}, 3]).encode(), "bad-record", None,
     ["i1"]),
    ("sanstexte.jsonl", jsonl({"id": "s1", "lede": "Seulement un chapeau", "title": " "},
                              {"id": "s2", "title": "Deux"}).encode(), "no-text", 1, ["s2"]),
    ("diese.md", b"#\n\n", "no-text", None, []),
    ("champ.jsonl", jsonl({"id": "c1", "title": "Un", "source": {"nom": "AFP"}}).encode(),
     "bad-field", 1, ["c1"]),
    ("coupe.jsonl.gz", gzip_cut_in_half(), "bad-gzip", None, None),
    ("pasgzip.jsonl.gz", b"ceci n'est pas du gzip", "bad-gzip", 1, []),
]


def test_json_lines_read_a_line_at_a_time_say_where_they_stop(tmp_path):
    """The byte offset of a late bad byte, and a byte-order mark before the first line."""
    good = jsonl(*({"id": f"t{i}", "title": "Un", "body": "é" * 500} for i in range(1500)))
    write(tmp_path / "tard.jsonl", good.encode() + b"\xe9\n")
    write(tmp_path / "bom.jsonl", b"\xef\xbb\xbf" + jsonl({"id": "b1", "title": "Un"}).encode())
    corpus = load_corpus([tmp_path])
    [problem] = corpus.problems
    assert f"at offset {len(good.encode())}" in problem.message
    assert [a.id for a in corpus.articles] == ["b1"]


@pytest.mark.parametrize(("name", "content", "reason", "line", "ids"), BAD_FILES,
                         ids=[row[0] for row in BAD_FILES])
def test_bad_input_is_reported_and_the_rest_is_read(tmp_path, name, content, reason, line, ids):
    write_good(tmp_path)
    bad = write(tmp_path / "sub" / name, content)
    seen: list[Problem] = []
    corpus = load_corpus([tmp_path], on_problem=seen.append)
    [problem] = corpus.problems
    assert seen == [problem]
    assert (problem.path, problem.reason) == (str(bad), reason)
    assert problem.message and str(problem).startswith(str(bad))
    got = [a.id for a in corpus.articles]
    assert got[0] == "bon-1"
    if ids is not None:
        assert problem.line == line
        assert got[1:] == ids
        assert corpus.files == 1 + bool(ids)


def test_truncated_gzip_keeps_the_articles_before_the_damage(tmp_path):
    path = write(tmp_path / "coupe.jsonl.gz", gzip_cut_in_half())
    corpus = load_corpus([path])
    [problem] = corpus.problems
    count = len(corpus.articles)
    assert problem.reason == "bad-gzip"
    assert 50 < count < 200
    assert [a.id for a in corpus.articles] == [f"g{i}" for i in range(count)]
    assert problem.line == count + 1


def test_bad_json_messages_name_the_problem(tmp_path):
    path = write(tmp_path / "a.jsonl", jsonl({"id": "a", "title": "Un"}, "{pas du json}",
                                             "[" * 100_000, '"texte"'))
    messages = {p.line: p.message for p in load_corpus([path]).problems}
    assert messages[2].startswith("not valid JSON")
    assert "nested too deeply" in messages[3]
    assert messages[4] == "the line holds a string, not an article object"


def test_unreadable_file_is_reported(tmp_path, monkeypatch):
    write_good(tmp_path)
    secret = write(tmp_path / "secret.txt", "Titre\n\nCorps\n")
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    corpus = load_corpus([tmp_path])
    assert [(p.path, p.reason) for p in corpus.problems] == [(str(secret), "unreadable")]
    assert "Permission denied" in corpus.problems[0].message
    assert [a.id for a in corpus.articles] == ["bon-1"]


def test_missing_and_unsupported_sources(tmp_path):
    good = write_good(tmp_path)
    other = write(tmp_path / "notes.docx", b"PK")
    corpus = load_corpus([tmp_path / "absent", good, other, tmp_path / "absent.txt"])
    assert [(p.path, p.reason) for p in corpus.problems] == [
        (str(tmp_path / "absent"), "missing"), (str(other), "unsupported"),
        (str(tmp_path / "absent.txt"), "missing")]
    assert [a.id for a in corpus.articles] == ["bon-1"]


def test_huge_article_is_reported_and_skipped_but_a_big_file_is_read(tmp_path):
    body = ("Un paragraphe de presse assez long pour remplir le fichier. " * 40 + "\n\n") * 4300
    huge = write(tmp_path / "enorme.txt", "Un très long article\n\n" + body)
    assert huge.stat().st_size > 10_000_000
    many = tmp_path / "beaucoup.jsonl"
    many.write_text("".join(json.dumps({"id": f"a{n}", "title": f"Article {n}",
                                        "body": body[:5000]}) + "\n" for n in range(2500)))
    assert many.stat().st_size > 10_000_000
    corpus = load_corpus([huge, many])
    assert [p.reason for p in corpus.problems] == ["too-large"]
    assert "enorme.txt" in str(corpus.problems[0])
    assert len(corpus.articles) == 2500


# --- directories ----------------------------------------------------------------------------------

def test_directory_walk_is_recursive_sorted_and_ignores_other_files(tmp_path):
    write(tmp_path / "b" / "2.txt", "Deux\n\nb")
    write(tmp_path / "b" / "1.md", "Un\n\nb")
    write(tmp_path / "a.jsonl", jsonl({"id": "zero", "title": "Zéro"}))
    write(tmp_path / "README.md", "# Ce dossier\n\nNe pas indexer.")
    write(tmp_path / "b" / "readme.md", "# Ni celui-ci\n")
    write(tmp_path / "b" / "photo.jpg", b"\xff\xd8\x00\x00")
    write(tmp_path / "b" / "notes.gz", b"\x1f\x8b")
    write(tmp_path / ".git" / "x.txt", "Caché\n")
    write(tmp_path / "b" / ".brouillon.txt", "Caché\n")
    corpus = load_corpus([tmp_path])
    assert corpus.problems == ()
    assert [a.id for a in corpus.articles] == ["zero", "1", "2"]
    assert corpus.files == 3
    assert load_corpus([tmp_path]) == corpus


def test_symlink_loop_is_reported_and_skipped(tmp_path):
    write(tmp_path / "a" / "sub" / "article.txt", "Titre\n\nCorps")
    os.symlink(tmp_path / "a", tmp_path / "a" / "sub" / "boucle")
    os.symlink("self.txt", tmp_path / "a" / "self.txt")
    corpus = load_corpus([tmp_path])
    assert [a.id for a in corpus.articles] == ["article"]
    assert sorted((p.path, p.reason) for p in corpus.problems) == [
        (str(tmp_path / "a" / "self.txt"), "symlink-loop"),
        (str(tmp_path / "a" / "sub" / "boucle"), "symlink-loop")]


def test_each_file_is_read_once_however_it_is_reached(tmp_path):
    write(tmp_path / "archive" / "x.txt", "Titre\n\nCorps")
    os.symlink(tmp_path / "archive", tmp_path / "lien")
    dangling = tmp_path / "mort.txt"
    os.symlink(tmp_path / "nulle-part.txt", dangling)
    corpus = load_corpus([tmp_path, tmp_path / "archive" / "x.txt", tmp_path / "lien"])
    assert [a.id for a in corpus.articles] == ["x"]
    assert corpus.files == 1
    assert [(p.path, p.reason) for p in corpus.problems] == [(str(dangling), "missing")]


# --- source names ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [  # spellings found in the OrangeSum corpus
    ("Source : L'Opinion", "L'Opinion"),
    ("source L'Opinion", "L'Opinion"),
    ("Source L'Opinion", "L'Opinion"),
    ("Source : l'Opinion ", "l'Opinion"),
    ("L'Opinion.", "L'Opinion"),
    ("« L’Opinion »", "L'Opinion"),
    ("Source : « L’Opinion ».", "L'Opinion"),
    ("Source :jeanmarcmorandini.com", "jeanmarcmorandini.com"),
    ("Source : BFMTV ", "BFMTV"),
    ("source BFMTV", "BFMTV"),
    (" ZoominTV People (FR)", "ZoominTV People (FR)"),
    ("Orange avec AFP-Services\n", "Orange avec AFP-Services"),
    ("Orange avec AFP-Services-", "Orange avec AFP-Services"),
    ("BVA  Orange", "BVA Orange"),
    ("Source : Canal +", "Canal +"),
    ("Salut les Terriens !", "Salut les Terriens !"),
    ("Media365 (vidéo Ominisport-fr)", "Media365 (vidéo Ominisport-fr)"),
    ("sourcefranceinfo", "sourcefranceinfo"),  # no space or colon: maybe a name
    ("Sources", "Sources"),
    ("Source :", ""),
])
def test_source_names_lose_their_prefix_quotes_and_dots(tmp_path, raw, expected):
    path = write(tmp_path / "a.jsonl", jsonl({**GOOD_RECORD, "source": raw}))
    [article] = load_corpus([path]).articles
    assert article.source == expected


@pytest.mark.parametrize(("sources", "expected"), [
    (["AFP", "afp", "Source AFP"], "AFP"),
    (["6Medias", "6medias", "Source : 6Médias", "6Medias ", "6MEDIAS"], "6Medias"),
    (["franceinfo", "Source Franceinfo", "source franceinfo"], "franceinfo"),
    (["Le HuffPost", "Source : Le Huffpost"], "Le HuffPost"),  # a tie: code-point order
])
def test_a_corpus_has_one_spelling_per_source(tmp_path, sources, expected):
    records = [{**GOOD_RECORD, "id": f"a{n}", "source": s} for n, s in enumerate(sources)]
    corpus = load_corpus([write(tmp_path / "a.jsonl", jsonl(*records))])
    assert [a.source for a in corpus.articles] == [expected] * len(sources)


def test_seed_article_is_from_the_site_its_related_links_name():
    [article] = load_corpus([SEEDS / "000_ea821b09932b2197.txt"]).articles
    assert article.source == "Le HuffPost"
    seeds = load_corpus([SEEDS]).articles
    assert next(a for a in seeds if a.id == "000_ea821b09932b2197").source == "Le HuffPost"


@pytest.mark.parametrize(("closing", "source"), [
    ("À voir également sur Le HuffPost :", "Le HuffPost"),
    ("à voir également sur Le HuffPost: une vidéo", "Le HuffPost"),
    ("Voir aussi sur France 24", "France 24"),
    ("Lire aussi sur l’Obs :", "l'Obs"),
    ("Lire aussi sur notre site :", ""),
    ("À lire aussi sur le même sujet :", ""),
    ("Lire aussi : Zanzibar sur Le Monde", ""),
    ("À voir également", ""),
])
def test_text_file_source_is_the_site_of_its_related_links(tmp_path, closing, source):
    text = f"Titre\n\nPremier paragraphe.\n\n{closing}\n\nUn lien vers un autre article\n"
    [article] = load_corpus([write(tmp_path / "a.txt", text)]).articles
    assert (article.source, article.body) == (source, "Premier paragraphe.")


def test_a_json_lines_file_changed_after_its_check_reports_the_bad_line(tmp_path, monkeypatch):
    """Lines appended between the UTF-8 check and the reading are checked as they come."""
    from newssearch import formats

    path = write(tmp_path / "vif.jsonl", jsonl({"id": "v1", "title": "Un"}).encode())
    checked = formats._checked_utf8

    def then_appended(here, f, on_problem):
        ok = checked(here, f, on_problem)
        with open(path, "ab") as out:
            out.write(b'{"id": "v2", "title": "\xe9t\xe9"}\n')
            out.write(jsonl({"id": "v3", "title": "Trois"}).encode())
        return ok

    monkeypatch.setattr(formats, "_checked_utf8", then_appended)
    corpus = load_corpus([tmp_path])
    assert [a.id for a in corpus.articles] == ["v1", "v3"]
    assert [(p.line, p.reason) for p in corpus.problems] == [(2, "undecodable")]
