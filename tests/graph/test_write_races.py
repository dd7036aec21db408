"""A write is checked and made on one version of the store (issue 18's last race): no other write
lands between an update's evaluation, or a write's SHACL check, and the commit. On every backend.

The other write is made at the exact moment the race needs (right after the update was worked
out; inside the check) by wrapping the function that runs at that moment: a thread scheduler
cannot be made to hit a window of microseconds on demand."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from rdflib import URIRef

from pactgraph.graph import Kind, PactgraphError, SourceInput, Store, ingest, load_ontology, writes
from tests.graph.test_write_validation import CONTEXT, GOOD, PG

G = URIRef("https://example.org/g")
CONTEXT_GRAPH = URIRef(PG + "x")


def test_an_update_sees_a_write_that_landed_while_it_was_worked_out(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes.update(
        store, f'INSERT DATA {{ GRAPH <{G}> {{ <urn:a> <urn:p> "x" }} }}', validate=False, timeout=60
    )
    evaluate = writes.evaluate_update
    calls: list[str] = []

    def racing(s: Store, text: str, *args: Any) -> Any:
        delta = evaluate(s, text, *args)
        calls.append(text)
        if len(calls) == 1:  # the first evaluation is done: another client's write lands now
            writes.update(
                s, f'INSERT DATA {{ GRAPH <{G}> {{ <urn:b> <urn:p> "x" }} }}', validate=False, timeout=60
            )
        return delta

    monkeypatch.setattr(writes, "evaluate_update", racing)
    update = f'INSERT {{ GRAPH <{G}> {{ ?s <urn:seen> "yes" }} }} WHERE {{ ?s <urn:p> "x" }}'
    writes.update(store, update, timeout=60)
    seen = store.select('SELECT ?s WHERE { ?s <urn:seen> "yes" } ORDER BY ?s')
    assert [str(row["s"]) for row in seen] == ["urn:a", "urn:b"]  # as if made after the other write
    assert len(calls) == 3  # the update, the other write, the update again on the newer store


def test_a_write_is_checked_on_what_the_store_holds_when_it_is_made(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sanction is checked, then another client drops the graph of the source, state and
    organisation it names. One of the two must be refused: the store never holds a sanction whose
    imposer is not an organisation and whose source is not a source."""
    load_ontology(store)
    ingest(store, [SourceInput("context.ttl", CONTEXT.encode(), "turtle", CONTEXT_GRAPH)])
    context = len(store.graph(CONTEXT_GRAPH))
    check = writes.check
    outcome: list[BaseException | None] = []
    racer: list[threading.Thread] = []

    def drop_context() -> None:
        try:
            writes.delete_graph(store, CONTEXT_GRAPH)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    def another_write_after_the_check(*args: Any) -> None:
        check(*args)
        if not racer:
            racer.append(threading.Thread(target=drop_context))
            racer[0].start()
            racer[0].join(1.0)  # the drop is made now, unless the write lock holds it off

    monkeypatch.setattr(writes, "check", another_write_after_the_check)
    writes.post_graph(store, G, GOOD.encode(), "text/turtle")
    racer[0].join(60)
    assert len(outcome) == 1
    refused = outcome[0]
    assert isinstance(refused, PactgraphError) and refused.kind == Kind.INVALID, refused
    assert len(store.graph(CONTEXT_GRAPH)) == context and len(store.graph(G)) > 0  # both there, whole
