"""Every write path runs the same SHACL check (issue 16, point 1): ingest, SPARQL update and the
Graph Store's PUT, POST and DELETE refuse the same invalid data with the same violations, and
leave the store as it was, on every backend. validate=False writes, and says so in the graph."""

from __future__ import annotations

from typing import Any

import pytest
from rdflib import Literal, URIRef

from pactgraph.graph import Kind, PactgraphError, SourceInput, Store, ingest, load_ontology, writes
from pactgraph.graph.shacl import SHAPES_CHECKED
from pactgraph.graph.store import DEFAULT_GRAPH

PG = "https://pactgraph.org/ontology#"
ID = "https://pactgraph.org/id/"
G = URIRef("https://pactgraph.org/graph/hand-added")
CONTEXT = f"""@prefix pg: <{PG}> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{ID}state/IRN> a pg:State ; rdfs:label "Iran"@en ; pg:isoAlpha3 "IRN" .
<{ID}org/eu> a pg:Organisation ; rdfs:label "European Union"@en .
<{ID}source/test> a pg:Source ; rdfs:label "A test source"@en ; <http://purl.org/dc/terms/title> "A test source" ;
    <http://purl.org/dc/terms/publisher> "pactgraph's tests" ; <http://purl.org/dc/terms/date> "2022-10-20"^^<http://www.w3.org/2001/XMLSchema#date> .
"""
# A sanction with no imposer, no source and no start date: three violations of SanctionShape.
BAD = f"""<{ID}sanction/test-bad> a <{PG}Sanction> ; <{PG}target> <{ID}state/IRN> ."""
GOOD = (
    f"""<{ID}sanction/test-good> a <{PG}Sanction> ; <{PG}target> <{ID}state/IRN> ; """
    f"""<{PG}imposer> <{ID}org/eu> ; <{PG}start> "2022-10-20"^^<http://www.w3.org/2001/XMLSchema#date> ; """
    f"""<{PG}status> <{PG}Confirmed> ; <{PG}source> <{ID}source/test> ."""
)


def violations(exc: PactgraphError) -> list[tuple[Any, ...]]:
    """The report without where the data came from (a file for ingest, a graph otherwise)."""
    assert exc.kind == Kind.INVALID, exc.message
    return sorted((v["focus"], v["path"], v["rule"], v["message"], v["value"]) for v in exc.detail)


def snapshot(store: Store) -> list[tuple[str, ...]]:
    return sorted(tuple(str(t) for t in q) for q in store.quads())


@pytest.fixture
def ready(store: Store) -> Store:
    load_ontology(store)
    ingest(store, [SourceInput("context.ttl", CONTEXT.encode(), "turtle", URIRef(PG + "x"))])
    return store


def refused(store: Store, write: Any) -> list[tuple[Any, ...]]:
    before = snapshot(store)
    with pytest.raises(PactgraphError) as info:
        write()
    assert snapshot(store) == before, "a refused write changed the store"
    return violations(info.value)


def test_every_write_path_refuses_the_same_invalid_sanction(ready: Store) -> None:
    expected = refused(ready, lambda: ingest(ready, [SourceInput("bad.ttl", BAD.encode(), "turtle", G)]))
    bad = f"{ID}sanction/test-bad"
    assert [(focus, path, rule) for focus, path, rule, _m, _v in expected] == [
        (bad, PG + "imposer", "MinCountConstraintComponent"),
        (bad, PG + "source", "MinCountConstraintComponent"),
        (bad, PG + "start", "MinCountConstraintComponent"),
        (bad, PG + "status", "MinCountConstraintComponent"),
    ]
    paths = {
        "update": lambda: writes.update(ready, f"INSERT DATA {{ GRAPH <{G}> {{ {BAD} }} }}"),
        "update into the default graph": lambda: writes.update(ready, f"INSERT DATA {{ {BAD} }}"),
        "update with WHERE": lambda: writes.update(
            ready, f"INSERT {{ GRAPH <{G}> {{ {BAD} }} }} WHERE {{ <{ID}state/IRN> a <{PG}State> }}"
        ),
        "graph store PUT": lambda: writes.put_graph(ready, G, BAD.encode(), "text/turtle"),
        "graph store POST": lambda: writes.post_graph(ready, G, BAD.encode(), "text/turtle"),
        "graph store PUT ?default": lambda: writes.put_graph(
            ready, DEFAULT_GRAPH, BAD.encode(), "text/turtle"
        ),
    }
    for name, write in paths.items():
        assert refused(ready, write) == expected, name


