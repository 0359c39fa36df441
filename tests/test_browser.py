"""End to end: the real `newssearch serve` driven by headless Chromium through Selenium.

Skipped when Chromium or chromedriver is missing, unless NEWSSEARCH_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from newssearch import indexer

CHROMIUM = Path("/usr/bin/chromium")
# axe-core, installed from package.json by scripts/setup (npm ci).
AXE = Path(__file__).parent.parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).parent / "artifacts"
WAIT = 10  # seconds for any one page to show what we wait for
HOSTILE_SCRIPT = '<script>alert("xss")</script>'
HOSTILE_BOLD = "<b>gras</b>"

FIELDS = ("id", "title", "lede", "body", "date", "section", "source")
ROWS = [
    # Nine about the presidential election, in three sections: enough for five pages of two.
    ("presidentielle-calendrier", "Présidentielle : le calendrier de la campagne est fixé",
     "Le Conseil constitutionnel a publié les dates du scrutin.",
     "Les candidats à la présidentielle devront déposer leurs parrainages avant mars. "
     "Le gouvernement a confirmé les dates du premier tour.",
     "2026-01-08", "politique", "AFP"),
    ("presidentielle-sondage", "Un premier sondage bouscule la présidentielle",
     "Trois candidats se tiennent en quelques points.",
     "Selon l’institut, la présidentielle reste très ouverte à un an du vote. "
     "Les indécis sont encore nombreux dans les régions rurales.",
     "2026-01-15", "politique", "Reuters"),
    ("presidentielle-debat", "Le premier débat télévisé de la présidentielle",
     "Les candidats se sont affrontés pendant trois heures.",
     "Les échanges ont porté sur le pouvoir d’achat et l’école. "
     "Les téléspectateurs ont jugé le débat de la présidentielle animé.",
     "2026-02-03", "politique", "AFP"),
    ("presidentielle-europe", "La présidentielle française suivie de près à Bruxelles",
     "Les partenaires européens observent la campagne.",
     "À Bruxelles, les diplomates scrutent la présidentielle et ses conséquences "
     "pour le budget européen.",
     "2026-02-10", "monde", "Reuters"),
    ("presidentielle-economie", "Les entreprises attendent la présidentielle pour investir",
     "Les chefs d’entreprise repoussent leurs projets.",
     "Plusieurs patrons expliquent attendre l’issue de la présidentielle avant "
     "d’ouvrir de nouvelles usines.",
     "2026-02-18", "economie", "Les Échos"),
    ("presidentielle-outre-mer", "Présidentielle : les électeurs d’outre-mer votent plus tôt",
     "Le vote commence un jour avant la métropole.",
     "En Guadeloupe et en Martinique, les bureaux de vote de la présidentielle "
     "ouvrent dès le samedi.",
     "2026-03-02", "politique", "AFP"),
    ("presidentielle-presse-etrangere", "La presse étrangère commente la présidentielle",
     "De Berlin à Washington, les éditorialistes s’interrogent.",
     "Les journaux allemands consacrent leur une à la présidentielle française.",
     "2026-03-09", "monde", "AFP"),
    ("presidentielle-budget", "Le coût de la campagne présidentielle en hausse",
     "Les comptes de campagne seront contrôlés.",
     "La commission nationale rappelle le plafond des dépenses pour la présidentielle.",
     "2026-03-16", "economie", "Reuters"),
    ("presidentielle-diaspora", "Les Français de l’étranger inscrits pour la présidentielle",
     "Les consulats ouvrent des bureaux supplémentaires.",
     "À Montréal et à Londres, les files d’attente s’allongent avant la présidentielle.",
     "2026-03-18", "monde", "AFP"),
    # Three about the government: a misspelt « gouvernemnt » is corrected to it.
    ("gouvernement-remaniement", "Le gouvernement prépare un remaniement",
     "Plusieurs ministres pourraient quitter leur poste.",
     "Le Premier ministre consulte les partis de la majorité. Le gouvernement "
     "devrait être annoncé la semaine prochaine.",
     "2025-11-04", "politique", "AFP"),
    ("gouvernement-budget", "Le gouvernement présente son budget",
     "Le projet de loi de finances arrive à l’Assemblée.",
     "Le gouvernement prévoit une baisse du déficit et de nouvelles économies.",
     "2025-10-01", "economie", "Les Échos"),
    ("gouvernement-agriculteurs", "Les agriculteurs reçus par le gouvernement",
     "Les syndicats agricoles demandent des mesures rapides.",
     "Le ministre de l’Agriculture a promis des aides. Le gouvernement rendra sa réponse lundi.",
     "2025-12-12", "societe", "AFP"),
    ("ecole-rentree", "Rentrée scolaire : les enseignants manquent encore",
     "Des classes restent sans professeur dans plusieurs académies.",
     "Les parents d’élèves s’inquiètent du manque de remplaçants.",
     "2025-09-02", "societe", "AFP"),
    ("hopital-urgences", "Les urgences de l’hôpital saturées cet hiver",
     "L’épidémie de grippe remplit les services.",
     "Les soignants décrivent des nuits difficiles et des patients qui attendent des heures.",
     "2025-12-20", "societe", "Reuters"),
    ("tour-de-france", "Le Tour de France partira de Barcelone",
     "Les organisateurs ont dévoilé le parcours.",
     "Les coureurs traverseront les Pyrénées dès la première semaine.",
     "2025-10-23", "sport", "AFP"),
    ("rugby-tournoi", "Le XV de France remporte le Tournoi des six nations",
     "Les Bleus ont battu l’Irlande au Stade de France.",
     "Le sélectionneur salue un groupe jeune et solidaire.",
     "2026-03-14", "sport", "Reuters"),
    ("ukraine-negociations", "Nouvelles négociations sur l’Ukraine à Genève",
     "Les délégations se retrouvent pour un troisième round.",
     "Les diplomates espèrent un cessez-le-feu avant l’été.",
     "2026-02-25", "monde", "AFP"),
    ("japon-seisme", "Un séisme de magnitude 6 frappe le nord du Japon",
     "Aucune victime n’est signalée pour l’instant.",
     "Les trains à grande vitesse ont été arrêtés par précaution.",
     "2026-01-30", "monde", "Reuters"),
    ("inflation-janvier", "L’inflation ralentit en janvier",
     "Les prix de l’énergie reculent.",
     "Selon l’Insee, les prix alimentaires restent toutefois élevés.",
     "2026-02-12", "economie", "AFP"),
    ("bourse-record", "La Bourse de Paris atteint un record",
     "Le CAC 40 a franchi un nouveau seuil.",
     "Les valeurs du luxe tirent l’indice vers le haut.",
     "2026-03-05", "economie", "Les Échos"),
    ("meteo-tempete", "Une tempête balaie la Bretagne",
     "Des rafales à 150 km/h ont été enregistrées.",
     "Des milliers de foyers sont privés d’électricité dans le Finistère.",
     "2025-11-28", "societe", "AFP"),
    ("cinema-cesar", "La cérémonie des César récompense un premier film",
     "Une jeune réalisatrice remporte le prix du meilleur film.",
     "Le public de l’Olympia a longuement applaudi l’équipe du film.",
     "2026-02-28", "culture", "AFP"),
    ("musee-louvre", "Le Louvre ouvre une nouvelle aile",
     "Les collections égyptiennes y seront présentées.",
     "Le musée espère attirer davantage de visiteurs dès le printemps.",
     "2026-01-20", "culture", "Reuters"),
    ("train-greve", "Grève des contrôleurs : la SNCF prévoit des perturbations",
     "Un train sur deux circulera vendredi.",
     "Les voyageurs sont invités à reporter leurs déplacements.",
     "2026-02-06", "societe", "AFP"),
    # Two from the archives: with them, Reuters's articles span 27 months.
    ("archives-climat", "Les archives du climat numérisées",
     "Des relevés anciens rejoignent les bases de données.",
     "Les chercheurs comparent les températures du siècle dernier.",
     "2024-01-10", "sciences", "Reuters"),
    ("archives-cinema", "Les archives du cinéma muet restaurées",
     "Des bobines retrouvées dans un grenier.", "La cinémathèque projettera les films cet hiver.",
     "2024-06-15", "culture", "Reuters"),
    ("canular-xss", f"Un canular {HOSTILE_SCRIPT} et du {HOSTILE_BOLD} dans le titre",
     "Un article piégé pour vérifier l’échappement.",
     f"Le corps contient aussi {HOSTILE_SCRIPT} et {HOSTILE_BOLD} en clair.",
     "2026-03-20", "societe", "Test"),
]
ARTICLES = [dict(zip(FIELDS, row, strict=True), url=f"https://example.org/{row[0]}")
            for row in ROWS]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index of the articles, built by the indexer from a JSONL file."""
    base = tmp_path_factory.mktemp("browser")
    source = base / "news.jsonl"
    source.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES),
                      encoding="utf-8")
    indexer.rebuild([source], base / "index")
    return base / "index"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urlopen(url + "/health", timeout=1) as response:
            return response.status == 200
    except HTTPError as e:
        e.close()
    except (URLError, OSError):
        pass
    return False


