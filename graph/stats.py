"""Counts a user checks first: triples per named graph, instances per class."""

from __future__ import annotations

from dataclasses import dataclass

from pactgraph.graph.store import Store


@dataclass(frozen=True)
class Stats:
    graphs: dict[str, int]
    classes: dict[str, int]

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def stats(store: Store) -> Stats:
    graphs = store.select(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    )
    classes = store.select(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n) ?c"
    )
    return Stats(
        graphs={
            str(r["g"]): int(str(r["n"]))
            for r in graphs
            if not str(r["g"]).startswith("urn:pactgraph:staging:")
        },
        classes={str(r["c"]): int(str(r["n"])) for r in classes},
    )
