"""The search portal in a real headless Chromium, checked against counts computed by SPARQL.

Screenshots of each page land in tests/screenshots/.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest
import requests
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
    expected = sparql_count(
        full_store,
        f"?s a <http://schema.org/Dataset> ; <{KG}imagingMethod> ?m . ?m <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{FBBI}00000246>",
    )
    exact = sparql_count(full_store, f"?s a <http://schema.org/Dataset> ; <{KG}imagingMethod> <{FBBI}00000246>")
    assert total(browser) == expected == shown and expected > exact
    assert "imaging_method=" in browser.current_url  # the state is a shareable URL
    # the organism tree now counts within the fluorescence studies; open it down to a mammal genus node
    # (Mammalia, the tree root here, holds mouse, human … studies) and pick it
    nodes = browser.find_elements(By.CSS_SELECTOR, "#facet-organism a.facet-value")
    keys = [n.get_attribute("data-key") for n in nodes]
    assert TAXON + "10090" in keys  # Mus musculus is in the tree
    genus = next(
        k for k in keys if k in (TAXON + "10088", TAXON + "39107", TAXON + "10090")
    )  # Mus, Murinae or the species
    node = nodes[keys.index(genus)]
    node_count = int(node.find_element(By.XPATH, "following-sibling::span[@class='count']").get_attribute("data-count"))
    browser.execute_script("arguments[0].click();", node)
    shot(browser, "search-fluorescence-mouse")
    both = sparql_count(
        full_store,
        f"""?s a <http://schema.org/Dataset> ; <{KG}imagingMethod> ?m ; <{KG}organism> ?o .
        ?m <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{FBBI}00000246> . ?o <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{genus}>""",
    )
    assert total(browser) == both == node_count
    # exact terms only: the hierarchy switch changes the count as the ontology predicts
    browser.get(browser.current_url + "&expand=false")
    exact_both = sparql_count(
        full_store,
        f"?s a <http://schema.org/Dataset> ; <{KG}imagingMethod> <{FBBI}00000246> ; <{KG}organism> <{genus}>",
    )
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
    browser.get(site + "/search?q=<img src=x onerror=\"document.title='pwned'\">")
    assert browser.title != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "main img[src='x']")


# -- issue #17: one page per study, one count rule, no dead links, charts, small screens, term pages ------

REPOSITORIES = {
    "bia": "https://www.ebi.ac.uk/bioimage-archive/",
    "idr": "https://idr.openmicroscopy.org/",
    "ssbd-database": "https://ssbd.riken.jp/database",
    "ssbd-repository": "https://ssbd.riken.jp/repository",
}


def test_study_iri_of_each_repository_opens_its_one_page(browser, site, full_store):
    for source, publisher in REPOSITORIES.items():
        row = next(
            iter(
                full_store.query(f"""SELECT ?s ?id WHERE {{ ?s a <http://schema.org/Dataset> ; <http://schema.org/publisher> <{publisher}> ;
            <http://schema.org/identifier> ?id }} ORDER BY ?s LIMIT 1""")
            )
        )
        browser.get(site + "/resource?iri=" + quote(row["s"].value, safe=""))
        page = f"{site}/study/{source}/{row['id'].value}"
        assert browser.current_url == page
        assert browser.find_element(By.CSS_SELECTOR, 'link[rel="canonical"]').get_attribute("href") == page
    browser.get(site + "/study/idr-study/idr0003")  # the study file's path: the same one page
    assert browser.current_url == site + "/study/idr/idr0003"
    shot(browser, "study-idr0003")
    sources = [e.get_attribute("data-graph") for e in browser.find_elements(By.CSS_SELECTOR, "details.said-by")]
    assert sources == [
        "https://w3id.org/gide-kg/graph/idr",
        "https://w3id.org/gide-kg/graph/idr-study",
    ]  # what each source says


