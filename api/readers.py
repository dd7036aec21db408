"""Where the CLI's read commands get their answers: the store itself, or the server holding it.

An on-disk store belongs to one process. When `pactgraph serve` holds it, `query`, `path`,
`stats`, `export`, `entity`, `search` and `validate` ask that server over HTTP (its address is
beside the store, api/address.py) and get the same data they would have read themselves, so
they print the same output. Writes are not offered here: they go to the server's POST /ingest.
Errors come back as the server's `{"error", "detail"}` and are raised as the same
PactgraphError, so the CLI says the same thing and exits with the same code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from pactgraph.api.address import running_server
from pactgraph.api.errors import STATUS
from pactgraph.graph import Kind, PactgraphError, Store, answer, open_store, stats
from pactgraph.graph.names import NameIndex
from pactgraph.graph.paths import PathQuery, find_paths
from pactgraph.graph.projection import Projection, build

READY_WITHIN = 180.0  # seconds a server that is still starting (loading, building) is waited for
_KIND = {status: kind for kind, status in reversed(STATUS.items())}  # the first kind of each status


@dataclass(frozen=True)
class PathParams:
    """A path query as the CLI and GET /paths take it: names, not yet resolved."""

    sources: list[str]
    to: str
    max_hops: int = 4
    limit: int = 5
    as_of: str | None = None
    status: str = "denied"
    via: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportParams:
    """An export as `pactgraph export` and GET /export take it."""

    format: str
    around: str | None = None
    depth: int = 1
    as_of: str | None = None
    status: str = "denied"
    sources: tuple[str, ...] = ()
    to: str | None = None
    max_hops: int = 4
    limit: int = 5
    include_literals: bool = False


@dataclass(frozen=True)
class Export:
    """An export being written: its chunks, and its size in nodes and edges (None for RDF)."""

    chunks: Iterator[bytes]
    nodes: int
    edges: int | None


class Reader(Protocol):
    """The read side of pactgraph, as the CLI uses it."""

    where: str  # the store URL, or the server's URL

    def sparql(self, text: str, fmt: str) -> tuple[bytes, int | None]: ...
    def stats(self) -> dict[str, Any]: ...
    def paths(self, params: PathParams) -> dict[str, Any]: ...
    def entity(self, name: str, as_of: str | None) -> dict[str, Any]: ...
    def search(self, q: str, type: str | None, limit: int, offset: int) -> dict[str, Any]: ...
    def export(self, params: ExportParams, progress: Callable[[int], None] | None) -> Export: ...
    def context_store(self) -> Store: ...
    def close(self) -> None: ...


def search_json(names: NameIndex, q: str, type: str | None, limit: int, offset: int) -> dict[str, Any]:
    """The answer of GET /search."""
    page = names.search(q, type, limit, offset)
    return {
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "hits": [
            {**h.entity.as_dict(), "score": round(h.score, 2), "matched": h.matched, "how": h.how}
            for h in page.hits
        ],
    }


class LocalReader:
    """Answers read from a store this process opened."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.where = store.url
        self._names: NameIndex | None = None
        self._projection: Projection | None = None

    def names(self) -> NameIndex:
        if self._names is None:
            self._names = NameIndex.build(self.store)
        return self._names

    def projection(self) -> Projection:
        if self._projection is None:
            self._projection = build(self.store)
        return self._projection

    def sparql(self, text: str, fmt: str) -> tuple[bytes, int | None]:
        result = answer(self.store, text, fmt)
        return result.body, result.truncated

    def stats(self) -> dict[str, Any]:
        s = stats(self.store)
        return {"triples": s.triples, "graphs": s.graphs, "classes": s.classes}

    def path_query(self, params: PathParams) -> PathQuery:
        from pactgraph.graph.dates import as_of_date

        names = self.names()
        return PathQuery(
            tuple(dict.fromkeys(names.resolve(s).iri for s in params.sources)),
            names.resolve(params.to).iri,
            params.max_hops,
            params.limit,
            as_of_date(params.as_of) if params.as_of else None,
            params.status.lower(),
            params.via,
            params.exclude,
        )

    def paths(self, params: PathParams) -> dict[str, Any]:
        return find_paths(self.projection(), self.path_query(params))

    def entity(self, name: str, as_of: str | None) -> dict[str, Any]:
        from pactgraph.graph.dates import as_of_date
        from pactgraph.graph.entities import describe

        day = as_of_date(as_of) if as_of else None
        return describe(self.store, self.projection(), self.names().resolve(name).iri, day)

    def search(self, q: str, type: str | None, limit: int, offset: int) -> dict[str, Any]:
        return search_json(self.names(), q, type, limit, offset)

    def export(self, params: ExportParams, progress: Callable[[int], None] | None) -> Export:
        from pactgraph.graph.dates import as_of_date
        from pactgraph.graph.export import RDF_EXPORTS, Scope, export, export_format, select, total

        chosen = export_format(params.format)
        if bool(params.sources) != (params.to is not None):
            raise PactgraphError(Kind.BAD_INPUT, "a path export needs both --from and --to")
        day = as_of_date(params.as_of) if params.as_of else None
        query = None
        if params.sources and params.to is not None:
            query = self.path_query(
                PathParams(
                    list(params.sources),
                    params.to,
                    params.max_hops,
                    params.limit,
                    params.as_of,
                    params.status,
                )
            )
        root = self.names().resolve(params.around).iri if params.around is not None else None
        sub = select(
            self.store, self.projection(), Scope(root, params.depth, query, day, params.status.lower())
        )
        elements = total(sub, chosen.name)
        edges = None if chosen.name in RDF_EXPORTS else elements - len(sub.nodes)
        chunks = export(self.store, sub, chosen.name, params.include_literals, progress=progress)
        return Export(chunks, len(sub.nodes), edges)

    def context_store(self) -> Store:
        return self.store

    def close(self) -> None:
        self.store.close()


