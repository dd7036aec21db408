"""The entity graph: a networkx projection of the RDF for path queries and neighbourhoods.

Nodes are typed entities (actors, and hubs such as agreements, memberships, sanctions,
support relations, events); edges are pg: object properties between two nodes, each with
its predicate, RDF direction, start/end, claim status and evidence (graph, sources,
quote). Time and status come from the n-ary node an edge touches, so filtering by
`as_of` or status is a filter on edges. Built once per store version and kept in memory.
"""

from __future__ import annotations

import gc
import logging
import math
import operator
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

import networkx as nx
import pyoxigraph as ox
from networkx.classes.reportviews import DegreeView, EdgeView
from rdflib import Literal, URIRef

from pactgraph.graph.dates import NEVER, known_span, parse_period
from pactgraph.graph.errors import PactgraphError
from pactgraph.graph.labels import hub_label, label_hubs
from pactgraph.graph.store import Change, NeedsRebuild, Store, data_graph
from pactgraph.ontology import GRAPH_BASE, ONTOLOGY_GRAPH, PG

log = logging.getLogger("pactgraph.projection")

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


class Edge(NamedTuple):
    """One RDF statement between two entities, with what it needs to be filtered and explained.

    A named tuple rather than a dataclass: hundreds of thousands are made by the build and by a
    snapshot's load, and a tuple is made in C (`tuple.__new__`), its fields read by index."""

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


_TUPLE_NEW = tuple.__new__


def _new_edge(*fields: Any) -> Edge:
    """An Edge from its 14 fields, in order (no defaults, no checks: the build's fast path)."""
    return _TUPLE_NEW(Edge, fields)


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
    # What an update (`update`) needs beside the above, kept (and snapshotted) with it: what the
    # ontology says, the hubs whose labels are made from their parts (graph/labels.py), each fact
    # node's record (how the facts it holds are dated and sourced), the sources' dates and end
    # rules, and how many facts use each predicate.
    schema: Schema | None = None
    made: set[str] = field(default_factory=set)
    records: dict[str, Record] = field(default_factory=dict)
    source_dates: dict[str, str] = field(default_factory=dict)
    exclusive_sources: set[str] = field(default_factory=set)
    term_counts: dict[str, int] = field(default_factory=dict)
    codes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # (ISO alpha-3, Wikidata)
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
        adj = self.graph._adj
        return 1.0 + 0.05 * math.log1p(min(len(adj[u]) + (u in adj[u]), len(adj[v]) + (v in adj[v])))

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


# ---------------------------------------------------------------------------------- reading
#
# The build reads a few kinds of statements, each as rows of plain strings. On Oxigraph they
# come from pyoxigraph itself: every term a query returns costs a lookup of its string in
# RocksDB (most of the build's time at a million triples), so the queries return as few terms
# as they can, statuses compared by the engine, not decoded. Elsewhere (memory:, sparql:) plain
# SELECTs. An update (`update`) reads the same statements of the few nodes a write touched, by
# pattern (`Store.match`), into the same `_Data`; both then choose by the same rules, by value,
# never by the order a backend returned rows in, so an updated projection equals a fresh build.

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_OWL_DATATYPE_PROPERTY = "http://www.w3.org/2002/07/owl#DatatypeProperty"
_STARTS = (str(PG.start), str(PG.date), str(PG.signingDate))  # a fact's start: the first found
_ENDS = (str(PG.end), str(PG.expiry))
_EVENT_DATES = (str(PG.date), str(PG.signingDate))
_DATE_PROPS = (*_STARTS, *_ENDS)
_SOURCE_DATES = ("http://purl.org/dc/terms/date", "http://purl.org/dc/terms/issued", str(PG.retrieved))
_GRAPHS_ONE_BY_ONE = 64
_NAMED = ox.NamedNode