def test_study_page_details(site):
    s = requests.get(site + "/study/idr/idr0135", timeout=30).text
    pubs = s.split('<ul class="publications">', 1)[1].split("</ul>", 1)[0]
    assert pubs.count("<li>") == 1  # DOI and PubMed of one paper: listed once, with both identifiers
    assert "https://doi.org/10.1126/science.abi8175" in pubs and "https://pubmed.ncbi.nlm.nih.gov/35482859" in pubs
    b = requests.get(site + "/study/bia/S-BIAD884", timeout=30).text
    assert "117.5 GB (117,473,261,808 bytes)" in b
    r = requests.get(site + "/study/idr-study/idr0003?format=json", allow_redirects=False, timeout=30)
    assert r.status_code == 301 and r.headers["Location"].endswith("/study/idr/idr0003?format=json")


def test_repository_counts_agree(browser, site, full_store):
    query = (ROOT / "queries" / "studies-per-repository.rq").read_text()
    named = {r["repository"].value: int(r["studies"].value) for r in full_store.query(query)}
    browser.get(site + "/")
    home = {
        tr.get_attribute("data-repository"): int(tr.find_element(By.CSS_SELECTOR, "td.studies").text)
        for tr in browser.find_elements(By.CSS_SELECTOR, "table.repositories tbody tr")
    }
    assert "publisher" in browser.find_element(By.ID, "count-rule").text  # the rule is explained where shown
    browser.get(site + "/search")
    facet = {
        a.get_attribute("data-key"): int(
            a.find_element(By.XPATH, "following-sibling::span[@class='count']").get_attribute("data-count")
        )
        for a in browser.find_elements(By.CSS_SELECTOR, "#facet-publisher a.facet-value")
    }
    assert home == facet == named
    assert named["https://idr.openmicroscopy.org/"] == sparql_count(
        full_store, "?s a <http://schema.org/Dataset> ; <http://schema.org/publisher> <https://idr.openmicroscopy.org/>"
    )


def test_chart_labels_and_counts_inside_the_svg(browser, site):
    browser.get(site + "/stats")
    shot(browser, "stats")
    outside = browser.execute_script("""
        const bad = []; let n = 0;
        for (const svg of document.querySelectorAll('svg.chart')) {
          const w = svg.viewBox.baseVal.width;
          for (const t of svg.querySelectorAll('text')) {
            const b = t.getBBox(); n++;
            if (b.x < -0.5 || b.x + b.width > w + 0.5) bad.push(t.textContent + ' ' + b.x + '+' + b.width + '>' + w);
          }
        }
        return [n, bad];""")
    assert outside[0] > 40 and outside[1] == []
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart a g.bar")
    assert len(bars) > 20 and all(b.find_element(By.TAG_NAME, "title").get_attribute("textContent") for b in bars[:5])
    # a bar leads into search with its facets set, and search finds as many studies as the bar says
    bar = browser.find_element(By.CSS_SELECTOR, "svg.chart.organisms a")
    n = int(bar.find_element(By.CSS_SELECTOR, "text.n").text)
    browser.get(site + bar.get_dom_attribute("href"))
    assert total(browser) == n


def test_small_screen(browser, site):
    browser.set_window_size(400, 800)
    try:
        browser.get(site + "/search")
        shot(browser, "search-400px")
        fit = browser.execute_script("""return [document.documentElement.scrollWidth, window.innerWidth, window.innerHeight,
            document.querySelector('header nav').getBoundingClientRect().right,
            document.querySelector('ol.results li.hit').getBoundingClientRect().bottom]""")
        scroll_w, width, height, nav_right, first_hit_bottom = fit
        assert scroll_w <= width and nav_right <= width  # the navigation fits, nothing scrolls sideways
        assert first_hit_bottom <= height  # the first result is above the fold; the filters come after, collapsed
        assert not browser.find_element(By.CSS_SELECTOR, "details.facet-panel").get_attribute("open")
    finally:
        browser.set_window_size(1280, 1200)


