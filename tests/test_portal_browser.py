"""The search portal in a real headless Chromium, checked against counts computed by SPARQL.

Screenshots of each page land in tests/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from _server import running_app

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "screenshots"
FBBI = "http://purl.obolibrary.org/obo/FBbi_"
TAXON = "http://purl.obolibrary.org/obo/NCBITaxon_"
KG = "https://w3id.org/gide-kg/vocab#"


@pytest.fixture(scope="module")
def site(full_store):
    with running_app(full_store) as base:
        yield base


def shot(driver, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def sparql_count(store, where: str) -> int:
    return int(next(iter(store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}")))["n"].value)


def total(driver) -> int:
    return int(driver.find_element(By.ID, "total").get_attribute("data-total"))


def test_home_page(browser, site, full_store):
    browser.get(site + "/")
    shot(browser, "home")
    n = sparql_count(full_store, "?s a <http://schema.org/Dataset>")
    assert f"{n} studies" in browser.find_element(By.TAG_NAME, "main").text


def test_search_click_facet_and_hierarchy(browser, site, full_store):
    browser.get(site + "/search")
    shot(browser, "search")
    assert total(browser) == sparql_count(full_store, "?s a <http://schema.org/Dataset>")
    # click "fluorescence microscopy" in the imaging-method tree: confocal, spinning-disk … studies come along
    link = browser.find_element(By.CSS_SELECTOR, f'#facet-imaging_method a[data-key="{FBBI}00000246"]')
    shown = int(link.find_element(By.XPATH, "following-sibling::span[@class='count']").get_attribute("data-count"))
    browser.execute_script("arguments[0].click();", link)
    shot(browser, "search-fluorescence")
    expected = sparql_count(full_store, f"?s a <http://schema.org/Dataset> ; <{KG}imagingMethod> ?m . ?m <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{FBBI}00000246>")
    exact = sparql_count(full_store, f"?s a <http://schema.org/Dataset> ; <{KG}imagingMethod> <{FBBI}00000246>")
    assert total(browser) == expected == shown and expected > exact
    assert "imaging_method=" in browser.current_url  # the state is a shareable URL
    # the organism tree now counts within the fluorescence studies; open it down to a mammal genus node
    # (Mammalia, the tree root here, holds mouse, human … studies) and pick it
    nodes = browser.find_elements(By.CSS_SELECTOR, "#facet-organism a.facet-value")
    keys = [n.get_attribute("data-key") for n in nodes]
    assert TAXON + "10090" in keys  # Mus musculus is in the tree
    genus = next(k for k in keys if k in (TAXON + "10088", TAXON + "39107", TAXON + "10090"))  # Mus, Murinae or the species
    node = nodes[keys.index(genus)]
    node_count = int(node.find_element(By.XPATH, "following-sibling::span[@class='count']").get_attribute("data-count"))
    browser.execute_script("arguments[0].click();", node)
    shot(browser, "search-fluorescence-mouse")
    both = sparql_count(full_store, f"""?s a <http://schema.org/Dataset> ; <{KG}imagingMethod> ?m ; <{KG}organism> ?o .
        ?m <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{FBBI}00000246> . ?o <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{genus}>""")
    assert total(browser) == both == node_count
    # exact terms only: the hierarchy switch changes the count as the ontology predicts
    browser.get(browser.current_url + "&expand=false")
    exact_both = sparql_count(full_store, f"?s a <http://schema.org/Dataset> ; <{KG}imagingMethod> <{FBBI}00000246> ; <{KG}organism> <{genus}>")
    assert total(browser) == exact_both < both


def test_paging_to_the_last_page(browser, site, full_store):
    browser.get(site + "/search?q=microscopy&size=20")
    n = total(browser)
    pages = -(-n // 20)
    last = browser.find_element(By.CSS_SELECTOR, f'nav.pager a[data-page="{pages}"]')
    browser.execute_script("arguments[0].click();", last)
    shot(browser, "search-last-page")
    hits = browser.find_elements(By.CSS_SELECTOR, "ol.results li.hit")
    assert len(hits) == n - 20 * (pages - 1)
    assert not browser.find_elements(By.CSS_SELECTOR, "nav.pager a[rel=next]")
    assert f"page {pages} of {pages}" in browser.find_element(By.ID, "total").text


def test_study_page(browser, site, full_store):
    browser.get(site + "/search?q=idr0157")
    browser.execute_script("arguments[0].click();", browser.find_element(By.CSS_SELECTOR, "ol.results a.title"))
    shot(browser, "study-idr0157")
    assert browser.current_url.endswith("/study/idr/idr0157")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "Related studies in other repositories" in text and "Similar studies" in text
    ld = browser.find_element(By.CSS_SELECTOR, 'script[type="application/ld+json"]').get_attribute("innerHTML")
    assert '"@type": "Dataset"' in ld or '"@type":"Dataset"' in ld


def test_stats_page(browser, site):
    browser.get(site + "/stats")
    shot(browser, "stats")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")) > 20


def test_markup_in_query_is_escaped(browser, site):
    browser.get(site + '/search?q=<img src=x onerror="document.title=\'pwned\'">')
    assert browser.title != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "main img[src='x']")
