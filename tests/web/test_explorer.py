"""The web explorer in a real browser: Debian chromium driven by Playwright, against the installed
wheel's `pactgraph serve` over a fresh Oxigraph store (tests/web/conftest.py), so the page and
its libraries are the ones `pip install .` puts into site-packages. Nothing may reach the
internet: every request that does not go to the test server is aborted and fails the test."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pactgraph.api.routers import web
from tests.conftest import missing
from tests.web.browser import CHROMIUM, launch

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

TIMEOUT_MS = 20_000
NO_NPM = "npm was not on the PATH when this copy of pactgraph was built"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed: pip install playwright")
    if not CHROMIUM.is_file():
        missing(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def checkout_site(browser: Browser, checkout_url: str) -> str:
    """The checkout's server, started after the browser so that it stops first: its query workers
    are forked from this process and hold copies of the Playwright driver's pipes, and the driver
    only exits (and Playwright only stops) once they are gone."""
    return checkout_url


@pytest.fixture
def assets(explorer_url: str) -> None:
    """The npm-built libraries the drawing and the editor need, in the installed wheel."""
    cfg = httpx.get(explorer_url + "/explorer/config").json()
    if not all(cfg["vendor"].values()):
        missing(f"the installed wheel has no explorer libraries: {cfg['vendor_missing']}")


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[str], Page]]:
    """Pages on a server, each in its own context that refuses every request elsewhere."""
    opened: list[tuple[object, list[str], list[str]]] = []

    def make(site: str) -> Page:
        # bypass_csp: Playwright's wait_for_function polls by evaluating its string in the page,
        # which the explorer's Content-Security-Policy (no eval) refuses, as it should. The policy
        # itself, with the page and its libraries working under it, is tested in
        # tests/reliability/test_edges.py.
        context = browser.new_context(base_url=site, viewport={"width": 1400, "height": 900}, bypass_csp=True)
        context.set_default_timeout(TIMEOUT_MS)
        outside: list[str] = []
        errors: list[str] = []

        def is_outside(url: str) -> bool:
            return not url.startswith(site) and not url.startswith("data:")

        def refuse(route: Route) -> None:
            outside.append(route.request.url)
            route.abort()

        context.route(is_outside, refuse)
        pg = context.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        opened.append((context, outside, errors))
        return pg

    yield make
    for context, outside, errors in opened:
        context.close()  # type: ignore[attr-defined]
        assert not outside, f"the page reached outside the server: {outside}"
        assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def page(new_page: Callable[[str], Page], explorer_url: str) -> Page:
    return new_page(explorer_url)


def open_explorer(page: Page, hash: str = "") -> None:
    page.goto("/" + hash)
    page.wait_for_selector("body[data-ready=true]")


def pick(page: Page, field: str, text: str, label: str) -> None:
    """Type into a field and choose the suggestion whose label is `label`."""
    page.fill(field, text)
    page.locator(
        ".suggestions:visible li", has=page.locator(".hit-label", has_text=re.compile(f"^{label}$"))
    ).click()


def test_search_then_entity_page_shows_dated_sourced_facts(page: Page) -> None:
    open_explorer(page)
    pick(page, "#search", "Iran", "Iran")
    page.wait_for_url(re.compile(r"#entity/state/IRN$"))
    assert page.locator("#entity h1").inner_text().startswith("Iran")

    row = page.locator("tr.fact", has_text="Iran signed Comprehensive Strategic Partnership Agreement")
    cells = row.locator("td").all_inner_texts()
    # a fact through a hub reads as the verb between the actors, as path sentences do
    assert cells[0].startswith("Iran signed Comprehensive Strategic Partnership Agreement with Russia")
    assert cells[1] == "2025-01-17"  # start: the signing date
    assert cells[3] == "confirmed"
    assert "russia-iran-pact-2025" in cells[4]
    # a reported claim is marked as such; undated in its report, it says from when it is known
    missiles = page.locator("tr.fact", has_text="ballistic missiles to Russia")
    assert missiles.locator(".status").first.inner_text() == ("reported")
    assert missiles.first.locator("td").nth(1).inner_text() == "undated, known from 2025-01"
    # the export buttons are scoped to what is on screen
    graphml = page.locator("#downloads a", has_text="GraphML").get_attribute("href") or ""
    assert "around=state%2FIRN" in graphml and "format=graphml" in graphml

    # memberships made from CSV rows have no name of their own: never "has the membership Membership"
    facts = page.locator("#entity .fact-text").all_inner_texts()
    assert "Iran is a member of BRICS" in facts
    assert not [f for f in facts if "has the membership" in f or "state-IRN--" in f]
    assert any(
        f.startswith("Iran is a party to Comprehensive Strategic Partnership Agreement") for f in facts
    )

    # the drawing of its neighbourhood: labels as large on screen as the page's small print
    page.wait_for_function(
        "window.pactgraphNeighbourhoodCy && window.pactgraphNeighbourhoodCy.nodes().length > 10"
    )
    sizes = page.evaluate(
        "(() => { const cy = window.pactgraphNeighbourhoodCy;"
        " return cy.nodes().map(n => parseFloat(n.style('font-size')) * cy.zoom()); })()"
    )
    assert min(sizes) >= 10, sizes

    # clicking a fact's verb opens the hub, its other end that entity
    row.locator("a.hub-link").click()
    page.wait_for_url(re.compile(r"#entity/agreement/russia-iran-cspa-2025$"))
    page.wait_for_selector("#entity h1:has-text('Comprehensive Strategic Partnership Agreement')")


def test_a_failed_lookup_does_not_leave_the_last_entity_s_downloads(page: Page) -> None:
    open_explorer(page, "#entity/state/IRN")
    page.wait_for_selector("#downloads a:has-text('GraphML')")
    assert "around=state%2FIRN" in (
        page.locator("#downloads a", has_text="GraphML").get_attribute("href") or ""
    )
    page.evaluate("location.hash = '#entity/Irna'")
    page.wait_for_selector("#entity .error")
    assert "Did you mean: Iran" in page.locator("#entity .error").inner_text()
    assert page.locator("#downloads").inner_text().startswith("Download the whole graph")
    graphml = page.locator("#downloads a", has_text="GraphML").get_attribute("href") or ""
    assert "around" not in graphml
    assert page.locator("#downloads a", has_text="Cytoscape (.cyjs)").count() == 1


def test_a_typo_in_the_search_box_suggests_the_right_state_first(page: Page) -> None:
    open_explorer(page)
    page.fill("#search", "Irna")
    first = page.locator(".suggestions:visible li").first
    first.wait_for()
    assert first.locator(".hit-label").inner_text() == "Iran"


@pytest.mark.usefixtures("assets")
def test_path_finder_draws_russia_and_iran_to_syria(page: Page) -> None:
    open_explorer(page, "#paths")
    pick(page, "#path-from-input", "Russia", "Russia")
    pick(page, "#path-from-input", "Iran", "Iran")
    pick(page, "#path-to", "Syr", "Syria")
    page.fill("#path-as-of", "2024-11-01")
    page.click("#path-run")

    page.wait_for_function("window.pactgraphCy && window.pactgraphCy.nodes().length > 0")
    labels = set(page.evaluate("window.pactgraphCy.nodes().map(n => n.data('label'))"))
    assert {"Russia", "Iran", "Syria", "Government of Bashar al-Assad"} <= labels
    edges = page.evaluate("window.pactgraphCy.edges().map(e => e.data('label'))")
    assert "is the government of" in edges
    shapes = dict(page.evaluate("window.pactgraphCy.nodes().map(n => [n.data('class'), n.style('shape')])"))
    assert shapes["Support"] == "diamond" and shapes["State"] == "ellipse"  # hubs stand out

    sentences = page.locator("#path-list .sentence").all_inner_texts()
    assert any(s.startswith("Russia supported Government of Bashar al-Assad") for s in sentences)
    assert any(s.startswith("Iran supported Government of Bashar al-Assad") for s in sentences)
    gexf = page.locator("#downloads a", has_text="GEXF").get_attribute("href") or ""
    assert "from=state%2FRUS" in gexf and "to=state%2FSYR" in gexf and "as_of=2024-11-01" in gexf
    # a download button for every export format, each answering with these paths
    links = page.locator("#downloads a.download")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    formats = [parse_qs(urlsplit(h).query)["format"][0] for h in hrefs]
    assert formats == ["graphml", "gexf", "cyjs", "turtle", "nquads", "trig", "jsonld"]
    for href in hrefs:
        response = page.request.get(href)
        assert response.ok, (href, response.status, response.text()[:300])
        assert "Bashar al-Assad" in response.text(), href

    # clicking a drawn node opens its entity
    box = page.locator("#path-graph").bounding_box()
    assert box is not None
    x, y = page.evaluate(
        "(() => { const p = window.pactgraphCy.nodes().filter(n => n.data('label') === 'Syria')"
        "[0].renderedPosition(); return [p.x, p.y]; })()"
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(re.compile(r"#entity/state/SYR$"))
    page.wait_for_selector("#entity h1:has-text('Syria')")


@pytest.mark.usefixtures("assets")
def test_sparql_editor_runs_a_query_into_a_table(page: Page) -> None:
    open_explorer(page, "#sparql")
    page.wait_for_selector("#yasgui .yasqe")
    tabs = page.locator("#yasgui .tabsList a[role=tab]").all_inner_texts()
    assert any("Leaders of Syria on a date" in t for t in tabs)

    # an example tab, run as it is: who signed the CSPA and when
    page.click("#yasgui .yasqe_queryButton")
    table = page.locator("#yasgui .tabPanel.active .yasr table.dataTable")
    table.locator("tbody tr").first.wait_for()
    text = table.inner_text()
    assert "Vladimir Putin" in text and "Masoud Pezeshkian" in text and "2025-01-17" in text

    # a query of one's own
    page.evaluate(
        "q => { window.pactgraphYasgui.getTab().setQuery(q); }",
        "PREFIX pg: <https://pactgraph.org/ontology#>\n"
        'SELECT ?code WHERE { ?s pg:isoAlpha3 ?code FILTER(?code IN ("IRN", "RUS", "SYR")) } ORDER BY ?code',
    )
    page.click("#yasgui .yasqe_queryButton")
    page.wait_for_function(
        "document.querySelectorAll('#yasgui .tabPanel.active table.dataTable tbody tr').length === 3 && "
        "document.querySelector('#yasgui .tabPanel.active table.dataTable').innerText.includes('SYR')"
    )
    csv = page.locator("#downloads a", has_text="CSV").get_attribute("href") or ""
    assert "format=csv" in csv and "isoAlpha3" in csv


def test_without_the_libraries_the_page_says_why_and_search_paths_and_plain_sparql_work(
    new_page: Callable[[str], Page], checkout_site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"libraries": {}, "missing": NO_NPM}))
    monkeypatch.setattr(web, "VENDOR_DIR", tmp_path)  # as a wheel built without npm
    page = new_page(checkout_site)
    open_explorer(page, "#paths?from=Russia&from=Iran&to=Syria&as_of=2024-11-01")
    notice = page.locator("#notice")
    assert notice.is_visible()
    text = notice.inner_text()
    assert text.startswith(
        "The graph drawing (Cytoscape.js) and the SPARQL editor (YASGUI) are off: " + NO_NPM
    )
    assert "install npm" in text

    page.locator("#path-list .sentence").first.wait_for()
    assert "Government of Bashar al-Assad" in page.locator("#path-list").inner_text()
    assert page.locator("#path-graph").inner_text() == f"The drawing is off: {NO_NPM}."

    open_explorer(page, "#sparql")
    page.click("#sparql-examples button:has-text('Memberships of Iran')")
    page.click("#sparql-run")
    page.locator("#sparql-results table tbody tr").first.wait_for()
    text = page.locator("#sparql-results").inner_text()
    assert "United Nations" in text and "BRICS" in text and "Shanghai Cooperation Organisation" in text
