"""The query checks read what the engine reads (issue 18, points 1, 5, 8, 15).

Each spelling of tests/reliability/spellings.py hides something from a scan that reads the text
with its own regular grammar: an IRI with a UCHAR escape (`<http://a/\\u0041#>`) read as the
start of a comment, a quote inside an IRI read as the start of a string, a `<` comparison read
as an IRI. The checks must see through all of them: SERVICE and LOAD refused, deep nesting
refused with 400 (the engine's parser would overflow its stack and kill the process), the row
limit counted on the engine's output (never on a LIMIT the text seems to end with), volatile
answers never cached, and content negotiation done on the form the engine answers with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from pactgraph.api.settings import Settings
from pactgraph.graph import Kind, PactgraphError, refuse_unsafe
from pactgraph.graph.sparql import is_volatile
from tests.api.conftest import assert_cpu_work_stopped
from tests.conftest import seeded_copy
from tests.reliability.helpers import TOKEN, Live, live_server, no_trace
from tests.reliability.spellings import (
    FAKE_LIMIT,
    FORMS,
    LOAD_SPELLINGS,
    SERVICE_SPELLINGS,
    SERVICE_UPDATE_SPELLINGS,
    VOLATILE,
    deep_nesting,
    deep_update_nesting,
)
from tests.reliability.test_injection import Canary
from tests.reliability.test_limits import Stream, send_streaming

# Port 9 (discard): the engine refuses to connect there, so checking that a spelling parses
# never reaches the network.
NOWHERE = "http://127.0.0.1:9/canary"
# Tens of millions of solutions over the bundled data (~5,000 quads, squared).
BIG = "?s ?p ?o . ?x ?y ?z"
STATES = "https://pactgraph.org/graph/states"
UPDATE_HEADERS = {"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    c = Canary()
    yield c
    c.close()


def _parses(text: str, update: bool) -> None:
    """The engine reads the text (it may fail to evaluate it: never with a syntax error)."""
    try:
        if update:
            ox.Store().update(text)
        else:
            result = ox.Store().query(text)
            if isinstance(result, ox.QueryBoolean):
                bool(result)
            else:
                list(result)
    except SyntaxError as exc:
        pytest.fail(f"the engine does not parse {text!r}: {exc}")
    except (OSError, RuntimeError):
        pass


# ---------------------------------------------------------------------------- the corpus


def test_every_spelling_is_one_the_engine_parses() -> None:
    for t in SERVICE_SPELLINGS:
        _parses(t.format(canary=NOWHERE), update=False)
    for t in SERVICE_UPDATE_SPELLINGS + LOAD_SPELLINGS:
        _parses(t.format(canary=NOWHERE), update=True)
    for t in FAKE_LIMIT:
        _parses(t.format(big="?s ?p ?o"), update=False)
    for t in VOLATILE:
        _parses(t.format(), update=False)
    for t, _ in FORMS:
        _parses(t.format(), update=False)
    for q in deep_nesting(20):
        _parses(q, update=False)
    for q in deep_update_nesting(20):
        _parses(q, update=True)


@pytest.mark.parametrize("template", SERVICE_SPELLINGS + SERVICE_UPDATE_SPELLINGS + LOAD_SPELLINGS)
def test_the_checks_refuse_every_spelling(template: str) -> None:
    text = template.format(canary=NOWHERE)
    with pytest.raises(PactgraphError) as err:
        refuse_unsafe(text)
    assert err.value.kind == Kind.BAD_INPUT
    assert err.value.detail["keyword"] in ("SERVICE", "LOAD")


def test_labels_and_iris_that_only_look_like_keywords_pass() -> None:
    for text in (
        "SELECT * WHERE { ?s <http://example.org/service> ?o ; <http://www.w3.org/2000/01/rdf-schema#label> 'SERVICE' }",
        "SELECT * WHERE { ?s ?p ?o FILTER(?o != 'LOAD' && !BOUND(?x) && ?o<3) } # service",
        "SELECT * WHERE { VALUES (?a ?b) { (1 <http://example.org/service#x>) } }",
        "SELECT * WHERE { ?s ?p ?o FILTER(?p = <http://x/load#>) }",
        'SELECT * WHERE { ?s ?p """a SERVICE <x> {} LOAD""" }',
    ):
        refuse_unsafe(text)


# ---------------------------------------------------------------------------- over HTTP


@pytest.mark.parametrize("template", SERVICE_SPELLINGS)
def test_service_spellings_are_400_and_reach_nothing(server: Live, canary: Canary, template: str) -> None:
    before = len(canary.hits)
    q = template.format(canary=canary.url + "/sparql")
    r = httpx.post(
        server.url + "/sparql", content=q, headers={"Content-Type": "application/sparql-query"}, timeout=60
    )
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert "SERVICE is refused" in r.json()["error"]
    assert len(canary.hits) == before


@pytest.mark.parametrize("template", SERVICE_UPDATE_SPELLINGS + LOAD_SPELLINGS)
def test_load_and_service_spellings_in_updates_are_400(server: Live, canary: Canary, template: str) -> None:
    before = len(canary.hits)
    r = httpx.post(
        server.url + "/update",
        content=template.format(canary=canary.url + "/g"),
        headers=UPDATE_HEADERS,
        timeout=60,
    )
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert "is refused" in r.json()["error"]
    assert len(canary.hits) == before


@pytest.mark.parametrize("template", FAKE_LIMIT)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_fake_trailing_limit_does_not_lift_the_row_limit(server: Live, template: str, fmt: str) -> None:
    q = template.format(big=BIG)
    r = httpx.get(server.url + "/sparql", params={"query": q, "format": fmt}, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["x-pactgraph-truncated"] == "max_rows=300"
    assert len(r.content) < 1_000_000
    if fmt == "json":
        body = r.json()
        assert len(body["results"]["bindings"]) == 300 and body["truncated"]["max_rows"] == 300
    else:
        assert r.content.count(b"<result>") == 300 and b"PACTGRAPH_MAX_ROWS" in r.content
    assert_cpu_work_stopped(settle=0.5)


@pytest.mark.parametrize(
    "query", [*deep_nesting(100_000), "SELECT * WHERE { FILTER(" + "!" * 100_000 + "true) }"]
)
def test_deep_nesting_behind_the_tricks_is_400_and_the_server_lives(server: Live, query: str) -> None:
    r = httpx.post(
        server.url + "/sparql",
        content=query,
        headers={"Content-Type": "application/sparql-query"},
        timeout=60,
    )
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert "levels deep" in r.json()["error"]
    no_trace(r.text)
    ok = httpx.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=60)
    assert ok.status_code == 200 and ok.json()["boolean"] is True


@pytest.mark.parametrize("update", deep_update_nesting(100_000))
def test_deep_nesting_in_an_update_is_400_and_the_server_lives(server: Live, update: str) -> None:
    r = httpx.post(server.url + "/update", content=update, headers=UPDATE_HEADERS, timeout=60)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert "levels deep" in r.json()["error"]
    assert httpx.get(server.url + "/healthz", timeout=30).status_code == 200
    ok = httpx.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=60)
    assert ok.status_code == 200


@pytest.mark.parametrize("template", VOLATILE)
def test_volatile_queries_behind_the_tricks_are_not_cached(server: Live, template: str) -> None:
    q = template.format()
    assert is_volatile(q)
    answers = [httpx.get(server.url + "/sparql", params={"query": q}, timeout=60) for _ in range(2)]
    for r in answers:
        assert r.status_code == 200, r.text[:300]
        assert "x-pactgraph-cache" not in r.headers and "etag" not in r.headers


@pytest.mark.parametrize(("template", "form"), FORMS)
def test_content_negotiation_follows_the_form_the_engine_answers_with(
    server: Live, template: str, form: str
) -> None:
    # An Accept that names a format for either kind of answer: the answer's kind picks.
    accept = "text/turtle, application/sparql-results+xml;q=0.9"
    r = httpx.get(
        server.url + "/sparql", params={"query": template.format()}, headers={"Accept": accept}, timeout=60
    )
    assert r.status_code == 200, (r.status_code, r.text[:300])
    expected = "text/turtle" if form == "graph" else "application/sparql-results+xml"
    assert r.headers["content-type"].split(";")[0] == expected
    if form == "ask":
        assert b"<boolean>" in r.content
    # Asked only for a results format, a graph answer is 406 (and the other way round).
    only = "application/sparql-results+json" if form == "graph" else "text/turtle"
    r = httpx.get(
        server.url + "/sparql", params={"query": template.format()}, headers={"Accept": only}, timeout=60
    )
    assert r.status_code == 406, (r.status_code, r.text[:300])


# ---------------------------------------------------------------------------- point 5


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "nquads", "trig", "jsonld", "rdfxml"])
def test_a_graph_answer_is_cut_at_the_row_limit(server: Live, fmt: str) -> None:
    q = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{STATES}> {{ ?s ?p ?o }} }}"
    r = httpx.get(server.url + "/sparql", params={"query": q, "format": fmt}, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["x-pactgraph-truncated"] == "max_rows=300"
    rdf = {
        "turtle": ox.RdfFormat.TURTLE,
        "ntriples": ox.RdfFormat.N_TRIPLES,
        "nquads": ox.RdfFormat.N_QUADS,
        "trig": ox.RdfFormat.TRIG,
        "jsonld": ox.RdfFormat.JSON_LD,
        "rdfxml": ox.RdfFormat.RDF_XML,
    }[fmt]
    triples = {(q.subject, q.predicate, q.object) for q in ox.parse(r.content, format=rdf)}
    assert len(triples) == 300  # the graph's triples are distinct: the cut keeps exactly 300
    if fmt != "jsonld":  # JSON-LD has no comments: the header says it
        assert b"cut at 300 triples (PACTGRAPH_MAX_ROWS)" in r.content


def test_a_huge_graph_answer_is_cut_without_being_produced(server: Live) -> None:
    q = f"CONSTRUCT {{ ?s <urn:pairs> ?x }} WHERE {{ {BIG} }}"
    t = time.monotonic()
    r = httpx.get(server.url + "/sparql", params={"query": q, "format": "turtle"}, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["x-pactgraph-truncated"] == "max_rows=300"
    assert time.monotonic() - t < 2.0  # well inside the 2 s limit: the rest was never made
    assert 0 < len(list(ox.parse(r.content, format=ox.RdfFormat.TURTLE))) <= 300
    assert_cpu_work_stopped(settle=0.5)


def test_a_small_graph_answer_is_whole_and_unmarked(server: Live) -> None:
    q = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{STATES}> {{ ?s ?p ?o }} }} LIMIT 7"
    r = httpx.get(server.url + "/sparql", params={"query": q}, headers={"Accept": "text/turtle"}, timeout=60)
    assert r.status_code == 200 and "x-pactgraph-truncated" not in r.headers
    assert len(list(ox.parse(r.content, format=ox.RdfFormat.TURTLE))) == 7
    assert b"PACTGRAPH_MAX_ROWS" not in r.content


# ---------------------------------------------------------------------------- point 15


def test_if_none_match_star_is_not_modified_only_for_a_cached_answer(server: Live) -> None:
    star = {"If-None-Match": "*"}
    never_run = f"ASK {{ <urn:never-run:{time.time_ns()}> ?p ?o }}"
    r = httpx.get(server.url + "/sparql", params={"query": never_run}, headers=star, timeout=60)
    assert r.status_code == 200 and r.json()["boolean"] is False
    broken = f"SELECT * WHERE {{ ?s ?p  # {time.time_ns()}"
    r = httpx.get(server.url + "/sparql", params={"query": broken}, headers=star, timeout=60)
    assert r.status_code == 400 and "syntax" in r.json()["error"]
    # Once the answer is cached, `*` matches it.
    r = httpx.get(server.url + "/sparql", params={"query": never_run}, headers=star, timeout=60)
    assert r.status_code == 304


# ---------------------------------------------------------------------------- point 8


@pytest.fixture(scope="module")
def roomy(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A server with the default body limit (50 MB) and query limit (1 MiB)."""
    path = seeded_copy(seeded, tmp_path_factory.mktemp("roomy") / "store")
    settings = Settings(store=f"oxigraph:{path}", token=TOKEN, query_timeout=30.0, max_rows=300)
    assert settings.max_body == 50 * 1024 * 1024
    with live_server(settings, path) as live:
        yield live