class HttpReader:
    """Answers asked of the `pactgraph serve` that holds the store, over its HTTP API."""

    def __init__(self, url: str, wait: Callable[[], None] | None = None) -> None:
        self.where = url
        self._client = httpx.Client(base_url=url, timeout=httpx.Timeout(600.0, connect=5.0))
        self._context: Store | None = None
        self._ready(wait)

    def _ready(self, wait: Callable[[], None] | None) -> None:
        """Wait while the server starts (it writes its address before it has loaded the store)."""
        deadline, told = time.monotonic() + READY_WITHIN, False
        while True:
            try:
                if self._client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise PactgraphError(
                    Kind.UNAVAILABLE, f"the server at {self.where} holds the store but did not answer"
                )
            if not told and wait is not None:
                wait()
                told = True
            time.sleep(0.2)

    def _get(self, path: str, params: Any = None, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.get(path, params=params, **kwargs)
        except httpx.TransportError as exc:
            raise PactgraphError(Kind.UNAVAILABLE, f"cannot reach the server at {self.where}: {exc}") from exc
        return _checked(response)

    def sparql(self, text: str, fmt: str) -> tuple[bytes, int | None]:
        try:
            response = _checked(self._client.post("/sparql", data={"query": text, "format": fmt}))
        except httpx.TransportError as exc:
            raise PactgraphError(Kind.UNAVAILABLE, f"cannot reach the server at {self.where}: {exc}") from exc
        cut = response.headers.get("x-pactgraph-truncated", "")
        return response.content, int(cut.split("=")[1]) if cut.startswith("max_rows=") else None

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self._get("/stats").json()
        return data

    def paths(self, params: PathParams) -> dict[str, Any]:
        query: dict[str, Any] = {
            "from": params.sources,
            "to": params.to,
            "max_hops": params.max_hops,
            "limit": params.limit,
            "status": params.status,
            "via": list(params.via),
            "exclude": list(params.exclude),
        }
        if params.as_of:
            query["as_of"] = params.as_of
        data: dict[str, Any] = self._get("/paths", query).json()
        return data

    def entity(self, name: str, as_of: str | None) -> dict[str, Any]:
        path = "/entities/" + httpx.URL("/" + name).raw_path.decode().lstrip("/")
        data: dict[str, Any] = self._get(path, {"as_of": as_of} if as_of else None).json()
        return data

    def search(self, q: str, type: str | None, limit: int, offset: int) -> dict[str, Any]:
        query: dict[str, Any] = {"q": q, "limit": limit, "offset": offset}
        if type is not None:
            query["type"] = type
        data: dict[str, Any] = self._get("/search", query).json()
        return data

    def export(self, params: ExportParams, progress: Callable[[int], None] | None) -> Export:
        query: dict[str, Any] = {
            "format": params.format,
            "depth": params.depth,
            "status": params.status,
            "max_hops": params.max_hops,
            "limit": params.limit,
            "include_literals": str(params.include_literals).lower(),
        }
        for key, value in (("around", params.around), ("as_of", params.as_of), ("to", params.to)):
            if value is not None:
                query[key] = value
        if params.sources:
            query["from"] = list(params.sources)
        request = self._client.build_request("GET", "/export", params=query)
        try:
            response = self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise PactgraphError(Kind.UNAVAILABLE, f"cannot reach the server at {self.where}: {exc}") from exc
        if response.status_code >= 400:
            response.read()
            response.close()
            _checked(response)
        nodes = int(response.headers.get("x-pactgraph-nodes", "0"))
        edges = response.headers.get("x-pactgraph-edges")

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.iter_bytes()
            except httpx.HTTPError as exc:
                raise PactgraphError(
                    Kind.UNAVAILABLE, f"the export from {self.where} broke off: {exc}"
                ) from exc
            finally:
                response.close()

        return Export(chunks(), nodes, int(edges) if edges is not None else None)

    def context_store(self) -> Store:
        """The server's SPARQL endpoint as a read-only store (what `validate` checks references in)."""
        if self._context is None:
            self._context = open_store(f"sparql:{self.where}/sparql")
        return self._context

    def close(self) -> None:
        if self._context is not None:
            self._context.close()
        self._client.close()


def _checked(response: httpx.Response) -> httpx.Response:
    """The response, or the server's error raised as the PactgraphError it was."""
    if response.status_code < 400:
        return response
    try:
        body = response.json()
        message, detail = str(body["error"]), body.get("detail")
    except (ValueError, KeyError, TypeError):
        message, detail = f"the server answered {response.status_code}: {response.text[:200]}", None
    raise PactgraphError(_KIND.get(response.status_code, Kind.UPSTREAM), message, detail)


def open_reader(store_url: str, wait: Callable[[], None] | None = None) -> Reader:
    """A reader of the store: opened here, or, when a running server holds it, that server."""
    try:
        return LocalReader(open_store(store_url))
    except PactgraphError as exc:
        if exc.kind != Kind.BUSY:
            raise
        url = running_server(store_url)
        if url is None:
            raise
        return HttpReader(url, wait)
