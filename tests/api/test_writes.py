"""Updates, the Graph Store Protocol and ingest: token required, validated, atomic."""

from __future__ import annotations

import httpx
import pytest
from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from tests.api.conftest import Server

G = "https://example.org/graph/scratch"
ID = "https://pactgraph.org/id/"
WRITES = [
    (
        "POST",
        "/update",
        {"Content-Type": "application/sparql-update"},
        f"INSERT DATA {{ GRAPH <{G}> {{ <urn:a> <urn:b> 'c' }} }}",
    ),
    ("PUT", f"/store?graph={G}", {"Content-Type": "text/turtle"}, "<urn:a> <urn:b> 'c' ."),
    ("POST", f"/store?graph={G}", {"Content-Type": "text/turtle"}, "<urn:a> <urn:b> 'c' ."),
    ("DELETE", f"/store?graph={G}", {}, ""),
    ("POST", "/ingest?name=x.ttl", {"Content-Type": "text/turtle"}, "<urn:a> <urn:b> 'c' ."),
]


def plain(term: Node) -> Node:
    """A string literal as RDF 1.1 has it: "x" and "x"^^xsd:string are one term (rdflib tells them apart)."""
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term


def count(server: Server) -> int:
    r = httpx.get(
        server.url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"}
    )
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize(("method", "path", "headers", "body"), WRITES)
def test_writes_without_token_are_refused(
    server: Server, method: str, path: str, headers: dict[str, str], body: str
) -> None:
    before = count(server)
    missing = httpx.request(method, server.url + path, headers=headers, content=body)
    wrong = httpx.request(
        method, server.url + path, headers={**headers, "Authorization": "Bearer nope"}, content=body
    )
    assert missing.status_code == 401 and wrong.status_code == 403
    assert count(server) == before


def test_writes_are_off_without_a_configured_token(open_server: str) -> None:
    r = httpx.post(
        open_server + "/update",
        content="CLEAR ALL",
        headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer anything"},
    )
    assert r.status_code == 403 and "PACTGRAPH_TOKEN" in r.json()["error"]


def test_update_and_graph_store_round_trip(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.token}"}
    put = httpx.put(
        server.url + "/store",
        params={"graph": G},
        content="<urn:x> <urn:p> 'one' .",
        headers={**auth, "Content-Type": "text/turtle"},
    )
    assert put.status_code == 201
    post = httpx.post(
        server.url + "/store",
        params={"graph": G},
        content='<urn:x> <urn:p> "two" .',
        headers={**auth, "Content-Type": "application/n-triples"},
    )
    assert post.status_code == 204
    upd = httpx.post(
        server.url + "/update",
        data={"update": f"INSERT DATA {{ GRAPH <{G}> {{ <urn:x> <urn:p> 'three' }} }}"},
        headers=auth,
    )
    assert upd.status_code == 204
    got = httpx.get(server.url + "/store", params={"graph": G}, headers={"Accept": "text/turtle"})
    g = Graph().parse(data=got.text, format="turtle")
    assert sorted(str(o) for o in g.objects(URIRef("urn:x"), URIRef("urn:p"))) == ["one", "three", "two"]
    assert httpx.head(server.url + "/store", params={"graph": G}).status_code == 200
    assert httpx.delete(server.url + "/store", params={"graph": G}, headers=auth).status_code == 204
    assert httpx.get(server.url + "/store", params={"graph": G}).status_code == 404


def test_load_in_update_is_refused(server: Server) -> None:
    r = httpx.post(
        server.url + "/update",
        content="LOAD <file:///etc/passwd>",
        headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/sparql-update"},
    )
    assert r.status_code == 400 and "LOAD is refused" in r.json()["error"]


def test_ingest_validates_and_reports(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.token}"}
    before = count(server)
    bad = f'<{ID}agreement/x> a <https://pactgraph.org/ontology#Treaty> ; <http://www.w3.org/2000/01/rdf-schema#label> "X"@en .'
    r = httpx.post(
        server.url + "/ingest",
        params={"name": "bad.ttl"},
        content=bad,
        headers={**auth, "Content-Type": "text/turtle"},
    )
    assert r.status_code == 422
    rules = {(d["focus"], d["rule"]) for d in r.json()["detail"]}
    assert (f"{ID}agreement/x", "MinCountConstraintComponent") in rules
    assert count(server) == before
    good = f'<{ID}state/XAA> a <https://pactgraph.org/ontology#State> ; <http://www.w3.org/2000/01/rdf-schema#label> "Atlantis"@en ; <https://pactgraph.org/ontology#isoAlpha3> "XAA" .'
    ok = httpx.post(
        server.url + "/ingest",
        params={"name": "atlantis.ttl"},
        content=good,
        headers={**auth, "Content-Type": "text/turtle"},
    )
    assert ok.status_code == 200
    assert ok.json() == {"graphs": {"https://pactgraph.org/graph/atlantis": 7}, "triples": 7}
    rows = httpx.get(
        server.url + "/sparql",
        params={
            "query": f"SELECT ?l WHERE {{ <{ID}state/XAA> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}"
        },
    )
    assert rows.json()["results"]["bindings"][0]["l"] == {
        "type": "literal",
        "value": "Atlantis",
        "xml:lang": "en",
    }
    # The graph the file became, read back through the Graph Store: its three statements, as
    # written (the label keeps its language), and the graph's own description (type, file, hash,
    # origin); nothing else.
    got = httpx.get(
        server.url + "/store",
        params={"graph": "https://pactgraph.org/graph/atlantis"},
        headers={"Accept": "text/turtle"},
    )
    assert got.status_code == 200, got.text
    g = Graph().parse(data=got.text, format="turtle")
    xaa = URIRef(f"{ID}state/XAA")
    assert {(s, p, plain(o)) for s, p, o in g.triples((xaa, None, None))} == {
        (xaa, RDF.type, URIRef("https://pactgraph.org/ontology#State")),
        (xaa, RDFS.label, Literal("Atlantis", lang="en")),
        (xaa, URIRef("https://pactgraph.org/ontology#isoAlpha3"), Literal("XAA")),
    }
    assert len(g) == 7 and {s for s in g.subjects()} == {xaa, URIRef("https://pactgraph.org/graph/atlantis")}


def test_body_over_the_limit_is_413(server: Server) -> None:
    big = b"#" * 2_500_000
    r = httpx.post(
        server.url + "/ingest",
        params={"name": "big.ttl"},
        content=big,
        headers={"Authorization": f"Bearer {server.token}", "Content-Type": "text/turtle"},
    )
    assert r.status_code == 413 and "PACTGRAPH_MAX_BODY" in r.json()["error"]


def test_meta_routes(server: Server) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server.url + "/readyz").json() == {"status": "ready"}
    stats = httpx.get(server.url + "/stats").json()
    assert stats["classes"]["https://pactgraph.org/ontology#State"] >= 195
    assert stats["graphs"]["https://pactgraph.org/graph/states"] > 2000
    onto = httpx.get(server.url + "/ontology", headers={"Accept": "application/n-triples"})
    assert onto.headers["content-type"].startswith("application/n-triples") and "owl#Ontology" in onto.text
    assert httpx.get(server.url + "/docs").status_code == 200
