"""The compiled SHACL validator (shapes → SPARQL on Oxigraph) against pyshacl, the reference.

Both run on the bundled data, a small synthetic world and a graph broken in every way shapes.ttl can
catch; they must report the same (focus, path, rule) triples. Unsupported SHACL features must raise.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from pactgraph.data import REFERENCE_DIR, SEED_DIR
from pactgraph.graph.shacl import (
    VALIDATION_ONTOLOGY_GRAPH,
    Report,
    UnsupportedShapeError,
    compile_shapes,
    validate,
    validate_pyshacl,
    validate_store,
)

REPO = Path(__file__).resolve().parents[2]

PREFIXES = """
@base <https://pactgraph.org/id/> .
@prefix pg: <https://pactgraph.org/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
"""

ID = "https://pactgraph.org/id/"
PG = "https://pactgraph.org/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def keys(report: Report) -> set[tuple[str, str | None, str]]:
    return {(v.focus, v.path, v.rule) for v in report.violations}


def both(data: Graph, shapes: Graph | None = None) -> tuple[Report, Report]:
    reference = validate_pyshacl(data, shapes=shapes)
    if shapes is None:
        compiled = validate(data)
    else:
        store = ox.Store()
        store.load(data.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
        compiled = validate_store(store, compile_shapes(shapes))
    return reference, compiled


def turtle(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle")


@pytest.fixture(scope="module")
def bundled() -> Graph:
    g = Graph()
    for path in sorted(SEED_DIR.glob("*.ttl")) + sorted(REFERENCE_DIR.glob("*.ttl")):
        g.parse(path)
    return g


def test_bundled_data_conforms_in_both(bundled: Graph) -> None:
    reference, compiled = both(bundled)
    assert reference.conforms, reference.text()
    assert compiled.conforms, compiled.text()


def test_synthetic_world_conforms_in_both(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_world", REPO / "bench" / "world.py")
    assert spec is not None and spec.loader is not None
    world = importlib.util.module_from_spec(spec)
    sys.modules["bench_world"] = world
    spec.loader.exec_module(world)
    world.write(2500, tmp_path, seed=7, name="w", states=12)
    data = Graph().parse(tmp_path / "w.nt", format="nt")
    assert len(data) > 1500
    reference, compiled = both(data)
    assert reference.conforms, reference.text()
    assert compiled.conforms, compiled.text()
    store = ox.Store()
    store.bulk_load(path=str(tmp_path / "w.nt"), format=ox.RdfFormat.N_TRIPLES)
    assert validate_store(store).conforms


# One graph, broken in every way the shapes can see; each focus node breaks one thing (or a few).
BROKEN = """
<source/ok> a pg:Source ; rdfs:label "a source"@en ; dcterms:title "T"@en ; dcterms:publisher "P"@en .
<person/ok> a pg:Person ; rdfs:label "Someone"@en .
<state/AAA> a pg:State ; rdfs:label "Aland"@en ; pg:isoAlpha3 "AAA" .
<state/BBB> a pg:State ; rdfs:label "Bland"@en ; pg:isoAlpha3 "BBB" .
<org/alliance> a pg:Alliance ; rdfs:label "An alliance"@en .
<conflict/war> a pg:Conflict ; rdfs:label "A war"@en .
<office/ok> a pg:Office ; rdfs:label "President"@en ; pg:officeOf <state/AAA> .

<state/nolabel> a pg:State ; pg:isoAlpha3 "NOL" .
<state/plainlabel> a pg:State ; rdfs:label "Plain" ; pg:isoAlpha3 "PLA" .
<state/twolabels> a pg:State ; rdfs:label "One"@en, "Two"@EN, "Eins"@de ; pg:isoAlpha3 "TWO" .
<state/twocodes> a pg:State ; rdfs:label "Twocodes"@en ; pg:isoAlpha3 "TWC", "TWD" .
<state/badpattern> a pg:State ; rdfs:label "Bad"@en ; pg:isoAlpha3 "ru" ; pg:isoAlpha2 "RUS" ; pg:isoNumeric "64" .
<state/nocode> a pg:State ; rdfs:label "Nocode"@en .
<state/langcode> a pg:State ; rdfs:label "Langcode"@en ; pg:isoAlpha3 "LAN"@en .
<state/badints> a pg:State ; rdfs:label "Badints"@en ; pg:isoAlpha3 "BIN" ; pg:gwCode "abc"^^xsd:integer ;
    pg:cowCode "365" .
