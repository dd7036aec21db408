"""Concurrency: readers of every kind (SPARQL, /paths, /entities, /search, /export) against a real
server while a writer replaces graphs through POST /ingest, for a bounded time. No 5xx, and every
answer shows one whole batch, the old or the new: never an empty or missing graph, never parts of
two. Afterwards the path projection and the name index see the new data."""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.reliability.helpers import FIGURES, Live

QUERY_TIMEOUT = 60.0  # readers wait for projection rebuilds after each write; 5xx must mean trouble
DURATION = float(os.environ.get("PACTGRAPH_SOAK_SECONDS", "20"))
N = 2000  # marker triples per batch: a replace that is not one step is seen (about a second of writing)
SLOTS = "ABC"  # batches rotate over three graphs, so most writes replace a graph readers are reading
ROUND = "urn:marker:round"
ID = "https://pactgraph.org/id/"
PG = "https://pactgraph.org/ontology#"
ROUND_IN_LABEL = re.compile(r"Rotatia ([ABC]) (?:in the UN, round )?(\d+)")  # the labels batch() writes


def batch(slot: str, round_: int) -> bytes:
    """A state of its own (named after its slot, labelled with the round), its UN membership (the
    path to every other member) and N markers of the round; every round has the same shape."""
    state = f"<{ID}state/XQ{slot}>"
    text = f"""
@prefix pg: <{PG}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
{state} a pg:State ; rdfs:label "Rotatia {slot} {round_}"@en ; skos:altLabel "Rotatia {slot}"@en ;
    pg:isoAlpha3 "XQ{slot}" .
<{ID}membership/state-XQ{slot}--org-un> a pg:Membership ; rdfs:label "Rotatia {slot} in the UN, round {round_}"@en ;
    pg:member {state} ; pg:organisation <{ID}org/un> ; pg:start "2000-01-01"^^xsd:date ;
    pg:status pg:Confirmed ; pg:source <{ID}source/un-member-states> .
"""
    markers = "".join(f'<urn:marker:{slot}:{j}> <{ROUND}> "r{round_}" .\n' for j in range(N))
    return (text + markers).encode()


def graph(slot: str) -> str:
    return f"https://pactgraph.org/graph/rotatia-{slot.lower()}"


def rounds_in(value: Any, slot: str) -> set[int]:
    """The rounds named by the labels of `slot`'s nodes anywhere in an answer."""
    found: set[int] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            found.update(int(n) for s, n in ROUND_IN_LABEL.findall(v) if s == slot)

    walk(value)
    return found


# /entities answers with the entity's own statements read from the store (labels, aliases,
# identifiers, properties, classes) and its facts from the path projection (display label, class,
# facts, neighbours). Each part must be one batch; test_an_entity_answer_is_one_batch asks both.
STORE_PART = ("labels", "aliases", "identifiers", "properties", "classes")
PROJECTION_PART = ("label", "class", "facts", "neighbours")

Work = Callable[[httpx.Client, random.Random], None]


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[tuple[str, int, str]] = field(default_factory=list)
    torn: Counter[str] = field(default_factory=Counter)
    torn_examples: list[tuple[str, str, str]] = field(default_factory=list)
    mixed_entities: list[str] = field(default_factory=list)  # store part and projection part differ
    transport: list[str] = field(default_factory=list)

    def record(self, kind: str, r: httpx.Response) -> None:
        with self.lock:
            self.requests[kind] += 1
            self.statuses[(kind, r.status_code)] += 1
            if r.status_code >= 500:
                self.server_errors.append((kind, r.status_code, r.text[:300]))

    def tear(self, kind: str, slot: str, what: str) -> None:
        with self.lock:
            self.torn[kind] += 1
            if len(self.torn_examples) < 10:
                self.torn_examples.append((kind, slot, what[:600]))

    def one_round(self, kind: str, slot: str, answer: Any) -> set[int]:
        """The answer shows exactly one round of the slot's batch (the old one or the new): not
        none (an empty or missing graph), not two."""
        seen = rounds_in(answer, slot)
        if len(seen) != 1:
            parts = (
                {k: sorted(rounds_in(v, slot)) for k, v in answer.items()} if isinstance(answer, dict) else {}
            )
            self.tear(kind, slot, f"rounds {sorted(seen)} {parts}" if seen else "no batch at all")
        return seen


