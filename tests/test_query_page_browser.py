"""The SPARQL query page in a real headless Chromium: the CodeMirror editor (highlighting, completion of
keywords, prefixes and ontology terms from the term index, Ctrl+Enter), shared /sparql?query=… links,
paged results with compact IRIs, and download links in every format.

Needs Debian's chromium and chromium-driver (installed by .ci/run); Selenium is pointed at them so it
never tries to download a driver.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait
from SPARQLWrapper import JSON, SPARQLWrapper

from _server import running_app
from expected import CRATE_DISTINCT_STUDIES, QUERY_ROWS, STUDIES_BY_PUBLISHER

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "screenshots"
CHROME_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"
DATASETS = (
    "PREFIX schema: <http://schema.org/>\nSELECT ?study ?type WHERE { ?study a schema:Dataset , ?type } ORDER BY ?study"
)
CONSTRUCT = (
    "PREFIX schema: <http://schema.org/>\n"
    "CONSTRUCT { ?r schema:name ?n } WHERE { ?s schema:publisher ?r . ?r schema:name ?n }"
)


@pytest.fixture(scope="module")
def site(harvested_store):
    with running_app(harvested_store) as base:
        yield base


def _wait(driver, css: str, timeout: int = 30):
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def _table(driver) -> list[list[str]]:
    """The drawn rows' cell texts, read in one script call (not one WebDriver round trip per cell)."""
    _wait(driver, "#results table")
    return driver.execute_script(
        "return [...document.querySelectorAll('#results tbody tr')].map(tr => [...tr.cells].map(td => td.innerText));"
    )


def _type(driver, text: str) -> None:
    """Replace the editor's text by typing, as a person would."""
    box = _wait(driver, ".cm-content")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text)


def _query_text(driver) -> str:
    """The editor's text (the hidden textarea is kept in step with it)."""
    return driver.find_element(By.ID, "query").get_attribute("value")


def _pick(driver, label: str) -> list[str]:
    """Click the completion option with this label once the list shows it; the labels the list offered."""
    seen: list[str] = []

    def click(d) -> bool:
        try:
            options = d.find_elements(By.CSS_SELECTOR, ".cm-tooltip-autocomplete li")
            seen[:] = [o.find_element(By.CSS_SELECTOR, ".cm-completionLabel").text for o in options]
            if label in seen:
                options[seen.index(label)].click()
                return True
        except StaleElementReferenceException:  # the list was redrawn as more results came in
            pass
        return False

    WebDriverWait(driver, 30).until(click)
    return seen


def test_shared_query_url_opens_editor_with_results(browser, site, harvested_store):
    text = (ROOT / "queries" / "studies-per-repository.rq").read_text()
    browser.get(site + "/sparql?query=" + quote(text))
    rows = _table(browser)
    assert _query_text(browser) == text
    got = {r[1]: int(r[2].split()[0]) for r in rows}
    expected = {r["name"].value: int(r["studies"].value) for r in harvested_store.query(text)}
    assert got == expected == STUDIES_BY_PUBLISHER
    assert browser.find_element(By.ID, "status").text.startswith("4 rows in ")
    # highlighted by token: keywords, variables, prefixed names
    tokens = {
        cls: {s.text for s in browser.find_elements(By.CSS_SELECTOR, ".cm-content .tok-" + cls)}
        for cls in ("keyword", "variableName", "atom", "comment")
    }
    assert {"PREFIX", "SELECT", "WHERE", "GROUP", "ORDER"} <= tokens["keyword"]
    assert {"?study", "?repository", "?name"} <= tokens["variableName"]
    assert {"schema:Dataset", "schema:publisher", "<http://schema.org/>"} <= tokens["atom"]
    assert "# title: Studies per repository" in tokens["comment"]
    SHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SHOTS / "sparql-query-page.png"))