@pytest.fixture(scope="module")
def server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of `newssearch serve` running on the index in a subprocess."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("server")
    command = [sys.executable, "-m", "newssearch", "serve", "--index", str(index_dir),
               "--host", "127.0.0.1", "--port", str(port)]
    with open(logs / "stdout", "wb") as out, open(logs / "stderr", "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                state = "exited" if process.poll() is not None else "did not answer in 20 s"
                stderr = (logs / "stderr").read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"newssearch serve {state} on {url}; stderr:\n{stderr}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def driver(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium, with a fresh profile, that never downloads a driver."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        reason = f"browser test needs {' and '.join(missing)} (apt install chromium-driver)"
        if os.environ.get("NEWSSEARCH_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--lang=fr-FR",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    # Leave any alert open, so that the XSS test sees it instead of an error elsewhere.
    options.unhandled_prompt_behavior = "ignore"
    service = Service(str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    browser = webdriver.Chrome(options=options, service=service)
    try:
        yield browser
    finally:
        browser.quit()


def open_page(driver: WebDriver, url: str, ready: str = "main") -> None:
    """Load a URL and wait for an element of the page."""
    driver.get(url)
    WebDriverWait(driver, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, ready)))


@contextmanager
def next_page(driver: WebDriver, ready: str = "main") -> Iterator[None]:
    """Wait, after the block's action, for a new document to replace this one.

    The old document is marked with a script variable rather than held as an
    element: asking chromium whether an element went stale while it navigates
    can fail with « Node with given id does not belong to the document ».
    """
    driver.execute_script("window.newssearchOldPage = true")
    yield
    WebDriverWait(driver, WAIT, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return window.newssearchOldPage === undefined"))
    WebDriverWait(driver, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, ready)))


