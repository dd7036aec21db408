"""Bad input gets a 4xx with a message a person can act on — never a 5xx or a stack trace —
and leaves the store as it was (checked after every test by a digest of the whole store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rdflib import Dataset, Graph, URIRef

from pactgraph.graph import open_store
from pactgraph.graph.formats import RDF_FORMATS
from tests.reliability.conftest import copy_store
from tests.reliability.helpers import CLI_SKIP, FIGURES, ROOT, Live, digest, no_trace, send_query

QUERY_TIMEOUT = 30.0  # the first read after a write rebuilds the projection: not a test of limits
PG = "https://pactgraph.org/ontology#"
ID = "https://pactgraph.org/id/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
TRIED: dict[str, int] = FIGURES.setdefault("bad inputs tried", {})  # type: ignore[assignment]

MINI = f"""
@prefix pg: <{PG}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{ID}state/XAA> a pg:State ; rdfs:label "Atlantis"@en ; pg:isoAlpha3 "XAA" .
<{ID}state/XBB> a pg:State ; rdfs:label "Borduria"@en ; pg:isoAlpha3 "XBB" .
<{ID}source/test> a pg:Source ; rdfs:label "Test source"@en ; dcterms:title "Test"@en ; dcterms:publisher "Us"@en .
<{ID}agreement/xa-xb> a pg:Treaty ; rdfs:label "Atlantis–Borduria treaty"@en ;
    pg:signatory <{ID}state/XAA>, <{ID}state/XBB> ; pg:signingDate "2020-02"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> ;
    pg:source <{ID}source/test> .
