"""AppState.run: the answer waits for the work to be over; a full lane is refused at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from pactgraph.api.settings import Settings
from pactgraph.api.state import AppState, Busy
from pactgraph.graph import Kind, PactgraphError, deadline, open_store
from pactgraph.graph.projection import ProjectionCache


@pytest.fixture
def st() -> Iterator[AppState]:
    store = open_store("memory:")
    state = AppState(
        settings=Settings(store="memory:", query_timeout=0.3, work_queue=1),
        store=store,
        workers=None,  # type: ignore[arg-type]  # run() never uses the SPARQL workers
        projections=ProjectionCache(store),
    )
    yield state
    state.shutdown()


def test_work_past_its_deadline_stops_before_the_answer(st: AppState) -> None:
    over = threading.Event()

    def loop() -> None:
        try:
            while True:
                deadline.check()
                time.sleep(0.01)
        finally:
            over.set()

    with pytest.raises(PactgraphError) as caught:
        asyncio.run(st.run(loop))
    assert caught.value.kind == Kind.TIMEOUT
    assert over.is_set(), "answered 503 while the work still ran"


def test_work_past_its_commit_point_is_answered_with_its_result(st: AppState) -> None:
    """A write that passed its commit point before the deadline finishes, and says so: never a
    503 for a write that lands."""

    def committed() -> str:
        time.sleep(0.6)  # past the 0.3 s limit, without a check left to stop it
        return "made"

    assert asyncio.run(st.run(committed)) == "made"


def test_a_full_lane_is_refused_at_once_with_retry_after(st: AppState) -> None:
    release = threading.Event()

    async def scenario() -> None:
        # 4 threads and a queue of 1: five are taken, the sixth is refused.
        held = [asyncio.ensure_future(st.run(lambda: release.wait(5), timeout=10)) for _ in range(5)]
        await asyncio.sleep(0.1)
        assert st.busy() is not None and "PACTGRAPH_WORK_QUEUE" in (st.busy() or "")
        started = time.monotonic()
        with pytest.raises(Busy) as caught:
            await st.run(lambda: None)
        assert time.monotonic() - started < 0.5
        assert caught.value.retry_after >= 1 and caught.value.kind == Kind.UNAVAILABLE
        # meanwhile the other lane takes work
        assert await st.run(lambda: "ok", lane="search") == "ok"
        release.set()
        await asyncio.gather(*held)
        assert st.busy() is None

    asyncio.run(scenario())
