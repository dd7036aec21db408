"""What the write path derives from a batch before it is written: the normalised days of its dates.

SPARQL cannot compare a month (`"2024-12"^^xsd:gYearMonth`) with a day: the comparison is an
error and the row vanishes. So beside every date of a fact, each graph of a batch gets plain
`xsd:date` bounds (the shared model contract, point 1), in the same graph as the date:

- `pg:startEarliest` / `pg:startLatest`: the first and last day its start may stand for, from
  `pg:start` (or, for events and agreements without one, `pg:date` / `pg:signingDate`);
- `pg:endEarliest` / `pg:endLatest`: the same for its last day, from `pg:end` (or `pg:expiry`),
  an exclusive end (its source's `pg:endRule pg:ExclusiveEnd`) moved one day back;
- `pg:knownFrom` on a claim (a node with `pg:status`) that the graph gives no date, start, end
  or "ongoing as of" for: the last day of the earliest publication date (`dcterms:date`, else
  `dcterms:issued`, else `pg:retrieved`) among the sources the graph cites for it, the first day
  the fact is known to hold (graph/dates.py has the rule). A claim whose sources have no date
  gets none, and is in no answer "as of" a date.

"Valid on D" in plain SPARQL is then `pg:startLatest|pg:knownFrom` ≤ D and no `pg:endEarliest`
< D (README, "Time"). Any of these properties already in the batch is dropped and recomputed:
they are derived, never data. `normalise` is called by ingest and is meant for every other
write path (graph store, update, importers): give it the batch as it will be written and the
store it goes to (sources and their end rules may be described there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache

import pyoxigraph as ox

from pactgraph.graph.dates import Period, parse_period, start_end_days
from pactgraph.graph.errors import PactgraphError
from pactgraph.graph.store import DEFAULT_GRAPH, INTERNAL, Store
from pactgraph.ontology import PG

_DCT = "http://purl.org/dc/terms/"
_XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")

START_EARLIEST = ox.NamedNode(str(PG.startEarliest))
START_LATEST = ox.NamedNode(str(PG.startLatest))
END_EARLIEST = ox.NamedNode(str(PG.endEarliest))
END_LATEST = ox.NamedNode(str(PG.endLatest))
KNOWN_FROM = ox.NamedNode(str(PG.knownFrom))
DERIVED = (START_EARLIEST, START_LATEST, END_EARLIEST, END_LATEST, KNOWN_FROM)

# Where a fact's start and end are read from, first found first: the projection's order.
_STARTS = (str(PG.start), str(PG.date), str(PG.signingDate))
_ENDS = (str(PG.end), str(PG.expiry))
_START_NODES = [ox.NamedNode(p) for p in _STARTS]
_END_NODES = [ox.NamedNode(p) for p in _ENDS]
_ONGOING = ox.NamedNode(str(PG.ongoingAsOf))
_STATUS = ox.NamedNode(str(PG.status))
_SOURCE = ox.NamedNode(str(PG.source))
# A source's dates, best first: when it was published, else when it was read for us.
_SOURCE_DATES = (_DCT + "date", _DCT + "issued", str(PG.retrieved))

Context = Store | ox.Store | None
"""What a batch is checked and normalised with: the store it goes to, a pyoxigraph store of
reference data, or nothing."""


def context_rows(context: Context, pattern: str, variables: Sequence[str]) -> list[tuple[str, ...]]:
    """The distinct bindings of `variables` for a basic graph pattern over everything `context`
    holds (its default graph and every named graph but pactgraph's own: staging graphs, the
    merge), as strings."""
    if context is None:
        return []
    projection = " ".join(f"?{v}" for v in variables)
    native = context if isinstance(context, ox.Store) else context.oxigraph
    if native is not None:
        ours = f'!STRSTARTS(STR(?_g), "{INTERNAL}") || ?_g = <{DEFAULT_GRAPH}>'
        query = (
            f"SELECT DISTINCT {projection} WHERE {{ {{ {pattern} }} UNION "
            f"{{ GRAPH ?_g {{ {pattern} }} FILTER({ours}) }} }}"
        )
        solutions = native.query(query)
        assert isinstance(solutions, ox.QuerySolutions)
        return [tuple(row[v].value for v in variables) for row in solutions]
    assert isinstance(context, Store)
    rows = context.select(f"SELECT DISTINCT {projection} WHERE {{ {pattern} }}")
    return [tuple(str(r[v]) for v in variables) for r in rows if all(v in r for v in variables)]


def _values(name: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{name} {{ {' '.join(f'<{i}>' for i in iris)} }}"


@lru_cache(maxsize=1 << 16)
def _period(text: str) -> Period | None:
    try:
        return parse_period(text)
    except PactgraphError:
        return None  # the shapes refuse it; with validation off it bounds nothing


def _day(d: object) -> ox.Literal:
    return ox.Literal(str(d), datatype=_XSD_DATE)


def _in_batch(batch: ox.Store, query: str) -> ox.QuerySolutions:
    solutions = batch.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    return solutions


def _chunks(items: list[str], size: int = 400) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _exclusive_nodes(batch: ox.Store, context: Context, nodes: set[str]) -> set[str]:
    """Those of `nodes` that cite a source whose end rule is exclusive (in the batch or context)."""
    rule = f"?s <{PG.endRule}> <{PG.ExclusiveEnd}>"
    sources = {s.value for (s,) in _in_batch(batch, f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ {rule} }} }}")}
    sources |= {s for (s,) in context_rows(context, rule, ("s",))}
    if not sources:
        return set()
    found: set[str] = set()
    for chunk in _chunks(sorted(sources)):
        pattern = f"{_values('s', chunk)} ?n <{PG.source}> ?s"
        found |= {
            n.value for (n,) in _in_batch(batch, f"SELECT DISTINCT ?n WHERE {{ GRAPH ?g {{ {pattern} }} }}")
        }
        found |= {n for (n,) in context_rows(context, pattern, ("n",))}
    return found & nodes


def _source_dates(batch: ox.Store, context: Context, sources: set[str]) -> dict[str, Period]:
    """Each source's best date (published, else retrieved), from the batch or the context."""
    rank = {p: i for i, p in enumerate(_SOURCE_DATES)}
    best: dict[str, tuple[int, Period]] = {}
    props = " ".join(f"<{p}>" for p in _SOURCE_DATES)
    for chunk in _chunks(sorted(sources)):
        pattern = f"{_values('s', chunk)} VALUES ?p {{ {props} }} ?s ?p ?d"
        rows: list[tuple[str, ...]] = [
            (s.value, p.value, d.value)
            for s, p, d in _in_batch(batch, f"SELECT DISTINCT ?s ?p ?d WHERE {{ GRAPH ?g {{ {pattern} }} }}")
        ]
        rows += context_rows(context, pattern, ("s", "p", "d"))
        for s, p, d in rows:
            period = _period(d)
            if period is None:
                continue
            key = (rank[p], period)
            current = best.get(s)
            if current is None or (key[0], key[1].latest) < (current[0], current[1].latest):
                best[s] = key
    return {s: period for s, (_, period) in best.items()}


