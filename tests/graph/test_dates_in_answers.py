"""No undated claim appears in an answer as of a date before its source; every answer (paths,
entity pages, neighbourhoods and exports) reads time by the same rule and marks undated facts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from pactgraph.graph import Store
from pactgraph.graph.dates import parse_period
from pactgraph.graph.entities import describe
from pactgraph.graph.export import Scope, cytoscape_elements, select
from pactgraph.graph.paths import PathQuery, find_paths
from pactgraph.graph.projection import Projection, build
from pactgraph.ontology import ENTITY_BASE as ID

RUS, IRN, SYR, TUR = (ID + f"state/{c}" for c in ("RUS", "IRN", "SYR", "TUR"))
# The report of the seed graph is undated beyond its month: January 2025, known from 2025-01-31.
UNDATED = {
    ID + "support/iran-russia-ballistic-missiles",  # the reported missile transfer
    ID + "measurement/russia-iran-trade-national-currencies-2024",  # a 2024 trade figure
    ID + "support/turkey-syrian-rebels",  # Turkey's support for the rebels
}
DAYS = [
    date(1990, 1, 1),
    date(2024, 11, 1),
    date(2025, 1, 17),
    date(2025, 1, 30),
    date(2025, 1, 31),
    date(2026, 1, 1),
]


@pytest.fixture(scope="module")
def projection(loaded: Store) -> Projection:
    return build(loaded)


def _edges(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for group in result["paths"]:
        for p in group["paths"]:
            yield from p["edges"]
    for c in result["connections"]:
        for p in c["paths"]:
            yield from p["edges"]


def _known_by(fact: dict[str, Any], day: date) -> bool:
    return fact["known_from"] is not None and parse_period(fact["known_from"]).latest <= day


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_paths_show_undated_claims_only_from_their_source_on(projection: Projection, day: date) -> None:
    undated = []
    for sources, target in (((RUS, IRN), SYR), ((TUR,), SYR), ((IRN,), RUS)):
        result = find_paths(projection, PathQuery(sources, target, max_hops=3, limit=10, as_of=day))
        for edge in _edges(result):
            if edge["undated"]:
                undated.append(edge)
                assert _known_by(edge, day), (day, edge)
        texts = [p["text"] for g in result["paths"] for p in g["paths"]]
        texts += [c["text"] for c in result["connections"]]
        if day < date(2025, 1, 31):
            assert not any("(undated" in t for t in texts), (day, texts)
    if day >= date(2025, 1, 31):
        assert undated, "undated claims are shown once their source is out"
        assert {e["known_from"] for e in undated} == {"2025-01"}


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_entity_pages_and_exports_show_undated_claims_only_from_their_source_on(
    loaded: Store, projection: Projection, day: date
) -> None:
    for entity in (RUS, IRN, TUR):
        page = describe(loaded, projection, entity, as_of=day)
        for group in page["facts"].values():
            for fact in group:
                if fact["undated"]:
                    assert _known_by(fact, day), (entity, day, fact)
                assert fact["node"]["id"] not in UNDATED or day >= date(2025, 1, 31)
    whole = select(loaded, projection, Scope(as_of=day))
    assert bool(UNDATED & set(whole.nodes)) is (day >= date(2025, 1, 31))
    for e in whole.facts():
        assert not e.undated or (e.known_from and parse_period(e.known_from).latest <= day)
    around = select(loaded, projection, Scope(around=IRN, depth=2, as_of=day))
    for element in cytoscape_elements(around):
        data = element["data"]
        assert data["id"] not in UNDATED or day >= date(2025, 1, 31)
        if data.get("undated"):
            assert parse_period(data["known_from"]).latest <= day


def test_undated_facts_are_marked_in_every_answer(loaded: Store, projection: Projection) -> None:
    page = describe(loaded, projection, TUR)
    support = next(
        f
        for group in page["facts"].values()
        for f in group
        if f["node"]["id"] == ID + "support/turkey-syrian-rebels"
    )
    assert (support["start"], support["end"], support["undated"], support["known_from"]) == (
        None,
        None,
        True,
        "2025-01",
    )
    sub = select(loaded, projection, Scope(around=TUR, depth=1))
    edge = next(
        e["data"]
        for e in cytoscape_elements(sub)
        if e["data"].get("source") == ID + "support/turkey-syrian-rebels"
    )
    assert (edge["undated"], edge["known_from"]) == (True, "2025-01")
    # a dated fact says nothing of the kind
    dated = next(
        e["data"]
        for e in cytoscape_elements(
            select(loaded, projection, Scope(around=ID + "support/russia-assad-government"))
        )
        if e["data"].get("start") == "2015-09-30"
    )
    assert "undated" not in dated and "known_from" not in dated
