"""Injection and escape: parameters never change a query; no input makes the server read a
file or a URL (SERVICE, LOAD, external entities, remote JSON-LD contexts), checked with a
canary HTTP server on 127.0.0.1 that counts every request it gets."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from pactgraph.graph import open_store
from tests.conftest import seeded_copy
from tests.reliability.helpers import CLI_SKIP, FIGURES, ROOT, Live, digest, no_trace, send_query

ID = "https://pactgraph.org/id/"
QUERY_TIMEOUT = 30.0  # the first read after a write rebuilds the projection: not a test of limits
PG = "https://pactgraph.org/ontology#"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SECRET = "CanarySecret4711"
TRIED: dict[str, int] = FIGURES.setdefault("injection/escape attempts", {})  # type: ignore[assignment]


def tried(kind: str, n: int = 1) -> None:
    TRIED[kind] = TRIED.get(kind, 0) + n


class Canary:
    """An HTTP server on 127.0.0.1 that answers anything with a little Turtle and counts requests."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(f"{self.command} {self.path}")
                body = b'<urn:canary> <urn:canary> "fetched from the network" .\n'
                self.send_response(200)
                self.send_header("Content-Type", "text/turtle")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    c = Canary()
    yield c
    c.close()


@pytest.fixture(scope="module", autouse=True)
def secret(server: Live) -> None:
    """An entity whose label no injected query may reveal."""
    data = f'<{ID}state/XSQ> a <{PG}State> ; <{LABEL}> "{SECRET}"@en ; <{PG}isoAlpha3> "XSQ" .'
    r = httpx.post(
        server.url + "/ingest",
        params={"name": "secret.ttl"},
        content=data.encode(),
        headers={**server.auth, "Content-Type": "text/turtle"},
        timeout=120,
    )
    assert r.status_code == 200, r.text


@pytest.fixture(autouse=True)
def unchanged(server: Live, secret: None, canary: Canary) -> Iterator[None]:
    before = digest(server.store)
    hits = len(canary.hits)
    yield
    assert canary.hits[hits:] == [], "the server reached the network"
    assert digest(server.store) == before, "the store changed"


# ---------------------------------------------------------------------------- parameters

FRAGMENTS = [
    '"} ; DROP ALL ; {"',
    "> . ?s ?p ?o",
    "\\u0022",
    "\\u0022 } ; CLEAR ALL ; #",
    "' } UNION { ?s ?p ?o } #",
    '") } UNION { ?s ?p ?o } #',
    'Russia" . ?s ?p ?o . "',
    "Russia' ; DELETE WHERE { ?s ?p ?o } #",
    f"{ID}state/RUS> ?p ?o }} UNION {{ ?s ?p ?o }} #",
    f"<{ID}state/RUS> . ?s ?p ?o . <urn:x",
    "?s",
    "*",
    "} } } } DROP ALL",
    "%22%7D%20%3B%20DROP%20ALL",
    "Russia\n} ; DROP ALL ; #",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
]
PARAMS = [
    "/entities/{v}",
    "/neighbourhood/{v}",
    "/paths?from={v}&to=Syria",
    "/paths?from=Russia&to={v}",
    "/paths?from=Russia&to=Syria&as_of={v}",
    "/paths?from=Russia&to=Syria&status={v}",
    "/neighbourhood/Russia?as_of={v}",
    "/neighbourhood/Russia?status={v}",
    "/search?q=Russia&type={v}",
    "/store?graph={v}",
    "/sparql?query=ASK%7B%7D&default-graph-uri={v}",
    "/sparql?query=ASK%7B%7D&named-graph-uri={v}",
]
# Parameters that filter rather than name: an unknown value may be refused or match nothing.
FILTERS = [
    "/paths?from=Russia&to=Syria&via={v}",
    "/paths?from=Russia&to=Syria&exclude={v}",
]
EXPORT = [
    "/export?around={v}",
    "/export?format={v}",
    "/export?as_of={v}",
    "/export?status={v}",
    "/export?from={v}&to=Syria",
    "/export?from=Russia&to={v}",
]


