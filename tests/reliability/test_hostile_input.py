"""Input built to exhaust the server: an entity-expansion bomb, nesting deep enough to overflow
a parser's stack, nesting that makes a parser quadratic. Each is refused with a 400 and the
server lives on. Each test gets its own `pactgraph serve` process under an address-space
limit, so a blow-up kills that server (and fails the test), never the test run or the machine."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import seeded_copy
from tests.reliability.helpers import CLI_SKIP, FIGURES, ROOT, digest, no_trace, serve_subprocess

TOKEN = "Hostile-Test-Token-0a1b2c"
MEMORY_LIMIT = 3 * 1024**3  # the server needs ~0.7 GB of address space; the bomb asks for more than 4 GB
DEEP = 10_000  # levels of nesting: Oxigraph's recursive SPARQL parser overflows an 8 MB stack near 3,000
TRIED: dict[str, int] = FIGURES.setdefault("hostile inputs tried", {})  # type: ignore[assignment]

RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="https://example.org/"'


def bomb(levels: int = 10) -> bytes:
    """ "Billion laughs": ten entities, each ten of the one before; 3 GB once expanded."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)
    ]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [\n{chr(10).join(entities)}\n]>\n'
        f'<rdf:RDF {RDF}><rdf:Description rdf:about="https://example.org/a">'
        f"<ex:p>&lol{levels - 1};</ex:p></rdf:Description></rdf:RDF>"
    ).encode()


def wide_entity(size: int = 4096, refs: int = 200_000) -> bytes:
    """No nesting, but one entity of 4 KB used 200,000 times: 800 MB from an 1 MB body."""
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY big "{"x" * size}">]>\n'
        f'<rdf:RDF {RDF}><rdf:Description rdf:about="https://example.org/a">'
        f"<ex:p>{'&big;' * refs}</ex:p></rdf:Description></rdf:RDF>"
    ).encode()


def deep_rdfxml(levels: int) -> bytes:
    return (
        f'<rdf:RDF {RDF}><rdf:Description rdf:about="https://example.org/a">'
        + "<ex:p><rdf:Description>" * levels
        + "</rdf:Description></ex:p>" * levels
        + "</rdf:Description></rdf:RDF>"
    ).encode()


