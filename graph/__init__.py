"""The pactgraph library: store, ingest, query, validation and statistics.

from pathlib import Path
from pactgraph.graph import ingest, load_ontology, open_store, read_sources

store = open_store("oxigraph:./store")  # or "memory:"
load_ontology(store)
ingest(store, read_sources([Path("data")]))
store.select("PREFIX pg: <https://pactgraph.org/ontology#> SELECT ?s WHERE { ?s a pg:State }")
"""

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.ingest import (
    IngestResult,
    SourceInput,
    ensure_ontology,
    graph_for,
    ingest,
    load_ontology,
    parse,
    read_sources,
)
from pactgraph.graph.shacl import Report, Violation, validate
from pactgraph.graph.sparql import Answer, answer, refuse_unsafe
from pactgraph.graph.stats import Stats, stats
from pactgraph.graph.store import Store, default_store_url, open_store

__all__ = [
    "Answer",
    "IngestResult",
    "Kind",
    "PactgraphError",
    "Report",
    "SourceInput",
    "Stats",
    "Store",
    "Violation",
    "answer",
    "default_store_url",
    "ensure_ontology",
    "graph_for",
    "ingest",
    "load_ontology",
    "open_store",
    "parse",
    "read_sources",
    "refuse_unsafe",
    "stats",
    "validate",
]
