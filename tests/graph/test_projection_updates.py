"""Writes update the projection and the name index, not rebuild them (issue 17): after each write
of a random sequence (graphs added, replaced, added to, taken from and dropped; facts that gain or
lose dates, statuses, labels, aliases, sources and their dates and end rules), what `serve` keeps
(`AppState`, following the store) equals a fresh build of the store as it now is, exactly, on
every backend. Seeded: a failure names its seed and step, and happens again."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from rdflib import URIRef

from pactgraph.api.settings import Settings
from pactgraph.api.state import AppState
from pactgraph.graph import Store, ingest, load_ontology, writes
from pactgraph.graph.ingest import SourceInput
from pactgraph.graph.names import NameIndex
from pactgraph.graph.projection import Projection, ProjectionCache, build
from pactgraph.graph.workers import QueryWorkers
from pactgraph.ontology import ENTITY_BASE, GRAPH_BASE, PG

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"
GRAPHS = [f"{GRAPH_BASE}upd-{k}" for k in range(4)]
STATES = [f"{ENTITY_BASE}state/T{i:02d}" for i in range(8)]
ORGS = [f"{ENTITY_BASE}org/upd-{i}" for i in range(3)]
SOURCES = [f"{ENTITY_BASE}source/upd-{i}" for i in range(3)]
FACTS = [f"{ENTITY_BASE}membership/upd-{i}" for i in range(6)] + [
    f"{ENTITY_BASE}sanction/upd-{i}" for i in range(4)
]
STATUSES = ["Confirmed", "Reported", "Disputed", "Denied"]


def _iri(x: str) -> str:
    return f"<{x}>"


def _date(rng: random.Random) -> str:
    year = rng.randint(1990, 2024)
    return rng.choice(
        [
            f'"{year}"^^<{XSD}gYear>',
            f'"{year}-{rng.randint(1, 12):02d}"^^<{XSD}gYearMonth>',
            f'"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"^^<{XSD}date>',
        ]
    )


def _statement(rng: random.Random) -> str:
    """One N-Triples statement from a small world, so that writes keep meeting the same nodes."""
    kind = rng.random()
    if kind < 0.25:
        s = rng.choice(STATES + ORGS)
        cls = "State" if s in STATES else rng.choice(["Alliance", "IntergovernmentalOrganisation"])
        name = s.rsplit("/", 1)[-1]
        p, o = rng.choice(
            [
                (f"<{RDFS}type>", f"<{PG}{cls}>"),
                (f"<{RDFS}label>", f'"{name} {rng.randint(0, 2)}"@en'),
                (f"<{RDFS}label>", f'"{name} fr"@fr'),
                (f"<{RDFS}label>", f'"{name} plain"'),
                (f"<{SKOS}altLabel>", f'"{name} alias {rng.randint(0, 1)}"'),
                (f"<{PG}isoAlpha3>", f'"{name[-3:].upper()}"'),
                (f"<{PG}wikidataId>", f'"Q{rng.randint(1, 5)}"'),
                (f"<{PG}borders>", _iri(rng.choice(STATES))),
            ]
        )
        p = p.replace(f"{RDFS}type", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        return f"{_iri(s)} {p} {o} ."
    if kind < 0.4:
        s = rng.choice(SOURCES)
        p, o = rng.choice(
            [
                ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", f"<{PG}Source>"),
                (f"{DCT}date", _date(rng)),
                (f"{DCT}issued", _date(rng)),
                (f"{PG}endRule", f"<{PG}ExclusiveEnd>"),
                (f"{RDFS}label", f'"{s[-5:]}"@en'),
            ]
        )
        return f"{_iri(s)} <{p}> {o} ."
    f = rng.choice(FACTS)
    membership = "membership" in f
    first, second = ("member", "organisation") if membership else ("imposer", "target")
    p, o = rng.choice(
        [
            (
                "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
                f"<{PG}{'Membership' if membership else 'Sanction'}>",
            ),
            (f"{PG}{first}", _iri(rng.choice(STATES))),
            (f"{PG}{second}", _iri(rng.choice(ORGS if membership else STATES))),
            (f"{PG}start", _date(rng)),
            (f"{PG}end", _date(rng)),
            (f"{PG}date", _date(rng)),
            (f"{PG}ongoingAsOf", f'"2020-0{rng.randint(1, 9)}-01"^^<{XSD}date>'),
            (f"{PG}status", f"<{PG}{rng.choice(STATUSES)}>"),
            (f"{PG}source", _iri(rng.choice(SOURCES))),
            (f"{PG}quote", f'"quote {rng.randint(0, 2)}"'),
            (f"{RDFS}label", f'"fact {f[-1]}"@en'),
        ]
    )
    return f"{_iri(f)} <{p}> {o} ."


class World:
    """What the test wrote into each graph, to pick triples to take away again."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng
        self.held: dict[str, set[str]] = {g: set() for g in GRAPHS}

    def some(self, low: int, high: int) -> list[str]:
        return sorted({_statement(self.rng) for _ in range(self.rng.randint(low, high))})

    def step(self) -> str:
        rng, store = self.rng, self.store
        g = rng.choice(GRAPHS)
        op = rng.choice(["put", "put", "post", "post", "insert", "delete", "drop", "ingest"])
        if op == "put":
            lines = self.some(3, 25)
            writes.put_graph(
                store, URIRef(g), "\n".join(lines).encode(), "application/n-triples", validate=False
            )
            self.held[g] = set(lines)
        elif op == "post":
            lines = self.some(1, 6)
            writes.post_graph(
                store, URIRef(g), "\n".join(lines).encode(), "application/n-triples", validate=False
            )
            self.held[g] |= set(lines)
        elif op == "insert":
            lines = self.some(1, 4)
            writes.update(store, f"INSERT DATA {{ GRAPH <{g}> {{ {' '.join(lines)} }} }}", validate=False)
            self.held[g] |= set(lines)
        elif op == "delete" and self.held[g]:
            gone = rng.sample(sorted(self.held[g]), min(len(self.held[g]), rng.randint(1, 4)))
            writes.update(store, f"DELETE DATA {{ GRAPH <{g}> {{ {' '.join(gone)} }} }}", validate=False)
            self.held[g] -= set(gone)
        elif op == "drop" and self.held[g]:
            writes.delete_graph(store, URIRef(g), validate=False)
            self.held[g] = set()
        elif op == "ingest":
            lines = self.some(3, 15)
            source = SourceInput(
                f"{g.rsplit('/', 1)[-1]}.nt", "\n".join(lines).encode(), "ntriples", URIRef(g)
            )
            ingest(store, [source], validate_shapes=False)
            self.held[g] = set(lines)
        else:
            return "nothing"
        return f"{op} {g}"


