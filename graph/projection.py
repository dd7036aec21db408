"""The entity graph: a networkx projection of the RDF for path queries and neighbourhoods.

Nodes are typed entities (actors, and hubs such as agreements, memberships, sanctions,
support relations, events); edges are pg: object properties between two nodes, each with
its predicate, RDF direction, start/end, claim status and evidence (graph, sources,
quote). Time and status come from the n-ary node an edge touches, so filtering by
`as_of` or status is a filter on edges. Built once per store version and kept in memory.
"""

from __future__ import annotations

import gc
import math
import operator
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from typing import Any

import networkx as nx
import pyoxigraph as ox
from rdflib import URIRef

from pactgraph.graph.dates import NEVER, known_span, parse_period
from pactgraph.graph.errors import PactgraphError
from pactgraph.graph.labels import label_hubs
from pactgraph.graph.store import Store
from pactgraph.ontology import GRAPH_BASE, ONTOLOGY_GRAPH, PG

# Classes whose instances are vocabulary or bookkeeping, not entities to walk through.
_NOT_NODES = {
    PG.Source,
    PG.SourceGraph,
    PG.Domain,
    PG.Principle,
    PG.ClaimStatus,
    PG.RelationKey,
    PG.EndRule,
    PG.LeaderRole,
}
# Properties that describe a fact rather than link two entities.
_NOT_EDGES = {
    PG.source,
    PG.status,
    PG.coversDomain,
    PG.upholds,
    PG.describes,
    PG.cites,
    PG.publishedBy,
    PG.readingOf,
    PG.endRule,
}
STATUS_RANK = {str(PG.Confirmed): 3, str(PG.Reported): 2, str(PG.Disputed): 1, str(PG.Denied): 0}
STATUS_NAME = {
    str(PG.Confirmed): "confirmed",
    str(PG.Reported): "reported",
    str(PG.Disputed): "disputed",
    str(PG.Denied): "denied",
}


@dataclass(frozen=True, slots=True)
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
    undated: bool = False  # a claim with no date at all: known from its sources' date on
    known_from: str | None = None  # for an undated claim, the source date it is known from
    ongoing: str | None = None  # "ongoing as of" this day (pg:ongoingAsOf): not ended
    exclusive_end: bool = False  # its source's end dates are the first day it no longer held

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled (in snapshots) as its fields, remade by `_new_edge`: the __setstate__ dataclasses
        # give a frozen class sets each field from Python, seconds at a million triples.
        return (_new_edge, _EDGE_FIELDS(self))


# A frozen dataclass's __init__ sets each field through object.__setattr__ (~2 µs an edge); the
# build makes hundreds of thousands, so it fills the slots directly, as the generated __init__ would.
_EDGE_NEW = object.__new__
(_S0, _S1, _S2, _S3, _S4, _S5, _S6, _S7, _S8, _S9, _S10, _S11, _S12, _S13) = (
    getattr(Edge, name).__set__ for name in Edge.__slots__
)
_EDGE_FIELDS = operator.attrgetter(*Edge.__slots__)


def _new_edge(
    s: str,
    p: str,
    o: str,
    start: str | None,
    end: str | None,
    status: str,
    graph: str,
    sources: tuple[str, ...],
    quote: str | None,
    dated: bool,
    undated: bool = False,
    known_from: str | None = None,
    ongoing: str | None = None,
    exclusive_end: bool = False,
) -> Edge:
    e = _EDGE_NEW(Edge)
    _S0(e, s)
    _S1(e, p)
    _S2(e, o)
    _S3(e, start)
    _S4(e, end)
    _S5(e, status)
    _S6(e, graph)
    _S7(e, sources)
    _S8(e, quote)
    _S9(e, dated)
    _S10(e, undated)
    _S11(e, known_from)
    _S12(e, ongoing)
    _S13(e, exclusive_end)
    return e


