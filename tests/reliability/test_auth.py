"""Auth: every write route refuses a missing (401) or wrong (403) token and takes the right one;
the token is compared in constant time and never written to the server's log."""

from __future__ import annotations

import hmac
import logging
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import pactgraph.api.state
from tests.conftest import seeded_copy
from tests.reliability.helpers import FIGURES, Live, digest, no_trace, serve_subprocess

QUERY_TIMEOUT = 60.0  # reads right after writes must not hit the limit here
G = "https://example.org/graph/auth"
TURTLE = {"Content-Type": "text/turtle"}
# (method, path, headers, body): each succeeds with the right token.
WRITES = [
    (
        "POST",
        "/update",
        {"Content-Type": "application/sparql-update"},
        f"INSERT DATA {{ GRAPH <{G}> {{ <urn:a> <urn:b> 'update' }} }}",
    ),
    ("POST", "/update", {}, None),  # form: filled in below
    ("PUT", f"/store?graph={G}", TURTLE, "<urn:a> <urn:b> 'put' ."),
    ("POST", f"/store?graph={G}", TURTLE, "<urn:a> <urn:b> 'post' ."),
    ("DELETE", f"/store?graph={G}", {}, ""),
    ("POST", "/ingest?name=auth-check.ttl", TURTLE, "<urn:a> <urn:b> 'ingest' ."),
    (
        "POST",
        "/ingest?name=auth-check-csv.csv&format=csv",  # its own graph: auth-check.ttl holds graph/auth-check
        {"Content-Type": "text/csv"},
        "kind,subject,object,start,end,status,source,quote,detail\n"
        "membership,state/RUS,org/un,1945-10-24,,confirmed,source/un-member-states,,\n",
    ),
]
IDS = ["update", "update-form", "store-put", "store-post", "store-delete", "ingest", "ingest-csv"]
WRONG = [
    "Bearer nope",
    "Bearer test-token-012345678",  # one character short
    "Bearer test-token-0123456789x",  # one character long
    "Bearer TEST-TOKEN-0123456789",
    "Bearer test-token-0123456789\u00e9",  # sent as latin-1 bytes in the header
]
MISSING = [
    None,
    "",
    "Bearer",
    "Basic dGVzdC10b2tlbi0wMTIzNDU2Nzg5",
    "test-token-0123456789",
    "Token test-token-0123456789",
]


def send(
    server: Live, method: str, path: str, headers: dict[str, str], body: str | None, auth: str | None
) -> httpx.Response:
    h: dict[str, Any] = dict(headers)
    if auth is not None:
        h["Authorization"] = auth if auth.isascii() else auth.encode("latin-1")
    if body is None:  # the form variant of /update
        return httpx.request(
            method,
            server.url + path,
            data={"update": f"INSERT DATA {{ GRAPH <{G}> {{ <urn:a> <urn:b> 'form' }} }}"},
            headers=h,
            timeout=120,
        )
    return httpx.request(method, server.url + path, content=body.encode(), headers=h, timeout=120)


@pytest.mark.parametrize(("method", "path", "headers", "body"), WRITES, ids=IDS)
def test_each_write_route_needs_the_token(
    server: Live, method: str, path: str, headers: dict[str, str], body: str | None
) -> None:
    if method == "DELETE":  # something to delete
        httpx.put(
            server.url + "/store",
            params={"graph": G},
            content=b"<urn:a> <urn:b> 'x' .",
            headers={**TURTLE, **server.auth},
        )
    before = digest(server.store)
    for auth in MISSING:
        r = send(server, method, path, headers, body, auth)
        no_trace(r.text)
        assert r.status_code == 401, (auth, r.status_code, r.text)
        assert "bearer token" in r.json()["error"]
        assert r.headers.get("www-authenticate", "Bearer").lower().startswith("bearer")
    for auth in WRONG:
        r = send(server, method, path, headers, body, auth)
        assert r.status_code == 403, (auth, r.status_code, r.text)
        assert server.token not in r.text
    # ... and a token in the URL or a cookie is no token
    content = (body or "").encode()
    in_url = httpx.request(
        method,
        server.url + path,
        params={"token": server.token},
        headers=headers,
        content=content,
        timeout=60,
    )
    in_cookie = httpx.Client(cookies={"token": server.token}).request(
        method, server.url + path, headers=headers, content=content, timeout=60
    )
    assert (in_url.status_code, in_cookie.status_code) == (401, 401)
    assert digest(server.store) == before, "a refused write changed the store"
    ok = send(server, method, path, headers, body, f"Bearer {server.token}")
    assert ok.status_code in (200, 201, 204), (ok.status_code, ok.text)
    ok2 = send(server, method, path, headers, body, f"bearer   {server.token}")  # scheme is case-blind
    assert ok2.status_code in (200, 201, 204, 404), (ok2.status_code, ok2.text)  # 404: DELETE twice
    tally = FIGURES.setdefault("auth checks", {"refused": 0, "accepted": 0})
    tally["refused"] += len(MISSING) + len(WRONG) + 2  # type: ignore[index]
    tally["accepted"] += 2  # type: ignore[index]
    httpx.delete(server.url + "/store", params={"graph": G}, headers=server.auth)


