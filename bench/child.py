"""Work the benchmark measures in a child process (so its peak memory is its own), printing JSON.

python bench/child.py bulk-load --file F --store DIR [--graph IRI]
python bench/child.py pactgraph-ingest --file F --store DIR [--validate]
python bench/child.py prepare-store --file F --store DIR
python bench/child.py projection --store DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import time
from pathlib import Path
from typing import Any


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _format(path: str) -> Any:
    import pyoxigraph as ox

    return ox.RdfFormat.N_TRIPLES if path.endswith(".nt") else ox.RdfFormat.TURTLE


def bulk_load(file: str, store: str, graph: str | None) -> dict[str, Any]:
    """pyoxigraph's own bulk loader into a fresh on-disk store: the reference for ingest."""
    import pyoxigraph as ox

    started = time.perf_counter()
    db = ox.Store(store)
    db.bulk_load(path=file, format=_format(file), to_graph=ox.NamedNode(graph) if graph else None)
    db.flush()
    seconds = time.perf_counter() - started
    n = len(db)
    del db
    return {"seconds": seconds, "triples": n, "peak_rss_mib": _peak_mib()}


def pactgraph_ingest(file: str, store: str, validate: bool) -> dict[str, Any]:
    """pactgraph's ingest (parse, describe, [SHACL], atomic write) of one file, as the CLI does it;
    the clock starts after the store is open and the ontology loaded (the CLI's fixed costs)."""
    from pactgraph.graph import ingest, load_ontology, open_store, read_sources

    db = open_store(f"oxigraph:{store}")
    load_ontology(db)
    rss_before = _rss_mib()
    started = time.perf_counter()
    result = ingest(db, read_sources([Path(file)]), validate_shapes=validate)
    db.flush()
    seconds = time.perf_counter() - started
    db.close()
    return {
        "seconds": seconds,
        "triples": result.triples,
        "rss_before_mib": rss_before,
        "peak_rss_mib": _peak_mib(),
    }


def prepare_store(file: str, store: str, loaded: bool) -> dict[str, Any]:
    """The store `pactgraph ingest FILE` would leave (ontology graph, the file's graph with its
    description), written with pyoxigraph's bulk loader in seconds rather than pactgraph's ingest.
    `loaded`: the file is in its graph already (a copy of the ingest part's bulk-loaded store)."""
    import pyoxigraph as ox

    from pactgraph.graph import load_ontology, open_store
    from pactgraph.graph.ingest import graph_for

    path = Path(file)
    graph = str(graph_for(path.name))
    started = time.perf_counter()
    db = open_store(f"oxigraph:{store}")
    load_ontology(db)
    db.close()
    raw = ox.Store(store)
    if not loaded:
        raw.bulk_load(path=file, format=_format(file), to_graph=ox.NamedNode(graph))
    pg = "https://pactgraph.org/ontology#"
    g = ox.NamedNode(graph)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    quads = [
        ox.Quad(
            g,
            ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.NamedNode(pg + "SourceGraph"),
            g,
        ),
        ox.Quad(g, ox.NamedNode(pg + "ingestedFrom"), ox.Literal(path.name), g),
        ox.Quad(g, ox.NamedNode(pg + "sha256"), ox.Literal(digest), g),
    ]
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for q in raw.quads_for_pattern(None, rdf_type, ox.NamedNode(pg + "Source"), g):
        quads.append(ox.Quad(g, ox.NamedNode(pg + "describes"), q.subject, g))
    raw.extend(quads)
    # And the merge of the graphs in the default graph, as every write through pactgraph keeps it
    # (graph/store.py): the ontology's is there already, the file's graph joins it.
    default = ox.DefaultGraph()
    raw.bulk_extend(
        ox.Quad(q.subject, q.predicate, q.object, default) for q in raw.quads_for_pattern(None, None, None, g)
    )
    raw.flush()
    n = len(raw)
    del raw
    return {"seconds": time.perf_counter() - started, "quads": n, "graph": graph}


def projection(store: str) -> dict[str, Any]:
    """Build the path projection and the name index as `serve` does before it is ready."""
    from pactgraph.graph import open_store
    from pactgraph.graph.names import NameIndex
    from pactgraph.graph.projection import build

    opened = time.perf_counter()
    db = open_store(f"oxigraph:{store}")
    open_seconds = time.perf_counter() - opened
    rss_open = _rss_mib()
    started = time.perf_counter()
    proj = build(db)
    build_seconds = time.perf_counter() - started
    rss_projection = _rss_mib()
    started = time.perf_counter()
    NameIndex.build(db)
    names_seconds = time.perf_counter() - started
    rss_names = _rss_mib()
    out = {
        "open_seconds": open_seconds,
        "build_seconds": build_seconds,
        "names_seconds": names_seconds,
        "nodes": proj.graph.number_of_nodes(),
        "edges": proj.graph.number_of_edges(),
        "facts": sum(len(d["facts"]) for _u, _v, d in proj.graph.edges(data=True)),
        "rss_open_mib": rss_open,
        "rss_after_projection_mib": rss_projection,
        "rss_after_names_mib": rss_names,
        "projection_mib": rss_projection - rss_open,
        "peak_rss_mib": _peak_mib(),
    }
    db.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["bulk-load", "pactgraph-ingest", "prepare-store", "projection"])
    parser.add_argument("--file")
    parser.add_argument("--store", required=True)
    parser.add_argument("--graph")
    parser.add_argument("--validate", action="store_true")
    parser.add_argument("--loaded", action="store_true", help="prepare-store: the file is loaded already")
    args = parser.parse_args()
    if args.what == "bulk-load":
        out = bulk_load(args.file, args.store, args.graph)
    elif args.what == "pactgraph-ingest":
        out = pactgraph_ingest(args.file, args.store, args.validate)
    elif args.what == "prepare-store":
        out = prepare_store(args.file, args.store, args.loaded)
    else:
        out = projection(args.store)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