def test_a_query_over_the_size_limit_is_413_at_once(roomy: Live) -> None:
    two_mb = "SELECT * WHERE { VALUES ?x { " + "1 " * (1024 * 1024) + "} }"
    for how in ("body", "form"):
        t = time.monotonic()
        if how == "body":
            r = httpx.post(
                roomy.url + "/sparql",
                content=two_mb,
                headers={"Content-Type": "application/sparql-query"},
                timeout=60,
            )
        else:
            r = httpx.post(roomy.url + "/sparql", data={"query": two_mb}, timeout=60)
        assert r.status_code == 413, (how, r.status_code, r.text[:300])
        assert "PACTGRAPH_MAX_QUERY" in r.json()["error"]
        assert time.monotonic() - t < 2.0


def test_a_huge_query_body_never_stalls_the_server(roomy: Live) -> None:
    """A 45 MB body to /sparql is refused while it streams in, and /healthz answers meanwhile."""
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            t = time.monotonic()
            assert httpx.get(roomy.url + "/healthz", timeout=30).status_code == 200
            latencies.append(time.monotonic() - t)
            time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        body = Stream(total=45 * 1024 * 1024)
        status, answer = send_streaming(
            roomy.url, "/sparql", {"Content-Type": "application/sparql-query"}, body
        )
    finally:
        done.set()
        prober.join(30)
    assert status == 413 and b"PACTGRAPH_MAX_QUERY" in answer
    assert not body.exhausted
    assert latencies and max(latencies) < 0.5, f"/healthz took up to {max(latencies):.2f} s"