<state/wikidata> a pg:State ; rdfs:label "Wiki"@en ; pg:isoAlpha3 "WIK" ; pg:wikidataId "X12", "Q0" .
<thing/wikidata> pg:wikidataId "Q7"@en .

<office/orphan> a pg:Office ; rdfs:label "Orphan office"@en ; pg:officeOf <source/ok> .

<agreement/one> a pg:StrategicPartnership ; rdfs:label "One-sided"@en ; pg:signatory <state/AAA> ;
    pg:signingDate "sometime" ; pg:source <source/ok> ; pg:termYears 0 ; pg:coversDomain pg:Confirmed ;
    pg:signedBy <state/AAA> .
<agreement/bad> a pg:Treaty ; rdfs:label "Bad treaty"@en ; pg:signatory <state/AAA>, <source/ok> ;
    pg:signingDate "2020-02-30"^^xsd:date, "2020"^^xsd:gYear ; pg:termYears "twenty"^^xsd:integer ;
    pg:coversDomain pg:Energy .
<agreement/ok> a pg:DefencePact ; rdfs:label "Good pact"@en ; pg:signatory <state/AAA>, <org/alliance> ;
    pg:signingDate "2020-05"^^xsd:gYearMonth ; pg:source <source/ok> ; pg:termYears 20 ;
    pg:coversDomain pg:Defence ; pg:signedBy <person/ok> .

<tenure/backwards> a pg:Tenure ; pg:holder <state/AAA> ; pg:start "2021-05-03"^^xsd:date ;
    pg:ofState <state/AAA> ; pg:role pg:EffectiveLeader ;
    pg:end "2020"^^xsd:gYear ; pg:status pg:Confirmed ; pg:source <source/ok> .
<tenure/nooffice> a pg:Tenure ; pg:holder <person/ok> ; pg:start "2021"^^xsd:gYear ; pg:role pg:Confirmed ;
    pg:status pg:Confirmed ; pg:source <source/ok> .
<tenure/samemonth> a pg:Tenure ; pg:holder <person/ok> ; pg:office <office/ok> ; pg:start "2024-12-08"^^xsd:date ;
    pg:end "2024-12"^^xsd:gYearMonth ; pg:status pg:Reported ; pg:source <source/ok> .
<tenure/twostarts> a pg:Tenure ; pg:holder <person/ok> ; pg:office <office/ok>, <office/orphan> ;
    pg:start "2001"^^xsd:gYear, "2002"^^xsd:gYear ; pg:status pg:Maybe, pg:Confirmed ; pg:source <source/ok> .

<membership/bad> a pg:Membership ; pg:member <org/alliance> ; pg:organisation <state/AAA> ;
    pg:status pg:Maybe, pg:Denied ; pg:source <person/ok> ; pg:quote "no language" .
<membership/ok> a pg:Membership ; pg:member <state/AAA> ; pg:organisation <org/alliance> ;
    pg:start "1999"^^xsd:gYear ; pg:status pg:Disputed ; pg:source <source/ok> ; pg:quote "quoted"@en .
<sanction/bad> a pg:Sanction ; pg:target <state/BBB> ; pg:status pg:Confirmed ; pg:source <source/ok> ;
    pg:start "2022-02-28T00:00:00"^^xsd:dateTime .
<support/bad> a pg:ArmsTransfer ; pg:supporter <state/AAA> ; pg:recipient <conflict/war> ;
    pg:status pg:Confirmed ; pg:source <source/ok> .
