"""Ingest: every format into the right named graph, all or nothing, validated, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Literal, URIRef

from pactgraph.graph import Kind, PactgraphError, SourceInput, Store, graph_for, ingest, read_sources
from pactgraph.graph.formats import RDF_FORMATS
from pactgraph.ontology import GRAPH_BASE

PG = "https://pactgraph.org/ontology#"
ID = "https://pactgraph.org/id/"

MINI = f"""
@prefix pg: <{PG}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{ID}state/XAA> a pg:State ; rdfs:label "Atlantis"@en ; pg:isoAlpha3 "XAA" .
<{ID}state/XBB> a pg:State ; rdfs:label "Borduria"@en ; pg:isoAlpha3 "XBB" .
<{ID}source/test> a pg:Source ; rdfs:label "Test source"@en ; dcterms:title "Test"@en ; dcterms:publisher "Us"@en .
<{ID}agreement/xa-xb> a pg:Treaty ; rdfs:label "Atlantis–Borduria treaty"@en ;
    pg:signatory <{ID}state/XAA>, <{ID}state/XBB> ; pg:signingDate "2020-02"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> ;
    pg:source <{ID}source/test> .
"""


def mini_graph() -> Graph:
    return Graph().parse(data=MINI, format="turtle")


def as_bytes(fmt: str) -> bytes:
    g = mini_graph()
    if fmt in ("nquads", "trig"):
        ds = Dataset()
        ds.graph(URIRef("urn:x:ignored")).remove((None, None, None))
        for t in g:
            ds.add(t)  # default graph: goes to the file's graph
        return ds.serialize(format=RDF_FORMATS[fmt].rdflib, encoding="utf-8")
    return g.serialize(format=RDF_FORMATS[fmt].rdflib, encoding="utf-8")


def snapshot(store: Store) -> list[tuple[str, ...]]:
    return sorted(tuple(t.n3() for t in q) for q in store.quads())


@pytest.mark.parametrize("fmt", sorted(RDF_FORMATS))
def test_each_rdf_format_lands_in_its_graph(store: Store, fmt: str) -> None:
    name = f"mini{RDF_FORMATS[fmt].extensions[0]}"
    result = ingest(store, [SourceInput(name, as_bytes(fmt), fmt, graph_for(name))])
    graph = URIRef(GRAPH_BASE + "mini")
    assert list(result.graphs) == [str(graph)]
    rows = store.select(f"SELECT ?g ?d WHERE {{ GRAPH ?g {{ <{ID}agreement/xa-xb> <{PG}signingDate> ?d }} }}")
    assert rows == [
        {"g": graph, "d": Literal("2020-02", datatype=URIRef("http://www.w3.org/2001/XMLSchema#gYearMonth"))}
    ]
    # every triple of the source, plus the graph's own description (type, file, hash, origin) and
    # the signing date's days
    assert store.count(graph) == len(mini_graph()) + 5 + 2


def test_named_graphs_in_quad_formats_are_kept(store: Store) -> None:
    g = URIRef("https://example.org/graph/other")
    data = f'<{ID}state/XAA> <http://www.w3.org/2000/01/rdf-schema#label> "Atlantis"@en <{g}> .\n'.encode()
    ingest(store, [SourceInput("q.nq", data, "nquads", graph_for("q.nq"))])
    assert g in store.graph_names()


def test_csv_facts(store: Store, tmp_path: Path) -> None:
    ingest(store, [SourceInput("mini.ttl", MINI.encode(), "turtle", graph_for("mini.ttl"))])
    csv = (
        "kind,subject,object,start,end,status,source,quote,detail\n"
        "membership,state/XAA,org/club,2001-05-01,2003,confirmed,source/test,,founder\n"
        "sanction,state/XAA,state/XBB,2024-12,,reported,source/test,They said so,Programme X\n"
    )
    club = f'<{ID}org/club> a <{PG}Alliance> ; <http://www.w3.org/2000/01/rdf-schema#label> "Club"@en .'
    ingest(
        store,
        [
            SourceInput("club.ttl", club.encode(), "turtle", graph_for("club.ttl")),
            SourceInput("facts.csv", csv.encode(), "csv", graph_for("facts.csv")),
        ],
    )
    rows = store.select(
        f"SELECT ?m ?start ?end WHERE {{ ?m <{PG}member> <{ID}state/XAA> ; <{PG}start> ?start ; <{PG}end> ?end }}"
    )
    assert [(str(r["m"]), str(r["start"]), str(r["end"])) for r in rows] == [
        (f"{ID}membership/state-XAA--org-club--2001-05-01--test", "2001-05-01", "2003")
    ]
    status = store.select(f"SELECT ?st WHERE {{ ?x a <{PG}Sanction> ; <{PG}status> ?st }}")
    assert status == [{"st": URIRef(PG + "Reported")}]


def test_csv_errors_name_line_and_column(store: Store) -> None:
    csv = "kind,subject,object,start,end,status,source,quote,detail\nmembership,state/XAA,org/x,2025-13-45,,,,,\n"
    with pytest.raises(PactgraphError) as info:
        ingest(store, [SourceInput("bad.csv", csv.encode(), "csv", graph_for("bad.csv"))])
    assert info.value.kind == Kind.BAD_INPUT
    assert "bad.csv: line 2, column start" in info.value.message
    assert store.count() == 0


def test_broken_file_leaves_store_unchanged(store: Store) -> None:
    ingest(store, [SourceInput("mini.ttl", MINI.encode(), "turtle", graph_for("mini.ttl"))])
    before = snapshot(store)
    good = MINI.replace("Atlantis", "Atlantis II").encode()
    broken = (MINI + '\n<a> <b> "unterminated .\n').encode()
    with pytest.raises(PactgraphError) as info:
        ingest(
            store,
            [
                SourceInput("mini.ttl", good, "turtle", graph_for("mini.ttl")),
                SourceInput("broken.ttl", broken, "turtle", graph_for("broken.ttl")),
            ],
        )
    assert info.value.kind == Kind.BAD_INPUT
    assert "broken.ttl" in info.value.message and "line" in info.value.message
    assert snapshot(store) == before


def test_shape_violation_names_focus_and_rule(store: Store) -> None:
    bad = MINI.replace(f"pg:signatory <{ID}state/XAA>, <{ID}state/XBB>", f"pg:signatory <{ID}state/XAA>")
    with pytest.raises(PactgraphError) as info:
        ingest(store, [SourceInput("one-party.ttl", bad.encode(), "turtle", graph_for("one-party.ttl"))])
    err = info.value
    assert err.kind == Kind.INVALID
    assert err.detail == [
        {
            "file": "one-party.ttl",
            "focus": f"{ID}agreement/xa-xb",
            "path": f"{PG}signatory",
            "rule": "MinCountConstraintComponent",
            "message": "an agreement has at least two signatories (pg:signatory), each an actor",
            "value": None,
        }
    ]
    assert store.count() == 0


def test_end_before_start_is_refused(store: Store) -> None:
    data = (
        MINI
        + f"""
