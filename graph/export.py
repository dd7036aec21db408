"""Export the entity graph, or a part of it, for visualization tools and other RDF stores.

A `Subgraph` is chosen over the projection (the whole graph, the neighbourhood of one
entity, or the union of a path query's answer; `as_of` and a minimum claim status filter
facts and n-ary nodes), then written as GraphML, GEXF 1.3 (time spells for Gephi's
timeline), Cytoscape desktop's .cyjs, or RDF (Turtle, N-Quads, TriG, JSON-LD) of its nodes;
an entity's neighbourhood is also given as Cytoscape.js elements (`cytoscape_elements`).

Every writer is a generator of chunks: the output is never held in memory, so a graph
of a million triples streams to a client or a file with memory bounded by the projection
(networkx's GraphML writer builds the whole XML tree and took 8.7 s at 1M, ENGINE_NOTES).
The writers render a batch of elements at a time as columns joined by C code (`_rows`):
each distinct value (a date, a status, a predicate) is escaped and marked up once, and a
batch is escaped only when a search over all of it finds a character that needs it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import chain, count, islice, repeat
from operator import attrgetter, itemgetter
from typing import Any, TypeVar
from xml.sax.saxutils import escape, quoteattr

import networkx as nx
import pyoxigraph as ox
from oxrdflib._converter import to_ox
from rdflib import Graph, URIRef
from rdflib.term import Node

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.formats import RDF_FORMATS
from pactgraph.graph.paths import BUDGET, MAX_HOPS, STATUSES, PathQuery, find_paths
from pactgraph.graph.projection import OPEN_END, Edge, Projection, fact_days, holds_on
from pactgraph.graph.store import _STAGING, Store
from pactgraph.ontology import GRAPH_BASE, PG

MAX_DEPTH = MAX_HOPS
CHUNK = 1 << 16  # bytes handed to the client or file at a time
_BATCH = 2048  # node IRIs per VALUES block: large enough to amortise a query, small enough to hold

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# Entity IRIs (…/id/state/IRN) have a slash in their local part, which a prefixed name could
# only write escaped (id:state\/IRN): they stay full IRIs.
_PREFIXES = {
    "pg": str(PG),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "owl": "http://www.w3.org/2002/07/owl#",
}


@dataclass(frozen=True)
class Format:
    """One export format: its name, media type and file extension."""

    name: str
    media_type: str
    extension: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("graphml", "application/graphml+xml", "graphml"),
        Format("gexf", "application/gexf+xml", "gexf"),
        Format("cyjs", "application/json", "cyjs"),
        Format("turtle", "text/turtle; charset=utf-8", "ttl"),
        Format("nquads", "application/n-quads", "nq"),
        Format("trig", "application/trig", "trig"),
        Format("jsonld", "application/ld+json", "jsonld"),
    )
}
_ALIASES = {"ttl": "turtle", "nq": "nquads", "json-ld": "jsonld", "cytoscape": "cyjs", "gml": "graphml"}
RDF_EXPORTS = ("turtle", "nquads", "trig", "jsonld")


def export_format(name: str) -> Format:
    """The format called `name` (or a common alias), else BAD_INPUT listing the ones there are."""
    key = name.strip().lower()
    found = FORMATS.get(_ALIASES.get(key, key))
    if found is None:
        raise PactgraphError(
            Kind.BAD_INPUT, f"unknown export format {name!r}: use one of {', '.join(FORMATS)}"
        )
    return found


# ---------------------------------------------------------------------------------- node details


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """What the projection does not keep about a node: codes, its own period and claim status."""

    iso: str | None = None
    wikidata: str | None = None
    start: str | None = None
    end: str | None = None
    status: str | None = None  # confirmed | reported | disputed | denied, for n-ary facts


# Property local name -> (NodeInfo field, rank): where a node has several, the period comes
# from pg:start before pg:date before pg:signingDate (and pg:end before pg:expiry), as in the
# projection, so node and edge dates agree.
_INFO_PROPS = {
    "isoAlpha3": ("iso", 0),
    "wikidataId": ("wikidata", 0),
    "start": ("start", 0),
    "date": ("start", 1),
    "signingDate": ("start", 2),
    "end": ("end", 0),
    "expiry": ("end", 1),
    "status": ("status", 0),
}
_STATUS_NAME = {str(PG[s.capitalize()]): s for s in STATUSES}


def _info_query(iris: list[str] | None) -> str:
    """One query for the details of `iris`, or of every subject (None)."""
    if iris is None:
        # One branch per property, answering the property and status as short literals: Oxigraph
        # then decodes only subjects and values (a third fewer string lookups at 1M triples).
        branches = [f'{{ ?s <{PG}{p}> ?o BIND("{p}" AS ?p) }}' for p in _INFO_PROPS if p != "status"]
        branches += [
            f'{{ ?s <{PG.status}> <{iri}> BIND("status" AS ?p) BIND("{name}" AS ?o) }}'
            for iri, name in _STATUS_NAME.items()
        ]
        return f"SELECT ?s ?p ?o WHERE {{ {' UNION '.join(branches)} }}"
    # One VALUES block and a FILTER, not two VALUES blocks: Oxigraph joins those as a cross
    # product first (8 s for 256 nodes at 1M triples).
    props = ", ".join(f"<{PG}{p}>" for p in _INFO_PROPS)
    subjects = " ".join(str(ox.NamedNode(i)) for i in iris)
    return f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {subjects} }} ?s ?p ?o FILTER(?p IN ({props})) }}"


def _info_rows(store: Store, iris: list[str] | None) -> Iterator[tuple[str, str, str]]:
    """(subject, property local name, value) rows, status values as names (confirmed…)."""
    pg = str(PG)
    native = store.oxigraph
    if native is not None:
        # Plain strings straight from Oxigraph: converting rows to rdflib terms costs more than the query.
        solutions = native.query(_info_query(iris))
        assert isinstance(solutions, ox.QuerySolutions)
        rows: Iterable[tuple[str, str, str]] = (
            (s.value, p.value, o.value) for s, p, o in solutions if s and p and o
        )
    elif store.kind == "memory":
        # rdflib's evaluator scans the dataset for a VALUES join; its index answers per subject.
        subjects: list[URIRef | None] = [URIRef(i) for i in iris] if iris is not None else [None]
        rows = (
            (str(found), prop, str(o))
            for subject in subjects
            for prop in _INFO_PROPS
            for found, _, o in store.dataset.triples((subject, PG[prop], None))
        )
    else:
        rows = ((str(r["s"]), str(r["p"]), str(r["o"])) for r in store.select(_info_query(iris)))
    for s, p, o in rows:
        yield s, p.removeprefix(pg), _STATUS_NAME.get(o, o)


_FIELDS = ("iso", "wikidata", "start", "end", "status")
# A line with a space at either end, or an empty one: a value `strip` would change.
_UNSTRIPPED = re.compile(r"^\s|\s$|^$", re.MULTILINE)


class NodeDetails(Mapping[str, NodeInfo]):
    """Node details as one dict per NodeInfo field: at a million triples, building a NodeInfo
    per node costs more than writing the nodes; writers read the fields (`column`) and a
    NodeInfo is made only when one is asked for."""

    def __init__(self, columns: dict[str, dict[str, str]]) -> None:
        self.columns = columns
        self._nodes: set[str] | None = None

    def column(self, field: str) -> Mapping[str, str]:
        return self.columns[field]

    def __getitem__(self, node: str) -> NodeInfo:
        values = [self.columns[f].get(node) for f in _FIELDS]
        if values == [None] * len(_FIELDS):
            raise KeyError(node)
        return NodeInfo(*values)

    def _all(self) -> set[str]:
        if self._nodes is None:
            self._nodes = set().union(*self.columns.values())
        return self._nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _columns(details: Mapping[str, NodeInfo]) -> NodeDetails:
    """`details` by field (as they are when read by `node_info` for the whole graph)."""
    if isinstance(details, NodeDetails):
        return details
    columns: dict[str, dict[str, str]] = {f: {} for f in _FIELDS}
    for n, info in details.items():
        for f in _FIELDS:
            value = getattr(info, f)
            if value:
                columns[f][n] = value
    return NodeDetails(columns)


class _PairSink:
    """Oxigraph's CSV of a (subject, value) query, read as Oxigraph writes it: the dict of
    values is kept, never the whole text. `plain` turns false at anything the fast reading
    cannot take exactly (a quoted field, a value with spaces around it, a line that is not two
    fields); `rows` counts the lines, so a subject with several values shows."""

    def __init__(self, canon: dict[str, str]) -> None:
        self.found: dict[str, str] = {}
        self.canon = canon  # one string per subject across the queries
        self.rows = 0
        self.plain = True
        self._rest = b""
        self._header = True

    def write(self, data: bytes) -> int:
        if self.plain:
            text = self._rest + data
            cut = text.rfind(b"\r\n")
            if cut < 0:
                self._rest = text
            else:
                self._rest = text[cut + 2 :]
                self._take(text[:cut])
        return len(data)

    def _take(self, block: bytes) -> None:
        if b'"' in block:
            self.plain = False
            return
        lines = block.decode("utf-8").split("\r\n")
        if self._header:
            lines, self._header = lines[1:], False
        rows = list(map(str.split, lines, repeat(",")))
        if any(len(r) != 2 for r in rows):
            self.plain = False
            return
        subjects = list(map(_FIRST, rows))
        values = list(map(_SECOND, rows))
        if _UNSTRIPPED.search("\n".join(values)):
            self.plain = False
            return
        self.rows += len(rows)
        self.found.update(zip(map(self.canon.setdefault, subjects, subjects), values, strict=True))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.plain and self._rest:
            self._take(self._rest)


_FIRST, _SECOND = itemgetter(0), itemgetter(1)


def _pairs(native: ox.Store, query: str, canon: dict[str, str]) -> dict[str, str]:
    """Subject -> value of a two-variable query: the smallest stripped non-empty value where a
    subject has several. Written as CSV by Oxigraph and split by C code as it comes (several
    times faster than taking the solutions term by term); anything unusual is read again by
    the csv module and sorted out value by value."""
    solutions = native.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    sink = _PairSink(canon)
    solutions.serialize(sink, format=ox.QueryResultsFormat.CSV)  # type: ignore[arg-type]
    sink.close()
    if sink.plain and len(sink.found) == sink.rows:
        return sink.found
    solutions = native.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    text = (solutions.serialize(format=ox.QueryResultsFormat.CSV) or b"").decode("utf-8")
    found: dict[str, str] = {}
    for row in islice(csv.reader(io.StringIO(text)), 1, None):
        if len(row) != 2:
            continue
        s, value = row[0], row[1].strip()
        if value and (s not in found or value < found[s]):
            found[canon.setdefault(s, s)] = value
    return found


def _every_info(native: ox.Store) -> NodeDetails:
    """Every subject's details from Oxigraph, one plain query per property."""
    best: dict[str, dict[str, str]] = {field: {} for field in _FIELDS}
    names = " ".join(f'(<{iri}> "{name}")' for iri, name in _STATUS_NAME.items())
    canon: dict[str, str] = {}
    # Lower rank first: a node keeps the smallest value of the best-ranked property it has.
    for prop, (field, _rank) in sorted(_INFO_PROPS.items(), key=lambda item: item[1][1]):
        if prop == "status":  # statuses as their names, by the engine
            query = f"SELECT ?s ?o WHERE {{ VALUES (?status ?o) {{ {names} }} ?s <{PG.status}> ?status }}"
        else:
            query = f"SELECT ?s ?o WHERE {{ ?s <{PG}{prop}> ?o }}"
        found = _pairs(native, query, canon)
        slot = best[field]
        if slot:
            for s, value in found.items():
                slot.setdefault(s, value)  # a better-ranked property already there wins
        else:
            slot.update(found)
    return NodeDetails(best)


