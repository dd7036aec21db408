"""Entities, search, paths and neighbourhoods over HTTP, on the real server with the bundled data."""

from __future__ import annotations

import httpx
from rdflib import Graph, Literal, URIRef

from tests.api.conftest import Server

ID = "https://pactgraph.org/id/"
PG = "https://pactgraph.org/ontology#"


def test_paths_russia_and_iran_to_syria(server: Server) -> None:
    r = httpx.get(
        server.url + "/paths",
        params=[
            ("from", "Russia"),
            ("from", "Iran"),
            ("to", "Syria"),
            ("max_hops", "4"),
            ("as_of", "2024-11-01"),
        ],
        timeout=30,
    )
    assert r.status_code == 200
    body = r.json()
    assert [g["from"] for g in body["paths"]] == [ID + "state/RUS", ID + "state/IRN"]
    first = body["paths"][0]["paths"][0]
    assert first["text"].startswith(
        "Russia supported Government of Bashar al-Assad from 2015-09-30 until 2024-12-08 ["
    )
    assert [n["label"] for n in first["nodes"]] == [
        "Russia",
        "Russian support for Assad's government",
        "Government of Bashar al-Assad",
        "Syria",
    ]
    assert {c["node"]["label"] for c in body["connections"]} >= {
        "Government of Bashar al-Assad",
        "United States",
    }


def test_paths_bad_parameters_are_400(server: Server) -> None:
    for params in (
        {"from": "Russia", "to": "Syria", "max_hops": "-1"},
        {"from": "Russia", "to": "Syria", "max_hops": "10000"},
        {"from": "Russia", "to": "Syria", "as_of": "2025-13-45"},
        {"from": "Russia", "to": "Syria", "status": "rumour"},
        {"to": "Syria"},
    ):
        r = httpx.get(server.url + "/paths", params=params)
        assert r.status_code == 400, params
        assert r.json()["error"]


def test_unknown_name_is_404_with_closest(server: Server) -> None:
    r = httpx.get(server.url + "/paths", params={"from": "Rusia", "to": "Syria"})
    assert r.status_code == 404
    assert "Russia" in r.json()["error"]


def test_entity_iran(server: Server) -> None:
    for name in ("Iran", "IRN", "Islamic Republic of Iran", "state/IRN", ID + "state/IRN", "Q794"):
        r = httpx.get(server.url + "/entities/" + name)
        assert r.status_code == 200, name
        body = r.json()
        assert body["id"] == ID + "state/IRN"
    assert body["label"] == "Iran"
    assert body["identifiers"]["iso_alpha2"] == "IR" and body["identifiers"]["wikidata"] == "Q794"
    assert {"value": "Islamic Republic of Iran", "lang": "en"} in body["aliases"]
    signed = body["facts"]["StrategicPartnership"][0]
    assert signed["node"]["label"] == "Comprehensive Strategic Partnership Agreement"
    assert signed["start"] == "2025-01-17" and signed["label"] == "is a signatory of"
    assert {w["id"] for w in signed["with"]} >= {ID + "state/RUS", ID + "person/masoud-pezeshkian"}
    sco = [f for f in body["facts"]["Membership"] if any(w["id"] == ID + "org/sco" for w in f["with"])]
    assert sco and sco[0]["start"] == "2023-07-04"


def test_entity_as_turtle(server: Server) -> None:
    r = httpx.get(server.url + "/entities/Iran", headers={"Accept": "text/turtle"})
    assert r.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    assert (URIRef(ID + "state/IRN"), URIRef(PG + "isoAlpha3"), Literal("IRN")) in g
    assert (None, URIRef(PG + "signatory"), URIRef(ID + "state/IRN")) in g


def test_kremlin_alias(server: Server) -> None:
    assert httpx.get(server.url + "/entities/the Kremlin").json()["id"] == ID + "government/kremlin"


def test_search(server: Server) -> None:
    r = httpx.get(server.url + "/search", params={"q": "islamic republic", "type": "State"})
    hits = r.json()["hits"]
    assert hits[0]["id"] == ID + "state/IRN"
    fuzzy = httpx.get(server.url + "/search", params={"q": "Rusia"}).json()["hits"]
    assert fuzzy[0]["id"] == ID + "state/RUS" and fuzzy[0]["how"] == "fuzzy"
    assert httpx.get(server.url + "/search", params={"q": "x", "limit": "1000"}).status_code == 400


def test_neighbourhood_is_cytoscape_json(server: Server) -> None:
    r = httpx.get(server.url + "/neighbourhood/Syria", params={"depth": "1", "as_of": "2024-11-01"})
    body = r.json()
    nodes = {e["data"]["id"] for e in body["elements"] if "source" not in e["data"]}
    edges = [e["data"] for e in body["elements"] if "source" in e["data"]]
    assert ID + "government/assad-syria" in nodes and ID + "state/SYR" in nodes
    assert all(e["source"] in nodes and e["target"] in nodes for e in edges)
    later = httpx.get(
        server.url + "/neighbourhood/Syria", params={"depth": "1", "as_of": "2025-01-17"}
    ).json()
    assert ID + "government/assad-syria" not in {e["data"]["id"] for e in later["elements"]}
