"""Shared fixtures: stores on each backend, the bundled data loaded once per session.

Backends: `memory:`, `oxigraph:` on disk, and `sparql:` on a real Oxigraph server
(`oxigraph serve`, from the PyPI package `oxigraph`) that the fixtures start on 127.0.0.1.
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from pactgraph.data import DATA_DIR
from pactgraph.graph import Store, ingest, load_ontology, open_store, read_sources

BACKENDS = ["memory", "oxigraph", "sparql"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_oxigraph_server(location: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A real Oxigraph SPARQL server whose default graph is the union of its graphs."""
    binary = shutil.which("oxigraph")
    if binary is None:
        pytest.fail(
            "the `oxigraph` server is missing: pip install 'oxigraph>=0.5.13,<0.6' (in the test extra)"
        )
    port = port or _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "serve",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/query", params={"query": "ASK {}"}, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return proc, f"sparql:{url}/query,{url}/update"


VIRTUOSO_INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
[Parameters]
ServerPort = {isql}
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = {http}
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


def missing(reason: str) -> NoReturn:
    """A required system component (a Debian package) is missing: fail in CI (`CI` set, where
    .ci/run installs it), skip elsewhere with the reason, so `pytest` on a machine with only
    Python and pip runs everything it can."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


def start_virtuoso(location: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A real Virtuoso (Debian's virtuoso-opensource) in its own directory, with SPARQL Update on."""
    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if binary is None or isql is None:
        missing("Virtuoso is missing: apt-get install virtuoso-opensource (.ci/run does)")
    location.mkdir(parents=True, exist_ok=True)
    isql_port, http_port = _free_port(), _free_port()
    ini = location / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=location, isql=isql_port, http=http_port))
    proc = subprocess.Popen(
        [binary, "+foreground", "+configfile", str(ini)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{http_port}/sparql"
    for _ in range(600):
        try:
            if httpx.get(url, params={"query": "ASK {}"}, timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    grant = 'grant SPARQL_UPDATE to "SPARQL";'
    subprocess.run([isql, str(isql_port), "dba", "dba", f"exec={grant}"], check=True, capture_output=True)
    return proc, f"sparql:{url}"


@pytest.fixture(scope="session")
def bundled_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed on-disk store holding the ontology and every bundled file, ingested once per
    session: tests and servers that need a store of their own with the bundled data start from a
    copy of it (`seeded_copy`) instead of ingesting the same files again."""
    path = tmp_path_factory.mktemp("bundled-seed") / "store"
    store = open_store(f"oxigraph:{path}")
    load_ontology(store)
    ingest(store, read_sources([DATA_DIR]))
    store.close()
    del store
    gc.collect()  # the RocksDB lock goes with the last reference
    return path


def seeded_copy(seed: Path, dest: Path) -> Path:
    """A store of its own at `dest` with the seed's quads (a closed RocksDB directory copies like
    any files; its generation and snapshot, kept beside it, are not copied: built on first use)."""
    shutil.copytree(seed, dest)
    return dest


@pytest.fixture(scope="session")
def sparql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_oxigraph_server(tmp_path_factory.mktemp("oxigraph-server"))
    yield url
    proc.terminate()
    proc.wait(10)


def make_store(kind: str, tmp: Path, remote: str | None = None) -> Store:
    if kind == "sparql":
        assert remote is not None
        # One server per session: each test starts empty (the server's own DROP ALL, since
        # pactgraph's keeps the ontology graph).
        update_url = remote.split(",")[-1]
        httpx.post(update_url, data={"update": "DROP SILENT ALL"}).raise_for_status()
        return open_store(remote)
    return open_store("memory:" if kind == "memory" else f"oxigraph:{tmp / 'store'}")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store on each backend."""
    remote = request.getfixturevalue("sparql_server") if request.param == "sparql" else None
    s = make_store(request.param, tmp_path, remote)
    yield s
    s.close()


@pytest.fixture(scope="session", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A store on each backend with the ontology and every bundled file ingested."""
    tmp = tmp_path_factory.mktemp(request.param)
    proc = None
    remote = None
    if request.param == "sparql":
        proc, remote = start_oxigraph_server(tmp / "server")
    s = make_store(request.param, tmp, remote)
    load_ontology(s)
    ingest(s, read_sources([DATA_DIR]))
    yield s
    s.close()
    if proc is not None:
        proc.terminate()
        proc.wait(10)
