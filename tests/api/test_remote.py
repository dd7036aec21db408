"""pactgraph serving a real Oxigraph server through the `sparql:` backend, and that server failing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.settings import Settings
from tests.api.conftest import run_server
from tests.conftest import start_oxigraph_server

ID = "https://pactgraph.org/id/"
CSPA = (
    "PREFIX pg: <https://pactgraph.org/ontology#> SELECT ?s ?d WHERE { ?a a pg:StrategicPartnership ; "
    "pg:signatory ?s ; pg:signingDate ?d } ORDER BY ?s"
)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int, list]]:
    location = tmp_path_factory.mktemp("remote") / "oxigraph"
    proc, url = start_oxigraph_server(location)
    port = int(url.split(":")[3].split("/")[0])
    procs = [proc]
    for server_url in run_server(Settings(store=url, token="t0ken", query_timeout=5.0)):
        yield server_url, location, port, procs
    procs[-1].terminate()
    procs[-1].wait(10)


def test_sparql_passes_the_servers_answer_through(remote: tuple[str, Path, int, list]) -> None:
    url = remote[0]
    r = httpx.get(url + "/sparql", params={"query": CSPA}, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines() == ["s,d", f"{ID}state/IRN,2025-01-17", f"{ID}state/RUS,2025-01-17"]


def test_paths_entities_and_stats_on_the_remote_store(remote: tuple[str, Path, int, list]) -> None:
    url = remote[0]
    paths = httpx.get(
        url + "/paths", params={"from": "Russia", "to": "Syria", "as_of": "2024-11-01"}, timeout=30
    )
    assert paths.json()["paths"][0]["paths"][0]["text"].startswith(
        "Russia supported Government of Bashar al-Assad"
    )
    assert httpx.get(url + "/entities/IRN").json()["identifiers"]["wikidata"] == "Q794"
    assert httpx.get(url + "/stats").json()["classes"]["https://pactgraph.org/ontology#State"] == 195


def test_server_down_then_back(remote: tuple[str, Path, int, list]) -> None:
    url, location, port, procs = remote
    procs[-1].terminate()
    procs[-1].wait(10)
    down = httpx.get(url + "/sparql", params={"query": CSPA}, timeout=30)
    assert down.status_code == 503
    assert "not reachable" in down.json()["error"]
    assert httpx.get(url + "/stats", timeout=30).status_code == 503
    assert httpx.get(url + "/healthz").status_code == 200  # pactgraph itself is alive
    proc, _ = start_oxigraph_server(location, port)
    procs.append(proc)
    back = httpx.get(url + "/sparql", params={"query": CSPA}, headers={"Accept": "text/csv"}, timeout=30)
    assert back.status_code == 200 and len(back.text.splitlines()) == 3
