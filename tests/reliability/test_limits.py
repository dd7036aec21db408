"""Limits: time (503, the work stops, the server goes on), body size (413 before the body is
read whole) and result size (cut at the row limit with a marker, whatever the result's size)."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.conftest import assert_cpu_work_stopped
from tests.reliability.helpers import Live, count, no_trace

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CHEAP = "ASK { ?s ?p ?o }"
# Tens of millions of solutions (the store has ~5,000 quads, squared): far past the row limit.
HUGE = "SELECT ?s ?o WHERE { ?s ?p ?o . ?x ?y ?z }"
FIFTY_MB = 50 * 1024 * 1024


def test_queries_over_the_time_limit_are_503_and_the_server_goes_on(server: Live) -> None:
    results: list[httpx.Response] = []

    def slow() -> None:
        results.append(httpx.get(server.url + "/sparql", params={"query": SLOW}, timeout=120))

    # More slow queries than query workers (2): the queue too must respect the deadline.
    threads = [threading.Thread(target=slow) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    # Meanwhile the server answers what does not need a query worker.
    assert httpx.get(server.url + "/entities/Russia", timeout=60).status_code == 200
    assert httpx.get(server.url + "/healthz", timeout=60).status_code == 200
    for t in threads:
        t.join(120)
    assert [r.status_code for r in results] == [503, 503, 503]
    for r in results:
        assert "time limit" in r.json()["error"] and "PACTGRAPH_QUERY_TIMEOUT" in r.json()["error"]
    assert_cpu_work_stopped(settle=0.5)
    again = httpx.get(server.url + "/sparql", params={"query": CHEAP}, timeout=60)
    assert again.status_code == 200 and again.json()["boolean"] is True


def test_a_result_over_the_row_limit_is_cut_with_a_marker(server: Live) -> None:
    q = "SELECT ?s ?p ?o WHERE { GRAPH <https://pactgraph.org/graph/states> { ?s ?p ?o } } ORDER BY ?s ?p ?o"
    r = httpx.get(server.url + "/sparql", params={"query": q}, timeout=60)
    assert r.status_code == 200
    assert r.headers["x-pactgraph-truncated"] == "max_rows=300"
    body = r.json()
    assert len(body["results"]["bindings"]) == 300
    assert body["truncated"]["max_rows"] == 300 and "LIMIT" in body["truncated"]["message"]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_huge_result_is_cut_at_the_row_limit_not_run_to_the_end(server: Live, fmt: str) -> None:
    # Tens of millions of rows: the answer must be the first 300 and the marker, made without
    # producing (and holding in memory) the whole result first, so well inside the 2 s limit.
    r = httpx.get(server.url + "/sparql", params={"query": HUGE, "format": fmt}, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["x-pactgraph-truncated"] == "max_rows=300"
    assert len(r.content) < 1_000_000
    assert_cpu_work_stopped(settle=0.5)


# ---------------------------------------------------------------------------- body size


class Stream:
    """A 50 MB body from a generator, counting what the client has taken from it."""

    def __init__(self, total: int = FIFTY_MB, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.taken = total, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        piece = b"#" * (self.chunk - 1) + b"\n"  # a Turtle comment line: valid if read whole
        while self.taken < self.total:
            self.taken += len(piece)
            yield piece

    @property
    def exhausted(self) -> bool:
        return self.taken >= self.total


def send_streaming(
    url: str, path: str, headers: dict[str, str], body: Stream, limit: float = 120
) -> tuple[int, bytes]:
    """Send `body` chunked on a raw socket while watching for the answer; stop sending as soon as
    the server answers. Returns the status and the answer (what was sent stays in `body.taken`)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode())
    sock.setblocking(False)
    pieces = iter(body)
    pending = b""
    answer = b""
    can_write = True
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            want_write = can_write and (not body.exhausted or bool(pending))
            readable, writable, _ = select.select([sock], [sock] if want_write else [], [], 1.0)
            if readable:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    data = b""
                answer += data
                if b"\r\n\r\n" in answer or not data:
                    break
            if writable:
                if not pending:
                    piece = next(pieces, None)
                    pending = (b"%x\r\n" % len(piece) + piece + b"\r\n") if piece else b"0\r\n\r\n"
                try:
                    pending = pending[sock.send(pending) :]
                except (BrokenPipeError, ConnectionResetError):
                    can_write = False
                except BlockingIOError:
                    pass
        # read the rest of the answer (headers and the small JSON body)
        sock.setblocking(True)
        sock.settimeout(10)
        while b"\r\n\r\n" in answer and len(answer.split(b"\r\n\r\n", 1)[1]) < 20:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    finally:
        sock.close()
    assert answer, "the server never answered"
    status = int(answer.split(b" ", 2)[1])
    return status, answer


BODY_ROUTES = [
    ("/ingest?name=big.ttl", "text/turtle"),
    ("/update", "application/sparql-update"),
    ("/sparql", "application/sparql-query"),
    ("/store?graph=https://example.org/graph/big", "text/turtle"),
]


@pytest.mark.parametrize(("path", "ctype"), BODY_ROUTES)
def test_a_streamed_body_over_the_limit_is_refused_before_it_is_read_whole(
    server: Live, path: str, ctype: str
) -> None:
    before = count(server.url)
    body = Stream()
    headers = {"Content-Type": ctype, **server.auth}
    status, answer = send_streaming(server.url, path, headers, body)
    assert status == 413, answer[:500]
    assert b"PACTGRAPH_MAX_BODY" in answer
    assert not body.exhausted, "the server read all 50 MB before refusing"
    # The limit is 2 MB; what the client got out before the answer is that plus socket buffers.
    assert body.taken < 16 * 1024 * 1024, f"{body.taken / 1e6:.0f} MB sent before the 413"
    assert count(server.url) == before
    assert httpx.get(server.url + "/healthz", timeout=30).status_code == 200


def test_a_declared_length_over_the_limit_is_refused_from_the_headers(server: Live) -> None:
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            (
                f"POST /ingest?name=big.ttl HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: text/turtle\r\n"
                f"Authorization: Bearer {server.token}\r\nContent-Length: {FIFTY_MB}\r\n\r\n"
            ).encode()
        )
        answer = sock.recv(65536)  # nothing of the body was sent
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_an_httpx_generator_body_over_the_limit_gets_413(server: Live) -> None:
    """The same through a real client library: httpx streams the generator and reads the 413."""
    body = Stream()
    try:
        r = httpx.post(
            server.url + "/ingest",
            params={"name": "big.ttl"},
            content=iter(body),
            headers={**server.auth, "Content-Type": "text/turtle"},
            timeout=120,
        )
    except httpx.TransportError as exc:  # a server that closes early may cut the upload
        pytest.fail(f"no answer to an oversized upload: {exc!r} after {body.taken / 1e6:.0f} MB")
    assert r.status_code == 413
    no_trace(r.text)
    assert not body.exhausted, "the whole 50 MB went up before the answer"
