"""The ontology keeps DESIGN.md's rules: every term documented, every property readable."""

from __future__ import annotations

from rdflib import OWL, RDF, RDFS, Graph, URIRef

from pactgraph.ontology import ONTOLOGY_IRI, ONTOLOGY_PATH, PG, SHAPES_PATH


def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_PATH)


def test_every_property_has_label_comment_domain_range_and_reading() -> None:
    g = ontology()
    properties = [p for k in (OWL.ObjectProperty, OWL.DatatypeProperty) for p in g.subjects(RDF.type, k)]
    assert len(properties) > 60
    for p in properties:
        for needed in (RDFS.label, RDFS.comment, RDFS.domain, RDFS.range, PG.reading):
            assert g.value(p, needed) is not None, f"{p} has no {needed}"


def test_every_class_has_label_and_comment() -> None:
    g = ontology()
    for c in g.subjects(RDF.type, OWL.Class):
        if isinstance(c, URIRef) and c.startswith(str(PG)):
            assert g.value(c, RDFS.label) is not None and g.value(c, RDFS.comment) is not None, c


def test_version_and_alignments() -> None:
    g = ontology()
    assert g.value(ONTOLOGY_IRI, OWL.versionInfo) is not None
    assert (PG.Person, OWL.equivalentClass, URIRef("https://schema.org/Person")) in g
    assert (
        PG.State,
        URIRef("http://www.w3.org/2004/02/skos/core#exactMatch"),
        URIRef("http://www.wikidata.org/entity/Q3624078"),
    ) in g


def test_shapes_parse() -> None:
    assert len(Graph().parse(SHAPES_PATH)) > 300
