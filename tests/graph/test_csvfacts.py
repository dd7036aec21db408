"""The CSV layout for facts added by hand: every kind reads, every row is checked, every id it
names must exist, nothing is dropped, and a second source's row never invalidates the first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from pactgraph.data import DATA_DIR
from pactgraph.graph import (
    Kind,
    PactgraphError,
    SourceInput,
    Store,
    graph_for,
    ingest,
    load_ontology,
    open_store,
    read_sources,
)
from pactgraph.graph.csvfacts import COLUMNS, KINDS, read_csv
from pactgraph.graph.entities import describe
from pactgraph.graph.names import NameIndex
from pactgraph.graph.paths import PathQuery, find_paths
from pactgraph.graph.projection import build
from pactgraph.ontology import ENTITY_BASE as ID
from pactgraph.ontology import PG

EXAMPLES = DATA_DIR / "examples"
HEADER = ",".join(COLUMNS)
DCT = "http://purl.org/dc/terms/"

MINI = f"""
@prefix pg: <{PG}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{ID}state/XAA> a pg:State ; rdfs:label "Atlantis"@en ; pg:isoAlpha3 "XAA" .
<{ID}state/XBB> a pg:State ; rdfs:label "Borduria"@en ; pg:isoAlpha3 "XBB" .
<{ID}org/club> a pg:Alliance ; rdfs:label "Club"@en .
<{ID}source/a> a pg:Source ; rdfs:label "A"@en ; dcterms:title "Report A"@en ; dcterms:publisher "Us"@en .
"""


def triples(text: str, name: str = "t.csv") -> set[tuple[str, str, str]]:
    return {(str(s), str(p), str(o)) for s, p, o in read_csv(text.encode(), name).triples}


def refused(text: str, name: str = "t.csv") -> str:
    with pytest.raises(PactgraphError) as info:
        read_csv(text.encode(), name)
    assert info.value.kind == Kind.BAD_INPUT
    return info.value.message


def csv_source(name: str, text: str) -> SourceInput:
    return SourceInput(name, text.encode(), "csv", graph_for(name))


def ttl_source(name: str, text: str) -> SourceInput:
    return SourceInput(name, text.encode(), "turtle", graph_for(name))


def quads(store: Store) -> list[tuple[str, ...]]:
    return sorted(tuple(t.n3() for t in q) for q in store.quads())


# ---------------------------------------------------------------------------------- reading


def test_there_is_one_example_file_per_kind_with_the_template_header() -> None:
    kinds: set[str] = set()
    for path in sorted(EXAMPLES.glob("*.csv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0] == HEADER, path.name
        kinds |= {line.split(",", 1)[0] for line in lines[1:]}
        read_csv(path.read_bytes(), path.name)  # every row reads
    assert kinds == set(KINDS)


def test_a_source_row_says_title_publisher_date_and_url() -> None:
    found = triples(
        f"{HEADER}\nsource,source/r,Report on X,org/outlet,,2024-05,,,source/other,,Daily News,https://example.org/r,\n"
    )
    r = ID + "source/r"
    assert {
        (r, str(RDF.type), str(PG.Source)),
        (r, DCT + "title", "Report on X"),
        (r, DCT + "publisher", "Daily News"),
        (r, DCT + "date", "2024-05"),
        (r, str(PG.url), "https://example.org/r"),
        (r, str(PG.publishedBy), ID + "org/outlet"),
        (r, str(PG.cites), ID + "source/other"),
    } <= found
    date = next(
        o
        for s, p, o in read_csv(f"{HEADER}\nsource,source/r,T,,,2024-05,,,,,P,,\n".encode(), "t").triples
        if p == URIRef(DCT + "date")
    )
    assert date == Literal("2024-05", datatype=XSD.gYearMonth)


def test_an_agreement_row_has_its_parties_signers_date_and_quote() -> None:
    found = read_csv((EXAMPLES / "example-agreements.csv").read_bytes(), "a.csv").triples
    a = URIRef(ID + "agreement/russia-dprk-cspa-2024")
    assert (a, RDF.type, PG.StrategicPartnership) in found
    assert {o for s, p, o in found if s == a and p == PG.signatory} == {
        URIRef(ID + "state/RUS"),
        URIRef(ID + "state/PRK"),
    }
    assert {o for s, p, o in found if s == a and p == PG.signedBy} == {
        URIRef(ID + "person/vladimir-putin"),
        URIRef(ID + "person/kim-jong-un"),
    }
    assert (a, PG.signingDate, Literal("2024-06-19", datatype=XSD.date)) in found
    assert (
        a,
        SKOS.altLabel,
        Literal("Russia–North Korea Comprehensive Strategic Partnership Treaty", lang="en"),
    ) in found
    assert any(p == PG.quote and str(o).startswith("During Russian President") for s, p, o in found if s == a)


def test_the_quote_column_is_kept_on_every_kind_that_takes_it() -> None:
    text = (
        "kind,subject,object,start,end,status,source,quote,detail\n"  # the first layout still reads
        "membership,state/XAA,org/club,2001,,,source/a,They joined,\n"
        "signature,state/XAA,agreement/t,2001-02,,,source/a,We signed,person/p\n"
    )
    found = triples(text)
    assert (ID + "agreement/t", str(PG.quote), "We signed") in found
    assert (ID + "agreement/t", str(PG.signedBy), ID + "person/p") in found
    member = ID + "membership/state-XAA--org-club--2001--a"
    assert (member, str(PG.quote), "They joined") in found
    assert (member, str(PG.readingOf), ID + "relation/membership/state/XAA/org/club") in found
    assert (ID + "relation/membership/state/XAA/org/club", str(RDF.type), str(PG.RelationKey)) in found


def test_a_statement_row_keeps_speaker_words_and_language() -> None:
    found = triples(
        f"{HEADER}\nstatement,,Summary,person/p,agreement/t,2025-01,,reported,source/a,Слова,org/tass,,ru\n"
    )
    node = ID + "statement/person-p/2025-01/summary"
    assert {
        (node, str(PG.speaker), ID + "person/p"),
        (node, str(PG.concerns), ID + "agreement/t"),
        (node, str(PG.date), "2025-01"),
        (node, str(PG.quote), "Слова"),
        (node, str(PG.reportedBy), ID + "org/tass"),
        (node, str(PG.status), str(PG.Reported)),
    } <= found
    quote = next(
        o
        for s, p, o in read_csv(
            f"{HEADER}\nstatement,,,person/p,,,,,source/a,Слова,,,ru\n".encode(), "t"
        ).triples
        if p == PG.quote
    )
    assert quote == Literal("Слова", lang="ru")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind,subject,object,colour\nmembership,a/b,c/d,red\n", "t.csv: line 1: unknown column(s) colour"),
        ("subject,object\na/b,c/d\n", "t.csv: line 1: the header must name the columns, among them kind"),
        (
            f"{HEADER}\nmembership,,,state/XAA,org/club,2001,,,source/a,,,https://x.org,\n",
            "line 2, column url: a membership row does not use this column",
        ),
        (f"{HEADER}\nperson,person/p,,,,,,,,,,,\n", "line 2, column label: a person row needs name"),
        (
            f"{HEADER}\nmembership,,,state/XAA,org/club,2025-13-45,,,,,,,\n",
            "line 2, column start: not a date: '2025-13-45'",
        ),
        (
            f"{HEADER}\nmembership,,,state/XAA,org/club,2001,,rumoured,source/a,,,,\n",
            "line 2, column status: 'rumoured' is not one of",
        ),
        (
            f"{HEADER}\nfriendship,,,state/XAA,state/XBB,,,,,,,,\n",
            "line 2, column kind: 'friendship' is not one of",
        ),
        (
            f"{HEADER}\nperson,person/p,P,,,,,,,,56226,,\n",
            "line 2, column detail: '56226' is not a Wikidata id",
        ),
        (
            f"{HEADER}\nsource,source/s,T,,,,,,,,P,ftp://x,\n",
            "line 2, column url: 'ftp://x' is not an http(s) URL",
        ),
        (
            f"{HEADER}\nperson,person/p,P,,,,,,,,,,english\n",
            "line 2, column lang: 'english' is not a language tag",
        ),
        (
            f"{HEADER}\nperson,person/p,P,,,,,,,,,,\nperson,person/p,Q,,,,,,,,,,\n",
            "line 3, column id: person/p is already described on line 2",
        ),
        (
            f"{HEADER}\nagreement,agreement/t,T,state/XAA,,2001,,,source/a,,pact,,\n",
            "line 2, column detail: 'pact' is not one of",
        ),
        (
            f"{HEADER}\nmembership,,,state XAA,org/club,2001,,,source/a,,,,\n",
            "line 2, column subject: 'state XAA' is not an id",
        ),
    ],
)
def test_each_row_is_checked_and_the_error_names_line_and_column(text: str, message: str) -> None:
    assert message in refused(text)


# ---------------------------------------------------------------------------------- ingest


def test_an_id_described_nowhere_is_refused_with_its_line(store: Store) -> None:
    ingest(store, [ttl_source("mini.ttl", MINI)])
    before = quads(store)
    text = (
        f"{HEADER}\n"
        "membership,,,state/XAA,org/club,2001,,,source/a,,,,\n"
        "membership,,,state/XBB,org/nowhere,2001,,,source/a source/unknown,,,,\n"
    )
    with pytest.raises(PactgraphError) as info:
        ingest(store, [csv_source("facts.csv", text)])
    err = info.value
    assert err.kind == Kind.INVALID
    assert (
        "facts.csv: line 3, column object: org/nowhere is not described in this batch or in the store"
        in err.message
    )
    assert "facts.csv: line 3, column source: source/unknown is not described" in err.message
    assert [d["where"] for d in err.detail] == [
        "facts.csv: line 3, column object",
        "facts.csv: line 3, column source",
    ]
    assert quads(store) == before
    # described in the same batch (another file) or already in the store: accepted
    described = f'@prefix pg: <{PG}> . <{ID}org/nowhere> a pg:Alliance ; <{RDFS.label}> "Somewhere"@en .\n'
    described += f'<{ID}source/unknown> a pg:Source ; <{RDFS.label}> "U"@en ; <{DCT}title> "U"@en ; <{DCT}publisher> "U"@en .'
    ingest(store, [ttl_source("more.ttl", described), csv_source("facts.csv", text)])
    assert store.select(f"SELECT ?m WHERE {{ ?m <{PG.organisation}> <{ID}org/nowhere> }}")


def test_a_second_source_for_the_same_fact_keeps_both(store: Store) -> None:
    load_ontology(store)
    ingest(store, [ttl_source("mini.ttl", MINI)])
    first = f"{HEADER}\nmembership,,,state/XAA,org/club,2001-05-01,,confirmed,source/a,Joined,,,\n"
    ingest(store, [csv_source("first.csv", first)])
    # a later file: another source says the same (kind, member, organisation, start) and ends it
    second = (
        f"{HEADER}\n"
        "source,source/b,Report B,,,2010-03-02,,,,,Them,,\n"
        "membership,,,state/XAA,org/club,2001-05-01,2009,reported,source/b,Left in 2009,,,\n"
    )
    ingest(store, [csv_source("second.csv", second)])
    rows = store.select(
        f"SELECT ?m ?source ?status ?end ?key WHERE {{ ?m <{PG.member}> <{ID}state/XAA> ; <{PG.source}> ?source ; "
        f"<{PG.status}> ?status ; <{PG.readingOf}> ?key OPTIONAL {{ ?m <{PG.end}> ?end }} }} ORDER BY ?source"
    )
    assert [(str(r["source"]), str(r["status"]), str(r.get("end", "")), str(r["key"])) for r in rows] == [
        (ID + "source/a", str(PG.Confirmed), "", ID + "relation/membership/state/XAA/org/club"),
        (ID + "source/b", str(PG.Reported), "2009", ID + "relation/membership/state/XAA/org/club"),
    ]
    assert len({r["m"] for r in rows}) == 2
    # each reading is a fact of the member's page, with its own source
    page = describe(store, build(store), ID + "state/XAA")
    sources = sorted(tuple(f["evidence"]["sources"]) for f in page["facts"]["Membership"])
    assert sources == [(ID + "source/a",), (ID + "source/b",)]


def test_adding_a_source_to_a_fact_of_another_graph_is_valid(store: Store) -> None:
    """A later file that adds its source to a fact another graph holds: the fact's first source is
    typed in its own graph, which the check must see (it used to say "not a pg:Source")."""
    fact = f"""@prefix pg: <{PG}> .