<participation/bad> a pg:Participation ; pg:participant <state/AAA>, <state/BBB> ; pg:conflict <state/BBB> ;
    pg:status pg:Confirmed ; pg:source <source/ok> .
<cooperation/bad> a pg:Cooperation ; pg:participants <state/AAA>, <state/AAA> ; pg:status pg:Confirmed ;
    pg:source <source/ok> .

<event/bad> a pg:Inauguration ; rdfs:label "Inauguration"@en ; pg:source <source/ok> .
<statement/bad> a pg:Statement ; pg:speaker <state/AAA> ; pg:quote "no tag" ; pg:source <source/ok> .
<measurement/bad> a pg:Measurement ; pg:value "1.5" ; pg:source <source/ok> .
<source/bad> a pg:Source ; rdfs:label "Bad source"@en ; dcterms:title "T"@en ; pg:url "not a uri type" ;
    pg:retrieved "2025"^^xsd:gYear .
"""

EXPECTED = {
    (ID + "state/nolabel", RDFS_LABEL, "MinCountConstraintComponent"),
    (ID + "state/plainlabel", RDFS_LABEL, "DatatypeConstraintComponent"),
    (ID + "state/twolabels", RDFS_LABEL, "UniqueLangConstraintComponent"),
    (ID + "state/twocodes", PG + "isoAlpha3", "MaxCountConstraintComponent"),
    (ID + "state/badpattern", PG + "isoAlpha3", "PatternConstraintComponent"),
    (ID + "state/badpattern", PG + "isoAlpha2", "PatternConstraintComponent"),
    (ID + "state/badpattern", PG + "isoNumeric", "PatternConstraintComponent"),
    (ID + "state/nocode", None, "SPARQLConstraintComponent"),  # no ISO, COW or GW code
    (ID + "state/langcode", PG + "isoAlpha3", "DatatypeConstraintComponent"),
    (ID + "state/badints", PG + "gwCode", "DatatypeConstraintComponent"),
    (ID + "state/badints", PG + "cowCode", "DatatypeConstraintComponent"),
    (ID + "state/wikidata", PG + "wikidataId", "MaxCountConstraintComponent"),
    (ID + "state/wikidata", PG + "wikidataId", "PatternConstraintComponent"),
    (ID + "thing/wikidata", PG + "wikidataId", "DatatypeConstraintComponent"),
    (ID + "office/orphan", PG + "officeOf", "ClassConstraintComponent"),
    (ID + "agreement/one", PG + "signatory", "MinCountConstraintComponent"),
    (ID + "agreement/one", PG + "signingDate", "OrConstraintComponent"),
    (ID + "agreement/one", PG + "termYears", "MinExclusiveConstraintComponent"),
    (ID + "agreement/one", PG + "coversDomain", "ClassConstraintComponent"),
    (ID + "agreement/one", PG + "signedBy", "ClassConstraintComponent"),
    (ID + "agreement/bad", PG + "signatory", "ClassConstraintComponent"),
    (ID + "agreement/bad", PG + "signingDate", "MaxCountConstraintComponent"),
    (ID + "agreement/bad", PG + "signingDate", "OrConstraintComponent"),
    (ID + "agreement/bad", PG + "termYears", "DatatypeConstraintComponent"),
    (ID + "agreement/bad", PG + "source", "MinCountConstraintComponent"),
    (ID + "tenure/backwards", None, "SPARQLConstraintComponent"),
    (ID + "tenure/backwards", PG + "holder", "ClassConstraintComponent"),
    (ID + "tenure/nooffice", None, "SPARQLConstraintComponent"),  # neither an office nor a state and role
    (ID + "tenure/nooffice", PG + "role", "InConstraintComponent"),
    (ID + "tenure/twostarts", PG + "start", "MaxCountConstraintComponent"),
    (ID + "tenure/twostarts", PG + "office", "MaxCountConstraintComponent"),
    (ID + "membership/bad", PG + "status", "MaxCountConstraintComponent"),
    (ID + "membership/bad", PG + "organisation", "ClassConstraintComponent"),
    (ID + "membership/bad", PG + "status", "ClassConstraintComponent"),
    (ID + "membership/bad", PG + "source", "ClassConstraintComponent"),
    (ID + "membership/bad", PG + "quote", "DatatypeConstraintComponent"),
    (ID + "membership/bad", PG + "start", "MinCountConstraintComponent"),
    (ID + "sanction/bad", PG + "imposer", "MinCountConstraintComponent"),
    (ID + "sanction/bad", PG + "start", "OrConstraintComponent"),
    (ID + "support/bad", PG + "recipient", "ClassConstraintComponent"),
    (ID + "support/bad", PG + "item", "MinCountConstraintComponent"),
    (ID + "participation/bad", PG + "participant", "MaxCountConstraintComponent"),
    (ID + "participation/bad", PG + "conflict", "ClassConstraintComponent"),
    (ID + "cooperation/bad", PG + "participants", "MinCountConstraintComponent"),
    (ID + "event/bad", PG + "date", "MinCountConstraintComponent"),
    (ID + "statement/bad", PG + "speaker", "ClassConstraintComponent"),
    (ID + "statement/bad", PG + "quote", "DatatypeConstraintComponent"),
    (ID + "measurement/bad", PG + "value", "DatatypeConstraintComponent"),
    (ID + "measurement/bad", PG + "unit", "MinCountConstraintComponent"),
    (ID + "source/bad", "http://purl.org/dc/terms/publisher", "MinCountConstraintComponent"),
    (ID + "source/bad", PG + "url", "DatatypeConstraintComponent"),
    (ID + "source/bad", PG + "retrieved", "DatatypeConstraintComponent"),
}


@pytest.fixture(scope="module")
def broken_reports() -> tuple[Report, Report]:
    return both(turtle(BROKEN))


def test_broken_graph_same_violations_as_pyshacl(broken_reports: tuple[Report, Report]) -> None:
    reference, compiled = broken_reports
    assert keys(compiled) == keys(reference)
    # Values too, where pyshacl reports one.
    assert {(v.focus, v.path, v.rule, v.value) for v in compiled.violations} == {
        (v.focus, v.path, v.rule, v.value) for v in reference.violations
    }


def test_broken_graph_catches_every_constraint_kind(broken_reports: tuple[Report, Report]) -> None:
    _reference, compiled = broken_reports
    found = keys(compiled)
    assert found >= EXPECTED, sorted(EXPECTED - found)
    # Nothing reported on the valid nodes, nor on values that pass through the subclass closure.
    clean = {"source/ok", "person/ok", "state/AAA", "state/BBB", "org/alliance", "office/ok", "agreement/ok"}
    clean |= {"membership/ok", "tenure/samemonth"}
    assert not {f for f, _p, _r in found} & {ID + c for c in clean}
    rules = {r for _f, _p, r in found}
    assert rules == {
        "MinCountConstraintComponent",
        "MaxCountConstraintComponent",
        "DatatypeConstraintComponent",
        "UniqueLangConstraintComponent",
        "PatternConstraintComponent",
        "ClassConstraintComponent",
        "OrConstraintComponent",
        "MinExclusiveConstraintComponent",
        "SPARQLConstraintComponent",
        "InConstraintComponent",
    }


def test_messages_match_pyshacl(broken_reports: tuple[Report, Report]) -> None:
    reference, compiled = broken_reports

    def message(report: Report, focus: str, rule: str) -> str:
        (found,) = {v.message for v in report.violations if v.focus == ID + focus and v.rule == rule}
        return found

    cases = {
        ("tenure/backwards", "SPARQLConstraintComponent"): "end (2020) is before start (2021-05-03)",
        ("state/twocodes", "MaxCountConstraintComponent"): (
            "a state has at most one ISO 3166-1 alpha-3 code (three capital letters)"
        ),
        ("state/twolabels", "UniqueLangConstraintComponent"): (
            "needs an rdfs:label with a language tag, at most one per language"
        ),
        (
            "agreement/one",
            "OrConstraintComponent",
        ): "pg:signingDate is one xsd:date, xsd:gYearMonth or xsd:gYear",
        ("membership/bad", "ClassConstraintComponent"): "",
    }
    for (focus, rule), text in cases.items():
        if text:
            assert message(compiled, focus, rule) == text
            assert message(reference, focus, rule) == text
    # Every violation of a shape that has an sh:message carries the same text in both.
    with_message = {(v.focus, v.path, v.rule, v.message) for v in reference.violations if v.path}
    compiled_messages = {(v.focus, v.path, v.rule, v.message) for v in compiled.violations if v.path}
    explicit = {m for m in with_message if not m[3].startswith(("Less than", "More than", "Value "))}
    assert explicit <= compiled_messages


def test_validate_store_leaves_the_callers_store_as_it_was() -> None:
    store = ox.Store()
    store.load(
        (PREFIXES + "<state/nolabel> a pg:State ; pg:isoAlpha3 'NOL' .").encode(),
        ox.RdfFormat.TURTLE,
        to_graph=ox.NamedNode("https://pactgraph.org/graph/batch"),
    )
    before = set(store)
    report = validate_store(store)
    assert keys(report) == {(ID + "state/nolabel", RDFS_LABEL, "MinCountConstraintComponent")}
    assert set(store) == before
    assert not store.contains_named_graph(ox.NamedNode(VALIDATION_ONTOLOGY_GRAPH))


def test_context_graph_is_seen(bundled: Graph) -> None:
    """A batch that cites a source described only in the context conforms; without it, it does not."""
    batch = turtle(
        "<membership/x> a pg:Membership ; pg:member <state/RUS> ; pg:organisation <org/brics> ;"
        ' pg:start "2006"^^xsd:gYear ; pg:status pg:Confirmed ; pg:source <source/russia-iran-pact-2025> .'
    )
    alone = validate(batch)
    assert ID + "membership/x" in {v.focus for v in alone.violations}
    with_context = validate(batch, bundled)
    assert ID + "membership/x" not in {v.focus for v in with_context.violations}


# Features shapes.ttl does not use today, compiled the same way: checked against pyshacl too.
EXTRA_SHAPES = """
ex:PersonShape a sh:NodeShape ;
    sh:targetClass pg:Person ;
    sh:property [ sh:path pg:rank ; sh:in ( 1 2 3 ) ] ;
    sh:property [ sh:path pg:rank ; sh:maxInclusive 2 ; sh:minInclusive 1 ] ;
    sh:property [ sh:path ( pg:holds pg:office ) ; sh:nodeKind sh:IRI ; sh:minCount 1 ] ;
    sh:property [ sh:path [ sh:inversePath pg:holder ] ; sh:minCount 1 ; sh:class pg:Tenure ] ;
    sh:property [ sh:path rdfs:label ; sh:languageIn ( "en" "ru" ) ; sh:maxLength 10 ; sh:minLength 2 ] ;
    sh:property [ sh:path pg:role ; sh:hasValue pg:Leader ] ;
    sh:property [ sh:path pg:nick ; sh:not [ sh:datatype xsd:integer ] ; sh:node ex:Short ] .
