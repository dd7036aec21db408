"""Query workers: user SPARQL runs in forked processes that can be killed at the deadline.

Oxigraph has no query cancellation, and a thread cannot be stopped, so a runaway query
would burn a core until done. Each worker is forked from the process that holds the
store, while no write is in progress, so it reads a consistent snapshot of the store as of
the fork (RocksDB files stay readable to it; the in-memory backend is copied on write).
A query that passes its deadline, or whose client goes away, is stopped by killing its
worker: its CPU work ends there. Workers only read; they exit without closing the store.

Each worker is sandboxed (graph/sandbox.py): it cannot open a socket, so no query reaches the
network whatever gets past the SERVICE checks, and its memory may grow by at most
`memory_mib` (PACTGRAPH_QUERY_MEMORY); past that it dies and the query is a 503 naming the limit.

Queries wait for a free worker in a bounded queue (`queue`, PACTGRAPH_QUERY_QUEUE): a full queue
is a 503 at once, with Retry-After, and the time spent waiting counts against the query's time
limit. After a write, idle workers of the old snapshot are retired within RETIRE_EVERY seconds
(they hold the store's deleted files open), and a busy one when its query ends.

A query's round trip is kept short (issue 6): the job goes down as one plain pickle, and the
reply (a small pickled header, then the answer's bytes as they are) is read on the event loop
as it arrives, without a thread hop per query and without ever blocking the loop. The job is
written the same way: the channel is non-blocking on the server's side (uvloop's readers make
it so), so a large job (a 300 KB VALUES block) is sent as the socket takes it, by the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import pickle
import signal
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

from pactgraph.graph import sandbox
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.sparql import Answer, answer
from pactgraph.graph.store import Store

_fork = mp.get_context("fork")
RETIRE_EVERY = 0.5  # seconds between checks for idle workers of an old version


class ClientGone(Exception):
    """The client disconnected before its answer was ready."""


class QueueFull(PactgraphError):
    """Every worker is busy and the queue is full: try again in `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(Kind.UNAVAILABLE, message)
        self.retry_after = retry_after


class _Died(Exception):
    """The worker's channel closed before its answer: it crashed or was killed."""


# Frames: a job is its length then a pickle; a reply is the lengths of its two parts, a small
# pickled header, then the answer's bytes as they are (never pickled, never copied into one buffer).
_JOB = struct.Struct("!Q")
_FRAME = struct.Struct("!IQ")


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = sock.recv_into(view[got:])
        if not k:
            raise EOFError
        got += k
    return bytes(buf)


def _serve(sock: socket.socket, store: Store, memory_mib: int | None) -> None:
    """A worker's loop: read a job, answer it with the engine, send back bytes or an error."""
    fd = sock.fileno()
    sandbox.child_setup(keep=fd)
    sandboxed = sandbox.enter(memory_mib)
    sock.setblocking(True)
    probe = sandbox.engine_probe(store)
    if probe is not None:  # show that the engine answers (see sandbox.engine_probe)
        with contextlib.suppress(Exception):
            probe()
    sock.sendall(sandbox.READY)
    while True:
        try:
            (size,) = _JOB.unpack(_recv_exactly(sock, _JOB.size))
            query, fmt, defaults, named, max_rows = pickle.loads(_recv_exactly(sock, size))
        except (EOFError, OSError):
            return
        body = b""
        meta: tuple[Any, ...]
        try:
            result = answer(store, query, fmt, defaults, named, max_rows)
            meta, body = ("ok", result.kind, result.media_type, result.truncated), result.body
        except MemoryError:
            meta = ("memory",)
        except PactgraphError as exc:
            if exc.kind == Kind.EVALUATION and sandboxed and sandbox.reached_network(exc):
                meta = ("error", Kind.BAD_INPUT.value, sandbox.REFUSED_REMOTE, None)
            else:
                meta = ("error", exc.kind.value, exc.message, exc.detail)
        except Exception as exc:  # anything else the engine raised: it could not evaluate the query
            if sandboxed and sandbox.reached_network(exc):
                meta = ("error", Kind.BAD_INPUT.value, sandbox.REFUSED_REMOTE, None)
            else:
                meta = (
                    "error",
                    Kind.EVALUATION.value,
                    f"the query could not be evaluated: {type(exc).__name__}: {exc}",
                    None,
                )
        try:
            _reply(fd, meta, body)
        except OSError:
            return
        if meta[0] == "memory":
            return  # what the engine left behind may not be freed: start afresh


def _reply(fd: int, meta: tuple[Any, ...], body: bytes) -> None:
    head = pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL)
    parts = [memoryview(_FRAME.pack(len(head), len(body))), memoryview(head), memoryview(body)]
    while parts:
        sent = os.writev(fd, parts)
        while parts and sent >= len(parts[0]):
            sent -= len(parts[0])
            parts.pop(0)
        if parts and sent:
            parts[0] = parts[0][sent:]


class _ReplyReader:
    """Reads one reply from a worker's socket on the event loop, only as much as is there each
    time the loop says it is readable, so a large answer never blocks the loop (and no thread
    is needed to wait for it)."""

    def __init__(self, fd: int, done: asyncio.Future[tuple[Any, bytes]]) -> None:
        self.fd = fd
        self.done = done
        self.buf = bytearray()
        self.head_len: int | None = None
        self.body_len = 0

    def readable(self) -> None:
        if self.done.done():
            return
        try:
            chunk = os.read(self.fd, max(1 << 16, self._missing()))
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # the worker died (a crash in the engine, over its memory, or killed)
            self.done.set_exception(_Died())
            return
        self.buf += chunk
        if self.head_len is None and len(self.buf) >= _FRAME.size:
            self.head_len, self.body_len = _FRAME.unpack_from(self.buf)
        if self.head_len is not None and self._missing() == 0:
            start = _FRAME.size + self.head_len
            meta = pickle.loads(self.buf[_FRAME.size : start])
            self.done.set_result((meta, bytes(self.buf[start:])))

    def _missing(self) -> int:
        if self.head_len is None:
            return _FRAME.size - len(self.buf)
        return _FRAME.size + self.head_len + self.body_len - len(self.buf)


async def _settled(loop: asyncio.AbstractEventLoop, done: asyncio.Future[Any], timeout: float) -> None:
    """Wait until `done` is settled or `timeout` passes, whichever first (asyncio.wait for
    one future, without its sets and bookkeeping: this is on every query's path)."""
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_later(timeout, wake)
    done.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        done.remove_done_callback(wake)


@dataclass
class _Worker:
    process: BaseProcess
    sock: socket.socket
    version: int


def default_queue(workers: int) -> int:
    """Queries that may wait for a worker: four per worker (a burst of a page's queries waits,
    a flood is told to come back)."""
    return 4 * max(1, workers)


def _timeout_error(timeout: float, queued: bool = False) -> PactgraphError:
    where = " (waiting for a query worker counts)" if queued else ""
    return PactgraphError(
        Kind.TIMEOUT,
        f"the query ran past the time limit of {timeout:g} s{where} and was stopped; narrow it "
        "with LIMIT or more specific patterns (the limit is PACTGRAPH_QUERY_TIMEOUT)",
    )


class QueryWorkers:
    """A small pool of killable, sandboxed query processes over one store, behind a bounded queue."""

    def __init__(
        self, store: Store, size: int = 2, memory_mib: int | None = None, queue: int | None = None
    ) -> None:
        self.store = store
        self.size = max(1, size)
        self.memory_mib = memory_mib
        self.queue = default_queue(self.size) if queue is None else max(0, queue)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()  # `_idle` is also read by the retiring thread
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0
        self._retiring: asyncio.TimerHandle | None = None
        self._checked_sandbox = False

    def _spawn(self) -> _Worker:
        if not self._checked_sandbox:
            self._checked_sandbox = True
            sandbox.warn_once(sandbox.available())
        for _ in range(sandbox.FORK_TRIES):
            parent, child = socket.socketpair()
            try:
                # Never fork in the middle of a write: the child would copy a half-applied state.
                with self.store.writing(bump=False):
                    process = _fork.Process(
                        target=_serve,
                        args=(child, self.store, self.memory_mib),
                        daemon=True,
                        name="pactgraph-query",
                    )
                    process.start()
                    version = self.store.version
            finally:
                child.close()
            worker = _Worker(process, parent, version)
            if self._answered(parent):
                parent.setblocking(False)
                return worker
            self._kill(worker)  # stuck on a lock it copied from the engine: fork again
        raise PactgraphError(Kind.UNAVAILABLE, "no query worker could be started; try again")

    @staticmethod
    def _answered(sock: socket.socket) -> bool:
        """Whether a new worker showed within PROBE_WAIT that the engine answers."""
        sock.settimeout(sandbox.PROBE_WAIT)
        try:
            return sock.recv(len(sandbox.READY)) == sandbox.READY
        except OSError:  # the time-out included
            return False

    @staticmethod
    def _kill(worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            worker.process.kill()
            worker.process.join(timeout=2)
        with contextlib.suppress(Exception):
            worker.sock.close()

    async def _take(self) -> _Worker:
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None:
                return await loop.run_in_executor(None, self._spawn)
            if worker.version == self.store.version and worker.process.is_alive():
                return worker
            await loop.run_in_executor(None, self._kill, worker)

    async def _take_by(self, loop: asyncio.AbstractEventLoop, deadline: float, timeout: float) -> _Worker:
        """A worker by the query's deadline: forking one waits for a write in progress (it must
        not copy half of it), and a long write must not hold the query past its limit. A worker
        forked after the query gave up is kept for the next one."""
        taking = asyncio.ensure_future(self._take())
        await _settled(loop, taking, max(0.0, deadline - loop.time()))
        if taking.done():
            return taking.result()

        def keep(task: asyncio.Future[_Worker]) -> None:
            if not task.cancelled() and task.exception() is None:
                self._give_back(loop, task.result())

        taking.add_done_callback(keep)
        raise _timeout_error(timeout, queued=True)

    def _give_back(self, loop: asyncio.AbstractEventLoop, worker: _Worker) -> None:
        if worker.version != self.store.version:  # a write came while it worked: retire it now
            loop.run_in_executor(None, self._kill, worker)
            return
        with self._lock:
            self._idle.append(worker)
        if self._retiring is None:
            self._retiring = loop.call_later(RETIRE_EVERY, self._retire_old, loop)

    def _retire_old(self, loop: asyncio.AbstractEventLoop) -> None:
        """Kill idle workers forked before the last write: each holds the files the write deleted
        (a whole old generation after a bulk write) until it exits. Checked on a timer while
        workers are idle: a version comparison, nothing more when there was no write."""
        self._retiring = None
        version = self.store.version
        with self._lock:
            old = [w for w in self._idle if w.version != version]
            self._idle = [w for w in self._idle if w.version == version]
            idle = bool(self._idle)
        for worker in old:
            loop.run_in_executor(None, self._kill, worker)
        if idle:
            self._retiring = loop.call_later(RETIRE_EVERY, self._retire_old, loop)

    async def answer(
        self,
        query: str,
        fmt: str | None,
        defaults: list[str] | None,
        named: list[str] | None,
        timeout: float,
        disconnected: Callable[[], Awaitable[bool]] | None = None,
        max_rows: int | None = None,
    ) -> Answer:
        """Answer a query in a worker; kill it at `timeout` seconds (503) or when the client
        leaves. Time spent waiting for a worker counts; a full queue is QueueFull (503) at once."""
        loop = asyncio.get_running_loop()
        if self.store.remote is not None:
            # The remote server does the work; its HTTP timeout is our deadline.
            return await loop.run_in_executor(
                None, lambda: answer(self.store, query, fmt, defaults, named, max_rows, timeout)
            )
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        deadline = loop.time() + timeout
        await self._acquire(loop, deadline, timeout, disconnected)
        try:
            worker = await self._take_by(loop, deadline, timeout)
            try:
                # Plain pickle: the job is strings and lists (multiprocessing's pickler costs more).
                job = pickle.dumps((query, fmt, defaults, named, max_rows), protocol=pickle.HIGHEST_PROTOCOL)
                meta, body = await self._exchange(
                    worker, _JOB.pack(len(job)) + job, deadline, timeout, disconnected
                )
            except _Died:
                await loop.run_in_executor(None, self._kill, worker)
                raise self._death(worker) from None
            except BaseException:
                await loop.run_in_executor(None, self._kill, worker)
                raise
            if meta[0] == "memory":
                await loop.run_in_executor(None, self._kill, worker)
            else:
                self._give_back(loop, worker)
        finally:
            self._slots.release()
        if meta[0] == "ok":
            return Answer(meta[1], body, meta[2], meta[3])
        if meta[0] == "memory":
            raise PactgraphError(Kind.TIMEOUT, sandbox.memory_message("the query", self.memory_mib))
        raise PactgraphError(Kind(meta[1]), meta[2], meta[3])

    def _death(self, worker: _Worker) -> PactgraphError:
        """Why a worker died: over its memory limit (an allocation failed: Rust aborts), or not."""
        if self.memory_mib and worker.process.exitcode == -signal.SIGABRT:
            return PactgraphError(Kind.TIMEOUT, sandbox.memory_message("the query", self.memory_mib))
        return PactgraphError(Kind.UNAVAILABLE, "the query worker died; try again")

    async def _acquire(
        self,
        loop: asyncio.AbstractEventLoop,
        deadline: float,
        timeout: float,
        disconnected: Callable[[], Awaitable[bool]] | None,
    ) -> None:
        """A free worker slot, waited for in the bounded queue until the query's deadline."""
        assert self._slots is not None
        if not self._slots.locked():
            await self._slots.acquire()  # free at once: no wait
            return
        if self._waiting >= self.queue:
            raise QueueFull(
                f"the server is busy: {self.size} quer{'y' if self.size == 1 else 'ies'} running and "
                f"{self._waiting} waiting (PACTGRAPH_QUERY_QUEUE); try again shortly",
                retry_after=max(1, round(min(timeout, 5))),
            )
        self._waiting += 1
        taken = asyncio.ensure_future(self._slots.acquire())
        try:
            while not taken.done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise _timeout_error(timeout, queued=True)
                await _settled(loop, taken, min(remaining, 0.2))
                if not taken.done() and disconnected is not None and await disconnected():
                    raise ClientGone()
        except BaseException:
            if not taken.cancel() and not taken.cancelled() and taken.exception() is None:
                self._slots.release()  # it was granted as we gave up: hand it on
            raise
        finally:
            self._waiting -= 1

    async def _exchange(
        self,
        worker: _Worker,
        job: bytes,
        deadline: float,
        timeout: float,
        disconnected: Callable[[], Awaitable[bool]] | None,
    ) -> tuple[Any, bytes]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[Any, bytes]] = loop.create_future()
        fd = worker.sock.fileno()
        sending = asyncio.ensure_future(loop.sock_sendall(worker.sock, job))
        loop.add_reader(fd, _ReplyReader(fd, done).readable)
        try:
            while not done.done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise _timeout_error(timeout)
                # Wakes at the answer, or every 0.2 s to check the deadline and the client.
                await _settled(loop, done, min(remaining, 0.2))
                if sending.done() and sending.exception() is not None:
                    raise _Died()
                if not done.done() and disconnected is not None and await disconnected():
                    raise ClientGone()
        finally:
            loop.remove_reader(fd)
            if not sending.done():
                sending.cancel()
        return done.result()

    def close(self) -> None:
        if self._retiring is not None:
            self._retiring.cancel()
            self._retiring = None
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            self._kill(worker)
