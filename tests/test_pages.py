"""The French search page and article page, every state, through Flask's test client."""

from __future__ import annotations

import json
import re
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
    assert "Les <mark>élèves</mark> de l’école fêtent <mark>Noël</mark>" in html
    assert "20 décembre 2019" in html and "· AFP" in html and "· societe" in html
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
    assert 'name="from" type="date"' in html and 'name="to" type="date"' in html
    html = page(client, "/?q=retraites&sort=date")
    assert '<strong aria-current="true">date</strong>' in html


def test_facets_show_counts_and_filter(client):
    html = page(client, "/?q=retraites")
    facet = html[html.index('facet-section'):html.index('facet-source')]
    assert re.search(r'<a href="\?q=retraites&amp;section=france">france</a> \(6\)', facet)
    assert re.search(r'<a href="\?q=retraites&amp;section=politique">politique</a> \(7\)', facet)
    filtered = page(client, "/?q=retraites&section=france")
    assert re.search(r"6 résultats", text(filtered))
    assert "Retirer le filtre france" in filtered


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
    assert '<ol class="hits" start="11">' in last


def test_page_past_the_end_is_a_french_404(client):
    html = page(client, "/?q=retraites&page=9", status=404)
    assert "Page introuvable" in html


def test_suggestion_links_to_the_corrected_query(client):
    html = page(client, "/?q=retriates")
    assert "Essayez avec l’orthographe" in html
    assert '<a href="?q=retraites"><em>retraites</em></a>' in html


def test_notices_are_shown(client):
    html = page(client, '/?q="retraites')
    assert "Guillemets non fermés" in html


def test_empty_result_page_helps(client):
    html = page(client, "/?q=zzyzx+qwv&section=france")
    assert "Aucun article ne correspond à « zzyzx qwv »" in html
    assert "essayez moins de mots" in html
    assert "Chercher sans les filtres" in html


def test_bad_parameter_is_a_french_400_page(client):
    html = page(client, "/?q=noel&per_page=abc", status=400)
    assert "Requête invalide" in html and "« per_page » doit être un entier" in html
    assert "Traceback" not in html


def test_article_page_marks_query_words_and_lists_related(client):
    html = page(client, "/articles/retraites-3?q=greve")
    assert "<h1>Retraites : journée de <mark>grève</mark> numéro 3</h1>" in html
    assert "Articles liés" in html and 'href="/articles/retraites-' in html
    assert "‹ Retour aux résultats" in html


def test_unknown_article_is_a_french_404(client):
    html = page(client, "/articles/nope", status=404)
    assert "Page introuvable" in html


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