<{ID}membership/x> a pg:Membership ; pg:member <{ID}state/XAA> ; pg:organisation <{ID}org/c> ;
    pg:start "2024-12-08"^^<http://www.w3.org/2001/XMLSchema#date> ; pg:end "2024-11"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> ;
    pg:status pg:Confirmed ; pg:source <{ID}source/test> .
<{ID}org/c> a pg:Alliance ; rdfs:label "C"@en .
"""
    )
    with pytest.raises(PactgraphError) as info:
        ingest(store, [SourceInput("m.ttl", data.encode(), "turtle", graph_for("m.ttl"))])
    assert [v["message"] for v in info.value.detail] == ["end (2024-11) is before start (2024-12-08)"]


def test_same_month_end_is_not_before_start(store: Store) -> None:
    data = (
        MINI
        + f"""
<{ID}membership/x> a pg:Membership ; pg:member <{ID}state/XAA> ; pg:organisation <{ID}org/c> ;
    pg:start "2024-12-08"^^<http://www.w3.org/2001/XMLSchema#date> ; pg:end "2024-12"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> ;
    pg:status pg:Confirmed ; pg:source <{ID}source/test> .
<{ID}org/c> a pg:Alliance ; rdfs:label "C"@en .
"""
    )
    ingest(store, [SourceInput("m.ttl", data.encode(), "turtle", graph_for("m.ttl"))])


def test_reingest_is_idempotent(store: Store) -> None:
    src = SourceInput("mini.ttl", MINI.encode(), "turtle", graph_for("mini.ttl"))
    ingest(store, [src])
    first = snapshot(store)
    ingest(store, [src])
    assert snapshot(store) == first


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "notes.docx").write_text("x")
    with pytest.raises(PactgraphError, match="cannot tell the format"):
        read_sources([tmp_path / "notes.docx"])
    with pytest.raises(PactgraphError, match="no such file"):
        read_sources([tmp_path / "missing.ttl"])


# ---------------------------------------------------------------------------------- normalised days

DAYS = f"""
@prefix pg: <{PG}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{ID}org/club> a pg:Alliance ; rdfs:label "Club"@en .
<{ID}source/dataset> a pg:Source ; rdfs:label "A dataset"@en ; dcterms:title "D"@en ; dcterms:publisher "D"@en ;
    pg:endRule pg:ExclusiveEnd .