def projection_details(proj: Projection) -> NodeDetails:
    """Every node's details as the projection keeps them (its codes and its facts' records: the
    same choices `node_info` makes reading the store), made once per projection."""
    found: NodeDetails | None = proj.__dict__.get("_export_details")
    if found is not None:
        return found
    columns: dict[str, dict[str, str]] = {f: {} for f in _FIELDS}
    iso, wikidata = columns["iso"], columns["wikidata"]
    for n, (code, qid) in proj.codes.items():
        if code:
            iso[n] = code
        if qid:
            wikidata[n] = qid
    start, end, status = columns["start"], columns["end"], columns["status"]
    for n, rec in proj.records.items():
        if rec[0]:
            start[n] = rec[0]
        if rec[1]:
            end[n] = rec[1]
        if rec[8]:
            status[n] = rec[8]
    found = proj.__dict__["_export_details"] = NodeDetails(columns)
    return found


def details_of(
    proj: Projection, store: Store | None, nodes: Iterable[str] | None = None
) -> Mapping[str, NodeInfo]:
    """Node details from the projection when it keeps them (built from a store), else the store's."""
    if proj.schema is not None:
        return projection_details(proj)
    if store is None:
        return {}
    return node_info(store, nodes)


def node_info(store: Store, nodes: Iterable[str] | None = None) -> Mapping[str, NodeInfo]:
    """ISO alpha-3 code, Wikidata id, period and status of `nodes` (every subject when None),
    read from the store by one query (batched by VALUES for a given set): the projection
    does not keep them."""
    if nodes is None and store.oxigraph is not None:
        return _every_info(store.oxigraph)
    found: dict[str, dict[str, tuple[int, str]]] = {}
    batches: Iterable[list[str] | None]
    if nodes is None:
        batches = [None]
    else:
        it = iter(sorted(set(nodes)))
        batches = iter(lambda: list(islice(it, 4096)), [])
    for batch in batches:
        for s, p, o in _info_rows(store, batch):
            key, rank = _INFO_PROPS[p]
            value = o.strip()
            if key == "status" and value not in STATUSES:
                continue
            slot = found.setdefault(s, {})
            if value and (key not in slot or (rank, value) < slot[key]):
                slot[key] = (rank, value)
    return {s: NodeInfo(**{k: v for k, (_, v) in slot.items()}) for s, slot in found.items()}


