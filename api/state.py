"""What the app holds while it runs: settings, the open store, and the query runner."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from fastapi import Request

from pactgraph.api.settings import Settings
from pactgraph.graph import Kind, PactgraphError, Store, deadline, snapshot
from pactgraph.graph.names import NameIndex
from pactgraph.graph.projection import Projection, ProjectionCache
from pactgraph.graph.store import Change, NeedsRebuild
from pactgraph.graph.workers import QueryWorkers

T = TypeVar("T")

log = logging.getLogger("pactgraph.serve")
SAVE_LIMIT = 600  # seconds a snapshot save may take before it is stopped
SAVE_QUIET = 5.0  # seconds without a write before the snapshot is saved (a burst is saved once)


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


LaneName = Literal["work", "search"]
# Threads per lane: "search" runs what may take a whole time limit (path searches, path exports,
# neighbourhoods), "work" everything else (lookups, counts, writes), so the first cannot take
# every thread from the second.
LANE_THREADS: dict[LaneName, int] = {"work": 4, "search": 2}
LANE_WHAT: dict[LaneName, str] = {"work": "lookups and writes", "search": "path searches and exports"}
LATE = 2.0  # seconds a request's work may go on past its deadline before it is logged


class Busy(PactgraphError):
    """Every thread of a lane is busy and its queue is full: 503 at once, with Retry-After."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(Kind.UNAVAILABLE, message)
        self.retry_after = retry_after  # api/errors.py sends it as the Retry-After header


class Lane:
    """A thread pool for one kind of the server's own work, behind a bounded queue: a request
    that finds every thread busy and `queue` requests waiting is refused at once."""

    def __init__(self, name: LaneName, threads: int, queue: int) -> None:
        self.name, self.threads, self.queue = name, threads, queue
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"pactgraph-{name}")
        self._lock = threading.Lock()
        self.admitted = 0  # running or waiting

    @property
    def full(self) -> bool:
        return self.admitted >= self.threads + self.queue

    def describe(self) -> str:
        running = min(self.admitted, self.threads)
        return (
            f"{LANE_WHAT[self.name]}: {running} of {self.threads} threads busy, "
            f"{self.admitted - running} of {self.queue} queued (PACTGRAPH_WORK_QUEUE)"
        )

    def admit(self, limit: float) -> None:
        with self._lock:
            if self.full:
                raise Busy(
                    f"the server is busy ({self.describe()}); try again shortly",
                    retry_after=max(1, math.ceil(limit)),  # a waiting request is over by then
                )
            self.admitted += 1

    def leave(self) -> None:
        with self._lock:
            self.admitted -= 1


