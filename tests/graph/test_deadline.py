"""graph/deadline.py: the work's own deadline stops loops, lock waits and writes before their commit
point (the HTTP side, with /proc checks, is tests/reliability/test_deadlines.py)."""

from __future__ import annotations

import threading
import time

import pyoxigraph as ox
import pytest

from pactgraph.graph import deadline, open_store
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.store import Delta

G = ox.NamedNode("https://example.org/graph/d")
QUAD = ox.Quad(
    ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"), ox.Literal("o"), G
)


def _delta() -> Delta:
    added = ox.Store()
    added.add(QUAD)
    return Delta(added=added)


def test_without_a_deadline_nothing_is_checked() -> None:
    deadline.check()
    assert list(deadline.checked(range(3))) == [0, 1, 2]


def test_a_passed_or_cancelled_deadline_raises_timeout_naming_the_setting() -> None:
    d = deadline.Deadline(30)
    with deadline.bounded(d):
        deadline.check()
        d.cancel()
        with pytest.raises(PactgraphError) as caught:
            deadline.check()
    assert caught.value.kind == Kind.TIMEOUT and "PACTGRAPH_QUERY_TIMEOUT" in caught.value.message
    assert deadline.current() is None


def test_a_serialiser_pulling_from_a_checked_generator_stops() -> None:
    def endless() -> object:
        i = 0
        while True:
            i += 1
            yield ox.Triple(
                ox.NamedNode(f"https://example.org/{i}"),
                ox.NamedNode("https://example.org/p"),
                ox.Literal("x"),
            )

    started = time.monotonic()
    with deadline.bounded(deadline.Deadline(0.2)), pytest.raises(PactgraphError):
        ox.serialize(deadline.checked(endless()), format=ox.RdfFormat.N_TRIPLES)  # type: ignore[arg-type]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("backend", ["memory", "oxigraph"])
def test_a_write_waiting_for_the_lock_past_its_deadline_is_not_made(backend: str, tmp_path: object) -> None:
    store = open_store("memory:" if backend == "memory" else f"oxigraph:{tmp_path}/s")
    held, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        with store.writing(bump=False):
            held.set()
            release.wait(30)

    writer = threading.Thread(target=slow_write)
    writer.start()
    try:
        assert held.wait(10)
        with deadline.bounded(deadline.Deadline(0.3)), pytest.raises(PactgraphError) as caught:
            store.apply(_delta())
        assert caught.value.kind == Kind.TIMEOUT
    finally:
        release.set()
        writer.join(30)
    assert list(store.match(graph=G)) == []
    store.apply(_delta())  # no deadline: made
    assert len(list(store.match(graph=G))) == 1
    store.close()


def test_a_write_past_its_deadline_at_the_commit_point_is_not_made() -> None:
    store = open_store("memory:")
    d = deadline.Deadline(30)
    d.cancel()
    version = store.version
    with deadline.bounded(d), pytest.raises(PactgraphError):
        store.apply(_delta())
    assert list(store.match(graph=G)) == [] and store.version == version
