"""Concurrency: readers (SPARQL, /paths, /entities, /search) against a real server while a writer
ingests batches through POST /ingest, for a bounded time. No 5xx, no torn reads (a batch is
seen whole or not at all), and afterwards the path projection and the name index see the new data."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from tests.reliability.helpers import FIGURES, Live

QUERY_TIMEOUT = 60.0  # readers wait for projection rebuilds after each write; 5xx must mean trouble
DURATION = float(os.environ.get("PACTGRAPH_SOAK_SECONDS", "20"))
N = 200  # marker triples per batch
SLOTS = 3  # batches rotate over three graphs, so most writes replace a graph readers are reading
ROUND = "urn:marker:round"
ID = "https://pactgraph.org/id/"
PG = "https://pactgraph.org/ontology#"


def batch(slot: int, round_: int) -> bytes:
    return "".join(f'<urn:marker:{slot}:{j}> <{ROUND}> "r{round_}" .\n' for j in range(N)).encode()


def graph(slot: int) -> str:
    return f"https://pactgraph.org/graph/marker-{slot}"


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[tuple[str, int, str]] = field(default_factory=list)
    torn: list[tuple[int, object]] = field(default_factory=list)
    transport: list[str] = field(default_factory=list)

    def record(self, kind: str, r: httpx.Response) -> None:
        with self.lock:
            self.requests[kind] += 1
            self.statuses[(kind, r.status_code)] += 1
            if r.status_code >= 500:
                self.server_errors.append((kind, r.status_code, r.text[:300]))


@pytest.mark.slow
def test_readers_and_a_writer_together(server: Live) -> None:
    tally = Tally()
    stop = threading.Event()
    written: dict[int, int] = {}  # slot -> last round written
    auth = {**server.auth, "Content-Type": "application/n-triples"}

    def guarded(kind: str, work: object) -> None:
        client = httpx.Client(base_url=server.url, timeout=QUERY_TIMEOUT * 2)
        rng = random.Random(kind)
        try:
            while not stop.is_set():
                try:
                    work(client, rng)  # type: ignore[operator]
                except Exception as exc:  # a transport error, or a wrong answer asserted below
                    with tally.lock:
                        tally.transport.append(f"{kind}: {exc!r}")
        finally:
            client.close()

    def writer(client: httpx.Client, rng: random.Random) -> None:
        round_ = sum(tally.requests[k] for k in ("ingest",))
        slot = round_ % SLOTS
        r = client.post(
            "/ingest", params={"name": f"marker-{slot}.nt"}, content=batch(slot, round_), headers=auth
        )
        tally.record("ingest", r)
        if r.status_code == 200:
            assert r.json()["graphs"] == {graph(slot): N + 3}
            written[slot] = round_

    def sparql(client: httpx.Client, rng: random.Random) -> None:
        slot = rng.randrange(SLOTS)
        q = (
            f"SELECT ?r (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph(slot)}> {{ ?s <{ROUND}> ?r }} }} GROUP BY ?r"
            if rng.random() < 0.5
            else f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph(slot)}> {{ ?s ?p ?o }} }}"
        )
        r = client.get("/sparql", params={"query": q})
        tally.record("sparql", r)
        if r.status_code != 200:
            return
        rows = [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]
        if "?r" in q:
            ok = rows == [] or (len(rows) == 1 and rows[0]["n"] == str(N))
        else:
            ok = rows[0]["n"] in ("0", str(N + 3))
        if not ok:
            with tally.lock:
                tally.torn.append((slot, rows))

    def paths(client: httpx.Client, rng: random.Random) -> None:
        r = client.get(
            "/paths", params=[("from", "Russia"), ("from", "Iran"), ("to", "Syria"), ("max_hops", "3")]
        )
        tally.record("paths", r)
        if r.status_code == 200:
            assert any(group["paths"] for group in r.json()["paths"])

    def entities(client: httpx.Client, rng: random.Random) -> None:
        name = rng.choice(["Iran", "Russia", "state/SYR", "NATO"])
        r = client.get(f"/entities/{name}")
        tally.record("entities", r)
        s = client.get("/search", params={"q": name.split("/")[-1]})
        tally.record("search", s)

    workers = [
        ("ingest", writer),
        ("sparql-1", sparql),
        ("sparql-2", sparql),
        ("paths", paths),
        ("entities", entities),
    ]
    threads = [threading.Thread(target=guarded, args=(k, w), name=k) for k, w in workers]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(DURATION)
    stop.set()
    for t in threads:
        t.join(QUERY_TIMEOUT * 3)
    held = time.monotonic() - t0
    assert not any(t.is_alive() for t in threads), "a client never came back"

    FIGURES["concurrency"] = (
        f"4 reader threads (2 SPARQL, /paths, /entities+/search) and 1 writer (POST /ingest) held "
        f"{held:.0f} s (writes for {DURATION:.0f} s): {dict(tally.requests)}; "
        f"{len(tally.server_errors)} 5xx, {len(tally.torn)} torn reads, {len(tally.transport)} client-side errors"
    )
    assert not tally.server_errors, tally.server_errors[:5]
    assert not tally.transport, tally.transport[:5]
    assert not tally.torn, tally.torn[:5]
    assert tally.statuses[("ingest", 200)] >= 3, tally.statuses
    for kind in ("sparql", "paths", "entities", "search"):
        assert tally.statuses[(kind, 200)] >= 3, (kind, tally.statuses)
    # every graph now holds exactly its last batch
    for slot, round_ in written.items():
        q = f"SELECT ?r (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph(slot)}> {{ ?s <{ROUND}> ?r }} }} GROUP BY ?r"
        rows = httpx.get(server.url + "/sparql", params={"query": q}, timeout=60).json()["results"][
            "bindings"
        ]
        assert [(b["r"]["value"], b["n"]["value"]) for b in rows] == [(f"r{round_}", str(N))]


def test_the_projection_catches_up_after_a_write(server: Live) -> None:
    name = "Concurrentia"
    before = httpx.get(server.url + f"/entities/{name}", timeout=QUERY_TIMEOUT)
    assert before.status_code == 404
    data = f"""
