"""The pactgraph ontology: its namespace, entity and graph bases, and the paths of its Turtle files."""

from pathlib import Path

from rdflib import Namespace, URIRef

HERE = Path(__file__).parent
ONTOLOGY_PATH = HERE / "pactgraph.ttl"
SHAPES_PATH = HERE / "shapes.ttl"

PG = Namespace("https://pactgraph.org/ontology#")
ENTITY_BASE = "https://pactgraph.org/id/"
GRAPH_BASE = "https://pactgraph.org/graph/"
ID = Namespace(ENTITY_BASE)

ONTOLOGY_IRI = URIRef("https://pactgraph.org/ontology")
ONTOLOGY_GRAPH = URIRef(GRAPH_BASE + "ontology")

__all__ = [
    "ENTITY_BASE",
    "GRAPH_BASE",
    "ID",
    "ONTOLOGY_GRAPH",
    "ONTOLOGY_IRI",
    "ONTOLOGY_PATH",
    "PG",
    "SHAPES_PATH",
]
