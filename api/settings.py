"""Settings read from the environment (PACTGRAPH_*), shared by `serve`, the CLI and tests."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pactgraph.graph import default_store_url


@dataclass(frozen=True)
class Settings:
    store: str
    token: str | None = None
    query_timeout: float = 30.0
    max_rows: int = 10_000
    max_body: int = 50 * 1024 * 1024
    # bytes of one /sparql query (PACTGRAPH_MAX_QUERY): past it, 413 as soon as it is known (a
    # declared Content-Length, else while the body is read); well below max_body, since every
    # query text is read by the safety checks before the engine sees it. (/update: max_body.)
    max_query: int = 1024 * 1024
    load_bundled: bool = True
    query_workers: int = 2
    # MiB of /sparql answers kept (LRU, keyed on the store version); 0 turns the cache off
    result_cache: float = 64.0
    # one log line per request: off by default, it costs a tenth of a cheap request
    access_log: bool = False
    # requests that may wait for a busy thread of the server's own work, per lane (lookups and
    # writes; path searches and exports); past it, 503 with Retry-After at once
    work_queue: int = 16
    # partial paths one path query may consider (~150 bytes each): past it, 400 naming the bound
    path_budget: int = 1_000_000
    # MiB each query worker (and each update's evaluation) may grow by; past it, 503. None:
    # sized to the machine, a quarter of physical RAM shared by the workers, within 256 MiB..8 GiB
    # (default_query_memory); 0: no limit
    query_memory: int | None = None
    # queries that may wait for a busy worker; past it, 503 with Retry-After at once. None: 4 per worker
    query_queue: int | None = None
    # Slow clients (api/http_limits.py, `pactgraph serve`): seconds a connection may take to send
    # a request's head (request line and headers), from when it opened or its last response was
    # sent (past it: 408 and closed; uvicorn itself never times a head out)
    header_timeout: float = 10.0
    # seconds a request's whole body may take to arrive once the app reads it (past it: 408)
    body_timeout: float = 60.0
    # seconds an idle keep-alive connection stays open between requests
    keep_alive: float = 5.0
    # connections and requests in progress at once; past it, new requests get 503
    max_connections: int = 256

    @property
    def query_memory_mib(self) -> int | None:
        """The memory limit in force (MiB), or None for none."""
        if self.query_memory is None:
            return default_query_memory(self.query_workers)
        return self.query_memory or None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "store": env.get("PACTGRAPH_STORE") or default_store_url(),
            "token": env.get("PACTGRAPH_TOKEN") or None,
            "query_timeout": float(env.get("PACTGRAPH_QUERY_TIMEOUT", "30")),
            "max_rows": int(env.get("PACTGRAPH_MAX_ROWS", "10000")),
            "max_body": int(env.get("PACTGRAPH_MAX_BODY", str(50 * 1024 * 1024))),
            "max_query": int(env.get("PACTGRAPH_MAX_QUERY", str(1024 * 1024))),
            "query_workers": int(env.get("PACTGRAPH_QUERY_WORKERS", "2")),
            "result_cache": float(env.get("PACTGRAPH_RESULT_CACHE", "64")),
            "access_log": env.get("PACTGRAPH_ACCESS_LOG", "").lower() in ("1", "true", "yes", "on"),
            "work_queue": int(env.get("PACTGRAPH_WORK_QUEUE", "16")),
            "path_budget": int(env.get("PACTGRAPH_PATH_BUDGET", "1000000")),
            "query_memory": int(env["PACTGRAPH_QUERY_MEMORY"]) if env.get("PACTGRAPH_QUERY_MEMORY") else None,
            "query_queue": int(env["PACTGRAPH_QUERY_QUEUE"]) if env.get("PACTGRAPH_QUERY_QUEUE") else None,
            "header_timeout": float(env.get("PACTGRAPH_HEADER_TIMEOUT", "10")),
            "body_timeout": float(env.get("PACTGRAPH_BODY_TIMEOUT", "60")),
            "keep_alive": float(env.get("PACTGRAPH_KEEP_ALIVE", "5")),
            "max_connections": int(env.get("PACTGRAPH_MAX_CONNECTIONS", "256")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def default_query_memory(workers: int) -> int:
    """MiB per query worker when PACTGRAPH_QUERY_MEMORY is not set: a quarter of the machine's
    physical memory shared by the workers (the server, the OS and the page cache keep the rest),
    at least 256 MiB (a useful query needs that much) and at most 8 GiB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError):
        total = 4096
    return max(256, min(8192, total // 4 // max(1, workers)))