def exported_routes(server: Live) -> list[str]:
    paths = httpx.get(server.url + "/openapi.json", timeout=60).json()["paths"]
    return EXPORT if "/export" in paths else []


def get(server: Live, template: str, value: str) -> httpx.Response:
    path, _, query = template.partition("?")
    pairs = [p.split("=", 1) for p in query.split("&")] if query else []
    params = httpx.QueryParams([(k, value if v == "{v}" else v) for k, v in pairs])
    path = path.replace("{v}", quote(value, safe="/"))
    return httpx.get(server.url + path, params=params, timeout=60)


def test_sparql_fragments_in_names_never_change_a_query(server: Live) -> None:
    answered: dict[int, int] = {}
    for template in PARAMS + exported_routes(server):
        for value in FRAGMENTS:
            tried("SPARQL fragments in parameters")
            r = get(server, template, value)
            no_trace(r.text)
            answered[r.status_code] = answered.get(r.status_code, 0) + 1
            assert r.status_code in (400, 404, 406, 409), (template, value, r.status_code, r.text[:300])
            assert SECRET not in r.text
    FIGURES["injection answers by status"] = answered


def test_sparql_fragments_in_filters_never_change_a_query(server: Live) -> None:
    for template in FILTERS:
        for value in FRAGMENTS:
            tried("SPARQL fragments in parameters")
            r = get(server, template, value)
            no_trace(r.text)
            assert r.status_code in (200, 400), (template, value, r.status_code, r.text[:300])
            assert SECRET not in r.text


def test_sparql_fragments_in_search(server: Live) -> None:
    for value in FRAGMENTS:
        tried("SPARQL fragments in parameters")
        r = httpx.get(server.url + "/search", params={"q": value}, timeout=60)
        no_trace(r.text)
        assert r.status_code in (200, 400), (value, r.status_code, r.text[:300])
        assert SECRET not in r.text
        if r.status_code == 200:  # name matches at most, each an entity with a score
            assert all({"id", "label", "score"} <= set(hit) for hit in r.json()["hits"])


def test_the_secret_is_there_to_be_found(server: Live) -> None:
    """The control: the canary label is readable by a plain lookup, so its absence above means something."""
    assert SECRET in httpx.get(server.url + "/entities/state/XSQ", timeout=60).text


def test_sparql_fragments_in_the_ingest_name_stay_in_the_graph_name(server: Live) -> None:
    for value in FRAGMENTS:
        tried("SPARQL fragments in parameters")
        r = httpx.post(
            server.url + "/ingest",
            params={"name": value},
            content=b"<urn:inj> <urn:p> <urn:o> .",
            headers={**server.auth, "Content-Type": "text/turtle"},
            timeout=60,
        )
        no_trace(r.text)
        assert r.status_code in (200, 400), (value, r.status_code, r.text[:300])
        if r.status_code == 200:
            for g in r.json()["graphs"]:
                assert g.startswith("https://pactgraph.org/graph/")
                assert not any(c in g for c in ' <>"{}|\\^`\n')
                d = httpx.delete(server.url + "/store", params={"graph": g}, headers=server.auth, timeout=60)
                assert d.status_code == 204


# ---------------------------------------------------------------------------- SERVICE, LOAD

NBSP = "\u00a0"


def queries(url: str) -> list[str]:
    return [
        f"SELECT * WHERE {{ SERVICE <{url}/service> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{url}/silent> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?x ?y ?z . SERVICE <{url}/join> {{ ?s ?p ?o }} }} LIMIT 1",
        f"SELECT * WHERE {{ BIND(<{url}/svc> AS ?svc) SERVICE ?svc {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{url}/from> WHERE {{ ?s ?p ?o }} LIMIT 1",
        f"SELECT * FROM NAMED <{url}/named> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT 1",
        # A comment ends at a carriage return for SPARQL; a scanner that reads to "\n" is fooled.
        f"SELECT * WHERE {{ # just a comment\rSERVICE <{url}/cr-comment> {{ ?s ?p ?o }} }}",
        # No-break space is allowed in an IRI; a scanner that ends IRIs at any "\s" then takes
        # the quote inside it for the start of a string and skips what follows.
        f"SELECT * WHERE {{ BIND(<http://x/{NBSP}'> AS ?a) SERVICE <{url}/nbsp-iri> {{ ?s ?p ?o }} "
        f"BIND(<http://y/'> AS ?b) }}",
    ]


