"""Explained path queries over the projection: "how do Russia and Iran connect to Syria?"

Paths are searched in the projection restricted to the edges valid on `as_of` and at or
above the minimum claim status, and whose predicates and node classes pass `via` and
`exclude`. The lightest paths come first (a hop weighs one, crowded nodes a little more),
up to `max_hops` edges and `limit` paths per source, in the order Yen's algorithm yields
them; a best-first search with lower bounds toward the target finds them without walking
the whole graph, and the filters read values each fact had computed once at build time.
Each path reads as one English sentence, with an n-ary hub (a support relation, a
membership, a sanction…) told as the verb between the two actors it links.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

import networkx as nx

from pactgraph.graph import deadline
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.labels import HUB_VERBS, TENURE_OF_STATE
from pactgraph.graph.projection import Edge, Meta, Projection
from pactgraph.ontology import ENTITY_BASE

STATUSES = {"confirmed": 3, "reported": 2, "disputed": 1, "denied": 0}
MAX_HOPS = 8
MAX_LIMIT = 50
# Partial paths one query may consider (about 150 bytes each while queued): a search between
# far-apart, thinly linked nodes at 8 hops otherwise grows by hundreds of MB a second. Ordinary
# queries stay far below (4 hops: a few thousand; 8 hops between states, 50 paths: ~50,000).
BUDGET = 1_000_000
_CHECK_EVERY = 255  # the deadline is read every 256 steps of the search (a mask)

# A source's record of a party to an agreement or a member of an organisation (issue 15): what
# two actors share through their own records (ATOP's alliance 3180, through each one's party
# record) is named in a path answer like a hub both link to directly.
_RECORD_CLASSES = frozenset({"AgreementParty", "Membership"})


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


def restricted(proj: Projection, q: PathQuery) -> nx.Graph:
    """The projection seen through the query's filters (a view: nothing is copied)."""
    search = _Search(proj, q)
    return nx.subgraph_view(proj.graph, filter_node=search.node_ok, filter_edge=search.edge_ok)


# The lightest an edge can weigh (both ends of degree one): the unit of the search's lower bounds.
_W_MIN = 1.0 + 0.05 * math.log1p(1)

# What the bounding search out from a target found: its layers by hop distance, the lower bounds,
# and for each r the nodes at most r hops away.
Toward = tuple[list[set[str]], dict[str, float], list[set[str]]]
# Per node, the facts around it: nodes across, status ranks, first days, last days, predicates,
# and whether some node pair has several facts (see `_Index.row`).
Row = tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[str, ...], bool]
_ROW_DEGREE = 24  # nodes with fewer neighbours are filtered from their edges' dicts, without a Row
_TOWARD_CACHE = 64  # bounding searches kept per projection, least recently used dropped first


class _Degrees(dict[str, int]):
    """Node -> degree as networkx counts it (a self-loop twice), computed on first use."""

    def __init__(self, adj: dict[str, dict[str, dict[str, Any]]]) -> None:
        super().__init__()
        self.adj = adj

    def __missing__(self, n: str) -> int:
        around = self.adj[n]
        d = self[n] = len(around) + (n in around)
        return d


class _Weights(dict[int, float]):
    """Smaller degree of an edge's ends -> its weight (`Projection.weight`), computed on first use."""

    def __missing__(self, d: int) -> float:
        w = self[d] = 1.0 + 0.05 * math.log1p(d)
        return w