def follow(driver: WebDriver, link: WebElement, ready: str = "main") -> None:
    """Click a link and wait for the next page to replace this one."""
    with next_page(driver, ready):
        link.click()


def count(driver: WebDriver) -> int:
    """The number in « 12 résultats (0,004 s) »."""
    text = driver.find_element(By.CSS_SELECTOR, ".count").text
    m = re.match(r"(\d[\d\u202f ]*) résultats? ", text)
    assert m, text
    return int(re.sub(r"\D", "", m.group(1)))


def texts(driver: WebDriver, css: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def hit_ids(driver: WebDriver) -> list[str]:
    links = driver.find_elements(By.CSS_SELECTOR, ".hit h2 a")
    return [link.get_attribute("href").split("/articles/")[1].split("?")[0] for link in links]


def current_page(driver: WebDriver) -> str:
    return driver.find_element(By.CSS_SELECTOR, ".pagination strong[aria-current=page]").text


def assert_no_alert(driver: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018 - the property raises when there is no alert


def test_security_headers(server: str) -> None:
    with urlopen(server + "/", timeout=5) as response:
        headers = response.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_search_without_accents_marks_accented_words(driver: WebDriver, server: str) -> None:
    open_page(driver, server + "/", "#q")
    box = driver.find_element(By.ID, "q")
    WebDriverWait(driver, WAIT).until(lambda d: d.switch_to.active_element == box)
    assert box.accessible_name == "Rechercher dans les articles"
    assert driver.find_element(By.CSS_SELECTOR, "label[for=q]").is_displayed()

    box.send_keys("presidentielle" + Keys.ENTER)
    WebDriverWait(driver, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".count")))

    assert count(driver) == 9
    assert "résultats" in driver.find_element(By.CSS_SELECTOR, ".count").text
    title_marks = texts(driver, ".hit h2 mark")
    snippet_marks = texts(driver, ".hit .snippet mark")
    assert title_marks and snippet_marks
    assert {m.lower() for m in title_marks + snippet_marks} == {"présidentielle"}
    assert "Présidentielle" in title_marks  # « Présidentielle : … » keeps its capital
    assert driver.find_element(By.ID, "q").get_attribute("value") == "presidentielle"