class _Data:
    """What the projection reads of nodes, each kind chosen by value where a node has several."""

    def __init__(self) -> None:
        self.types: dict[str, set[str]] = {}  # pg: classes
        self.label: dict[str, tuple[int, str]] = {}  # (0 English / 1 no language, text): least wins
        self.dates: dict[str, dict[str, str]] = {p: {} for p in _DATE_PROPS}  # least value wins
        self.status: dict[str, int] = {}  # the least certain status stated wins
        self.sources: dict[str, set[str]] = {}
        self.quote: dict[str, str] = {}
        self.ongoing: dict[str, str] = {}
        self.exclusive: set[str] = set()  # sources whose end dates are exclusive
        self.published: dict[str, tuple[int, int, str]] = {}  # a source's best date: (rank, day, value)
        self.iso: dict[str, str] = {}  # ISO 3166-1 alpha-3 code, least value wins
        self.wikidata: dict[str, str] = {}

    def feed(self, s: str, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> None:
        """Take one statement about `s` (an update's reads)."""
        kind = _FEED.get(p)
        if kind is None or isinstance(o, ox.Triple):
            return
        if kind == "type":
            if type(o) is _NAMED and o.value.startswith(_PG):
                self.types.setdefault(s, set()).add(o.value)
        elif kind == "label":
            if isinstance(o, ox.Literal):
                _label_into(self.label, s, o.value, o.language or "")
        elif kind == "date":
            _least_into(self.dates[p], s, o.value)
        elif kind == "status":
            rank = STATUS_RANK.get(o.value) if type(o) is _NAMED else None
            if rank is not None and rank < self.status.get(s, 4):
                self.status[s] = rank
        elif kind == "source":
            if type(o) is _NAMED:
                self.sources.setdefault(s, set()).add(o.value)
        elif kind == "quote":
            _least_into(self.quote, s, o.value)
        elif kind == "ongoing":
            _least_into(self.ongoing, s, o.value)
        elif kind == "rule":
            if type(o) is _NAMED and o.value == _EXCLUSIVE:
                self.exclusive.add(s)
        elif kind == "iso":
            _least_into(self.iso, s, o.value)
        elif kind == "wikidata":
            _least_into(self.wikidata, s, o.value)
        else:
            _published_into(self.published, s, _SOURCE_DATES.index(p), o.value)


_PG = str(PG)
_EXCLUSIVE = str(PG.ExclusiveEnd)
_FEED: dict[str, str] = {
    _RDF_TYPE: "type",
    _RDFS_LABEL: "label",
    **{p: "date" for p in _DATE_PROPS},
    str(PG.status): "status",
    str(PG.source): "source",
    str(PG.quote): "quote",
    str(PG.ongoingAsOf): "ongoing",
    str(PG.endRule): "rule",
    str(PG.isoAlpha3): "iso",
    str(PG.wikidataId): "wikidata",
    **{p: "published" for p in _SOURCE_DATES},
}


def _least_into(d: dict[str, str], n: str, value: str) -> None:
    old = d.get(n)
    if old is None or value < old:
        d[n] = value


def _label_into(d: dict[str, tuple[int, str]], n: str, text: str, lang: str) -> None:
    if lang not in ("en", ""):
        return
    key = (0 if lang == "en" else 1, text)
    old = d.get(n)
    if old is None or key < old:
        d[n] = key


def _published_into(d: dict[str, tuple[int, int, str]], n: str, rank: int, value: str) -> None:
    try:
        key = (rank, parse_period(value).latest.toordinal(), value)
    except PactgraphError:
        return
    old = d.get(n)
    if old is None or key < old:
        d[n] = key


def _solutions(native: ox.Store, sparql: str) -> ox.QuerySolutions:
    solutions = native.query(sparql)
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions


def _native_rows(native: ox.Store, sparql: str) -> list[tuple[str, ...]]:
    """Rows of a query of one or two always-bound variables, as strings; the first must be an IRI."""
    solutions = _solutions(native, sparql)
    if len(solutions.variables) == 1:
        return [(a.value,) for (a,) in solutions if type(a) is _NAMED]
    return [(a.value, b.value) for a, b in solutions if type(a) is _NAMED]


def _rows(store: Store, sparql: str, names: tuple[str, ...]) -> list[tuple[str, ...]]:
    """A SELECT's rows as plain strings, through rdflib terms (memory:, sparql:); the first
    variable must be an IRI."""
    out = []
    for r in store.select(sparql):
        if isinstance(r.get(names[0]), URIRef):
            out.append(tuple(str(r[n]) if n in r else "" for n in names))
    return out


def _select(store: Store, sparql: str, names: tuple[str, ...]) -> list[tuple[str, ...]]:
    """A SELECT's rows as plain strings, from pyoxigraph directly where the store has it."""
    native = store.oxigraph
    return _native_rows(native, sparql) if native is not None else _rows(store, sparql, names)


def _read_all(store: Store) -> _Data:
    """Every node's data the projection reads, from the whole store."""
    d = _Data()
    native = store.oxigraph
    types = d.types
    if native is not None:
        # Plain rows: filters on strings (STRSTARTS) or grouping cost the engine more than Python.
        for n, c in _solutions(native, f"SELECT ?n ?c WHERE {{ ?n <{_RDF_TYPE}> ?c }}"):
            if type(n) is _NAMED and type(c) is _NAMED and c.value.startswith(_PG):
                types.setdefault(n.value, set()).add(c.value)
        for n, label in _solutions(native, f"SELECT ?n ?l WHERE {{ ?n <{_RDFS_LABEL}> ?l }}"):
            if type(n) is _NAMED and isinstance(label, ox.Literal):
                _label_into(d.label, n.value, label.value, label.language or "")
        # One query per status: the engine matches the status by id, only the nodes are read.
        for iri, rank in sorted(STATUS_RANK.items(), key=operator.itemgetter(1), reverse=True):
            for (n,) in _native_rows(native, f"SELECT ?n WHERE {{ ?n <{PG.status}> <{iri}> }}"):
                d.status[n] = rank  # least certain last: it wins
        for (n,) in _native_rows(native, f"SELECT ?n WHERE {{ ?n <{PG.endRule}> <{PG.ExclusiveEnd}> }}"):
            d.exclusive.add(n)
    else:
        query = f'SELECT DISTINCT ?n ?c WHERE {{ ?n a ?c FILTER(isIRI(?n) && STRSTARTS(STR(?c), "{_PG}")) }}'
        for n, c in _rows(store, query, ("n", "c")):
            types.setdefault(n, set()).add(c)
        for r in store.select(f"SELECT ?n ?l WHERE {{ ?n <{_RDFS_LABEL}> ?l }}"):
            n, label = r.get("n"), r.get("l")
            if isinstance(n, URIRef) and isinstance(label, Literal):
                _label_into(d.label, str(n), str(label), label.language or "")
        for n, s in _rows(store, f"SELECT ?n ?s WHERE {{ ?n <{PG.status}> ?s }}", ("n", "s")):
            stated = STATUS_RANK.get(s)
            if stated is not None and stated < d.status.get(n, 4):
                d.status[n] = stated
        query = f"SELECT ?s WHERE {{ ?s <{PG.endRule}> <{PG.ExclusiveEnd}> }}"
        d.exclusive.update(n for (n,) in _rows(store, query, ("s",)))
    for prop in _DATE_PROPS:
        into = d.dates[prop]
        for n, v in _select(store, f"SELECT ?n ?d WHERE {{ ?n <{prop}> ?d }}", ("n", "d")):
            _least_into(into, n, v)
    source_query = f"SELECT ?n ?s WHERE {{ ?n <{PG.source}> ?s FILTER(isIRI(?s)) }}"
    for n, s in _select(store, source_query, ("n", "s")):
        d.sources.setdefault(n, set()).add(s)
    for n, q in _select(store, f"SELECT ?n ?q WHERE {{ ?n <{PG.quote}> ?q }}", ("n", "q")):
        _least_into(d.quote, n, q)
    for n, v in _select(store, f"SELECT ?n ?d WHERE {{ ?n <{PG.ongoingAsOf}> ?d }}", ("n", "d")):
        _least_into(d.ongoing, n, v)
    for rank, prop in enumerate(_SOURCE_DATES):
        for n, v in _select(store, f"SELECT ?n ?d WHERE {{ ?n <{prop}> ?d }}", ("n", "d")):
            _published_into(d.published, n, rank, v)
    for prop, into in ((PG.isoAlpha3, d.iso), (PG.wikidataId, d.wikidata)):
        for n, v in _select(store, f"SELECT ?n ?c WHERE {{ ?n <{prop}> ?c }}", ("n", "c")):
            _least_into(into, n, v)
    return d


_BY_GRAPH = operator.itemgetter(2)  # a statement's graph: sorted by it, the first graph by name comes first


def _linked(store: Store, schema: Schema) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """Per linking predicate (sorted), its (subject, object, graph) statements between two IRIs in
    the data graphs, sorted by graph."""
    native = store.oxigraph
    if native is not None:
        # One query per predicate: a scan of every quad with a filter costs the engine more than
        # finding the predicates once and reading each by its index.
        found = [p for (p,) in _native_rows(native, "SELECT DISTINCT ?p WHERE { GRAPH ?g { ?s ?p ?o } }")]
        graphs = sorted(
            g.value for g in native.named_graphs() if isinstance(g, ox.NamedNode) and data_graph(g.value)
        )
        for p in sorted(found):
            if not schema.links(p):
                continue
            if len(graphs) <= _GRAPHS_ONE_BY_ONE:
                # A few graphs: one query each, so the graph's name is not read on every row.
                statements: list[tuple[str, str, str]] = []
                for g in graphs:
                    solutions = _solutions(native, f"SELECT ?s ?o WHERE {{ GRAPH <{g}> {{ ?s <{p}> ?o }} }}")
                    statements.extend(
                        (s.value, o.value, g) for s, o in solutions if type(s) is _NAMED and type(o) is _NAMED
                    )
                yield p, statements
                continue
            solutions = _solutions(native, f"SELECT ?s ?o ?g WHERE {{ GRAPH ?g {{ ?s <{p}> ?o }} }}")
            yield (
                p,
                sorted(
                    (
                        (s.value, o.value, g.value)
                        for s, o, g in solutions
                        if type(s) is _NAMED and type(o) is _NAMED and data_graph(g.value)
                    ),
                    key=_BY_GRAPH,
                ),
            )
        return
    # Elsewhere by pattern, as an update reads: every data graph, the store's own default graph too.
    for (p,) in sorted(_select(store, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }", ("p",))):
        if not schema.links(p):
            continue
        rows = [
            (q.subject.value, q.object.value, q.graph_name.value)  # type: ignore[union-attr]
            for q in store.match(predicate=ox.NamedNode(p))
            if type(q.subject) is _NAMED and type(q.object) is _NAMED
        ]
        yield p, sorted(rows, key=_BY_GRAPH)


# ---------------------------------------------------------------------------------- what it reads


@dataclass(frozen=True)
class Schema:
    """What the projection reads of the ontology graph: which classes are hubs and actors, how
    specific each class is, which properties link entities, how each reads. A write to the
    ontology graph means a rebuild."""

    depth: dict[str, int]  # pg class (local name) -> number of superclasses
    kinds: dict[str, tuple[bool, bool]]  # pg class (local name) -> (hub, actor)
    literal: frozenset[str]  # datatype properties: never edges
    readings: dict[str, tuple[str, str]]

    def links(self, p: str) -> bool:
        return p.startswith(_PG) and p not in _SKIP and p not in self.literal

    def kind(self, cls: str) -> tuple[bool, bool]:
        return self.kinds.get(cls, (False, False))


_SKIP = frozenset(str(p) for p in _NOT_EDGES)
_EXCLUDED = frozenset(str(c) for c in _NOT_NODES)


def _schema(store: Store) -> Schema:
    pg = _PG
    rows = store.select(
        f"SELECT ?c ?super WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> "
        "{ ?c <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?super } }"
    )
    parent: dict[str, str] = {}
    for r in sorted(rows, key=lambda r: (str(r["c"]), str(r.get("super", "")))):
        sup = r.get("super")
        if isinstance(sup, URIRef) and str(sup).startswith(pg):
            parent.setdefault(str(r["c"]).removeprefix(pg), str(sup).removeprefix(pg))
    ancestors: dict[str, list[str]] = {}
    for c in set(parent) | set(parent.values()):
        chain: list[str] = []
        current = c
        while current in parent and len(chain) < 20:
            current = parent[current]
            chain.append(current)
        ancestors[c] = chain
    hub_classes = {"Relation"} | {
        str(r["c"]).removeprefix(pg)
        for r in store.select(f"SELECT ?c WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c <{pg}hub> true }} }}")
    }
    kinds = {c: (bool({c, *chain} & hub_classes), "Actor" in {c, *chain}) for c, chain in ancestors.items()}
    for c in hub_classes:
        kinds.setdefault(c, (True, c == "Actor"))
    kinds.setdefault("Actor", (False, True))
    literal = frozenset(
        str(r["p"])
        for r in store.select(
            f"SELECT ?p WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?p a <{_OWL_DATATYPE_PROPERTY}> }} }}"
        )
    )
    readings: dict[str, tuple[str, str]] = {}
    for r in store.select(
        f"SELECT ?p ?r ?i WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> "
        f"{{ ?p <{pg}reading> ?r OPTIONAL {{ ?p <{pg}inverseReading> ?i }} }} }}"
    ):
        reading = (str(r["r"]), str(r["i"]) if "i" in r else f"is the object of {r['r']}")
        p = str(r["p"])
        if p not in readings or reading < readings[p]:
            readings[p] = reading
    return Schema({c: len(chain) for c, chain in ancestors.items()}, kinds, literal, readings)


# A node's record: how the facts it holds are dated, sourced and rated (graph/dates.py's rule):
# (start, end, ongoing as of, exclusive end, undated, known from, first day, last day, status,
#  sources, quote, event-dated, timed — whether it holds the time of the facts it touches).
Record = tuple[Any, ...]
_DEFAULT: Record = (None, None, None, False, False, None, 0, _NEVER, None, (), None, False, False)
_RANK_NAME = {rank: STATUS_NAME[iri] for iri, rank in STATUS_RANK.items()}


def _class_of(types: set[str] | None, depth: dict[str, int]) -> str | None:
    """The node's most specific pg class (local name; the least name among equals), or None when
    it has none or is vocabulary and bookkeeping (a source, a status…)."""
    if not types or not types.isdisjoint(_EXCLUDED):
        return None
    return min((c.removeprefix(_PG) for c in types), key=lambda c: (-depth.get(c, 0), c))


def _record(
    n: str,
    d: _Data,
    exclusive_sources: set[str],
    published: dict[str, str],
    shared: dict[tuple[str, ...], tuple[str, ...]],
) -> Record:
    """When the facts node `n` holds are known to hold, their status and evidence."""
    dates = d.dates
    start = next((v for p in _STARTS if (v := dates[p].get(n)) is not None), None)
    end = next((v for p in _ENDS if (v := dates[p].get(n)) is not None), None)
    until = d.ongoing.get(n)
    rank = d.status.get(n)
    listed = d.sources.get(n)
    cited: tuple[str, ...] = ()
    if listed:
        t = tuple(sorted(listed))
        cited = shared.setdefault(t, t)
    exclusive = bool(exclusive_sources) and any(c in exclusive_sources for c in cited)
    undated = start is None and end is None and until is None and rank is not None
    known = (
        known_span(
            None, None, claim=True, evidence=[published[c] for c in cited if c in published]
        ).known_from
        if undated
        else None
    )
    first, last = _days(start, end, exclusive, until is not None, undated, known)
    timed = start is not None or end is not None or until is not None or rank is not None
    event = any(n in dates[p] for p in _EVENT_DATES)
    status = _RANK_NAME[rank] if rank is not None else None  # none stated: read as confirmed
    return (
        start,
        end,
        until,
        exclusive,
        undated,
        known,
        first,
        last,
        status,
        cited,
        d.quote.get(n),
        event,
        timed,
    )


def _edge(s: str, p: str, o: str, graph: str, rec: Record, term: str) -> tuple[Edge, Meta]:
    start, end, until, exclusive, undated, known, first, last, status, cited, quote, event, _ = rec
    status = status or "confirmed"
    edge = _new_edge(
        s,
        p,
        o,
        start,
        end,
        status,
        graph,
        cited,
        quote,
        event and end is None,
        undated,
        known,
        until,
        exclusive,
    )
    meta = (_STATUS_BY_NAME[status], first, last, term)
    return edge, _METAS.setdefault(meta, meta)


_FACT_ORDER = operator.attrgetter("predicate", "graph", "subject", "object")


def _ordered(facts: list[Edge]) -> tuple[list[Edge], tuple[Meta, ...]]:
    """A node pair's facts in their one order (predicate, graph, subject, object), with their metas."""
    if len(facts) > 1:
        facts.sort(key=_FACT_ORDER)
    return facts, tuple(_meta_of(e) for e in facts)


_TERMS: dict[str, str] = {}


def _term_of(p: str) -> str:
    term = _TERMS.get(p)
    if term is None:
        term = _TERMS[p] = sys.intern(_local_term(p))
    return term


_METAS: dict[Meta, Meta] = {}  # one tuple per distinct value: a few thousand for 10^5 facts


def _meta_of(e: Edge) -> Meta:
    first, last = fact_days(e)
    meta = (_STATUS_BY_NAME.get(e.status, 3), first, last, _term_of(e.predicate))
    return _METAS.setdefault(meta, meta)


class _Graph(nx.Graph):
    """networkx's Graph without the views it caches on itself (`degree`, `edges`): they point back
    at the graph, a reference cycle, and an updated projection's old graph must be freed by
    reference counting alone (what the app holds is frozen out of the cyclic collector's sight)."""

    @property
    def degree(self) -> Any:
        return DegreeView(self)

    @property
    def edges(self) -> Any:
        return EdgeView(self)


# ---------------------------------------------------------------------------------- building


def build(store: Store) -> Projection:
    """Read nodes, edges and their time, status and evidence from the store."""
    # Hundreds of thousands of new tuples and dicts, none of them garbage: the cyclic collector
    # would walk the growing heap again and again (a third of the build at a million triples).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(store)
    finally:
        if collecting:
            gc.enable()


def _build(store: Store) -> Projection:
    version = store.version
    intern = sys.intern
    schema = _schema(store)
    proj = Projection(version=version, graph=_Graph(), schema=schema, readings=dict(schema.readings))
    d = _read_all(store)

    classes = proj.classes
    for n, types in d.types.items():
        cls = _class_of(types, schema.depth)
        if cls is not None:
            classes[intern(n)] = intern(cls)
            hub, actor = schema.kind(cls)
            if hub:
                proj.hubs.add(n)
            if actor:
                proj.actors.add(n)
    labels = proj.labels
    for n, (_rank, text) in d.label.items():
        labels[intern(n)] = text
    proj.exclusive_sources = d.exclusive
    for n in set(d.iso) | set(d.wikidata):
        if n in classes:
            proj.codes[n] = (d.iso.get(n), d.wikidata.get(n))
    published = proj.source_dates = {n: v for n, (_rank, _day, v) in d.published.items()}
    shared: dict[tuple[str, ...], tuple[str, ...]] = {}
    holders = set(d.status) | set(d.ongoing) | set(d.sources) | set(d.quote)
    for prop in _DATE_PROPS:
        holders.update(d.dates[prop])
    records = proj.records
    for n in holders:
        if n in classes:
            rec = _record(n, d, d.exclusive, published, shared)
            if rec != _DEFAULT:
                records[n] = rec
    del d

    graphs: dict[str, str] = {}
    adj: dict[str, dict[str, dict[str, Any]]] = proj.graph._adj
    node_attrs: dict[str, dict[str, Any]] = proj.graph._node
    counts = proj.term_counts
    crowded: list[dict[str, Any]] = []  # node pairs with several facts: put in order at the end
    for p, statements in _linked(store, schema):
        p = intern(p)
        term = _term_of(p)
        for s, o, g in statements:
            if s not in classes or o not in classes:
                continue
            s, o = intern(s), intern(o)
            around_s = adj.get(s)
            data = around_s.get(o) if around_s is not None else None
            if data is not None and any(e.subject == s and e.predicate == p for e in data["facts"]):
                continue  # the same statement in another graph: the first graph by name is kept
            graph = graphs.get(g)
            if graph is None:
                graph = graphs[g] = intern(g.removeprefix(GRAPH_BASE))
            edge, meta = _edge(s, p, o, graph, _holder_record(records, s, o), term)
            counts[term] = counts.get(term, 0) + 1
            # networkx's own dicts (as Graph.add_edge fills them), without its per-call checks.
            if around_s is None:
                around_s = adj[s] = {}
                node_attrs[s] = {}
            if data is not None:
                if len(data["facts"]) == 1:
                    crowded.append(data)
                data["facts"].append(edge)
                continue
            around_o = adj.get(o)
            if around_o is None:
                around_o = adj[o] = {}
                node_attrs[o] = {}
            data = {"facts": [edge], "meta": (meta,)}
            around_s[o] = data
            around_o[s] = data
    for data in crowded:
        data["facts"], data["meta"] = _ordered(data["facts"])
    for n in classes:
        if n not in adj:
            adj[n] = {}
            node_attrs[n] = {}
    _node_days(proj, classes)
    proj.predicates = _predicates(counts, proj.readings)
    label_hubs(proj)
    proj._prepared = True
    return proj


def _holder_record(records: dict[str, Record], s: str, o: str) -> Record:
    """Time, status and evidence belong to the fact node: the subject if it has them, else the object."""
    rec = records.get(s, _DEFAULT)
    if rec[12]:
        return rec
    other = records.get(o)
    return other if other is not None and other[12] else rec


def _node_days(proj: Projection, nodes: Iterable[str]) -> None:
    for n in nodes:
        rec = proj.records.get(n)
        if rec is not None and rec[12] and (rec[6] or rec[7] != _NEVER):
            proj.node_days[n] = (rec[6], rec[7])
        else:
            proj.node_days.pop(n, None)


def _predicates(counts: dict[str, int], readings: dict[str, tuple[str, str]]) -> frozenset[str]:
    return frozenset(t for t, c in counts.items() if c > 0) | {_local_term(p) for p in readings}


# ---------------------------------------------------------------------------------- updating


UPDATE_LIMIT = 200_000
"""Quads a change may touch for the projection to be updated; past it, rebuilt (a bulk import)."""


def touches_ontology(change: Change) -> bool:
    ontology = ox.NamedNode(str(ONTOLOGY_GRAPH))
    return any(q.graph_name == ontology for q in (*change.added, *change.removed))


def update(proj: Projection, store: Store, change: Change) -> Projection:
    """The projection of the store after `change`, made from `proj` (the projection before it)
    and what the store now holds about the nodes the change touched: a new Projection object
    sharing every unchanged part with `proj`, which is never modified (readers may hold it).

    Raises NeedsRebuild when the change cannot be followed this way."""
    if (
        change.everything
        or touches_ontology(change)
        or len(change.added) + len(change.removed) > UPDATE_LIMIT
    ):
        raise NeedsRebuild
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _Update(proj, store, change).run()
    finally:
        if collecting:
            gc.enable()


class _Update:
    """One write followed: the nodes it touched (and the facts citing a source whose date or end
    rule it changed) read again, each one's class, label, codes and record worked out as the build
    does; then every statement the write changed, and every statement at a node whose class or
    record changed, made again from what the store now holds; then the made labels of the hubs
    around all that. `self.new` shares every part it does not change with `self.old`."""

    def __init__(self, old: Projection, store: Store, change: Change) -> None:
        old.prepare()
        if old.schema is None:
            raise NeedsRebuild  # assembled by hand: nothing to follow
        self.old = old
        self.store = store
        self.change = change
        self.schema: Schema = old.schema
        g = _Graph()
        g.graph = old.graph.graph
        g._adj = dict(old.graph._adj)
        g._node = dict(old.graph._node)
        self.new = Projection(
            version=change.version,
            graph=g,
            labels=dict(old.labels),
            classes=dict(old.classes),
            readings=old.readings,
            hubs=set(old.hubs),
            actors=set(old.actors),
            node_days=dict(old.node_days),
            schema=old.schema,
            made=set(old.made),
            records=dict(old.records),
            source_dates=dict(old.source_dates),
            exclusive_sources=set(old.exclusive_sources),
            term_counts=dict(old.term_counts),
            codes=dict(old.codes),
        )
        self.copied: set[str] = set()  # nodes whose neighbour dict is this projection's own

    def run(self) -> Projection:
        new, schema = self.new, self.schema
        # The nodes whose own statements changed, and the statements between entities that did.
        touched: set[str] = set()
        statements: set[tuple[str, str, str]] = set()
        for q in (*self.change.added, *self.change.removed):
            subject, p, obj = q.subject, q.predicate.value, q.object
            if type(subject) is not _NAMED:
                continue
            touched.add(subject.value)
            if type(obj) is _NAMED and schema.links(p):
                statements.add((subject.value, p, obj.value))
        about = _read_about(self.store, touched)
        data = _Data()
        for n, quads in about.items():
            for p, o, _g in quads:
                data.feed(n, p, o)
        # Sources whose end rule or date changed change the facts that cite them.
        recompute = set(touched)
        cited_changed = {
            n
            for n in touched
            if (n in data.exclusive) != (n in new.exclusive_sources)
            or _published(data, n) != new.source_dates.get(n)
        }
        for n in touched:
            if n in data.exclusive:
                new.exclusive_sources.add(n)
            else:
                new.exclusive_sources.discard(n)
            value = _published(data, n)
            if value is None:
                new.source_dates.pop(n, None)
            else:
                new.source_dates[n] = value
        if cited_changed:
            citing = _read_citing(self.store, cited_changed) - touched
            more = _read_about(self.store, citing)
            about.update(more)
            for n, quads in more.items():
                for p, o, _g in quads:
                    data.feed(n, p, o)
            recompute |= citing
        # Each node's class, label and record; the nodes whose facts must be made again.
        shared: dict[tuple[str, ...], tuple[str, ...]] = {}
        relabelled: set[str] = set()
        around: set[str] = set()  # every statement with one of these nodes at an end is made again
        for n in recompute:
            n = sys.intern(n)
            old_cls = new.classes.get(n)
            cls = _class_of(data.types.get(n), schema.depth)
            if cls is None:
                new.classes.pop(n, None)
                new.hubs.discard(n)
                new.actors.discard(n)
            else:
                new.classes[n] = sys.intern(cls)
                hub, actor = schema.kind(cls)
                (new.hubs.add if hub else new.hubs.discard)(n)
                (new.actors.add if actor else new.actors.discard)(n)
            codes = (data.iso.get(n), data.wikidata.get(n))
            if cls is not None and codes != (None, None):
                new.codes[n] = codes
            else:
                new.codes.pop(n, None)
            old_rec = new.records.get(n, _DEFAULT)
            rec = _record(n, data, new.exclusive_sources, new.source_dates, shared) if cls else _DEFAULT
            if rec == _DEFAULT:
                new.records.pop(n, None)
            else:
                new.records[n] = old_rec if rec == old_rec else rec
            if (old_cls is None) != (cls is None) or rec != old_rec:
                around.add(n)
            if cls != old_cls:
                relabelled.add(n)
            own = data.label.get(n)
            before = None if n in new.made else new.labels.get(n)
            if own is not None:
                new.labels[n] = own[1]
                new.made.discard(n)
            elif n not in new.made:
                new.labels.pop(n, None)
            if (own[1] if own else None) != before:
                relabelled.add(n)
                relabelled.update(new.graph._adj.get(n, ()))  # the hubs it names
        _node_days(new, recompute)
        # Statements at the ends of the nodes whose class or record changed.
        incoming = _read_pointing(self.store, around)
        for n in around:
            for p, o, _g in about.get(n, ()):
                if type(o) is _NAMED and schema.links(p):
                    statements.add((n, p, o.value))
            for s, p, _g in incoming.get(n, ()):
                if schema.links(p):
                    statements.add((s, p, n))
            for _other, pair in self.old.graph._adj.get(n, {}).items():
                for e in pair["facts"]:
                    statements.add((e.subject, e.predicate, e.object))
        # The first graph by name of each statement that still holds.
        first: dict[tuple[str, str, str], str] = {}
        for n, quads in about.items():
            for p, o, g in quads:
                key = (n, p, o.value)
                if key in statements and (key not in first or g < first[key]):
                    first[key] = g
        for n, quads in incoming.items():
            for s, p, g in quads:
                key = (s, p, n)
                if key in statements and (key not in first or g < first[key]):
                    first[key] = g
        self._remake(statements, first)
        for n in recompute:
            if n not in new.classes and n in new.graph._adj:
                self._drop_node(n)
            elif n in new.classes and n not in new.graph._adj:
                new.graph._adj[n] = {}
                new.graph._node[n] = {}
                self.copied.add(n)
        for s, _p, o in statements:
            relabelled.add(s)
            relabelled.add(o)
        self._relabel(relabelled)
        new.predicates = _predicates(new.term_counts, new.readings)
        new._prepared = True
        return new

    def _own(self, n: str) -> dict[str, dict[str, Any]]:
        """The node's neighbour dict, copied once for this projection."""
        adj = self.new.graph._adj
        if n not in self.copied:
            adj[n] = dict(adj.get(n, {}))
            if n not in self.new.graph._node:
                self.new.graph._node[n] = {}
            self.copied.add(n)
        return adj[n]

    def _remake(self, statements: set[tuple[str, str, str]], first: dict[tuple[str, str, str], str]) -> None:
        new = self.new
        adj = new.graph._adj
        by_pair: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        for s, p, o in statements:
            by_pair.setdefault((s, o) if s <= o else (o, s), []).append((s, p, o))
        counts = new.term_counts
        for (u, v), stmts in by_pair.items():
            pair = adj.get(u, {}).get(v)
            keys = set(stmts)
            facts = []
            if pair is not None:
                for e in pair["facts"]:
                    if (e.subject, e.predicate, e.object) in keys:
                        _uncount(counts, e.predicate)
                    else:
                        facts.append(e)
            for s, p, o in stmts:
                g = first.get((s, p, o))
                if g is None or s not in new.classes or o not in new.classes:
                    continue
                s, p, o = sys.intern(s), sys.intern(p), sys.intern(o)
                term = _term_of(p)
                edge, _meta = _edge(
                    s, p, o, sys.intern(g.removeprefix(GRAPH_BASE)), _holder_record(new.records, s, o), term
                )
                facts.append(edge)
                counts[term] = counts.get(term, 0) + 1
            if not facts:
                if pair is not None:
                    self._own(u).pop(v, None)
                    self._own(v).pop(u, None)
                continue
            ordered, metas = _ordered(facts)
            data = {"facts": ordered, "meta": metas}
            self._own(u)[v] = data
            self._own(v)[u] = data

    def _drop_node(self, n: str) -> None:
        adj = self.new.graph._adj
        for other in list(adj.get(n, ())):
            pair = adj[n][other]
            for e in pair["facts"]:
                _uncount(self.new.term_counts, e.predicate)
            if other != n:
                self._own(other).pop(n, None)
        adj.pop(n, None)
        self.new.graph._node.pop(n, None)

    def _relabel(self, nodes: set[str]) -> None:
        """Made labels of the hubs among `nodes`, from their parts as they are now."""
        new = self.new
        for n in nodes:
            if n in new.made and (n not in new.hubs or n not in new.classes):
                new.made.discard(n)
                new.labels.pop(n, None)
        for n in nodes:
            if n in new.hubs and (n in new.made or not new.labels.get(n)):
                new.labels[n] = hub_label(new, n)
                new.made.add(n)


def _uncount(counts: dict[str, int], predicate: str) -> None:
    term = _term_of(predicate)
    counts[term] -= 1
    if not counts[term]:
        del counts[term]


def _published(d: _Data, n: str) -> str | None:
    found = d.published.get(n)
    return found[2] if found is not None else None


_About = dict[str, list[tuple[str, Any, str]]]  # node -> (predicate, object, graph) of its statements


def _read_about(store: Store, nodes: Iterable[str]) -> _About:
    """Every statement of the data graphs with one of `nodes` as subject."""
    out: _About = {}
    native = store.oxigraph
    if native is not None:
        for n in nodes:
            rows = out[n] = []
            for q in native.quads_for_pattern(ox.NamedNode(n), None, None, None):
                g = q.graph_name
                if type(g) is _NAMED and data_graph(g.value):
                    rows.append((q.predicate.value, q.object, g.value))
        return out
    for n in nodes:  # memory:, sparql: (small writes; one request per node on sparql:)
        out[n] = [
            (q.predicate.value, q.object, q.graph_name.value)  # type: ignore[union-attr]
            for q in store.match(subject=ox.NamedNode(n))
        ]
    return out


def _read_pointing(store: Store, nodes: Iterable[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Every statement of the data graphs from an IRI to one of `nodes`: (subject, predicate, graph)."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    native = store.oxigraph
    if native is not None:
        for n in nodes:
            rows = out[n] = []
            for q in native.quads_for_pattern(None, None, ox.NamedNode(n), None):
                g = q.graph_name
                if type(g) is _NAMED and type(q.subject) is _NAMED and data_graph(g.value):
                    rows.append((q.subject.value, q.predicate.value, g.value))
        return out
    for n in nodes:
        out[n] = [
            (q.subject.value, q.predicate.value, q.graph_name.value)  # type: ignore[union-attr]
            for q in store.match(obj=ox.NamedNode(n))
            if type(q.subject) is _NAMED
        ]
    return out


def _read_citing(store: Store, sources: Iterable[str]) -> set[str]:
    """The IRIs that cite one of `sources` (pg:source)."""
    found: set[str] = set()
    source = ox.NamedNode(str(PG.source))
    for src in sources:
        for q in store.match(predicate=source, obj=ox.NamedNode(src)):
            if type(q.subject) is _NAMED:
                found.add(q.subject.value)
    return found


# ---------------------------------------------------------------------------------- the cache


class ProjectionCache:
    """Keeps the projection of the store's current version.

    Without `follow()`, rebuilt once after each write (by the first reader that asks). Once it
    follows the store, each write through it updates the projection from what the write changed
    (`update`) before the write returns, and readers always get the projection in place without
    waiting: the one of the write before while a write is being made."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._current: Projection | None = None
        self._following = False
        self.updates = 0  # writes followed node by node (for the bench and tests)
        self.rebuilds = 0  # writes that needed a rebuild

    @property
    def current(self) -> Projection | None:
        """The projection built last, whatever store version it was built for (None before the first)."""
        return self._current

    def adopt(self, proj: Projection) -> None:
        """Keep a projection made elsewhere (loaded from a snapshot) for its store version."""
        with self._lock:
            self._current = proj

    def follow(self) -> None:
        """From now on, keep up with the store's writes as they are made (see the class)."""
        self._following = True

    def changed(self, change: Change) -> Projection | None:
        """Take a write made through the store (its listener, called before the write returns):
        the projection updated, else rebuilt. Returns the new projection (None if none was built yet)."""
        with self._lock:
            current = self._current
            if current is None:
                return None
            if current.version == change.version:
                return current
            try:
                proj = update(current, self.store, change)
                self.updates += 1
            except NeedsRebuild:
                proj = build(self.store)
                self.rebuilds += 1
            except Exception:  # never the write's failure: a rebuild is always right
                log.exception("updating the projection failed; rebuilding it")
                proj = build(self.store)
                self.rebuilds += 1
            self._current = proj
            return proj

    def get(self) -> Projection:
        current = self._current
        if current is not None and (current.version == self.store.version or self._following):
            return current
        with self._lock:
            if self._current is None or (self._current.version != self.store.version and not self._following):
                self._current = build(self.store)
            return self._current
