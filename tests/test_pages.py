"""The French search page and article page, every state, through Flask's test client."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html import unescape

import pytest

from newssearch import indexer
from newssearch.web import create_app
from tests.conftest import ARTICLES

EXTRA = [
    {"id": f"retraites-{n}", "title": f"Retraites : journée de grève numéro {n}",
     "body": f"La mobilisation contre la réforme des retraites continue, épisode {n}.",
     "date": f"2023-0{1 + n % 9}-1{n % 10}", "section": "france" if n % 2 else "politique",
     "source": "AFP"} for n in range(1, 13)
] + [
    {"id": "depeche-1", "title": "Séisme au Japon", "body": "Une secousse à Tokyo.",
     "date": "2021-03-01", "section": "monde", "source": "AFP", "url": "https://a.example/1"},
    {"id": "depeche-2", "title": "Séisme au Japon", "body": "Une secousse à Tokyo ce matin.",
     "date": "2021-03-01", "section": "monde", "source": "Reuters"},
    {"id": "depeche-3", "title": "Séisme au Japon", "body": "Secousse ressentie à Tokyo.",
     "date": "2021-03-02", "section": "monde", "source": "6Medias"},
    {"id": "hostile", "title": "<script>alert('x')</script> Piratage & <b>gras</b>",
     "body": "Un piratage <img src=x onerror=alert(1)> informatique.", "date": "2022-02-01",
     "section": "<i>tech</i>", "source": "<script>src</script>"},
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A client of the app over an index of the shared articles plus paging and dups."""
    root = tmp_path_factory.mktemp("pages")
    (root / "a.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n"
                                          for a in ARTICLES + EXTRA), "utf-8")
    indexer.rebuild([root / "a.jsonl"], root / "ix")
    return create_app({"TESTING": True, "INDEX_DIR": str(root / "ix")}).test_client()


def page(client, url: str, status: int = 200) -> str:
    r = client.get(url)
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    assert r.mimetype == "text/html"
    return r.get_data(as_text=True)


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_home_has_a_labelled_autofocused_search_box(client):
    html = page(client, "/")
    assert '<html lang="fr">' in html
    assert '<label for="q">' in html and "autofocus" in html
    assert 'name="q"' in html and "Recherche d’articles" in html


def test_results_show_count_marks_french_date_source_and_section(client):
    html = page(client, "/?q=eleves+noel")
    assert re.search(r"1 résultat \(\d,\d{3} s\)", text(html))
    assert re.search("\\(\\d,\\d{3}\u00a0s\\)", html)  # « 0,008 s » in one piece
    assert "Les <mark>élèves</mark> de l’école fêtent <mark>Noël</mark>" in html
    assert "20\u00a0décembre\u00a02019" in html  # a date never breaks across lines
    assert "· AFP" in html and "· Société" in html  # the section's display name
    assert 'value="eleves noel"' in html  # the query stays in the box
    assert 'href="/articles/ecole-noel?q=eleves+noel"' in html


def test_results_link_to_the_json_api(client):
    html = page(client, "/?q=noel&sort=date")
    assert ('<link rel="alternate" type="application/json" '
            'href="/api/search?q=noel&amp;sort=date">') in html


def test_duplicates_collapse_with_a_count_and_the_original_link(client):
    html = page(client, "/?q=seisme+japon")
    assert text(html).count("Séisme au Japon") == 1
    assert "+ 2 articles similaires" in html
    assert 'href="https://a.example/1"' in html or "Lire l’original" not in html


def test_sort_links_and_date_form_keep_the_query(client):
    html = page(client, "/?q=retraites&section=france")
    assert 'href="?q=retraites&amp;sort=date&amp;section=france"' in html
    assert '<input type="hidden" name="section" value="france">' in html
    # Text fields that take French dates, not the browser's own date order.
    assert 'name="from" type="text"' in html and 'name="to" type="text"' in html
    assert "15/06/2020, 06/2020, 2020" in text(html)
    html = page(client, "/?q=retraites&sort=date")
    assert '<strong aria-current="true">plus récents</strong>' in html
    assert 'href="?q=retraites&amp;sort=date_asc">plus anciens</a>' in html