# ---------------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class Scope:
    """Which part of the graph to export: all of it, the neighbourhood of `around`, or the
    answer of a path query; `as_of` and `min_status` filter facts and n-ary nodes."""

    around: str | None = None  # an entity IRI
    depth: int = 1
    paths: PathQuery | None = None
    as_of: date | None = None
    min_status: str = "denied"

    def __post_init__(self) -> None:
        if not 1 <= self.depth <= MAX_DEPTH:
            raise PactgraphError(Kind.BAD_INPUT, f"depth must be between 1 and {MAX_DEPTH}, not {self.depth}")
        if self.min_status not in STATUSES:
            raise PactgraphError(
                Kind.BAD_INPUT, f"status must be one of {', '.join(STATUSES)}, not {self.min_status!r}"
            )
        if self.around is not None and self.paths is not None:
            raise PactgraphError(Kind.BAD_INPUT, "give either around= or from=/to=, not both")

    @property
    def filtered(self) -> bool:
        return self.as_of is not None or self.min_status != "denied"


@dataclass
class Subgraph:
    """The nodes of an export and the facts between them that pass its scope."""

    proj: Projection
    scope: Scope
    nodes: list[str]  # sorted, so exports of one store version are byte-identical
    info: Mapping[str, NodeInfo] | None  # None: read from `store` when the nodes are written
    name: str
    root: str | None = None
    members: Container[str] | None = None  # None: every node of the projection
    chosen: frozenset[tuple[str, str, str]] | None = None  # a path query's facts, exactly
    store: Store | None = None

    def details(self) -> Mapping[str, NodeInfo]:
        """Codes, period and status of the nodes: from the projection, which keeps them (one built
        by hand does not: then read from the store when the first node is written)."""
        if self.info is None:
            self.info = details_of(self.proj, self.store)
        return self.info

    def member(self, n: str) -> bool:
        return n in self.proj.graph if self.members is None else n in self.members

    def keep(self, e: Edge) -> bool:
        """Whether a fact between two members belongs to the export."""
        if self.chosen is not None:
            return (e.subject, e.predicate, e.object) in self.chosen
        return _fact_ok(e, self.scope)

    def node_ok(self, n: str) -> bool:
        return _node_ok(self.proj, n, self.details().get(n), self.scope)

    def facts(self) -> Iterator[Edge]:
        """Every exported fact once, grouped by node pair, without building a list."""
        # networkx's adjacency dict itself: its views cost a Python call per node at a million edges.
        adj: dict[str, dict[str, dict[str, Any]]] = self.proj.graph._adj
        members = self.members
        every = self.chosen is None and not self.scope.filtered
        for u in self.nodes:
            for v, data in adj[u].items():
                if v < u or (members is not None and v not in members):
                    continue
                if every:
                    yield from data["facts"]
                else:
                    for e in data["facts"]:
                        if self.keep(e):
                            yield e

    def fact_batches(self, size: int) -> Iterator[list[Edge]]:
        """The facts of `facts()`, in the same order, as lists of about `size` (whole node pairs)."""
        if self.chosen is not None or self.scope.filtered or self.members is not None:
            facts = self.facts()
            while some := list(islice(facts, size)):
                yield some
            return
        # The whole graph unfiltered, the largest export: whole adjacency lists per comprehension.
        adj: dict[str, dict[str, dict[str, Any]]] = self.proj.graph._adj
        batch: list[Edge] = []
        facts_of = itemgetter("facts")
        for u in self.nodes:
            # The neighbours v >= u (each pair once), filtered and looked up in C.
            near = adj[u]
            batch += chain.from_iterable(map(facts_of, map(near.__getitem__, filter(u.__le__, near))))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def has_fact(self, s: str, p: str, o: str) -> bool:
        """Whether the statement (s, p, o) is one of the exported facts."""
        if not (self.member(s) and self.member(o)):
            return False
        data = self.proj.graph._adj.get(s, {}).get(o)  # the raw dicts: views cost a call per lookup
        return data is not None and any(
            e.subject == s and e.predicate == p and e.object == o and self.keep(e) for e in data["facts"]
        )

    def count_facts(self) -> int:
        return sum(1 for _ in self.facts())


def _fact_ok(e: Edge, scope: Scope) -> bool:
    if STATUSES.get(e.status, 3) < STATUSES[scope.min_status]:
        return False
    return scope.as_of is None or holds_on(e, scope.as_of)


def _node_ok(proj: Projection, n: str, info: NodeInfo | None, scope: Scope) -> bool:
    """An n-ary fact or an organisation not known to hold on the date (graph/dates.py's rule, as
    the projection computed it for the node), or a claim below the status, is left out."""
    if info is not None and info.status is not None and STATUSES[info.status] < STATUSES[scope.min_status]:
        return False
    if scope.as_of is None:
        return True
    first, last = proj.node_days.get(n, (0, OPEN_END))
    return first <= scope.as_of.toordinal() <= last


def _filtered_view(proj: Projection, scope: Scope) -> nx.Graph:
    def edge_ok(u: str, v: str) -> bool:
        return any(_fact_ok(e, scope) for e in proj.graph[u][v]["facts"])

    return nx.subgraph_view(proj.graph, filter_edge=edge_ok) if scope.filtered else proj.graph


def _suffix(scope: Scope) -> str:
    parts = []
    if scope.as_of is not None:
        parts.append(f"as of {scope.as_of.isoformat()}")
    if scope.min_status != "denied":
        parts.append(f"status {scope.min_status} or above")
    return f" ({', '.join(parts)})" if parts else ""


def select(store: Store, proj: Projection, scope: Scope, budget: int = BUDGET) -> Subgraph:
    """The subgraph a scope asks for, with the node details the writers need (a path query's
    search bounded by `budget` partial paths: graph/paths.py `find_paths`)."""
    if scope.paths is not None:
        return _select_paths(store, proj, scope, scope.paths, budget)
    if scope.around is not None:
        return _select_around(store, proj, scope, scope.around)
    name = "pactgraph" + _suffix(scope)
    if not scope.filtered:
        return Subgraph(proj, scope, sorted(proj.graph), None, name, store=store)
    # Which nodes hold on the date or pass the status is known only from every node's details.
    info = details_of(proj, store)
    nodes = sorted(n for n in proj.graph if _node_ok(proj, n, info.get(n), scope))
    return Subgraph(proj, scope, nodes, info, name, members=set(nodes))


def _select_around(store: Store, proj: Projection, scope: Scope, root: str) -> Subgraph:
    if root not in proj.graph:
        raise PactgraphError(Kind.NOT_FOUND, f"{proj.label(root)} is not linked to anything in the graph")
    view = _filtered_view(proj, scope)
    reached = set(nx.single_source_shortest_path_length(view, root, cutoff=scope.depth))
    info = details_of(proj, store, reached)
    if scope.filtered:
        # Nodes outside the date or status go, and with them what was reached only through them.
        valid = {n for n in reached if n == root or _node_ok(proj, n, info.get(n), scope)}
        reached = set(nx.single_source_shortest_path_length(view.subgraph(valid), root, cutoff=scope.depth))
    name = f"around {proj.label(root)} (depth {scope.depth})"
    return Subgraph(proj, scope, sorted(reached), info, name + _suffix(scope), root, set(reached))