def updates(url: str) -> list[str]:
    return [
        f"LOAD <{url}/load>",
        f"LOAD SILENT <{url}/load-silent> INTO GRAPH <https://example.org/graph/loaded>",
        "LOAD <file:///etc/passwd>",
        f"INSERT {{ GRAPH <https://example.org/graph/svc> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{url}/insert> {{ ?s ?p ?o }} }}",
        f"# a comment\rLOAD <{url}/cr-load>",
        f"INSERT DATA {{ <urn:a> <http://x/{NBSP}'> 1 }} ; LOAD <{url}/nbsp-load> ; INSERT DATA {{ <urn:a> <http://y/'> 1 }}",
    ]


@pytest.mark.parametrize("how", ["get", "form", "body"])
def test_service_and_remote_datasets_are_refused_in_queries(server: Live, canary: Canary, how: str) -> None:
    for q in queries(canary.url):
        tried("SERVICE/LOAD/file:/http: sources")
        seen = len(canary.hits)
        r = send_query(server.url, q, how)
        no_trace(r.text)
        assert "fetched from the network" not in r.text, q
        if "FROM" in q:  # FROM names graphs of the store: allowed, but never fetched
            assert r.status_code in (200, 400), (q, r.status_code, r.text[:300])
        else:
            assert r.status_code == 400, (q, r.status_code, r.text[:300])
        assert canary.hits[seen:] == [], f"{q!r} reached the network: {canary.hits[seen:]}"


@pytest.mark.parametrize("how", ["body", "form"])
def test_load_and_service_are_refused_in_updates(server: Live, canary: Canary, how: str) -> None:
    for u in updates(canary.url):
        tried("SERVICE/LOAD/file:/http: sources")
        seen = len(canary.hits)
        if how == "body":
            r = httpx.post(
                server.url + "/update",
                content=u.encode(),
                headers={**server.auth, "Content-Type": "application/sparql-update"},
                timeout=60,
            )
        else:
            r = httpx.post(server.url + "/update", data={"update": u}, headers=server.auth, timeout=60)
        no_trace(r.text)
        assert r.status_code == 400, (u, r.status_code, r.text[:300])
        assert canary.hits[seen:] == [], f"{u!r} reached the network: {canary.hits[seen:]}"


def jsonld_documents(url: str) -> list[tuple[str, str]]:
    doc = {"@id": "https://example.org/a", "name": "x"}
    return [
        ("remote-context", json.dumps({"@context": f"{url}/context.jsonld", **doc})),
        ("file-context", json.dumps({"@context": "file:///etc/passwd", **doc})),
        (
            "context-list",
            json.dumps({"@context": [f"{url}/context.jsonld", {"ex": "https://example.org/"}], **doc}),
        ),
        ("import", json.dumps({"@context": {"@version": 1.1, "@import": f"{url}/import.jsonld"}, **doc})),
        (
            "nested-context",
            json.dumps(
                {
                    "@id": "https://example.org/a",
                    "https://example.org/p": {"@context": f"{url}/nested.jsonld", "name": "y"},
                }
            ),
        ),
        ("relative-context", json.dumps({"@context": "../../etc/passwd", **doc})),
    ]