class _Index:
    """What path queries read of one projection, kept with it (a projection is replaced, never
    changed, after it is first queried): node degrees, edge weights by degree, the value of a
    hub's item, and a small LRU of bounding searches out from targets by their filters."""

    def __init__(self, proj: Projection) -> None:
        self.degrees = _Degrees(proj.graph._adj)
        self.weights = _Weights()
        self.items: dict[str, str | None] = {}
        self.rows: dict[str, Row] = {}
        self.uniform: dict[str, tuple[int, int, int] | None] = {}
        self.adj = proj.graph._adj
        self.toward: OrderedDict[tuple[Any, ...], Toward] = OrderedDict()
        self.lock = threading.Lock()

    def find_uniform(self, u: str) -> tuple[int, int, int] | None:
        """The (status rank, first day, last day) every fact around `u` has, if they all have the
        same (the facts of a hub take them from it); None if they differ or there are none."""
        same: tuple[int, int, int] | None = None
        for data in self.adj[u].values():
            for rank, first, last, _term in data["meta"]:
                if same is None:
                    same = (rank, first, last)
                elif same != (rank, first, last):
                    self.uniform[u] = None
                    return None
        self.uniform[u] = same
        return same

    def row(self, u: str) -> Row:
        """The facts around `u`, one entry each in adjacency order, as parallel tuples of the
        node across, status rank, first and last day, predicate, and whether a node pair there
        has several facts: what filtering a node's neighbours reads, without a dict per edge."""
        found = self.rows.get(u)
        if found is not None:
            return found
        vs: list[str] = []
        metas: list[Meta] = []
        multi = False
        for v, data in self.adj[u].items():
            meta = data["meta"]
            if len(meta) == 1:
                vs.append(v)
                metas.append(meta[0])
            else:
                multi = True
                vs.extend([v] * len(meta))
                metas.extend(meta)
        ranks, firsts, lasts, terms = zip(*metas, strict=True) if metas else ((), (), (), ())
        found = self.rows[u] = (tuple(vs), ranks, firsts, lasts, terms, multi)
        return found


_INDEX_LOCK = threading.Lock()


def _index(proj: Projection) -> _Index:
    """The projection's `_Index`, made on its first path query (it lives and dies with it)."""
    index: _Index | None = proj.__dict__.get("_paths_index")
    if index is None:
        with _INDEX_LOCK:
            index = proj.__dict__.get("_paths_index")
            if index is None:
                index = proj.__dict__["_paths_index"] = _Index(proj)
    return index


