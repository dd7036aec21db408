"""Small writes on a large store, and what set semantics cost queries: figures for issues 13 and 16.

1. **Small writes.** Every write is checked before it is made (graph/writes.py): an update is
   worked out as a change (graph/update.py), its nodes checked against the shapes, the merge kept in
   step. On a store holding the benchmark world (bulk-loaded, as the sparql part's store), each
   small write below runs `--repeat` times through pactgraph and, as the baseline, through
   pyoxigraph's own `Store.update` on a copy of the same store (no check, no merge): median ms.
2. **The merge as default graph.** The six queries of the sparql part, in process, on one on-disk
   store laid out as pactgraph's (the merge in Oxigraph's default graph, queried plainly) and on
   one without it, queried over the union (`use_default_graph_as_union`, what pactgraph did before
   issue 13): median ms each and the geometric mean of the ratios. No HTTP, so the machine's noise
   is mostly out of it.

    python bench/write_bench.py --triples 100000 [--repeat 20] [--out bench/results/write.json]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import URIRef
from sparql_bench import queries
from world import ID, PG

from pactgraph.graph import load_ontology, open_store, writes
from pactgraph.ontology import GRAPH_BASE

HERE = Path(__file__).parent


def _world(triples: int) -> tuple[Path, dict[str, Any]]:
    data = HERE / "results" / "data"
    nt = data / f"world-{triples}.nt"
    if not nt.exists():
        raise SystemExit(f"{nt} is missing: python bench/world.py --triples {triples} --out {data}")
    return nt, json.loads((data / f"world-{triples}.json").read_text())


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def small_writes(nt: Path, world: dict[str, Any], repeat: int, tmp: Path) -> list[dict[str, Any]]:
    graph = GRAPH_BASE + "world"
    store_dir = tmp / "pactgraph"
    raw = ox.Store(str(tmp / "raw"))
    raw.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    raw.flush()
    del raw
    shutil.copytree(tmp / "raw", store_dir)
    raw = ox.Store(str(tmp / "raw"))
    store = open_store(f"oxigraph:{store_dir}")  # builds the merge once, as serve would
    load_ontology(store)
    state, other = world["states"][3]["iri"], world["states"][10]["iri"]
    source = f"{ID}source/bench-hand-added"
    fact = f"{ID}sanction/bench-hand-added"
    source_ttl = (
        f'<{source}> a <{PG}Source> ; <http://www.w3.org/2000/01/rdf-schema#label> "A note"@en ; '
        f'<http://purl.org/dc/terms/title> "A note" ; <http://purl.org/dc/terms/publisher> "the bench" .'
    )
    sanction = (
        f"<{fact}> a <{PG}Sanction> ; <{PG}imposer> <{state}> ; <{PG}target> <{other}> ; "
        f'<{PG}start> "2024-12"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> ; '
        f"<{PG}status> <{PG}Confirmed> ; <{PG}source> <{source}> ."
    )
    hand = GRAPH_BASE + "bench-hand-added"
    writes.put_graph(store, URIRef(hand), source_ttl.encode(), "text/turtle")
    code = str(store.select(f"SELECT ?c WHERE {{ <{state}> <{PG}isoAlpha2> ?c }}")[0]["c"])
    raw.update(f"INSERT DATA {{ GRAPH <{hand}> {{ {source_ttl} }} }}")
    cases = {
        "INSERT DATA, one valid fact (7 triples)": (
            f"INSERT DATA {{ GRAPH <{hand}> {{ {sanction} }} }}",
            f"DELETE DATA {{ GRAPH <{hand}> {{ {sanction} }} }}",
        ),
        "DELETE/INSERT WHERE on one node": (
            f"DELETE {{ GRAPH <{graph}> {{ <{state}> <{PG}isoAlpha2> ?c }} }} "
            f"INSERT {{ GRAPH <{graph}> {{ <{state}> <{PG}isoAlpha2> 'ZZ' }} }} "
            f"WHERE {{ GRAPH <{graph}> {{ <{state}> <{PG}isoAlpha2> ?c }} }}",
            f"DELETE {{ GRAPH <{graph}> {{ <{state}> <{PG}isoAlpha2> 'ZZ' }} }} "
            f"INSERT {{ GRAPH <{graph}> {{ <{state}> <{PG}isoAlpha2> '{code}' }} }} WHERE {{ }}",
        ),
        "INSERT DATA into the default graph, one triple": (
            f"INSERT DATA {{ <{state}> <{PG}note> 'bench' }}",
            f"DELETE DATA {{ <{state}> <{PG}note> 'bench' }}",
        ),
    }
    rows = []
    for name, (do, undo) in cases.items():

        def ours(do: str = do, undo: str = undo) -> None:
            writes.update(store, do)
            writes.update(store, undo)

        def engine(do: str = do, undo: str = undo) -> None:
            raw.update(do)
            raw.update(undo)

        ours()
        engine()  # warm both
        rows.append(
            {
                "write": name + " (then undone)",
                "pactgraph_ms": round(_median_ms(ours, repeat), 2),
                "pyoxigraph_update_ms": round(_median_ms(engine, repeat), 2),
            }
        )
    store.close()
    return rows


def merge_vs_union(nt: Path, world: dict[str, Any], repeat: int, tmp: Path) -> dict[str, Any]:
    g = ox.NamedNode(GRAPH_BASE + "world")
    union = ox.Store(str(tmp / "union"))
    union.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES, to_graph=g)
    merged = ox.Store(str(tmp / "merged"))
    merged.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES, to_graph=g)
    default = ox.DefaultGraph()
    merged.bulk_extend(
        ox.Quad(q.subject, q.predicate, q.object, default)
        for q in merged.quads_for_pattern(None, None, None, g)
    )

    def count(store: ox.Store, q: str, **kw: Any) -> int:
        result = store.query(q, **kw)
        return sum(1 for _ in result) if isinstance(result, ox.QuerySolutions) else 1

    rows = []
    for name, q in queries(world).items():
        assert count(union, q, use_default_graph_as_union=True) == count(merged, q), name
        before = statistics.median(
            _median_ms(lambda q=q: count(union, q, use_default_graph_as_union=True), repeat) for _ in range(3)
        )
        after = statistics.median(_median_ms(lambda q=q: count(merged, q), repeat) for _ in range(3))
        rows.append(
            {
                "query": name,
                "union_ms": round(before, 3),
                "merge_ms": round(after, 3),
                "ratio": round(after / before, 3),
            }
        )
    geomean = math.exp(sum(math.log(r["ratio"]) for r in rows) / len(rows))
    return {"queries": rows, "geomean_merge_over_union": round(geomean, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    nt, world = _world(args.triples)
    with tempfile.TemporaryDirectory(dir=HERE / "results") as tmp:
        started = time.time()
        result = {
            "triples": args.triples,
            "small_writes": small_writes(nt, world, args.repeat, Path(tmp)),
            "merge_vs_union": merge_vs_union(nt, world, args.repeat, Path(tmp)),
            "seconds": round(time.time() - started, 1),
        }
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