def test_facets_show_counts_and_filter(client):
    html = page(client, "/?q=retraites")
    facet = html[html.index('facet-section'):html.index('facet-source')]
    assert re.search(r'<a href="\?q=retraites&amp;section=france" class="toggle">France</a> '
                     r'\(6\)', facet)
    assert re.search(r'<a href="\?q=retraites&amp;section=politique" class="toggle">Politique'
                     r'</a> \(7\)', facet)
    filtered = page(client, "/?q=retraites&section=france")
    assert re.search(r"6 résultats", text(filtered))
    assert "Retirer le filtre France" in filtered


def test_pagination_first_middle_and_last_page(client):
    first = page(client, "/?q=retraites&per_page=5")
    assert "13 résultats" in text(first)
    assert 'rel="prev"' not in first and 'rel="next"' in first
    assert '<strong aria-current="page">1</strong>' in first
    assert 'href="?q=retraites&amp;per_page=5&amp;page=3"' in first
    middle = page(client, "/?q=retraites&per_page=5&page=2")
    assert 'rel="prev"' in middle and 'rel="next"' in middle
    last = page(client, "/?q=retraites&per_page=5&page=3")
    assert 'rel="next"' not in last and last.count('class="hit"') == 3
    assert re.search(r"<ol class=\"hits\"[^>]* start=\"11\">", last)


def test_page_past_the_end_offers_the_last_page(client):
    html = page(client, "/?q=retraites&per_page=5&page=9", status=404)
    assert "Page introuvable" not in html
    assert "Cette recherche n’a que 3 pages de résultats." in text(html)
    assert '<a href="?q=retraites&amp;per_page=5&amp;page=3">Aller à la dernière page (3)</a>' \
        in html


def test_pages_say_which_page_in_the_title_and_the_text(client):
    html = page(client, "/?q=retraites&per_page=5&page=2")
    assert "<title>retraites – page 2 sur 3 – newssearch</title>" in html
    assert "Page 2 sur 3" in text(html)
    assert "page" not in page(client, "/?q=retraites").split("</title>")[0].split("<title>")[1]


def test_a_correction_is_said_once_with_the_way_back_to_the_words_as_typed(client):
    html = page(client, "/?q=retriates")
    assert "Essayez avec l’orthographe" not in html and "Aucun résultat pour" not in html
    assert re.search(r"Résultats pour retraites ?\. Rechercher plutôt retriates", text(html))
    assert text(html).count("Résultats pour") == 1
    assert '<a href="?q=retraites"><em>retraites</em></a>' in html
    assert '<a href="?q=retriates&amp;verbatim=1">retriates</a>' in html
    verbatim = page(client, "/?q=retriates&verbatim=1")
    assert "Aucun résultat" in text(verbatim)
    assert "Essayez avec l’orthographe : retraites" in text(verbatim)


def test_notices_are_shown(client):
    html = page(client, '/?q="retraites')
    assert "Guillemets non fermés" in html


def test_empty_result_page_helps(client):
    html = page(client, "/?q=zzyzx+qwv&section=france")
    assert "Aucun article ne correspond à « zzyzx qwv »" in text(html)
    assert "Aucun résultat (" in text(html) and "0 résultats" not in text(html)
    assert "essayez moins de mots" in html
    assert "Chercher sans les filtres" in html


def test_bad_parameter_is_a_french_400_page(client):
    html = page(client, "/?q=noel&per_page=abc", status=400)
    assert "Requête invalide" in html and "« per_page » doit être un entier" in text(html)
    assert "Traceback" not in html


def test_a_date_it_cannot_read_keeps_the_query_and_links_back_without_it(client):
    html = page(client, "/?q=noel&from=31/02/2020&section=societe", status=400)
    assert "Date « Du » illisible : « 31/02/2020 »" in text(html)
    assert "« from »" not in text(html)
    assert 'value="noel"' in html  # the query stays in the box
    assert '<a href="/?q=noel&amp;section=societe">' in html


