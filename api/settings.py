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
    load_bundled: bool = True
    query_workers: int = 2
    # MiB of /sparql answers kept (LRU, keyed on the store version); 0 turns the cache off
    result_cache: float = 64.0
    # one log line per request: off by default, it costs a tenth of a cheap request
    access_log: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "store": env.get("PACTGRAPH_STORE") or default_store_url(),
            "token": env.get("PACTGRAPH_TOKEN") or None,
            "query_timeout": float(env.get("PACTGRAPH_QUERY_TIMEOUT", "30")),
            "max_rows": int(env.get("PACTGRAPH_MAX_ROWS", "10000")),
            "max_body": int(env.get("PACTGRAPH_MAX_BODY", str(50 * 1024 * 1024))),
            "query_workers": int(env.get("PACTGRAPH_QUERY_WORKERS", "2")),
            "result_cache": float(env.get("PACTGRAPH_RESULT_CACHE", "64")),
            "access_log": env.get("PACTGRAPH_ACCESS_LOG", "").lower() in ("1", "true", "yes", "on"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