def test_a_correction_is_said_once_and_offers_the_words_as_typed(driver: WebDriver,
                                                                server: str) -> None:
    open_page(driver, server + "/?q=gouvernemnt", ".count")
    assert count(driver) == 4
    said = driver.find_element(By.CSS_SELECTOR, "main").text
    assert said.count("gouvernemnt") == 1 and "Essayez" not in said
    suggestion = driver.find_element(By.CSS_SELECTOR, ".suggestion")
    assert suggestion.text == "Résultats pour gouvernement. Rechercher plutôt gouvernemnt"
    assert suggestion.find_element(By.CSS_SELECTOR, "a em").text == "gouvernement"

    follow(driver, suggestion.find_elements(By.TAG_NAME, "a")[1], ".count")

    assert driver.find_element(By.ID, "q").get_attribute("value") == "gouvernemnt"
    assert driver.find_element(By.CSS_SELECTOR, ".count").text.startswith("Aucun résultat")
    offer = driver.find_element(By.CSS_SELECTOR, ".suggestion")
    assert offer.text == "Essayez avec l’orthographe : gouvernement (4)"

    follow(driver, offer.find_element(By.TAG_NAME, "a"), ".count")

    assert count(driver) == 4
    assert not driver.find_elements(By.CSS_SELECTOR, ".suggestion")
    assert driver.find_element(By.ID, "q").get_attribute("value") == "gouvernement"
    assert set(texts(driver, ".hit h2 mark")) == {"gouvernement"}


def test_paging_through_every_result(driver: WebDriver, server: str) -> None:
    open_page(driver, server + "/?q=presidentielle&per_page=2", ".pagination")
    assert current_page(driver) == "1"
    total = count(driver)
    pages = [hit_ids(driver)]

    follow(driver, driver.find_element(By.CSS_SELECTOR, ".pagination a[rel=next]"), ".count")
    assert current_page(driver) == "2"
    assert "per_page=2" in driver.current_url
    pages.append(hit_ids(driver))
    assert len(pages[1]) == 2 and not set(pages[0]) & set(pages[1])

    for _ in range(10):
        next_links = driver.find_elements(By.CSS_SELECTOR, ".pagination a[rel=next]")
        if not next_links:
            break
        follow(driver, next_links[0], ".count")
        pages.append(hit_ids(driver))
    last = (total + 1) // 2
    assert current_page(driver) == str(last)
    assert not driver.find_elements(By.CSS_SELECTOR, ".pagination a[rel=next]")
    assert driver.find_elements(By.CSS_SELECTOR, ".pagination a[rel=prev]")
    seen = [i for page in pages for i in page]
    assert len(pages) == last and len(seen) == len(set(seen)) == total


def test_section_facet_filters_hits(driver: WebDriver, server: str) -> None:
    open_page(driver, server + "/?q=presidentielle", ".facet-section")
    total = count(driver)
    link = driver.find_element(By.CSS_SELECTOR, ".facet-section a[href*='section=monde']")
    assert link.text == "Monde"

    follow(driver, link, ".count")

    in_monde = count(driver)
    assert 0 < in_monde < total
    metas = texts(driver, ".hit .meta")
    assert metas and all(meta.endswith("· Monde") for meta in metas)
    assert driver.find_element(By.CSS_SELECTOR, ".facet-section a.on").text.startswith("Monde")
    assert texts(driver, ".chips li span") == ["Monde"]

    # A second section adds its articles to the first's (OR within a facet).
    follow(driver, driver.find_element(
        By.CSS_SELECTOR, ".facet-section a.toggle[href*='section=economie']"), ".count")

    assert in_monde < count(driver) < total
    assert texts(driver, ".chips li span") == ["Monde", "Économie"]
    assert {m.split("· ")[-1] for m in texts(driver, ".hit .meta")} <= {"Monde", "Économie"}

    follow(driver, driver.find_element(By.LINK_TEXT, "Tout effacer"), ".count")

    assert count(driver) == total and not driver.find_elements(By.CSS_SELECTOR, ".chips")