def day(article: dict) -> str:
    return article.get("date") or article["published_time"][:10]


IN_FOUR_SECTIONS = [a for a in ARTICLES + EXTRA
                    if a["section"] in ("france", "politique", "monde", "societe")]


@pytest.mark.parametrize(("dates", "low", "high"), [
    ("from=2023", "2023-01-01", "9999"), ("from=2023-03&to=2023-03", "2023-03-01", "2023-03-31"),
    ("from=01/03/2023&to=31/03/2023", "2023-03-01", "2023-03-31"), ("to=2021", "0", "2021-12-31"),
    ("from=2023&to=2019", "2019-01-01", "2023-12-31"), ("from=2021-03", "2021-03-01", "9999"),
])
def test_partial_dates_in_the_form_stay_as_typed(client, dates, low, high):
    html = page(client, f"/?q=&section=france&section=politique&section=monde&section=societe"
                        f"&{dates}")
    # Wire copies of one headline count once.
    expected = len({a["title"] for a in IN_FOUR_SECTIONS if low <= day(a) <= high})
    assert expected > 1 and f"{expected} résultats" in text(html)
    typed = dict(pair.split("=") for pair in dates.split("&"))
    for name, value in typed.items():
        assert f'id="{name}" name="{name}" type="text"' in html
        assert f'value="{value}"' in html


def test_date_presets_count_back_from_today(tmp_path):
    today = date.today()
    days = {"aujourdhui": today, "semaine": today - timedelta(days=5),
            "mois": today - timedelta(days=20), "annee": today - timedelta(days=200),
            "ancien": today - timedelta(days=900)}
    (tmp_path / "a.jsonl").write_text("".join(
        json.dumps({"id": k, "title": f"Marée noire {k}", "body": "Une marée noire.",
                    "date": d.isoformat()}) + "\n" for k, d in days.items()), "utf-8")
    indexer.rebuild([tmp_path / "a.jsonl"], tmp_path / "ix")
    presets = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "ix")}).test_client()
    for period, expected in (("24h", 1), ("semaine", 2), ("mois", 3), ("annee", 4), ("", 5)):
        html = page(presets, f"/?q=maree+noire&period={period}")
        assert f"{expected} résultat" in text(html), period
    html = page(presets, "/?q=maree+noire&period=semaine")
    assert '<strong aria-current="true">semaine</strong>' in html
    assert "Dernière semaine" in text(html)  # the chip of the active period


def test_article_page_marks_query_words_and_lists_related(client):
    html = page(client, "/articles/retraites-3?q=greve")
    assert "<h1>Retraites\u00a0: journée de <mark>grève</mark> numéro 3</h1>" in html
    assert "Articles liés" in html and 'href="/articles/retraites-' in html
    assert '<a href="/?q=greve">‹ Retour aux résultats</a>' in html


def test_return_to_results_keeps_the_page_sort_and_filters(client):
    url = "/?q=retraites&sort=date&section=france&section=politique&per_page=5&page=2"
    html = page(client, url)
    link = re.search(r'<li class="hit">\s*<h2><a href="([^"]+)"', html).group(1)
    assert link.endswith("?q=retraites&amp;sort=date&amp;section=france&amp;section=politique"
                         "&amp;per_page=5&amp;page=2")
    article = page(client, unescape(link))
    back = re.search(r'<a href="([^"]+)">‹ Retour aux résultats', article).group(1)
    assert unescape(back) == url


def test_unknown_article_is_a_french_404(client):
    html = page(client, "/articles/nope", status=404)
    assert "<h1>Page introuvable</h1>" in html
    assert text(html).count("Page introuvable") == 2  # the title and the heading, once each
    assert "Aucune page à cette adresse" in text(html)


@pytest.mark.parametrize("url", ["/?q=piratage", "/articles/hostile?q=piratage"])
def test_hostile_article_text_is_shown_escaped(client, url):
    html = page(client, url)
    assert "<script>alert" not in html and "<b>gras</b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html or \
        "&lt;script&gt;alert('x')&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<i>tech</i>" not in html


