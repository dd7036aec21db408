"""Reserved graphs, graphs another source holds, and a full disk (issue 18, points 6, 10 and 11).

Point 6: no client write (POST /ingest with TriG or N-Quads, PUT/POST/DELETE /store?graph=, POST
/update INSERT DATA and INSERT … WHERE, `pactgraph ingest`) may name one of pactgraph's own graphs
(staging graphs and journals of writes, the merge, the store's default graph by its inner name) or
the ontology graph: 400 naming the graph, nothing written; and a planted journal large enough
for the bulk path deletes nothing at the next start.

Point 11: the ontology graph is written from the package at every start (a changed one does not
survive a restart); a graph that came from another source (the bundled data, a dataset import, a
different file) is replaced only with replace=true (CLI --replace), and the 409 names the source.

Point 10: a write that does not fit on the disk (a real 64 MiB tmpfs: 20 MiB cannot hold a batch
large enough for the bulk path once space is back) answers 507 and writes
nothing, leaves no orphan bulk-*.sst, /readyz says 503 with the reason, and once space is freed the
next write succeeds without a restart.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

from pactgraph.api.settings import Settings
from pactgraph.graph import open_store
from pactgraph.ontology import GRAPH_BASE, ONTOLOGY_GRAPH, ONTOLOGY_PATH
from tests.conftest import missing, seeded_copy
from tests.importers.conftest import DATA as IMPORT_DATA
from tests.reliability.helpers import ROOT, TOKEN, Live, live_server, no_trace, serve_subprocess

QUERY_TIMEOUT = 30.0  # the first read after a write rebuilds the projection: not a test of limits
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STATES = GRAPH_BASE + "states"  # the bundled data/reference/states.ttl
ONTOLOGY = str(ONTOLOGY_GRAPH)
JOURNAL = "urn:pactgraph:staging:0123456789abcdef0123456789abcdef:journal"
PENDING = "urn:pactgraph:staging:pending"
RESERVED = [
    "urn:pactgraph:staging:0123456789abcdef0123456789abcdef:a0",
    JOURNAL,
    "urn:pactgraph:merge",
    "urn:pactgraph:default",
    "urn:pactgraph:ingest:context",
    ONTOLOGY,
]
TRIPLE = "<https://example.org/r/s> <https://example.org/r/p> <https://example.org/r/o>"


def graph_count(url: str, graph: str) -> int:
    """Triples in one graph, asked through the SPARQL protocol (FROM names it as the default graph)."""
    r = httpx.get(
        url + "/sparql", params={"query": f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}"}
    )
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def all_quads(store_path: Path) -> list[str]:
    """Every quad on disk (every graph, pactgraph's own too), sorted: taken with no server open."""
    native = ox.Store.read_only(str(store_path))
    try:
        return sorted(str(q) for q in native.quads_for_pattern(None, None, None, None) if not _blank(q))
    finally:
        del native
        gc.collect()


def _blank(q: ox.Quad) -> bool:
    # The ontology's blank nodes get new labels whenever it is written: not content.
    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)


def reserved_writes(g: str) -> list[tuple[str, str, dict[str, str], str | None, str]]:
    """(method, route, params, content type, body) of every client write naming graph `g`."""
    update = "application/sparql-update"
    return [
        ("POST", "/ingest", {"name": "planted.trig"}, "application/trig", f"<{g}> {{ {TRIPLE} . }}"),
        ("POST", "/ingest", {"name": "planted.nq"}, "application/n-quads", f"{TRIPLE} <{g}> ."),
        ("PUT", "/store", {"graph": g}, "text/turtle", f"{TRIPLE} ."),
        ("POST", "/store", {"graph": g}, "text/turtle", f"{TRIPLE} ."),
        ("DELETE", "/store", {"graph": g}, None, ""),
        ("POST", "/update", {}, update, f"INSERT DATA {{ GRAPH <{g}> {{ {TRIPLE} }} }}"),
        (
            "POST",
            "/update",
            {},
            update,
            f"INSERT {{ GRAPH <{g}> {{ ?s ?p ?o }} }} WHERE {{ VALUES (?s ?p ?o) {{ ({TRIPLE}) }} }}",
        ),
        (
            "POST",
            "/update",
            {},
            update,
            f"INSERT {{ GRAPH ?g {{ {TRIPLE} }} }} WHERE {{ BIND(<{g}> AS ?g) }}",
        ),
    ]