def test_term_page_and_facet_search(browser, site, full_store):
    browser.get(site + "/resource?iri=" + quote(TAXON + "10090", safe=""))
    shot(browser, "term-mus-musculus")
    lineage = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "ul.lineage a")]
    assert "Mus" in lineage and browser.find_element(By.CSS_SELECTOR, "ul.lineage li.self").text.startswith(
        "Mus musculus"
    )
    link = browser.find_element(By.CSS_SELECTOR, "a.term-search")
    n = int(link.text.split()[0])
    assert n == sparql_count(
        full_store,
        f"?s a <http://schema.org/Dataset> ; <{KG}organism> ?o . ?o <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{TAXON}10090>",
    )
    browser.execute_script("arguments[0].click();", link)
    assert total(browser) == n and "organism=" in browser.current_url
    # type a name in the organism facet: its node is opened and marked
    browser.get(site + "/search")
    find = browser.find_element(By.CSS_SELECTOR, 'input.tree-find[data-facet="facet-organism"]')
    find.send_keys("Danio rerio")
    node = browser.find_element(
        By.CSS_SELECTOR,
        "#facet-organism li.tree-node.found > a, #facet-organism li.tree-node.found > details > summary > a",
    )
    assert node.get_attribute("data-key") == TAXON + "7955" and node.is_displayed()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.empty = 0
        self._open: list[int] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
            self._open.append(0)
        elif tag in ("link", "img", "script") and (a.get("href") or a.get("src")) and a.get("rel") != "alternate":
            self.links.append(a.get("href") or a.get("src"))

    def handle_data(self, data):
        if self._open and data.strip():
            self._open[-1] += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "a" and self._open and self._open.pop() == 0:
            self.empty += 1


def _group(url: str) -> str:
    """Links of one kind are sampled, not all followed: browse pages by the IRI's namespace (OBO by
    ontology), study pages by repository, other pages by path and parameter names."""
    parts = urlsplit(url)
    params = parse_qs(parts.query)
    if parts.path == "/resource" and "iri" in params:
        iri = params["iri"][0]
        base, frag = iri.split("#", 1) if "#" in iri and not iri.endswith("#") else (iri, "")
        return f"resource {re.sub(r'[^/_]*$', '', base.rstrip('/'))} {bool(frag)} " + " ".join(
            sorted(k for k in params if k != "iri")
        )
    if parts.path.startswith("/study/"):
        bits = parts.path.split("/")
        return f"study {bits[2]} {len(bits)} " + " ".join(sorted(params))
    return parts.path + "?" + ",".join(sorted(params))


def test_crawl_finds_no_dead_links(site):
    """From every top-level page, follow internal links two levels deep (at most 400 requests):
    every link answers below 400 and no page has an empty link."""
    session = requests.Session()
    start = [
        "/",
        "/search",
        "/queries",
        "/sparql",
        "/stats",
        "/quality",
        "/provenance",
        "/downloads",
        "/.well-known/void",
        "/catalog",
    ]
    seen: set[str] = set()
    per_group: dict[str, int] = {}
    bad, empty, requests_made, timings = [], [], 0, []
    frontier = [(u, 0) for u in start]
    while frontier and requests_made < 400:
        url, depth = frontier.pop(0)
        if url in seen:
            continue
        seen.add(url)
        t0 = time.perf_counter()
        r = session.get(site + url, headers={"Accept": "text/html"}, timeout=60)
        timings.append((time.perf_counter() - t0, url))
        requests_made += 1
        if r.status_code >= 400:
            bad.append((url, r.status_code))
            continue
        if depth >= 2 or not r.headers.get("Content-Type", "").startswith("text/html"):
            continue
        parser = _Links()
        parser.feed(r.text)
        if parser.empty:
            empty.append(url)
        for href in parser.links:
            target = urljoin(site + url, href)
            if not target.startswith(site + "/") or "#" in href and href.startswith("#"):
                continue
            path = target[len(site) :].split("#", 1)[0]
            group = _group(path)
            if path in seen or per_group.get(group, 0) >= 1:
                continue
            per_group[group] = per_group.get(group, 0) + 1
            frontier.append((path, depth + 1))
    print(
        f"crawl: {requests_made} requests, {len(per_group)} kinds of link, {sum(t for t, _ in timings):.1f} s; slowest:",
        sorted(timings, reverse=True)[:8],
        "bad:",
        bad,
        "empty:",
        empty,
    )
    assert requests_made > 100 and len(per_group) > 100
    assert bad == [] and empty == []
