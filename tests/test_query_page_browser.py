"""The SPARQL query page in a real headless Chromium: choose an example, run it, read the table.

Needs Debian's chromium and chromium-driver (installed by .ci/run); Selenium is pointed at them so it
never tries to download a driver.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from _server import running_app
from expected import STUDIES_BY_PUBLISHER

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "screenshots"


@pytest.fixture(scope="module")
def site(harvested_store):
    with running_app(harvested_store) as base:
        yield base


def _table(driver) -> list[list[str]]:
    table = WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results table")))
    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]


def test_run_preloaded_example(browser, site, harvested_store):
    browser.get(site + "/sparql?example=studies-per-repository")
    browser.find_element(By.ID, "run").click()
    rows = _table(browser)
    SHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SHOTS / "sparql-studies-per-repository.png"))
    got = {r[1]: int(r[2].split()[0]) for r in rows}
    expected = {
        r["name"].value: int(r["studies"].value)
        for r in harvested_store.query((ROOT / "queries" / "studies-per-repository.rq").read_text())
    }
    assert got == expected == STUDIES_BY_PUBLISHER
    status = browser.find_element(By.ID, "status").text
    assert status.startswith("4 rows in ")


def test_choose_example_from_menu(browser, site, harvested_store):
    browser.get(site + "/sparql")
    Select(browser.find_element(By.ID, "example")).select_by_value("bacteria-light-microscopy")
    assert "obo:NCBITaxon_2" in browser.find_element(By.ID, "query").get_attribute("value")
    browser.find_element(By.ID, "run").click()
    rows = _table(browser)
    expected = list(harvested_store.query((ROOT / "queries" / "bacteria-light-microscopy.rq").read_text()))
    assert len(rows) == len(expected) == 38
    assert rows[0][0] == expected[0]["study"].value
    link = browser.find_element(By.CSS_SELECTOR, "#results tbody tr td a")
    assert link.get_attribute("href").startswith(site + "/resource?iri=")


def test_syntax_error_is_shown(browser, site):
    browser.get(site + "/sparql")
    box = browser.find_element(By.ID, "query")
    box.clear()
    box.send_keys("SELECT * WHERE { ?s ?p }")
    browser.find_element(By.ID, "run").click()
    err = WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results pre.error")))
    assert "SPARQL syntax error" in err.text
    assert browser.find_element(By.ID, "status").text == "error"