def xml_entities(url: str) -> list[tuple[str, str]]:
    body = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="https://example.org/">'
        '<rdf:Description rdf:about="https://example.org/a"><ex:p>&x;</ex:p></rdf:Description></rdf:RDF>'
    )
    return [
        (
            "xxe-file",
            f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n{body}',
        ),
        ("xxe-http", f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "{url}/xxe">]>\n{body}'),
        (
            "xxe-public",
            f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x PUBLIC "-//X//Y" "{url}/public">]>\n{body}',
        ),
        (
            "xxe-parameter",
            f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "{url}/dtd"> %p;]>\n{body.replace("&x;", "x")}',
        ),
        (
            "external-dtd",
            f'<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "{url}/external.dtd">\n{body.replace("&x;", "x")}',
        ),
    ]


def test_remote_json_ld_contexts_are_refused_at_ingest(server: Live, canary: Canary) -> None:
    for name, doc in jsonld_documents(canary.url):
        tried("SERVICE/LOAD/file:/http: sources")
        seen = len(canary.hits)
        r = httpx.post(
            server.url + "/ingest",
            params={"name": f"{name}.jsonld"},
            content=doc.encode(),
            headers={**server.auth, "Content-Type": "application/ld+json"},
            timeout=60,
        )
        no_trace(r.text)
        assert r.status_code == 400, (name, r.status_code, r.text[:300])
        assert "root:" not in r.text
        assert canary.hits[seen:] == [], (name, canary.hits[seen:])


@pytest.mark.parametrize("route", ["/ingest?name=entity.rdf", "/store?graph=https://example.org/graph/xxe"])
def test_xml_external_entities_are_refused(server: Live, canary: Canary, route: str) -> None:
    created = ("https://pactgraph.org/graph/entity", "https://example.org/graph/xxe")
    for name, doc in xml_entities(canary.url):
        tried("XML external entities")
        seen = len(canary.hits)
        method = "POST" if route.startswith("/ingest") else "PUT"
        r = httpx.request(
            method,
            server.url + route,
            content=doc.encode(),
            headers={**server.auth, "Content-Type": "application/rdf+xml"},
            timeout=60,
        )
        no_trace(r.text)
        assert "root:" not in r.text
        assert canary.hits[seen:] == [], (name, canary.hits[seen:])
        if name == "external-dtd":
            # A DOCTYPE that points at an external DTD and uses none of it: the DTD is not
            # fetched (checked above) and the data may be taken as it is.
            assert r.status_code in (200, 201, 204, 400), (name, r.status_code, r.text[:300])
            for g in created:
                httpx.delete(server.url + "/store", params={"graph": g}, headers=server.auth, timeout=60)
        else:
            assert r.status_code == 400, (name, r.status_code, r.text[:300])


@pytest.mark.slow
def test_the_cli_refuses_remote_sources_too(seeded: Path, tmp_path: Path, canary: Canary) -> None:
    store = seeded_copy(seeded, tmp_path / "store")
    with open_store(f"oxigraph:{store}") as db:
        before = digest(db, CLI_SKIP)
    seen = len(canary.hits)
    env = {**os.environ, "PACTGRAPH_STORE": f"oxigraph:{store}", "COLUMNS": "200"}
    files = [(f"{n}.jsonld", d) for n, d in jsonld_documents(canary.url)[:2]]
    files += [(f"{n}.rdf", d) for n, d in xml_entities(canary.url)[:2]]
    for name, doc in files:
        tried("SERVICE/LOAD/file:/http: sources")
        path = tmp_path / name
        path.write_text(doc)
        done = subprocess.run(
            [sys.executable, "-m", "pactgraph.api.cli", "ingest", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2, (name, done.returncode, done.stderr[-500:])
        assert name in done.stderr and "root:" not in done.stderr + done.stdout
        assert "Traceback" not in done.stderr
    for q in queries(canary.url)[:2] + queries(canary.url)[-2:]:
        tried("SERVICE/LOAD/file:/http: sources")
        done = subprocess.run(
            [sys.executable, "-m", "pactgraph.api.cli", "query", q],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2, (q, done.returncode, done.stderr[-500:])
    assert canary.hits[seen:] == [], canary.hits[seen:]
    with open_store(f"oxigraph:{store}") as db:
        assert digest(db, CLI_SKIP) == before