ex:Short sh:maxLength 4 .
ex:Nodes a sh:NodeShape ; sh:targetNode <person/c> ; sh:nodeKind sh:BlankNode .
"""

EXTRA_DATA = """
<person/a> a pg:Person ; rdfs:label "Anna"@en ; pg:rank 2 ; pg:holds [ pg:office <office/x> ] ;
    pg:role pg:Leader ; pg:nick "An" .
<tenure/a> a pg:Tenure ; pg:holder <person/a> .
<person/b> a pg:Person ; rdfs:label "Bartholomew"@en, "B"@de ; pg:rank 7 ; pg:holds [ pg:office "x" ] ;
    pg:nick 5, "Bartho" .
<person/c> a pg:Person ; rdfs:label "Ce"@ru ; pg:rank "2" ; pg:role pg:Leader .
<state/c> a pg:State ; pg:holder <person/c> .
"""


def test_extra_features_agree_with_pyshacl() -> None:
    shapes = turtle(EXTRA_SHAPES)
    reference, compiled = both(turtle(EXTRA_DATA), shapes)
    assert keys(reference), "the fixture should break something"
    # pyshacl also lists the nested results behind sh:node (as sh:detail, focus "Bartho"); only the
    # top-level results are the report's.
    reference = Report(False, [v for v in reference.violations if v.focus.startswith(ID)])
    assert {
        (v.focus, v.path, v.rule) for v in compiled.violations if not v.path or v.path.startswith("http")
    } == {(v.focus, v.path, v.rule) for v in reference.violations if not v.path or v.path.startswith("http")}
    # Complex paths: pyshacl names the path by its blank node, so compare focus and rule only.
    assert {(v.focus, v.rule) for v in compiled.violations} == {
        (v.focus, v.rule) for v in reference.violations
    }
    rules = {v.rule for v in compiled.violations}
    assert {
        "InConstraintComponent",
        "MaxInclusiveConstraintComponent",
        "NodeKindConstraintComponent",
        "MinCountConstraintComponent",
        "ClassConstraintComponent",
        "LanguageInConstraintComponent",
        "MaxLengthConstraintComponent",
        "MinLengthConstraintComponent",
        "HasValueConstraintComponent",
        "NotConstraintComponent",
        "NodeConstraintComponent",
    } <= rules


@pytest.mark.parametrize(
    "shape",
    [
        "ex:S a sh:NodeShape ; sh:targetClass pg:State ; sh:closed true .",
        "ex:S a sh:NodeShape ; sh:targetClass pg:State ; sh:property [ sh:path pg:start ; sh:lessThan pg:end ] .",
        "ex:S a sh:NodeShape ; sh:targetClass pg:State ; sh:property [ sh:path pg:x ;"
        " sh:qualifiedValueShape [ sh:class pg:State ] ; sh:qualifiedMinCount 1 ] .",
        "ex:S a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ; sh:select 'SELECT ?this WHERE {}' ] .",
        "ex:S a sh:NodeShape ; sh:targetClass pg:State ; sh:property [ sh:path pg:x ;"
        " sh:or ( [ sh:path pg:y ; sh:minCount 1 ] ) ] .",
        "ex:S a sh:NodeShape ; sh:targetClass pg:State ; sh:sparql [ sh:select"
        " 'SELECT $this WHERE { $this ?p ?o . MINUS { $this a pg:State } }' ] .",
    ],
)
def test_unsupported_feature_raises(shape: str) -> None:
    with pytest.raises(UnsupportedShapeError):
        compile_shapes(turtle(shape))


def test_shapes_are_compiled_from_the_graph() -> None:
    """Editing the shapes changes validation: a stricter copy of one rule finds what the bundled one allows."""
    shapes = turtle(
        "ex:S a sh:NodeShape ; sh:targetClass pg:State ;"
        ' sh:property [ sh:path pg:isoAlpha3 ; sh:pattern "^A" ; sh:message "starts with A" ] .'
    )
    store = ox.Store()
    store.load((PREFIXES + BROKEN).encode(), ox.RdfFormat.TURTLE)
    report = validate_store(store, compile_shapes(shapes))
    assert {v.focus for v in report.violations} >= {ID + "state/BBB", ID + "state/twocodes"}
    assert ID + "state/AAA" not in {v.focus for v in report.violations}
    assert {v.message for v in report.violations} == {"starts with A"}