class Writer:
    """Replaces the slots' graphs in turn through POST /ingest, one round after another."""

    def __init__(self, server: Live, tally: Tally) -> None:
        self.server, self.tally = server, tally
        self.round = 0
        self.written: dict[str, int] = {}  # slot -> last round written
        self.size = 0

    def send(self, client: httpx.Client, slot: str, round_: int) -> httpx.Response:
        return client.post(
            "/ingest",
            params={"name": f"rotatia-{slot.lower()}.ttl"},
            content=batch(slot, round_),
            headers={**self.server.auth, "Content-Type": "text/turtle"},
        )

    def prime(self) -> None:
        """Round 0 of every slot, before any reader starts: from then on each graph holds one."""
        sizes = set()
        with httpx.Client(base_url=self.server.url, timeout=QUERY_TIMEOUT * 2) as client:
            for slot in SLOTS:
                r = self.send(client, slot, 0)
                assert r.status_code == 200, r.text
                sizes |= set(r.json()["graphs"].values())
                self.written[slot] = 0
        [self.size] = sizes  # every round of every slot has the same number of triples

    def __call__(self, client: httpx.Client, rng: random.Random) -> None:
        self.round += 1
        slot = SLOTS[self.round % len(SLOTS)]
        r = self.send(client, slot, self.round)
        self.tally.record("ingest", r)
        if r.status_code == 200:
            assert r.json()["graphs"] == {graph(slot): self.size}, r.json()
            self.written[slot] = self.round


def run_together(
    server: Live,
    tally: Tally,
    workers: list[tuple[str, Work]],
    seconds: float,
    done: Callable[[], bool] = lambda: False,
) -> float:
    """Each worker in its own thread with its own client, looping until `seconds` pass (or `done`)."""
    stop = threading.Event()

    def guarded(kind: str, work: Work) -> None:
        client = httpx.Client(base_url=server.url, timeout=QUERY_TIMEOUT * 2)
        rng = random.Random(kind)
        try:
            while not stop.is_set():
                try:
                    work(client, rng)
                except Exception as exc:  # a transport error, or an answer that is not what it says
                    with tally.lock:
                        tally.transport.append(f"{kind}: {exc!r}")
        finally:
            client.close()

    threads = [threading.Thread(target=guarded, args=(k, w), name=k) for k, w in workers]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    while time.monotonic() - t0 < seconds and not done():
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(QUERY_TIMEOUT * 3)
    assert not any(t.is_alive() for t in threads), "a client never came back"
    return time.monotonic() - t0


