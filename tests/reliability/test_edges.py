"""Edges of issue 18 (points 7, 12, 13, 16, 17): the Graph Store's formats and IRIs, dates the
shapes let in and the readers read, deep blank nodes, links in the explorer, slow clients.

Each test runs against a real uvicorn on 127.0.0.1 over a real Oxigraph store (an empty one with
a few triples of its own: none of these needs the bundled data)."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import SH

from pactgraph.api.settings import Settings
from pactgraph.graph.dates import DATE_PATTERN, parse_period
from pactgraph.graph.errors import PactgraphError
from pactgraph.graph.shacl import validate_store
from pactgraph.ontology import SHAPES_PATH
from tests.conftest import missing
from tests.reliability.helpers import TOKEN, Live, live_server, no_trace, serve_subprocess
from tests.web.browser import CHROMIUM, launch

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

PG = "https://pactgraph.org/ontology#"
ID = "https://pactgraph.org/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
G = "https://example.org/graph/edges"
TURTLE = {"Content-Type": "text/turtle"}
XAA = f"""@prefix pg: <{PG}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{ID}state/XAA> a pg:State ; rdfs:label "Atlantis"@en ; pg:isoAlpha3 "XAA" .
"""


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path = tmp_path_factory.mktemp("edges") / "store"
    settings = Settings(store=f"oxigraph:{path}", token=TOKEN, query_timeout=10, load_bundled=False)
    with live_server(settings, path) as live:
        r = httpx.put(
            live.url + "/store",
            params={"graph": "https://pactgraph.org/graph/xaa"},
            content=XAA,
            headers={**live.auth, **TURTLE},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        yield live


def graph_text(live: Live, graph: str) -> tuple[int, str]:
    r = httpx.get(live.url + "/store", params={"graph": graph}, headers={"Accept": "application/n-triples"})
    return r.status_code, "\n".join(sorted(r.text.splitlines()))


# ---------------------------------------------------------------- 7: quad formats on /store?graph=

QUAD_BODIES = [
    ("application/trig", f"<{G}> {{ <urn:x:s> <urn:x:p> 'in the target graph' . }}"),
    ("application/trig", "<urn:x:other> { <urn:x:s> <urn:x:p> 'in another graph' . }"),
    ("application/trig", "<urn:x:s> <urn:x:p> 'in the default graph' ."),
    ("application/n-quads", '<urn:x:s> <urn:x:p> "named" <urn:x:other> .\n'),
    ("application/n-quads", '<urn:x:s> <urn:x:p> "default" .\n'),
    ("application/n-quads; charset=utf-8", f'<urn:x:s> <urn:x:p> "target" <{G}> .\n'),
]


@pytest.mark.parametrize("method", ["PUT", "POST"])
@pytest.mark.parametrize(("media", "body"), QUAD_BODIES)
def test_a_quad_format_on_a_graph_store_write_is_415_and_changes_nothing(
    edges: Live, method: str, media: str, body: str
) -> None:
    seed = httpx.put(
        edges.url + "/store",
        params={"graph": G},
        content="<urn:x:s> <urn:x:p> 'kept' .",
        headers={**edges.auth, **TURTLE},
    )
    assert seed.status_code in (201, 204), seed.text
    before = graph_text(edges, G)
    r = httpx.request(
        method,
        edges.url + "/store",
        params={"graph": G},
        content=body,
        headers={**edges.auth, "Content-Type": media},
    )
    assert r.status_code == 415, r.text
    error = r.json()["error"]
    assert "quad format" in error and "POST /ingest" in error and "Nothing was written" in error
    assert graph_text(edges, G) == before
    assert '"kept"' in before[1]
    other = httpx.get(edges.url + "/store", params={"graph": "urn:x:other"})
    assert other.status_code == 404


def test_the_default_graph_refuses_quads_too(edges: Live) -> None:
    r = httpx.put(
        edges.url + "/store",
        params={"default": ""},
        content="<urn:x:g> { <urn:x:s> <urn:x:p> 'q' . }",
        headers={**edges.auth, "Content-Type": "application/trig"},
    )
    assert r.status_code == 415, r.text


# ---------------------------------------------------------------- 13: IRIs and deep blank nodes

BAD_IRIS = [
    "http://a b/",
    "http://a/<x>",
    'http://a/"x"',
    "http://a/{x}",
    "http://a/x|y",
    "http://a/x^y",
    "http://a/`x`",
    "http://a/\\x",
]


@pytest.mark.parametrize("iri", BAD_IRIS)
@pytest.mark.parametrize("method", ["PUT", "POST", "GET", "DELETE"])
def test_an_invalid_graph_iri_is_400(edges: Live, iri: str, method: str) -> None:
    r = httpx.request(
        method,
        edges.url + "/store",
        params={"graph": iri},
        content="<urn:x:s> <urn:x:p> 'x' ." if method in ("PUT", "POST") else None,
        headers={**edges.auth, **TURTLE},
    )
    assert r.status_code == 400, r.text
    assert "not a valid IRI" in r.json()["error"]
    no_trace(r.text)


DEPTH = 5_000


def deep_turtle(levels: int = DEPTH) -> str:
    return "@prefix : <urn:x:> .\n:s :p " + "[ :p " * levels + "'bottom'" + " ]" * levels + " .\n"


@pytest.mark.parametrize(
    "accept",
    [
        "text/turtle",
        "application/n-triples",
        "application/ld+json",
        "application/rdf+xml",
        "application/trig",
    ],
)
def test_a_graph_of_deeply_nested_blank_nodes_reads_back(edges: Live, accept: str) -> None:
    deep = "https://example.org/graph/deep"
    r = httpx.put(
        edges.url + "/store",
        params={"graph": deep},
        content=deep_turtle(),
        headers={**edges.auth, **TURTLE},
        timeout=120,
    )
    assert r.status_code in (201, 204), r.text
    got = httpx.get(edges.url + "/store", params={"graph": deep}, headers={"Accept": accept}, timeout=120)
    assert got.status_code == 200, got.text[:500]
    fmt = ox.RdfFormat.from_media_type(accept)
    assert fmt is not None
    triples = list(ox.parse(got.content, format=fmt))
    assert len(triples) == DEPTH + 1
    assert sum(1 for t in triples if isinstance(t.object, ox.Literal) and t.object.value == "bottom") == 1


def test_ingest_of_deeply_nested_blank_nodes_reads_back(edges: Live) -> None:
    r = httpx.post(
        edges.url + "/ingest",
        params={"name": "deep-ingest.ttl"},
        content=deep_turtle(),
        headers={**edges.auth, **TURTLE},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    got = httpx.get(
        edges.url + "/store", params={"graph": "https://pactgraph.org/graph/deep-ingest"}, timeout=120
    )
    assert got.status_code == 200, got.text[:500]
    nested = [t for t in ox.parse(got.content, format=ox.RdfFormat.TURTLE) if t.predicate.value == "urn:x:p"]
    assert len(nested) == DEPTH + 1  # (ingest adds the file's source description beside them)


# ---------------------------------------------------------------- 12: dates the shapes and readers agree on

# Well-formed XSD literals: the shapes let one in exactly when graph/dates.py reads it.
WELL_FORMED = [
    ("2024-01-01", "date"),
    ("2024-01-01Z", "date"),
    ("2024-01-01+05:30", "date"),
    ("2024-01-01-14:00", "date"),
    ("0001-01-01", "date"),
    ("9999-12-31", "date"),
    ("0000-01-01", "date"),
    ("-0050-03-01", "date"),
    ("12345-01-01", "date"),
    ("2024-12", "gYearMonth"),
    ("2024-12Z", "gYearMonth"),
    ("2024-12-05:00", "gYearMonth"),
    ("0000-12", "gYearMonth"),
    ("-0050-12", "gYearMonth"),
    ("2024", "gYear"),
    ("2024Z", "gYear"),
    ("2024-05:00", "gYear"),
    ("0001", "gYear"),
    ("0000", "gYear"),
    ("-0050", "gYear"),
    ("12345", "gYear"),
    ("12345678901234567890", "gYear"),
]
DATE_PROPERTIES = [
    "start",
    "end",
    "date",
    "signingDate",
    "born",
    "ongoingAsOf",
    "partySignature",
    "endOfForce",
]


def readable(text: str) -> bool:
    try:
        parse_period(text)
    except PactgraphError:
        return False
    return True


def conforms(prop: str, text: str, datatype: str) -> bool:
    store = ox.Store()
    literal = ox.Literal(text, datatype=ox.NamedNode(XSD + datatype))
    store.add(ox.Quad(ox.NamedNode(ID + "thing/x"), ox.NamedNode(PG + prop), literal, ox.NamedNode(G)))
    report = validate_store(store)
    return not [v for v in report.violations if v.value is None or text in v.value]


@pytest.mark.parametrize(("text", "datatype"), WELL_FORMED)
def test_the_shapes_let_in_exactly_the_dates_pactgraph_reads(text: str, datatype: str) -> None:
    # pg:ongoingAsOf is a day (xsd:date) only
    props = DATE_PROPERTIES if datatype == "date" else [p for p in DATE_PROPERTIES if p != "ongoingAsOf"]
    for prop in props:
        assert conforms(prop, text, datatype) == readable(text), (prop, text, datatype)


def test_the_shapes_carry_the_readers_pattern() -> None:
    """One rule for what is readable: every date property's shapes carry graph/dates.py's
    DATE_PATTERN, and no other date pattern is in the shapes."""
    shapes = Graph().parse(SHAPES_PATH)
    dated = {str(s) for s in shapes.objects(None, SH.targetSubjectsOf)} | {
        str(o) for o in shapes.objects(None, SH.path) if str(o).startswith(PG)
    }
    every_date = {
        PG + p
        for p in [
            "start",
            "end",
            "date",
            "signingDate",
            "entryIntoForce",
            "expiry",
            "founded",
            "period",
            "born",
            "died",
            "ongoingAsOf",
            "knownFrom",
            "retrieved",
            "coverageStart",
            "coverageEnd",
            "endOfForce",
            "partySignature",
            "partyRatification",
            "partyAccession",
            "partyEntryIntoForce",
            "partyWithdrawal",
        ]
    }
    assert every_date <= dated
    carried = {
        str(shapes.value(shape, SH.path)): str(pattern)
        for shape, pattern in shapes.subject_objects(SH.pattern)
        if str(shapes.value(shape, SH.path)) in every_date
    }
    assert carried == dict.fromkeys(every_date, DATE_PATTERN)


def test_a_date_with_a_timezone_is_read_not_taken_for_always(edges: Live) -> None:
    """2024-06-01Z is June 1st: the write path gives it its normalised days (as_of reads those
    and graph/dates.py's rule), it does not bound nothing."""
    graph = "https://example.org/graph/zoned"
    body = f"<{ID}thing/zoned> <{PG}start> '2024-06-01Z'^^<{XSD}date> ; <{PG}end> '2025-02-05:00'^^<{XSD}gYearMonth> ."
    r = httpx.put(
        edges.url + "/store", params={"graph": graph}, content=body, headers={**edges.auth, **TURTLE}
    )
    assert r.status_code == 201, r.text
    q = f"SELECT ?e ?l WHERE {{ <{ID}thing/zoned> <{PG}startEarliest> ?e ; <{PG}endLatest> ?l }}"
    rows = httpx.get(edges.url + "/sparql", params={"query": q}).json()["results"]["bindings"]
    assert [(b["e"]["value"], b["l"]["value"]) for b in rows] == [("2024-06-01", "2025-02-28")]


@pytest.mark.parametrize("text", ["0000", "-0050", "12345"])
def test_a_year_pactgraph_cannot_read_is_refused_by_the_shapes_over_http(edges: Live, text: str) -> None:
    graph = "https://example.org/graph/ancient"
    body = f"<{ID}thing/ancient> <{PG}start> '{text}'^^<{XSD}gYear> ."
    r = httpx.put(
        edges.url + "/store", params={"graph": graph}, content=body, headers={**edges.auth, **TURTLE}
    )
    assert r.status_code == 422, r.text
    assert any("0001 to 9999" in d["message"] for d in r.json()["detail"])
    assert httpx.get(edges.url + "/store", params={"graph": graph}).status_code == 404


HUGE = "12345678901234567890"
AS_OF_ROUTES = [
    ("/paths", {"from": "state/XAA", "to": "state/XAA", "as_of": f"{HUGE}-01-01"}),
    ("/neighbourhood/state/XAA", {"as_of": HUGE}),
    ("/export", {"around": "state/XAA", "as_of": f"{HUGE}-01-01"}),
    ("/export", {"format": "turtle", "as_of": HUGE}),
    ("/entities/state/XAA", {"as_of": HUGE}),
    ("/leaders", {"state": "state/XAA", "date": HUGE}),
    ("/states", {"date": HUGE}),
    ("/un-membership", {"date": HUGE}),
    ("/alliances/members", {"alliance": "state/XAA", "date": HUGE}),
    ("/alliances/allied", {"x": "state/XAA", "y": "state/XAA", "date": HUGE}),
    ("/agreements/of", {"party": "state/XAA", "date": HUGE}),
    ("/sanctions", {"target": "state/XAA", "date": HUGE}),
    ("/paths", {"from": "state/XAA", "to": "state/XAA", "as_of": "0000-01-01"}),
    ("/entities/state/XAA", {"as_of": "-0050"}),
]


@pytest.mark.parametrize(("route", "params"), AS_OF_ROUTES)
def test_an_unreadable_as_of_is_400_on_every_route(edges: Live, route: str, params: dict[str, str]) -> None:
    r = httpx.get(edges.url + route, params=params, timeout=60)
    assert r.status_code == 400, r.text
    assert "not a date" in r.json()["error"] and "0001 to 9999" in r.json()["error"]
    no_trace(r.text)


# ---------------------------------------------------------------- 17: slow clients

HEAD_TIMEOUT = 2.0
BODY_TIMEOUT = 2.0
SLACK = 3.0  # a loaded machine (two cores, several servers) may be late to close; never early


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`pactgraph serve` as a user runs it (its own process, its uvicorn settings), with short
    time-outs, over a store holding one small graph (so nothing bundled is loaded)."""
    folder = tmp_path_factory.mktemp("slow")
    path = folder / "store"
    seed = ox.Store(str(path))
    seed.load(XAA.encode(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("https://pactgraph.org/graph/xaa"))
    seed.flush()
    del seed
    env = {
        "PACTGRAPH_TOKEN": TOKEN,
        "PACTGRAPH_HEADER_TIMEOUT": str(HEAD_TIMEOUT),
        "PACTGRAPH_BODY_TIMEOUT": str(BODY_TIMEOUT),
    }
    with serve_subprocess(path, folder / "serve.log", env=env) as (url, proc):
        SERVED_PID.append(proc.pid)
        yield url


SERVED_PID: list[int] = []


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its live children (its query workers), from /proc."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def assert_idle(window: float = 1.0) -> None:
    """Nothing a cut-off client started is still running: the server is idle."""
    (pid,) = SERVED_PID
    time.sleep(0.3)
    before = cpu_seconds(pid)
    time.sleep(window)
    used = cpu_seconds(pid) - before
    assert used < window / 5, f"the server still burned {used:.2f} s of CPU in {window} s"


def trickle(url: str, head: bytes, drip: bytes, give_up: float) -> tuple[float, bytes]:
    """Open a raw connection, send `head`, then one byte of `drip` every half second (a slow
    loris), until the server closes the connection or `give_up` seconds pass. Returns the seconds
    from the first byte to the close (inf if it never came) and what the server sent."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    got = b""
    started = time.monotonic()
    try:
        sock.sendall(head)
        i = 0
        while time.monotonic() - started < give_up:
            try:
                sock.sendall(drip[i % len(drip) : i % len(drip) + 1])
            except OSError:  # reset or broken pipe: closed by the server
                return time.monotonic() - started, got
            i += 1
            ready, _, _ = select.select([sock], [], [], 0.5)
            if ready:
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    return time.monotonic() - started, got
                if not chunk:
                    return time.monotonic() - started, got
                got += chunk
        return float("inf"), got
    finally:
        sock.close()


class Others(threading.Thread):
    """Ordinary clients asking /healthz and a SPARQL count meanwhile: every answer must come."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.answers, self.failures, self.slowest = url, threading.Event(), 0, [], 0.0

    def run(self) -> None:
        query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"}
        while not self.stop.is_set():
            for path, params in (("/healthz", None), ("/sparql", query)):
                t = time.monotonic()
                try:
                    r = httpx.get(self.url + path, params=params, timeout=10)
                    if r.status_code != 200:
                        self.failures.append(f"{path}: {r.status_code}")
                except httpx.HTTPError as exc:
                    self.failures.append(f"{path}: {exc!r}")
                self.slowest = max(self.slowest, time.monotonic() - t)
                self.answers += 1
            time.sleep(0.1)


def test_a_slow_request_head_is_cut_off_while_others_are_served(served: str) -> None:
    others = Others(served)
    others.start()
    results: list[tuple[float, bytes]] = []
    loris = [
        threading.Thread(
            target=lambda: results.append(
                trickle(served, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X-Slow: " + b"a" * 50, 15)
            )
        )
        for _ in range(8)
    ]
    for t in loris:
        t.start()
    for t in loris:
        t.join()
    others.stop.set()
    others.join()
    assert len(results) == 8
    for took, got in results:
        assert HEAD_TIMEOUT - 0.5 <= took <= HEAD_TIMEOUT + SLACK, took
        assert got.startswith(b"HTTP/1.1 408"), got[:200]
        assert b"did not arrive in time" in got
    assert not others.failures, others.failures
    assert others.answers >= 10 and others.slowest < HEAD_TIMEOUT, (others.answers, others.slowest)
    assert_idle()


def test_a_slow_request_body_is_cut_off_and_nothing_is_written(served: str) -> None:
    graph = "https://example.org/graph/slow"
    head = (
        f"PUT /store?graph={graph} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: text/turtle\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    others = Others(served)
    others.start()
    took, got = trickle(served, head, b"# a comment, one byte at a time\n", 20)
    others.stop.set()
    others.join()
    assert got.startswith(b"HTTP/1.1 408"), got[:300]
    assert b"PACTGRAPH_BODY_TIMEOUT" in got and b"nothing was done" in got
    # after the answer the connection goes too (the rest of the body is never waited for)
    assert BODY_TIMEOUT - 0.5 <= took <= BODY_TIMEOUT + HEAD_TIMEOUT + SLACK, took
    assert httpx.get(served + "/store", params={"graph": graph}).status_code == 404
    assert not others.failures, others.failures
    assert others.slowest < BODY_TIMEOUT, others.slowest
    assert_idle()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_huge_request_head_is_refused_before_it_is_held(served: str) -> None:
    """Headers sent fast and without end: refused past 256 KiB, not kept until the time-out."""
    (pid,) = SERVED_PID
    before = rss_mib(pid)
    host, port = served.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        line = b"X-Big: " + b"a" * 8000 + b"\r\n"
        with contextlib.suppress(OSError):  # the server closes while we send
            while sent < 200_000_000:
                sock.sendall(line)
                sent += len(line)
        got = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                got += chunk
    assert got.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), got[:200]
    assert sent < 50_000_000, sent
    assert rss_mib(pid) - before < 50
    assert httpx.get(served + "/healthz").status_code == 200


def test_a_client_that_keeps_its_connection_idle_is_closed(served: str) -> None:
    """Keep-alive: an idle connection after a response is closed (PACTGRAPH_KEEP_ALIVE, 5 s)."""
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        got = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        assert got.startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started <= 5 + SLACK


# ---------------------------------------------------------------- 16: links and scripts in the explorer

EXPLORER_DATA = f"""@base <{ID}> . @prefix pg: <{PG}> . @prefix xsd: <{XSD}> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix dcterms: <http://purl.org/dc/terms/> .
<state/XAA> a pg:State ; rdfs:label "Atlantis"@en ; pg:isoAlpha3 "XAA" .
<person/ann> a pg:Person ; rdfs:label "Ann Example"@en .
<source/evil> a pg:Source ; rdfs:label "Evil source"@en ; dcterms:title "Evil"@en ;
    dcterms:publisher "Nobody"@en ; pg:url "javascript:window.__pwned=1"^^xsd:anyURI .
<source/good> a pg:Source ; rdfs:label "Good source"@en ; dcterms:title "Good"@en ;
    dcterms:publisher "Somebody"@en ; pg:url "https://example.org/good"^^xsd:anyURI .
<tenure/ann> a pg:Tenure ; rdfs:label "Ann Example, head of state of Atlantis"@en ;
    pg:holder <person/ann> ; pg:role pg:HeadOfState ; pg:ofState <state/XAA> ;
    pg:start "2020-01-01"^^xsd:date ; pg:status pg:Confirmed ; pg:source <source/evil>, <source/good> .
"""


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
def site(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The checkout's explorer over a store holding a source whose URL is a javascript: URL
    (started after the browser, so that it stops first: see tests/web/test_explorer.py)."""
    path = tmp_path_factory.mktemp("explorer") / "store"
    settings = Settings(store=f"oxigraph:{path}", token=TOKEN, query_timeout=10, load_bundled=False)
    with live_server(settings, path) as live:
        r = httpx.post(
            live.url + "/ingest",
            params={"name": "hostile-links.ttl"},
            content=EXPLORER_DATA,
            headers={**live.auth, **TURTLE},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        yield live.url


def test_every_page_and_answer_carries_a_content_security_policy(site: str) -> None:
    for path in ("/", "/static/explorer.js", "/explorer/config", "/entities/person/ann", "/nowhere"):
        r = httpx.get(site + path)
        csp = r.headers.get("content-security-policy", "")
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
        assert directives.get("script-src") == "'self'", (path, csp)
        assert directives.get("object-src") == "'none'" and directives.get("base-uri") == "'none'", csp
        assert r.headers.get("x-content-type-options") == "nosniff"
    docs = httpx.get(site + "/docs")
    script_src = next(d for d in docs.headers["content-security-policy"].split(";") if "script-src" in d)
    assert "'sha256-" in script_src and "'unsafe-inline'" not in script_src


def test_a_javascript_url_in_the_data_is_never_a_link_and_the_page_runs_no_injected_script(
    browser: Browser, site: str
) -> None:
    context = browser.new_context(base_url=site)
    context.set_default_timeout(20_000)
    outside: list[str] = []

    def refuse(route: Route) -> None:
        outside.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(site) and not url.startswith("data:"), refuse)
    # every Content-Security-Policy refusal the page meets, from its first script on
    context.add_init_script(
        "window.__refused = []; document.addEventListener('securitypolicyviolation',"
        " (e) => window.__refused.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto("/#entity/person/ann")
        page.wait_for_selector("body[data-ready=true]")
        evil = page.locator("a.source[data-source$='source/evil']").first
        good = page.locator("a.source[data-source$='source/good']").first
        # the sources are described (one SPARQL query): the good URL becomes the link's target
        # (waits by selector: Playwright's wait_for_function evaluates a string, which this
        # page's policy refuses, as it should)
        page.wait_for_selector("a.source[data-source$='source/good'][href='https://example.org/good']")
        assert good.get_attribute("href") == "https://example.org/good"
        # the javascript: URL is shown as text (in the title), never as a target
        assert evil.get_attribute("href") is None
        assert "URL: javascript:window.__pwned=1" in (evil.get_attribute("title") or "")
        assert page.locator("a[href^='javascript:' i]").count() == 0
        evil.click()
        page.wait_for_timeout(500)
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("window.__refused") == []  # the explorer itself needs nothing refused

        # The libraries work under the policy too: the SPARQL editor runs a query into a table
        # (Cytoscape drew the neighbourhood above, where the libraries are built into this copy).
        if all(httpx.get(site + "/explorer/config").json()["vendor"].values()):
            page.goto("/#sparql")
            page.wait_for_selector("#yasgui .yasqe")
            page.evaluate(
                "q => { window.pactgraphYasgui.getTab().setQuery(q); }",
                f"SELECT ?code WHERE {{ ?s <{PG}isoAlpha3> ?code }}",
            )
            page.click("#yasgui .yasqe_queryButton")
            table = page.locator("#yasgui .tabPanel.active .yasr table.dataTable")
            table.locator("tbody tr").first.wait_for()
            assert "XAA" in table.inner_text()
            assert page.evaluate("window.__refused") == []
            page.goto("/#entity/person/ann")
            page.wait_for_selector("a.source[data-source$='source/evil']")

        # Were markup ever to get in, the policy stops it: a javascript: link and an inline
        # handler, added behind the page's back, run nothing.
        page.evaluate(
            "(() => { const a = document.createElement('a'); a.id = 'planted';"
            " a.setAttribute('href', 'javascript:window.__pwned=2'); a.textContent = 'planted link';"
            " document.getElementById('entity').prepend(a);"
            " document.body.insertAdjacentHTML('beforeend', '<img src=\"data:,\" onerror=\"window.__pwned=3\">');"
            " const s = document.createElement('script'); s.textContent = 'window.__pwned=4';"
            " document.body.append(s); })()"
        )
        page.click("#planted")
        page.wait_for_timeout(500)
        assert page.evaluate("window.__pwned") is None
        refused = page.evaluate("window.__refused")
        assert any(r.startswith("script-src") for r in refused), refused
        assert not dialogs and not outside, (dialogs, outside)
    finally:
        context.close()