def test_hostile_query_is_escaped_everywhere(client):
    html = page(client, "/?q=%3Cscript%3Ealert(1)%3C/script%3E+retraites")
    assert "<script>alert(1)" not in html


def test_no_external_resources(client):
    html = page(client, "/?q=retraites")  # these hits have no original url
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for asset in ("/static/style.css", "/static/suggest.js"):
        r = client.get(asset)
        assert r.status_code == 200 and r.data
        r.close()


# French typography on every page ------------------------------------------------------

EVERY_PAGE = [
    ("/", 200), ("/?q=eleves+noel", 200), ("/?q=retraites&per_page=5&page=2", 200),
    ("/?q=retraites&section=france&section=politique&from=2023&to=2023-06", 200),
    ("/?q=retriates", 200), ("/?q=retriates&verbatim=1", 200), ('/?q="retraites', 200),
    ("/?q=zzyzx+qwv&section=france", 200), ("/?q=retraites&period=mois", 200),
    ("/?q=macron+OR+-philippe", 200), ("/?q=titre:", 200), ("/?q=%3F+%21", 200),
    ("/?q=retraites&per_page=5&page=9", 404), ("/?q=noel&per_page=abc", 400),
    ("/?q=noel&from=hier", 400), ("/articles/retraites-3?q=greve", 200),
    ("/articles/ecole-noel", 200), ("/articles/nope", 404), ("/nope", 404),
]


def visible_text(html: str) -> list[str]:
    """The texts a reader sees, the title and the body: no tags, no attributes, entities decoded."""
    title = re.search(r"<title>(.*)</title>", html, re.S).group(1)
    body = html[html.index("<body>"):]
    return [unescape(re.sub(r"<[^>]+>", "", part)) for part in (title, body)]


@pytest.mark.parametrize(("url", "status"), EVERY_PAGE)
def test_no_plain_space_before_french_punctuation_or_inside_guillemets(client, url, status):
    html = page(client, url, status=status)
    for shown in visible_text(html):
        assert re.findall(r".{0,25}(?:[ \t\r\n][:;?!»]|«[ \t\r\n]).{0,25}", shown) == []


def test_the_typography_filter_leaves_tags_and_attributes_alone():
    from newssearch.typography import french_spaces
    out = french_spaces('<input value="a : b ?" title="« x »">Note : « oui » ? <b>non</b> !')
    assert out == ('<input value="a : b ?" title="« x »">Note\u00a0: «\u00a0oui\u00a0» \u202f?'
                   ' <b>non</b>\u202f!').replace(" \u202f?", "\u202f?")


# Facets, chips and the timeline --------------------------------------------------------

def test_several_sections_at_once_with_chips_and_clear_all(client):
    one = page(client, "/?q=retraites&section=france")
    facet = one[one.index("facet-section"):one.index("facet-source")]
    # Another section adds to the chosen one; the chosen one's link takes it away.
    assert 'href="?q=retraites&amp;section=france&amp;section=politique"' in facet
    assert 'href="?q=retraites" class="toggle on">France' in facet
    both = page(client, "/?q=retraites&section=france&section=politique&source=AFP&from=2023")
    assert "13 résultats" in text(both)
    chips = both[both.index('class="chips"'):both.index('class="layout"')]
    assert [unescape(c) for c in re.findall(r"<li><span>([^<]+)</span>", chips)] == [
        "France", "Politique", "AFP", "Depuis le 1er janvier 2023"]
    assert 'href="?q=retraites&amp;from=2023&amp;section=politique&amp;source=AFP"' in chips
    assert '<a class="clear" href="?q=retraites">Tout effacer</a>' in chips
    backwards = page(client, "/?q=retraites&from=2023&to=2019")
    assert "Du 1er janvier 2019 au 31 décembre 2023" in text(backwards)