def test_results_paged_with_compact_iris_and_downloads(browser, site, harvested_store):
    n = CRATE_DISTINCT_STUDIES
    assert len(list(harvested_store.query(DATASETS))) == n  # one rdf:type each
    browser.get(site + "/sparql?query=" + quote(DATASETS))
    rows = _table(browser)
    assert len(rows) == 100  # one page drawn, not all n rows
    info = browser.find_element(By.CSS_SELECTOR, "nav.pager .page-info")
    assert info.text == f"rows 1–100 of {n} · page 1 of {-(-n // 100)}"
    assert {r[1] for r in rows} == {"schema:Dataset"}
    link = browser.find_element(By.CSS_SELECTOR, "#results tbody tr td:nth-child(2) a")
    assert link.get_attribute("title") == "http://schema.org/Dataset"
    assert link.get_attribute("href") == site + "/resource?iri=http%3A%2F%2Fschema.org%2FDataset"
    browser.find_element(By.XPATH, "//nav[@class='pager']/button[contains(., 'Next')]").click()
    assert info.text == f"rows 101–200 of {n} · page 2 of {-(-n // 100)}"
    links = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a.download")}
    browser.get(site + "/sparql?query=" + quote(CONSTRUCT))
    triples = _table(browser)
    assert browser.find_element(By.ID, "status").text.startswith("4 triples in ")
    assert sorted(t[2] for t in triples) == [
        "BioImage Archive",
        "Image Data Resource",
        "SSBD:database",
        "SSBD:repository",
    ]
    assert {t[1] for t in triples} == {"schema:name"}
    links.update(
        {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a.download")}
    )
    types = {}
    for label, href in links.items():
        r = requests.get(href, timeout=30)  # no Accept: the format= parameter decides
        assert r.status_code == 200, (label, r.text[:200])
        types[label] = r.headers["Content-Type"].split(";")[0]
    assert types == {
        "JSON": "application/sparql-results+json",
        "XML": "application/sparql-results+xml",
        "CSV": "text/csv",
        "TSV": "text/tab-separated-values",
        "Turtle": "text/turtle",
        "N-Triples": "application/n-triples",
        "JSON-LD": "application/ld+json",
        "RDF/XML": "application/rdf+xml",
    }


def test_ctrl_enter_runs_typed_query_and_updates_url(browser, site, harvested_store):
    browser.get(site + "/sparql")
    typed = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <http://schema.org/Dataset> }"
    _type(browser, typed)
    assert _query_text(browser) == typed  # brackets closed by the editor were typed over
    browser.find_element(By.CSS_SELECTOR, ".cm-content").send_keys(Keys.CONTROL, Keys.ENTER)
    assert _table(browser) == [[f"{CRATE_DISTINCT_STUDIES} xsd:integer"]]
    assert browser.current_url == site + "/sparql?query=" + quote(typed, safe="-_.!~*'()")


def test_completes_term_by_label_and_prefix(browser, site):
    browser.get(site + "/sparql")
    _type(browser, "SELECT ?s WHERE { ?s ?p musculus")
    _pick(browser, "Mus musculus")
    text = _query_text(browser)
    assert text.startswith("PREFIX obo: <http://purl.obolibrary.org/obo/>\nSELECT ?s WHERE { ?s ?p obo:NCBITaxon_10090")
    browser.find_element(By.CSS_SELECTOR, ".cm-content").send_keys(" . ?s a dwc")
    _pick(browser, "dwc:")
    text = _query_text(browser)
    assert "obo:NCBITaxon_10090 . ?s a dwc:" in text
    assert text.splitlines()[:2] == [
        "PREFIX obo: <http://purl.obolibrary.org/obo/>",
        "PREFIX dwc: <http://rs.tdwg.org/dwc/terms/>",
    ]
    # after a prefix only that namespace's terms: FBbi's "confocal microscopy", not EDAM's "Confocal microscopy"
    browser.find_element(By.CSS_SELECTOR, ".cm-content").send_keys("Taxon ; ?q obo:confocal")
    labels = _pick(browser, "confocal microscopy")
    assert "Confocal microscopy" not in labels and "slit-scan confocal microscopy" in labels
    assert "a dwc:Taxon ; ?q obo:FBbi_00000251" in _query_text(browser)


def test_choose_example_from_menu(browser, site, harvested_store):
    browser.get(site + "/sparql")
    Select(browser.find_element(By.ID, "example")).select_by_value("bacteria-light-microscopy")
    assert "obo:NCBITaxon_2" in _query_text(browser)
    browser.find_element(By.ID, "run").click()
    rows = _table(browser)
    expected = list(harvested_store.query((ROOT / "queries" / "bacteria-light-microscopy.rq").read_text()))
    assert len(rows) == len(expected) == QUERY_ROWS["bacteria-light-microscopy"]
    assert rows[0][0] == expected[0]["study"].value
    link = browser.find_element(By.CSS_SELECTOR, "#results tbody tr td a")
    assert link.get_attribute("href").startswith(site + "/resource?iri=")


def test_syntax_error_is_shown(browser, site):
    browser.get(site + "/sparql")
    _type(browser, "SELECT * WHERE { ?s ?p }")
    browser.find_element(By.ID, "run").click()
    err = _wait(browser, "#results pre.error")
    assert "SPARQL syntax error" in err.text
    assert browser.find_element(By.ID, "status").text == "error"


def test_same_url_answers_browsers_with_the_page_and_clients_with_results(site):
    url = site + "/sparql?query=" + quote("ASK { ?s a <http://schema.org/Dataset> }")
    page = requests.get(url, headers={"Accept": CHROME_ACCEPT}, timeout=30)
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "ASK { ?s a &lt;http://schema.org/Dataset&gt; }</textarea>" in page.text
    assert page.headers["Vary"] == "Accept"
    hostile = requests.get(
        site + "/sparql",
        params={"query": "ASK {} # </textarea><script>alert(1)</script>"},
        headers={"Accept": CHROME_ACCEPT},
        timeout=30,
    ).text
    assert (
        "<script>alert(1)" not in hostile
        and "# &lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in hostile
    )
    for accept, ctype in (
        (None, "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/html;q=0.5, text/csv", "text/csv"),
    ):
        r = requests.get(url, headers={"Accept": accept}, timeout=30)  # None: no Accept header at all
        assert r.headers["Content-Type"].split(";")[0] == ctype, accept
    # a browser-like Accept with format= still downloads; SPARQLWrapper (sends format=json too) gets JSON
    assert requests.get(url + "&format=csv", headers={"Accept": CHROME_ACCEPT}, timeout=30).text == "true"
    client = SPARQLWrapper(site + "/sparql")
    client.setQuery("ASK { ?s a <http://schema.org/Dataset> }")
    client.setReturnFormat(JSON)
    assert client.query().convert() == {"head": {}, "boolean": True}
