"""Deadlines of the server's own work (issue 18, points 2 and 3): a request answered 503 leaves no
work running (checked from /proc), a long path search cannot take every thread nor grow without
bound, /readyz says when the server cannot take more work, and a write answered 503 never lands.

The path searches run on the synthetic world of bench/ (100k triples): between its first state
and a thinly linked person, 8 hops and 50 paths make the search consider millions of partial
paths (it grew a server past 8 GB at 300k triples before the bound)."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from pactgraph.graph import load_ontology, open_store
from pactgraph.graph.projection import ProjectionCache
from tests.reliability.helpers import ROOT, TOKEN, Live, serve_subprocess

WORLD_GRAPH = "https://pactgraph.org/graph/world"
TIMEOUT = 2.5  # the servers' PACTGRAPH_QUERY_TIMEOUT here
PERSONS = "SELECT ?p WHERE { ?p a <https://pactgraph.org/ontology#Person> } ORDER BY ?p LIMIT 1"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bench world of 100k triples in a closed store laid out as `pactgraph ingest` leaves it
    (ontology graph, the world's graph, the merge in the default graph; bench/child.py's way)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import world as bench_world
    finally:
        sys.path.remove(str(ROOT / "bench"))
    tmp = tmp_path_factory.mktemp("world")
    made: dict[str, Any] = bench_world.write(100_000, tmp / "data", seed=42)
    path = tmp / "store"
    db = open_store(f"oxigraph:{path}")
    load_ontology(db)
    db.close()
    del db
    raw = ox.Store(str(path))
    g = ox.NamedNode(WORLD_GRAPH)
    raw.bulk_load(path=made["files"]["nt"], format=ox.RdfFormat.N_TRIPLES, to_graph=g)
    raw.bulk_extend(
        ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
        for q in raw.quads_for_pattern(None, None, None, g)
    )
    raw.flush()
    del raw
    made["store"] = path
    made["copy"] = shutil.copytree(path, tmp / "copy")  # for reading in-process while a server runs
    return made


def _far_pair(world: dict[str, Any], url: str) -> tuple[str, str]:
    """The world's first state and its first person by IRI: far apart and thinly linked."""
    r = httpx.get(url + "/sparql", params={"query": PERSONS}, timeout=60)
    assert r.status_code == 200, r.text
    [row] = r.json()["results"]["bindings"]
    return world["states"][0]["iri"], row["p"]["value"]