def test_article_page_marks_query_words(driver: WebDriver, server: str) -> None:
    open_page(driver, server + "/?q=presidentielle", ".hit")
    link = next(a for a in driver.find_elements(By.CSS_SELECTOR, ".hit h2 a")
                if a.find_elements(By.TAG_NAME, "mark"))
    title = link.text

    follow(driver, link, "article h1")

    assert "/articles/presidentielle-" in driver.current_url
    h1 = driver.find_element(By.CSS_SELECTOR, "article h1")
    assert h1.text == title
    assert {m.text.lower() for m in h1.find_elements(By.TAG_NAME, "mark")} == {"présidentielle"}
    for related in driver.find_elements(By.CSS_SELECTOR, "section.related"):
        assert related.find_element(By.TAG_NAME, "h2").text == "Articles liés"
        assert related.find_elements(By.CSS_SELECTOR, "li a")


def assert_shown_as_text(driver: WebDriver, title: WebElement) -> None:
    assert_no_alert(driver)
    assert HOSTILE_SCRIPT in title.text
    assert HOSTILE_BOLD in title.text
    assert not title.find_elements(By.CSS_SELECTOR, "b, script")
    assert not driver.find_elements(By.CSS_SELECTOR, "main script, main b")


def test_hostile_article_is_escaped(driver: WebDriver, server: str) -> None:
    open_page(driver, server + "/?q=canular+gras", ".hit")
    assert count(driver) == 1
    title = driver.find_element(By.CSS_SELECTOR, ".hit h2")
    assert_shown_as_text(driver, title)
    assert texts(driver, ".hit h2 mark") == ["canular", "gras"]
    assert HOSTILE_SCRIPT in driver.find_element(By.CSS_SELECTOR, ".hit .snippet").text

    follow(driver, title.find_element(By.TAG_NAME, "a"), "article h1")

    assert_shown_as_text(driver, driver.find_element(By.CSS_SELECTOR, "article h1"))
    assert HOSTILE_SCRIPT in driver.find_element(By.CSS_SELECTOR, "article .body").text
    assert HOSTILE_SCRIPT in driver.title


def test_hostile_query_is_escaped(driver: WebDriver, server: str) -> None:
    open_page(driver, server + "/", "#q")
    driver.find_element(By.ID, "q").send_keys(f"{HOSTILE_SCRIPT} gouvernemnt" + Keys.ENTER)
    WebDriverWait(driver, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".count")))

    assert_no_alert(driver)
    assert driver.find_element(By.ID, "q").get_attribute("value") == \
        f"{HOSTILE_SCRIPT} gouvernemnt"
    suggestion = driver.find_element(By.CSS_SELECTOR, ".suggestion a")
    assert suggestion.text == f"{HOSTILE_SCRIPT} gouvernement"
    assert not driver.find_elements(By.CSS_SELECTOR, "main script")


# Phone and keyboard --------------------------------------------------------------------

DESKTOP, PHONE = (1280, 1000), (390, 844)


@pytest.fixture
def phone(driver: WebDriver) -> Iterator[WebDriver]:
    """The browser at a phone's width (390 px), put back to the desktop's afterwards."""
    driver.set_window_size(*PHONE)
    try:
        yield driver
    finally:
        driver.set_window_size(*DESKTOP)


def test_on_a_phone_the_filters_come_before_the_results(phone: WebDriver, server: str) -> None:
    open_page(phone, server + "/?q=presidentielle&per_page=2", ".hit")
    assert phone.execute_script("return window.innerWidth") <= 390
    summary = phone.find_element(By.CSS_SELECTOR, ".filters-panel label.filters-label")
    first_hit = phone.find_element(By.CSS_SELECTOR, ".hit")
    assert summary.is_displayed() and summary.text == "Filtres et tri"
    assert summary.rect["y"] + summary.rect["height"] <= first_hit.rect["y"]
    assert summary.rect["y"] < 844  # on the first screen
    sort = phone.find_element(By.CSS_SELECTOR, ".sort a")
    assert not sort.is_displayed()

    summary.click()

    WebDriverWait(phone, WAIT).until(lambda d: sort.is_displayed())
    assert phone.find_element(By.ID, "show-filters").is_selected()
    assert phone.find_element(By.ID, "from").is_displayed()
    follow(phone, sort, ".count")
    assert "sort=date" in phone.current_url


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_page_links_are_big_enough_to_hit(driver: WebDriver, server: str, size) -> None:
    driver.set_window_size(*size)
    try:
        open_page(driver, server + "/?q=presidentielle&per_page=2", ".pagination")
        targets = driver.find_elements(By.CSS_SELECTOR, ".pagination a, .pagination strong")
        assert len(targets) >= 4
        for target in targets:
            assert target.rect["width"] >= 24 and target.rect["height"] >= 24, target.text
        assert "Page 1 sur 5" in driver.find_element(By.CSS_SELECTOR, ".pagination").text
    finally:
        driver.set_window_size(*DESKTOP)