@pytest.fixture()
def hostile(seeded: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    store = seeded_copy(seeded, tmp_path / "store")
    env = {"PACTGRAPH_TOKEN": TOKEN, "PACTGRAPH_MAX_BODY": "2000000", "PACTGRAPH_QUERY_TIMEOUT": "10"}
    with serve_subprocess(store, tmp_path / "serve.log", env=env, memory_limit=MEMORY_LIMIT) as (url, proc):
        yield url, proc, tmp_path / "serve.log"


def alive(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    code = proc.poll()
    assert code is None, f"the server died (exit {code}): {log.read_text(errors='replace')[-1500:]}"
    assert httpx.get(url + "/healthz", timeout=30).status_code == 200


def refused(r: httpx.Response) -> None:
    no_trace(r.text)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.json()["error"]


def post(url: str, path: str, body: bytes, ctype: str, timeout: float = 60) -> httpx.Response | None:
    try:
        return httpx.post(
            url + path,
            content=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": ctype},
            timeout=timeout,
        )
    except httpx.TransportError:
        return None  # the server went away: `alive` says why


@pytest.mark.parametrize(
    ("case", "body"), [("billion-laughs", bomb()), ("wide-entity", wide_entity())], ids=["bomb", "wide"]
)
@pytest.mark.parametrize("route", ["/ingest?name=lol.rdf", "/store?graph=https://example.org/graph/lol"])
def test_entity_expansion_is_refused(
    hostile: tuple[str, subprocess.Popen[bytes], Path], case: str, body: bytes, route: str
) -> None:
    TRIED["entity expansion"] = TRIED.get("entity expansion", 0) + 1
    url, proc, log = hostile
    if route.startswith("/store"):
        try:
            r: httpx.Response | None = httpx.put(
                url + route,
                content=body,
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/rdf+xml"},
                timeout=60,
            )
        except httpx.TransportError:
            r = None
    else:
        r = post(url, route, body, "application/rdf+xml")
    alive(url, proc, log)
    assert r is not None
    refused(r)
    assert len(r.content) < 10_000


@pytest.mark.parametrize(
    ("path", "ctype", "text"),
    [
        ("/sparql", "application/sparql-query", "SELECT * WHERE " + "{" * DEEP + "}" * DEEP),
        ("/sparql", "application/sparql-query", "ASK { FILTER(" + "(" * DEEP + "1" + ")" * DEEP + ") }"),
        (
            "/sparql",
            "application/sparql-query",
            "SELECT * WHERE { " + "OPTIONAL { " * DEEP + "}" * DEEP + " }",
        ),
        (
            "/update",
            "application/sparql-update",
            "INSERT { <urn:a> <urn:b> 1 } WHERE " + "{" * DEEP + "}" * DEEP,
        ),
        (
            "/update",
            "application/sparql-update",
            "DELETE WHERE { ?s ?p " + "(" * DEEP + "1" + ")" * DEEP + " }",
        ),
    ],
    ids=["query-groups", "query-brackets", "query-optional", "update-groups", "update-lists"],
)
def test_deep_nesting_in_sparql_is_refused(
    hostile: tuple[str, subprocess.Popen[bytes], Path], path: str, ctype: str, text: str
) -> None:
    TRIED["deep SPARQL nesting"] = TRIED.get("deep SPARQL nesting", 0) + 1
    url, proc, log = hostile
    r = post(url, path, text.encode(), ctype)
    alive(url, proc, log)
    assert r is not None
    refused(r)
    # and the query workers still answer
    ok = httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=60)
    assert ok.status_code == 200 and ok.json()["boolean"] is True


def test_deep_nesting_in_rdfxml_is_refused_quickly(
    hostile: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    """40,000 nested elements (1.9 MB, under the body limit): the RDF/XML parser's time grows much
    faster than the depth (10,000 levels take 3 s, 40,000 over 4 minutes), and an ingest cannot be
    stopped once it runs: it must be refused before parsing."""
    TRIED["deep RDF/XML nesting"] = TRIED.get("deep RDF/XML nesting", 0) + 1
    url, proc, log = hostile
    body = deep_rdfxml(40_000)
    assert len(body) < 2_000_000
    r = post(url, "/ingest?name=deep.rdf", body, "application/rdf+xml", timeout=30)
    assert r is not None, "no answer within 30 s"
    refused(r)
    alive(url, proc, log)


@pytest.mark.parametrize(
    "query",
    ["SELECT * WHERE " + "{" * DEEP + "}" * DEEP],
    ids=["groups"],
)
def test_deep_nesting_through_the_cli(seeded: Path, tmp_path: Path, query: str) -> None:
    TRIED["deep SPARQL nesting"] = TRIED.get("deep SPARQL nesting", 0) + 1
    store = seeded_copy(seeded, tmp_path / "store")
    done = subprocess.run(
        [sys.executable, "-m", "pactgraph.api.cli", "query", "-"],
        input=query,
        cwd=ROOT,
        env={**os.environ, "PACTGRAPH_STORE": f"oxigraph:{store}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("case", ["bomb", "deep"])
def test_hostile_files_through_the_cli(seeded: Path, tmp_path: Path, case: str) -> None:
    kind = "entity expansion" if case == "bomb" else "deep RDF/XML nesting"
    TRIED[kind] = TRIED.get(kind, 0) + 1
    store = seeded_copy(seeded, tmp_path / "store")
    path = tmp_path / f"{case}.rdf"
    path.write_bytes(bomb() if case == "bomb" else deep_rdfxml(40_000))
    from pactgraph.graph import open_store

    with open_store(f"oxigraph:{store}") as db:
        before = digest(db, CLI_SKIP)

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    try:
        done = subprocess.run(
            [sys.executable, "-m", "pactgraph.api.cli", "ingest", str(path)],
            cwd=ROOT,
            env={**os.environ, "PACTGRAPH_STORE": f"oxigraph:{store}"},
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=limit,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the CLI was still parsing after 60 s")
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert path.name in done.stderr and "Traceback" not in done.stderr
    with open_store(f"oxigraph:{store}") as db:
        assert digest(db, CLI_SKIP) == before
