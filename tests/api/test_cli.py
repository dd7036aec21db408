"""The `pactgraph` command as a user runs it, in subprocesses, on an on-disk Oxigraph store."""

from __future__ import annotations

import json
import os
import re
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


def start_serve(store_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`pactgraph serve` on the store, once /readyz answers."""
    port = free_port()
    env = {**os.environ, "PACTGRAPH_STORE": f"oxigraph:{store_dir}"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pactgraph.api.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, f"serve exited {proc.returncode}: {log.read_text()[-2000:]}"
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"serve was not ready in 120 s: {log.read_text()[-2000:]}"
        time.sleep(0.1)


@pytest.fixture()
def serving(store_dir: Path, tmp_path: Path) -> Iterator[str]:
    proc, url = start_serve(store_dir, tmp_path / "serve.log")
    try:
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


# Read commands as a user runs them, each printing what they print; compared with and without
# a server holding the store. Exports go to a file, named by the placeholder OUT.
READS = {
    "path": ["path", "Russia", "Iran", "--to", "Syria"],
    "path as of, json": ["path", "Russia", "Iran", "--to", "Syria", "--as-of", "2024-11-01", "--json"],
    "query table": ["query", CSPA],
    "query csv": ["query", CSPA, "--format", "csv"],
    "construct": ["query", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o ; <" + PG + "isoAlpha3> 'IRN' }"],
    "stats": ["stats", "--json"],
    "entity": ["entity", "Islamic Republic of Iran"],
    "entity as of, json": ["entity", "state/SYR", "--as-of", "2024-11-01", "--json"],
    "search": ["search", "Irna", "--json"],
    "search by type": ["search", "nato", "--type", "Organisation"],
    "export": ["export", "--format", "gexf", "--around", "Syria", "--as-of", "2024-11-01", "--output", "OUT"],
    "unknown name": ["entity", "Atlantis"],
    "bad date": ["path", "Iran", "--to", "Syria", "--as-of", "someday"],
    "validate": ["validate", str(DATA_DIR / "reference" / "memberships.csv"), "--store", "STORE"],
}


def run_reads(store_dir: Path, out_dir: Path) -> dict[str, tuple[int, str, str, bytes]]:
    """Each command's exit code, output, error output and written file."""
    done: dict[str, tuple[int, str, str, bytes]] = {}
    for name, args in READS.items():
        out = out_dir / f"{len(done)}.export"
        argv = [str(out) if a == "OUT" else f"oxigraph:{store_dir}" if a == "STORE" else a for a in args]
        r = cli(*argv, store=store_dir)
        stderr = r.stderr.replace(str(out), "OUT")
        done[name] = (r.returncode, r.stdout, stderr, out.read_bytes() if out.exists() else b"")
    return done


@pytest.fixture(scope="module")
def read_locally(
    store_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[int, str, str, bytes]]:
    return run_reads(store_dir, tmp_path_factory.mktemp("local"))


def test_read_commands_answer_the_same_while_serve_holds_the_store(
    read_locally: dict[str, tuple[int, str, str, bytes]], store_dir: Path, serving: str, tmp_path: Path
) -> None:
    # the store is the server's: opened here, it would be busy (so what follows came over HTTP)
    assert cli("ingest", str(DATA_DIR / "reference" / "states.ttl"), store=store_dir).returncode == 3
    served = run_reads(store_dir, tmp_path)
    for name in READS:
        assert served[name] == read_locally[name], name
    # and the answers are the real ones, not two copies of the same mistake
    code, path, _, _ = read_locally["path"]
    assert code == 0 and path.startswith(
        "Russia → Syria\n  1. (3 hops) Russia supported Government of Bashar al-Assad"
    )
    assert "Iran → Syria" in path and "What they share" in path
    assert read_locally["entity"][1].startswith("Iran (State) https://pactgraph.org/id/state/IRN")
    hits = json.loads(read_locally["search"][1])["hits"]
    assert hits[0]["local_id"] == "state/IRN"
    code, _, err, gexf = read_locally["export"]
    assert code == 0 and b"<gexf" in gexf and b"Syria" in gexf
    assert re.fullmatch(r"\d+ nodes, \d+ edges: \d+ bytes to OUT\n", err), err
    assert (
        read_locally["unknown name"][:2] == (4, "")
        and "no entity named 'Atlantis'" in read_locally["unknown name"][2]
    )
    assert read_locally["bad date"][0] == 2
    assert read_locally["validate"][:2] == (
        0,
        f"context: the store oxigraph:{store_dir}\nconforms: every shape holds\n",
    )


def test_serve_writes_its_address_beside_the_store_and_removes_it(store_dir: Path, tmp_path: Path) -> None:
    address = store_dir.with_name(store_dir.name + ".pactgraph") / "server.json"
    proc, url = start_serve(store_dir, tmp_path / "serve.log")
    try:
        found = json.loads(address.read_text())
        assert found == {"url": url, "pid": proc.pid, "store": f"oxigraph:{store_dir}"}
    finally:
        proc.terminate()  # SIGTERM, as a service manager stops it
        proc.wait(timeout=20)
    assert not address.exists()
    # a server killed outright leaves its file: nobody answers there, so reads open the store
    address.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": 2**22 + 1, "store": "x"}))
    try:
        done = cli("stats", "--json", store=store_dir)
        assert done.returncode == 0 and json.loads(done.stdout)["classes"][PG + "State"] == 195
    finally:
        address.unlink()


def test_a_store_held_by_another_program_is_busy(store_dir: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); print('open', flush=True); "
            "sys.stdin.read()",
            str(store_dir),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        # once the holder says it has the store open (rather than after a fixed wait)
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        done = cli("stats", store=store_dir)
        assert done.returncode == 3
        assert "open in another process" in done.stderr
    finally:
        holder.communicate(b"")