# ---------------------------------------------------------------------------------- point 6


@pytest.fixture(scope="module")
def writable(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path = seeded_copy(seeded, tmp_path_factory.mktemp("reserved") / "store")
    settings = Settings(
        store=f"oxigraph:{path}", token=TOKEN, query_timeout=QUERY_TIMEOUT, max_body=20_000_000
    )
    with live_server(settings, path) as live:
        yield live


@pytest.mark.parametrize("graph", RESERVED)
def test_no_client_write_names_a_reserved_graph(writable: Live, graph: str) -> None:
    before = {g: graph_count(writable.url, g) for g in (STATES, ONTOLOGY)}
    for method, route, params, ctype, body in reserved_writes(graph):
        headers = {**AUTH, **({"Content-Type": ctype} if ctype else {})}
        r = httpx.request(
            method, writable.url + route, params=params, headers=headers, content=body, timeout=60
        )
        what = f"{method} {route} {params} {body[:80]!r}"
        assert r.status_code == 400, f"{what}: {r.status_code} {r.text}"
        assert f"<{graph}>" in r.json()["error"], f"{what}: {r.text}"
        no_trace(r.text)
    assert {g: graph_count(writable.url, g) for g in (STATES, ONTOLOGY)} == before
    assert graph_count(writable.url, graph) == (before[ONTOLOGY] if graph == ONTOLOGY else 0)


def test_refused_writes_leave_the_store_as_it_was_across_a_restart(seeded: Path, tmp_path: Path) -> None:
    """Every refused write of every reserved graph, through a real `pactgraph serve`: the quads on
    disk after it stops, and after a second start, are those before (pactgraph's own graphs too)."""
    path = seeded_copy(seeded, tmp_path / "store")
    before = all_quads(path)
    with serve_subprocess(path, tmp_path / "first.log", {"PACTGRAPH_TOKEN": TOKEN}) as (url, _):
        for graph in RESERVED:
            for method, route, params, ctype, body in reserved_writes(graph):
                headers = {**AUTH, **({"Content-Type": ctype} if ctype else {})}
                r = httpx.request(
                    method, url + route, params=params, headers=headers, content=body, timeout=60
                )
                assert r.status_code == 400, f"{method} {route} {params}: {r.status_code} {r.text}"
    assert all_quads(path) == before
    with serve_subprocess(path, tmp_path / "second.log", {"PACTGRAPH_TOKEN": TOKEN}) as (url, _):
        assert graph_count(url, STATES) > 1000
    assert all_quads(path) == before


def test_the_cli_refuses_a_reserved_graph(seeded: Path, tmp_path: Path) -> None:
    path = seeded_copy(seeded, tmp_path / "store")
    before = all_quads(path)
    for name, body in (
        ("planted.trig", f"<{JOURNAL}> {{ <{JOURNAL}> <{PENDING}> <{STATES}> . }}"),
        ("planted.nq", f"{TRIPLE} <urn:pactgraph:default> ."),
        ("ontology.ttl", f"{TRIPLE} ."),
    ):
        file = tmp_path / name
        file.write_text(body)
        run = cli("ingest", "--store", f"oxigraph:{path}", str(file))
        said = " ".join(run.stderr.split())
        assert run.returncode == 2, run.stdout + run.stderr
        assert "reserved" in said and ("<urn:pactgraph:" in said or f"<{ONTOLOGY}>" in said), said
        no_trace(run.stderr)
    assert all_quads(path) == before


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pactgraph.api.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_a_planted_journal_deletes_nothing_at_the_next_start(seeded: Path, tmp_path: Path) -> None:
    """The bulk path (a batch of 20,000 quads and more into empty graphs) wrote a TriG's graphs as
    named, journal included; the next start read it as an unfinished write of the graph it names
    and dropped that graph (here the bundled states)."""
    path = seeded_copy(seeded, tmp_path / "store")
    filler = "\n".join(
        f'<https://example.org/bulk/s{i}> <https://example.org/bulk/p> "{i}" .' for i in range(25_000)
    )
    body = f"<{GRAPH_BASE}bulk-filler> {{\n{filler}\n}}\n<{JOURNAL}> {{ <{JOURNAL}> <{PENDING}> <{STATES}> . }}\n"
    with serve_subprocess(path, tmp_path / "first.log", {"PACTGRAPH_TOKEN": TOKEN}) as (url, _):
        states = graph_count(url, STATES)
        assert states > 1000
        r = httpx.post(
            url + "/ingest",
            params={"name": "planted.trig", "validate": "false"},
            content=body.encode(),
            headers={**AUTH, "Content-Type": "application/trig"},
            timeout=300,
        )
        assert r.status_code == 400, r.text
        assert f"<{JOURNAL}>" in r.json()["error"]
        assert graph_count(url, GRAPH_BASE + "bulk-filler") == 0
    with serve_subprocess(path, tmp_path / "second.log", {"PACTGRAPH_TOKEN": TOKEN}) as (url, _):
        assert graph_count(url, STATES) == states


# ---------------------------------------------------------------------------------- point 11


def ingest(url: str, name: str, body: str, **params: str) -> httpx.Response:
    return httpx.post(
        url + "/ingest",
        params={"name": name, "validate": "false", **params},
        content=body.encode(),
        headers={**AUTH, "Content-Type": "text/turtle"},
        timeout=300,
    )


def test_an_upload_named_ontology_ttl_is_refused(writable: Live) -> None:
    before = graph_count(writable.url, ONTOLOGY)
    r = ingest(writable.url, "ontology.ttl", f"{TRIPLE} .")
    assert r.status_code == 400, r.text
    assert f"<{ONTOLOGY}>" in r.json()["error"] and "ontology" in r.json()["error"]
    assert graph_count(writable.url, ONTOLOGY) == before


def test_the_ontology_graph_is_written_from_the_package_at_every_start(seeded: Path, tmp_path: Path) -> None:
    """A store whose ontology graph was changed (by an older pactgraph's upload, or any other tool)
    holds the package's ontology again after a start."""
    path = seeded_copy(seeded, tmp_path / "store")
    store = open_store(f"oxigraph:{path}")
    broken = (URIRef("https://example.org/broken"), URIRef("urn:p"), Literal("x"))
    store.replace_graphs({ONTOLOGY_GRAPH: [broken]})  # what an upload of a broken ontology.ttl left
    store.close()
    del store
    gc.collect()
    package = len(Graph().parse(ONTOLOGY_PATH))
    with serve_subprocess(path, tmp_path / "serve.log", {"PACTGRAPH_TOKEN": TOKEN}) as (url, _):
        assert graph_count(url, ONTOLOGY) == package + 1  # and the mark of the package's file
        r = httpx.get(
            url + "/sparql",
            params={"query": f"ASK {{ GRAPH <{ONTOLOGY}> {{ <https://example.org/broken> ?p ?o }} }}"},
        )
        assert r.json()["boolean"] is False


def graphs_seen(url: str) -> list[str]:
    r = httpx.get(url + "/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"})
    assert r.status_code == 200, r.text
    return sorted(b["g"]["value"] for b in r.json()["results"]["bindings"])