def differences(updated: Projection, fresh: Projection) -> list[Any]:
    """Everything in which two projections differ (empty when they are the same)."""
    out: list[Any] = []
    for name in (
        "labels",
        "classes",
        "readings",
        "hubs",
        "actors",
        "node_days",
        "made",
        "records",
        "source_dates",
        "exclusive_sources",
        "term_counts",
        "codes",
        "predicates",
    ):
        mine, theirs = getattr(updated, name), getattr(fresh, name)
        if mine != theirs:
            if isinstance(mine, dict):
                keys = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
                out.append((name, [(k, mine.get(k), theirs.get(k)) for k in keys[:5]]))
            else:
                out.append((name, sorted(set(mine) ^ set(theirs))[:5]))
    if updated.schema != fresh.schema:
        out.append(("schema",))
    if updated.graph._node != fresh.graph._node:
        out.append(("nodes", sorted(set(updated.graph._node) ^ set(fresh.graph._node))[:5]))
    for u in sorted(set(updated.graph._adj) | set(fresh.graph._adj)):
        mine, theirs = updated.graph._adj.get(u, {}), fresh.graph._adj.get(u, {})
        for v in sorted(set(mine) | set(theirs)):
            a, b = mine.get(v), theirs.get(v)
            if a is None or b is None or a["facts"] != b["facts"] or a["meta"] != b["meta"]:
                out.append(("pair", u, v, a, b))
    return out


