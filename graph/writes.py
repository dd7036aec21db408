"""Every write checked the same way (issue 16): SPARQL Update, Graph Store PUT/POST/DELETE, and
(through graph/ingest.py) ingest and import, on every backend.

A write here is a change (`Delta`: quads added, quads removed, graphs emptied). Before it is made,
the shapes are checked on what the store would hold after it, around what it touches: the
subjects of every quad added or removed (or in a graph emptied), and the nodes that point at a
subject that lost its type (a membership whose organisation is no longer one). Each is checked with all
its quads after the change, and with what the store would then say about the nodes they mention
(ingest's check, `_check_batch`, run on that: the same shapes, the same context rule). Only those
nodes can fail it. A change with violations is refused whole, with the same 422 report ingest
gives (one entry per violation: file — here the graph —, focus, path, rule, message, value), and
nothing is written. Then the normalised days of the dates it touches are worked out again
(graph/derive.py, as ingest does), and the change is made in one transaction (`Store.apply`).

`validate=False` (the CLI's --no-validate, HTTP's validate=false with the token) skips the check:
the change is made, and each graph it writes says so in itself: `<graph> pg:shapesChecked false`
(it stays until the graph is replaced by a checked write).

The store's own default graph (DEFAULT_GRAPH) is checked and normalised like any other graph.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import lru_cache

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import SH

from pactgraph.graph.derive import DERIVED, normalise
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.formats import rdf_format
from pactgraph.graph.ingest import SourceInput, _check_batch, context_from, refusal
from pactgraph.graph.sandbox import evaluate_update
from pactgraph.graph.shacl import Report, unchecked_marks
from pactgraph.graph.store import DEFAULT_GRAPH, Delta, Store, refuse_reserved
from pactgraph.ontology import ONTOLOGY_GRAPH, SHAPES_PATH

_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_D = ox.NamedNode(str(DEFAULT_GRAPH))
Node = ox.NamedNode | ox.BlankNode


# --------------------------------------------------------------------------------- entry points


def update(
    store: Store,
    text: str,
    *,
    validate: bool = True,
    timeout: float | None = None,
    memory_mib: int | None = None,
) -> Delta:
    """Run a SPARQL 1.1 Update: worked out as a change (graph/update.py), checked, made. The change
    is worked out in a sandboxed child process (no network, at most `memory_mib` MiB more), killed
    at `timeout` seconds: then TIMEOUT, and nothing is written (graph/sandbox.py)."""
    version = store.version
    started = time.monotonic()
    delta = evaluate_update(store, text, timeout, memory_mib)
    with store.writing(bump=False):  # no other write between here and the commit
        if store.version != version:  # one landed while the change was worked out: work it out again
            left = None if timeout is None else max(timeout - (time.monotonic() - started), 0.001)
            delta = evaluate_update(store, text, left, memory_mib)
        return commit(store, delta, validate=validate)


def put_graph(store: Store, graph: URIRef, body: bytes, media_type: str, *, validate: bool = True) -> bool:
    """Graph Store PUT: the graph's content replaced by the body's triples; True when the graph
    held nothing before (201)."""
    g = ox.NamedNode(str(graph))
    created = next(store.match(graph=g), None) is None
    commit(store, Delta(added=_parse(graph, body, media_type), dropped={g}), validate=validate)
    return created


def post_graph(store: Store, graph: URIRef, body: bytes, media_type: str, *, validate: bool = True) -> None:
    """Graph Store POST: the body's triples merged into the graph (its blank nodes new ones)."""
    commit(store, Delta(added=_parse(graph, body, media_type)), validate=validate)


def delete_graph(store: Store, graph: URIRef, *, validate: bool = True) -> None:
    """Graph Store DELETE: the graph emptied (404 when it holds nothing, but the default graph)."""
    g = ox.NamedNode(str(graph))
    if next(store.match(graph=g), None) is None:
        if graph == DEFAULT_GRAPH:
            return
        raise PactgraphError(Kind.NOT_FOUND, f"no graph {graph}")
    commit(store, Delta(dropped={g}), validate=validate)