def _select_paths(store: Store, proj: Projection, scope: Scope, q: PathQuery, budget: int) -> Subgraph:
    result = find_paths(proj, q, budget)
    nodes: set[str] = {*q.sources, q.target}
    chosen: set[tuple[str, str, str]] = set()
    found = [p for group in result["paths"] for p in group["paths"]]
    found += [p for c in result["connections"] for p in c["paths"]]
    for path in found:
        nodes.update(n["id"] for n in path["nodes"])
        for e in path["edges"]:
            forward = e["direction"] == "forward"
            subject, obj = (e["source"], e["target"]) if forward else (e["target"], e["source"])
            chosen.add((subject, e["predicate"], obj))
    sources = ", ".join(proj.label(s) for s in q.sources)
    name = f"paths from {sources} to {proj.label(q.target)}"
    return Subgraph(
        proj,
        scope,
        sorted(nodes),
        details_of(proj, store, nodes),
        name + _suffix(scope),
        q.target,
        nodes,
        frozenset(chosen),
    )


# ---------------------------------------------------------------------------------- values

# Most values (IRIs, dates, statuses) need no escaping: one search for a character that does
# decides, and only the rest go through saxutils. Characters XML 1.0 cannot hold are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTR_SPECIAL = re.compile('[&<>"\x00-\x1f\ud800-\udfff\ufffe\uffff]')


def _xml_text(value: str) -> str:
    """Text safe for XML 1.0: control characters dropped, markup escaped."""
    if not _TEXT_SPECIAL.search(value):
        return value
    return escape(_NOT_XML.sub("", value))


def _xml_attr(value: str) -> str:
    """A quoted attribute value; tabs and newlines kept as character references."""
    if not _ATTR_SPECIAL.search(value):
        return f'"{value}"'
    return quoteattr(_NOT_XML.sub("", value))


def _graph_iri(name: str) -> str:
    return name if ":" in name else GRAPH_BASE + name


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


_NODE_DETAILS = ("iso", "wikidata", "start", "end", "status")


def node_values(proj: Projection, n: str, info: NodeInfo | None) -> dict[str, Any]:
    """A node's attributes, absent ones left out (never an empty string or None)."""
    values: dict[str, Any] = {"id": n, "label": proj.labels.get(n) or proj.label(n)}
    cls = proj.classes.get(n)
    if cls:
        values["class"] = cls
    if info is not None:
        for key in _NODE_DETAILS:
            value = getattr(info, key)
            if value:
                values[key] = value
    values["hub"] = n in proj.hubs
    return values


def edge_values(proj: Projection, e: Edge) -> dict[str, Any]:
    """A fact's attributes in its RDF direction (subject → object), absent ones left out."""
    values: dict[str, Any] = {
        "predicate": e.predicate,
        "reading": proj.readings.get(e.predicate, (_local(e.predicate), ""))[0],
        "start": e.start,
        "end": e.end,
        "status": e.status,
        "source": " ".join(e.sources),
        "graph": _graph_iri(e.graph) if e.graph else None,
        "quote": e.quote,
        **_time_values(e),
    }
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _time_values(e: Edge) -> dict[str, Any]:
    """What a fact's start and end do not say, only where it applies: an undated claim and the
    date it is known from, "ongoing as of" a day, an end that is the first day it no longer held."""
    out: dict[str, Any] = {}
    if e.undated:
        out["undated"] = True
        if e.known_from:
            out["known_from"] = e.known_from
    if e.ongoing:
        out["ongoing_as_of"] = e.ongoing
    if e.exclusive_end:
        out["end_exclusive"] = True
    return out


# Attributes `_time_values` may add, with their GraphML/GEXF types (absent when they do not apply).
TIME_ATTRIBUTES = (
    ("undated", "boolean"),
    ("known_from", "string"),
    ("ongoing_as_of", "string"),
    ("end_exclusive", "boolean"),
)


Progress = Callable[[int], None]
T = TypeVar("T")
K = TypeVar("K")
_ROWS = 256  # elements rendered per chunk: one join and one yield each, not one per element


def _rendered(
    items: Iterable[T], render: Callable[[T], str], progress: Progress | None, done: int = 0
) -> Iterator[str]:
    """Items rendered in batches; `progress` hears the running count (starting after `done`)."""
    it = iter(items)
    while batch := list(islice(it, _ROWS)):
        yield "".join([render(x) for x in batch])
        done += len(batch)
        if progress is not None:
            progress(done)


def _rendered_nodes(
    sub: Subgraph, render: Callable[[str, NodeInfo | None], str], progress: Progress | None
) -> Iterator[str]:
    """The subgraph's nodes rendered in batches, with their details."""
    details = sub.details()
    return _rendered(sub.nodes, lambda n: render(n, details.get(n)), progress)


# A fact's fields, read by C code rather than a Python function per fact.
_SUBJECT, _PREDICATE, _OBJECT = attrgetter("subject"), attrgetter("predicate"), attrgetter("object")
_START, _END, _STATUS = attrgetter("start"), attrgetter("end"), attrgetter("status")
_SOURCES, _GRAPH, _QUOTE = attrgetter("sources"), attrgetter("graph"), attrgetter("quote")
_TIMES = attrgetter("undated", "known_from", "ongoing", "exclusive_end")


def _time_items(times: tuple[bool, str | None, str | None, bool]) -> list[tuple[str, str]]:
    """(attribute, text) pairs of `_time_values`, from a fact's `_TIMES`."""
    undated, known_from, ongoing, exclusive = times
    out = []
    if undated:
        out.append(("undated", "true"))
        if known_from:
            out.append(("known_from", known_from))
    if ongoing:
        out.append(("ongoing_as_of", ongoing))
    if exclusive:
        out.append(("end_exclusive", "true"))
    return out


FactLines = Callable[[list[Edge], int], Iterable[str]]


def _rendered_facts(sub: Subgraph, lines: FactLines, progress: Progress | None) -> Iterator[str]:
    """The subgraph's facts in batches, each rendered by `lines(batch, number of the first)`;
    `progress` hears the count of elements (nodes first)."""
    done = len(sub.nodes)
    first = 0
    for batch in sub.fact_batches(_ROWS):
        yield "".join(lines(batch, first))
        first += len(batch)
        if progress is not None:
            progress(done + first)


def _rows(*columns: str | Iterable[str]) -> Iterator[str]:
    """Rows of pieces, row by row, for one "".join: a str column is the same text on every row,
    any other one value per row. Joining pieces is C work throughout, several times faster than
    formatting a template per row."""
    cells = (repeat(c) if isinstance(c, str) else c for c in columns)
    return chain.from_iterable(zip(*cells, strict=False))  # the repeated columns never end


NodeLines = Callable[[list[str], Callable[[str], list[str | None]]], Iterable[str]]


def _rendered_node_lines(sub: Subgraph, lines: NodeLines, progress: Progress | None) -> Iterator[str]:
    """The subgraph's nodes in batches, each rendered by `lines(nodes, field)` where
    `field(name)` gives the batch's values of a NodeInfo field; `progress` hears the count."""
    details = _columns(sub.details())
    nodes = sub.nodes
    for first in range(0, len(nodes), _ROWS):
        batch = nodes[first : first + _ROWS]

        def field(name: str, batch: list[str] = batch) -> list[str | None]:
            return list(map(details.column(name).get, batch))

        yield "".join(lines(batch, field))
        if progress is not None:
            progress(first + len(batch))


