"""The SPARQL 1.1 Protocol against a real uvicorn server, with real clients."""

from __future__ import annotations

import csv
import io
import json
import threading
import time

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from tests.api.conftest import Server, assert_cpu_work_stopped

PG = "https://pactgraph.org/ontology#"
ID = "https://pactgraph.org/id/"
IRAN_SCO = f"""PREFIX pg: <{PG}>
SELECT ?org ?start WHERE {{ ?m pg:member <{ID}state/IRN> ; pg:organisation ?org ; pg:start ?start }} ORDER BY ?start"""
EXPECTED = [(f"{ID}org/un", "1945-10-24"), (f"{ID}org/sco", "2023-07-04"), (f"{ID}org/brics", "2024-01-01")]


def wrapper(server: Server) -> SPARQLWrapper:
    return SPARQLWrapper(server.url + "/sparql")


def test_sparqlwrapper_json(server: Server) -> None:
    w = wrapper(server)
    w.setQuery(IRAN_SCO)
    w.setReturnFormat(JSON)
    rows = w.query().convert()["results"]["bindings"]  # type: ignore[index,call-overload]
    assert [(r["org"]["value"], r["start"]["value"]) for r in rows] == EXPECTED
    assert rows[0]["start"]["datatype"] == "http://www.w3.org/2001/XMLSchema#date"


def test_sparqlwrapper_xml_and_csv(server: Server) -> None:
    w = wrapper(server)
    w.setQuery(IRAN_SCO)
    w.setReturnFormat(XML)
    doc = w.query().convert()
    uris = [n.firstChild.data for n in doc.getElementsByTagName("uri")]  # type: ignore[union-attr]
    assert uris == [o for o, _ in EXPECTED]
    w.setReturnFormat(CSV)
    text = w.query().convert().decode()  # type: ignore[union-attr]
    assert list(csv.reader(io.StringIO(text)))[1:] == [list(r) for r in EXPECTED]


def test_sparqlwrapper_construct_turtle(server: Server) -> None:
    w = wrapper(server)
    w.setQuery(
        f"PREFIX pg: <{PG}> CONSTRUCT {{ ?s pg:isoAlpha2 ?c }} WHERE {{ ?s pg:isoAlpha3 'IRN' ; pg:isoAlpha2 ?c }}"
    )
    w.setReturnFormat(TURTLE)
    g = Graph().parse(data=w.query().convert(), format="turtle")  # type: ignore[arg-type]
    assert set(g) == {(URIRef(f"{ID}state/IRN"), URIRef(PG + "isoAlpha2"), Literal("IR"))}


