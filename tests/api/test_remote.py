"""pactgraph serving real SPARQL servers through the `sparql:` backend (Oxigraph server and
Virtuoso), and the server failing under it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from pactgraph.api.settings import Settings
from pactgraph.data import DATA_DIR
from pactgraph.graph import ingest, load_ontology, open_store, read_sources
from tests.api.conftest import run_server
from tests.conftest import start_oxigraph_server, start_virtuoso

ID = "https://pactgraph.org/id/"
CSPA = (
    "PREFIX pg: <https://pactgraph.org/ontology#> SELECT ?s ?d WHERE { ?a a pg:StrategicPartnership ; "
    "pg:signatory ?s ; pg:signingDate ?d } ORDER BY ?s"
)
STARTERS: dict[str, Callable[[Path], tuple[subprocess.Popen[bytes], str]]] = {
    "oxigraph-server": start_oxigraph_server,
    "virtuoso": start_virtuoso,
}


@dataclass
class Remote:
    kind: str
    url: str  # pactgraph's
    store: str  # the sparql: store URL
    location: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def restart(self) -> None:
        """Start the same server again on the same data and port."""
        if self.kind == "oxigraph-server":
            port = int(self.store.split(":")[3].split("/")[0])
            self.procs.append(start_oxigraph_server(self.location, port)[0])
            return
        ini = self.location / "virtuoso.ini"
        proc = subprocess.Popen(
            ["virtuoso-t", "+foreground", "+configfile", str(ini)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        query_url = self.store.removeprefix("sparql:")
        for _ in range(600):
            try:
                if httpx.get(query_url, params={"query": "ASK {}"}, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)


@pytest.fixture(scope="module", params=sorted(STARTERS))
def remote(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    location = tmp_path_factory.mktemp(request.param) / "db"
    proc, store_url = STARTERS[request.param](location)
    # Loaded through pactgraph itself, as a user would with `pactgraph ingest data/ --store sparql:…`.
    db = open_store(store_url)
    load_ontology(db)
    ingest(db, read_sources([DATA_DIR]))
    db.close()
    for server_url in run_server(
        Settings(store=store_url, token="t0ken", query_timeout=5.0, load_bundled=False)
    ):
        r = Remote(request.param, server_url, store_url, location, [proc])
        yield r
    r.procs[-1].terminate()
    r.procs[-1].wait(30)


def test_sparql_passes_the_servers_answer_through(remote: Remote) -> None:
    r = httpx.get(
        remote.url + "/sparql", params={"query": CSPA}, headers={"Accept": "application/sparql-results+json"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/sparql-results+json")
    rows = [(b["s"]["value"], b["d"]["value"]) for b in r.json()["results"]["bindings"]]
    assert rows == [(f"{ID}state/IRN", "2025-01-17"), (f"{ID}state/RUS", "2025-01-17")]


def test_paths_entities_and_stats_on_the_remote_store(remote: Remote) -> None:
    paths = httpx.get(
        remote.url + "/paths", params={"from": "Russia", "to": "Syria", "as_of": "2024-11-01"}, timeout=30
    )
    assert paths.json()["paths"][0]["paths"][0]["text"].startswith(
        "Russia supported Government of Bashar al-Assad"
    )
    assert httpx.get(remote.url + "/entities/IRN").json()["identifiers"]["wikidata"] == "Q794"
    assert httpx.get(remote.url + "/stats").json()["classes"]["https://pactgraph.org/ontology#State"] == 195


def test_server_down_then_back(remote: Remote) -> None:
    remote.procs[-1].terminate()
    remote.procs[-1].wait(10)
    down = httpx.get(remote.url + "/sparql", params={"query": CSPA}, timeout=30)
    assert down.status_code == 503
    assert "not reachable" in down.json()["error"]
    assert httpx.get(remote.url + "/stats", timeout=30).status_code == 503
    assert httpx.get(remote.url + "/healthz").status_code == 200  # pactgraph itself is alive
    remote.restart()
    back = httpx.get(remote.url + "/sparql", params={"query": CSPA}, timeout=30)
    assert back.status_code == 200 and len(back.json()["results"]["bindings"]) == 2