<{ID}source/news> a pg:Source ; rdfs:label "News"@en ; dcterms:title "N"@en ; dcterms:publisher "N"@en ;
    dcterms:date "2024-06"^^xsd:gYearMonth .
<{ID}membership/year> a pg:Membership ; pg:member <{ID}state/XAA> ; pg:organisation <{ID}org/club> ;
    pg:start "2001"^^xsd:gYear ; pg:end "2005-03"^^xsd:gYearMonth ; pg:status pg:Confirmed ; pg:source <{ID}source/test> ;
    pg:startEarliest "1900-01-01"^^xsd:date .
<{ID}membership/month> a pg:Membership ; pg:member <{ID}state/XBB> ; pg:organisation <{ID}org/club> ;
    pg:start "2001-05"^^xsd:gYearMonth ; pg:status pg:Confirmed ; pg:source <{ID}source/test> .
<{ID}membership/day> a pg:Membership ; pg:member <{ID}state/XAA> ; pg:organisation <{ID}org/club> ;
    pg:start "2001-05-03"^^xsd:date ; pg:end "2001-06-01"^^xsd:date ; pg:status pg:Confirmed ;
    pg:source <{ID}source/dataset> .
<{ID}support/undated> a pg:Support ; pg:supporter <{ID}state/XAA> ; pg:recipient <{ID}state/XBB> ;
    pg:status pg:Reported ; pg:source <{ID}source/news>, <{ID}source/test> .