<{ID}membership/x> a pg:Membership ; pg:member <{ID}state/XAA> ; pg:organisation <{ID}org/club> ;
    pg:start "2001"^^<http://www.w3.org/2001/XMLSchema#gYear> ; pg:status pg:Confirmed ; pg:source <{ID}source/a> .
"""
    ingest(store, [ttl_source("mini.ttl", MINI), ttl_source("fact.ttl", fact)])
    more = f"""@prefix pg: <{PG}> . @prefix dcterms: <{DCT}> .
<{ID}source/c> a pg:Source ; <{RDFS.label}> "C"@en ; dcterms:title "C"@en ; dcterms:publisher "C"@en .
<{ID}membership/x> pg:source <{ID}source/c> .
"""
    ingest(store, [ttl_source("more.ttl", more)])
    found = {str(r["s"]) for r in store.select(f"SELECT ?s WHERE {{ <{ID}membership/x> <{PG.source}> ?s }}")}
    assert found == {ID + "source/a", ID + "source/c"}


def test_blank_lines_and_files_of_the_first_layout(tmp_path: Path) -> None:
    text = "kind,subject,object,start,end,status,source,quote,detail\n,,,,,,,,\nsanction,state/XAA,state/XBB,2024-12,,,source/a,,Programme X\n"
    found = triples(text)
    node = ID + "sanction/state-XAA--state-XBB--2024-12--a"
    assert (node, str(PG.programme), "Programme X") in found
    assert (node, str(PG.status), str(PG.Confirmed)) in found


# ---------------------------------------------------------------------------------- round trip


@pytest.fixture(scope="module", params=["memory", "oxigraph"])
def with_examples(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """The bundled data, then the example files as a user would add them (one batch)."""
    url = "memory:" if request.param == "memory" else f"oxigraph:{tmp_path_factory.mktemp('examples')}/store"
    db = open_store(url)
    load_ontology(db)
    ingest(db, read_sources([DATA_DIR]))  # the examples folder is not part of the bundled data
    assert not db.select(f"SELECT ?s WHERE {{ ?s <{PG.signatory}> <{ID}state/PRK> }}")
    ingest(db, read_sources([EXAMPLES]))
    yield db
    db.close()


def test_the_examples_are_found_by_search(with_examples: Store) -> None:
    names = NameIndex.build(with_examples)
    assert names.resolve("Kim Jong-un").iri == ID + "person/kim-jong-un"
    assert names.resolve("KCNA").iri == ID + "org/kcna"
    hit = names.search("Comprehensive Strategic Partnership", type="Agreement").hits
    assert ID + "agreement/russia-dprk-cspa-2024" in [h.entity.iri for h in hit]


def test_the_examples_are_on_entity_pages(with_examples: Store) -> None:
    proj = build(with_examples)
    page = describe(with_examples, proj, ID + "agreement/russia-dprk-cspa-2024")
    assert page["class"] == "StrategicPartnership"
    signed = {f["node"]["id"]: f for f in page["facts"]["signatory"]}
    assert set(signed) == {ID + "state/RUS", ID + "state/PRK"}
    assert signed[ID + "state/PRK"]["start"] == "2024-06-19"
    assert signed[ID + "state/PRK"]["evidence"]["sources"] == [
        ID + "source/unn-russia-dprk-partnership-2024-06-19"
    ]
    raisi = describe(with_examples, proj, ID + "person/ebrahim-raisi", as_of=date(2022, 1, 1))
    tenure = raisi["facts"]["holder"][0]  # a tenure is not a hub: its fact is grouped by its role
    assert (tenure["start"], tenure["end"], tenure["undated"]) == ("2021-08", "2024-05-19", False)
    sanction = raisi["facts"]["Sanction"][0]
    assert (sanction["start"], sanction["with"][0]["id"]) == ("2019-11", ID + "state/USA")
    # the month a tenure started in: not yet known to hold on its first day
    assert (
        "Tenure"
        not in describe(with_examples, proj, ID + "person/ebrahim-raisi", as_of=date(2021, 8, 1))["facts"]
    )


def test_the_examples_are_on_paths(with_examples: Store) -> None:
    proj = build(with_examples)
    found = find_paths(
        proj, PathQuery((ID + "state/RUS",), ID + "state/PRK", max_hops=2, as_of=date(2024, 7, 1))
    )
    texts = [p["text"] for p in found["paths"][0]["paths"]]
    assert (
        "Russia signed Treaty on Comprehensive Strategic Partnership between Russia and North Korea with "
        "North Korea on 2024-06-19 [unn-russia-dprk-partnership-2024-06-19]."
    ) in texts
    # North Korea's support is undated in its report of 2024-06-19: known from that day on
    supported = "North Korea supported Russia (undated, known from 2024-06-19) [unn-russia-dprk-partnership-2024-06-19]."
    back = find_paths(
        proj, PathQuery((ID + "state/PRK",), ID + "state/RUS", max_hops=2, as_of=date(2024, 6, 19))
    )
    assert supported in [p["text"] for p in back["paths"][0]["paths"]]
    before = find_paths(
        proj, PathQuery((ID + "state/PRK",), ID + "state/RUS", max_hops=2, as_of=date(2024, 6, 18))
    )
    assert not any("supported" in p["text"] for p in before["paths"][0]["paths"])


def test_the_examples_answer_sparql_with_their_days(with_examples: Store) -> None:
    # a sanction from "2019-11": in force on 2019-12-01, not known to be on 2019-11-15
    query = (
        f"SELECT ?target WHERE {{ ?s a <{PG.Sanction}> ; <{PG.imposer}> <{ID}state/USA> ; <{PG.target}> ?target ; "
        f'<{PG.startLatest}> ?from FILTER(?from <= "DAY"^^<{XSD.date}>) }}'
    )
    found = {str(r["target"]) for r in with_examples.select(query.replace("DAY", "2019-12-01"))}
    assert ID + "person/ebrahim-raisi" in found
    found = {str(r["target"]) for r in with_examples.select(query.replace("DAY", "2019-11-15"))}
    assert ID + "person/ebrahim-raisi" not in found
    # the two readings of Iran's BRICS membership, each with its source
    rows = with_examples.select(
        f"SELECT ?source WHERE {{ ?m <{PG.readingOf}> <{ID}relation/membership/state/IRN/org/brics> ; "
        f"<{PG.source}> ?source }} ORDER BY ?source"
    )
    assert [str(r["source"]) for r in rows] == [
        ID + "source/app-brics-expansion-2024-01-01",
        ID + "source/wikipedia-brics",
    ]