@dataclass
class AppState:
    settings: Settings
    store: Store
    workers: QueryWorkers
    projections: ProjectionCache
    ready: bool = False
    lanes: dict[LaneName, Lane] = field(default_factory=dict)
    _names: NameIndex | None = None
    _names_version: int = -1
    _following: bool = False
    loaded: bool = False  # whether `start` found a snapshot (tests, the bench)
    # The snapshot saver: a thread that writes the snapshot of the latest version once writes
    # pause (`_want_save`), from a forked child.
    _saver: threading.Thread | None = None
    _save_wanted: bool = False
    _closing: bool = False
    _saved_version: int = -1
    _save_cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        if not self.lanes:
            queue = self.settings.work_queue
            self.lanes = {name: Lane(name, n, queue) for name, n in LANE_THREADS.items()}

    def busy(self) -> str | None:
        """Why the server cannot take more work now (a lane's threads and queue are full), or None."""
        full = [lane.describe() for lane in self.lanes.values() if lane.full]
        return "; ".join(full) or None

    def shutdown(self) -> None:
        for lane in self.lanes.values():
            lane.pool.shutdown(wait=False, cancel_futures=True)

    def start(self) -> None:
        """Make the projection and the name index of the store as it is: from the snapshot saved
        at the store's current generation when there is one, else built (and then saved in the
        background, once the server is ready); from then on, follow the store's writes."""
        loaded = snapshot.load(self.store)
        if loaded is not None:
            self.projections.adopt(loaded.projection)
            self._names = loaded.names
            self._names_version = loaded.names.version
            self._saved_version = loaded.names.version
            self.loaded = True
            _settle(replaced=False)
        else:
            self.projection(), self.names()
            self._save_wanted = self.store.meta_dir is not None
        self.follow()

    def follow(self) -> None:
        """Keep the projection and the name index in step with each write through the store, made
        from what the write changed before it returns (graph/projection.py `update`)."""
        if self._following:
            return
        self._following = True
        self.projections.follow()
        self.store.follow(self._changed)

    def unfollow(self) -> None:
        """Stop following the store's writes (on shutdown: the store may outlive this app)."""
        if self._following:
            self.store.unfollow(self._changed)
            self._following = False

    def _changed(self, change: Change) -> None:
        """A write was made through the store (called in the writer's thread, under its lock)."""
        rebuilds = self.projections.rebuilds
        self.projections.changed(change)
        rebuilt = self.projections.rebuilds != rebuilds
        names = self._names
        if names is not None and names.version != change.version:
            try:
                names = names.update(self.store, change)
            except NeedsRebuild:
                names, rebuilt = NameIndex.build(self.store), True
            except Exception:  # never the write's failure: a rebuild is always right
                log.exception("updating the name index failed; rebuilding it")
                names, rebuilt = NameIndex.build(self.store), True
            self._names, self._names_version = names, names.version
        if rebuilt:  # millions of new objects, as at start: out of the collector's sight
            _settle(replaced=True)
        # No gc.freeze() here (as `_settle` does after a build): the writer's own garbage, cycles
        # included, is not collected yet, and frozen it would never be. What an update makes is
        # small; the bulk of the projection stays frozen from the build or the snapshot's load.
        self._want_save()

    def start_saving(self) -> None:
        """Start the snapshot saver (once the server is ready): it saves what `start` built, and
        again after writes."""
        if self.store.meta_dir is None or self._saver is not None:
            return
        self._saver = threading.Thread(target=self._save_loop, name="pactgraph-snapshot", daemon=True)
        self._saver.start()

    def wait_saved(self, timeout: float) -> None:
        """On shutdown: let the saver write what writes left unsaved, for at most `timeout` seconds."""
        saver = self._saver
        if saver is None:
            return
        with self._save_cond:
            self._closing = True
            self._save_cond.notify_all()
        saver.join(timeout)

    def _want_save(self) -> None:
        if self.store.meta_dir is None:
            return
        with self._save_cond:
            self._save_wanted = True
            self._save_cond.notify_all()

    def _save_loop(self) -> None:
        """Save the snapshot of the latest version once writes pause for SAVE_QUIET seconds (a
        burst of writes is saved once), and once more on shutdown if writes came since."""
        while True:
            with self._save_cond:
                while not self._save_wanted and not self._closing:
                    self._save_cond.wait()
                if not self._save_wanted:
                    return  # closing, nothing to save
                if not self._closing:
                    # Quiet: no new write for SAVE_QUIET seconds.
                    while True:
                        self._save_wanted = False
                        self._save_cond.wait(SAVE_QUIET)
                        if not self._save_wanted or self._closing:
                            break
                self._save_wanted = False
                closing = self._closing
            self._save_latest()
            if closing:
                return

    def _save_latest(self) -> None:
        generation = self.store.generation()  # waits for a write in progress
        proj, names = self.projections.current, self._names
        if generation is None or proj is None or names is None:
            return
        version = self.store.version
        if proj.version != version or names.version != version or version == self._saved_version:
            return
        if self._save(generation, proj, names):
            self._saved_version = version

    def _save(self, generation: str, proj: Projection, names: NameIndex) -> bool:
        """Write the snapshot from a forked copy of this process: turning a 1M-triple projection
        into JSON holds the GIL for seconds, which in a thread stalled every request meanwhile.
        This thread only waits (and stops a save that hangs)."""
        proj.prepare()  # nothing left for the child to lock
        try:
            pid = os.fork()
        except OSError:
            log.exception("cannot fork to save the snapshot")
            return False
        if pid == 0:  # the child: save, then leave without running the server's exit code
            code = 1
            try:
                os.nice(10)  # the server's requests first: the save can wait for a core
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                code = 0 if snapshot.save(self.store, generation, proj, names) is not None else 1
            except BaseException:  # never the server's concern: the next start builds
                log.exception("saving the snapshot failed")
            finally:
                os._exit(code)
        deadline = time.monotonic() + SAVE_LIMIT
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status) == 0
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                log.warning("saving the snapshot took over %d s; stopped (the next start builds)", SAVE_LIMIT)
                return False
            time.sleep(0.05)

    def projection(self) -> Projection:
        """The entity graph of the store's current version (while a write is being made, the one
        of the write before: readers never wait for a write)."""
        if self._following:  # kept in step by `_changed`: nothing to build or settle here
            return self.projections.get()
        before = self.projections.current
        proj = self.projections.get()
        if proj is not before:
            _settle(replaced=before is not None)
        return proj

    def names(self) -> NameIndex:
        """The name index of the store's current version (as `projection`)."""
        names = self._names
        if names is not None and (self._following or self._names_version == self.store.version):
            return names
        replaced = names is not None
        self._names = NameIndex.build(self.store)
        self._names_version = self._names.version
        _settle(replaced)
        return self._names

    async def run(self, work: Callable[[], T], timeout: float | None = None, lane: LaneName = "work") -> T:
        """Run pactgraph's own store work (bounded lookups, path searches, writes) off the event
        loop under a deadline the work itself checks (graph/deadline.py); user SPARQL goes to
        `workers`, which can be killed. A full lane is a 503 at once (`Busy`, with Retry-After);
        time in its queue counts. Past the deadline the answer waits for the work to be over:
        it stops at its next check (TIMEOUT, 503: nothing written, no thread left running), or
        it was a write past its commit point, which lands and is answered as such."""
        limit = self.settings.query_timeout if timeout is None else timeout
        chosen = self.lanes[lane]
        chosen.admit(limit)
        bound = deadline.Deadline(limit)

        def call() -> T:
            try:
                with deadline.bounded(bound):
                    bound.check()  # the time spent waiting for a thread counts
                    return work()
            finally:
                chosen.leave()

        try:
            future = asyncio.wrap_future(chosen.pool.submit(call))
        except RuntimeError:  # the pool is shut down: the server is stopping
            chosen.leave()
            raise PactgraphError(Kind.UNAVAILABLE, "the server is shutting down") from None
        try:
            return await asyncio.wait_for(asyncio.shield(future), limit)
        except TimeoutError:
            bound.cancel()
        except asyncio.CancelledError:
            bound.cancel()  # the request is gone: its work stops at its next check
            raise
        over = time.monotonic()
        try:
            return await future
        finally:
            late = time.monotonic() - over
            if late > LATE:
                log.warning("work of a request went on %.1f s past its deadline before it stopped", late)


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