_NONE_AS_EMPTY: dict[str | None, str] = {None: ""}


def _optional(
    values: list[str | None], before: str, after: str, special: re.Pattern[str], render: Callable[[str], str]
) -> list[str | Iterable[str]]:
    """Columns for `_rows` of a value a node may lack: `before`, the value, `after` where it has
    one and nothing where not, without a Python call per node; `render` (which escapes) per
    value when one of the batch has a character `special` finds."""
    texts: list[str] = list(map(_NONE_AS_EMPTY.get, values, values))  # type: ignore[arg-type]
    if special.search(" ".join(texts)):
        return [[render(v) if v else "" for v in texts]]
    if not any(texts):
        return []
    present = list(map(bool, texts))
    return [
        map({True: before, False: ""}.__getitem__, present),
        texts,
        map({True: after, False: ""}.__getitem__, present),
    ]


def _labels(proj: Projection, nodes: list[str]) -> list[str]:
    """The nodes' labels (`Projection.label`), looked up in C where a node has one."""
    found: list[str | None] = list(map(proj.labels.get, nodes))
    if None in found or "" in found:
        return [label or proj.label(n) for n, label in zip(nodes, found, strict=True)]
    return found  # type: ignore[return-value]


def _escaped(values: list[str], special: re.Pattern[str], escape: Callable[[str], str]) -> Iterable[str]:
    """`values` escaped by `escape`, or as they are when none has a character `special` finds
    (one search over the batch, not one per value)."""
    return map(escape, values) if special.search(" ".join(values)) else values


def _quoted(values: list[str]) -> Iterable[str]:
    """`values` as quoted XML attribute values."""
    return map(_xml_attr, values) if _ATTR_SPECIAL.search(" ".join(values)) else map('"{}"'.format, values)


def _plain_ids(sub: Subgraph, special: re.Pattern[str]) -> bool:
    """Whether no node a fact of the subgraph can end on has a character `special` finds, so
    ids go into markup as they are: one search over them all, not one per fact."""
    pool: Iterable[str] = sub.members if isinstance(sub.members, set | frozenset) else sub.proj.graph
    return not special.search(" ".join(pool)) and not special.search(" ".join(sub.nodes))


class _Pieces(dict[K, str]):
    """Rendered markup per distinct value (a date, a status, a list of sources, a predicate):
    facts share most of their values, so each is escaped and formatted once, and a fact is a
    few dictionary lookups. Bounded: emptied when it passes `limit` entries."""

    def __init__(self, render: Callable[[K], str], limit: int = 1 << 16) -> None:
        super().__init__()
        self.render, self.limit = render, limit

    def __missing__(self, key: K) -> str:
        if len(self) >= self.limit:
            self.clear()
        found = self[key] = self.render(key)
        return found


def _reading(proj: Projection, predicate: str) -> str:
    return proj.readings.get(predicate, (_local(predicate), ""))[0]


def _fact_pieces(
    proj: Projection, piece: Callable[[str, str], str]
) -> tuple[
    _Pieces[str | None],
    _Pieces[str | None],
    _Pieces[str | None],
    _Pieces[tuple[str, ...]],
    _Pieces[str | None],
]:
    """The markup of a fact's start, end, status, sources and graph, each rendered once per
    distinct value by `piece(name, value)`; absent values (None, "") render as nothing, as
    `edge_values` leaves them out."""

    def optional(name: str) -> Callable[[str | None], str]:
        return lambda value: piece(name, value) if value else ""

    def sources(value: tuple[str, ...]) -> str:
        joined = " ".join(value)
        return piece("source", joined) if joined else ""

    return (
        _Pieces(optional("start")),
        _Pieces(optional("end")),
        _Pieces(optional("status")),
        _Pieces(sources),
        _Pieces(lambda g: piece("graph", _graph_iri(g)) if g else ""),
    )


# ---------------------------------------------------------------------------------- GraphML

# (attribute name, GraphML type) for nodes and edges, declared once each as <key>.
GRAPHML_NODE_KEYS = (
    ("id", "string"),
    ("label", "string"),
    ("class", "string"),
    ("iso", "string"),
    ("wikidata", "string"),
    ("start", "string"),
    ("end", "string"),
    ("status", "string"),
    ("hub", "boolean"),
)
GRAPHML_EDGE_KEYS = (
    ("predicate", "string"),
    ("reading", "string"),
    ("start", "string"),
    ("end", "string"),
    ("status", "string"),
    ("source", "string"),
    ("graph", "string"),
    ("quote", "string"),
    *TIME_ATTRIBUTES,
)


def write_graphml(sub: Subgraph, progress: Progress | None = None) -> Iterator[str]:
    """GraphML: one node per entity or hub, one directed edge per fact, typed keys declared once.

    Node ids are the entity IRIs, so every reader keys nodes the way the store does; dates
    are strings because GraphML has no date type and a year must stay a year.
    """
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
        '  <key id="g_name" for="graph" attr.name="name" attr.type="string"/>\n'
    )
    for name, kind in GRAPHML_NODE_KEYS:
        yield f'  <key id="v_{name}" for="node" attr.name="{name}" attr.type="{kind}"/>\n'
    for name, kind in GRAPHML_EDGE_KEYS:
        yield f'  <key id="e_{name}" for="edge" attr.name="{name}" attr.type="{kind}"/>\n'
    yield (
        '  <graph id="pactgraph" edgedefault="directed">\n'
        f'    <data key="g_name">{_xml_text(sub.name)}</data>\n'
    )

    proj = sub.proj
    classes, hubs = proj.classes, proj.hubs

    def data(key: str) -> Callable[[str], str]:
        return lambda value: f'<data key="{key}">{_xml_text(value)}</data>'

    def optional(key: str) -> _Pieces[str | None]:
        render = data(key)
        return _Pieces(lambda value: render(value) if value else "")

    node_class = optional("v_class")

    def node_field(k: str, values: list[str | None]) -> list[str | Iterable[str]]:
        return _optional(values, f'<data key="v_{k}">', "</data>", _TEXT_SPECIAL, data(f"v_{k}"))

    hub = {True: '<data key="v_hub">true</data>', False: '<data key="v_hub">false</data>'}

    def nodes(batch: list[str], field: Callable[[str], list[str | None]]) -> Iterable[str]:
        return _rows(
            "    <node id=",
            _quoted(batch),
            '><data key="v_id">',
            _escaped(batch, _TEXT_SPECIAL, _xml_text),
            '</data><data key="v_label">',
            _escaped(_labels(proj, batch), _TEXT_SPECIAL, _xml_text),
            "</data>",
            map(node_class.__getitem__, map(classes.get, batch)),
            *(cell for k in _FIELDS for cell in node_field(k, field(k))),
            map(hub.__getitem__, map(hubs.__contains__, batch)),
            "</node>\n",
        )

    def predicate(p: str) -> str:
        reading = _reading(proj, p)
        return data("e_predicate")(p) + (data("e_reading")(reading) if reading else "")

    head = _Pieces(predicate)
    start, end, status, sources, graph = _fact_pieces(proj, lambda k, v: data(f"e_{k}")(v))
    quote = _Pieces[str | None](lambda q: data("e_quote")(q) if q else "")
    times = _Pieces[tuple[bool, str | None, str | None, bool]](
        lambda t: "".join(data(f"e_{k}")(v) for k, v in _time_items(t))
    )
    plain = _plain_ids(sub, _ATTR_SPECIAL)
    quote_mark = '"' if plain else ""

    def edges(batch: list[Edge], first: int) -> Iterable[str]:
        subjects, objects = map(_SUBJECT, batch), map(_OBJECT, batch)
        if not plain:
            subjects, objects = map(_xml_attr, subjects), map(_xml_attr, objects)
        return _rows(
            '    <edge id="e',
            map(str, count(first)),
            f'" source={quote_mark}',
            subjects,
            f"{quote_mark} target={quote_mark}",
            objects,
            f"{quote_mark}>",
            map(head.__getitem__, map(_PREDICATE, batch)),
            map(start.__getitem__, map(_START, batch)),
            map(end.__getitem__, map(_END, batch)),
            map(status.__getitem__, map(_STATUS, batch)),
            map(sources.__getitem__, map(_SOURCES, batch)),
            map(graph.__getitem__, map(_GRAPH, batch)),
            map(quote.__getitem__, map(_QUOTE, batch)),
            map(times.__getitem__, map(_TIMES, batch)),
            "</edge>\n",
        )

    yield from _rendered_node_lines(sub, nodes, progress)
    yield from _rendered_facts(sub, edges, progress)
    yield "  </graph>\n</graphml>\n"