@pytest.mark.slow
def test_readers_see_the_old_batch_or_the_new_never_neither(server: Live) -> None:
    tally = Tally()
    writer = Writer(server, tally)
    writer.prime()

    def sparql(client: httpx.Client, rng: random.Random) -> None:
        slot = rng.choice(SLOTS)
        markers = rng.random() < 0.5
        q = (
            f"SELECT ?r (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph(slot)}> {{ ?s <{ROUND}> ?r }} }} GROUP BY ?r"
            if markers
            else f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph(slot)}> {{ ?s ?p ?o }} }}"
        )
        # A comment of its own: every read runs on the store (the result cache would answer a
        # query asked before at the same store version without running it).
        r = client.get("/sparql", params={"query": f"# read {rng.random()}\n{q}"})
        tally.record("sparql", r)
        if r.status_code != 200:
            return
        rows = [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]
        # One round's N markers, or the whole graph: an empty graph counts 0 (no rows when grouped).
        if [row["n"] for row in rows] != ([str(N)] if markers else [str(writer.size)]):
            tally.tear("sparql", slot, f"{q[:40]}…: {rows[:3]}")

    def paths(client: httpx.Client, rng: random.Random) -> None:
        slot = rng.choice(SLOTS)
        r = client.get("/paths", params={"from": f"XQ{slot}", "to": "Russia", "max_hops": 4, "limit": 1})
        tally.record("paths", r)
        if r.status_code == 404:
            tally.tear("paths", slot, r.text)
        elif r.status_code == 200:
            [group] = r.json()["paths"]
            if not group["paths"]:
                tally.tear("paths", slot, "no path through the UN membership")
            tally.one_round("paths", slot, group["paths"])

    def entities(client: httpx.Client, rng: random.Random) -> None:
        slot = rng.choice(SLOTS)
        r = client.get(f"/entities/state/XQ{slot}")
        tally.record("entities", r)
        if r.status_code == 404:
            tally.tear("entities", slot, r.text)
        elif r.status_code == 200:
            body = r.json()
            if not body["facts"].get("Membership"):
                tally.tear("entities", slot, "no membership")
            stored = tally.one_round("entities", slot, {k: body[k] for k in STORE_PART})
            projected = tally.one_round("entities", slot, {k: body[k] for k in PROJECTION_PART})
            if stored != projected:
                with tally.lock:
                    tally.mixed_entities.append(
                        f"{slot}: store {sorted(stored)}, projection {sorted(projected)}"
                    )
        s = client.get("/search", params={"q": f"Rotatia {slot}", "limit": 3})
        tally.record("search", s)
        if s.status_code == 200:
            hits = s.json()["hits"]
            if not hits or hits[0]["id"] != f"{ID}state/XQ{slot}":
                tally.tear("search", slot, str(hits)[:300])
            else:
                tally.one_round("search", slot, hits[0])

    def export(client: httpx.Client, rng: random.Random) -> None:
        slot = rng.choice(SLOTS)
        r = client.get("/export", params={"format": "cyjs", "around": f"state/XQ{slot}", "depth": 1})
        tally.record("export", r)
        if r.status_code == 404:
            tally.tear("export", slot, r.text)
        elif r.status_code == 200:
            nodes = {n["data"]["id"]: n["data"] for n in r.json()["elements"]["nodes"]}
            if f"{ID}membership/state-XQ{slot}--org-un" not in nodes:
                tally.tear("export", slot, f"no membership among {len(nodes)} nodes")
            tally.one_round("export", slot, nodes)

    def graph_store(client: httpx.Client, rng: random.Random) -> None:
        """The graph itself, as the Graph Store Protocol exports it: read in the server's own
        process (SPARQL runs in query workers forked between writes), with no projection to wait for."""
        slot = rng.choice(SLOTS)
        g = client.get("/store", params={"graph": graph(slot)}, headers={"Accept": "application/n-triples"})
        tally.record("store", g)
        if g.status_code == 404:
            tally.tear("store", slot, g.text)
        elif g.status_code == 200:
            lines = [line for line in g.text.splitlines() if line.strip()]
            markers = set(re.findall(r'<urn:marker:round> "r(\d+)"', g.text))
            if len(lines) != writer.size or len(markers) != 1:
                tally.tear("store", slot, f"{len(lines)} triples, marker rounds {sorted(markers)}")
            tally.one_round("store", slot, g.text)

    held = run_together(
        server,
        tally,
        [
            ("ingest", writer),
            ("sparql-1", sparql),
            ("sparql-2", sparql),
            ("paths", paths),
            ("entities", entities),
            ("export", export),
            ("store", graph_store),
        ],
        DURATION,
    )
    FIGURES["concurrency"] = (
        f"6 reader threads (2 SPARQL, /paths, /entities+/search, /export, GET /store) and 1 writer (POST /ingest "
        f"replacing 3 graphs in turn) for {held:.0f} s: {dict(tally.requests)}; {len(tally.server_errors)} 5xx, "
        f"torn answers {dict(tally.torn)}, {len(tally.transport)} client-side errors; /entities answers "
        f"whose store part and projection part are different batches: {len(tally.mixed_entities)}"
    )
    assert not tally.server_errors, tally.server_errors[:5]
    assert not tally.transport, tally.transport[:5]
    assert not tally.torn, (dict(tally.torn), tally.torn_examples)
    assert tally.statuses[("ingest", 200)] >= 3, tally.statuses
    for kind in ("sparql", "paths", "entities", "search", "export", "store"):
        assert tally.statuses[(kind, 200)] >= 3, (kind, tally.statuses)
    # every graph now holds exactly its last batch, and every reader says so
    for slot, round_ in writer.written.items():
        q = f"SELECT ?r (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph(slot)}> {{ ?s <{ROUND}> ?r }} }} GROUP BY ?r"
        rows = httpx.get(server.url + "/sparql", params={"query": q}, timeout=60).json()["results"][
            "bindings"
        ]
        assert [(b["r"]["value"], b["n"]["value"]) for b in rows] == [(f"r{round_}", str(N))]
        entity = httpx.get(server.url + f"/entities/state/XQ{slot}", timeout=QUERY_TIMEOUT).json()
        assert rounds_in(entity, slot) == {round_}, entity


@pytest.mark.slow
def test_an_entity_answer_is_one_batch(server: Live) -> None:
    """An /entities answer during writes: its store part and its projection part are one batch."""
    tally = Tally()
    writer = Writer(server, tally)
    writer.prime()

    def entities(client: httpx.Client, rng: random.Random) -> None:
        slot = rng.choice(SLOTS)
        r = client.get(f"/entities/state/XQ{slot}")
        tally.record("entities", r)
        if r.status_code == 200:
            body = r.json()
            if rounds_in({k: body[k] for k in STORE_PART}, slot) != rounds_in(
                {k: body[k] for k in PROJECTION_PART}, slot
            ):
                with tally.lock:
                    tally.mixed_entities.append(str({k: body[k] for k in ("label", "labels")}))

    run_together(
        server,
        tally,
        [("ingest", writer), ("entities-1", entities), ("entities-2", entities)],
        DURATION,
        done=lambda: bool(tally.mixed_entities),
    )
    assert not tally.server_errors and not tally.transport, (tally.server_errors[:3], tally.transport[:3])
    assert tally.statuses[("entities", 200)] >= 3, tally.statuses
    assert not tally.mixed_entities, tally.mixed_entities[:3]


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