"""
DAY_QUERY = f"""PREFIX pg: <{PG}> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?m WHERE {{
  ?m a pg:Membership ; pg:organisation <{ID}org/club> .
  FILTER EXISTS {{ ?m pg:startLatest|pg:knownFrom ?from FILTER(?from <= "DAY"^^xsd:date) }}
  FILTER NOT EXISTS {{ ?m pg:endEarliest ?to FILTER(?to < "DAY"^^xsd:date) }}
}} ORDER BY ?m"""


def test_every_date_gets_its_days_beside_it(store: Store) -> None:
    ingest(store, [SourceInput("mini.ttl", MINI.encode(), "turtle", graph_for("mini.ttl"))])
    ingest(store, [SourceInput("days.ttl", DAYS.encode(), "turtle", graph_for("days.ttl"))])
    rows = store.select(
        f"SELECT ?n ?p ?d WHERE {{ GRAPH <{GRAPH_BASE}days> {{ ?n ?p ?d "
        f"VALUES ?p {{ <{PG}startEarliest> <{PG}startLatest> <{PG}endEarliest> <{PG}endLatest> <{PG}knownFrom> }} }} }}"
    )
    days = {(str(r["n"]).removeprefix(ID), str(r["p"]).removeprefix(PG)): str(r["d"]) for r in rows}
    assert all(r["d"].datatype == URIRef("http://www.w3.org/2001/XMLSchema#date") for r in rows)
    assert days == {
        # a year and a month; the value given by hand was derived data, and is replaced
        ("membership/year", "startEarliest"): "2001-01-01",
        ("membership/year", "startLatest"): "2001-12-31",
        ("membership/year", "endEarliest"): "2005-03-01",
        ("membership/year", "endLatest"): "2005-03-31",
        ("membership/month", "startEarliest"): "2001-05-01",
        ("membership/month", "startLatest"): "2001-05-31",
        # the dataset's ends are exclusive: its last day is the day before
        ("membership/day", "startEarliest"): "2001-05-03",
        ("membership/day", "startLatest"): "2001-05-03",
        ("membership/day", "endEarliest"): "2001-05-31",
        ("membership/day", "endLatest"): "2001-05-31",
        # undated: known from the last day of its earliest dated source (the other has no date)
        ("support/undated", "knownFrom"): "2024-06-30",
    }


@pytest.mark.parametrize(
    ("day", "members"),
    [
        ("2001-05-02", []),
        ("2001-05-15", ["day"]),
        ("2001-05-31", ["day", "month"]),
        ("2001-06-01", ["month"]),
        ("2001-12-31", ["month", "year"]),
        ("2005-03-01", ["month", "year"]),
        ("2005-03-02", ["month"]),
    ],
)
def test_date_filters_in_plain_sparql_find_month_and_year_facts(
    store: Store, day: str, members: list[str]
) -> None:
    ingest(store, [SourceInput("mini.ttl", MINI.encode(), "turtle", graph_for("mini.ttl"))])
    ingest(store, [SourceInput("days.ttl", DAYS.encode(), "turtle", graph_for("days.ttl"))])
    found = [
        str(r["m"]).removeprefix(ID + "membership/") for r in store.select(DAY_QUERY.replace("DAY", day))
    ]
    assert found == members
    # the same question on the dates as given silently drops the month and the year
    naive = store.select(
        f'SELECT ?m WHERE {{ ?m <{PG}start> ?s FILTER(?s <= "{day}"^^<http://www.w3.org/2001/XMLSchema#date>) }}'
    )
    assert {str(r["m"]).removeprefix(ID + "membership/") for r in naive} <= {"day"}


def test_reingesting_a_changed_file_checks_the_new_content_only(store: Store) -> None:
    """The context of a check is the store without the graphs being replaced, on every backend
    (not a copy of them, such as a server's merged default graph)."""
    ingest(store, [SourceInput("mini.ttl", MINI.encode(), "turtle", graph_for("mini.ttl"))])
    fact = f"""@prefix pg: <{PG}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{ID}membership/m> a pg:Membership ; pg:member <{ID}state/XAA> ; pg:organisation <{ID}state/XBB> ;
    pg:start "2001"^^xsd:gYear ; pg:status pg:Confirmed ; pg:source <{ID}source/test> .
"""
    fact = fact.replace(f"<{ID}state/XBB> ;", f"<{ID}org/club> ;")
    club = f'<{ID}org/club> a <{PG}Alliance> ; <http://www.w3.org/2000/01/rdf-schema#label> "Club"@en .\n'
    ingest(store, [SourceInput("fact.ttl", (club + fact).encode(), "turtle", graph_for("fact.ttl"))])
    changed = (club + fact).replace('"2001"^^xsd:gYear', '"2002"^^xsd:gYear')
    ingest(store, [SourceInput("fact.ttl", changed.encode(), "turtle", graph_for("fact.ttl"))])
    rows = store.select(
        f"SELECT ?s ?e WHERE {{ <{ID}membership/m> <{PG}start> ?s ; <{PG}startEarliest> ?e }}"
    )
    assert [(str(r["s"]), str(r["e"])) for r in rows] == [("2002", "2002-01-01")]
