"""GET /export on the real server with the bundled data: formats, scopes, downloads, errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import igraph
import networkx as nx
import pytest
import rdflib

from tests.api.conftest import Server
from tests.conftest import seeded_copy

ID = "https://pactgraph.org/id/"
PG = "https://pactgraph.org/ontology#"
SYR = ID + "state/SYR"

MEDIA = {
    "graphml": ("application/graphml+xml", "graphml"),
    "gexf": ("application/gexf+xml", "gexf"),
    "cyjs": ("application/json", "cyjs"),
    "turtle": ("text/turtle", "ttl"),
    "nquads": ("application/n-quads", "nq"),
    "trig": ("application/trig", "trig"),
    "jsonld": ("application/ld+json", "jsonld"),
}
RDFLIB = {"turtle": "turtle", "nquads": "nquads", "trig": "trig", "jsonld": "json-ld"}


def get(server: Server, params: Any) -> httpx.Response:
    return httpx.get(server.url + "/export", params=params, timeout=60)


def graphml_nodes(body: bytes) -> set[str]:
    return set(nx.read_graphml(io.BytesIO(body)).nodes)


@pytest.mark.parametrize("fmt", list(MEDIA))
def test_every_format_is_a_named_download(server: Server, fmt: str) -> None:
    r = get(server, {"format": fmt, "around": "Syria"})
    assert r.status_code == 200, r.text
    media, ext = MEDIA[fmt]
    assert r.headers["content-type"].split(";")[0] == media
    assert r.headers["content-disposition"] == f'attachment; filename="pactgraph-around-SYR-depth-1.{ext}"'
    if fmt == "graphml":
        assert SYR in graphml_nodes(r.content)
    elif fmt == "gexf":
        assert ET.fromstring(r.content).get("version") == "1.3"
        assert SYR in nx.read_gexf(io.BytesIO(r.content), version="1.3")
    elif fmt == "cyjs":
        assert SYR in {n["data"]["id"] for n in r.json()["elements"]["nodes"]}
    else:
        ds = rdflib.Dataset()
        ds.parse(data=r.content, format=RDFLIB[fmt])
        assert (rdflib.URIRef(SYR), rdflib.RDFS.label, rdflib.Literal("Syria", lang="en")) in {
            (s, p, o) for s, p, o, _ in ds.quads()
        }


def test_whole_graph_streams_as_graphml(server: Server) -> None:
    with httpx.stream("GET", server.url + "/export", timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["content-disposition"] == 'attachment; filename="pactgraph-graph.graphml"'
        assert "content-length" not in r.headers  # streamed, not built first
        body = r.read()
    g = nx.read_graphml(io.BytesIO(body))
    stats = httpx.get(server.url + "/stats", timeout=30).json()
    assert g.number_of_nodes() > 350
    states = [n for n, d in g.nodes(data=True) if d.get("class") == "State"]
    assert len(states) == 195 == stats["classes"][PG + "State"]
    iran = g.nodes[ID + "state/IRN"]
    assert (iran["label"], iran["iso"], iran["wikidata"]) == ("Iran", "IRN", "Q794")


def test_around_matches_the_neighbourhood_route(server: Server) -> None:
    exported = graphml_nodes(get(server, {"around": "Syria", "depth": "1"}).content)
    shown = httpx.get(server.url + "/neighbourhood/Syria", params={"depth": "1"}, timeout=30).json()
    assert exported == {e["data"]["id"] for e in shown["elements"] if "source" not in e["data"]}
    assert SYR in exported and ID + "government/assad-syria" in exported


def test_as_of_and_status_filter(server: Server) -> None:
    r = get(server, {"as_of": "2025-01-17", "format": "cyjs"})
    assert r.headers["content-disposition"] == 'attachment; filename="pactgraph-graph-as-of-2025-01-17.cyjs"'
    body = r.json()
    nodes = {n["data"]["id"] for n in body["elements"]["nodes"]}
    assert ID + "support/russia-assad-government" not in nodes and ID + "government/assad-syria" not in nodes
    assert all(
        e["data"]["source"] in nodes and e["data"]["target"] in nodes for e in body["elements"]["edges"]
    )
    confirmed = get(server, {"status": "confirmed", "format": "cyjs"}).json()
    assert {e["data"]["status"] for e in confirmed["elements"]["edges"]} == {"confirmed"}


def test_path_query_scope_is_the_answer_of_paths(server: Server) -> None:
    params = [("from", "Russia"), ("from", "Iran"), ("to", "Syria"), ("as_of", "2024-11-01"), ("limit", "2")]
    answer = httpx.get(server.url + "/paths", params=params, timeout=30).json()
    expected = {n["id"] for g in answer["paths"] for p in g["paths"] for n in p["nodes"]}
    expected |= {n["id"] for c in answer["connections"] for p in c["paths"] for n in p["nodes"]}
    r = get(server, [*params, ("format", "graphml")])
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == (
        'attachment; filename="pactgraph-paths-RUS-IRN-to-SYR-as-of-2024-11-01.graphml"'
    )
    g = nx.read_graphml(io.BytesIO(r.content))
    assert set(g.nodes) == expected
    hops = {
        (e["source"], e["target"]) if e["direction"] == "forward" else (e["target"], e["source"])
        for grp in answer["paths"]
        for p in grp["paths"]
        for e in p["edges"]
    }
    assert hops <= set(g.edges())


def test_include_literals(server: Server) -> None:
    plain = rdflib.Graph().parse(
        data=get(server, {"format": "turtle", "around": "IRN"}).content, format="turtle"
    )
    full = rdflib.Graph().parse(
        data=get(server, {"format": "turtle", "around": "IRN", "include_literals": "true"}).content,
        format="turtle",
    )
    iso = (rdflib.URIRef(ID + "state/IRN"), rdflib.URIRef(PG + "isoAlpha3"), rdflib.Literal("IRN"))
    assert iso in full and iso not in plain
    assert len(full) > len(plain)


@pytest.mark.parametrize(
    "params",
    [
        {"format": "svg"},
        {"format": "graphml", "as_of": "2025-13-45"},
        {"as_of": "yesterday"},
        {"status": "rumour"},
        {"around": "Syria", "depth": "0"},
        {"around": "Syria", "depth": "100"},
        {"from": "Russia"},
        {"to": "Syria"},
        {"from": "Russia", "to": "Syria", "max_hops": "99"},
        {"from": "Russia", "to": "Syria", "around": "Iran"},
        {"include_literals": "perhaps"},
    ],
)
def test_bad_parameters_are_400_json(server: Server, params: dict[str, str]) -> None:
    r = get(server, params)
    assert r.status_code == 400, (params, r.status_code, r.text[:200])
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]
    assert "content-disposition" not in r.headers


def test_unknown_name_is_404(server: Server) -> None:
    r = get(server, {"around": "Atlantis"})
    assert r.status_code == 404 and r.json()["error"]


def test_openapi_lists_export(server: Server) -> None:
    spec = httpx.get(server.url + "/openapi.json", timeout=30).json()
    params = {p["name"] for p in spec["paths"]["/export"]["get"]["parameters"]}
    assert {"format", "around", "depth", "as_of", "status", "from", "to", "include_literals"} <= params
    assert json.dumps(spec)  # serializable, no Python objects leaked


# ---------------------------------------------------------------------------------- CLI


def cli(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "PACTGRAPH_STORE": f"oxigraph:{store}"}
    return subprocess.run(
        [sys.executable, "-m", "pactgraph.api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path) -> Path:
    """A store of the bundled data for the export commands (`pactgraph ingest` itself is
    tests/api/test_cli.py's)."""
    return seeded_copy(bundled_seed, tmp_path_factory.mktemp("export-cli") / "store")


def test_cli_exports_graphml(cli_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "syria.graphml"
    done = cli(
        "export",
        "--format",
        "graphml",
        "--output",
        str(out),
        "--around",
        "Syria",
        "--depth",
        "1",
        store=cli_store,
    )
    assert done.returncode == 0, done.stderr
    g = nx.read_graphml(out)
    assert SYR in g and ID + "government/assad-syria" in g
    assert g.nodes[SYR]["iso"] == "SYR"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # igraph keeps our `id` attribute over the XML id
        h = igraph.Graph.Read_GraphML(str(out))
    assert (h.vcount(), h.ecount()) == (g.number_of_nodes(), g.number_of_edges())
    assert f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges" in done.stderr

    whole = tmp_path / "all.gexf"
    done = cli("export", "--format", "gexf", "-o", str(whole), "--as-of", "2025-01-17", store=cli_store)
    assert done.returncode == 0, done.stderr
    later = nx.read_gexf(whole, version="1.3")
    assert ID + "support/russia-assad-government" not in later and ID + "state/IRN" in later


def test_cli_bad_input_exits_2_and_leaves_no_file(cli_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.graphml"
    for args in (
        ("--format", "svg"),
        ("--as-of", "2025-13-45"),
        ("--status", "rumour"),
        ("--from", "Russia"),
    ):
        done = cli("export", "--output", str(out), *args, store=cli_store)
        assert done.returncode == 2, (args, done.stderr)
        assert "error:" in done.stderr and "Traceback" not in done.stderr
        assert not out.exists() and not list(tmp_path.iterdir())
    done = cli("export", "--output", str(tmp_path / "missing" / "x.graphml"), store=cli_store)
    assert done.returncode == 2 and "cannot write" in done.stderr