# ---------------------------------------------------------------------------------- GEXF

GEXF_NODE_ATTRIBUTES = (
    ("class", "string"),
    ("iso", "string"),
    ("wikidata", "string"),
    ("start", "string"),
    ("end", "string"),
    ("status", "string"),
    ("hub", "boolean"),
)
GEXF_EDGE_ATTRIBUTES = (
    ("predicate", "string"),
    ("start", "string"),
    ("end", "string"),
    ("status", "string"),
    ("source", "string"),
    ("graph", "string"),
    ("quote", "string"),
    *TIME_ATTRIBUTES,
)


def spell_days(first: int, last: int) -> tuple[str | None, str | None] | None:
    """A GEXF spell as full dates from the first and last day a fact is known to hold (ordinals of
    `fact_days`; graph/dates.py's rule, as every `as_of` filter reads them), so Gephi's timeline
    shows a fact on the days an export `as_of` them would hold it. None when the fact holds at
    every date, or at none (an undated claim whose sources have no date), rather than a spell
    Gephi would reject."""
    if first == 0 and last == OPEN_END:
        return None
    if first > last or first == OPEN_END:
        return None
    return (
        date.fromordinal(first).isoformat() if first else None,
        date.fromordinal(last).isoformat() if last != OPEN_END else None,
    )


def spell(start: str | None, end: str | None) -> tuple[str | None, str | None] | None:
    """`spell_days` of a fact with these dates (no date that does not parse bounds anything)."""
    edge = Edge("", "", "", start, end, "confirmed", "", (), None)
    return spell_days(*fact_days(edge))


def _gexf_spells(days: tuple[int, int]) -> str:
    found = spell_days(*days)
    if found is None:
        return ""
    bounds = "".join(f' {k}="{v}"' for k, v in zip(("start", "end"), found, strict=True) if v)
    return f"<spells><spell{bounds}/></spells>"


def write_gexf(sub: Subgraph, progress: Progress | None = None) -> Iterator[str]:
    """GEXF 1.3, dynamic: spells on nodes and edges from their start and end, so Gephi's timeline
    plays the history (memberships joining, tenures changing, support ending)."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">\n'
        f"  <meta><creator>pactgraph</creator><description>{_xml_text(sub.name)}</description></meta>\n"
        '  <graph mode="dynamic" defaultedgetype="directed" timeformat="date" '
        'timerepresentation="interval">\n'
        '    <attributes class="node" mode="static">\n'
    )
    for name, kind in GEXF_NODE_ATTRIBUTES:
        yield f'      <attribute id="{name}" title="{name}" type="{kind}"/>\n'
    yield '    </attributes>\n    <attributes class="edge" mode="static">\n'
    for name, kind in GEXF_EDGE_ATTRIBUTES:
        yield f'      <attribute id="{name}" title="{name}" type="{kind}"/>\n'
    yield "    </attributes>\n    <nodes>\n"

    proj = sub.proj
    classes, hubs = proj.classes, proj.hubs

    def attvalue(key: str) -> Callable[[str], str]:
        return lambda value: f'<attvalue for="{key}" value={_xml_attr(value)}/>'

    def optional(key: str) -> _Pieces[str | None]:
        render = attvalue(key)
        return _Pieces(lambda value: render(value) if value else "")

    node_class = optional("class")

    def node_field(k: str, values: list[str | None]) -> list[str | Iterable[str]]:
        return _optional(values, f'<attvalue for="{k}" value="', '"/>', _ATTR_SPECIAL, attvalue(k))

    spells: _Pieces[tuple[int, int]] = _Pieces(_gexf_spells)
    node_days = proj.node_days

    hub = {True: '<attvalue for="hub" value="true"/>', False: '<attvalue for="hub" value="false"/>'}

    def nodes(batch: list[str], field: Callable[[str], list[str | None]]) -> Iterable[str]:
        return _rows(
            "      <node id=",
            _quoted(batch),
            " label=",
            _quoted(_labels(proj, batch)),
            "><attvalues>",
            map(node_class.__getitem__, map(classes.get, batch)),
            *(cell for k in _FIELDS for cell in node_field(k, field(k))),
            map(hub.__getitem__, map(hubs.__contains__, batch)),
            "</attvalues>",
            map(spells.__getitem__, (node_days.get(n, (0, OPEN_END)) for n in batch)),
            "</node>\n",
        )

    def predicate(p: str) -> str:
        reading = _reading(proj, p)
        label = f"label={_xml_attr(reading)}" if reading else ""
        return f"{label}><attvalues>{attvalue('predicate')(p)}"

    head = _Pieces(predicate)
    start, end, status, sources, graph = _fact_pieces(proj, lambda k, v: attvalue(k)(v))
    quote = _Pieces[str | None](lambda q: attvalue("quote")(q) if q else "")
    times = _Pieces[tuple[bool, str | None, str | None, bool]](
        lambda t: "".join(attvalue(k)(v) for k, v in _time_items(t))
    )
    plain = _plain_ids(sub, _ATTR_SPECIAL)
    quote_mark = '"' if plain else ""

    def edges(batch: list[Edge], first: int) -> Iterable[str]:
        subjects, objects = map(_SUBJECT, batch), map(_OBJECT, batch)
        if not plain:
            subjects, objects = map(_xml_attr, subjects), map(_xml_attr, objects)
        return _rows(
            '      <edge id="',
            map(str, count(first)),
            f'" source={quote_mark}',
            subjects,
            f"{quote_mark} target={quote_mark}",
            objects,
            f"{quote_mark} ",
            map(head.__getitem__, map(_PREDICATE, batch)),
            map(start.__getitem__, map(_START, batch)),
            map(end.__getitem__, map(_END, batch)),
            map(status.__getitem__, map(_STATUS, batch)),
            map(sources.__getitem__, map(_SOURCES, batch)),
            map(graph.__getitem__, map(_GRAPH, batch)),
            map(quote.__getitem__, map(_QUOTE, batch)),
            map(times.__getitem__, map(_TIMES, batch)),
            "</attvalues>",
            map(spells.__getitem__, map(fact_days, batch)),
            "</edge>\n",
        )

    yield from _rendered_node_lines(sub, nodes, progress)
    yield "    </nodes>\n    <edges>\n"
    yield from _rendered_facts(sub, edges, progress)
    yield "    </edges>\n  </graph>\n</gexf>\n"


# ---------------------------------------------------------------------------------- Cytoscape


def cytoscape_node(proj: Projection, n: str, info: NodeInfo | None) -> dict[str, Any]:
    values = node_values(proj, n, info)
    # "name" is the column Cytoscape desktop labels nodes with by default.
    return {"data": {**values, "name": values["label"]}}


def _cytoscape_values(values: dict[str, Any]) -> dict[str, Any]:
    """Edge attributes as Cytoscape names them: "source" is the first node there, so the
    evidence goes under "sources"; "interaction" is Cytoscape desktop's edge type column."""
    out = {k: v for k, v in values.items() if k not in ("reading", "source")}
    out["label"] = values["reading"]
    out["interaction"] = _local(values["predicate"])
    if "source" in values:
        out["sources"] = values["source"]
    return out