def _parse(graph: URIRef, body: bytes, media_type: str) -> ox.Store:
    """The body's triples in `graph`, read as ingest reads a file (quad formats: the triples of
    the graphs they name are refused, the default ones kept), blank nodes made new."""
    fmt = rdf_format(media_type).name
    parsed = context_from([SourceInput(str(graph), body, fmt, graph)])
    target = ox.NamedNode(str(graph))
    fresh: dict[str, ox.BlankNode] = {}

    def renamed(
        t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple,
    ) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        if isinstance(t, ox.BlankNode):
            return fresh.setdefault(t.value, ox.BlankNode())
        if isinstance(t, ox.Triple):
            raise PactgraphError(Kind.BAD_INPUT, "RDF-star quoted triples are not supported")
        return t

    batch = ox.Store()
    for q in parsed.quads_for_pattern(None, None, None, None):
        if q.graph_name != target:
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"the body names the graph {q.graph_name}: a Graph Store request writes one graph, {graph}",
            )
        batch.add(ox.Quad(renamed(q.subject), q.predicate, renamed(q.object), target))  # type: ignore[arg-type]
    return batch


# --------------------------------------------------------------------------------- the write


def commit(store: Store, delta: Delta, *, validate: bool = True) -> Delta:
    """Check a change on what the store would hold after it (unless `validate` is False, which
    is recorded in each graph it writes), add the normalised days of the dates it touches, and
    make it: whole, or not at all."""
    if delta.empty():
        return delta
    # Reserved graphs (pactgraph's own, the ontology) are refused here, where update and the
    # Graph Store meet; DEFAULT_GRAPH is how they say the client's default graph. The one
    # exception: the ontology graph emptied by DROP/CLEAR ALL or NAMED, with nothing written in it.
    ontology = ox.NamedNode(str(ONTOLOGY_GRAPH))
    emptied = delta.every_graph and ontology in delta.dropped and not _writes_into(delta, ontology)
    refuse_reserved((g.value for g in delta.graphs() if not (emptied and g == ontology)), default=True)
    with store.writing(bump=False):  # checked on what the store holds when the change is made
        if _leaves_nothing(store, delta):  # DROP ALL: no data left to check or to normalise
            store.apply(delta)
            return delta
        after = _After(store, delta)
        focus = after.focus()
        if validate:
            check(after, focus)
        else:
            written = [g for g in sorted(delta.graphs(), key=str) if g not in delta.dropped or after.holds(g)]
            delta.added.extend(unchecked_marks(written))
        _normalise(store, after, focus)
        store.apply(delta)
    return delta


def _leaves_nothing(store: Store, delta: Delta) -> bool:
    """Whether the change empties every graph and writes nothing."""
    if not delta.every_graph or next(iter(delta.added), None) is not None or delta.removed:
        return False
    if _D not in delta.dropped and next(store.match(graph=_D), None) is not None:
        return False
    return all(ox.NamedNode(str(g)) in delta.dropped for g in store.graph_names())


def _writes_into(delta: Delta, g: ox.NamedNode) -> bool:
    added = next(iter(delta.added.quads_for_pattern(None, None, None, g)), None) is not None
    return added or any(q.graph_name == g for q in delta.removed)


class _After:
    """What the store would hold after a change: reads of the store, with the change applied."""

    def __init__(self, store: Store, delta: Delta) -> None:
        self.store = store
        self.delta = delta

    def kept(self, q: ox.Quad) -> bool:
        return not (q.graph_name in self.delta.dropped or q in self.delta.removed)

    def about(self, node: Node) -> Iterator[ox.Quad]:
        """The quads with `node` as subject."""
        if not (isinstance(node, ox.BlankNode) and self.store.remote is not None):
            yield from (q for q in self.store.match(subject=node) if self.kept(q))
        yield from self.delta.added.quads_for_pattern(node, None, None, None)

    def pointing_at(self, node: Node) -> Iterator[ox.Quad]:
        """The quads with `node` as object."""
        if not (isinstance(node, ox.BlankNode) and self.store.remote is not None):
            yield from (q for q in self.store.match(obj=node) if self.kept(q))
        yield from self.delta.added.quads_for_pattern(None, None, node, None)

    def holds(self, g: ox.NamedNode) -> bool:
        return next(iter(self.delta.added.quads_for_pattern(None, None, None, g)), None) is not None

    def gone(self) -> Iterator[ox.Quad]:
        """The quads the change takes away (those of emptied graphs included)."""
        yield from self.delta.removed
        for g in self.delta.dropped:
            yield from self.store.match(graph=g)

    def focus(self) -> set[Node]:
        """The nodes to check: subjects of what is added or taken away, and what points at a
        subject that lost a type (a sh:class check of theirs reads it). The shapes read nothing
        else of a value node; should one come to (sh:node), every loss is followed instead."""
        touched: set[Node] = set()
        followed: set[Node] = set()
        every_loss = _shapes_read_values()
        for q in self.delta.added.quads_for_pattern(None, None, None, None):
            touched.add(q.subject)  # type: ignore[arg-type]
        for q in self.gone():
            touched.add(q.subject)  # type: ignore[arg-type]
            if every_loss or q.predicate == _RDF_TYPE:
                followed.add(q.subject)  # type: ignore[arg-type]
        for node in followed:
            touched |= {q.subject for q in self.pointing_at(node)}  # type: ignore[misc]
        return touched


