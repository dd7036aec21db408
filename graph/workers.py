"""Query workers: user SPARQL runs in forked processes that can be killed at the deadline.

Oxigraph has no query cancellation, and a thread cannot be stopped, so a runaway query
would burn a core until done. Each worker is forked from the process that holds the
store, while no write is in progress, so it reads a consistent snapshot of the store as of
the fork (RocksDB files stay readable to it; the in-memory backend is copied on write).
After a write, idle workers of the old snapshot are retired and new ones forked. A query
that passes its deadline, or whose client goes away, is stopped by killing its worker:
its CPU work ends there. Workers only read; they exit without closing the store.

A query's round trip is kept short (issue 6): the job goes down as one plain pickle, and the
reply (a small pickled header, then the answer's bytes as they are) is read on the event loop
as it arrives, without a thread hop per query and without ever blocking the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing as mp
import os
import pickle
import signal
import stat
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.sparql import Answer, answer
from pactgraph.graph.store import Store

_fork = mp.get_context("fork")


class ClientGone(Exception):
    """The client disconnected before its answer was ready."""


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _close_inherited_sockets(keep: int) -> None:
    """Drop the sockets and pipes the fork copied: while a worker held a client's connection,
    the server never noticed that client leave (and so could not stop its query), and a held
    pipe keeps whoever waits for its end (a parent driving a browser) waiting forever."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd == keep:
            continue
        with contextlib.suppress(OSError):
            mode = os.fstat(fd).st_mode
            if stat.S_ISSOCK(mode) or stat.S_ISFIFO(mode):
                os.close(fd)


def _serve(conn: Connection, store: Store) -> None:
    """A worker's loop: read a job, answer it with the engine, send back bytes or an error."""
    _close_inherited_sockets(keep=conn.fileno())
    _die_with_parent()
    # The server's handlers came with the fork; their wakeup socket was just closed, so a Ctrl+C
    # or SIGTERM reaching the whole group would print a traceback here. The parent stops us.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    fd = conn.fileno()
    while True:
        try:
            query, fmt, defaults, named, max_rows = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        body = b""
        meta: tuple[Any, ...]
        try:
            result = answer(store, query, fmt, defaults, named, max_rows)
            meta, body = ("ok", result.kind, result.media_type, result.truncated), result.body
        except PactgraphError as exc:
            meta = ("error", exc.kind.value, exc.message, exc.detail)
        except Exception as exc:  # anything else the engine raised: it could not evaluate the query
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


# A reply: the lengths of its two parts, a small pickled header, then the answer's bytes as
# they are (never pickled, never copied into one buffer).
_FRAME = struct.Struct("!IQ")


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
        if not chunk:  # the worker died (a crash in the engine, or killed) before its answer
            self.done.set_exception(PactgraphError(Kind.UNAVAILABLE, "the query worker died; try again"))
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
    conn: Connection
    version: int


class QueryWorkers:
    """A small pool of killable query processes over one store."""

    def __init__(self, store: Store, size: int = 2) -> None:
        self.store = store
        self.size = max(1, size)
        self._idle: list[_Worker] = []
        self._slots: asyncio.Semaphore | None = None

    def _spawn(self) -> _Worker:
        # Never fork in the middle of a write: the child would copy a half-applied state.
        with self.store.writing(bump=False):
            parent, child = _fork.Pipe()
            process = _fork.Process(
                target=_serve, args=(child, self.store), daemon=True, name="pactgraph-query"
            )
            process.start()
            version = self.store.version
        child.close()
        return _Worker(process, parent, version)

    @staticmethod
    def _kill(worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            worker.process.kill()
            worker.process.join(timeout=2)
        with contextlib.suppress(Exception):
            worker.conn.close()

    async def _take(self) -> _Worker:
        loop = asyncio.get_running_loop()
        while self._idle:
            worker = self._idle.pop()
            if worker.version == self.store.version and worker.process.is_alive():
                return worker
            await loop.run_in_executor(None, self._kill, worker)
        return await loop.run_in_executor(None, self._spawn)

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
        """Answer a query in a worker; kill it at `timeout` seconds (503) or when the client leaves."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        loop = asyncio.get_running_loop()
        if self.store.remote is not None:
            # The remote server does the work; its HTTP timeout is our deadline.
            return await loop.run_in_executor(
                None, lambda: answer(self.store, query, fmt, defaults, named, max_rows, timeout)
            )
        async with self._slots:
            deadline = loop.time() + timeout
            worker = await self._take()
            try:
                # Plain pickle: the job is strings and lists (multiprocessing's pickler costs more).
                job = pickle.dumps((query, fmt, defaults, named, max_rows), protocol=pickle.HIGHEST_PROTOCOL)
                worker.conn.send_bytes(job)
                meta, body = await self._receive(worker, deadline, timeout, disconnected)
            except BaseException:
                await loop.run_in_executor(None, self._kill, worker)
                raise
            self._idle.append(worker)
        if meta[0] == "ok":
            return Answer(meta[1], body, meta[2], meta[3])
        raise PactgraphError(Kind(meta[1]), meta[2], meta[3])

    async def _receive(
        self,
        worker: _Worker,
        deadline: float,
        timeout: float,
        disconnected: Callable[[], Awaitable[bool]] | None,
    ) -> tuple[Any, bytes]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[Any, bytes]] = loop.create_future()
        fd = worker.conn.fileno()
        loop.add_reader(fd, _ReplyReader(fd, done).readable)
        try:
            while not done.done():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise PactgraphError(
                        Kind.TIMEOUT,
                        f"the query ran past the time limit of {timeout:g} s and was stopped; narrow it "
                        "with LIMIT or more specific patterns (the limit is PACTGRAPH_QUERY_TIMEOUT)",
                    )
                # Wakes at the answer, or every 0.2 s to check the deadline and the client.
                await _settled(loop, done, min(remaining, 0.2))
                if not done.done() and disconnected is not None and await disconnected():
                    raise ClientGone()
        finally:
            loop.remove_reader(fd)
        return done.result()

    def close(self) -> None:
        for worker in self._idle:
            self._kill(worker)
        self._idle.clear()
