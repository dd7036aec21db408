"""A real uvicorn server on 127.0.0.1 over a real Oxigraph store with the bundled data."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from pactgraph.api.app import create_app
from pactgraph.api.settings import Settings
from tests.conftest import seeded_copy

TOKEN = "test-token-0123456789"


@dataclass
class Server:
    url: str
    token: str
    store_path: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children_cpu_seconds() -> float:
    """CPU time used so far by this process's live children (the query workers)."""
    me, ticks, total = os.getpid(), os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:  # ppid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def assert_cpu_work_stopped(settle: float = 0.3, window: float = 1.0) -> None:
    """The query workers are idle: less than a fifth of `window` of CPU, after `settle` seconds."""
    time.sleep(settle)
    before = children_cpu_seconds()
    time.sleep(window)
    used = children_cpu_seconds() - before
    assert used < window / 5, f"query workers still burned {used:.2f} s of CPU in {window} s"


def run_server(settings: Settings) -> Iterator[str]:
    yield from serve_app(create_app(settings))


def serve_app(app: FastAPI, ready_within: float = 120) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 with uvicorn in a thread; yields its URL once /readyz answers,
    and stops the server when resumed or closed."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError(f"server at {url} did not become ready")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path) -> Iterator[Server]:
    path = seeded_copy(bundled_seed, tmp_path_factory.mktemp("served") / "store")
    settings = Settings(
        store=f"oxigraph:{path}", token=TOKEN, query_timeout=2.0, max_body=2_000_000, max_rows=300
    )
    for url in run_server(settings):
        yield Server(url, TOKEN, path)


@pytest.fixture(scope="session")
def open_server(tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path) -> Iterator[str]:
    """A server with no token configured: writes are off."""
    path = seeded_copy(bundled_seed, tmp_path_factory.mktemp("open") / "store")
    yield from run_server(Settings(store=f"oxigraph:{path}", token=None))
