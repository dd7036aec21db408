"""Exports of the bundled graph, read back by independent readers and checked against the store."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date
from typing import Any

import igraph
import networkx as nx
import pytest
import rdflib

from pactgraph.graph import Store
from pactgraph.graph.errors import PactgraphError
from pactgraph.graph.export import Scope, Subgraph, export, filename, select, spell
from pactgraph.graph.paths import PathQuery
from pactgraph.graph.projection import Edge, Projection, build

ID = "https://pactgraph.org/id/"
PG = "https://pactgraph.org/ontology#"
RUS, IRN, SYR = (ID + f"state/{c}" for c in ("RUS", "IRN", "SYR"))
ASSAD_GOV = ID + "government/assad-syria"
RUSSIA_SUPPORT = ID + "support/russia-assad-government"
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
GEXF = "{http://gexf.net/1.3}"
DATE = re.compile(r"^-?\d{4}(-\d{2}(-\d{2})?)?$")
REPRS = {"None", "True", "False", "nan", "[]", "()", "{}"}


@pytest.fixture(scope="module")
def projection(loaded: Store) -> Projection:
    return build(loaded)


def run(store: Store, proj: Projection, fmt: str, scope: Scope | None = None, **kw: Any) -> bytes:
    return b"".join(export(store, select(store, proj, scope or Scope()), fmt, **kw))


def fact_count(proj: Projection) -> int:
    return sum(len(d["facts"]) for _, _, d in proj.graph.edges(data=True))


# ---------------------------------------------------------------------------------- readers


def check_graphml(data: bytes) -> ET.Element:
    """The XML itself: keys typed and named, every value declared, non-empty and of its type."""
    root = ET.fromstring(data)
    assert root.tag == GRAPHML + "graphml"
    keys: dict[str, tuple[str, str, str]] = {}
    for key in root.findall(GRAPHML + "key"):
        assert key.get("attr.name"), key.attrib
        assert key.get("attr.type") in {"boolean", "int", "long", "float", "double", "string"}, key.attrib
        assert key.get("for") in {"node", "edge", "graph"}
        assert key.get("id") not in keys, "a key is declared twice"
        keys[key.attrib["id"]] = (key.attrib["for"], key.attrib["attr.name"], key.attrib["attr.type"])
    names = Counter((f, n) for f, n, _ in keys.values())
    assert max(names.values()) == 1, "an attribute name is declared twice for the same element kind"
    graph = root.find(GRAPHML + "graph")
    assert graph is not None
    for element in graph.iter():
        kind = element.tag.removeprefix(GRAPHML)
        for d in element.findall(GRAPHML + "data"):
            assert d.get("key") in keys, d.attrib
            owner, name, typ = keys[d.attrib["key"]]
            assert owner == kind, (owner, kind)
            text = d.text
            assert text is not None and text.strip() == text and text, (name, text)
            assert text not in REPRS, (name, text)
            if typ == "boolean":
                assert text in ("true", "false")
            elif typ in ("int", "long"):
                int(text)
            elif typ in ("float", "double"):
                float(text)
            if name in ("start", "end"):
                assert DATE.match(text), text
    return root


def read_networkx(data: bytes) -> nx.MultiDiGraph:
    g = nx.read_graphml(io.BytesIO(data))
    return nx.MultiDiGraph(g)


def read_igraph(data: bytes, tmp_path: Any) -> igraph.Graph:
    path = tmp_path / "export.graphml"
    path.write_bytes(data)
    with warnings.catch_warnings():
        # igraph says it keeps our `id` attribute (the IRI) rather than adding the XML id (the same IRI).
        warnings.simplefilter("ignore", RuntimeWarning)
        return igraph.Graph.Read_GraphML(str(path))


def edges_of(g: nx.MultiDiGraph) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(u, d["predicate"], v): d for u, v, d in g.edges(data=True)}


# ---------------------------------------------------------------------------------- GraphML


def test_graphml_whole_graph_two_readers_and_the_store(
    loaded: Store, projection: Projection, tmp_path: Any
) -> None:
    data = run(loaded, projection, "graphml")
    root = check_graphml(data)
    xml_nodes = root.findall(f"{GRAPHML}graph/{GRAPHML}node")
    xml_edges = root.findall(f"{GRAPHML}graph/{GRAPHML}edge")
    assert len(xml_nodes) == projection.graph.number_of_nodes()
    assert len(xml_edges) == fact_count(projection)

    g = read_networkx(data)
    assert g.number_of_nodes() == projection.graph.number_of_nodes()
    assert g.number_of_edges() == fact_count(projection)
    iran = g.nodes[IRN]
    assert (iran["id"], iran["label"], iran["class"], iran["iso"], iran["wikidata"], iran["hub"]) == (
        IRN,
        "Iran",
        "State",
        "IRN",
        "Q794",
        False,
    )
    assert g.nodes[RUSSIA_SUPPORT]["hub"] is True
    support = edges_of(g)[(RUSSIA_SUPPORT, PG + "supporter", RUS)]
    assert (support["start"], support["end"], support["status"]) == ("2015-09-30", "2024-12-08", "confirmed")
    assert support["reading"] == "is given by"
    assert ID + "source/wikipedia-russian-intervention-syria" in support["source"].split(" ")
    assert support["graph"].startswith("https://pactgraph.org/graph/")

    h = read_igraph(data, tmp_path)
    assert (h.vcount(), h.ecount()) == (g.number_of_nodes(), g.number_of_edges())
    v = h.vs.find(id=IRN)
    assert (v["label"], v["class"], v["iso"], v["wikidata"], v["hub"]) == (
        "Iran",
        "State",
        "IRN",
        "Q794",
        False,
    )
    ids = h.vs["id"]
    found = [
        e
        for e in h.es
        if ids[e.source] == RUSSIA_SUPPORT and ids[e.target] == RUS and e["predicate"] == PG + "supporter"
    ]
    assert len(found) == 1
    assert (found[0]["start"], found[0]["end"], found[0]["status"]) == (
        "2015-09-30",
        "2024-12-08",
        "confirmed",
    )


def test_graphml_attributes_match_the_store(loaded: Store, projection: Projection) -> None:
    g = read_networkx(run(loaded, projection, "graphml"))
    iso = {str(r["s"]): str(r["c"]) for r in loaded.select(f"SELECT ?s ?c WHERE {{ ?s <{PG}isoAlpha3> ?c }}")}
    wikidata = {
        str(r["s"]): str(r["q"]) for r in loaded.select(f"SELECT ?s ?q WHERE {{ ?s <{PG}wikidataId> ?q }}")
    }
    states = [n for n, c in projection.classes.items() if c == "State"]
    assert len(states) == 195
    for n, attrs in g.nodes(data=True):
        assert attrs["id"] == n and attrs["label"] == projection.label(n)
        assert attrs["class"] == projection.classes[n]
        assert attrs.get("iso") == iso.get(n) and attrs.get("wikidata") == wikidata.get(n)
    assert all(g.nodes[s]["iso"] == s.rsplit("/", 1)[1] for s in states)
    # every exported edge is a statement in the store, in its RDF direction
    triples = {
        (str(r["s"]), str(r["p"]), str(r["o"]))
        for r in loaded.select(f'SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?p), "{PG}")) }}')
    }
    assert set(edges_of(g)) <= triples
    # a membership with year precision keeps it (2006 .. 2012), not a made-up day
    uzb = g.nodes[ID + "membership/state-UZB--org-csto--2006--wikipedia-csto"]
    assert (uzb["start"], uzb["end"]) == ("2006", "2012")


def test_graphml_as_of_drops_what_ended(loaded: Store, projection: Projection) -> None:
    data = run(loaded, projection, "graphml", Scope(as_of=date(2025, 1, 17)))
    check_graphml(data)
    g = read_networkx(data)
    supports = {str(r["s"]) for r in loaded.select(f"SELECT ?s WHERE {{ ?s <{PG}recipient> <{ASSAD_GOV}> }}")}
    assert RUSSIA_SUPPORT in supports and len(supports) == 2
    assert not any(u in supports or v in supports for u, v in g.edges())
    assert not supports & set(g.nodes)
    assert ASSAD_GOV not in g  # the government itself ended on 2024-12-08
    assert ID + "agreement/russia-iran-cspa-2025" in g  # signed that day
    assert all(e["start"] <= "2025-01-17" for _, _, e in g.edges(data=True) if "start" in e)
    before = read_networkx(run(loaded, projection, "graphml", Scope(as_of=date(2024, 11, 1))))
    assert (RUSSIA_SUPPORT, PG + "supporter", RUS) in edges_of(before)


def test_graphml_around_syria_is_its_neighbourhood(loaded: Store, projection: Projection) -> None:
    sub = select(loaded, projection, Scope(around=SYR, depth=1))
    assert filename(sub, "graphml") == "pactgraph-around-SYR-depth-1.graphml"
    data = b"".join(export(loaded, sub, "graphml"))
    check_graphml(data)
    g = read_networkx(data)
    assert set(g.nodes) == {SYR, *projection.graph[SYR]}
    expected = sum(
        len(d["facts"]) for u, v, d in projection.graph.edges(data=True) if u in g.nodes and v in g.nodes
    )
    assert g.number_of_edges() == expected
    two = read_networkx(run(loaded, projection, "graphml", Scope(around=SYR, depth=2)))
    assert set(two.nodes) == set(nx.single_source_shortest_path_length(projection.graph, SYR, cutoff=2))


def test_graphml_minimum_status(loaded: Store, projection: Projection) -> None:
    g = read_networkx(run(loaded, projection, "graphml", Scope(min_status="confirmed")))
    assert {d["status"] for _, _, d in g.edges(data=True)} == {"confirmed"}
    assert ID + "support/iran-russia-ballistic-missiles" not in g  # a reported claim
    assert IRN in g and RUS in g


def test_graphml_path_query_scope(loaded: Store, projection: Projection) -> None:
    q = PathQuery((RUS, IRN), SYR, max_hops=4, limit=3, as_of=date(2024, 11, 1))
    sub = select(loaded, projection, Scope(paths=q, as_of=q.as_of))
    assert filename(sub, "gexf") == "pactgraph-paths-RUS-IRN-to-SYR-as-of-2024-11-01.gexf"
    g = read_networkx(b"".join(export(loaded, sub, "graphml")))
    assert {RUS, IRN, SYR, RUSSIA_SUPPORT, ASSAD_GOV} <= set(g.nodes)
    assert g.number_of_nodes() < projection.graph.number_of_nodes() / 2
    edges = edges_of(g)
    assert (RUSSIA_SUPPORT, PG + "supporter", RUS) in edges and (ASSAD_GOV, PG + "leads", SYR) in edges
    assert len(edges) == g.number_of_edges()  # each fact once


def test_graphml_escapes_and_drops_control_characters(tmp_path: Any) -> None:
    a, b = "https://example.org/a?x=1&y=<2>", 'https://example.org/b"q'
    proj = Projection(version=0, graph=nx.Graph(), labels={a: 'Tom & "Jerry" <co>\x01'}, classes={a: "State"})
    proj.graph.add_edge(
        a, b, facts=[Edge(a, PG + "p", b, "2011", None, "confirmed", "g", (), "it's\x0b\nso")]
    )
    sub = Subgraph(proj, Scope(), [a, b], {}, "odd <names>", members={a, b})
    data = b"".join(export(None, sub, "graphml"))
    check_graphml(data)
    g = read_networkx(data)
    assert g.nodes[a]["label"] == 'Tom & "Jerry" <co>'
    assert edges_of(g)[(a, PG + "p", b)]["quote"] == "it's\nso"
    assert "class" not in g.nodes[b] and g.nodes[b]["label"] == 'b"q'
    assert read_igraph(data, tmp_path).ecount() == 1
    gexf = nx.read_gexf(io.BytesIO(b"".join(export(None, sub, "gexf"))), version="1.3")
    assert gexf.nodes[a]["label"] == 'Tom & "Jerry" <co>' and gexf.number_of_edges() == 1
    cyjs = json.loads(b"".join(export(None, sub, "cyjs")))
    assert [e["data"]["quote"] for e in cyjs["elements"]["edges"]] == ["it's\x0b\nso"]
    with pytest.raises(PactgraphError):
        export(None, sub, "turtle")


def test_export_streams_in_bounded_memory() -> None:
    """A big projection is written in chunks; memory does not grow with the output."""
    proj = Projection(version=0, graph=nx.Graph())
    n = 12_000
    for i in range(n):
        u, v = f"https://example.org/n/{i}", f"https://example.org/n/{(i * 7 + 1) % n}"
        proj.classes[u] = "State"
        proj.graph.add_edge(
            u, v, facts=[Edge(u, PG + "p", v, "2001-02", "2003", "confirmed", "g", ("urn:s",), None)]
        )
    sub = Subgraph(proj, Scope(), sorted(proj.graph), {}, "synthetic")
    for fmt in ("graphml", "gexf", "cyjs"):
        tracemalloc.start()
        size = chunks = 0
        for chunk in export(None, sub, fmt):
            size += len(chunk)
            chunks += 1
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert size > 3_000_000 and chunks > 40, (fmt, size, chunks)
        assert peak < 1_500_000, (fmt, peak)  # a few chunks, not the whole document


# ---------------------------------------------------------------------------------- GEXF


def test_gexf_dynamic_with_spells(loaded: Store, projection: Projection) -> None:
    data = run(loaded, projection, "gexf")
    root = ET.fromstring(data)
    assert root.tag == GEXF + "gexf" and root.get("version") == "1.3"
    graph = root.find(GEXF + "graph")
    assert graph is not None
    assert (graph.get("mode"), graph.get("timeformat"), graph.get("defaultedgetype")) == (
        "dynamic",
        "date",
        "directed",
    )
    declared: dict[str, dict[str, str]] = {}
    for attrs in graph.findall(GEXF + "attributes"):
        kind = attrs.attrib["class"]
        declared[kind] = {a.attrib["id"]: a.attrib["type"] for a in attrs.findall(GEXF + "attribute")}
        assert all(a.get("title") for a in attrs.findall(GEXF + "attribute"))
    assert set(declared) == {"node", "edge"}
    spells = 0
    for kind in ("node", "edge"):
        for element in graph.iter(GEXF + kind):
            for value in element.iter(GEXF + "attvalue"):
                typ = declared[kind][value.attrib["for"]]
                text = value.attrib["value"]
                assert text and text not in REPRS
                if typ == "boolean":
                    assert text in ("true", "false")
            for s in element.iter(GEXF + "spell"):
                spells += 1
                start, end = s.get("start"), s.get("end")
                assert start or end
                for d in (start, end):
                    if d is not None:
                        date.fromisoformat(d)
                        assert len(d) == 10
                if start and end:
                    assert start <= end
    assert spells > 100

    g = nx.read_gexf(io.BytesIO(data), version="1.3")
    assert g.number_of_nodes() == projection.graph.number_of_nodes()
    assert g.number_of_edges() == fact_count(projection)
    assert g.graph["mode"] == "dynamic"
    support = [d for u, v, d in g.edges(data=True) if u == RUSSIA_SUPPORT and v == RUS]
    assert support[0]["spells"] == [("2015-09-30", "2024-12-08")]
    assert support[0]["label"] and support[0]["status"] == "confirmed"
    # a membership of year precision is on the timeline on the days it is known to hold:
    # from the last day 2006 may stand for to the first day 2012 may (graph/dates.py's rule)
    uzb = g.nodes[ID + "membership/state-UZB--org-csto--2006--wikipedia-csto"]
    assert uzb["spells"] == [("2006-12-31", "2012-01-01")] and uzb["start"] == "2006"
    iran = g.nodes[IRN]
    assert (iran["label"], iran["class"], iran["iso"], iran["hub"]) == ("Iran", "State", "IRN", False)
    assert "spells" not in iran  # a state is there for the whole timeline


def test_spells_are_the_days_a_fact_is_known_to_hold_and_never_run_backwards() -> None:
    assert spell("2011", "2024-12") == ("2011-12-31", "2024-12-01")
    assert spell("2024-02", None) == ("2024-02-29", None)
    assert spell(None, "2024") == (None, "2024-01-01")
    # an end in the month of a start ends on the start at the earliest
    assert spell("2024-12-08", "2024-12") == ("2024-12-08", "2024-12-08")
    assert spell("2024", "2023") is None
    assert spell(None, None) is None and spell("soon", None) is None


# ---------------------------------------------------------------------------------- Cytoscape


def test_cytoscape_json(loaded: Store, projection: Projection) -> None:
    data = json.loads(run(loaded, projection, "cyjs", Scope(around=SYR)))
    nodes = {n["data"]["id"]: n["data"] for n in data["elements"]["nodes"]}
    assert set(nodes) == {SYR, *projection.graph[SYR]}
    assert data["data"]["root"] == SYR
    for e in data["elements"]["edges"]:
        assert e["data"]["source"] in nodes and e["data"]["target"] in nodes
        assert None not in e["data"].values() and "" not in e["data"].values()
    assert nodes[SYR]["iso"] == "SYR" and nodes[SYR]["name"] == "Syria"


# ---------------------------------------------------------------------------------- RDF


def test_rdf_formats_parse_and_hold_the_subgraph(loaded: Store, projection: Projection) -> None:
    types = {"turtle": "turtle", "nquads": "nquads", "trig": "trig", "jsonld": "json-ld"}
    subjects: dict[str, set[str]] = {}
    for fmt, name in types.items():
        data = run(loaded, projection, fmt, Scope(around=SYR))
        ds = rdflib.Dataset()
        ds.parse(data=data, format=name)
        triples = {(str(s), str(p), str(o)) for s, p, o, _ in ds.quads()}
        assert (SYR, "http://www.w3.org/2000/01/rdf-schema#label", "Syria") in triples, fmt
        assert (SYR, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", PG + "State") in triples, fmt
        # no literals but labels by default, no link leaving the subgraph
        literals = [o for s, p, o, _ in ds.quads() if isinstance(o, rdflib.Literal)]
        assert all(
            str(p) == "http://www.w3.org/2000/01/rdf-schema#label"
            for s, p, o, _ in ds.quads()
            if isinstance(o, rdflib.Literal)
        ), fmt
        assert literals
        subjects[fmt] = {s for s, _, _ in triples}
        if fmt in ("nquads", "trig"):
            graphs = {str(g) for _, _, _, g in ds.quads()}
            assert graphs and all(g.startswith("https://pactgraph.org/graph/") for g in graphs), fmt
    assert len({frozenset(s) for s in subjects.values()}) == 1
    assert subjects["turtle"] == {SYR, *projection.graph[SYR]}


def test_rdf_include_literals_and_as_of(loaded: Store, projection: Projection) -> None:
    full = rdflib.Graph()
    full.parse(
        data=run(loaded, projection, "turtle", Scope(around=SYR), include_literals=True), format="turtle"
    )
    assert (rdflib.URIRef(SYR), rdflib.URIRef(PG + "isoAlpha3"), rdflib.Literal("SYR")) in full
    later = rdflib.Dataset()
    later.parse(data=run(loaded, projection, "nquads", Scope(as_of=date(2025, 1, 17))), format="nquads")
    assert not any(str(s) == RUSSIA_SUPPORT or str(o) == RUSSIA_SUPPORT for s, _, o, _ in later.quads())
    assert not any(str(o) == ASSAD_GOV for _, _, o, _ in later.quads())


def test_whole_graph_turtle_has_every_fact(loaded: Store, projection: Projection) -> None:
    g = rdflib.Graph()
    g.parse(data=run(loaded, projection, "turtle"), format="turtle")
    facts = {
        (e.subject, e.predicate, e.object)
        for _, _, d in projection.graph.edges(data=True)
        for e in d["facts"]
    }
    assert facts <= {(str(s), str(p), str(o)) for s, p, o in g}


def test_bad_scope_and_format() -> None:
    for kw in ({"depth": 0}, {"min_status": "rumour"}):
        with pytest.raises(PactgraphError):
            Scope(**kw)  # type: ignore[arg-type]
    with pytest.raises(PactgraphError):
        Scope(around=SYR, paths=PathQuery((RUS,), SYR))
    proj = Projection(version=0, graph=nx.Graph())
    with pytest.raises(PactgraphError):
        list(export(None, Subgraph(proj, Scope(), [], {}, "x"), "svg"))
