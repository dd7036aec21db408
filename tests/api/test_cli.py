"""The `pactgraph` command as a user runs it, in subprocesses, on an on-disk Oxigraph store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pactgraph.data import DATA_DIR
from tests.api.conftest import free_port

PG = "https://pactgraph.org/ontology#"
CSPA = f"""PREFIX pg: <{PG}>
SELECT ?signatory ?date ?years WHERE {{
  ?a a pg:StrategicPartnership ; pg:signatory ?signatory ; pg:signingDate ?date ; pg:termYears ?years
}} ORDER BY ?signatory"""


def cli(*args: str, store: Path | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    if store is not None:
        env["PACTGRAPH_STORE"] = f"oxigraph:{store}"
    return subprocess.run(
        [sys.executable, "-m", "pactgraph.api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=check,
        timeout=300,
    )


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "store"
    done = cli("ingest", str(DATA_DIR), store=path)
    assert done.returncode == 0, done.stderr
    assert "triples in" in done.stdout
    return path


def test_query_json_is_w3c_results(store_dir: Path) -> None:
    done = cli("query", CSPA, "--format", "json", store=store_dir, check=True)
    data = json.loads(done.stdout)
    assert data["head"]["vars"] == ["signatory", "date", "years"]
    rows = [
        (b["signatory"]["value"], b["date"]["value"], b["years"]["value"])
        for b in data["results"]["bindings"]
    ]
    assert rows == [
        ("https://pactgraph.org/id/state/IRN", "2025-01-17", "20"),
        ("https://pactgraph.org/id/state/RUS", "2025-01-17", "20"),
    ]


def test_query_table_and_csv(store_dir: Path) -> None:
    table = cli("query", CSPA, store=store_dir, check=True).stdout
    assert "2 row(s)" in table and "state/IRN" in table
    csv = cli("query", CSPA, "--format", "csv", store=store_dir, check=True).stdout
    assert csv.splitlines()[0] == "signatory,date,years"


def test_stats(store_dir: Path) -> None:
    done = cli("stats", "--json", store=store_dir, check=True)
    data = json.loads(done.stdout)
    assert data["classes"][PG + "State"] == 195
    assert data["graphs"]["https://pactgraph.org/graph/russia-iran-pact-2025"] > 300


def test_reingest_is_idempotent(store_dir: Path) -> None:
    before = json.loads(cli("stats", "--json", store=store_dir, check=True).stdout)
    cli(
        "ingest",
        str(DATA_DIR / "seed" / "russia-iran-pact-2025.ttl"),
        str(DATA_DIR / "reference"),
        store=store_dir,
        check=True,
    )
    assert json.loads(cli("stats", "--json", store=store_dir, check=True).stdout) == before


def test_validate_reports_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        f"<https://pactgraph.org/id/agreement/x> a <{PG}Treaty> ; "
        '<http://www.w3.org/2000/01/rdf-schema#label> "X"@en .\n'
    )
    done = cli("validate", str(bad))
    assert done.returncode == 1
    assert (
        "https://pactgraph.org/id/agreement/x" in done.stdout and "MinCountConstraintComponent" in done.stdout
    )
    ok = cli("validate", str(DATA_DIR / "reference" / "states.ttl"))
    assert ok.returncode == 0 and "conforms" in ok.stdout


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text('<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> "open\n')
    done = cli("ingest", str(bad), store=tmp_path / "s")
    assert done.returncode == 2
    assert "broken.ttl: not valid turtle" in done.stderr and "line 2" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture()
def serving(store_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PACTGRAPH_STORE": f"oxigraph:{store_dir}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pactgraph.api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_ingest_while_serving_says_so(store_dir: Path, serving: str, tmp_path: Path) -> None:
    assert httpx.get(serving + "/healthz").status_code == 200
    done = cli("ingest", str(DATA_DIR / "reference" / "states.ttl"), store=store_dir)
    assert done.returncode == 3
    assert "open in another process" in done.stderr and "POST /ingest" in done.stderr
    # and the running server still answers, with the data intact
    r = httpx.get(serving + "/sparql", params={"query": CSPA})
    assert len(r.json()["results"]["bindings"]) == 2
