"""Every write path over HTTP and the CLI runs the same SHACL check (issue 16, point 1), and the
Graph Store's `?default` works for every method (issue 13), against a real server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from rdflib import Graph, Literal, URIRef

from pactgraph.api.settings import Settings
from tests.api.conftest import TOKEN, run_server
from tests.conftest import seeded_copy

PG = "https://pactgraph.org/ontology#"
ID = "https://pactgraph.org/id/"
G = "https://pactgraph.org/graph/hand-added"
BAD = f"<{ID}sanction/test-bad> a <{PG}Sanction> ; <{PG}target> <{ID}state/IRN> ."
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TURTLE = {**AUTH, "Content-Type": "text/turtle"}
UPDATE = {**AUTH, "Content-Type": "application/sparql-update"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path) -> Iterator[str]:
    path = seeded_copy(bundled_seed, tmp_path_factory.mktemp("writes") / "store")
    yield from run_server(Settings(store=f"oxigraph:{path}", token=TOKEN, query_timeout=10.0))


def everything(url: str) -> list[tuple[str, ...]]:
    """Every quad of every graph and every triple of the default graph, to see that nothing moved."""
    q = "SELECT ?g ?s ?p ?o { { GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o } } ORDER BY ?g ?s ?p ?o"
    r = httpx.post(url + "/sparql", data={"query": q, "format": "tsv"}, timeout=60)
    assert r.status_code == 200, r.text
    return [tuple(line.split("\t")) for line in r.text.splitlines()]


def violations(r: httpx.Response) -> list[tuple[Any, ...]]:
    assert r.status_code == 422, r.text
    return sorted((v["focus"], v["path"], v["rule"], v["message"], v["value"]) for v in r.json()["detail"])


WRITES = {
    "POST /ingest": ("POST", "/ingest?name=hand-added.ttl", TURTLE, BAD),
    "POST /update": ("POST", "/update", UPDATE, f"INSERT DATA {{ GRAPH <{G}> {{ {BAD} }} }}"),
    "POST /update (form, default graph)": (
        "POST",
        "/update",
        {**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        urlencode({"update": f"INSERT DATA {{ {BAD} }}"}),
    ),
    "PUT /store?graph": ("PUT", f"/store?graph={G}", TURTLE, BAD),
    "POST /store?graph": ("POST", f"/store?graph={G}", TURTLE, BAD),
    "PUT /store?default": ("PUT", "/store?default", TURTLE, BAD),
    "POST /store?default": ("POST", "/store?default", TURTLE, BAD),
}


def test_every_write_path_gives_the_same_422_and_changes_nothing(url: str) -> None:
    before = everything(url)
    reports = {
        name: violations(
            httpx.request(method, url + path, headers=headers, content=body.encode(), timeout=60)
        )
        for name, (method, path, headers, body) in WRITES.items()
    }
    first = reports["POST /ingest"]
    assert {rule for _f, _p, rule, _m, _v in first} == {"MinCountConstraintComponent"}
    assert [p for _f, p, _r, _m, _v in first] == [PG + "imposer", PG + "source", PG + "start", PG + "status"]
    for name, report in reports.items():
        assert report == first, name
    assert everything(url) == before


def test_a_delete_that_breaks_a_fact_is_refused(url: str) -> None:
    """The bundled states graph types Iran as a state; facts of other graphs point at it."""
    states = "https://pactgraph.org/graph/states"
    before = everything(url)
    r = httpx.delete(url + "/store", params={"graph": states}, headers=AUTH, timeout=60)
    assert r.status_code == 422
    assert any(v["rule"] == "ClassConstraintComponent" for v in r.json()["detail"])
    r = httpx.post(url + "/update", content=f"DROP GRAPH <{states}>", headers=UPDATE, timeout=60)
    assert r.status_code == 422
    assert everything(url) == before


def test_validate_false_writes_and_records_it(url: str) -> None:
    g = "https://pactgraph.org/graph/unchecked"
    r = httpx.put(url + "/store", params={"graph": g, "validate": "false"}, content=BAD, headers=TURTLE)
    assert r.status_code == 201
    ask = f"ASK {{ GRAPH <{g}> {{ <{g}> pg:shapesChecked false }} }}"
    assert httpx.get(url + "/sparql", params={"query": ask}).json()["boolean"] is True
    r = httpx.post(
        url + "/update", params={"validate": "false"}, content=f"DROP GRAPH <{g}>", headers=UPDATE, timeout=60
    )
    assert r.status_code == 204


def test_graph_store_default_graph_every_method(url: str) -> None:
    triple = (URIRef("urn:a"), URIRef("urn:p"), Literal("one"))
    assert (
        httpx.put(url + "/store?default", content="<urn:a> <urn:p> 'one' .", headers=TURTLE).status_code
        == 204
    )
    got = httpx.get(url + "/store?default", headers={"Accept": "text/turtle"})
    assert got.status_code == 200 and set(Graph().parse(data=got.text, format="turtle")) == {triple}
    assert httpx.head(url + "/store?default").status_code == 200
    assert (
        httpx.post(url + "/store?default", content="<urn:a> <urn:p> 'two' .", headers=TURTLE).status_code
        == 204
    )
    update = "INSERT DATA { <urn:a> <urn:p> 'three' }"  # no GRAPH: the default graph
    assert httpx.post(url + "/update", content=update, headers=UPDATE).status_code == 204
    values = "SELECT ?o { <urn:a> <urn:p> ?o } ORDER BY ?o"
    rows = httpx.get(url + "/sparql", params={"query": values}).json()["results"]["bindings"]
    assert [r["o"]["value"] for r in rows] == ["one", "three", "two"]  # queries see it
    graphs = httpx.get(url + "/sparql", params={"query": "SELECT DISTINCT ?g { GRAPH ?g { <urn:a> ?p ?o } }"})
    assert graphs.json()["results"]["bindings"] == []  # it is no named graph
    assert len(Graph().parse(data=httpx.get(url + "/store?default").text, format="turtle")) == 3
    assert httpx.delete(url + "/store?default", headers=AUTH).status_code == 204
    empty = httpx.get(url + "/store?default")
    assert empty.status_code == 200 and len(Graph().parse(data=empty.text, format="turtle")) == 0
    assert httpx.get(url + "/sparql", params={"query": values}).json()["results"]["bindings"] == []


def test_cli_ingest_refuses_the_same_file(tmp_path: Path) -> None:
    bad = tmp_path / "hand-added.ttl"
    bad.write_text(BAD)
    store = f"oxigraph:{tmp_path / 'store'}"
    run = [sys.executable, "-m", "pactgraph.api.cli"]
    done = subprocess.run(
        [*run, "ingest", str(bad), "--store", store], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1
    # On an empty store Iran is no state either: one violation more than over HTTP.
    assert "5 shape violation(s)" in done.stderr and "a sanction has an imposer" in done.stderr
    skipped = subprocess.run(
        [*run, "ingest", str(bad), "--store", store, "--no-validate"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert skipped.returncode == 0, skipped.stderr
    ask = f"ASK {{ GRAPH <{G}> {{ <{G}> pg:shapesChecked false }} }}"
    recorded = subprocess.run(
        [*run, "query", ask, "--store", store, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert '"boolean":true' in recorded.stdout.replace(" ", ""), recorded.stdout + recorded.stderr