def wait_for_options(driver: WebDriver) -> list[WebElement]:
    WebDriverWait(driver, WAIT).until(
        lambda d: d.find_element(By.ID, "completions").is_displayed())
    return driver.find_elements(By.CSS_SELECTOR, "#completions [role=option]")


def test_completion_is_a_combobox_driven_by_the_keyboard(driver: WebDriver, server: str) -> None:
    open_page(driver, server + "/", "#q")
    box = driver.find_element(By.ID, "q")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    box.send_keys("le presid")
    options = wait_for_options(driver)
    assert [o.text for o in options][0] == "le présidentielle"
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-controls") == "completions"

    box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == options[0].get_attribute("id")
    assert options[0].get_attribute("aria-selected") == "true"
    box.send_keys(Keys.ARROW_UP)  # from the first, up wraps to the last
    assert box.get_attribute("aria-activedescendant") == options[-1].get_attribute("id")
    box.send_keys(Keys.ARROW_DOWN)
    with next_page(driver, ".count"):
        box.send_keys(Keys.ENTER)  # takes the highlighted completion, and searches it

    assert driver.find_element(By.ID, "q").get_attribute("value") == "le présidentielle"
    assert count(driver) == 9


def test_escape_closes_the_completions_and_keeps_the_query(driver: WebDriver,
                                                           server: str) -> None:
    open_page(driver, server + "/", "#q")
    box = driver.find_element(By.ID, "q")
    box.send_keys("gouv")
    assert [o.text for o in wait_for_options(driver)] == ["gouvernement"]

    box.send_keys(Keys.ESCAPE)

    assert not driver.find_element(By.ID, "completions").is_displayed()
    assert box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("value") == "gouv"
    box.send_keys(Keys.ESCAPE)  # a search box would empty itself: this one does not
    assert box.get_attribute("value") == "gouv"
    with next_page(driver):
        box.send_keys(Keys.ENTER)  # nothing highlighted: the query as typed
    assert "q=gouv" in driver.current_url and "gouvernement" not in driver.current_url


def _contrast(rgb: tuple[float, ...], other: tuple[float, ...] = (255, 255, 255)) -> float:
    def luminance(c: tuple[float, ...]) -> float:
        linear = [(v / 255 / 12.92) if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4
                  for v in c[:3]]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(rgb), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_skip_link_reaches_the_first_result_and_the_focus_ring_shows(driver: WebDriver,
                                                                     server: str) -> None:
    open_page(driver, server + "/?q=presidentielle", ".hit")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    skip = driver.switch_to.active_element
    assert skip.text == "Aller aux résultats" and skip.is_displayed()
    ring = driver.execute_script(
        "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth, "
        "s.outlineColor, s.outlineOffset];", skip)
    assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 2
    rgb = tuple(float(x) for x in re.findall(r"[\d.]+", ring[2])[:3])
    # Offset from the element, the ring sits on the white page: 3:1 against it at least.
    assert float(ring[3].removesuffix("px")) >= 1 and _contrast(rgb) >= 3

    skip.send_keys(Keys.ENTER)
    driver.switch_to.active_element.send_keys(Keys.TAB)

    first = driver.find_element(By.CSS_SELECTOR, ".hit h2 a")
    assert driver.switch_to.active_element == first  # the third Tab stop, not the 33rd


def test_timeline_bar_narrows_the_period(driver: WebDriver, server: str) -> None:
    open_page(driver, server + "/?q=presidentielle", ".timeline")
    total = count(driver)
    bars = driver.find_elements(By.CSS_SELECTOR, ".timeline svg a")
    assert len(bars) == 3  # January, February and March 2026
    assert bars[0].get_attribute("aria-label") == "janvier 2026 : 2 articles"

    follow(driver, bars[0], ".count")

    assert count(driver) == 2 < total
    assert "from=2026-01&to=2026-01" in driver.current_url
    assert texts(driver, ".chips li span") == ["Du 1er janvier 2026 au 31 janvier 2026"]


