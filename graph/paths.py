"""Explained path queries over the projection: "how do Russia and Iran connect to Syria?"

Paths are searched in the projection restricted to the edges valid on `as_of` and at or
above the minimum claim status, and whose predicates and node classes pass `via` and
`exclude`. Shortest paths come first (Yen's algorithm yields simple paths in order of
length, crowded nodes costing a little more), up to `max_hops` edges and `limit` paths
per source. Each path reads as one English sentence, with an n-ary hub (a support
relation, a membership, a sanction…) told as the verb between the two actors it links.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice, pairwise
from typing import Any

import networkx as nx

from graph.dates import valid_on
from graph.errors import Kind, PactgraphError
from graph.projection import STATUS_RANK, Edge, Projection
from ontology import ENTITY_BASE, PG

STATUSES = {"confirmed": 3, "reported": 2, "disputed": 1, "denied": 0}
MAX_HOPS = 8
MAX_LIMIT = 50

# Hub class -> (role linking the first actor, role linking the second, active verb, passive verb)
_ROLES: dict[str, tuple[str, str, str, str]] = {
    "Support": ("supporter", "recipient", "supported", "was supported by"),
    "ArmsTransfer": ("supporter", "recipient", "supplied {item} to", "was supplied {item} by"),
    "Sanction": ("imposer", "target", "sanctioned", "was sanctioned by"),
    "Membership": ("member", "organisation", "is a member of", "has as a member"),
    "Tenure": ("holder", "office", "held the office of", "was held by"),
    "Participation": ("participant", "conflict", "took part in", "saw the participation of"),
    "Cooperation": ("participants", "participants", "cooperates with", "cooperates with"),
    "Agreement": ("signatory", "signatory", "signed {hub} with", "signed {hub} with"),
}


@dataclass(frozen=True)
class PathQuery:
    """What to search: validated parameters of /paths and `pactgraph path`."""

    sources: tuple[str, ...]
    target: str
    max_hops: int = 4
    limit: int = 5
    as_of: date | None = None
    min_status: str = "denied"
    via: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.max_hops <= MAX_HOPS:
            raise PactgraphError(
                Kind.BAD_INPUT, f"max_hops must be between 1 and {MAX_HOPS}, not {self.max_hops}"
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise PactgraphError(Kind.BAD_INPUT, f"limit must be between 1 and {MAX_LIMIT}, not {self.limit}")
        if self.min_status not in STATUSES:
            raise PactgraphError(
                Kind.BAD_INPUT, f"status must be one of {', '.join(STATUSES)}, not {self.min_status!r}"
            )
        if not self.sources:
            raise PactgraphError(Kind.BAD_INPUT, "give at least one source (from=)")


def _term(name: str) -> str:
    """A predicate or class as its local name (`supporter`, `Sanction`), from a local name or IRI."""
    return name.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _edge_ok(edge: Edge, q: PathQuery) -> bool:
    if STATUS_RANK.get(str(PG) + edge.status.capitalize(), 3) < STATUSES[q.min_status]:
        return False
    if q.as_of is not None and not valid_on(edge.start, edge.end, q.as_of):
        return False
    predicate = _term(edge.predicate)
    if q.via and predicate not in q.via:
        return False
    return predicate not in q.exclude


def restricted(proj: Projection, q: PathQuery) -> nx.Graph:
    """The projection seen through the query's filters (a view: nothing is copied)."""
    excluded_classes = {c for c in q.exclude if c[:1].isupper()}
    via_classes = {c for c in q.via if c[:1].isupper()}

    def node_ok(n: str) -> bool:
        cls = proj.classes.get(n, "")
        if cls in excluded_classes and n not in q.sources and n != q.target:
            return False
        return not (via_classes and cls not in via_classes and n not in q.sources and n != q.target)

    edge_filter = _EdgeFilter(proj, q)
    return nx.subgraph_view(proj.graph, filter_node=node_ok, filter_edge=edge_filter)


class _EdgeFilter:
    """Which facts between two nodes pass the query; predicates only (classes filter nodes)."""

    def __init__(self, proj: Projection, q: PathQuery) -> None:
        self.proj = proj
        self.q = PathQuery(
            q.sources,
            q.target,
            q.max_hops,
            q.limit,
            q.as_of,
            q.min_status,
            tuple(v for v in q.via if not v[:1].isupper()),
            tuple(e for e in q.exclude if not e[:1].isupper()),
        )

    def __call__(self, u: str, v: str) -> bool:
        return any(_edge_ok(e, self.q) for e in self.proj.graph[u][v]["facts"])

    def facts(self, u: str, v: str) -> list[Edge]:
        return [e for e in self.proj.graph[u][v]["facts"] if _edge_ok(e, self.q)]


