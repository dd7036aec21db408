"""The cost of counting the row limit on the engine's output (issue 18, point 1a).

A small answer (LIMIT 5) is serialized two ways in the same run: without a row limit (the
engine writes the asked format directly: the baseline) and with one (the engine writes one
line per row into a capped sink, then the asked format from those lines: what the server does
for every query now). Prints each path's time and the ratio to the baseline.

    python bench/row_limit_bench.py
"""

from __future__ import annotations

import time

import pyoxigraph as ox

from pactgraph.graph.sparql import _serialize

QUERIES = [
    ("SELECT ?s ?o WHERE { ?s ?p ?o } LIMIT 5", "json"),
    ("SELECT ?s ?o WHERE { ?s ?p ?o } LIMIT 5", "xml"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 5", "turtle"),
]


def _store() -> ox.Store:
    store = ox.Store()
    p = ox.NamedNode("https://example.org/p")
    store.extend(
        ox.Quad(ox.NamedNode(f"https://example.org/{i}"), p, ox.Literal(f"label {i}"), ox.DefaultGraph())
        for i in range(5000)
    )
    return store


def _per_answer(store: ox.Store, query: str, fmt: str, max_rows: int | None, n: int = 2000) -> float:
    """Best of 7 runs of n answers, in microseconds per answer (query and serialization)."""
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(n):
            _serialize(store.query(query), query, fmt, max_rows)
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def main() -> None:
    store = _store()
    print(f"{'query':<12} {'format':<7} {'no limit':>10} {'counted':>10} {'ratio':>6}")
    for query, fmt in QUERIES:
        direct = _per_answer(store, query, fmt, None)
        counted = _per_answer(store, query, fmt, 10_000)
        print(f"{query.split()[0]:<12} {fmt:<7} {direct:>8.1f}us {counted:>8.1f}us {counted / direct:>6.2f}")


if __name__ == "__main__":
    main()