@pytest.mark.parametrize("update", ["DROP ALL", "CLEAR ALL", "DROP NAMED", "CLEAR SILENT NAMED"])
def test_drop_all_and_named_empty_every_graph_in_one_write_and_the_ontology_comes_back(
    seeded: Path, tmp_path: Path, update: str
) -> None:
    """ALL and NAMED mean every graph, as the standard says (SPARQL test suites clear a store with
    DROP ALL), the ontology's too, in one transaction (a 400 for NAMED before: the ontology is a
    named graph); the store stays writable, and the next start writes the ontology again. Named
    alone, the ontology stays refused."""
    path = seeded_copy(seeded, tmp_path / "store")
    settings = Settings(store=f"oxigraph:{path}", token=TOKEN, query_timeout=QUERY_TIMEOUT)
    upd = {**AUTH, "Content-Type": "application/sparql-update"}
    insert = f"INSERT DATA {{ {TRIPLE} }}"  # one triple in the default graph
    with live_server(settings, path) as live:
        ontology = graph_count(live.url, ONTOLOGY)
        assert STATES in graphs_seen(live.url) and ontology > 100
        for alone in (
            f"DROP GRAPH <{ONTOLOGY}>",
            f"{update} ; INSERT DATA {{ GRAPH <{ONTOLOGY}> {{ {TRIPLE} }} }}",
        ):
            r = httpx.post(live.url + "/update", content=alone, headers=upd, timeout=60)
            assert r.status_code == 400 and f"<{ONTOLOGY}>" in r.json()["error"], r.text
        assert httpx.post(live.url + "/update", content=insert, headers=upd, timeout=60).status_code == 204
        r = httpx.post(live.url + "/update", content=update, headers=upd, timeout=60)
        assert r.status_code == 204, r.text
        assert graphs_seen(live.url) == []
        ask = f"ASK {{ {TRIPLE} }}"
        kept = httpx.get(live.url + "/sparql", params={"query": ask}).json()["boolean"]
        assert kept is ("NAMED" in update)  # ALL empties the default graph too, NAMED leaves it
        again = httpx.post(live.url + "/update", content=insert, headers=upd, timeout=60)
        assert again.status_code == 204, again.text
    with live_server(settings, path) as live:
        assert graphs_seen(live.url) == [ONTOLOGY] and graph_count(live.url, ONTOLOGY) == ontology