@lru_cache(maxsize=1 << 16)
def _days(start: str | None, end: str | None, exclusive: bool) -> tuple[date | None, ...]:
    """The four normalised days of one start and end (dates repeat: computed once each)."""
    return start_end_days(
        start if start is not None and _period(start) is not None else None,
        end if end is not None and _period(end) is not None else None,
        exclusive,
    )


@lru_cache(maxsize=1 << 16)
def _ntriples(day: date) -> str:
    return f'"{day.isoformat()}"^^<{_XSD_DATE.value}>'


def normalise(batch: ox.Store, context: Context = None, graphs: Iterable[ox.NamedNode] | None = None) -> int:
    """Add the normalised days beside every date of `graphs` of `batch` (default: all its named
    graphs), after dropping any already there; returns how many quads were added.

    Written as N-Triples text that pyoxigraph parses into the batch: a fraction of the time and
    memory of making a Python quad object for each (a hundred thousand at a million triples)."""
    targets = (
        list(graphs)
        if graphs is not None
        else [g for g in batch.named_graphs() if isinstance(g, ox.NamedNode)]
    )
    if not targets:
        return 0
    stale = [q for p in DERIVED for g in targets for q in batch.quads_for_pattern(None, p, None, g)]
    for q in stale:
        batch.remove(q)
    # Per graph, node -> its start (and end) as given: the first property of _STARTS (_ENDS) it has.
    Node = ox.NamedNode | ox.BlankNode
    dated: list[tuple[ox.NamedNode, dict[Node, str], dict[Node, str]]] = []
    undated: list[tuple[ox.NamedNode, Node]] = []
    for graph in targets:
        start_of: dict[Node, str] = {}
        end_of: dict[Node, str] = {}
        for kind, found in ((_START_NODES, start_of), (_END_NODES, end_of)):
            for prop in kind:
                for q in batch.quads_for_pattern(None, prop, None, graph):
                    if isinstance(q.object, ox.Literal):
                        found.setdefault(q.subject, q.object.value)  # type: ignore[arg-type]
        dated.append((graph, start_of, end_of))
        # Claims the graph gives no time for (no start, end or "ongoing as of"): known from their sources.
        ongoing = {q.subject for q in batch.quads_for_pattern(None, _ONGOING, None, graph)}
        for q in batch.quads_for_pattern(None, _STATUS, None, graph):
            n = q.subject
            if n not in start_of and n not in end_of and n not in ongoing:
                undated.append((graph, n))  # type: ignore[arg-type]
    ended = {n.value for _g, _s, end_of in dated for n in end_of if isinstance(n, ox.NamedNode)}
    exclusive = _exclusive_nodes(batch, context, ended) if ended else set()
    added = 0
    names = [f"<{p.value}>" for p in DERIVED[:4]]
    for graph, start_of, end_of in dated:
        lines: list[str] = []
        blank: list[ox.Quad] = []
        for node in start_of.keys() | end_of.keys():
            days = _days(start_of.get(node), end_of.get(node), bool(exclusive) and node.value in exclusive)
            if isinstance(node, ox.NamedNode):
                lines.extend(
                    f"<{node.value}> {p} {_ntriples(d)} .\n" for p, d in zip(names, days, strict=True) if d
                )
            else:  # a blank node keeps its identity only as a term
                blank.extend(
                    ox.Quad(node, p, _day(d), graph) for p, d in zip(DERIVED[:4], days, strict=True) if d
                )
        if lines:
            batch.load("".join(lines).encode(), ox.RdfFormat.N_TRIPLES, to_graph=graph)
        batch.extend(blank)
        added += len(lines) + len(blank)
    if undated:
        cited = {
            (g, n): {
                q.object.value
                for q in batch.quads_for_pattern(n, _SOURCE, None, g)
                if isinstance(q.object, ox.NamedNode)
            }
            for g, n in undated
        }
        known = _source_dates(batch, context, set().union(*cited.values()))
        quads = []
        for (g, n), sources in cited.items():
            published = [known[s].latest for s in sources if s in known]
            if published:
                quads.append(ox.Quad(n, KNOWN_FROM, _day(min(published)), g))
        batch.extend(quads)
        added += len(quads)
    return added


__all__ = ["DERIVED", "Context", "context_rows", "normalise"]
