"""Explained paths on the bundled data: "how do Russia and Iran connect to Syria?"."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pactgraph.graph import Kind, PactgraphError, Store
from pactgraph.graph.paths import PathQuery, find_paths
from pactgraph.graph.projection import Projection, build

ID = "https://pactgraph.org/id/"
RUS, IRN, SYR, TUR = (ID + f"state/{c}" for c in ("RUS", "IRN", "SYR", "TUR"))
ASSAD_GOV = ID + "government/assad-syria"

RUSSIA_SUPPORT = (
    "Russia supported Government of Bashar al-Assad from 2015-09-30 until 2024-12-08 "
    "[russia-iran-pact-2025, wikipedia-fall-of-the-assad-regime, wikipedia-russian-intervention-syria]; "
    "Government of Bashar al-Assad is the government of Syria from 2000-07-17 until 2024-12-08 "
    "[russia-iran-pact-2025, wikipedia-bashar-al-assad, wikipedia-fall-of-the-assad-regime]."
)
IRAN_SUPPORT = (
    "Iran supported Government of Bashar al-Assad from 2011 until 2024-12-08 "
    "[russia-iran-pact-2025, wikipedia-fall-of-the-assad-regime, wikipedia-iranian-intervention-syria]; "
    "Government of Bashar al-Assad is the government of Syria from 2000-07-17 until 2024-12-08 "
    "[russia-iran-pact-2025, wikipedia-bashar-al-assad, wikipedia-fall-of-the-assad-regime]."
)


@pytest.fixture(scope="module")
def projection(loaded: Store) -> Projection:
    return build(loaded)


def ask(proj: Projection, as_of: str | None, status: str = "denied", **kw: Any) -> dict[str, Any]:
    q = PathQuery(
        (RUS, IRN), SYR, as_of=date.fromisoformat(as_of) if as_of else None, min_status=status, **kw
    )
    return find_paths(proj, q)


def texts(result: dict[str, Any], source: str) -> list[str]:
    return [p["text"] for g in result["paths"] if g["from"] == source for p in g["paths"]]


def test_before_the_fall_support_for_assad_comes_first(projection: Projection) -> None:
    result = ask(projection, "2024-11-01")
    assert texts(result, RUS)[0] == RUSSIA_SUPPORT
    assert texts(result, IRN)[0] == IRAN_SUPPORT
    first = result["paths"][0]["paths"][0]
    assert [n["id"] for n in first["nodes"]] == [RUS, ID + "support/russia-assad-government", ASSAD_GOV, SYR]
    assert [n["class"] for n in first["nodes"]] == ["State", "Support", "Government", "State"]
    supporter, recipient, leads = first["edges"]
    assert supporter["predicate"] == "https://pactgraph.org/ontology#supporter"
    assert supporter["direction"] == "backward" and supporter["label"] == "gives"
    assert (supporter["start"], supporter["end"], supporter["status"]) == (
        "2015-09-30",
        "2024-12-08",
        "confirmed",
    )
    assert recipient["label"] == "goes to" and leads["label"] == "is the government of"
    assert "wikipedia-russian-intervention-syria" in " ".join(supporter["evidence"]["sources"])


def test_after_the_fall_support_is_no_longer_valid(projection: Projection) -> None:
    result = ask(projection, "2025-01-17")
    for source in (RUS, IRN):
        assert all("Government of Bashar al-Assad" not in t for t in texts(result, source))
        # still connected, through what holds on that day
        assert texts(result, source) == [
            f"{'Russia' if source == RUS else 'Iran'} is a member of United Nations since 1945-10-24 "
            "[un-member-states]; United Nations has as a member Syria since 1945-10-24 [un-member-states]."
        ]
    shared = {c["node"]["label"]: [p["text"] for p in c["paths"]] for c in result["connections"]}
    assert shared["Comprehensive Strategic Partnership Agreement"] == [
        "Russia is a signatory of Comprehensive Strategic Partnership Agreement on 2025-01-17 [russia-iran-pact-2025].",
        "Iran is a signatory of Comprehensive Strategic Partnership Agreement on 2025-01-17 [russia-iran-pact-2025].",
    ]
    assert "United States" in shared and "Government of Bashar al-Assad" not in shared
    told = {c["node"]["label"]: c["text"] for c in result["connections"]}
    assert told["Comprehensive Strategic Partnership Agreement"] == (
        "Iran and Russia signed Comprehensive Strategic Partnership Agreement on 2025-01-17 [russia-iran-pact-2025]."
    )
    assert told["Iran supplies Shahed drones to Russia"] == (
        "Iran supplied Shahed-136 to Russia since 2022-08 [ap-treasury-iran-drones-2022-09-08, russia-iran-pact-2025]."
    )


def test_before_the_pact_it_is_not_shared(projection: Projection) -> None:
    shared = {c["node"]["label"] for c in ask(projection, "2024-11-01")["connections"]}
    assert "Comprehensive Strategic Partnership Agreement" not in shared
    assert "Government of Bashar al-Assad" in shared


def test_confirmed_only_drops_reported_claims(projection: Projection) -> None:
    # The reported claims are undated: known from their report (published 2025-01) on.
    everything = {c["node"]["label"] for c in ask(projection, "2025-02-01")["connections"]}
    confirmed = {c["node"]["label"] for c in ask(projection, "2025-02-01", "confirmed")["connections"]}
    reported = {
        "Iran hands ballistic missiles to Russia (reported)",
        "Iran sets up a UAV production facility in Russia (reported)",
    }
    assert reported <= everything
    assert not reported & confirmed
    assert "Iran supplies Shahed drones to Russia" in confirmed


def test_without_a_date_every_path_counts(projection: Projection) -> None:
    result = ask(projection, None)
    assert texts(result, RUS)[0] == RUSSIA_SUPPORT


def test_exclude_and_via(projection: Projection) -> None:
    no_support = ask(projection, "2024-11-01", exclude=("Support",))
    assert all("supported" not in t for t in texts(no_support, RUS))
    only_members = ask(projection, None, via=("member", "organisation"))
    assert all("member" in t for t in texts(only_members, RUS)) and texts(only_members, RUS)


def test_turkey_reaches_syria_through_the_rebels(projection: Projection) -> None:
    # Turkey's support for the rebels is undated in its report (published in January 2025):
    # known from the report's last possible day on, and told as undated.
    q = PathQuery((TUR,), SYR, max_hops=3, as_of=date(2025, 2, 1))
    result = find_paths(projection, q)
    paths = texts(result, TUR)
    assert paths[0] == (
        "Turkey supported Syrian rebels (undated, known from 2025-01) [reported: russia-iran-pact-2025]; "
        "Syrian rebels is based in Syria [russia-iran-pact-2025]."
    )
    support = result["paths"][0]["paths"][0]["edges"][0]
    assert (support["status"], support["undated"], support["known_from"], support["start"]) == (
        "reported",
        True,
        "2025-01",
        None,
    )
    confirmed = find_paths(
        projection, PathQuery((TUR,), SYR, max_hops=3, as_of=date(2025, 2, 1), min_status="confirmed")
    )
    assert all("Syrian rebels" not in t for t in texts(confirmed, TUR))
    for before in (date(1990, 1, 1), date(2024, 12, 1), date(2025, 1, 30)):
        earlier = find_paths(projection, PathQuery((TUR,), SYR, max_hops=3, as_of=before))
        assert all("Syrian rebels" not in t for t in texts(earlier, TUR)), before


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"max_hops": 0}, "max_hops must be between 1 and 8"),
        ({"max_hops": 10_000}, "max_hops must be between 1 and 8"),
        ({"limit": 0}, "limit must be between 1 and 50"),
        ({"min_status": "rumoured"}, "status must be one of confirmed, reported, disputed, denied"),
    ],
)
def test_absurd_parameters(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(PactgraphError) as info:
        PathQuery((RUS,), SYR, **kw)
    assert info.value.kind == Kind.BAD_INPUT and message in info.value.message
