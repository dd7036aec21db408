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
from functools import lru_cache

import pyoxigraph as ox

from pactgraph.graph.dates import Period, parse_period, start_end_days
from pactgraph.graph.errors import PactgraphError
from pactgraph.graph.store import _STAGING, Store
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
_UNDATED_UNLESS = (*_STARTS, *_ENDS, str(PG.ongoingAsOf))
# A source's dates, best first: when it was published, else when it was read for us.
_SOURCE_DATES = (_DCT + "date", _DCT + "issued", str(PG.retrieved))

Context = Store | ox.Store | None
"""What a batch is checked and normalised with: the store it goes to, a pyoxigraph store of
reference data, or nothing."""


def context_rows(context: Context, pattern: str, variables: Sequence[str]) -> list[tuple[str, ...]]:
    """The distinct bindings of `variables` for a basic graph pattern over everything `context`
    holds (its default graph and every named graph but a write's staging graphs), as strings."""
    if context is None:
        return []
    projection = " ".join(f"?{v}" for v in variables)
    native = context if isinstance(context, ox.Store) else context.oxigraph
    if native is not None:
        query = (
            f"SELECT DISTINCT {projection} WHERE {{ {{ {pattern} }} UNION "
            f'{{ GRAPH ?_g {{ {pattern} }} FILTER(!STRSTARTS(STR(?_g), "{_STAGING}")) }} }}'
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


def normalise(batch: ox.Store, context: Context = None, graphs: Iterable[ox.NamedNode] | None = None) -> int:
    """Add the normalised days beside every date of `graphs` of `batch` (default: all its named
    graphs), after dropping any already there; returns how many quads were added."""
    targets = (
        list(graphs)
        if graphs is not None
        else [g for g in batch.named_graphs() if isinstance(g, ox.NamedNode)]
    )
    if not targets:
        return 0
    chosen = {g.value for g in targets}
    stale = [q for p in DERIVED for g in targets for q in batch.quads_for_pattern(None, p, None, g)]
    for q in stale:
        batch.remove(q)

    # (graph, node) -> [start text, end text]: the first start and end property found, in order.
    dates: dict[tuple[ox.NamedNode, ox.NamedNode | ox.BlankNode], list[str | None]] = {}
    props = " ".join(f"<{p}>" for p in (*_STARTS, *_ENDS))
    order = {p: i for i, p in enumerate((*_STARTS, *_ENDS))}
    best: dict[tuple[object, object, bool], int] = {}
    pattern = "?n ?p ?d FILTER(isLiteral(?d))"
    query = f"SELECT ?g ?n ?p ?d WHERE {{ VALUES ?p {{ {props} }} GRAPH ?g {{ {pattern} }} }}"
    for g, n, p, d in _in_batch(batch, query):
        if (
            not isinstance(g, ox.NamedNode)
            or g.value not in chosen
            or not isinstance(n, ox.NamedNode | ox.BlankNode)
        ):
            continue
        key = (g, n)
        slot = dates.setdefault(key, [None, None])
        rank = order[p.value]
        is_end = rank >= len(_STARTS)
        if best.get((*key, is_end), len(order)) > rank:
            best[(*key, is_end)] = rank
            slot[is_end] = d.value

    ended = {n.value for (_g, n), (_s, e) in dates.items() if e is not None and isinstance(n, ox.NamedNode)}
    exclusive = _exclusive_nodes(batch, context, ended) if ended else set()
    quads: list[ox.Quad] = []
    for (graph, node), (start, end) in dates.items():
        days = start_end_days(
            start if start is not None and _period(start) is not None else None,
            end if end is not None and _period(end) is not None else None,
            node.value in exclusive,
        )
        for prop, day in zip(DERIVED[:4], days, strict=True):
            if day is not None:
                quads.append(ox.Quad(node, prop, _day(day), graph))

    # Claims the graph gives no time for: known from their sources' dates.
    undated_props = " ".join(f"<{p}>" for p in _UNDATED_UNLESS)
    query = (
        f"SELECT ?g ?n ?s WHERE {{ GRAPH ?g {{ ?n <{PG.status}> ?status ; <{PG.source}> ?s "
        f"FILTER NOT EXISTS {{ VALUES ?p {{ {undated_props} }} ?n ?p ?d }} }} }}"
    )
    cited: dict[tuple[ox.NamedNode, ox.NamedNode | ox.BlankNode], set[str]] = {}
    for g, n, s in _in_batch(batch, query):
        if (
            isinstance(g, ox.NamedNode)
            and g.value in chosen
            and isinstance(n, ox.NamedNode | ox.BlankNode)
            and isinstance(s, ox.NamedNode)
        ):
            cited.setdefault((g, n), set()).add(s.value)
    if cited:
        known = _source_dates(batch, context, set().union(*cited.values()))
        for (g, n), sources in cited.items():
            published = [known[s].latest for s in sources if s in known]
            if published:
                quads.append(ox.Quad(n, KNOWN_FROM, _day(min(published)), g))
    batch.extend(quads)
    return len(quads)


__all__ = ["DERIVED", "Context", "context_rows", "normalise"]