def test_removing_what_a_fact_needs_is_refused(ready: Store) -> None:
    """A deletion is checked too: the nodes that lose triples, and those pointing at them."""
    writes.put_graph(ready, G, GOOD.encode(), "text/turtle")
    sanction = f"{ID}sanction/test-good"
    lost_imposer = refused(
        ready,
        lambda: writes.update(
            ready, f"DELETE DATA {{ GRAPH <{G}> {{ <{sanction}> <{PG}imposer> <{ID}org/eu> }} }}"
        ),
    )
    assert [(f, r) for f, _p, r, _m, _v in lost_imposer] == [(sanction, "MinCountConstraintComponent")]
    # The imposer's type lives in another graph: dropping that graph leaves the sanction's imposer
    # no actor. The sanction is checked although nothing of it was written.
    lost_class = refused(ready, lambda: writes.delete_graph(ready, URIRef(PG + "x")))
    assert (sanction, PG + "imposer", "ClassConstraintComponent") in [
        (f, p, r) for f, p, r, _m, _v in lost_class
    ]
    lost_by_update = refused(ready, lambda: writes.update(ready, f"CLEAR GRAPH <{PG}x>"))
    assert lost_by_update == lost_class


def test_valid_writes_go_through_and_keep_the_merge(ready: Store) -> None:
    writes.put_graph(ready, G, GOOD.encode(), "text/turtle")
    writes.update(ready, f"INSERT DATA {{ <{ID}sanction/test-good> <{PG}note> 'hand-checked' }}")
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s a <{PG}Sanction> }}"
    assert int(str(ready.select(count)[0]["n"])) == 1
    # The same triple in a second graph: still one sanction in the default graph, two in GRAPH ?g.
    writes.post_graph(ready, URIRef(G + "-copy"), GOOD.encode(), "text/turtle")
    assert int(str(ready.select(count)[0]["n"])) == 1
    per_graph = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{PG}Sanction> }} }}"
    assert int(str(ready.select(per_graph)[0]["n"])) == 2
    writes.delete_graph(ready, G)
    assert int(str(ready.select(count)[0]["n"])) == 1  # still held by the copy
    writes.delete_graph(ready, URIRef(G + "-copy"))
    assert int(str(ready.select(count)[0]["n"])) == 0
    note = f"SELECT ?o WHERE {{ <{ID}sanction/test-good> <{PG}note> ?o }}"
    assert [str(r["o"]) for r in ready.select(note)] == ["hand-checked"]  # in the default graph


def test_skipping_the_check_writes_and_says_so_in_the_graph(ready: Store) -> None:
    writes.update(ready, f"INSERT DATA {{ GRAPH <{G}> {{ {BAD} }} }}", validate=False)
    writes.put_graph(ready, DEFAULT_GRAPH, BAD.encode(), "text/turtle", validate=False)
    marks = f"SELECT ?g ?v WHERE {{ GRAPH ?g {{ ?g <{SHAPES_CHECKED}> ?v }} }}"
    assert [(str(r["g"]), r["v"].toPython()) for r in ready.select(marks)] == [(str(G), False)]
    # The store's own default graph records it too (it is not a named graph: asked by its name).
    assert (URIRef(DEFAULT_GRAPH), URIRef(SHAPES_CHECKED), Literal(False)) in {
        (s, p, Literal(o.toPython())) for s, p, o in ready.graph(DEFAULT_GRAPH)
    }
    # A checked write that replaces the graph leaves the check's record behind with the old content.
    writes.put_graph(ready, G, GOOD.encode(), "text/turtle")
    assert ready.select(marks) == []


def test_drop_named_is_checked_and_drop_all_leaves_nothing_to_check(ready: Store) -> None:
    """DROP NAMED keeps the default graph, so what it holds is checked against what is left: a
    sanction there whose imposer, source and target go with the named graphs is refused. DROP ALL
    leaves no data at all, so nothing can be invalid, and it is made."""
    writes.update(ready, f"INSERT DATA {{ {GOOD} }}", timeout=60)  # into the default graph
    found = refused(ready, lambda: writes.update(ready, "DROP NAMED", timeout=60))
    good = f"{ID}sanction/test-good"
    assert {(focus, path) for focus, path, *_ in found} >= {(good, PG + "imposer"), (good, PG + "source")}
    writes.update(ready, "DROP ALL", timeout=60)
    assert snapshot(ready) == []
