"""Query workers: user SPARQL runs in forked processes that can be killed at the deadline.

Oxigraph has no query cancellation, and a thread cannot be stopped, so a runaway query
would burn a core until done. Each worker is forked from the process that holds the
store, while no write is in progress, so it reads a consistent snapshot of the store as of
the fork (RocksDB files stay readable to it; the in-memory backend is copied on write).
After a write, idle workers of the old snapshot are retired and new ones forked. A query
that passes its deadline, or whose client goes away, is stopped by killing its worker:
its CPU work ends there. Workers only read; they exit without closing the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from graph.errors import Kind, PactgraphError
from graph.sparql import Answer, answer
from graph.store import Store

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
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            query, fmt, defaults, named, max_rows = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = answer(store, query, fmt, defaults, named, max_rows)
            conn.send(("ok", result.kind, result.body, result.media_type, result.truncated))
        except PactgraphError as exc:
            conn.send(("error", exc.kind.value, exc.message, exc.detail))
        except Exception as exc:  # the engine's own errors become bad input, with its message
            conn.send(("error", Kind.BAD_INPUT.value, f"{type(exc).__name__}: {exc}", None))


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
                worker.conn.send((query, fmt, defaults, named, max_rows))
                message = await self._receive(worker, deadline, timeout, disconnected)
            except BaseException:
                await loop.run_in_executor(None, self._kill, worker)
                raise
            self._idle.append(worker)
        if message[0] == "ok":
            return Answer(message[1], message[2], message[3], message[4])
        raise PactgraphError(Kind(message[1]), message[2], message[3])

    async def _receive(
        self,
        worker: _Worker,
        deadline: float,
        timeout: float,
        disconnected: Callable[[], Awaitable[bool]] | None,
    ) -> Any:
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        fd = worker.conn.fileno()
        loop.add_reader(fd, ready.set)
        try:
            while not ready.is_set():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise PactgraphError(
                        Kind.TIMEOUT,
                        f"the query ran past the time limit of {timeout:g} s and was stopped; narrow it "
                        "with LIMIT or more specific patterns (the limit is PACTGRAPH_QUERY_TIMEOUT)",
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ready.wait(), min(remaining, 0.2))
                if not ready.is_set() and disconnected is not None and await disconnected():
                    raise ClientGone()
        finally:
            loop.remove_reader(fd)
        if not worker.process.is_alive() and not worker.conn.poll():
            raise PactgraphError(Kind.UNAVAILABLE, "the query worker died; try again")
        try:
            return await loop.run_in_executor(None, worker.conn.recv)
        except (EOFError, OSError):  # the worker died mid-answer (a crash in the engine)
            raise PactgraphError(Kind.UNAVAILABLE, "the query worker died; try again") from None

    def close(self) -> None:
        for worker in self._idle:
            self._kill(worker)
        self._idle.clear()
