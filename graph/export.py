"""Export the entity graph, or a part of it, for visualization tools and other RDF stores.

A `Subgraph` is chosen over the projection (the whole graph, the neighbourhood of one
entity, or the union of a path query's answer; `as_of` and a minimum claim status filter
facts and n-ary nodes), then written as GraphML, GEXF 1.3 (time spells for Gephi's
timeline), Cytoscape JSON, or RDF (Turtle, N-Quads, TriG, JSON-LD) of its nodes.

Every writer is a generator of chunks: the output is never held in memory, so a graph
of a million triples streams to a client or a file with memory bounded by the projection
(networkx's GraphML writer builds the whole XML tree and took 8.7 s at 1M, ENGINE_NOTES).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import islice
from typing import Any, TypeVar
from xml.sax.saxutils import escape, quoteattr

import networkx as nx
import pyoxigraph as ox
from oxrdflib._converter import to_ox
from rdflib import Graph, URIRef
from rdflib.term import Node

from graph.dates import parse_period
from graph.errors import Kind, PactgraphError
from graph.formats import RDF_FORMATS
from graph.paths import MAX_HOPS, STATUSES, PathQuery, find_paths
from graph.projection import Edge, Projection
from graph.store import _STAGING, Store
from ontology import GRAPH_BASE, PG

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


@dataclass(frozen=True)
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
        solutions = native.query(_info_query(iris), use_default_graph_as_union=True)
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


def node_info(store: Store, nodes: Iterable[str] | None = None) -> dict[str, NodeInfo]:
    """ISO alpha-3 code, Wikidata id, period and status of `nodes` (every subject when None),
    read from the store by one query (batched by VALUES for a given set): the projection
    does not keep them."""
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


@lru_cache(maxsize=1 << 16)
def _bounds(text: str) -> tuple[date, date] | None:
    """First and last day a date of any precision stands for; None when it is not a date."""
    try:
        period = parse_period(text)
    except (PactgraphError, ValueError):
        return None
    return period.earliest, period.latest


def _valid_on(start: str | None, end: str | None, day: date) -> bool:
    """Like graph.dates.valid_on, with parsed dates cached: an export tests every fact."""
    first = _bounds(start) if start else None
    if first is not None and first[0] > day:
        return False
    last = _bounds(end) if end else None
    return not (last is not None and last[1] < day)


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
    info: dict[str, NodeInfo] | None  # None: read from `store` when the nodes are written
    name: str
    root: str | None = None
    members: Container[str] | None = None  # None: every node of the projection
    chosen: frozenset[tuple[str, str, str]] | None = None  # a path query's facts, exactly
    store: Store | None = None

    def details(self) -> Mapping[str, NodeInfo]:
        """Codes, period and status of the nodes; a whole-graph export reads them from the store
        when the first node is written (in the stream, not before the response starts)."""
        if self.info is None:
            self.info = node_info(self.store) if self.store is not None else {}
        return self.info

    def member(self, n: str) -> bool:
        return n in self.proj.graph if self.members is None else n in self.members

    def keep(self, e: Edge) -> bool:
        """Whether a fact between two members belongs to the export."""
        if self.chosen is not None:
            return (e.subject, e.predicate, e.object) in self.chosen
        return _fact_ok(e, self.scope)

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
    return scope.as_of is None or _valid_on(e.start, e.end, scope.as_of)


def _node_ok(info: NodeInfo | None, scope: Scope) -> bool:
    """An n-ary fact or an organisation outside the date, or a claim below the status, is left out."""
    if info is None:
        return True
    if info.status is not None and STATUSES[info.status] < STATUSES[scope.min_status]:
        return False
    return scope.as_of is None or _valid_on(info.start, info.end, scope.as_of)


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


def select(store: Store, proj: Projection, scope: Scope) -> Subgraph:
    """The subgraph a scope asks for, with the node details the writers need."""
    if scope.paths is not None:
        return _select_paths(store, proj, scope, scope.paths)
    if scope.around is not None:
        return _select_around(store, proj, scope, scope.around)
    name = "pactgraph" + _suffix(scope)
    if not scope.filtered:
        return Subgraph(proj, scope, sorted(proj.graph), None, name, store=store)
    # Which nodes hold on the date or pass the status is known only from every node's details.
    info = node_info(store)
    nodes = sorted(n for n in proj.graph if _node_ok(info.get(n), scope))
    return Subgraph(proj, scope, nodes, info, name, members=set(nodes))


def _select_around(store: Store, proj: Projection, scope: Scope, root: str) -> Subgraph:
    if root not in proj.graph:
        raise PactgraphError(Kind.NOT_FOUND, f"{proj.label(root)} is not linked to anything in the graph")
    view = _filtered_view(proj, scope)
    reached = set(nx.single_source_shortest_path_length(view, root, cutoff=scope.depth))
    info = node_info(store, reached)
    if scope.filtered:
        # Nodes outside the date or status go, and with them what was reached only through them.
        valid = {n for n in reached if n == root or _node_ok(info.get(n), scope)}
        reached = set(nx.single_source_shortest_path_length(view.subgraph(valid), root, cutoff=scope.depth))
    name = f"around {proj.label(root)} (depth {scope.depth})"
    return Subgraph(proj, scope, sorted(reached), info, name + _suffix(scope), root, set(reached))


def _select_paths(store: Store, proj: Projection, scope: Scope, q: PathQuery) -> Subgraph:
    result = find_paths(proj, q)
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
        node_info(store, nodes),
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
    }
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _plain(value: Any) -> str:
    """A value as XML Schema writes it: booleans as true/false, never Python's True."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