def test_timeline_bars_link_to_their_month(client):
    html = page(client, "/?q=retraites")
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "Articles par mois, janvier 2023 – septembre 2023" in text(html)
    months = re.findall(r'<a href="\?q=retraites&amp;from=(2023-\d\d)&amp;to=\1" '
                        r'aria-label="([^"]+)"', svg)
    assert [m for m, _ in months] == [f"2023-0{n}" for n in range(1, 10)]
    assert months[0][1] == "janvier 2023 : 2 articles"
    narrowed = page(client, "/?q=retraites&from=2023-01&to=2023-01")
    assert "2 résultats" in text(narrowed)


# Alerts and exports ------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"


def test_results_link_to_their_feed_and_exports(client):
    html = page(client, "/?q=retraites&section=france&page=2&per_page=5")
    assert ('<link rel="alternate" type="application/atom+xml" title="Suivre cette recherche" '
            'href="/feed.atom?q=retraites&amp;section=france&amp;per_page=5">') in html
    assert ">Suivre cette recherche</a>" in html
    assert 'href="/export.csv?q=retraites&amp;section=france&amp;per_page=5"' in html
    assert 'href="/export.jsonl?q=retraites&amp;section=france&amp;per_page=5"' in html


def test_feed_is_valid_atom_of_the_newest_matches(client):
    from xml.etree import ElementTree as ET

    r = client.get("/feed.atom?q=retraites&section=politique&section=france&sort=relevance")
    assert r.status_code == 200 and r.mimetype == "application/atom+xml"
    feed = ET.fromstring(r.data)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"].startswith("http://localhost/feed.atom?q=retraites&section=politique")
    assert links["alternate"].startswith("http://localhost/?q=retraites")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 13
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)  # newest first, whatever sort= said
    assert feed.findtext(f"{ATOM}updated") == updated[0]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", u) for u in updated)
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 13 and all(i.startswith("http://localhost/articles/") for i in ids)
    first = entries[0]
    assert first.find(f"{ATOM}link").get("href") == ids[0]
    assert first.findtext(f"{ATOM}title").startswith("Retraites : journée de grève")
    assert "<mark>" not in first.findtext(f"{ATOM}summary")


def test_feed_escapes_hostile_articles(client):
    from xml.etree import ElementTree as ET

    feed = ET.fromstring(client.get("/feed.atom?q=piratage").data)
    title = feed.find(f"{ATOM}entry").findtext(f"{ATOM}title")
    assert title == "<script>alert('x')</script> Piratage & <b>gras</b>"  # text, not markup


def test_exports_stream_every_match_with_its_fields(client):
    import csv
    import io

    r = client.get("/export.csv?q=retraites&sort=date_asc")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0] == ["id", "date", "title", "source", "section", "url"]
    assert len(rows) == 1 + 13  # more than a page: every match
    dates = [row[1] for row in rows[1:]]
    assert dates == sorted(dates)
    assert ["elysee-reforme", "2023-01-12", "L’Élysée défend la réforme des retraites", "AFP",
            "politique", "https://example.org/elysee"] in rows
    lines = client.get("/export.jsonl?q=retraites&section=france").get_data(as_text=True)
    records = [json.loads(line) for line in lines.splitlines()]
    assert len(records) == 6 and all(r["section"] == "france" for r in records)
    assert list(records[0]) == ["id", "date", "title", "source", "section", "url"]


def test_exports_say_when_they_were_cut(index_dir):
    import csv
    import io

    limited = create_app({"TESTING": True, "INDEX_DIR": str(index_dir), "EXPORT_LIMIT": 2})
    client = limited.test_client()
    rows = list(csv.reader(io.StringIO(
        client.get("/export.csv?q=saint-denis+OR+kim").get_data(as_text=True))))
    assert len(rows) == 1 + 2 + 1
    assert rows[-1] == ["# Export limité aux 2 premiers résultats sur 3."]
    lines = client.get("/export.jsonl?q=saint-denis+OR+kim").get_data(as_text=True).splitlines()
    assert len(lines) == 3
    assert json.loads(lines[-1]) == {"truncated": True, "exported": 2, "total": 3,
                                     "message": "Export limité aux 2 premiers résultats sur 3."}