@pytest.fixture
def following(store: Store) -> Iterator[AppState]:
    """What `serve` holds of an empty store with the ontology, following its writes."""
    load_ontology(store)
    st = AppState(Settings(store=store.url), store, QueryWorkers(store, 1), ProjectionCache(store))
    st.start()
    yield st
    st.unfollow()
    st.workers.close()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_writes_update_what_serve_holds_to_a_fresh_build(following: AppState, seed: int) -> None:
    st, store = following, following.store
    world = World(store, random.Random(seed))
    steps = 30 if store.kind != "sparql" else 18
    for step in range(steps):
        done = world.step()
        proj, names = st.projection(), st.names()
        assert proj.version == names.version == store.version, (seed, step, done)
        fresh = build(store)
        assert differences(proj, fresh) == [], (seed, step, done)
        assert names.same_as(NameIndex.build(store)), (seed, step, done)
    # Every write was followed node by node: none needed a rebuild.
    assert st.projections.updates > 0 and st.projections.rebuilds == 0


def test_a_write_answers_with_the_new_facts_at_once(following: AppState) -> None:
    """A read right after a write returns sees it: the update is made before the write returns."""
    st, store = following, following.store
    state, org, fact = STATES[0], ORGS[0], FACTS[0]
    turtle = f"""
        <{state}> a <{PG}State> ; <{RDFS}label> "Testland"@en ; <{SKOS}altLabel> "Land of Tests" .
        <{org}> a <{PG}Alliance> ; <{RDFS}label> "Test Pact"@en .
        <{fact}> a <{PG}Membership> ; <{PG}member> <{state}> ; <{PG}organisation> <{org}> ;
            <{PG}start> "2001-05"^^<{XSD}gYearMonth> ; <{PG}status> <{PG}Reported> .
    """
    before = st.projection()
    writes.put_graph(store, URIRef(GRAPHS[0]), turtle.encode(), "text/turtle", validate=False)
    proj = st.projection()
    assert proj is not before and before.version < proj.version == store.version
    assert state not in before.graph and proj.graph.has_edge(fact, state)
    (edge,) = proj.graph[fact][state]["facts"]
    assert (edge.start, edge.status) == ("2001-05", "reported")
    assert proj.labels[fact] == "Testland in Test Pact, since 2001-05"  # made from its parts
    assert st.names().resolve("Land of Tests").iri == state
    writes.update(
        store,
        f'DELETE DATA {{ GRAPH <{GRAPHS[0]}> {{ <{state}> <{RDFS}label> "Testland"@en }} }}',
        validate=False,
    )
    assert st.projection().labels[fact] == "T00 in Test Pact, since 2001-05"
    assert st.names().get(state).label == "Land of Tests"  # type: ignore[union-attr]


def test_an_ontology_write_rebuilds(following: AppState) -> None:
    st, store = following, following.store
    load_ontology(store)
    assert st.projections.rebuilds == 1
    assert differences(st.projection(), build(store)) == []


def test_a_server_that_stops_following_leaves_the_store_as_it_found_it(following: AppState) -> None:
    """An app over a store that outlives it (tests, an embedding program) lets go on shutdown: its
    projection stops following, and no write pays for it any more."""
    st, store = following, following.store
    before = st.projection()
    st.unfollow()
    assert store._followers == []
    writes.update(
        store, f"INSERT DATA {{ GRAPH <{GRAPHS[0]}> {{ <{STATES[0]}> a <{PG}State> }} }}", validate=False
    )
    assert st.projections.current is before and st.projections.updates == 0
