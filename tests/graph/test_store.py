"""The store: named graphs, atomic replacement, persistence, native evaluation on Oxigraph."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import rdflib.plugins.sparql.evaluate
from rdflib import Literal, URIRef

from pactgraph.graph import Kind, PactgraphError, Store, open_store

A, B, P, G1, G2 = (URIRef(f"http://example.org/{x}") for x in ("a", "b", "p", "g1", "g2"))


def test_replace_graph_keeps_other_graphs(store: Store) -> None:
    store.replace_graphs({G1: [(A, P, Literal("one"))], G2: [(A, P, Literal("two"))]})
    store.replace_graphs({G1: [(A, P, Literal("uno"))]})
    assert store.graph_names() == [G1, G2]
    rows = store.select("SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o")
    assert [str(r["o"]) for r in rows] == ["two", "uno"]
    assert store.count(G1) == 1 and store.count() == 2


def test_select_binds_values_without_formatting(store: Store) -> None:
    nasty = Literal('x"} ; DROP ALL ; {"')
    # Other subjects with other values: a binding that is ignored returns them too.
    store.replace_graphs({G1: [(A, P, nasty), (B, P, Literal("x")), (B, P, Literal("DROP ALL"))]})
    query = "SELECT ?s ?o WHERE { ?s ?p ?o }"
    # Compared as text: Oxigraph gives plain literals back typed xsd:string (the same RDF 1.1 term).
    assert [(r["s"], str(r["o"])) for r in store.select(query, {"o": nasty})] == [(A, str(nasty))]
    assert [(r["s"], str(r["o"])) for r in store.select(query, {"s": B, "o": Literal("x")})] == [(B, "x")]
    assert store.count() == 3


def test_bad_query_is_bad_input(store: Store) -> None:
    with pytest.raises(PactgraphError) as info:
        store.select("SELECT ?s WHERE { ?s ")
    assert info.value.kind == Kind.BAD_INPUT


def test_oxigraph_queries_do_not_fall_back_to_rdflib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Oxigraph the query string goes to Oxigraph; rdflib's evaluator is never called."""
    s = open_store(f"oxigraph:{tmp_path / 's'}")
    s.replace_graphs({G1: [(A, P, Literal("x"))]})

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rdflib's SPARQL evaluator was used")

    monkeypatch.setattr(rdflib.plugins.sparql.evaluate, "evalQuery", refuse)
    assert s.select("SELECT ?s ?o WHERE { ?s ?p ?o }", {"s": A})[0]["o"].toPython() == "x"
    assert len(s.dataset.query("SELECT * WHERE { ?s ?p ?o }")) == 1
    s.close()


def test_oxigraph_store_persists_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "s"
    s = open_store(f"oxigraph:{path}")
    s.replace_graphs({G1: [(A, P, Literal("kept"))]})
    s.close()
    del s
    code = (
        f"from pactgraph.graph import open_store; s = open_store('oxigraph:{path}');"
        "print(s.select('SELECT ?o WHERE { ?s ?p ?o }')[0]['o'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "kept"


def test_second_writer_is_told_the_store_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "s"
    s = open_store(f"oxigraph:{path}")
    code = f"from pactgraph.graph import open_store; open_store('oxigraph:{path}')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert "open in another process" in done.stderr
    s.close()


def test_unknown_store_url() -> None:
    with pytest.raises(PactgraphError, match="unknown store"):
        open_store("postgres://x")
