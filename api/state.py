"""What the app holds while it runs: settings, the open store, and the query runner."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request

from pactgraph.api.settings import Settings
from pactgraph.graph import Kind, PactgraphError, Store, snapshot
from pactgraph.graph.names import NameIndex
from pactgraph.graph.projection import Projection, ProjectionCache
from pactgraph.graph.workers import QueryWorkers

T = TypeVar("T")

log = logging.getLogger("pactgraph.serve")
SAVE_LIMIT = 600  # seconds a snapshot save may take before it is stopped


def _settle(replaced: bool) -> None:
    """Move what the app holds for good (a projection, a name index: millions of objects at a
    million triples) out of the cyclic collector's sight: otherwise each full collection walks
    them all, a pause of a second in whichever request triggers it. Freezing is O(1). What it
    replaced may hold reference cycles (networkx's cached views) that only a collection frees,
    so after a rebuild everything is collected once before freezing again."""
    if replaced:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


@dataclass
class AppState:
    settings: Settings
    store: Store
    workers: QueryWorkers
    projections: ProjectionCache
    ready: bool = False
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=4))
    _names: NameIndex | None = None
    _names_version: int = -1
    _saving: threading.Thread | None = None

    def start(self) -> None:
        """Make the projection and the name index of the store as it is: from the snapshot saved
        at the store's current generation when there is one, else built, and then saved in the
        background (after readiness; the build's own objects, nothing is read from the store)."""
        loaded = snapshot.load(self.store)
        if loaded is not None:
            self.projections.adopt(loaded.projection)
            self._names = loaded.names
            self._names_version = loaded.names.version
            _settle(replaced=False)
            return
        generation = self.store.generation()  # before the build: a write meanwhile changes it
        proj, names = self.projection(), self.names()
        if generation is not None:
            self._saving = threading.Thread(
                target=self._save, args=(generation, proj, names), name="pactgraph-snapshot", daemon=True
            )

    def start_saving(self) -> None:
        """Begin writing the snapshot `start` left to save (once the server is ready)."""
        if self._saving is not None and not self._saving.is_alive() and self._saving.ident is None:
            self._saving.start()

    def wait_saved(self, timeout: float) -> None:
        """Let a snapshot being written finish (on shutdown), for at most `timeout` seconds."""
        if self._saving is not None and self._saving.ident is not None:
            self._saving.join(timeout)

    def _save(self, generation: str, proj: Projection, names: NameIndex) -> None:
        """Write the snapshot from a forked copy of this process: pickling a 1M-triple projection
        holds the GIL for seconds, which in a thread stalled every request meanwhile. This thread
        only waits (and stops a save that hangs)."""
        proj.prepare()  # nothing left for the child to lock
        try:
            pid = os.fork()
        except OSError:
            log.exception("cannot fork to save the snapshot")
            return
        if pid == 0:  # the child: save, then leave without running the server's exit code
            code = 1
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                code = 0 if snapshot.save(self.store, generation, proj, names) is not None else 1
            except BaseException:  # never the server's concern: the next start builds
                log.exception("saving the snapshot failed")
            finally:
                os._exit(code)
        deadline = time.monotonic() + SAVE_LIMIT
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                log.warning("saving the snapshot took over %d s; stopped (the next start builds)", SAVE_LIMIT)
                return
            time.sleep(0.1)

    def projection(self) -> Projection:
        """The entity graph of the store's current version (rebuilt once after a write)."""
        before = self.projections.current
        proj = self.projections.get()
        if proj is not before:
            _settle(replaced=before is not None)
        return proj

    def names(self) -> NameIndex:
        """The name index of the store's current version (rebuilt once after a write)."""
        version = self.store.version
        if self._names is None or self._names_version != version:
            replaced = self._names is not None
            self._names = NameIndex.build(self.store)
            self._names_version = version
            _settle(replaced)
        return self._names

    async def run(self, work: Callable[[], T], timeout: float | None = None) -> T:
        """Run pactgraph's own store work (bounded lookups, writes) off the event loop under a
        deadline; 503 when it passes. User SPARQL goes to `workers`, which can be killed."""
        loop = asyncio.get_running_loop()
        limit = self.settings.query_timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(loop.run_in_executor(self.pool, work), limit)
        except TimeoutError:
            raise PactgraphError(
                Kind.TIMEOUT,
                f"the query ran past the time limit of {limit:g} s (PACTGRAPH_QUERY_TIMEOUT); "
                "narrow it with LIMIT or more specific patterns",
            ) from None


def state(request: Request) -> AppState:
    st: AppState = request.app.state.pactgraph
    return st


def require_token(request: Request) -> None:
    """Writes need `Authorization: Bearer <PACTGRAPH_TOKEN>`; with no token configured they are off."""
    expected = state(request).settings.token
    if not expected:
        raise PactgraphError(
            Kind.FORBIDDEN, "writes are off on this server: start it with PACTGRAPH_TOKEN set to enable them"
        )
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise PactgraphError(
            Kind.UNAUTHORIZED, "this write needs a bearer token: Authorization: Bearer <token>"
        )
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise PactgraphError(Kind.FORBIDDEN, "the bearer token is not the one this server accepts")


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes PACTGRAPH_MAX_BODY."""
    limit = state(request).settings.max_body
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PactgraphError(
            Kind.TOO_LARGE, f"request body over the limit of {limit} bytes (PACTGRAPH_MAX_BODY)"
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PactgraphError(
                Kind.TOO_LARGE, f"request body over the limit of {limit} bytes (PACTGRAPH_MAX_BODY)"
            )
        chunks.append(chunk)
    return b"".join(chunks)