def _check_filters(proj: Projection, q: PathQuery) -> None:
    """An unknown name in via/exclude is a typo to report, not a filter that silently matches nothing."""
    classes = set(proj.classes.values())
    predicates = {_term(p) for p in proj.readings} | {
        _term(e.predicate) for _, _, facts in proj.graph.edges(data="facts") for e in facts
    }
    for name in (*q.via, *q.exclude):
        known = classes if name[:1].isupper() else predicates
        if name not in known:
            kind = "class" if name[:1].isupper() else "predicate"
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"unknown {kind} {name!r} in via/exclude; known: {', '.join(sorted(known))}",
            )


def find_paths(proj: Projection, q: PathQuery) -> dict[str, Any]:
    """Ranked, explained paths from each source to the target, and what the sources share."""
    _check_filters(proj, q)
    for n in (*q.sources, q.target):
        if n not in proj.graph:
            raise PactgraphError(Kind.NOT_FOUND, f"{proj.label(n)} is not linked to anything in the graph")
    view = restricted(proj, q)
    facts = _EdgeFilter(proj, q)
    results: dict[str, list[dict[str, Any]]] = {}
    for source in q.sources:
        # Yen's algorithm yields by length; among a few more candidates than asked for, equal
        # lengths are ordered by how plainly they read (fewer clauses), then by crowding, then text,
        # so the answer does not depend on the order the store returned edges in.
        candidates = [
            _explain(proj, nodes, facts)
            for nodes in islice(_simple_paths(proj, view, source, q.target, q.max_hops), q.limit * 4)
        ]
        candidates.sort(key=lambda p: (p["hops"], p["clauses"], p["crowding"], p["text"]))
        results[source] = [_public(p) for p in candidates[: q.limit]]
    return {
        "query": {
            "from": [_node(proj, s) for s in q.sources],
            "to": _node(proj, q.target),
            "max_hops": q.max_hops,
            "limit": q.limit,
            "as_of": q.as_of.isoformat() if q.as_of else None,
            "status": q.min_status,
            "via": list(q.via),
            "exclude": list(q.exclude),
        },
        "paths": [{"from": s, "paths": results[s]} for s in q.sources],
        "connections": _connections(proj, view, facts, q) if len(q.sources) > 1 else [],
    }


def _simple_paths(
    proj: Projection, view: nx.Graph, source: str, target: str, max_hops: int
) -> Iterator[list[str]]:
    if source == target:
        return
    try:
        for nodes in nx.shortest_simple_paths(
            view, source, target, weight=lambda u, v, _d: proj.weight(u, v)
        ):
            if len(nodes) - 1 > max_hops:
                # Yen's order is by weight, and a hop outweighs any crowding cost: no shorter path follows.
                return
            yield nodes
    except nx.NetworkXNoPath:
        return


def _public(path: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in path.items() if k not in ("clauses", "crowding")}


def _node(proj: Projection, n: str) -> dict[str, str]:
    return {"id": n, "label": proj.label(n), "class": proj.classes.get(n, "")}


def _edge_json(proj: Projection, e: Edge, u: str) -> dict[str, Any]:
    forward = e.subject == u
    reading, inverse = proj.readings.get(e.predicate, (_term(e.predicate), _term(e.predicate)))
    return {
        "source": e.subject if forward else e.object,
        "target": e.object if forward else e.subject,
        "predicate": e.predicate,
        "label": reading if forward else inverse,
        "direction": "forward" if forward else "backward",
        "start": e.start,
        "end": e.end,
        "status": e.status,
        "evidence": {"graph": e.graph, "sources": list(e.sources), "quote": e.quote},
    }


def _best(facts: list[Edge]) -> Edge:
    return sorted(facts, key=lambda e: (-STATUSES[e.status], e.predicate))[0]


def _explain(proj: Projection, nodes: list[str], facts: _EdgeFilter) -> dict[str, Any]:
    edges = [_best(facts.facts(u, v)) for u, v in pairwise(nodes)]
    clauses = _clauses(proj, nodes, edges)
    return {
        "hops": len(edges),
        "nodes": [_node(proj, n) for n in nodes],
        "edges": [_edge_json(proj, e, u) for e, u in zip(edges, nodes, strict=False)],
        "text": "; ".join(clauses) + ".",
        "clauses": len(clauses),
        "crowding": round(sum(math.log1p(proj.graph.degree(n)) for n in nodes[1:-1]), 6),
    }


def _when(e: Edge) -> str:
    if e.start and e.end:
        return f" from {e.start} until {e.end}"
    if e.end:
        return f" until {e.end}"
    if e.start:
        return f" on {e.start}" if e.dated else f" since {e.start}"
    return ""


def _cite(e: Edge) -> str:
    where = ", ".join(s.removeprefix(ENTITY_BASE + "source/") for s in e.sources) or e.graph
    status = "" if e.status == "confirmed" else f"{e.status}: "
    return f" [{status}{where}]"