# What a path query filters a fact on, computed once per fact: (status rank, first day it is
# known to hold, last day it is known to hold, predicate local name) — graph/dates.py's rule;
# days as ordinals, open ends as 0 / _NEVER (a first day of _NEVER: known at no date).
Meta = tuple[int, int, int, str]
_NEVER = 10**8
OPEN_END = _NEVER
"""The ordinal `fact_days` gives an open end (and the first day of a fact known at no date)."""
_STATUS_BY_NAME = {"confirmed": 3, "reported": 2, "disputed": 1, "denied": 0}


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
    # Fact nodes with time: (first, last) day they are known to hold, ordinals (see `fact_days`).
    node_days: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Filled by `prepare()`: per node pair (the edge's data dict, key "meta") a tuple of Meta
    # aligned with "facts", and the local names of every predicate, for path queries.
    predicates: frozenset[str] = field(default_factory=frozenset, repr=False, compare=False)
    _prepared: bool = field(default=False, init=False, repr=False, compare=False)
    _prepare_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def label(self, node: str) -> str:
        return self.labels.get(node) or node.rsplit("/", 1)[-1]

    def weight(self, u: str, v: str) -> float:
        """One hop, plus a small cost for passing through crowded nodes (the UN, a big alliance),
        so among paths of equal length the specific ones come first; never outweighs a hop."""
        return 1.0 + 0.05 * math.log1p(min(self.graph.degree(u), self.graph.degree(v)))

    def prepare(self) -> None:
        """Pre-compute what path queries filter on (status, dates parsed once, predicate names).

        `build` does it before the projection is shared; a projection assembled by hand gets it
        on its first path query. Idempotent and thread-safe."""
        if self._prepared:
            return
        with self._prepare_lock:
            if self._prepared:
                return
            metas: dict[Meta, Meta] = {}
            terms: dict[str, str] = {}
            for _u, _v, data in self.graph.edges(data=True):
                facts = data["facts"]
                out = []
                for e in facts:
                    term = terms.get(e.predicate)
                    if term is None:
                        term = terms[e.predicate] = sys.intern(_local_term(e.predicate))
                    first, last = fact_days(e)
                    meta = (_STATUS_BY_NAME.get(e.status, 3), first, last, term)
                    out.append(metas.setdefault(meta, meta))
                data["meta"] = tuple(out)
            self.predicates = frozenset(terms.values()) | {_local_term(p) for p in self.readings}
            self._prepared = True


def _local_term(name: str) -> str:
    return name.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@lru_cache(maxsize=1 << 16)
def _days(
    start: str | None, end: str | None, exclusive: bool, ongoing: bool, undated: bool, known_from: str | None
) -> tuple[int, int]:
    """(first, last) day a fact is known to hold, as ordinals (graph/dates.py's rule); a date
    that does not parse bounds nothing (as if absent), so one bad literal never fails every query."""
    if undated:
        span = known_span(None, None, claim=True, evidence=(known_from,) if known_from else ())
    else:
        try:
            known_span(start, None)
        except PactgraphError:
            start = None
        try:
            known_span(None, end)
        except PactgraphError:
            end = None
        span = known_span(start, end, exclusive_end=exclusive, ongoing=ongoing)
    first = 0 if span.first is None else _NEVER if span.first == NEVER else span.first.toordinal()
    return first, _NEVER if span.last is None else span.last.toordinal()


def fact_days(e: Edge) -> tuple[int, int]:
    """The first and last day (ordinals; 0 and _NEVER when open) a fact is known to hold."""
    return _days(e.start, e.end, e.exclusive_end, e.ongoing is not None, e.undated, e.known_from)


def holds_on(e: Edge, day: date) -> bool:
    """Whether a fact is known to hold on `day` (graph/dates.py's rule, as every `as_of` reads it)."""
    first, last = fact_days(e)
    return first <= day.toordinal() <= last


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


# ---------------------------------------------------------------------------------- reading
#
# The build reads a few kinds of statements, each as rows of plain strings. On Oxigraph they
# come from pyoxigraph itself: every term a query returns costs a lookup of its string in
# RocksDB (most of the build's time at a million triples), so the queries return as few terms
# as they can: grouped by the repeated term with the other concatenated (IRIs hold no space),
# statuses compared by the engine, not decoded. Elsewhere (memory:, sparql:) plain SELECTs.

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_OWL_DATATYPE_PROPERTY = "http://www.w3.org/2002/07/owl#DatatypeProperty"
_DATES = (
    (str(PG.start), "start"),
    (str(PG.end), "end"),
    (str(PG.date), "start"),
    (str(PG.signingDate), "start"),
    (str(PG.expiry), "end"),
)
_EVENT_DATES = (str(PG.date), str(PG.signingDate))
_GRAPHS_ONE_BY_ONE = 64


def _solutions(native: ox.Store, sparql: str) -> ox.QuerySolutions:
    solutions = native.query(sparql)
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions


def _native_rows(native: ox.Store, sparql: str) -> Iterator[tuple[str, ...]]:
    """Rows of a query of one or two always-bound variables, as strings (a list: faster than a generator)."""
    solutions = _solutions(native, sparql)
    if len(solutions.variables) == 1:
        return iter([(a.value,) for (a,) in solutions])
    return iter([(a.value, b.value) for a, b in solutions])


def _rows(store: Store, sparql: str, names: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """A SELECT's rows as plain strings ("" for unbound), through rdflib terms (memory:, sparql:)."""
    for r in store.select(sparql):
        yield tuple(str(r[n]) if n in r else "" for n in names)


def _select(store: Store, sparql: str, names: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """A SELECT's rows as plain strings, from pyoxigraph directly where the store has it."""
    native = store.oxigraph
    return _native_rows(native, sparql) if native is not None else _rows(store, sparql, names)


def _typed(store: Store) -> Iterator[tuple[str, str]]:
    """(node, class) for every IRI node typed with a pg: class."""
    pg = str(PG)
    native = store.oxigraph
    if native is not None:
        # Plain rows: filters on strings (STRSTARTS) or grouping cost the engine more than Python.
        for row in _solutions(native, f"SELECT ?n ?c WHERE {{ ?n <{_RDF_TYPE}> ?c }}"):
            n, c = row[0], row[1]
            if isinstance(n, ox.NamedNode) and isinstance(c, ox.NamedNode) and c.value.startswith(pg):
                yield n.value, c.value
        return
    query = f'SELECT DISTINCT ?n ?c WHERE {{ ?n a ?c FILTER(isIRI(?n) && STRSTARTS(STR(?c), "{pg}")) }}'
    for n, c in _rows(store, query, ("n", "c")):
        yield n, c


def _labelled(store: Store) -> Iterator[tuple[str, ...]]:
    query = f"SELECT ?n ?l WHERE {{ ?n <{_RDFS_LABEL}> ?l FILTER(LANG(?l) = 'en' || LANG(?l) = '') }}"
    return _select(store, query, ("n", "l"))


def _dated(store: Store, prop: str) -> Iterator[tuple[str, ...]]:
    query = f"SELECT ?n ?d WHERE {{ ?n <{prop}> ?d }}"
    return _select(store, query, ("n", "d"))


def _statuses(store: Store) -> Iterator[tuple[str, str]]:
    """(node, status IRI) for every node with a claim status."""
    native = store.oxigraph
    if native is not None:
        # One query per status: the engine matches the status by id, only the nodes are read.
        for iri in STATUS_NAME:
            for (n,) in _native_rows(native, f"SELECT ?n WHERE {{ ?n <{PG.status}> <{iri}> }}"):
                yield n, iri
        return
    for n, s in _rows(store, f"SELECT ?n ?s WHERE {{ ?n <{PG.status}> ?s }}", ("n", "s")):
        yield n, s


def _sourced(store: Store) -> Iterator[tuple[str, ...]]:
    """(node, source IRI) pairs."""
    return _select(store, f"SELECT ?n ?s WHERE {{ ?n <{PG.source}> ?s }}", ("n", "s"))


_BY_GRAPH = operator.itemgetter(2)  # a statement's graph: sorted by it, the first graph by name comes first


def _linked(store: Store, skip: set[str]) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """Per pg: predicate, its (subject, object, graph) statements between two IRIs."""
    pg = str(PG)
    native = store.oxigraph
    if native is not None:
        # One query per predicate: a scan of every quad with a filter costs the engine more than
        # finding the predicates once and reading each by its index; the ontology's datatype
        # properties (dates, codes, quotes) are not read at all.
        literal = {
            p
            for (p,) in _native_rows(
                native,
                f"SELECT ?p WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?p a <{_OWL_DATATYPE_PROPERTY}> }} }}",
            )
        }
        found = [p for (p,) in _native_rows(native, "SELECT DISTINCT ?p WHERE { GRAPH ?g { ?s ?p ?o } }")]
        # Graphs by name: a statement in several graphs keeps the first read (below), the same one
        # on every backend.
        graphs = sorted(g.value for g in native.named_graphs() if isinstance(g, ox.NamedNode))
        for p in sorted(found):
            if not p.startswith(pg) or p in skip or p in literal:
                continue
            if len(graphs) <= _GRAPHS_ONE_BY_ONE:
                # A few graphs: one query each, so the graph's name is not read on every row.
                statements: list[tuple[str, str, str]] = []
                for g in graphs:
                    rows = _native_rows(
                        native, f"SELECT ?s ?o WHERE {{ GRAPH <{g}> {{ ?s <{p}> ?o }} FILTER(isIRI(?o)) }}"
                    )
                    statements.extend((s, o, g) for s, o in rows)
                yield p, statements
                continue
            solutions = _solutions(
                native, f"SELECT ?s ?o ?g WHERE {{ GRAPH ?g {{ ?s <{p}> ?o }} FILTER(isIRI(?o)) }}"
            )
            yield p, sorted(((s.value, o.value, g.value) for s, o, g in solutions), key=_BY_GRAPH)
        return
    query = (
        "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(isIRI(?o) && STRSTARTS(STR(?p), "{pg}")) }}'
    )
    grouped: dict[str, list[tuple[str, str, str]]] = {}
    for s, p, o, g in _rows(store, query, ("s", "p", "o", "g")):
        if p not in skip:
            grouped.setdefault(p, []).append((s, o, g))
    for p in sorted(grouped):
        yield p, sorted(grouped[p], key=_BY_GRAPH)


# ---------------------------------------------------------------------------------- building


def build(store: Store) -> Projection:
    """Read nodes, edges and their time, status and evidence from the store."""
    # Hundreds of thousands of new tuples and dicts, none of them garbage: the cyclic collector
    # would walk the growing heap again and again (a third of the build at a million triples).
    collecting = gc.isenabled()
    gc.disable()
    try:
        proj = _build(store)
        label_hubs(proj)
        return proj
    finally:
        if collecting:
            gc.enable()


def _build(store: Store) -> Projection:
    version = store.version
    pg = str(PG)
    intern = sys.intern
    ancestors = _ancestors(store)
    proj = Projection(version=version, graph=nx.Graph())

    excluded = {str(c) for c in _NOT_NODES}
    blocked: set[str] = set()
    classes = proj.classes
    depth = {c: len(chain) for c, chain in ancestors.items()}
    for n, c in _typed(store):
        if c in excluded:
            blocked.add(n)
            continue
        local, current = intern(c.removeprefix(pg)), classes.get(n)
        if current is None:
            classes[intern(n)] = local
        elif depth.get(local, 0) > depth.get(current, 0):
            classes[n] = local
    for n in blocked:
        classes.pop(n, None)

    hub_classes = {"Relation"} | {
        str(r["c"]).removeprefix(pg)
        for r in store.select(f"SELECT ?c WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c <{pg}hub> true }} }}")
    }
    kinds: dict[str, tuple[bool, bool]] = {}
    for c in set(classes.values()):
        lineage = {c, *ancestors.get(c, [])}
        kinds[c] = (bool(lineage & hub_classes), "Actor" in lineage)
    for n, c in classes.items():
        hub, actor = kinds[c]
        if hub:
            proj.hubs.add(n)
        if actor:
            proj.actors.add(n)

    labels = proj.labels
    for n, label in _labelled(store):
        if n not in labels:
            labels[intern(n)] = label

    for r in store.select(
        f"SELECT ?p ?r ?i WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> "
        f"{{ ?p <{pg}reading> ?r OPTIONAL {{ ?p <{pg}inverseReading> ?i }} }} }}"
    ):
        proj.readings[str(r["p"])] = (str(r["r"]), str(r["i"]) if "i" in r else f"is the object of {r['r']}")

    # node -> (start, end): a tuple per node, not a dict (a hundred thousand of them at 1M triples).
    periods: dict[str, tuple[str | None, str | None]] = {}
    events: set[str] = set()  # nodes dated by an event or a signing rather than a period
    for prop, key in _DATES:
        for n, d in _dated(store, prop):
            start, end = periods.get(n, (None, None))
            if key == "start" and start is None:
                periods[n] = (d, end)
            elif key == "end" and end is None:
                periods[n] = (start, d)
            if prop in _EVENT_DATES:
                events.add(n)
    status = {n: STATUS_NAME.get(s, "confirmed") for n, s in _statuses(store)}
    listed: dict[str, list[str]] = {}
    for n, s in _sourced(store):
        listed.setdefault(n, []).append(s)
    shared: dict[tuple[str, ...], tuple[str, ...]] = {}
    sources = {n: shared.setdefault(t, t) for n, v in listed.items() if (t := tuple(sorted(set(v))))}
    del listed
    quotes: dict[str, str] = {}
    for n, q in _quoted(store):  # a node quoted in several graphs: the same one on every backend
        if n not in quotes or q < quotes[n]:
            quotes[n] = q
    ongoing: dict[str, str] = {n: d for n, d in _dated(store, str(PG.ongoingAsOf))}
    exclusive_sources = {n for (n,) in _exclusive_sources(store)}
    published = _source_dates(store)
    # holder -> (start, end, ongoing as of, exclusive end, undated, known from, first, last day)
    times: dict[str, tuple[Any, ...]] = {}

    def timed(n: str) -> tuple[Any, ...]:
        """When the fact node `n` holds, by graph/dates.py's rule, computed once per node."""
        found = times.get(n)
        if found is None:
            start, end = periods.get(n, (None, None))
            until = ongoing.get(n)
            cited = sources.get(n, ())
            exclusive = bool(exclusive_sources) and any(c in exclusive_sources for c in cited)
            undated = start is None and end is None and until is None and n in status
            known = (
                known_span(
                    None, None, claim=True, evidence=[published[c] for c in cited if c in published]
                ).known_from
                if undated
                else None
            )
            found = times[n] = (
                start,
                end,
                until,
                exclusive,
                undated,
                known,
                *_days(start, end, exclusive, until is not None, undated, known),
            )
        return found

    skip = {str(p) for p in _NOT_EDGES}
    graphs: dict[str, str] = {}
    adj: dict[str, dict[str, dict[str, Any]]] = proj.graph._adj
    node_attrs: dict[str, dict[str, Any]] = proj.graph._node
    metas: dict[Meta, Meta] = {}
    terms: set[str] = set()
    for p, statements in _linked(store, skip):
        p = intern(p)
        term = intern(_local_term(p))
        for s, o, g in statements:
            if s not in classes or o not in classes:
                continue
            s, o = intern(s), intern(o)
            around_s = adj.get(s)
            data = around_s.get(o) if around_s is not None else None
            if data is not None and any(e.subject == s and e.predicate == p for e in data["facts"]):
                continue  # the same statement in another graph: the first graph read is kept
            graph = graphs.get(g)
            if graph is None:
                graph = graphs[g] = intern(g.removeprefix(GRAPH_BASE))
            # Time, status and evidence belong to the fact node: the subject if it has them, else the object.
            holder = (
                s
                if (s in periods or s in status or s in ongoing)
                else o
                if (o in periods or o in status or o in ongoing)
                else s
            )
            start, end, until, exclusive, undated, known, first, last = timed(holder)
            state = status.get(holder, "confirmed")
            edge = _new_edge(
                s,
                p,
                o,
                start,
                end,
                state,
                graph,
                sources.get(holder, ()),
                quotes.get(holder),
                holder in events and end is None,
                undated,
                known,
                until,
                exclusive,
            )
            meta = (_STATUS_BY_NAME[state], first, last, term)
            meta = metas.setdefault(meta, meta)
            terms.add(term)
            # networkx's own dicts (as Graph.add_edge fills them), without its per-call checks.
            if around_s is None:
                around_s = adj[s] = {}
                node_attrs[s] = {}
            if data is not None:
                data["facts"].append(edge)
                data["meta"] = (*data["meta"], meta)
                continue
            around_o = adj.get(o)
            if around_o is None:
                around_o = adj[o] = {}
                node_attrs[o] = {}
            data = {"facts": [edge], "meta": (meta,)}
            around_s[o] = data
            around_o[s] = data
    for n in classes:
        if n not in adj:
            adj[n] = {}
            node_attrs[n] = {}
        if n in periods or n in status or n in ongoing:
            first, last = timed(n)[-2:]
            if first or last != _NEVER:
                proj.node_days[n] = (first, last)
    proj.predicates = frozenset(terms) | {_local_term(p) for p in proj.readings}
    proj._prepared = True
    return proj


def _exclusive_sources(store: Store) -> Iterator[tuple[str, ...]]:
    """Sources whose end dates are exclusive (pg:endRule pg:ExclusiveEnd)."""
    query = f"SELECT ?s WHERE {{ ?s <{PG.endRule}> <{PG.ExclusiveEnd}> }}"
    return _select(store, query, ("s",))


_SOURCE_DATES = ("http://purl.org/dc/terms/date", "http://purl.org/dc/terms/issued", str(PG.retrieved))


def _source_dates(store: Store) -> dict[str, str]:
    """Each source's date an undated claim it states is known from: published (dcterms:date, else
    dcterms:issued), else the day it was read (pg:retrieved), as graph/derive.py reads them."""
    found: dict[str, tuple[int, int, str]] = {}
    for rank, prop in enumerate(_SOURCE_DATES):
        for n, d in _dated(store, prop):
            try:
                key = (rank, parse_period(d).latest.toordinal(), d)
            except PactgraphError:
                continue
            if n not in found or key < found[n]:
                found[n] = key
    return {n: d for n, (_rank, _day, d) in found.items()}


def _quoted(store: Store) -> Iterator[tuple[str, ...]]:
    query = f"SELECT ?n ?q WHERE {{ ?n <{PG.quote}> ?q }}"
    return _select(store, query, ("n", "q"))


# ---------------------------------------------------------------------------------- snapshots
#
# graph/snapshot.py pickles what `projection_state` returns: networkx's own dicts (an edge's data
# dict is one object shared by both ends, and pickle keeps it one, and the neighbours' order) and
# every other field as it is, so a field added to Projection needs no change here.

_NOT_SAVED = {"version", "graph", "_prepare_lock"}


def projection_state(proj: Projection) -> dict[str, Any]:
    """What a snapshot keeps of a built (prepared) projection: plain dicts, sets and tuples."""
    proj.prepare()
    g = proj.graph
    state = {f.name: getattr(proj, f.name) for f in fields(proj) if f.name not in _NOT_SAVED}
    state["graph"] = (g.graph, g._node, g._adj)
    return state


def projection_from_state(state: dict[str, Any], version: int) -> Projection:
    """The projection `projection_state` saved, as the projection of store version `version`."""
    attrs, node, adj = state["graph"]
    g = nx.Graph()
    g.graph.update(attrs)
    g._node = node
    g._adj = adj
    proj = Projection(version=version, graph=g)
    for name, value in state.items():
        if name != "graph":
            setattr(proj, name, value)
    return proj


class ProjectionCache:
    """Keeps the projection of the store's current version; rebuilt once after each write."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._current: Projection | None = None

    @property
    def current(self) -> Projection | None:
        """The projection built last, whatever store version it was built for (None before the first)."""
        return self._current

    def adopt(self, proj: Projection) -> None:
        """Keep a projection made elsewhere (loaded from a snapshot) for its store version."""
        with self._lock:
            self._current = proj

    def get(self) -> Projection:
        current = self._current
        if current is not None and current.version == self.store.version:
            return current
        with self._lock:
            if self._current is None or self._current.version != self.store.version:
                self._current = build(self.store)
            return self._current