@prefix pg: <{PG}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{ID}state/XCC> a pg:State ; rdfs:label "{name}"@en ; pg:isoAlpha3 "XCC" .
<{ID}membership/state-XCC--org-un> a pg:Membership ; pg:member <{ID}state/XCC> ; pg:organisation <{ID}org/un> ;
    pg:start "2020-01-01"^^xsd:date ; pg:status pg:Confirmed ; pg:source <{ID}source/un-member-states> .
"""
    r = httpx.post(
        server.url + "/ingest",
        params={"name": "concurrentia.ttl"},
        content=data.encode(),
        headers={**server.auth, "Content-Type": "text/turtle"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    entity = httpx.get(server.url + f"/entities/{name}", timeout=QUERY_TIMEOUT)
    assert entity.status_code == 200, entity.text
    assert entity.json()["id"] == f"{ID}state/XCC"
    found = httpx.get(server.url + "/search", params={"q": name}, timeout=QUERY_TIMEOUT).json()
    assert found["hits"][0]["id"] == f"{ID}state/XCC"
    p = httpx.get(
        server.url + "/paths", params={"from": name, "to": "Russia", "max_hops": 4}, timeout=QUERY_TIMEOUT
    )
    assert p.status_code == 200, p.text
    [group] = p.json()["paths"]
    assert group["paths"], "the new membership is not in the path projection"
    assert any(f"{ID}org/un" in [n["id"] for n in path["nodes"]] for path in group["paths"])
    hood = httpx.get(server.url + f"/neighbourhood/{name}", params={"depth": 2}, timeout=QUERY_TIMEOUT).json()
    assert f"{ID}org/un" in {e["data"]["id"] for e in hood["elements"]}