class _Search:
    """The projection seen through one query's filters, read from networkx's adjacency dicts and
    the facts' pre-computed filter values (`Projection.prepare`): no view, no date parsing."""

    def __init__(self, proj: Projection, q: PathQuery, budget: int = BUDGET) -> None:
        proj.prepare()
        self.proj = proj
        self.q = q
        self.bound = budget
        self.budget = budget  # partial paths left to consider, over all of the query's searches
        self.index = _index(proj)
        self.adj: dict[str, dict[str, dict[str, Any]]] = proj.graph._adj
        self.ends = {*q.sources, q.target}
        self.excluded_classes = {c for c in q.exclude if c[:1].isupper()}
        self.via_classes = {c for c in q.via if c[:1].isupper()}
        self.via = {v for v in q.via if not v[:1].isupper()}
        self.exclude = {e for e in q.exclude if not e[:1].isupper()}
        self.min_rank = STATUSES[q.min_status]
        self.day = q.as_of.toordinal() if q.as_of is not None else None
        self.every_edge = not self.via and not self.exclude and self.min_rank == 0 and self.day is None
        self.every_node = not self.excluded_classes and not self.via_classes
        self.every_fact = self.min_rank == 0 and not self.via and not self.exclude  # but the day
        self._passing: dict[str, list[str]] = {}
        self._passing_sets: dict[str, set[str]] = {}
        self._neighbours: dict[str, list[str]] = {}

    def fact_ok(self, meta: Meta) -> bool:
        rank, first, last, term = meta
        if rank < self.min_rank:
            return False
        day = self.day
        if day is not None and not first <= day <= last:
            return False
        if self.via and term not in self.via:
            return False
        return term not in self.exclude

    def data_ok(self, data: dict[str, Any]) -> bool:
        """Whether any fact of one node pair passes (its edge data dict)."""
        return self.every_edge or self.metas_ok(data["meta"])

    def metas_ok(self, metas: tuple[Meta, ...]) -> bool:
        """Whether any of these facts passes (`fact_ok`, inlined)."""
        min_rank, day, via, exclude = self.min_rank, self.day, self.via, self.exclude
        for rank, first, last, term in metas:
            if rank < min_rank or (day is not None and not first <= day <= last):
                continue
            if (via and term not in via) or term in exclude:
                continue
            return True
        return False

    def edge_ok(self, u: str, v: str) -> bool:
        return self.data_ok(self.adj[u][v])

    def node_ok(self, n: str) -> bool:
        if self.every_node or n in self.ends:
            return True
        cls = self.proj.classes.get(n, "")
        if cls in self.excluded_classes:
            return False
        return not (self.via_classes and cls not in self.via_classes)

    def facts(self, u: str, v: str) -> list[Edge]:
        data = self.adj[u][v]
        if self.every_edge:
            return list(data["facts"])
        return [e for e, m in zip(data["facts"], data["meta"], strict=True) if self.fact_ok(m)]

    def passing(self, u: str) -> list[str]:
        """The nodes next to `u` through at least one passing fact (whatever their class), in
        adjacency order, from the facts' filter values kept per node with the projection
        (memoised for the query: do not change the list)."""
        found = self._passing.get(u)
        if found is not None:
            return found
        around = self.adj[u]
        if self.every_edge:
            found = list(around)
        elif len(around) < _ROW_DEGREE:
            # A few neighbours (a hub): read their facts directly, or when every fact around the
            # node has the same status and dates (a hub's own), check those once.
            min_rank, day, via, exclude = self.min_rank, self.day, self.via, self.exclude
            index = self.index
            same = index.uniform[u] if u in index.uniform else index.find_uniform(u)
            if same is not None:
                rank, first, last = same
                if rank < min_rank or (day is not None and not first <= day <= last):
                    found = []
                    self._passing[u] = found
                    return found
                if not via and not exclude:
                    found = list(around)
                    self._passing[u] = found
                    return found
            found = []
            for v, data in around.items():
                for rank, first, last, term in data["meta"]:
                    if rank < min_rank or (day is not None and not first <= day <= last):
                        continue
                    if (via and term not in via) or term in exclude:
                        continue
                    found.append(v)
                    break
        else:
            vs, ranks, firsts, lasts, terms, multi = self.index.row(u)
            day = self.day
            if self.every_fact:
                assert day is not None
                found = [v for v, f, t in zip(vs, firsts, lasts, strict=True) if f <= day <= t]
            else:
                min_rank, via, exclude = self.min_rank, self.via, self.exclude
                found = [
                    v
                    for v, r, f, t, term in zip(vs, ranks, firsts, lasts, terms, strict=True)
                    if r >= min_rank
                    and (day is None or f <= day <= t)
                    and (not via or term in via)
                    and term not in exclude
                ]
            if multi:  # a node pair with several facts is listed once, where it first passes
                found = list(dict.fromkeys(found))
        self._passing[u] = found
        return found

    def passing_set(self, u: str) -> set[str]:
        found = self._passing_sets.get(u)
        if found is None:
            found = self._passing_sets[u] = set(self.passing(u))
        return found

    def neighbours(self, u: str) -> list[str]:
        """The nodes next to `u` through at least one passing fact, in adjacency order (memoised
        for the query: do not change the list)."""
        if self.every_node:
            return self.passing(u)
        found = self._neighbours.get(u)
        if found is None:
            node_ok = self.node_ok
            found = self._neighbours[u] = [v for v in self.passing(u) if node_ok(v)]
        return found

    def degree(self, n: str) -> int:
        return self.index.degrees[n]  # a self-loop counts twice, as in networkx

    def weight(self, u: str, v: str) -> float:
        """`Projection.weight`, from the degrees and weights kept with the projection."""
        degrees = self.index.degrees
        return self.index.weights[min(degrees[u], degrees[v])]

    # ------------------------------------------------------------------ shortest simple paths

    def toward(self, target: str, depth: int) -> Toward:
        """Nodes within `depth` hops of the target, by hop distance, and for each a lower bound of
        the weight of any path from it to the target: the lightest path with the fewest hops,
        or one hop more of the lightest possible edges, whichever is less. Kept with the
        projection for the same target and filters (a few dozen, least recently used dropped)."""
        key = (
            target,
            depth,
            self.min_rank,
            self.day,
            frozenset(self.via),
            frozenset(self.exclude),
            frozenset(self.excluded_classes),
            frozenset(self.via_classes),
            None if self.every_node else frozenset(self.ends),  # the ends pass any class filter
        )
        cache, lock = self.index.toward, self.index.lock
        with lock:
            found = cache.get(key)
            if found is not None:
                cache.move_to_end(key)
                return found
        found = self._toward(target, depth)
        with lock:
            cache[key] = found
            cache.move_to_end(key)
            while len(cache) > _TOWARD_CACHE:
                cache.popitem(last=False)
        return found

    def _toward(self, target: str, depth: int) -> Toward:
        layers: list[set[str]] = [{target}]
        bound: dict[str, float] = {target: 0.0}
        reached: dict[str, float] = {target: 0.0}
        degrees, weights = self.index.degrees, self.index.weights
        for d in range(1, depth + 1):
            deadline.check()
            layer: dict[str, float] = {}
            for u in layers[-1]:
                base = reached[u]
                du = degrees[u]
                for v in self.neighbours(u):
                    if v in reached:
                        continue
                    w = base + weights[min(du, degrees[v])]
                    if w < layer.get(v, math.inf):
                        layer[v] = w
            for v, w in layer.items():
                reached[v] = w
                bound[v] = min(w, (d + 1) * _W_MIN)
            layers.append(set(layer))
            if not layer:
                break
        within: list[set[str]] = []  # within[r]: nodes at most r hops from the target (r <= depth)
        acc: set[str] = set()
        for layer_ in layers:
            acc = acc | layer_
            within.append(acc)
        return layers, bound, within

    def shortest(self, source: str, target: str, max_hops: int, k: int, toward: Toward) -> list[list[str]]:
        """The `k` lightest simple paths of at most `max_hops` edges, lightest first (ties by their
        nodes), as Yen's algorithm orders them: a best-first search over partial paths whose
        priority adds a lower bound of what remains (so a complete path pops in weight order),
        never extending a path to a node too far from the target for the hops left."""
        if source == target or not self.node_ok(source):
            return []
        layers, bound, within = toward
        depth = len(layers) - 1
        beyond = (depth + 1) * _W_MIN  # the bound for every node outside the layers
        found: list[list[str]] = []
        heap: list[tuple[float, float, tuple[str, ...]]] = [(bound.get(source, beyond), 0.0, (source,))]
        adj, node_ok = self.adj, self.node_ok
        every_edge, every_node, passing_set = self.every_edge, self.every_node, self.passing_set
        metas_ok = self.metas_ok
        degrees, weights = self.index.degrees, self.index.weights
        get_bound, push, pop = bound.get, heapq.heappush, heapq.heappop
        budget, steps = self.budget, 0
        while heap and len(found) < k:
            steps += 1
            if not steps & _CHECK_EVERY:
                deadline.check()  # a request past its time limit stops here
            _f, g, path = pop(heap)
            u = path[-1]
            if u == target:
                found.append(list(path))
                continue
            left = max_hops - len(path)  # hops left after the next one
            if left < 0:
                continue
            # The nodes next to u through a passing fact, in any order (the heap orders the paths),
            # and none that cannot reach the target in the hops left: its paths would only be
            # popped to go nowhere, so leaving them out changes no answer.
            around = adj[u]
            if left <= depth and len(within[left]) < len(around) and u not in self._passing_sets:
                # The next node must be within `left` hops of the target: few enough to check each.
                candidates = [v for v in within[left] if v in around]
                if not every_edge:
                    candidates = [v for v in candidates if metas_ok(around[v]["meta"])]
            else:
                ok: set[str] | dict[str, Any] = around if every_edge else passing_set(u)
                if left <= depth:
                    # The next node must be within `left` hops of the target: walk the smaller side.
                    near = within[left]
                    candidates = (
                        [v for v in near if v in ok] if len(near) < len(ok) else [v for v in ok if v in near]
                    )
                else:
                    candidates = list(ok)
            budget -= len(candidates)
            if budget < 0:
                raise self.over_budget(k)
            du = degrees[u]
            for v in candidates:
                if v in path or not (every_node or node_ok(v)):
                    continue
                g2 = g + weights[min(du, degrees[v])]
                push(heap, (g2 + get_bound(v, beyond), g2, (*path, v)))
        self.budget = budget
        return found

    def over_budget(self, k: int) -> PactgraphError:
        q = self.q
        return PactgraphError(
            Kind.BAD_INPUT,
            f"the path search passed its bound of {self.bound:,} partial paths (PACTGRAPH_PATH_BUDGET) "
            f"before finding {k} candidate paths of at most {q.max_hops} hops: these ends are far apart "
            "or thinly linked; ask for fewer hops (max_hops) or paths (limit), or narrow the search "
            "with as_of, status, via or exclude",
            detail={"bound": "PACTGRAPH_PATH_BUDGET", "partial_paths": self.bound},
        )


