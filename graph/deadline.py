"""Deadlines the work itself checks: cooperative cancellation for the server's own work.

A thread cannot be stopped from outside, so a request past its time limit is only really over
when its work stops. The server sets a `Deadline` for the work it runs (`bounded`); long loops
(the path search, serialisations) call `check()` now and then, which raises TIMEOUT once the
deadline has passed or the deadline was cancelled; waits for the store's write lock go through
`acquire`. A write checks once more at its commit point (graph/store.py `writing`): past that
point it is no longer stopped, it lands and its client is told so.

Outside `bounded` (the CLI, tests, the library) there is no deadline and `check()` costs a
context-variable read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol, TypeVar

from pactgraph.graph.errors import Kind, PactgraphError

T = TypeVar("T")

_current: ContextVar[Deadline | None] = ContextVar("pactgraph_deadline", default=None)

LOCK_POLL = 0.05  # seconds between deadline checks while waiting for a lock


class Lock(Protocol):
    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...
    def release(self) -> None: ...


class Deadline:
    """A point in time after which the work it bounds stops at its next check (or at once, if
    `cancel` is called: the server gave up on it)."""

    def __init__(self, seconds: float, setting: str = "PACTGRAPH_QUERY_TIMEOUT") -> None:
        self.seconds = seconds
        self.setting = setting
        self.at = time.monotonic() + seconds
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    def passed(self) -> bool:
        return self._cancelled or time.monotonic() >= self.at

    def remaining(self) -> float:
        """Seconds left (0 once passed): for waits that take a time-out of their own."""
        return 0.0 if self._cancelled else max(0.0, self.at - time.monotonic())

    def check(self) -> None:
        if self.passed():
            raise self.error()

    def error(self) -> PactgraphError:
        return PactgraphError(
            Kind.TIMEOUT,
            f"the request ran past the time limit of {self.seconds:g} s ({self.setting}) and was "
            "stopped; nothing it would have written was written. Narrow it (fewer hops, a date, "
            "LIMIT or more specific patterns) or try again when the server is less busy",
        )


def current() -> Deadline | None:
    """The deadline of the work running in this thread (context), if any."""
    return _current.get()


def check() -> None:
    """Raise TIMEOUT if the running work's deadline has passed (nothing without a deadline)."""
    found = _current.get()
    if found is not None and found.passed():
        raise found.error()


def checked(items: Iterable[T], every: int = 4096) -> Iterator[T]:
    """`items`, with the running work's deadline checked every `every` of them: for a loop or a
    serialiser that pulls from a generator (an engine's writer cannot be stopped otherwise)."""
    found = _current.get()
    if found is None:
        yield from items
        return
    for i, item in enumerate(items):
        if not i % every and found.passed():
            raise found.error()
        yield item


@contextmanager
def bounded(deadline: Deadline) -> Iterator[Deadline]:
    """Run the block under `deadline` (the work's `check()` calls read it)."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def acquire(lock: Lock) -> None:
    """Take `lock`, waiting no longer than the running work's deadline (TIMEOUT past it, the lock
    not taken); without a deadline, wait as long as it takes."""
    found = _current.get()
    if found is None:
        lock.acquire()
        return
    while not lock.acquire(timeout=LOCK_POLL):
        found.check()
    if found.passed():
        lock.release()
        raise found.error()


@contextmanager
def holding(lock: Lock) -> Iterator[None]:
    """`with lock:`, but the wait for it stops at the running work's deadline (`acquire`)."""
    acquire(lock)
    try:
        yield
    finally:
        lock.release()