def test_replacing_another_sources_graph_needs_replace(writable: Live) -> None:
    url = writable.url
    states = graph_count(url, STATES)
    # The bundled data's graph: an upload named states.ttl (or states.csv) would replace it.
    for name in ("states.ttl", "upload/states.csv"):
        r = ingest(url, name, f"{TRIPLE} .", format="turtle")
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert f"<{STATES}>" in error and "bundled data (reference/states.ttl)" in error, error
        assert "replace" in error
        no_trace(r.text)
    assert graph_count(url, STATES) == states
    # A file's graph: the same file again replaces it, another file of the same stem does not.
    assert ingest(url, "notes.ttl", f"{TRIPLE} .").status_code == 200
    assert ingest(url, "somewhere/notes.ttl", f'{TRIPLE} , "again" .').status_code == 200
    r = ingest(url, "notes.nt", f"{TRIPLE} .")
    assert r.status_code == 409 and "the file 'somewhere/notes.ttl'" in r.json()["error"], r.text
    r = ingest(url, "notes.nt", f"{TRIPLE} .", replace="true")
    assert r.status_code == 200, r.text
    # A dataset import's graph.
    r = httpx.post(
        url + "/import/cow-states",
        content=(IMPORT_DATA / "states_small.csv").read_bytes(),
        headers=AUTH,
        timeout=300,
    )
    assert r.status_code == 200, r.text
    release = r.json()["graph"]
    stem = release.removeprefix(GRAPH_BASE)
    before = graph_count(url, release)
    r = ingest(url, f"{stem}.ttl", f"{TRIPLE} .")
    assert r.status_code == 409 and "the cow-states import" in r.json()["error"], r.text
    assert graph_count(url, release) == before
    # The Graph Store's PUT names its graph itself, and replaces by the protocol: no replace=true.
    put = httpx.put(
        url + "/store",
        params={"graph": release, "validate": "false"},
        content=f"{TRIPLE} .".encode(),
        headers={**AUTH, "Content-Type": "text/turtle"},
        timeout=300,
    )
    assert put.status_code == 204, put.text
    assert graph_count(url, release) == 1 + 1  # the triple and its unchecked mark
    # replace=true over the bundled states, after all of that.
    r = ingest(url, "states.ttl", f"{TRIPLE} .", replace="true")
    assert r.status_code == 200, r.text
    assert graph_count(url, STATES) == 1 + 5  # the triple, the graph's description, its unchecked mark


