"""The entity graph: a networkx projection of the RDF for path queries and neighbourhoods.

Nodes are typed entities (actors, and hubs such as agreements, memberships, sanctions,
support relations, events); edges are pg: object properties between two nodes, each with
its predicate, RDF direction, start/end, claim status and evidence (graph, sources,
quote). Time and status come from the n-ary node an edge touches, so filtering by
`as_of` or status is a filter on edges. Built once per store version and kept in memory.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import networkx as nx
from rdflib import URIRef

from graph.store import Store
from ontology import GRAPH_BASE, ONTOLOGY_GRAPH, PG

# Classes whose instances are vocabulary or bookkeeping, not entities to walk through.
_NOT_NODES = {PG.Source, PG.SourceGraph, PG.Domain, PG.Principle, PG.ClaimStatus}
# Properties that describe a fact rather than link two entities.
_NOT_EDGES = {PG.source, PG.status, PG.coversDomain, PG.upholds, PG.describes, PG.cites, PG.publishedBy}
STATUS_RANK = {str(PG.Confirmed): 3, str(PG.Reported): 2, str(PG.Disputed): 1, str(PG.Denied): 0}
STATUS_NAME = {
    str(PG.Confirmed): "confirmed",
    str(PG.Reported): "reported",
    str(PG.Disputed): "disputed",
    str(PG.Denied): "denied",
}


@dataclass(frozen=True)
class Edge:
    """One RDF statement between two entities, with what it needs to be filtered and explained."""

    subject: str
    predicate: str
    object: str
    start: str | None
    end: str | None
    status: str  # confirmed | reported | disputed | denied
    graph: str
    sources: tuple[str, ...]
    quote: str | None
    dated: bool = False  # the start is the date of an event or signing, not of a period


@dataclass
class Projection:
    """The entity graph of one store version."""

    version: int
    graph: nx.Graph  # undirected, one edge per node pair; its "facts" attribute lists the Edges
    labels: dict[str, str] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)  # most specific pg class, local name
    readings: dict[str, tuple[str, str]] = field(default_factory=dict)  # predicate -> (reading, inverse)
    hubs: set[str] = field(default_factory=set)
    actors: set[str] = field(default_factory=set)  # states, persons, governments, organisations…

    def label(self, node: str) -> str:
        return self.labels.get(node) or node.rsplit("/", 1)[-1]

    def weight(self, u: str, v: str) -> float:
        """One hop, plus a small cost for passing through crowded nodes (the UN, a big alliance),
        so among paths of equal length the specific ones come first; never outweighs a hop."""
        return 1.0 + 0.05 * math.log1p(min(self.graph.degree(u), self.graph.degree(v)))


def _ancestors(store: Store) -> dict[str, list[str]]:
    """Each pg class (local name) with its superclasses, nearest first, from the ontology graph."""
    pg = str(PG)
    rows = store.select(
        f"SELECT ?c ?super WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> "
        "{ ?c <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?super } }"
    )
    parent = {
        str(r["c"]).removeprefix(pg): str(r["super"]).removeprefix(pg)
        for r in rows
        if isinstance(r.get("super"), URIRef) and str(r["super"]).startswith(pg)
    }
    out: dict[str, list[str]] = {}
    for c in set(parent) | set(parent.values()):
        chain: list[str] = []
        current = c
        while current in parent and len(chain) < 20:
            current = parent[current]
            chain.append(current)
        out[c] = chain
    return out


def build(store: Store) -> Projection:
    """Read nodes, edges and their time, status and evidence from the store."""
    version = store.version
    pg = str(PG)
    ancestors = _ancestors(store)
    proj = Projection(version=version, graph=nx.Graph())

    typed = store.select(
        f'SELECT DISTINCT ?n ?c WHERE {{ ?n a ?c FILTER(isIRI(?n) && STRSTARTS(STR(?c), "{pg}")) }}'
    )
    excluded = {str(c) for c in _NOT_NODES}
    blocked: set[str] = set()
    for r in typed:
        n, c = str(r["n"]), str(r["c"])
        if c in excluded:
            blocked.add(n)
            continue
        local, current = c.removeprefix(pg), proj.classes.get(n)
        if current is None or len(ancestors.get(local, [])) > len(ancestors.get(current, [])):
            proj.classes[n] = local
    for n in blocked:
        proj.classes.pop(n, None)

    hub_classes = {"Relation"} | {
        str(r["c"]).removeprefix(pg)
        for r in store.select(f"SELECT ?c WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c <{pg}hub> true }} }}")
    }
    for n, c in proj.classes.items():
        lineage = {c, *ancestors.get(c, [])}
        if lineage & hub_classes:
            proj.hubs.add(n)
        if "Actor" in lineage:
            proj.actors.add(n)

    for r in store.select(
        "SELECT ?n ?l WHERE { ?n <http://www.w3.org/2000/01/rdf-schema#label> ?l "
        "FILTER(LANG(?l) = 'en' || LANG(?l) = '') }"
    ):
        proj.labels.setdefault(str(r["n"]), str(r["l"]))

    for r in store.select(
        f"SELECT ?p ?r ?i WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> "
        f"{{ ?p <{pg}reading> ?r OPTIONAL {{ ?p <{pg}inverseReading> ?i }} }} }}"
    ):
        proj.readings[str(r["p"])] = (str(r["r"]), str(r["i"]) if "i" in r else f"is the object of {r['r']}")

    periods: dict[str, dict[str, str]] = {}
    events: set[str] = set()  # nodes dated by an event or a signing rather than a period
    for prop, key in (
        (PG.start, "start"),
        (PG.end, "end"),
        (PG.date, "start"),
        (PG.signingDate, "start"),
        (PG.expiry, "end"),
    ):
        for r in store.select(f"SELECT ?n ?d WHERE {{ ?n <{prop}> ?d }}"):
            periods.setdefault(str(r["n"]), {}).setdefault(key, str(r["d"]))
            if prop in (PG.date, PG.signingDate):
                events.add(str(r["n"]))
    status = {str(r["n"]): str(r["s"]) for r in store.select(f"SELECT ?n ?s WHERE {{ ?n <{PG.status}> ?s }}")}
    sources: dict[str, list[str]] = {}
    for r in store.select(f"SELECT DISTINCT ?n ?s WHERE {{ ?n <{PG.source}> ?s }} ORDER BY ?n ?s"):
        sources.setdefault(str(r["n"]), []).append(str(r["s"]))
    quotes = {str(r["n"]): str(r["q"]) for r in store.select(f"SELECT ?n ?q WHERE {{ ?n <{PG.quote}> ?q }}")}

    skip = {str(p) for p in _NOT_EDGES}
    rows = store.select(
        "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(isIRI(?o) && STRSTARTS(STR(?p), "{pg}")) }}'
    )
    seen: set[tuple[str, str, str]] = set()
    for r in rows:
        s, p, o, g = str(r["s"]), str(r["p"]), str(r["o"]), str(r["g"])
        if p in skip or s not in proj.classes or o not in proj.classes or (s, p, o) in seen:
            continue
        seen.add((s, p, o))
        # Time, status and evidence belong to the fact node: the subject if it has them, else the object.
        holder = s if (s in periods or s in status) else o if (o in periods or o in status) else s
        period = periods.get(holder, {})
        edge = Edge(
            subject=s,
            predicate=p,
            object=o,
            start=period.get("start"),
            end=period.get("end"),
            status=STATUS_NAME.get(status.get(holder, ""), "confirmed"),
            graph=g.removeprefix(GRAPH_BASE),
            sources=tuple(sources.get(holder, ())),
            quote=quotes.get(holder),
            dated=holder in events and "end" not in period,
        )
        if proj.graph.has_edge(s, o):
            proj.graph[s][o]["facts"].append(edge)
        else:
            proj.graph.add_edge(s, o, facts=[edge])
    for n in proj.classes:
        if n not in proj.graph:
            proj.graph.add_node(n)
    return proj


class ProjectionCache:
    """Keeps the projection of the store's current version; rebuilt once after each write."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._current: Projection | None = None

    def get(self) -> Projection:
        current = self._current
        if current is not None and current.version == self.store.version:
            return current
        with self._lock:
            if self._current is None or self._current.version != self.store.version:
                self._current = build(self.store)
            return self._current