@pytest.fixture(scope="module")
def busy_server(world: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """`pactgraph serve` in its own process over the world (so its CPU and memory are its own in
    /proc), with a short time limit, a path bound too large to matter before it, and a queue of
    two for each lane of its own work."""
    log = tmp_path_factory.mktemp("logs") / "serve.log"
    env = {
        "PACTGRAPH_QUERY_TIMEOUT": str(TIMEOUT),
        "PACTGRAPH_PATH_BUDGET": "100000000",
        "PACTGRAPH_WORK_QUEUE": "2",
        "PACTGRAPH_TOKEN": TOKEN,
    }
    with serve_subprocess(world["store"], log, env=env) as (url, proc):
        yield url, proc.pid


def _cpu_seconds(pid: int) -> float:
    """CPU time of the server process's own threads so far (utime + stime; not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _assert_idle(pid: int, window: float = 2.5) -> None:
    """No work goes on in the server: under a quarter of `window` of CPU (a search still running
    burns most of it, even on a busy machine: it has a process of its own; freeing what a stopped
    one built takes a few tenths of a second), and no growth in memory."""
    rss = _rss_mib(pid)
    before = _cpu_seconds(pid)
    time.sleep(window)
    used = _cpu_seconds(pid) - before
    grown = _rss_mib(pid) - rss
    assert used < window / 4, f"the server still burned {used:.2f} s of CPU in {window} s after answering"
    assert grown < 20, f"the server still grew by {grown:.0f} MiB in {window} s after answering"


def _path_params(source: str, target: str) -> dict[str, Any]:
    return {"from": source, "to": target, "max_hops": 8, "limit": 50}


def test_a_path_search_past_the_deadline_is_503_and_stops(
    world: dict[str, Any], busy_server: tuple[str, int]
) -> None:
    url, pid = busy_server
    source, target = _far_pair(world, url)
    started = time.monotonic()
    r = httpx.get(url + "/paths", params=_path_params(source, target), timeout=120)
    took = time.monotonic() - started
    assert r.status_code == 503, r.text[:300]
    assert "time limit" in r.json()["error"] and "PACTGRAPH_QUERY_TIMEOUT" in r.json()["error"]
    assert took < TIMEOUT + 5, f"answered after {took:.1f} s"
    # The answer came once the search had stopped: nothing runs on behind it.
    _assert_idle(pid)
    # The same as a path export's scope.
    r = httpx.get(url + "/export", params={**_path_params(source, target), "format": "graphml"}, timeout=120)
    assert r.status_code == 503, r.text[:300]
    _assert_idle(pid)


def test_four_path_searches_leave_lookups_answering_and_readyz_says_busy(
    world: dict[str, Any], busy_server: tuple[str, int]
) -> None:
    url, pid = busy_server
    source, target = _far_pair(world, url)
    answers: list[int] = []

    def search() -> None:
        answers.append(
            httpx.get(url + "/paths", params=_path_params(source, target), timeout=120).status_code
        )

    threads = [threading.Thread(target=search) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        # Once all four are in (two searching, two queued: PACTGRAPH_WORK_QUEUE=2), the server
        # says it cannot take another path search, and refuses one at once.
        ready, fifth, fifth_took = None, None, 0.0
        wait_until = time.monotonic() + TIMEOUT * 0.6
        while time.monotonic() < wait_until:
            ready = httpx.get(url + "/readyz", timeout=10)
            if ready.status_code == 503:
                t0 = time.monotonic()
                fifth = httpx.get(url + "/paths", params=_path_params(source, target), timeout=30)
                fifth_took = time.monotonic() - t0
                break
            time.sleep(0.05)
        # Meanwhile lookups, search and counts answer, well inside their own time limit.
        for path, params in (
            ("/stats", {}),
            ("/search", {"q": world["states"][1]["label"]}),
            (f"/entities/{world['states'][1]['iri']}", {}),
            ("/healthz", {}),
        ):
            t0 = time.monotonic()
            r = httpx.get(url + path, params=params, timeout=30)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            assert time.monotonic() - t0 < TIMEOUT, (path, time.monotonic() - t0)
        assert ready is not None and ready.status_code == 503, ready and ready.text
        assert ready.json()["status"] == "busy" and "PACTGRAPH_WORK_QUEUE" in ready.json()["reason"]
        assert fifth is not None and fifth.status_code == 503 and fifth_took < 1.0, (fifth_took, fifth)
        assert int(fifth.headers["retry-after"]) >= 1
        assert "busy" in fifth.json()["error"]
    finally:
        for t in threads:
            t.join(120)
    assert answers == [503] * 4
    _assert_idle(pid)
    assert httpx.get(url + "/readyz", timeout=10).status_code == 200


def test_the_path_search_is_bounded_by_partial_paths(world: dict[str, Any]) -> None:
    """Past PACTGRAPH_PATH_BUDGET partial paths the search stops with an error naming the bound,
    whatever the time limit; an ordinary search stays far below it."""
    from pactgraph.graph.errors import Kind, PactgraphError
    from pactgraph.graph.paths import PathQuery, find_paths

    store = open_store(f"oxigraph:{world['copy']}")
    try:
        proj = ProjectionCache(store).get()
        source = world["states"][0]["iri"]
        target = min(n for n, c in proj.classes.items() if c == "Person")
        with pytest.raises(PactgraphError) as caught:
            find_paths(proj, PathQuery((source,), target, 8, 50), budget=200_000)
        assert caught.value.kind == Kind.BAD_INPUT
        assert "200,000 partial paths (PACTGRAPH_PATH_BUDGET)" in caught.value.message
        near = find_paths(proj, PathQuery((source,), world["states"][1]["iri"], 4, 10), budget=200_000)
        assert near["paths"][0]["paths"], "an ordinary search found nothing under the bound"
    finally:
        store.close()


def test_a_write_answered_503_never_lands(server: Live) -> None:
    """A Graph Store DELETE (a write under the plain time limit, 2 s here) queued behind a slow
    write (one holding the store's write lock past that limit) is answered 503, and once the slow
    write is over nothing of it is made: the graph still holds its data."""
    graph = "https://example.org/graph/kept"
    body = b'<https://example.org/s> <https://example.org/p> "kept" .\n'
    headers = {**server.auth, "Content-Type": "application/n-triples"}
    put = httpx.put(server.url + "/store", params={"graph": graph}, content=body, headers=headers, timeout=60)
    assert put.status_code == 201, put.text[:300]
    held, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        with server.store.writing(bump=False):  # a write in progress: the lock is held
            held.set()
            release.wait(30)

    writer = threading.Thread(target=slow_write)
    writer.start()
    try:
        assert held.wait(10)
        refused = httpx.delete(
            server.url + "/store", params={"graph": graph}, headers=server.auth, timeout=60
        )
        assert refused.status_code == 503, refused.text[:300]
    finally:
        release.set()
        writer.join(30)
    time.sleep(1.0)  # what a thread still waiting for the lock would now have written
    ask = f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    r = httpx.get(server.url + "/sparql", params={"query": f"# after\n{ask}"}, timeout=60)
    assert r.status_code == 200 and r.json()["boolean"] is True, "a write answered 503 was made"
    assert "nothing it would have written was written" in refused.json()["error"]  # and it says so
    # and the same write goes through once nothing holds the lock
    r = httpx.delete(server.url + "/store", params={"graph": graph}, headers=server.auth, timeout=60)
    assert r.status_code == 204, r.text[:300]