def cytoscape_edge(proj: Projection, e: Edge) -> dict[str, Any]:
    return {
        "data": {
            "id": f"{e.subject}|{e.predicate}|{e.object}",
            "source": e.subject,
            "target": e.object,
            **_cytoscape_values(edge_values(proj, e)),
        }
    }


def cytoscape_header(sub: Subgraph) -> dict[str, Any]:
    data: dict[str, Any] = {"name": sub.name}
    if sub.root is not None:
        data["root"] = sub.root
    return data


def cytoscape_elements(sub: Subgraph) -> list[dict[str, Any]]:
    """Nodes then edges as one list of Cytoscape.js elements (what `cy.add()` takes)."""
    details = sub.details()
    elements = [cytoscape_node(sub.proj, n, details.get(n)) for n in sub.nodes]
    elements.extend(cytoscape_edge(sub.proj, e) for e in sub.facts())
    return elements


# One encoder for every element: json.dumps with options builds a new encoder per call.
_to_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
# A string as that encoder writes it (its C function), without building a dict to encode.
_json_string: Callable[[str], str] = json.encoder.encode_basestring


def write_cytoscape(sub: Subgraph, progress: Progress | None = None) -> Iterator[str]:
    """A .cyjs file: `elements` split into `nodes` and `edges`, the form Cytoscape desktop
    imports (a flat list, as /neighbourhood answers, is only for Cytoscape.js); Cytoscape.js
    reads both."""
    header = {
        "format_version": "1.0",
        "generated_by": "pactgraph",
        "target_cytoscapejs_version": "~3",
        "data": cytoscape_header(sub),
    }
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "elements": {"nodes": [\n'

    def node(n: str, info: NodeInfo | None) -> str:
        return _to_json(cytoscape_node(sub.proj, n, info)) + ",\n"

    proj = sub.proj
    # An edge's attributes after its id and endpoints, in the order `_cytoscape_values` gives
    # them, as JSON members rendered once per distinct value.
    string = _json_string

    def member(key: str) -> Callable[[str], str]:
        return lambda value: f", {string(key)}: {string(value)}"

    def predicate(p: str) -> str:
        return f'"predicate": {string(p)}'

    def reading(p: str) -> str:
        text = _reading(proj, p)
        label = member("label")(text) if text else ""
        return f"{label}{member('interaction')(_local(p))}"

    head, tail = _Pieces(predicate), _Pieces(reading)
    start, end, status, _, graph = _fact_pieces(proj, lambda k, v: member(k)(v))
    sources: _Pieces[tuple[str, ...]] = _Pieces(
        lambda v: member("sources")(" ".join(v)) if v and " ".join(v) else ""
    )
    quote = _Pieces[str | None](lambda q: member("quote")(q) if q else "")
    times = _Pieces[tuple[bool, str | None, str | None, bool]](
        lambda t: "".join(f", {string(k)}: true" if v == "true" else member(k)(v) for k, v in _time_items(t))
    )

    def edges(batch: list[Edge], first: int) -> Iterable[str]:
        predicates = list(map(_PREDICATE, batch))
        ids = map("{}|{}|{}".format, map(_SUBJECT, batch), predicates, map(_OBJECT, batch))
        return _rows(
            '{"data": {"id": ',
            map(string, ids),
            ', "source": ',
            map(string, map(_SUBJECT, batch)),
            ', "target": ',
            map(string, map(_OBJECT, batch)),
            ", ",
            map(head.__getitem__, predicates),
            map(start.__getitem__, map(_START, batch)),
            map(end.__getitem__, map(_END, batch)),
            map(status.__getitem__, map(_STATUS, batch)),
            map(graph.__getitem__, map(_GRAPH, batch)),
            map(quote.__getitem__, map(_QUOTE, batch)),
            map(times.__getitem__, map(_TIMES, batch)),
            map(tail.__getitem__, predicates),
            map(sources.__getitem__, map(_SOURCES, batch)),
            "}},\n",
        )

    # Every element ends in ",\n"; JSON allows no comma after the last, so each list closes
    # with the last element's comma cut off by `_last_comma_cut`.
    yield from _last_comma_cut(_rendered_nodes(sub, node, progress))
    yield '], "edges": [\n'
    yield from _last_comma_cut(_rendered_facts(sub, edges, progress))
    yield "]}}\n"


def _last_comma_cut(chunks: Iterable[str]) -> Iterator[str]:
    """The chunks with the final ",\\n" made "\\n" (held back one chunk to know which is last)."""
    previous: str | None = None
    for chunk in chunks:
        if previous is not None:
            yield previous
        previous = chunk
    if previous is not None:
        yield previous[:-2] + "\n"


# ---------------------------------------------------------------------------------- RDF

OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal


def _statements(
    store: Store, iris: list[str]
) -> Iterator[tuple[ox.NamedNode, ox.NamedNode, OxTerm, ox.NamedNode]]:
    """Every quad whose subject is one of `iris`, from the store's engine (staging graphs of
    an ingest in progress left out)."""
    values = " ".join(str(ox.NamedNode(i)) for i in iris)
    query = f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
    native = store.oxigraph
    if native is not None:
        solutions = native.query(query)
        assert isinstance(solutions, ox.QuerySolutions)
        for s, p, o, g in solutions:
            named = (
                isinstance(s, ox.NamedNode) and isinstance(p, ox.NamedNode) and isinstance(g, ox.NamedNode)
            )
            if named and isinstance(o, ox.NamedNode | ox.BlankNode | ox.Literal) and not _staging(g.value):
                yield s, p, o, g
        return
    rows: Iterable[tuple[Node, Node, Node, Node]]
    if store.kind == "memory":
        # rdflib's evaluator scans the dataset for a VALUES join; its index answers per subject.
        rows = (q for i in iris for q in store.dataset.quads((URIRef(i), None, None, None)))  # type: ignore[misc]
    else:
        rows = ((r["s"], r["p"], r["o"], r["g"]) for r in store.select(query))
    for s, p, o, g in rows:
        name = g.identifier if isinstance(g, Graph) else g
        if (
            isinstance(s, URIRef)
            and isinstance(p, URIRef)
            and isinstance(name, URIRef)
            and not _staging(name)
        ):
            yield ox.NamedNode(str(s)), ox.NamedNode(str(p)), to_ox(o), ox.NamedNode(str(name))  # type: ignore[misc]


def _staging(graph: str) -> bool:
    return graph.startswith(_STAGING)


def _wanted(sub: Subgraph, include_literals: bool) -> Callable[[str, str, OxTerm], bool]:
    """Which statements of a node go out: its types and labels, the exported facts between nodes,
    and with `include_literals` its literals and links to sources and vocabulary too; never a
    link to a node outside the export (it would dangle) and never a blank node."""
    nodes = sub.proj.graph

    def wanted(s: str, p: str, o: OxTerm) -> bool:
        if isinstance(o, ox.BlankNode):
            return False
        if p == _RDF_TYPE or (p == _RDFS_LABEL and isinstance(o, ox.Literal)):
            return True
        if isinstance(o, ox.NamedNode) and o.value in nodes:
            return sub.has_fact(s, p, o.value)
        return include_literals

    return wanted


def _strip_prefixes(text: bytes) -> bytes:
    """A Turtle or TriG batch without its @prefix lines, declared once at the top instead."""
    lines = text.split(b"\n")
    i = 0
    while i < len(lines) and (lines[i].startswith(b"@prefix") or not lines[i].strip()):
        i += 1
    return b"\n".join(lines[i:])


def write_rdf(
    store: Store, sub: Subgraph, fmt: str, include_literals: bool = False, progress: Progress | None = None
) -> Iterator[bytes]:
    """The statements of the subgraph's nodes, batched by VALUES and serialized by Oxigraph.

    N-Quads and TriG keep each statement's named graph (its source); Turtle and JSON-LD give
    the merged triples. Batches are self-contained, so the output is valid as it streams.
    """
    rdf = RDF_FORMATS[fmt]
    wanted = _wanted(sub, include_literals)
    if fmt in ("turtle", "trig"):
        yield "".join(f"@prefix {k}: <{v}> .\n" for k, v in _PREFIXES.items()).encode()
    first = True
    if fmt == "jsonld":
        yield b"["
    for start in range(0, len(sub.nodes), _BATCH):
        batch = sub.nodes[start : start + _BATCH]
        rows = [(s, p, o, g) for s, p, o, g in _statements(store, batch) if wanted(s.value, p.value, o)]
        if progress is not None:
            progress(start + len(batch))
        if not rows:
            continue
        # Rows come subject by subject (the VALUES order), so Turtle groups each node's statements.
        if rdf.quads and fmt != "jsonld":
            if fmt == "trig":
                rows.sort(key=lambda r: r[3].value)  # one block per source graph and batch (stable)
            body = ox.serialize(
                [ox.Quad(s, p, o, g) for s, p, o, g in rows], format=rdf.oxigraph, prefixes=_PREFIXES
            )
        else:
            # a statement in several source graphs is one triple
            triples = list(dict.fromkeys(ox.Triple(s, p, o) for s, p, o, _ in rows))
            body = ox.serialize(triples, format=rdf.oxigraph, prefixes=_PREFIXES)
        body = body or b""
        if fmt in ("turtle", "trig"):
            yield _strip_prefixes(body)
        elif fmt == "jsonld":
            inner = body.strip()[1:-1].strip()
            if inner:
                yield (b"" if first else b",\n") + inner
                first = False
        else:
            yield body
    if fmt == "jsonld":
        yield b"]\n"


# ---------------------------------------------------------------------------------- entry point


def _encoded(chunks: Iterable[str | bytes]) -> Iterator[bytes]:
    """UTF-8 bytes in pieces of about CHUNK: few writes, bounded memory, one encode per piece.
    The first piece (a header) goes out alone, before the writer reads node details from the
    store, so a client sees the download start at once."""
    it = iter(chunks)
    for first in it:
        if first:
            yield first.encode("utf-8") if isinstance(first, str) else first
            break
    text: list[str] = []
    size = 0
    for chunk in it:
        if isinstance(chunk, bytes):
            if text:
                yield "".join(text).encode("utf-8")
                text, size = [], 0
            if chunk:
                yield chunk
            continue
        text.append(chunk)
        size += len(chunk)
        if size >= CHUNK:
            yield "".join(text).encode("utf-8")
            text, size = [], 0
    if text:
        yield "".join(text).encode("utf-8")


def export(
    store: Store | None,
    sub: Subgraph,
    fmt: str,
    include_literals: bool = False,
    progress: Progress | None = None,
) -> Iterator[bytes]:
    """The subgraph in `fmt` as a stream of byte chunks; `progress` hears elements written
    (nodes and edges; nodes only for RDF), see `total`. Only RDF formats read the store."""
    name = export_format(fmt).name
    if name == "graphml":
        return _encoded(write_graphml(sub, progress))
    if name == "gexf":
        return _encoded(write_gexf(sub, progress))
    if name == "cyjs":
        return _encoded(write_cytoscape(sub, progress))
    if store is None:
        raise PactgraphError(Kind.BAD_INPUT, f"a {name} export reads the store: give one")
    return _encoded(write_rdf(store, sub, name, include_literals, progress))


def total(sub: Subgraph, fmt: str) -> int:
    """How many elements `export` reports when done (for a progress bar)."""
    name = export_format(fmt).name
    return len(sub.nodes) if name in RDF_EXPORTS else len(sub.nodes) + sub.count_facts()


def filename(sub: Subgraph, fmt: str) -> str:
    """A download name that says what is inside: pactgraph-around-SYR-depth-1-as-of-2025-01-17.graphml."""
    scope = sub.scope
    if scope.paths is not None:
        parts = ["paths", *(_local(s) for s in scope.paths.sources), "to", _local(scope.paths.target)]
    elif scope.around is not None:
        parts = ["around", _local(scope.around), "depth", str(scope.depth)]
    else:
        parts = ["graph"]
    if scope.as_of is not None:
        parts += ["as-of", scope.as_of.isoformat()]
    if scope.min_status != "denied":
        parts.append(scope.min_status)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)).strip("-.")
    return f"pactgraph-{slug or 'graph'}.{export_format(fmt).extension}"


__all__ = [
    "FORMATS",
    "MAX_DEPTH",
    "Format",
    "NodeDetails",
    "NodeInfo",
    "Scope",
    "Subgraph",
    "cytoscape_elements",
    "export",
    "export_format",
    "filename",
    "node_info",
    "select",
    "total",
    "write_cytoscape",
    "write_gexf",
    "write_graphml",
    "write_rdf",
]
