"""Shared helpers: a live server that exposes its store, digests of a store, raw HTTP checks."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox

from pactgraph.api.app import create_app
from pactgraph.api.settings import Settings
from pactgraph.graph import Store
from tests.api.conftest import free_port, serve_app

TOKEN = "test-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]
# Figures that issue 7 asks for, filled by the tests, printed at the end of the run (conftest).
FIGURES: dict[str, object] = {}
# `pactgraph ingest` rewrites the ontology graph from the file each time; CLI tests leave it out.
CLI_SKIP = frozenset({"https://pactgraph.org/graph/ontology"})
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


@dataclass
class Live:
    url: str
    token: str
    store: Store  # the server's own store object: read-only use from tests (snapshots)
    store_path: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def wait_ready(url: str, seconds: float = 180, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not become ready")


def send_query(url: str, query: str, how: str) -> httpx.Response:
    """POST or GET a query to /sparql in one of the protocol's three ways: "get", "form", "body"."""
    if how == "get":
        return httpx.get(url + "/sparql", params={"query": query}, timeout=60)
    if how == "form":
        return httpx.post(url + "/sparql", data={"query": query}, timeout=60)
    return httpx.post(
        url + "/sparql",
        content=query.encode(),
        headers={"Content-Type": "application/sparql-query"},
        timeout=60,
    )


@contextmanager
def live_server(settings: Settings, store_path: Path) -> Iterator[Live]:
    """A real uvicorn on 127.0.0.1 in a thread of this process, with a handle on its store."""
    app = create_app(settings)
    with contextlib.closing(serve_app(app, ready_within=180)) as urls:
        yield Live(next(urls), settings.token or "", app.state.pactgraph.store, store_path)


@contextmanager
def serve_subprocess(
    store_path: Path,
    log: Path,
    env: dict[str, str] | None = None,
    memory_limit: int | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m api.cli serve` in its own process, output to `log`; optionally under an
    address-space limit so a memory blow-up kills that server, never the test run or the machine."""
    port = free_port()
    full_env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PACTGRAPH_STORE": f"oxigraph:{store_path}",
        **(env or {}),
    }

    def limit() -> None:
        if memory_limit:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pactgraph.api.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=limit,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, proc=proc)
            yield url, proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


def count(url: str) -> int:
    """Quads in the named graphs, asked over HTTP."""
    r = httpx.get(url + "/sparql", params={"query": COUNT_ALL}, timeout=60)
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def _canonical(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph) -> str:
    # Blank node labels are not content: re-writing the ontology (which the CLI does on every
    # ingest) gives its blank nodes new labels, so they all print as one placeholder.
    return "_:b" if isinstance(t, ox.BlankNode) else str(t)


def nquad_lines(native: ox.Store, skip: frozenset[str] = frozenset()) -> list[str]:
    """The store's quads as sorted N-Quads lines (blank nodes anonymised), but those of `skip` graphs."""
    return sorted(
        " ".join(_canonical(x) for x in (q.subject, q.predicate, q.object, q.graph_name)) + " ."
        for q in native.quads_for_pattern(None, None, None, None)
        if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in skip)
    )


def digest(store: Store, skip: frozenset[str] = frozenset()) -> tuple[int, str]:
    """Count and SHA-256 of the sorted N-Quads of a store (without the graphs in `skip`)."""
    native = store.oxigraph
    assert native is not None, "digests are taken on oxigraph: stores"
    lines = nquad_lines(native, skip)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def no_trace(text: str) -> None:
    """A response or an error message a person reads: no stack trace, no internals."""
    assert "Traceback" not in text and 'File "' not in text, text[:2000]