# Accessibility, checked by axe-core, and screenshots ------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_PAGES = [
    ("home", "/", DESKTOP, "#q"),
    ("results", "/?q=presidentielle&per_page=2", DESKTOP, ".hit"),
    ("results-phone", "/?q=presidentielle&per_page=2", PHONE, ".hit"),
    ("results-filtered", "/?q=presidentielle&section=monde&section=politique&from=2026",
     DESKTOP, ".chips"),
    ("corrected", "/?q=gouvernemnt", DESKTOP, ".suggestion"),
    ("no-result", "/?q=zzyzx", DESKTOP, ".empty"),
    ("past-the-last-page", "/?q=presidentielle&page=50", DESKTOP, ".beyond"),
    ("article", "/articles/presidentielle-debat?q=presidentielle", DESKTOP, "article h1"),
    ("article-phone", "/articles/presidentielle-debat?q=presidentielle", PHONE, "article h1"),
    ("bad-request", "/?q=noel&from=31/02/2020", DESKTOP, ".error"),
    ("not-found", "/articles/nope", DESKTOP, ".error"),
]


def axe_violations(driver: WebDriver) -> list[dict]:
    """Run axe-core on the page; return its violations, each with a few of its nodes."""
    if not AXE.exists():
        reason = f"the accessibility check needs {AXE} (scripts/setup runs npm ci)"
        if os.environ.get("NEWSSEARCH_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    # WebDriver's scripts run beside the page's CSP (script-src 'self'), not under it.
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        "  nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))"
        ".catch(e => done([{id: 'axe-error', help: String(e)}]));", AXE_TAGS)


@pytest.mark.parametrize(("name", "path", "size", "ready"), AXE_PAGES,
                         ids=[p[0] for p in AXE_PAGES])
def test_axe_finds_no_violation(driver: WebDriver, server: str, name, path, size,
                                ready) -> None:
    driver.set_window_size(*size)
    try:
        open_page(driver, server + path, ready)
        assert axe_violations(driver) == []
    finally:
        driver.set_window_size(*DESKTOP)


def test_axe_finds_no_violation_with_the_completions_open(driver: WebDriver,
                                                          server: str) -> None:
    open_page(driver, server + "/", "#q")
    driver.find_element(By.ID, "q").send_keys("presid" + Keys.ARROW_DOWN)
    wait_for_options(driver)
    assert axe_violations(driver) == []


def save_screenshot(driver: WebDriver, name: str) -> Path:
    """Write a PNG of the whole page into tests/artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.unlink(missing_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.execute_script("return window.innerWidth")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 4000), "scale": 1}})
    import base64
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def test_a_long_timeline_scrolls_within_a_phone_screen(phone: WebDriver, server: str) -> None:
    open_page(phone, server + "/?source=Reuters", ".timeline")
    bars = phone.find_element(By.CSS_SELECTOR, ".timeline .bars")
    assert phone.find_element(By.CSS_SELECTOR, ".timeline svg").rect["width"] == 27 * 26
    assert bars.rect["width"] <= 390
    # The page itself never scrolls sideways: the timeline does, within its box.
    assert phone.execute_script("return document.documentElement.scrollWidth") <= 390
    assert phone.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth",
                                bars)
    # It opens on the newest months, at the right; the oldest are a scroll away.
    newest = phone.find_elements(By.CSS_SELECTOR, ".timeline svg a")[-1]
    assert newest.get_attribute("aria-label").startswith("mars 2026")
    assert 0 < newest.rect["x"] < 390
    first_hit = phone.find_element(By.CSS_SELECTOR, ".hit")
    assert first_hit.rect["x"] + first_hit.rect["width"] <= 390


def test_a_short_timeline_starts_at_the_left_on_a_desktop(driver: WebDriver,
                                                          server: str) -> None:
    open_page(driver, server + "/?q=presidentielle", ".timeline")
    caption = driver.find_element(By.CSS_SELECTOR, ".timeline figcaption")
    chart = driver.find_element(By.CSS_SELECTOR, ".timeline svg")
    assert abs(chart.rect["x"] - caption.rect["x"]) < 5


@pytest.mark.parametrize(("name", "size"), [("results-desktop", DESKTOP),
                                            ("results-phone", PHONE)])
def test_screenshots_of_the_results_page(driver: WebDriver, server: str, name, size) -> None:
    driver.set_window_size(*size)
    try:
        open_page(driver, server + "/?q=presidentielle&per_page=5", ".hit")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= size[0]
        path = save_screenshot(driver, name)
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
        assert int.from_bytes(data[16:20], "big") == driver.execute_script(
            "return window.innerWidth")  # the PNG is the page's width
    finally:
        driver.set_window_size(*DESKTOP)
