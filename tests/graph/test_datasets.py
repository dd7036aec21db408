"""What a query sees (issue 13), on every backend: the default graph is the merge (a set) of every
graph and the store's own default graph; FROM / FROM NAMED and the protocol's default-graph-uri /
named-graph-uri give exactly the graphs they name; the same question, the same answer."""

from __future__ import annotations

import json

import pytest
from rdflib import URIRef

from pactgraph.graph import Store, writes
from pactgraph.graph.sparql import answer
from pactgraph.graph.store import DEFAULT_GRAPH

A, B = "https://example.org/graph/a", "https://example.org/graph/b"
X = "urn:x:1"
# Graph a: 1 2 3; graph b: 3 4 (3 is in both); the store's own default graph: 5.
DATA = {
    A: f"<{X}> <urn:p> 1, 2, 3 .",
    B: f"<{X}> <urn:p> 3, 4 .",
}
COUNT = f"SELECT (COUNT(*) AS ?n) {{ <{X}> <urn:p> ?o }}"


@pytest.fixture
def small(store: Store) -> Store:
    for g, text in DATA.items():
        writes.put_graph(store, URIRef(g), text.encode(), "text/turtle")
    writes.put_graph(store, DEFAULT_GRAPH, f"<{X}> <urn:p> 5 .".encode(), "text/turtle")
    return store


def rows(store: Store, query: str, **dataset: list[str]) -> list[dict[str, str]]:
    body = json.loads(answer(store, query, "json", dataset.get("defaults"), dataset.get("named")).body)
    return [{k: v["value"] for k, v in b.items()} for b in body["results"]["bindings"]]


def n(store: Store, query: str, **dataset: list[str]) -> int:
    return int(rows(store, query, **dataset)[0]["n"])


def test_the_default_graph_is_the_merge_of_every_graph(small: Store) -> None:
    assert n(small, COUNT) == 5  # 1 2 3 4 5: the 3 of both graphs once
    per_graph = f"SELECT (COUNT(*) AS ?n) {{ GRAPH ?g {{ <{X}> <urn:p> ?o }} }}"
    assert n(small, per_graph) == 5  # 3 in a, 2 in b; the default graph is no named graph
    graphs = "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    assert [r["g"] for r in rows(small, graphs)] == [A, B]


def test_from_and_from_named(small: Store) -> None:
    assert n(small, f"SELECT (COUNT(*) AS ?n) FROM <{A}> {{ <{X}> <urn:p> ?o }}") == 3
    assert n(small, f"SELECT (COUNT(*) AS ?n) FROM <{A}> FROM <{B}> {{ <{X}> <urn:p> ?o }}") == 4
    assert n(small, "SELECT (COUNT(*) AS ?n) FROM <urn:nothing> { ?s ?p ?o }") == 0
    named = f"SELECT ?g (COUNT(*) AS ?n) FROM NAMED <{B}> {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    assert rows(small, named) == [{"g": B, "n": "2"}]
    # FROM NAMED alone: the default graph is empty.
    assert n(small, f"SELECT (COUNT(*) AS ?n) FROM NAMED <{B}> {{ ?s ?p ?o }}") == 0


def test_default_graph_uri_and_named_graph_uri(small: Store) -> None:
    assert n(small, COUNT, defaults=[A]) == 3
    assert n(small, COUNT, defaults=[A, B]) == 4
    assert n(small, COUNT, defaults=["urn:nothing"]) == 0
    named = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    assert rows(small, named, named=[A]) == [{"g": A, "n": "3"}]
    assert n(small, COUNT, named=[A]) == 0  # only named graphs given: an empty default graph
    # The protocol's dataset wins over the query's own.
    assert n(small, f"SELECT (COUNT(*) AS ?n) FROM <{A}> {{ <{X}> <urn:p> ?o }}", defaults=[B]) == 2


def test_updates_without_graph_write_the_default_graph(small: Store) -> None:
    writes.update(small, f"INSERT DATA {{ <{X}> <urn:p> 6 }}")
    assert n(small, COUNT) == 6
    assert sorted(str(o) for _s, _p, o in small.graph(DEFAULT_GRAPH)) == ["5", "6"]
    writes.update(small, f"DELETE WHERE {{ <{X}> <urn:p> ?o }}")  # only the default graph's own
    assert n(small, COUNT) == 4 and len(small.graph(DEFAULT_GRAPH)) == 0
    writes.update(small, f"DELETE WHERE {{ GRAPH ?g {{ <{X}> <urn:p> 3 }} }}")
    assert n(small, COUNT) == 3  # 1 2 4: 3 gone from both graphs


def test_the_merge_follows_every_kind_of_write(small: Store) -> None:
    writes.update(small, f"MOVE <{A}> TO <{B}>")
    assert n(small, COUNT) == 4 and n(small, COUNT, defaults=[B]) == 3
    writes.update(small, f"COPY DEFAULT TO <{A}> ; ADD <{A}> TO <{B}>")
    assert n(small, COUNT, defaults=[B]) == 4 and n(small, COUNT) == 4
    writes.delete_graph(small, URIRef(B))
    assert n(small, COUNT) == 1  # 5, in the default graph and in a
    writes.update(small, "DROP ALL")
    assert n(small, COUNT) == 0 and small.graph_names() == []


ID = "https://pactgraph.org/id/"


def _path_answers(store: Store) -> list[object]:
    """Every answer of the README's question at 3 and 4 hops, with and without a date."""
    from datetime import date

    from pactgraph.graph.paths import PathQuery, find_paths
    from pactgraph.graph.projection import build

    projection = build(store)
    sources = (ID + "state/RUS", ID + "state/IRN")
    return [
        find_paths(projection, PathQuery(sources, ID + "state/SYR", max_hops=hops, limit=50, as_of=as_of))
        for hops in (3, 4)
        for as_of in (None, date(2024, 11, 1))
    ]


@pytest.fixture(scope="module")
def on_memory() -> list[object]:
    from pactgraph.data import DATA_DIR
    from pactgraph.graph import ingest, load_ontology, open_store, read_sources

    store = open_store("memory:")
    load_ontology(store)
    ingest(store, read_sources([DATA_DIR]))
    return _path_answers(store)


def test_path_answers_are_the_same_on_every_backend(loaded: Store, on_memory: list[object]) -> None:
    """A triple stated in two graphs used to be read twice on one backend and once on another."""
    answers = _path_answers(loaded)
    assert sum(len(p["paths"]) for a in answers for p in a["paths"]) >= 8  # type: ignore[index]
    assert answers == on_memory