def _check_filters(proj: Projection, q: PathQuery) -> None:
    """An unknown name in via/exclude is a typo to report, not a filter that silently matches nothing."""
    if not q.via and not q.exclude:
        return
    proj.prepare()
    classes = set(proj.classes.values())
    predicates = proj.predicates
    for name in (*q.via, *q.exclude):
        known = classes if name[:1].isupper() else predicates
        if name not in known:
            kind = "class" if name[:1].isupper() else "predicate"
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"unknown {kind} {name!r} in via/exclude; known: {', '.join(sorted(known))}",
            )


def find_paths(proj: Projection, q: PathQuery, budget: int = BUDGET) -> dict[str, Any]:
    """Ranked, explained paths from each source to the target, and what the sources share. The
    search considers at most `budget` partial paths (BAD_INPUT past it, naming the bound) and
    stops at the running request's deadline (graph/deadline.py)."""
    _check_filters(proj, q)
    for n in (*q.sources, q.target):
        if n not in proj.graph:
            raise PactgraphError(Kind.NOT_FOUND, f"{proj.label(n)} is not linked to anything in the graph")
    search = _Search(proj, q, budget)
    toward = search.toward(q.target, min(q.max_hops - 1, 2))
    results: dict[str, list[dict[str, Any]]] = {}
    for source in q.sources:
        deadline.check()
        # The lightest paths come first; among a few more candidates than asked for, equal
        # lengths are ordered by how plainly they read (fewer clauses), then by crowding, then text,
        # so the answer does not depend on the order the store returned edges in.
        found = search.shortest(source, q.target, q.max_hops, q.limit * 4, toward)
        # Hops decide first: a path longer than the limit-th shortest is never shown, so it is not
        # explained (telling a path is most of a short query's time).
        most = sorted(len(nodes) for nodes in found)[q.limit - 1] if len(found) > q.limit else math.inf
        candidates = [_explain(proj, nodes, search) for nodes in found if len(nodes) <= most]
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
        "connections": _connections(proj, search, q) if len(q.sources) > 1 else [],
    }


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
        **time_fields(e),
        "status": e.status,
        "evidence": {"graph": e.graph, "sources": list(e.sources), "quote": e.quote},
    }