"""
CSV = (
    "kind,subject,object,start,end,status,source,quote,detail\n"
    "membership,state/RUS,org/un,1945-10-24,,confirmed,source/un-member-states,,founding member\n"
    "membership,state/IRN,org/un,1945-10-24,,confirmed,source/un-member-states,,founding member\n"
)


def document(fmt: str) -> bytes:
    """A small valid document in each format (the CSV is valid against the bundled data)."""
    if fmt == "csv":
        return CSV.encode()
    g = Graph().parse(data=MINI, format="turtle")
    if RDF_FORMATS[fmt].quads:
        ds = Dataset()
        named = ds.graph(URIRef("https://example.org/graph/mini"))
        for t in g:
            named.add(t)
        return ds.serialize(format=RDF_FORMATS[fmt].rdflib, encoding="utf-8")
    return g.serialize(format=RDF_FORMATS[fmt].rdflib, encoding="utf-8")


FORMATS = [*sorted(RDF_FORMATS), "csv"]
MEDIA = {**{f: RDF_FORMATS[f].media_type for f in RDF_FORMATS}, "csv": "text/csv"}
EXT = {**{f: RDF_FORMATS[f].extensions[0] for f in RDF_FORMATS}, "csv": ".csv"}
# What is sent under each label: a document of another format that is not valid as this one.
WRONG = {
    "turtle": "jsonld",
    "ntriples": "turtle",
    "nquads": "rdfxml",
    "trig": "jsonld",
    "jsonld": "turtle",
    "rdfxml": "turtle",
    "csv": "turtle",
}


def truncated(fmt: str) -> bytes:
    data = document(fmt)
    if fmt == "csv":  # a row cut in the middle: too few columns
        return data[: data.rindex(b",source/") - 3]
    return data[: int(len(data) * 0.6)]


def bad_files() -> Iterator[tuple[str, str, bytes]]:
    for fmt in FORMATS:
        yield f"truncated-{fmt}", fmt, truncated(fmt)
        yield f"mislabelled-{fmt}", fmt, document(WRONG[fmt])
    yield (
        "latin1-turtle",
        "turtle",
        MINI.replace("–", "-").replace("Atlantis", "Atl\xe4ntis").encode("latin-1"),
    )
    yield "binary-as-turtle", "turtle", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    yield "nul-in-ntriples", "ntriples", b'<urn:a> <urn:b> "x\x00y" .\n<urn:a> <urn:b\x00> "z" .\n'
    yield "csv-bad-date", "csv", (CSV + "membership,state/RUS,org/un,2025-13-45,,,,,\n").encode()
    yield "csv-bad-header", "csv", b"kind;subject;object\nmembership;state/RUS;org/un\n"
    yield "csv-unknown-kind", "csv", (CSV + "friendship,state/RUS,state/IRN,2020,,,,,\n").encode()
    yield "csv-bad-status", "csv", (CSV + "membership,state/RUS,org/un,2020,,rumoured,,,\n").encode()


BAD_FILES = list(bad_files())


def acts(r: httpx.Response, *statuses: int) -> dict[str, Any]:
    """The answer is one of `statuses` (any 4xx if none given), JSON {error, detail}, no trace."""
    no_trace(r.text)
    if statuses:
        assert r.status_code in statuses, (r.status_code, r.text[:500])
    else:
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    body = r.json()
    assert isinstance(body["error"], str) and body["error"].strip(), body
    # Starlette's bare "Not Found" / "Method Not Allowed" and the app's "internal error" say
    # nothing a person can act on.
    assert body["error"] not in ("internal error", "Not Found", "Method Not Allowed"), body
    return body


def tried(kind: str, n: int = 1) -> None:
    TRIED[kind] = TRIED.get(kind, 0) + n


@pytest.fixture(scope="module", autouse=True)
def ambiguous(server: Live) -> Iterator[None]:
    """Two states named "Ruritania", so the name is ambiguous (the bundled data has no such name)."""
    data = "\n".join(
        f'<{ID}state/{c}> a <{PG}State> ; <{LABEL}> "Ruritania"@en ; <{PG}isoAlpha3> "{c}" .'
        for c in ("XRA", "XRB")
    )
    r = httpx.post(
        server.url + "/ingest",
        params={"name": "ruritania.ttl"},
        content=data.encode(),
        headers={**server.auth, "Content-Type": "text/turtle"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    yield


@pytest.fixture(autouse=True)
def unchanged(server: Live, ambiguous: None) -> Iterator[None]:
    before = digest(server.store)
    yield
    assert digest(server.store) == before, "bad input changed the store"


# ---------------------------------------------------------------------------- SPARQL

MALFORMED = [
    "SELECT ?s WHERE { ?s ?p }",
    "SELEC * WHERE { ?s ?p ?o }",
    "SELECT * WHERE { ?s ?p ?o",
    "SELECT * WHERE { ?s ?p ?o } LIMIT -1",
    "PREFIX : <",
    "SELECT (COUNT(*) AS ?n WHERE { ?s ?p ?o }",
    "SELECT * WHERE { ?s nope:p ?o }",
    "SELECT * WHERE { ?s ?p 'unterminated }",
    "INSERT DATA { <urn:a> <urn:b> 'c' }",  # an update sent as a query
    "SELECT * WHERE { ?s ?p ?o } GROUP BY",
    "\x00SELECT * WHERE { ?s ?p ?o }",
    "{" * 40 + "}" * 39,
]


@pytest.mark.parametrize("query", MALFORMED)
@pytest.mark.parametrize("how", ["get", "form", "body"])
def test_malformed_sparql(server: Live, query: str, how: str) -> None:
    tried("malformed SPARQL")
    body = acts(send_query(server.url, query, how), 400)
    assert "SPARQL" in body["error"] or "query" in body["error"]


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <urn:a> <urn:b> }",
        "DELETE WHERE { ?s ?p }",
        "SELECT * WHERE { ?s ?p ?o }",  # a query sent as an update
        "CLEAR GRAPH",
        "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 'c' } } ; DELETE DATA { <urn:a> }",
        "\x00",
    ],
)
def test_malformed_update(server: Live, update: str) -> None:
    tried("malformed SPARQL")
    r = httpx.post(
        server.url + "/update",
        content=update.encode(),
        headers={**server.auth, "Content-Type": "application/sparql-update"},
        timeout=60,
    )
    acts(r, 400)


def test_sparql_body_that_is_not_utf8(server: Live) -> None:
    tried("malformed SPARQL", 2)
    for path, ctype, headers in (
        ("/sparql", "application/sparql-query", {}),
        ("/update", "application/sparql-update", server.auth),
    ):
        r = httpx.post(
            server.url + path,
            content="SELECT * WHERE { ?s ?p 'é' }".encode("latin-1"),
            headers={**headers, "Content-Type": ctype},
            timeout=60,
        )
        acts(r, 400)


# ---------------------------------------------------------------------------- files


@pytest.mark.parametrize(("case", "fmt", "data"), BAD_FILES, ids=[c for c, _, _ in BAD_FILES])
@pytest.mark.parametrize("how", ["content-type", "format-param"])
def test_bad_file_through_post_ingest(server: Live, case: str, fmt: str, data: bytes, how: str) -> None:
    tried("bad files (HTTP)")
    name = f"{case}{EXT[fmt]}"
    if how == "content-type":
        params, headers = {"name": name}, {"Content-Type": MEDIA[fmt]}
    else:
        params, headers = {"name": name, "format": fmt}, {"Content-Type": "application/octet-stream"}
    r = httpx.post(
        server.url + "/ingest", params=params, content=data, headers={**server.auth, **headers}, timeout=120
    )
    body = acts(r, 400, 422)
    assert case in body["error"], f"the message does not name the file: {body['error']}"


@pytest.mark.parametrize(
    ("case", "fmt", "data"),
    [c for c in BAD_FILES if c[1] in RDF_FORMATS],
    ids=[c for c, f, _ in BAD_FILES if f in RDF_FORMATS],
)
def test_bad_file_through_put_store(server: Live, case: str, fmt: str, data: bytes) -> None:
    tried("bad files (HTTP)")
    r = httpx.put(
        server.url + "/store",
        params={"graph": "https://pactgraph.org/graph/states"},
        content=data,
        headers={**server.auth, "Content-Type": MEDIA[fmt]},
        timeout=120,
    )
    acts(r, 400)


@pytest.mark.slow
def test_bad_files_through_the_cli(seeded: Path, tmp_path: Path) -> None:
    store = copy_store(seeded, tmp_path / "store")
    with open_store(f"oxigraph:{store}") as db:
        before = digest(db, CLI_SKIP)
    env = {**os.environ, "COLUMNS": "200", "PACTGRAPH_STORE": f"oxigraph:{store}"}
    failures = []
    for case, fmt, data in BAD_FILES:
        tried("bad files (CLI)")
        path = tmp_path / f"{case}{EXT[fmt]}"
        path.write_bytes(data)
        done = subprocess.run(
            [sys.executable, "-m", "pactgraph.api.cli", "ingest", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        ok = done.returncode in (1, 2) and path.name in done.stderr and "Traceback" not in done.stderr
        if not ok:
            failures.append((case, done.returncode, done.stderr[-500:]))
    with open_store(f"oxigraph:{store}") as db:
        assert digest(db, CLI_SKIP) == before
    assert not failures, failures


# ---------------------------------------------------------------------------- content types


@pytest.mark.parametrize(
    ("method", "path", "ctype", "body"),
    [
        ("POST", "/sparql", "text/plain", "SELECT * WHERE { ?s ?p ?o }"),
        ("POST", "/sparql", "application/json", '{"query": "SELECT * WHERE { ?s ?p ?o }"}'),
        ("POST", "/sparql", "application/sparql-update", "SELECT * WHERE { ?s ?p ?o }"),
        ("POST", "/sparql", None, "SELECT * WHERE { ?s ?p ?o }"),
        ("POST", "/update", "text/plain", "CLEAR ALL"),
        ("POST", "/update", "application/sparql-query", "CLEAR ALL"),
        ("POST", "/update", "multipart/form-data; boundary=x", "--x\r\n\r\nCLEAR ALL\r\n--x--"),
        ("POST", "/update", None, "CLEAR ALL"),
        ("PUT", "/store?graph=https://pactgraph.org/graph/states", "image/png", "<urn:a> <urn:b> <urn:c> ."),
        ("PUT", "/store?graph=https://pactgraph.org/graph/states", "application/x-unknown", "x"),
        ("POST", "/store?graph=https://pactgraph.org/graph/states", "text/html", "<p>hi</p>"),
        ("PUT", "/store?graph=https://pactgraph.org/graph/states", "text/csv", CSV),
        ("POST", "/ingest?name=x", "application/octet-stream", "<urn:a> <urn:b> <urn:c> ."),
        ("POST", "/ingest?name=x", "image/png", "<urn:a> <urn:b> <urn:c> ."),
        ("POST", "/ingest?name=x", None, "<urn:a> <urn:b> <urn:c> ."),
        ("POST", "/ingest?name=x.csv", "multipart/form-data; boundary=x", "--x\r\n\r\n" + CSV + "\r\n--x--"),
        ("POST", "/ingest?name=x&format=excel", "text/csv", CSV),
    ],
)
def test_wrong_content_type(server: Live, method: str, path: str, ctype: str | None, body: str) -> None:
    tried("wrong content types")
    headers = dict(server.auth)
    if ctype:
        headers["Content-Type"] = ctype
    r = httpx.request(method, server.url + path, content=body.encode(), headers=headers, timeout=60)
    acts(r, 400, 406, 415)


# ---------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "path",
    [
        "/entities/Ruritania",
        "/neighbourhood/Ruritania",
        "/paths?from=Ruritania&to=Russia",
        "/paths?from=Russia&to=Ruritania",
        "/paths?from=Russia&from=Ruritania&to=Syria",
    ],
)
def test_ambiguous_names_are_409_with_the_candidates(server: Live, path: str) -> None:
    tried("unknown or ambiguous names")
    body = acts(httpx.get(server.url + path, timeout=60), 409)
    text = json.dumps(body)
    assert "XRA" in text and "XRB" in text, text


@pytest.mark.parametrize(
    "path",
    [
        "/entities/Ruritaniaa",
        "/entities/state/XXX",
        "/entities/https://pactgraph.org/id/state/NOPE",
        "/entities/Q99999999999",
        "/neighbourhood/Atlantis%20Nowhere",
        "/paths?from=Nowhereland&to=Russia",
        "/paths?from=Russia&to=Nowhereland",
        "/paths?from=Russia&from=Nowhereland&to=Syria",
    ],
)
def test_unknown_names_are_404_with_the_closest(server: Live, path: str) -> None:
    tried("unknown or ambiguous names")
    body = acts(httpx.get(server.url + path, timeout=60), 404)
    assert "no entity" in body["error"]


# ---------------------------------------------------------------------------- absurd parameters

ABSURD = [
    "/paths?from=Russia&to=Syria&max_hops=-1",
    "/paths?from=Russia&to=Syria&max_hops=0",
    "/paths?from=Russia&to=Syria&max_hops=10000",
    "/paths?from=Russia&to=Syria&max_hops=99999999999999999999999999",
    "/paths?from=Russia&to=Syria&max_hops=2.5",
    "/paths?from=Russia&to=Syria&max_hops=NaN",
    "/paths?from=Russia&to=Syria&limit=-5",
    "/paths?from=Russia&to=Syria&limit=0",
    "/paths?from=Russia&to=Syria&limit=1000000000",
    "/paths?from=Russia&to=Syria&as_of=2025-13-45",
    "/paths?from=Russia&to=Syria&as_of=2025-02-30",
    "/paths?from=Russia&to=Syria&as_of=0000-00-00",
    "/paths?from=Russia&to=Syria&as_of=99999999-01-01",
    "/paths?from=Russia&to=Syria&as_of=yesterday",
    "/paths?from=Russia&to=Syria&status=rumoured",
    "/paths?from=Russia&to=Syria&via=nonexistentPredicate",
    "/paths?from=Russia&to=Syria&exclude=NoSuchClass",
    "/paths?to=Syria",
    "/paths?from=Russia",
    "/paths?from=&to=Syria",
    "/neighbourhood/Russia?depth=1000",
    "/neighbourhood/Russia?depth=-1",
    "/neighbourhood/Russia?depth=0",
    "/neighbourhood/Russia?depth=99999999999999999999999",
    "/neighbourhood/Russia?as_of=2025-13-45",
    "/neighbourhood/Russia?status=everything",
    "/search?q=Russia&limit=1000000000",
    "/search?q=Russia&limit=-1",
    "/search?q=Russia&limit=0",
    "/search?q=Russia&offset=-1",
    "/search?q=Russia&type=Unicorn",
    "/search?q=",
    "/search?q=" + "a" * 5000,
    "/search",
    "/entities/Russia?format=excel",
    "/sparql?query=ASK%7B%7D&format=excel",
    "/sparql?query=SELECT%20*%7B?s%20?p%20?o%7D&default-graph-uri=not%20an%20iri",
    "/sparql?query=SELECT%20*%7B?s%20?p%20?o%7D&named-graph-uri=%3E",
    "/store?graph=not-an-iri",
    "/store?graph=https://example.org/graph/none&default",
    "/store?default",
    "/store",
]


@pytest.mark.parametrize("path", ABSURD)
def test_absurd_parameters(server: Live, path: str) -> None:
    tried("absurd parameters")
    r = httpx.get(server.url + path, timeout=60)
    acts(r)


# Odd but meaningful: an answer or a 4xx, never a 5xx.
LENIENT = [
    "/paths?from=Russia&to=Syria&as_of=",  # an empty form field: no date
    "/paths?" + "&".join(["from=Russia"] * 500) + "&to=Syria",  # the same source 500 times
    "/paths?from=Russia&to=Russia",
    "/search?q=Russia&offset=1000000000000000000000000000000",
    "/neighbourhood/Russia?depth=3&as_of=0001-01-01",
    "/entities/Russia?format=nquads",
]


@pytest.mark.parametrize("path", LENIENT)
def test_odd_but_meaningful_parameters(server: Live, path: str) -> None:
    tried("absurd parameters")
    r = httpx.get(server.url + path, timeout=60)
    no_trace(r.text)
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if r.status_code >= 400:
        acts(r)


# ---------------------------------------------------------------------------- unicode and control characters

# Raw URL text, inserted as is: percent escapes stay escapes (lone surrogates, bad UTF-8).
NASTY = [
    "%00",
    "Rus%00sia",
    "%E2%80%AERussia",  # right-to-left override
    "%F0%9F%87%B7%F0%9F%87%BA",  # flag emoji
    "%F0%9F%98%80%F0%9F%98%80",
    "%ED%A0%80",  # a lone surrogate, as UTF-8 bytes
    "%ED%A0%80%ED%B0%80",  # a surrogate pair as two 3-byte sequences
    "%FF%FE",  # not UTF-8 at all
    "%C0%AF",  # overlong /
    "%1B%5B31m",  # an ANSI escape
    "%0D%0AX-Injected:%201",  # header injection attempt
    "%EF%BB%BF",  # BOM
    "%F4%8F%BF%BF",  # U+10FFFF
    "Russia%CC%81%CC%81%CC%81%CC%81",  # stacked combining marks
    "%E2%80%8B",  # zero-width space
    "a" * 3000,
]
TEXT_PARAMS = [
    "/entities/{v}",
    "/neighbourhood/{v}",
    "/search?q={v}",
    "/search?q=Russia&type={v}",
    "/paths?from={v}&to=Syria",
    "/paths?from=Russia&to={v}",
    "/paths?from=Russia&to=Syria&as_of={v}",
    "/paths?from=Russia&to=Syria&status={v}",
    "/paths?from=Russia&to=Syria&via={v}",
    "/paths?from=Russia&to=Syria&exclude={v}",
    "/neighbourhood/Russia?as_of={v}",
    "/neighbourhood/Russia?status={v}",
    "/entities/Russia?format={v}",
    "/sparql?query={v}",
    "/sparql?query=ASK%7B%7D&format={v}",
    "/store?graph={v}",
    "/store?graph=https://example.org/{v}",
]


@pytest.mark.parametrize("template", TEXT_PARAMS)
def test_unicode_and_control_characters_in_text_parameters(server: Live, template: str) -> None:
    statuses = []
    for value in NASTY:
        tried("unicode/control characters")
        url = server.url + template.replace("{v}", value)
        r = httpx.get(httpx.URL(url), timeout=60)
        no_trace(r.text)
        assert r.status_code < 500, (url, r.status_code, r.text[:300])
        if r.status_code >= 400:
            acts(r)
        statuses.append(r.status_code)
    assert "X-Injected" not in str(statuses)


@pytest.mark.parametrize("value", NASTY[:-1])
def test_unicode_and_control_characters_in_the_ingest_name(server: Live, value: str) -> None:
    """The name only names the graph: an odd one is refused or made into a safe graph IRI."""
    tried("unicode/control characters")
    url = server.url + "/ingest?name=" + value + ".ttl"
    r = httpx.post(
        httpx.URL(url),
        content=b'<urn:nasty> <urn:p> "x" .',
        headers={**server.auth, "Content-Type": "text/turtle"},
        timeout=60,
    )
    no_trace(r.text)
    assert r.status_code in (200, 400), (r.status_code, r.text[:300])
    if r.status_code == 200:
        graphs = list(r.json()["graphs"])
        for g in graphs:
            assert URIRef(g).n3()  # a well-formed IRI
            assert not any(c in g for c in ' <>"{}|\\^`\x00\r\n')
            d = httpx.delete(server.url + "/store", params={"graph": g}, headers=server.auth, timeout=60)
            assert d.status_code == 204
    else:
        acts(r, 400)


def test_the_report_has_no_trace_of_internals(server: Live) -> None:
    """One 422 from SHACL, read as a person would: file, focus node, rule, message."""
    tried("bad files (HTTP)")
    data = f'<{ID}agreement/x> a <{PG}Treaty> ; <{LABEL}> "X"@en .'
    r = httpx.post(
        server.url + "/ingest",
        params={"name": "treaty.ttl"},
        content=data.encode(),
        headers={**server.auth, "Content-Type": "text/turtle"},
        timeout=120,
    )
    body = acts(r, 422)
    assert "treaty.ttl" in body["error"]
    assert all({"file", "focus", "rule", "message"} <= set(d) for d in body["detail"])