def test_reads_stay_open(server: Live) -> None:
    for path in (
        "/sparql?query=ASK%7B%7D",
        "/stats",
        "/entities/Russia",
        "/search?q=Iran",
        "/store?graph=https://pactgraph.org/graph/organisations",
    ):
        assert httpx.get(server.url + path, timeout=60).status_code == 200, path


def test_the_token_is_compared_in_constant_time(server: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return hmac.compare_digest(a, b)

    monkeypatch.setattr(pactgraph.api.state, "hmac", types.SimpleNamespace(compare_digest=spy))
    for token in ("x", "test-token-0123456788", "a" * 1000):  # short, near miss, long: all compared
        r = httpx.post(
            server.url + "/update",
            content=b"CLEAR GRAPH <urn:none>",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sparql-update"},
            timeout=60,
        )
        assert r.status_code == 403
    assert [a for a, _ in calls] == [b"x", b"test-token-0123456788", b"a" * 1000]
    assert all(b == server.token.encode() for _, b in calls)


def test_the_token_never_reaches_the_in_process_logs(server: Live, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-Secret-0123456789"
    for auth in (server.token, wrong):
        for body in (
            "INSERT DATA { GRAPH <https://example.org/graph/log> { <urn:a> <urn:b> 1 } }",
            "DROP GRAPH <https://example.org/graph/never-there>",  # fails in the engine
            "NOT SPARQL",
        ):
            httpx.post(
                server.url + "/update",
                content=body.encode(),
                headers={"Authorization": f"Bearer {auth}", "Content-Type": "application/sparql-update"},
                timeout=60,
            )
    httpx.delete(
        server.url + "/store", params={"graph": "https://example.org/graph/log"}, headers=server.auth
    )
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert server.token not in text and wrong not in text


@pytest.fixture(scope="module")
def served(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    """`pactgraph serve` in its own process, with the access log on (info), output to a file."""
    tmp = tmp_path_factory.mktemp("served")
    store = seeded_copy(seeded, tmp / "store")
    token = "Served-Secret-Token-5f1c2a9e"
    log = tmp / "serve.log"
    with serve_subprocess(
        store,
        log,
        env={"PACTGRAPH_TOKEN": token, "PACTGRAPH_QUERY_TIMEOUT": "2", "PACTGRAPH_ACCESS_LOG": "1"},
    ) as (
        url,
        _,
    ):
        yield url, log, token


def test_the_token_never_reaches_the_server_output(served: tuple[str, Path, str]) -> None:
    url, log, token = served
    wrong = "Wrong-Secret-Token-77aa10"
    auth = {"Authorization": f"Bearer {token}"}
    upd = {"Content-Type": "application/sparql-update"}
    answers = [
        httpx.post(
            url + "/update",
            content=b"INSERT DATA { GRAPH <https://example.org/graph/l> { <urn:a> <urn:b> 1 } }",
            headers={**auth, **upd},
        ),
        httpx.post(url + "/update", content=b"NOT SPARQL", headers={**auth, **upd}),
        httpx.post(
            url + "/update", content=b"DROP GRAPH <https://example.org/graph/never>", headers={**auth, **upd}
        ),
        httpx.post(
            url + "/ingest?name=l.ttl",
            content=b"<urn:a> <urn:b",
            headers={**auth, "Content-Type": "text/turtle"},
        ),
        httpx.put(
            url + "/store?graph=https://example.org/graph/l",
            content=b"<urn:a> <urn:b> 2 .",
            headers={**auth, "Content-Type": "text/turtle"},
        ),
        httpx.post(
            url + "/update", content=b"CLEAR ALL", headers={"Authorization": f"Bearer {wrong}", **upd}
        ),
        httpx.post(url + "/update", content=b"CLEAR ALL", headers={"Authorization": f"Basic {token}", **upd}),
        httpx.get(
            url + "/sparql",
            params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"},
            headers=auth,
            timeout=60,
        ),
        httpx.delete(url + "/store?graph=https://example.org/graph/l", headers=auth),
    ]
    assert [a.status_code for a in answers][:2] == [204, 400]
    for a in answers:
        assert token not in a.text and wrong not in a.text
    output = log.read_bytes().decode("utf-8", "replace")
    assert "POST /update" in output, "the access log was not captured: " + output[-2000:]
    assert token not in output, "the token is in the server's output"
    assert wrong not in output, "a presented (wrong) token is in the server's output"