Progress = Callable[[int], None]
T = TypeVar("T")
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


class _PerFact:
    """Renders the attribute block of a fact once per distinct (predicate, dates, status, evidence):
    the facts of one n-ary node share all but the predicate, so at a million facts most blocks
    are cache hits. Bounded: the cache is dropped when it passes `limit` entries."""

    def __init__(
        self, proj: Projection, render: Callable[[dict[str, Any]], str], limit: int = 1 << 16
    ) -> None:
        self.proj, self.render, self.limit = proj, render, limit
        self.cache: dict[tuple[Any, ...], str] = {}

    def __call__(self, e: Edge) -> str:
        key = (e.predicate, e.start, e.end, e.status, e.sources, e.graph, e.quote)
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) >= self.limit:
                self.cache.clear()
            found = self.cache[key] = self.render(edge_values(self.proj, e))
        return found


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

    def node(n: str, info: NodeInfo | None) -> str:
        values = node_values(sub.proj, n, info)
        hub = "true" if values.pop("hub") else "false"
        data = "".join([f'<data key="v_{k}">{_xml_text(v)}</data>' for k, v in values.items()])
        return f'    <node id={_xml_attr(n)}>{data}<data key="v_hub">{hub}</data></node>\n'

    block = _PerFact(
        sub.proj,
        lambda values: "".join(
            [f'<data key="e_{k}">{_xml_text(_plain(v))}</data>' for k, v in values.items()]
        ),
    )

    def edge(item: tuple[int, Edge]) -> str:
        i, e = item
        ends = f"source={_xml_attr(e.subject)} target={_xml_attr(e.object)}"
        return f'    <edge id="e{i}" {ends}>{block(e)}</edge>\n'

    yield from _rendered_nodes(sub, node, progress)
    yield from _rendered(enumerate(sub.facts()), edge, progress, len(sub.nodes))
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
)


def spell(start: str | None, end: str | None) -> tuple[str | None, str | None] | None:
    """A GEXF spell as full dates: a start of 2011 opens on 2011-01-01, an end of 2024-12 closes
    on 2024-12-31 (Gephi's timeline reads days). None when there is no usable date, or when the
    dates contradict each other (start after end), rather than a spell Gephi would reject."""
    first = _bounds(start) if start else None
    last = _bounds(end) if end else None
    if first is None and last is None:
        return None
    if first is not None and last is not None and first[0] > last[1]:
        return None
    return (
        first[0].isoformat() if first is not None else None,
        last[1].isoformat() if last is not None else None,
    )


def _gexf_spells(start: str | None, end: str | None) -> str:
    found = spell(start, end)
    if found is None:
        return ""
    bounds = "".join(f' {k}="{v}"' for k, v in zip(("start", "end"), found, strict=True) if v)
    return f"<spells><spell{bounds}/></spells>"


def _gexf_attvalues(values: dict[str, Any], declared: tuple[tuple[str, str], ...]) -> str:
    out = [f'<attvalue for="{k}" value={_xml_attr(_plain(values[k]))}/>' for k, _ in declared if k in values]
    return f"<attvalues>{''.join(out)}</attvalues>" if out else ""


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

    def node(n: str, info: NodeInfo | None) -> str:
        values = node_values(sub.proj, n, info)
        return (
            f"      <node id={_xml_attr(n)} label={_xml_attr(values['label'])}>"
            f"{_gexf_attvalues(values, GEXF_NODE_ATTRIBUTES)}"
            f"{_gexf_spells(values.get('start'), values.get('end'))}</node>\n"
        )

    block = _PerFact(
        sub.proj,
        lambda values: (
            f"label={_xml_attr(values['reading'])}>{_gexf_attvalues(values, GEXF_EDGE_ATTRIBUTES)}"
            f"{_gexf_spells(values.get('start'), values.get('end'))}"
        ),
    )

    def edge(item: tuple[int, Edge]) -> str:
        i, e = item
        ends = f"source={_xml_attr(e.subject)} target={_xml_attr(e.object)}"
        return f'      <edge id="{i}" {ends} {block(e)}</edge>\n'

    yield from _rendered_nodes(sub, node, progress)
    yield "    </nodes>\n    <edges>\n"
    yield from _rendered(enumerate(sub.facts()), edge, progress, len(sub.nodes))
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

    # An edge's attributes after its id and endpoints, as JSON rendered once per distinct fact block.
    block = _PerFact(sub.proj, lambda values: _to_json(_cytoscape_values(values))[1:])

    def edge(e: Edge) -> str:
        ends = _to_json(
            {"id": f"{e.subject}|{e.predicate}|{e.object}", "source": e.subject, "target": e.object}
        )
        return f'{{"data": {ends[:-1]}, {block(e)}}},\n'

    # Every element ends in ",\n"; JSON allows no comma after the last, so each list closes
    # with the last element's comma cut off by `_last_comma_cut`.
    yield from _last_comma_cut(_rendered_nodes(sub, node, progress))
    yield '], "edges": [\n'
    yield from _last_comma_cut(_rendered(sub.facts(), edge, progress, len(sub.nodes)))
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
    """UTF-8 bytes in pieces of about CHUNK: few writes, bounded memory, one encode per piece."""
    text: list[str] = []
    size = 0
    for chunk in chunks:
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