def time_fields(e: Edge) -> dict[str, Any]:
    """A fact's time as answers give it: its dates as the source gives them, and whether it is
    undated (known from its sources' date on), ongoing as of a day, or its end is exclusive."""
    return {
        "start": e.start,
        "end": e.end,
        "end_exclusive": e.exclusive_end,
        "ongoing_as_of": e.ongoing,
        "undated": e.undated,
        "known_from": e.known_from,
    }


def _best(facts: list[Edge]) -> Edge:
    # Ties (the same statement in several graphs) by graph and ends, not by the order the store
    # returned them in, which differs between backends: the same question, the same answer.
    return min(facts, key=lambda e: (-STATUSES[e.status], e.predicate, e.graph, e.subject, e.object))


def _explain(proj: Projection, nodes: list[str], facts: _Search) -> dict[str, Any]:
    edges = [_best(facts.facts(u, v)) for u, v in pairwise(nodes)]
    clauses = _clauses(proj, nodes, edges)
    degrees = facts.index.degrees
    return {
        "hops": len(edges),
        "nodes": [_node(proj, n) for n in nodes],
        "edges": [_edge_json(proj, e, u) for e, u in zip(edges, nodes, strict=False)],
        "text": "; ".join(clauses) + ".",
        "clauses": len(clauses),
        "crowding": round(sum(math.log1p(degrees[n]) for n in nodes[1:-1]), 6),
    }