def test_rdflib_sparqlstore_as_remote_graph(server: Server) -> None:
    remote = Graph(store=SPARQLStore(server.url + "/sparql", returnFormat="json"))
    labels = set(
        remote.objects(URIRef(f"{ID}state/RUS"), URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
    )
    assert labels == {Literal("Russia", lang="en")}


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_content_negotiation_for_select(server: Server, accept: str, media: str) -> None:
    r = httpx.get(server.url + "/sparql", params={"query": IRAN_SCO}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)


@pytest.mark.parametrize(
    ("accept", "media", "rdflib_format"),
    [
        ("text/turtle", "text/turtle", "turtle"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
    ],
)
def test_construct_formats(server: Server, accept: str, media: str, rdflib_format: str) -> None:
    q = f"CONSTRUCT {{ <{ID}state/IRN> ?p ?o }} WHERE {{ <{ID}state/IRN> ?p ?o }}"
    r = httpx.get(server.url + "/sparql", params={"query": q}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    g = Graph().parse(data=r.content, format=rdflib_format)
    assert (URIRef(f"{ID}state/IRN"), URIRef(PG + "isoAlpha3"), Literal("IRN")) in g


def test_post_forms_and_format_parameter(server: Server) -> None:
    direct = httpx.post(
        server.url + "/sparql", content=IRAN_SCO, headers={"Content-Type": "application/sparql-query"}
    )
    form = httpx.post(server.url + "/sparql", data={"query": IRAN_SCO, "format": "json"})
    assert direct.status_code == form.status_code == 200
    assert json.loads(direct.content) == json.loads(form.content)
    tsv = httpx.get(server.url + "/sparql", params={"query": IRAN_SCO, "format": "tsv"})
    assert tsv.text.splitlines()[1] == f'<{ID}org/un>\t"1945-10-24"^^<http://www.w3.org/2001/XMLSchema#date>'


def test_default_and_named_graph_uri(server: Server) -> None:
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://pactgraph.org/ontology#State> }"
    states = httpx.get(
        server.url + "/sparql", params={"query": q, "default-graph-uri": "https://pactgraph.org/graph/states"}
    )
    other = httpx.get(
        server.url + "/sparql",
        params={"query": q, "default-graph-uri": "https://pactgraph.org/graph/memberships"},
    )
    assert states.json()["results"]["bindings"][0]["n"]["value"] == "195"
    assert other.json()["results"]["bindings"][0]["n"]["value"] == "0"
    named = httpx.get(
        server.url + "/sparql",
        params={
            "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
            "named-graph-uri": "https://pactgraph.org/graph/states",
        },
    )
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [
        "https://pactgraph.org/graph/states"
    ]


def test_ask(server: Server) -> None:
    r = httpx.get(server.url + "/sparql", params={"query": f"ASK {{ <{ID}state/RUS> ?p ?o }}"})
    assert r.json() == {"head": {}, "boolean": True}


def test_not_acceptable(server: Server) -> None:
    r = httpx.get(server.url + "/sparql", params={"query": IRAN_SCO}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "image/png" in r.json()["error"]


def test_bad_query_gives_parser_message(server: Server) -> None:
    r = httpx.get(server.url + "/sparql", params={"query": "SELECT ?s WHERE { ?s ?p }"})
    assert r.status_code == 400
    body = r.json()
    assert body["error"].startswith("bad SPARQL query") and "1:26" in body["error"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "select * where { service silent <file:///etc/passwd> { ?s ?p ?o } }",
    ],
)
def test_service_is_refused(server: Server, query: str) -> None:
    r = httpx.get(server.url + "/sparql", params={"query": query})
    assert r.status_code == 400 and "SERVICE is refused" in r.json()["error"]


def test_word_service_inside_a_string_is_fine(server: Server) -> None:
    r = httpx.get(
        server.url + "/sparql", params={"query": 'SELECT ?x WHERE { BIND("SERVICE and LOAD" AS ?x) }'}
    )
    assert r.status_code == 200


def test_service_description(server: Server) -> None:
    r = httpx.get(server.url + "/sparql")
    assert r.status_code == 200
    g = Graph().parse(data=r.text, format="turtle")
    assert (
        None,
        URIRef("http://www.w3.org/ns/sparql-service-description#endpoint"),
        URIRef(server.url + "/sparql"),
    ) in g


SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_client_that_goes_away_stops_its_query(server: Server) -> None:
    # Everything here happens well within the server's 2 s limit, so only the disconnect stops it.
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(server.url + "/sparql", params={"query": SLOW}, timeout=0.3)
    assert_cpu_work_stopped(settle=0.5, window=0.6)


def test_slow_query_times_out_while_cheap_ones_answer(server: Server) -> None:
    slow = SLOW
    result: dict[str, object] = {}

    def run_slow() -> None:
        t0 = time.monotonic()
        r = httpx.get(server.url + "/sparql", params={"query": slow}, timeout=60)
        result["status"], result["seconds"], result["body"] = r.status_code, time.monotonic() - t0, r.json()

    t = threading.Thread(target=run_slow)
    t.start()
    time.sleep(0.3)
    cheap = httpx.get(server.url + "/sparql", params={"query": IRAN_SCO}, timeout=5)
    assert cheap.status_code == 200
    t.join(30)
    assert result["status"] == 503
    assert result["seconds"] < 2.0 + 1.0  # the limit plus one second
    assert "time limit of 2 s and was stopped" in result["body"]["error"]  # type: ignore[index]
    assert_cpu_work_stopped()


ALL_STATE_TRIPLES = (
    "SELECT ?s ?p ?o WHERE { GRAPH <https://pactgraph.org/graph/states> { ?s ?p ?o } } ORDER BY ?s ?p ?o"
)


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_row_limit_cuts_with_a_marker(server: Server, fmt: str) -> None:
    r = httpx.get(server.url + "/sparql", params={"query": ALL_STATE_TRIPLES, "format": fmt})
    assert r.status_code == 200
    assert r.headers["x-pactgraph-truncated"] == "max_rows=300"
    full = httpx.get(
        server.url + "/sparql", params={"query": ALL_STATE_TRIPLES + " LIMIT 300", "format": fmt}
    )
    assert "x-pactgraph-truncated" not in full.headers
    if fmt == "json":
        body = r.json()
        assert body["truncated"]["max_rows"] == 300 and "PACTGRAPH_MAX_ROWS" in body["truncated"]["message"]
        assert body["results"]["bindings"] == full.json()["results"]["bindings"]
    elif fmt == "xml":
        assert b"<!-- cut at 300 rows (PACTGRAPH_MAX_ROWS)" in r.content
        assert r.content.count(b"<result>") == 300
    else:
        assert r.content == full.content
        assert len(r.content.splitlines()) == 301


def test_terms_reach_the_client_unchanged(server: Server) -> None:
    g = "https://example.org/graph/terms"
    data = (
        '<urn:t> <urn:p> "chaîne"@fr , "42"^^<http://www.w3.org/2001/XMLSchema#integer> , '
        '"2024-12"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> , "tab\\there\\nnewline" , _:b1 .\n'
        "_:b1 <urn:p> <urn:t> .\n"
    )
    auth = {"Authorization": f"Bearer {server.token}", "Content-Type": "text/turtle"}
    assert (
        httpx.put(server.url + "/store", params={"graph": g}, content=data.encode(), headers=auth).status_code
        == 201
    )
    q = f"SELECT ?o ?back WHERE {{ GRAPH <{g}> {{ <urn:t> <urn:p> ?o OPTIONAL {{ ?o <urn:p> ?back }} }} }} ORDER BY STR(?o)"
    rows = httpx.get(server.url + "/sparql", params={"query": q}).json()["results"]["bindings"]
    values = [r["o"] for r in rows]
    assert {"type": "literal", "value": "chaîne", "xml:lang": "fr"} in values
    assert {
        "type": "literal",
        "value": "42",
        "datatype": "http://www.w3.org/2001/XMLSchema#integer",
    } in values
    assert {
        "type": "literal",
        "value": "2024-12",
        "datatype": "http://www.w3.org/2001/XMLSchema#gYearMonth",
    } in values
    assert {"type": "literal", "value": "tab\there\nnewline"} in values
    bnode = next(r for r in rows if r["o"]["type"] == "bnode")
    assert bnode["back"] == {"type": "uri", "value": "urn:t"}  # the blank node is one node, joined on
    tsv = httpx.get(server.url + "/sparql", params={"query": q, "format": "tsv"}).text
    assert '"tab\\there\\nnewline"' in tsv
    httpx.delete(server.url + "/store", params={"graph": g}, headers=auth)


# ---------------------------------------------------------------------------- issue 13

STATES = "https://pactgraph.org/graph/states"


def count(server: Server, query: str, **params: str | list[str]) -> int:
    r = httpx.get(server.url + "/sparql", params={"query": query, **params})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_a_triple_in_two_graphs_is_one_row(server: Server) -> None:
    """The sanctions are in the report's graph and in the background graph: four, not eight."""
    assert count(server, "SELECT (COUNT(*) AS ?n) { ?s a pg:Sanction }") == 4
    rows = httpx.get(server.url + "/sparql", params={"query": "SELECT ?s { ?s a pg:Sanction }"}).json()
    assert len(rows["results"]["bindings"]) == 4
    assert count(server, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s a pg:Sanction } }") == 8


def test_from_names_exactly_its_graphs_on_the_bundled_data(server: Server) -> None:
    in_states = count(server, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{STATES}> {{ ?s ?p ?o }} }}")
    everything = count(server, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    assert 2000 < in_states < everything
    assert count(server, f"SELECT (COUNT(*) AS ?n) FROM <{STATES}> WHERE {{ ?s ?p ?o }}") == in_states
    assert count(server, "SELECT (COUNT(*) AS ?n) FROM <urn:nothing> WHERE { ?s ?p ?o }") == 0
    assert (
        count(server, f"SELECT (COUNT(*) AS ?n) FROM NAMED <{STATES}> {{ GRAPH ?g {{ ?s a pg:State }} }}")
        == 195
    )
    assert (
        count(server, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s a pg:State } }", **{"named-graph-uri": STATES})
        == 195
    )
    assert count(server, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", **{"default-graph-uri": STATES}) == in_states


def test_predeclared_prefixes(server: Server) -> None:
    # (A prefixed name's local part may not hold a "/" unescaped: id:state\\/IRN.)
    q = 'SELECT ?s ?code { ?s a pg:State ; pg:isoAlpha3 "IRN" ; pg:wikidataId ?code FILTER(?s = id:state\\/IRN) }'
    rows = httpx.get(server.url + "/sparql", params={"query": q}).json()["results"]["bindings"]
    assert [(r["s"]["value"], r["code"]["value"]) for r in rows] == [(f"{ID}state/IRN", "Q794")]
    # A PREFIX line in the query wins over the predeclared one.
    mine = "PREFIX pg: <urn:mine:> SELECT (COUNT(*) AS ?n) { ?s a pg:State }"
    assert count(server, mine) == 0
    prefixes = httpx.get(server.url + "/sparql/prefixes").json()
    assert sorted(prefixes) == sorted(
        ["pg", "id", "rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "prov", "schema", "wd", "wdt"]
    )
    assert prefixes["pg"] == PG and prefixes["id"] == ID
    g = Graph().parse(data=httpx.get(server.url + "/sparql").text, format="turtle")
    declared = {
        (
            str(g.value(d, URIRef("http://www.w3.org/ns/shacl#prefix"))),
            str(g.value(d, URIRef("http://www.w3.org/ns/shacl#namespace"))),
        )
        for d in g.objects(None, URIRef("http://www.w3.org/ns/shacl#declare"))
    }
    assert declared == set(prefixes.items())


def test_an_evaluation_failure_is_not_a_syntax_error(server: Server) -> None:
    failed = httpx.get(
        server.url + "/sparql", params={"query": "SELECT ?x { BIND(<urn:no:such:function>(1) AS ?x) }"}
    )
    assert failed.status_code == 500
    assert "evaluation error, not a syntax error" in failed.json()["error"]
    assert failed.json()["detail"] == {"error": "evaluation"}
    bad = httpx.get(server.url + "/sparql", params={"query": "SELECT ?x { BIND(1 AS ?x }"})
    assert bad.status_code == 400 and "syntax error" in bad.json()["error"]
    assert bad.json()["detail"] == {"error": "syntax"}


FORMS = {
    "SELECT": f"SELECT ?s WHERE {{ ?s <{PG}isoAlpha3> 'IRN' }}",
    "ASK": f"ASK {{ <{ID}state/IRN> <{PG}isoAlpha3> 'IRN' }}",
    "CONSTRUCT": f"CONSTRUCT {{ ?s <{PG}isoAlpha3> ?c }} WHERE {{ ?s <{PG}isoAlpha3> 'IRN' ; <{PG}isoAlpha3> ?c }}",
    "DESCRIBE": f"DESCRIBE <{ID}state/IRN>",
}


def _answer_of(result: object, content_type: str) -> object:
    """What a SPARQLWrapper result says, whatever the format it came in."""
    from xml.dom.minidom import Document

    iran = (URIRef(f"{ID}state/IRN"), URIRef(PG + "isoAlpha3"), Literal("IRN"))
    if isinstance(result, Graph):
        return iran in result
    if isinstance(result, Document):
        if result.getElementsByTagName("boolean"):
            return result.getElementsByTagName("boolean")[0].firstChild.data == "true"  # type: ignore[union-attr]
        return [n.firstChild.data for n in result.getElementsByTagName("uri")]  # type: ignore[union-attr]
    if isinstance(result, dict):
        if "boolean" in result:
            return result["boolean"]
        return [b["s"]["value"] for b in result["results"]["bindings"]]
    assert isinstance(result, bytes), type(result)
    media = content_type.split(";")[0]
    if media in ("text/csv", "text/tab-separated-values"):
        lines = result.decode().splitlines()
        if lines[0].lstrip("?") != "s":
            return lines == ["true"]  # a boolean in CSV/TSV (which the standard defines for SELECT only)
        return [line.strip("<>") for line in lines[1:]]
    g = Graph().parse(data=result, format="turtle" if "turtle" in media else "nt")
    return iran in g


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("fmt", ["json", "xml", "turtle", "n3", "rdf", "rdf+xml", "csv", "tsv", "json-ld"])
def test_sparqlwrapper_defaults_in_every_format(server: Server, form: str, fmt: str) -> None:
    """SPARQLWrapper as a user leaves it (GET, its own format=, output= and Accept) for every
    query form and every return format it offers: an answer it can convert, never a 406."""
    w = wrapper(server)
    w.setQuery(FORMS[form])
    w.setReturnFormat(fmt)
    response = w.query()
    content_type = response.info()["content-type"]
    result = response.convert()
    expected: object = [f"{ID}state/IRN"] if form == "SELECT" else True
    assert _answer_of(result, content_type) == expected, (content_type, result)
