"""What path queries keep with a projection (bounding searches, degrees, per-node facts) never
changes an answer: cached answers equal uncached ones over many filters, in any order, and a
replaced projection starts afresh."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from pactgraph.graph import Store
from pactgraph.graph.paths import _TOWARD_CACHE, PathQuery, find_paths
from pactgraph.graph.projection import Projection, build

ID = "https://pactgraph.org/id/"
RUS, IRN, SYR, TUR, USA = (ID + f"state/{c}" for c in ("RUS", "IRN", "SYR", "TUR", "USA"))
SUPPORT = ID + "support/russia-assad-government"


@pytest.fixture(scope="module")
def projection(loaded: Store) -> Projection:
    return build(loaded)


def _queries() -> list[PathQuery]:
    days = [None, date(1990, 6, 15), date(2015, 10, 1), date(2024, 11, 1), date(2025, 1, 17)]
    out: list[PathQuery] = []
    for sources, target in [((RUS, IRN), SYR), ((TUR,), SYR), ((RUS, TUR), IRN), ((IRN, SYR), RUS)]:
        for day in days:
            out.append(PathQuery(sources, target, as_of=day))
            out.append(PathQuery(sources, target, max_hops=3, limit=10, as_of=day))
        out.append(PathQuery(sources, target, as_of=date(2024, 11, 1), min_status="confirmed"))
        out.append(PathQuery(sources, target, min_status="reported", max_hops=2))
        out.append(PathQuery(sources, target, exclude=("Support",)))
        out.append(PathQuery(sources, target, via=("member", "organisation")))
        out.append(PathQuery(sources, target, as_of=date(2024, 11, 1), exclude=("supporter",)))
    # The same target and filters from other sources: the class filters spare the ends.
    out.append(PathQuery((RUS,), SYR, exclude=("State",)))
    out.append(PathQuery((IRN,), SYR, exclude=("State",)))
    return out


def _fresh(proj: Projection, q: PathQuery) -> str:
    """The answer with nothing kept from earlier queries."""
    proj.__dict__.pop("_paths_index", None)
    return json.dumps(find_paths(proj, q))


def test_kept_answers_equal_fresh_ones(projection: Projection) -> None:
    queries = _queries()
    fresh = [_fresh(projection, q) for q in queries]
    projection.__dict__.pop("_paths_index", None)
    # Twice over, forwards then backwards: every answer after the first comes with something kept.
    for q, expected in [*zip(queries, fresh, strict=True), *reversed(list(zip(queries, fresh, strict=True)))]:
        assert json.dumps(find_paths(projection, q)) == expected, q
    kept = projection.__dict__["_paths_index"]
    assert 0 < len(kept.toward) <= _TOWARD_CACHE


def test_the_bounding_searches_kept_are_bounded(projection: Projection) -> None:
    for day in range(_TOWARD_CACHE + 10):
        find_paths(
            projection, PathQuery((RUS,), SYR, as_of=date.fromordinal(date(2000, 1, 1).toordinal() + day))
        )
    assert len(projection.__dict__["_paths_index"].toward) == _TOWARD_CACHE


def _first(result: dict[str, Any]) -> list[str]:
    return [n["id"] for n in result["paths"][0]["paths"][0]["nodes"]]


def test_a_replaced_projection_starts_afresh(loaded: Store, projection: Projection) -> None:
    q = PathQuery((RUS, IRN), SYR, as_of=date(2024, 11, 1))
    before = find_paths(projection, q)
    assert SUPPORT in _first(before)
    # The next version of the store, as a new projection: here without Russia's support for Assad.
    replaced = build(loaded)
    replaced.graph.remove_node(SUPPORT)
    after = find_paths(replaced, q)
    assert SUPPORT not in json.dumps(after)
    assert json.dumps(after) == _fresh(replaced, q)
    # The old projection still answers as it did.
    assert json.dumps(find_paths(projection, q)) == json.dumps(before)
