"""The /sparql result cache against a real uvicorn server: same bytes, ETag and 304, never a
stale answer after a write, one entry per format, off when asked, bounded in size."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from pactgraph.api.app import create_app
from pactgraph.api.result_cache import ResultCache
from pactgraph.api.settings import Settings
from tests.api.conftest import TOKEN, Server, serve_app

G = "https://example.org/graph/cache-test"
# Over every graph: an update or a PUT writes G, an ingest a graph of its own.
COUNT_G = "SELECT (COUNT(*) AS ?n) WHERE { ?s <urn:cache:p> ?o }"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Accept": "application/sparql-results+json"}


def fresh(query: str) -> str:
    """The query with a comment no other test uses: a key of its own in the shared server's cache."""
    return f"# {uuid.uuid4().hex}\n{query}"


def get(url: str, query: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(url + "/sparql", params={"query": query}, headers=headers or JSON, timeout=30)


def count(r: httpx.Response) -> int:
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


# ------------------------------------------------------------------ the shared server (defaults)


def test_the_cached_answer_is_the_engines_bytes(server: Server) -> None:
    q = fresh(
        "SELECT ?s ?label WHERE { ?s a <https://pactgraph.org/ontology#State> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?s"
    )
    first, second = get(server.url, q), get(server.url, q)
    assert first.status_code == second.status_code == 200
    assert first.headers["x-pactgraph-cache"] == "miss" and second.headers["x-pactgraph-cache"] == "hit"
    assert first.content == second.content and len(first.json()["results"]["bindings"]) > 0
    assert first.headers["content-type"] == second.headers["content-type"]
    assert first.headers["etag"] == second.headers["etag"]
    assert first.headers["cache-control"] == "no-cache" and "Accept" in first.headers["vary"]


def test_etag_and_if_none_match_give_304(server: Server) -> None:
    q = fresh("ASK { ?s ?p ?o }")
    etag = get(server.url, q).headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 20
    for header in (etag, f"W/{etag}", f'"other", {etag}'):
        r = get(server.url, q, {**JSON, "If-None-Match": header})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag
    other = get(server.url, q, {**JSON, "If-None-Match": '"not-this-one"'})
    assert other.status_code == 200 and other.json()["boolean"] is True


def _update(url: str, n: int) -> None:
    r = httpx.post(
        url + "/update",
        content=f"INSERT DATA {{ GRAPH <{G}> {{ <urn:cache:{n}> <urn:cache:p> {n} }} }}",
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )
    assert r.status_code == 204, r.text


def _put(url: str, n: int) -> None:
    body = "".join(f"<urn:cache:{i}> <urn:cache:p> {i} .\n" for i in range(n + 1))
    r = httpx.put(
        url + "/store", params={"graph": G}, content=body, headers={**AUTH, "Content-Type": "text/turtle"}
    )
    assert r.status_code in (201, 204), r.text


def _ingest(url: str, n: int) -> None:
    r = httpx.post(
        url + "/ingest",
        params={"name": f"cache-{n}.ttl"},
        content=f"<urn:cache:ingest-{n}> <urn:cache:p> {n} .",
        headers={**AUTH, "Content-Type": "text/turtle"},
        timeout=120,
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("write", [_update, _put, _ingest], ids=["update", "store-put", "ingest"])
def test_a_write_changes_the_answer_and_the_etag(server: Server, write: object) -> None:
    before = get(server.url, COUNT_G)
    again = get(server.url, COUNT_G)
    assert again.headers["x-pactgraph-cache"] == "hit"
    n = count(before)
    write(server.url, n + 1000)  # type: ignore[operator]
    after = get(server.url, COUNT_G)
    assert after.headers["x-pactgraph-cache"] == "miss"
    assert count(after) != n
    assert after.headers["etag"] != before.headers["etag"]
    revalidated = get(server.url, COUNT_G, {**JSON, "If-None-Match": before.headers["etag"]})
    assert revalidated.status_code == 200 and count(revalidated) == count(after)


def test_different_formats_are_different_entries(server: Server) -> None:
    q = fresh("SELECT ?s WHERE { ?s a <https://pactgraph.org/ontology#State> } ORDER BY ?s LIMIT 5")
    as_json = get(server.url, q)
    as_csv = get(server.url, q, {"Accept": "text/csv"})
    assert as_json.headers["etag"] != as_csv.headers["etag"]
    assert as_csv.headers["x-pactgraph-cache"] == "miss"
    json_hit, csv_hit = get(server.url, q), get(server.url, q, {"Accept": "text/csv"})
    assert json_hit.headers["x-pactgraph-cache"] == csv_hit.headers["x-pactgraph-cache"] == "hit"
    assert json_hit.headers["content-type"].startswith("application/sparql-results+json")
    assert csv_hit.headers["content-type"].startswith("text/csv")
    assert json_hit.content == as_json.content and csv_hit.content == as_csv.content
    by_param = httpx.get(server.url + "/sparql", params={"query": q, "format": "tsv"})
    assert by_param.headers["etag"] not in (as_json.headers["etag"], as_csv.headers["etag"])
    assert by_param.headers["content-type"].startswith("text/tab-separated-values")


def test_a_cut_answer_is_cached_with_its_marker(server: Server) -> None:
    q = fresh(
        "SELECT ?s ?p ?o WHERE { GRAPH <https://pactgraph.org/graph/states> { ?s ?p ?o } } ORDER BY ?s ?p ?o"
    )
    first, second = get(server.url, q), get(server.url, q)
    assert second.headers["x-pactgraph-cache"] == "hit"
    for r in (first, second):
        assert r.headers["x-pactgraph-truncated"] == "max_rows=300"
        assert r.json()["truncated"]["max_rows"] == 300
    assert first.content == second.content


def test_answers_that_change_by_themselves_are_not_cached(server: Server) -> None:
    r = get(server.url, fresh("SELECT (STRUUID() AS ?id) WHERE {}"))
    assert r.status_code == 200 and "etag" not in r.headers
    assert "x-pactgraph-cache" not in r.headers


def test_errors_are_not_cached(server: Server) -> None:
    q = fresh("SELECT ?s WHERE { ?s ?p }")
    for _ in range(2):
        r = get(server.url, q)
        assert r.status_code == 400 and "etag" not in r.headers


# ------------------------------------------------------------------ servers of their own


@dataclass
class Live:
    url: str
    app: FastAPI


@pytest.fixture
def small_server(request: pytest.FixtureRequest) -> Iterator[Live]:
    """An in-memory store (no bundled data: it starts in a second) with the cache size asked for."""
    mib: float = request.param
    app = create_app(Settings(store="memory:", token=TOKEN, load_bundled=False, result_cache=mib))
    for url in serve_app(app):
        _put(url, 200)
        yield Live(url, app)


@pytest.mark.parametrize("small_server", [0], indirect=True)
def test_cache_off_sends_no_etag(small_server: Live) -> None:
    for _ in range(2):
        r = get(small_server.url, COUNT_G)
        assert r.status_code == 200 and count(r) == 201
        assert "etag" not in r.headers and "x-pactgraph-cache" not in r.headers
    assert not small_server.app.state.result_cache.enabled


@pytest.mark.parametrize("small_server", [0.02], indirect=True)  # 20 KiB
def test_the_cache_stays_within_its_size_and_evicts_the_oldest(small_server: Live) -> None:
    cache: ResultCache = small_server.app.state.result_cache
    # Each answer is 15 rows of ~150 bytes (JSON): about 2.3 KiB, so some 8 fit.
    queries = [
        f"SELECT ?s ?o WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }} ORDER BY ?o OFFSET {k} LIMIT 15"
        for k in range(20)
    ]
    for q in queries:
        assert get(small_server.url, q).headers["x-pactgraph-cache"] == "miss"
        assert cache.size <= cache.max_bytes
    assert 0 < len(cache) < len(queries)
    assert get(small_server.url, queries[-1]).headers["x-pactgraph-cache"] == "hit"
    assert get(small_server.url, queries[0]).headers["x-pactgraph-cache"] == "miss"  # evicted first


def test_lru_unit() -> None:
    from pactgraph.api.result_cache import CachedAnswer

    cache = ResultCache(6100)  # four entries of 1,000 bytes (+ 512 each) fit, not five

    def entry(tag: str, size: int = 1000) -> CachedAnswer:
        return CachedAnswer(b"x" * size, "text/csv", tag)

    for tag in "abcd":
        assert cache.put(1, tag, entry(tag))
    assert cache.get(1, "a") is not None  # a is now the most recent
    assert cache.put(1, "e", entry("e"))  # evicts b, the least recently used
    assert cache.get(1, "b") is None and cache.get(1, "a") is not None and len(cache) == 4
    assert cache.size <= cache.max_bytes
    assert not cache.put(1, "big", entry("big", 2000))  # over a quarter of the budget
    assert cache.get(2, "a") is None and len(cache) == 0  # a new store version drops the rest
    assert not cache.put(1, "late", entry("late"))  # an answer of an older version is not kept


def test_etags_of_an_earlier_run_never_match() -> None:
    # The store version starts again at 0 in a new process, whose data may differ: salted keys.
    args: tuple[int, str, str, None, list[str], list[str], int] = (0, "ASK {}", "text/csv", None, [], [], 300)
    one, other = ResultCache(1 << 20), ResultCache(1 << 20)
    assert one.key(*args) == one.key(*args) != other.key(*args)
    assert one.key(*args) != one.key(1, *args[1:])