def when(e: Edge) -> str:
    """A fact's time in words, with a leading space ("" when it has none to tell)."""
    if e.undated:
        return f" (undated, known from {e.known_from})" if e.known_from else " (undated, no dated source)"
    until = f"until before {e.end}" if e.exclusive_end else f"until {e.end}"
    if e.start and e.end:
        return f" from {e.start} {until}"
    if e.end:
        return f" {until}"
    if e.start and e.ongoing:
        return f" since {e.start}, ongoing as of {e.ongoing}"
    if e.start:
        return f" on {e.start}" if e.dated else f" since {e.start}"
    if e.ongoing:
        return f" ongoing as of {e.ongoing}"
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
        if cls == "Tenure" and i + 1 < len(edges):
            told = _tenure_clause(proj, u, hub, nodes[i + 2], edges[i], edges[i + 1])
            if told is not None:
                clauses.append(told)
                i += 2
                continue
        role = HUB_VERBS.get(cls) or (
            HUB_VERBS["Agreement"] if hub in proj.hubs and _is_agreement(proj, hub) else None
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
                clauses.append(f"{proj.label(u)} {verb} {proj.label(v)}{when(e1)}{_cite(e1)}")
                i += 2
                continue
        e = edges[i]
        forward = e.subject == u
        reading, inverse = proj.readings.get(e.predicate, (_term(e.predicate), _term(e.predicate)))
        verb = reading if forward else inverse
        clauses.append(f"{proj.label(u)} {verb} {proj.label(nodes[i + 1])}{when(e)}{_cite(e)}")
        i += 1
    return clauses


def _tenure_clause(proj: Projection, u: str, tenure: str, v: str, e1: Edge, e2: Edge) -> str | None:
    """A tenure (not a hub: a leader's spell) told as the verb between its holder and its office or
    state, with the tenure's dates and sources: "Vladimir Putin led Russia as President of Russia
    since 2012-05-07, ongoing as of 2025-01-20 [wikipedia-vladimir-putin]"; None for other links."""
    first, second = _term(e1.predicate), _term(e2.predicate)
    for roles in (HUB_VERBS["Tenure"], TENURE_OF_STATE):
        if (first, second) == roles[:2]:
            verb = roles[2]
            break
        if (first, second) == (roles[1], roles[0]):
            verb = roles[3]
            break
    else:
        return None
    office = _office(proj, tenure) if "ofState" in (first, second) else None
    as_office = f" as {proj.label(office)}" if office else ""
    return f"{proj.label(u)} {verb} {proj.label(v)}{as_office}{when(e1)}{_cite(e1)}"


def _office(proj: Projection, tenure: str) -> str | None:
    """The office a tenure is of, if it names one (the bundled tenures and Wikidata's do)."""
    for n in sorted(proj.graph.neighbors(tenure)):
        if any(
            e.subject == tenure and _term(e.predicate) == "office" for e in proj.graph[tenure][n]["facts"]
        ):
            return n
    return None


def _is_agreement(proj: Projection, hub: str) -> bool:
    return proj.classes.get(hub) in ("Agreement", "Treaty", "StrategicPartnership", "DefencePact")


def _item(proj: Projection, hub: str) -> str | None:
    """The label of what a hub (an arms transfer) is about, kept with the projection."""
    items = _index(proj).items
    if hub in items:
        return items[hub]
    found = items[hub] = _find_item(proj, hub)
    return found


def _find_item(proj: Projection, hub: str) -> str | None:
    for n in proj.graph.neighbors(hub):
        for e in proj.graph[hub][n]["facts"]:
            if e.subject == hub and _term(e.predicate) == "item":
                return proj.label(n)
    return None


def _within(search: _Search, source: str, cutoff: int, keep: set[str] | None = None) -> dict[str, str]:
    """networkx's single_source_shortest_path over the query's view, as each node's predecessor
    on its path (the source its own): the same paths, found in the same adjacency order, without
    a view's per-edge calls or a list per node. With `keep`, nodes of the last level outside it
    are left out (their paths are not wanted; no other path goes through them)."""
    before = {source: source}
    level: list[str] = [source]
    for depth in range(cutoff):
        deadline.check()
        following: list[str] = []
        last = keep if depth == cutoff - 1 else None
        for v in level:
            for w in search.neighbours(v):
                if w not in before and (last is None or w in last):
                    before[w] = v
                    following.append(w)
        if not following:
            break
        # In a fixed order, not the store's (which differs between backends): a node reached from
        # several of this level gets the same predecessor, so the same path, on every backend.
        level = sorted(following) if depth < cutoff - 1 else following
    return before


def _path(before: dict[str, str], n: str) -> list[str]:
    """The path to `n` from the source of `_within`'s predecessors."""
    path = [n]
    while (n := before[n]) != path[-1]:
        path.append(n)
    return path[::-1]


def _connections(proj: Projection, facts: _Search, q: PathQuery) -> list[dict[str, Any]]:
    """What every source shares: a hub each links to directly (an agreement they both signed, an
    arms transfer between them) or an actor each reaches through one hub (both supported
    Assad's government, both are sanctioned by the United States)."""
    reach: list[dict[str, str]] = []
    common: set[str] | None = None
    for source in q.sources:
        before = _within(facts, source, 2, common)
        reach.append(before)
        # Built as it always was (a set of a dict's keys in path order, then & keys): nodes that
        # tie in the ranking below keep the order this set iterates in.
        found = dict.fromkeys(n for n in before if n not in q.sources)
        common = set(found) if common is None else common & found.keys()
    assert common is not None
    common.discard(q.target)
    # Hubs reached in one hop by everyone, and actors reached through a hub by everyone.
    ranked = sorted(common, key=lambda n: (n not in proj.hubs, proj.label(n), n))
    out: list[dict[str, Any]] = []
    for n in ranked:
        one_hop = all(r[n] == s for r, s in zip(reach, q.sources, strict=True))
        through_records = not one_hop and all(
            r[n] == s or (proj.classes.get(r[n]) in _RECORD_CLASSES and r[r[n]] == s)
            for r, s in zip(reach, q.sources, strict=True)
        )
        if not ((n in proj.hubs and (one_hop or through_records)) or n in proj.actors):
            continue
        if len(out) == 25:
            break
        deadline.check()
        explained = [_public(_explain(proj, _path(r, n), facts)) for r in reach]
        out.append(
            {
                "node": _node(proj, n),
                "text": _hub_sentence(proj, n, facts)
                if n in proj.hubs and one_hop
                else " ".join(p["text"] for p in explained),
                "paths": explained,
            }
        )
    return out


def _hub_sentence(proj: Projection, hub: str, facts: _Search) -> str:
    """A hub told as the relation it records: "Iran supplied Shahed-136 to Russia since 2022-08 […]"."""
    cls = proj.classes.get(hub, "")
    role = HUB_VERBS.get(cls) or (HUB_VERBS["Agreement"] if _is_agreement(proj, hub) else None)
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
        return f"{subject} {verb}{when(evidence)}{_cite(evidence)}."
    objects = ends.get(role[1], [])
    verb = role[2].format(item=_item(proj, hub) or "arms", hub=proj.label(hub))
    return f"{' and '.join(ends[role[0]])} {verb} {' and '.join(objects)}{when(evidence)}{_cite(evidence)}."