@lru_cache(maxsize=1)
def _shapes_read_values() -> bool:
    """Whether a shape checks a value node's own statements (sh:node, qualified shapes), beyond
    its class: then a node that loses any statement may break the nodes pointing at it."""
    shapes = Graph().parse(SHAPES_PATH)
    return any((None, p, None) in shapes for p in (SH.node, SH.qualifiedValueShape))


def check(after: _After, focus: set[Node]) -> None:
    """Raise INVALID (422) with ingest's report when the change makes the nodes in `focus` break
    the shapes. A violation those nodes had before the change is not the change's: data written
    unchecked (validate=False) can still be corrected, or removed, by a checked write."""
    batch, report = _report(after, focus)
    if report.conforms:
        return
    failing = {v.focus for v in report.violations}
    _, before = _report(_After(after.store, Delta()), {n for n in focus if _name(n) in failing})
    old = set(before.violations)
    new = [v for v in report.violations if v not in old]
    if new:
        raise invalid(Report(conforms=False, violations=new), batch)


def _name(node: Node) -> str:
    return node.value


def _report(after: _After, focus: set[Node]) -> tuple[ox.Store, Report]:
    """The shapes checked on the nodes in `focus` as `after` holds them, with their context."""
    batch = ox.Store()
    ontology = ox.NamedNode(str(ONTOLOGY_GRAPH))
    for node in focus:
        batch.extend(q for q in after.about(node) if q.graph_name != ontology)
    if next(iter(batch.quads_for_pattern(None, None, None, None)), None) is None:
        return batch, Report(conforms=True, violations=[])  # nothing is left of them to check
    return batch, _check_batch(_context(after, batch), batch, [])


def _context(after: _After, batch: ox.Store) -> ox.Store:
    """What the store would say, after the change, about the nodes the batch mentions, and about
    the values those statements point to (their classes): the context ingest's check reads."""
    context = ox.Store()
    mentioned = {
        t
        for q in batch.quads_for_pattern(None, None, None, None)
        for t in (q.subject, q.object)
        if isinstance(t, ox.NamedNode | ox.BlankNode)
    }
    around: set[Node] = set()
    for node in mentioned:
        for q in after.about(node):
            context.add(q)
            if isinstance(q.object, ox.NamedNode | ox.BlankNode) and q.object not in mentioned:
                around.add(q.object)
    for node in around:
        context.extend(q for q in after.about(node) if q.predicate == _RDF_TYPE)
    return context


def invalid(report: Report, batch: ox.Store) -> PactgraphError:
    """Ingest's 422 for a change: per violation, the graph its node's quads are in ("file")."""

    def owner(focus: str) -> str:
        try:
            node: Node = ox.NamedNode(focus)
        except ValueError:
            node = ox.BlankNode(focus)
        for q in batch.quads_for_pattern(node, None, None, None):
            if isinstance(q.graph_name, ox.NamedNode):
                return "the default graph" if q.graph_name == _D else q.graph_name.value
        return "?"

    return refusal(report, owner)


def _normalise(store: Store, after: _After, focus: set[Node]) -> None:
    """The normalised days (graph/derive.py) of the touched nodes, worked out again on what they
    would hold, and the difference with what they hold now added to the change."""
    sub = ox.Store()
    for node in focus:
        sub.extend(q for q in after.about(node) if q.predicate not in DERIVED)
    graphs = sorted({q.graph_name for q in sub if isinstance(q.graph_name, ox.NamedNode)}, key=str)
    if not graphs:
        return
    normalise(sub, store, graphs)
    wanted = {q for p in DERIVED for q in sub.quads_for_pattern(None, p, None, None)}
    held = {q for node in focus for q in after.about(node) if q.predicate in DERIVED}
    for q in held - wanted:
        if q in after.delta.added:
            after.delta.added.remove(q)
        else:
            after.delta.removed.add(q)
    for q in wanted - held:
        after.delta.removed.discard(q)
        after.delta.added.add(q)