def test_a_500_kb_values_query_answers(roomy: Live) -> None:
    iris = [f"<https://example.org/item/{i}#it>" for i in range(15_000)]
    q = "SELECT (COUNT(*) AS ?n) WHERE { VALUES ?x { " + " ".join(iris) + " } }"
    assert 500_000 < len(q) < 1024 * 1024
    r = httpx.post(
        roomy.url + "/sparql", content=q, headers={"Content-Type": "application/sparql-query"}, timeout=60
    )
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "15000"


# ---------------------------------------------------------------------------- the update reader


def test_an_update_with_escaped_iris_and_comparisons_is_read_as_the_engine_reads_it(server: Live) -> None:
    """The update's structure (its blocks, its graphs) is read where the engine reads it: an IRI
    with a UCHAR escape and a quote or `#` in it, and a `<` comparison before a string."""
    g = f"urn:escaped:{time.time_ns()}"
    insert = (
        f'INSERT DATA {{ GRAPH <{g}> {{ <http://a/\\u0041#x> <urn:p> "it\'s" ; '
        "<urn:q> <http://a/\\u0041'b> } }"
    )
    r = httpx.post(server.url + "/update", content=insert, headers=UPDATE_HEADERS, timeout=60)
    assert r.status_code == 204, r.text[:300]
    modify = (
        f"INSERT {{ GRAPH <{g}> {{ ?s <urn:r> '>#' }} }} "
        f"WHERE {{ GRAPH <{g}> {{ ?s <urn:p> ?o FILTER(!(?o<'>')) }} }}"
    )
    r = httpx.post(server.url + "/update", content=modify, headers=UPDATE_HEADERS, timeout=60)
    assert r.status_code == 204, r.text[:300]
    q = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }} ORDER BY ?p"
    rows = httpx.get(server.url + "/sparql", params={"query": q}, timeout=60).json()["results"]["bindings"]
    assert [(b["s"]["value"], b["p"]["value"], b["o"]["value"]) for b in rows] == [
        ("http://a/A#x", "urn:p", "it's"),
        ("http://a/A#x", "urn:q", "http://a/A'b"),
        ("http://a/A#x", "urn:r", ">#"),
    ]