def _clauses(proj: Projection, nodes: list[str], edges: list[Edge]) -> list[str]:
    """The clauses of a path's sentence: hub patterns as verbs, other edges by their readings."""
    clauses: list[str] = []
    i = 0
    while i < len(edges):
        u, hub = nodes[i], nodes[i + 1]
        cls = proj.classes.get(hub, "")
        role = _ROLES.get(cls) or (
            _ROLES["Agreement"] if hub in proj.hubs and _is_agreement(proj, hub) else None
        )
        if role and i + 1 < len(edges) and hub in proj.hubs:
            e1, e2 = edges[i], edges[i + 1]
            v = nodes[i + 2]
            first, second = _term(e1.predicate), _term(e2.predicate)
            item = _item(proj, hub)
            if (first, second) == (role[0], role[1]) or role[0] == role[1] == first == second:
                verb = role[2]
            elif (first, second) == (role[1], role[0]):
                verb = role[3]
            else:
                verb = ""
            if verb:
                verb = verb.format(item=item or "arms", hub=proj.label(hub))
                clauses.append(f"{proj.label(u)} {verb} {proj.label(v)}{_when(e1)}{_cite(e1)}")
                i += 2
                continue
        e = edges[i]
        forward = e.subject == u
        reading, inverse = proj.readings.get(e.predicate, (_term(e.predicate), _term(e.predicate)))
        verb = reading if forward else inverse
        clauses.append(f"{proj.label(u)} {verb} {proj.label(nodes[i + 1])}{_when(e)}{_cite(e)}")
        i += 1
    return clauses


def _is_agreement(proj: Projection, hub: str) -> bool:
    return proj.classes.get(hub) in ("Agreement", "Treaty", "StrategicPartnership", "DefencePact")


def _item(proj: Projection, hub: str) -> str | None:
    for n in proj.graph.neighbors(hub):
        for e in proj.graph[hub][n]["facts"]:
            if e.subject == hub and _term(e.predicate) == "item":
                return proj.label(n)
    return None


def _connections(proj: Projection, view: nx.Graph, facts: _EdgeFilter, q: PathQuery) -> list[dict[str, Any]]:
    """What every source shares: a hub each links to directly (an agreement they both signed, an
    arms transfer between them) or an actor each reaches through one hub (both supported
    Assad's government, both are sanctioned by the United States)."""
    reach: list[dict[str, list[str]]] = []
    for source in q.sources:
        paths = nx.single_source_shortest_path(view, source, cutoff=2)
        reach.append({n: p for n, p in paths.items() if n not in q.sources})
    common = set(reach[0])
    for r in reach[1:]:
        common &= set(r)
    common.discard(q.target)
    # Hubs reached in one hop by everyone, and actors reached through a hub by everyone.
    ranked = sorted(common, key=lambda n: (n not in proj.hubs, proj.label(n)))
    out: list[dict[str, Any]] = []
    for n in ranked:
        one_hop = all(len(r[n]) == 2 for r in reach)
        if not ((n in proj.hubs and one_hop) or n in proj.actors):
            continue
        if len(out) == 25:
            break
        paths = [_public(_explain(proj, r[n], facts)) for r in reach]
        out.append(
            {
                "node": _node(proj, n),
                "text": _hub_sentence(proj, n, facts)
                if n in proj.hubs and one_hop
                else " ".join(p["text"] for p in paths),
                "paths": paths,
            }
        )
    return out


def _hub_sentence(proj: Projection, hub: str, facts: _EdgeFilter) -> str:
    """A hub told as the relation it records: "Iran supplied Shahed-136 to Russia since 2022-08 […]"."""
    cls = proj.classes.get(hub, "")
    role = _ROLES.get(cls) or (_ROLES["Agreement"] if _is_agreement(proj, hub) else None)
    ends: dict[str, list[str]] = {}
    evidence: Edge | None = None
    for n in sorted(proj.graph.neighbors(hub), key=proj.label):
        for e in facts.facts(hub, n):
            if e.subject == hub:
                ends.setdefault(_term(e.predicate), []).append(proj.label(n))
                evidence = evidence or e
    if role is None or evidence is None or role[0] not in ends:
        return f"{proj.label(hub)}."
    if role[0] == role[1]:
        parties = ends[role[0]]
        subject = ", ".join(parties[:-1]) + " and " + parties[-1] if len(parties) > 1 else parties[0]
        together = "take part in {hub}" if cls == "Cooperation" else role[2].replace(" with", "")
        verb = together.format(item="arms", hub=proj.label(hub))
        return f"{subject} {verb}{_when(evidence)}{_cite(evidence)}."
    objects = ends.get(role[1], [])
    verb = role[2].format(item=_item(proj, hub) or "arms", hub=proj.label(hub))
    return f"{' and '.join(ends[role[0]])} {verb} {' and '.join(objects)}{_when(evidence)}{_cite(evidence)}."