def test_the_cli_needs_replace_and_a_restart_keeps_what_was_decided(seeded: Path, tmp_path: Path) -> None:
    path = seeded_copy(seeded, tmp_path / "store")
    upload = tmp_path / "states.ttl"
    upload.write_text(f"{TRIPLE} .")
    store = f"oxigraph:{path}"
    refused = cli("ingest", "--store", store, "--no-validate", str(upload))
    said = " ".join(refused.stderr.split())
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert f"<{STATES}>" in said and "bundled data" in said and "--replace" in said, said
    no_trace(refused.stderr)
    with serve_subprocess(path, tmp_path / "one.log", {"PACTGRAPH_TOKEN": TOKEN}) as (url, _):
        assert graph_count(url, STATES) > 1000  # the refusal wrote nothing, and a start keeps it
    done = cli("ingest", "--store", store, "--no-validate", "--replace", str(upload))
    assert done.returncode == 0, done.stdout + done.stderr
    with serve_subprocess(path, tmp_path / "two.log", {"PACTGRAPH_TOKEN": TOKEN}) as (url, _):
        assert graph_count(url, STATES) == 1 + 5  # replaced on purpose: a start keeps that too
        again = httpx.post(
            url + "/ingest",
            params={"name": "states.ttl", "validate": "false"},
            content=upload.read_bytes(),
            headers={**AUTH, "Content-Type": "text/turtle"},
            timeout=300,
        )
        assert again.status_code == 200, again.text  # now the file's own graph: the same file again


# ---------------------------------------------------------------------------------- point 10


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 MiB tmpfs (mounting needs root, as CI runs)."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        missing(f"cannot mount a 64 MiB tmpfs to fill (run as root): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        gc.collect()
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk: Path, leave: int) -> Path:
    """A filler file that leaves about `leave` bytes free on the disk."""
    free = shutil.disk_usage(disk).free
    filler = disk / "filler"
    with filler.open("wb") as f:
        f.write(b"\0" * max(free - leave, 0))
    return filler


def ntriples(n: int, tag: str) -> bytes:
    pad = "x" * 100
    return "".join(
        f'<https://example.org/{tag}/s{i}> <https://example.org/{tag}/p> "value {i} {pad}" .\n'
        for i in range(n)
    ).encode()


@pytest.mark.parametrize(
    ("triples", "leave"),
    [(25_000, 8 << 20), (10_000, 8 << 20)],
    ids=["bulk-load", "transaction"],
)
def test_a_full_disk_is_507_and_the_next_write_after_space_is_freed_succeeds(
    small_disk: Path, triples: int, leave: int
) -> None:
    path = small_disk / "store"
    settings = Settings(
        store=f"oxigraph:{path}",
        token=TOKEN,
        query_timeout=QUERY_TIMEOUT,
        max_body=50_000_000,
        load_bundled=False,
    )

    def send(tag: str, n: int) -> httpx.Response:
        return httpx.post(
            live.url + "/ingest",
            params={"name": f"{tag}.nt", "validate": "false"},
            content=ntriples(n, tag),
            headers={**AUTH, "Content-Type": "application/n-triples"},
            timeout=300,
        )

    with live_server(settings, path) as live:
        filler = fill(small_disk, leave)
        r = send("big", triples)
        assert r.status_code == 507, r.text
        error = r.json()["error"]
        assert "full" in error and "nothing of this write was written" in error, error
        no_trace(r.text)
        assert sorted(p.name for p in path.glob("bulk-*.sst")) == []
        assert graph_count(live.url, GRAPH_BASE + "big") == 0
        ready = httpx.get(live.url + "/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "no space", ready.text
        assert "full" in ready.json()["reason"]
        filler.unlink()  # space comes back: no restart
        r = send("small", 50)
        assert r.status_code == 200, r.text
        assert graph_count(live.url, GRAPH_BASE + "small") == 50 + 5  # and the graph's description
        assert httpx.get(live.url + "/readyz").status_code == 200
        r = send("big", triples)
        assert r.status_code == 200, r.text
        assert graph_count(live.url, GRAPH_BASE + "big") == triples + 5


def test_readiness_comes_back_when_space_does(small_disk: Path) -> None:
    path = small_disk / "store"
    settings = Settings(
        store=f"oxigraph:{path}", token=TOKEN, query_timeout=QUERY_TIMEOUT, load_bundled=False
    )
    with live_server(settings, path) as live:
        filler = fill(small_disk, 8 << 20)
        r = httpx.post(
            live.url + "/ingest",
            params={"name": "big.nt", "validate": "false"},
            content=ntriples(10_000, "big"),
            headers={**AUTH, "Content-Type": "application/n-triples"},
            timeout=300,
        )
        assert r.status_code == 507, r.text
        assert httpx.get(live.url + "/readyz").status_code == 503
        filler.unlink()
        ready = httpx.get(live.url + "/readyz")  # the check itself finds the disk taking writes
        assert ready.status_code == 200, ready.text
