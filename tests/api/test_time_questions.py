"""The five time questions "for today" on the bundled data alone (no import), over HTTP on a real
uvicorn server whose empty store `serve` fills with the bundled data.

"Today" is fixed at 2026-12-02, after the bundled heads of state and government's as-of date
(2025-01-20, leaders.ttl) and after the day the bundled list of today's states was read
(2026-11-28, pg:retrieved of source/iso-3166 in states.ttl): both are listed, and each answer says
that they are known only to their date."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pactgraph.api.settings import Settings
from pactgraph.ontology import ENTITY_BASE
from tests.api.conftest import run_server

E = ENTITY_BASE
TODAY = "2026-12-02"
NOT_AFTER = "ongoing as of 2025-01-20, not known after"
LATER = "2026-12-02 is later, so this is the latest the source knows, not a fact of that day"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Its own server: the session's `server` takes writes from other tests.
    path: Path = tmp_path_factory.mktemp("time-questions") / "store"
    yield from run_server(Settings(store=f"oxigraph:{path}", token=None, query_timeout=30))


def get(url: str, path: str, **params: Any) -> dict[str, Any]:
    r = httpx.get(url + path, params=params, timeout=60)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def leaders(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            x["role"],
            x["person"]["label"],
            x["start"],
            x["status"],
            x["office"]["label"],
            [s["id"].removeprefix(E + "source/") for s in x["sources"]],
            x["certain"],
            x["caveat"],
        )
        for x in answer["leaders"]
    ]


def test_who_leads_iran_today(url: str) -> None:
    answer = get(url, "/leaders", state="Iran", date=TODAY)
    assert leaders(answer) == [
        (
            "HeadOfGovernment",
            "Masoud Pezeshkian",
            "2024-07-28",
            "confirmed",
            "President of Iran",
            ["wikipedia-masoud-pezeshkian"],
            False,
            NOT_AFTER,
        ),
        (
            "HeadOfState",
            "Ali Khamenei",
            "1989-06-04",
            "confirmed",
            "Supreme Leader of Iran",
            ["wikipedia-supreme-leader-of-iran"],
            False,
            NOT_AFTER,
        ),
    ]
    assert answer["caveats"] == [
        f"Ali Khamenei (head of state); Masoud Pezeshkian (head of government): {NOT_AFTER}; {LATER}"
    ]
    assert [s["label"] for s in answer["sources"]] == [
        "Wikipedia: Masoud Pezeshkian",
        "Wikipedia: Supreme Leader of Iran",
    ]


def test_who_governs_syria_now_with_the_claim_status(url: str) -> None:
    answer = get(url, "/leaders", state="Syria", date=TODAY)
    assert leaders(answer) == [
        (
            "HeadOfGovernment",
            "Mohammed al-Bashir",
            "2024-12-10",
            "confirmed",
            "Prime Minister of Syria",
            ["wikipedia-prime-minister-of-syria"],
            False,
            NOT_AFTER,
        ),
        (
            # De facto leader, no office made him head of state on 2025-01-20: a reported claim.
            "HeadOfState",
            "Ahmed al-Sharaa",
            "2024-12-08",
            "reported",
            "Leader of the Syrian transitional administration",
            ["wikipedia-fall-of-the-assad-regime"],
            False,
            NOT_AFTER,
        ),
    ]
    assert answer["caveats"] == [
        f"Ahmed al-Sharaa (head of state); Mohammed al-Bashir (head of government): {NOT_AFTER}; {LATER}"
    ]
    confirmed = get(url, "/leaders", state="Syria", date=TODAY, status="confirmed")
    assert [x["person"]["label"] for x in confirmed["leaders"]] == ["Mohammed al-Bashir"]
    assert confirmed["status"] == "confirmed"
    # On the as-of date itself the same rows are certain, and nothing needs saying.
    on_the_day = get(url, "/leaders", state="Syria", date="2025-01-20", role="head-of-state")
    assert [(x["person"]["label"], x["certain"], x["caveat"]) for x in on_the_day["leaders"]] == [
        ("Ahmed al-Sharaa", True, None)
    ]
    assert on_the_day["caveats"] == []
    # Before Assad's fall.
    before = get(url, "/leaders", state="Syria", date="2024-11-01", role="head-of-state")
    assert [(x["person"]["label"], x["end"], x["certain"]) for x in before["leaders"]] == [
        ("Bashar al-Assad", "2024-12-08", True)
    ]


def test_who_leads_the_united_states_today(url: str) -> None:
    answer = get(url, "/leaders", state="USA", date=TODAY)
    assert leaders(answer) == [
        (
            "HeadOfGovernment",
            "Donald Trump",
            "2025-01-20",
            "confirmed",
            "President of the United States",
            ["wikipedia-president-of-the-united-states"],
            False,
            NOT_AFTER,
        ),
        (
            "HeadOfState",
            "Donald Trump",
            "2025-01-20",
            "confirmed",
            "President of the United States",
            ["wikipedia-donald-trump"],
            False,
            NOT_AFTER,
        ),
    ]
    # Two tenures (one per role) of one person: two relations, each with its one tenure.
    assert [(r["relation"].removeprefix(E), len(r["tenures"])) for r in answer["relations"]] == [
        ("relation/head-of-government/state/USA/person/donald-trump", 1),
        ("relation/head-of-state/state/USA/person/donald-trump", 1),
    ]


def test_a_tenure_with_two_sources_is_one_row_citing_both(url: str) -> None:
    # leaders.ttl: Rosen Zhelyazkov's tenure cites the office's article and his own.
    answer = get(url, "/leaders", state="Bulgaria", date=TODAY, role="head-of-government")
    (row,) = answer["leaders"]
    assert row["person"]["label"] == "Rosen Zhelyazkov"
    assert [s["id"].removeprefix(E) for s in row["sources"]] == [
        "source/wikipedia-prime-minister-of-bulgaria",
        "source/wikipedia-rosen-zhelyazkov",
    ]
    assert row["other_readings"] == []
    assert [s["id"] for s in answer["sources"]] == [s["id"] for s in row["sources"]]


def test_the_states_of_today(url: str) -> None:
    answer = get(url, "/states", date=TODAY)
    (today,) = answer["per_source"]
    assert today["source"] == {"id": E + "source/iso-3166", "label": "ISO 3166-1 country codes"}
    assert today["count"] == 195
    assert today["note"] == "the states of today by ISO 3166-1; this list does not say when each began"
    assert {(s["certain"], s["caveat"]) for s in today["states"]} == {
        (False, "ongoing as of 2026-11-28, not known after")
    }
    assert {"Syria", "South Sudan", "Iran", "Palestine", "Holy See"} <= {s["label"] for s in today["states"]}
    assert answer["caveats"] == [
        f"195 states: ongoing as of 2026-11-28, not known after; {LATER}",
    ]
    # On the day the list was read it is certain; before it, the list says nothing.
    read = get(url, "/states", date="2026-11-28", source="iso-3166")
    assert read["per_source"][0]["count"] == 195 and read["caveats"] == []
    assert get(url, "/states", date="2025-01-20")["per_source"] == []


def test_un_membership_today_and_admissions_on_a_day(url: str) -> None:
    answer = get(url, "/un-membership", state="South Sudan", date=TODAY)
    assert (answer["member"], answer["certain"], answer["caveats"]) == (True, True, [])
    (reading,) = answer["readings"]
    assert (reading["start"], reading["status"], reading["source"]["id"]) == (
        "2011-07-14",
        "confirmed",
        E + "source/un-member-states",
    )
    admitted = get(url, "/un-membership", date="2011-07-14")
    assert [(a["label"], a["start"], a["source"]["id"]) for a in admitted["admitted_on_date"]] == [
        ("South Sudan", "2011-07-14", E + "source/un-member-states")
    ]
    before = get(url, "/un-membership", state="South Sudan", date="2011-07-13")
    assert before["member"] is False


def brief(x: dict[str, Any] | None) -> tuple[str, str, str | None] | None:
    return None if x is None else (x["person"]["label"], x["start"], x["end"])


def test_spells_with_predecessor_and_successor(url: str) -> None:
    putin = get(url, "/spells/Vladimir Putin")
    assert [
        (
            s["role"],
            s["start"],
            s["end"],
            s["ongoing_as_of"],
            brief(s["predecessor"]),
            brief(s["successor"]),
            brief(s["previous"]),
            brief(s["next"]),
            s["gap_before_days"],
            s["gap_after_days"],
        )
        for s in putin["spells"]
    ] == [
        # Medvedev (2008-2012) is not in the bundled data: the next spell it has is Putin's own, four
        # years on, which is not his successor.
        (
            "HeadOfState",
            "2000-05-07",
            "2008-05-07",
            None,
            None,
            None,
            None,
            ("Vladimir Putin", "2012-05-07", None),
            None,
            1460,
        ),
        (
            "HeadOfState",
            "2012-05-07",
            None,
            "2025-01-20",
            None,
            None,
            ("Vladimir Putin", "2000-05-07", "2008-05-07"),
            None,
            1460,
            None,
        ),
    ]
    trump = get(url, "/spells/Donald Trump")
    assert [
        (s["role"], s["start"], brief(s["predecessor"]), brief(s["successor"])) for s in trump["spells"]
    ] == [
        ("HeadOfState", "2017-01-20", None, ("Joe Biden", "2021-01-20", "2025-01-20")),
        ("HeadOfGovernment", "2017-01-20", None, ("Joe Biden", "2021-01-20", "2025-01-20")),
        ("HeadOfState", "2025-01-20", ("Joe Biden", "2021-01-20", "2025-01-20"), None),
        ("HeadOfGovernment", "2025-01-20", ("Joe Biden", "2021-01-20", "2025-01-20"), None),
    ]


def test_the_entity_page_of_syria_today(url: str) -> None:
    page = get(url, "/entities/Syria", as_of=TODAY)
    as_of = page["as_of"]
    assert [(x["role"], x["person"]["label"], x["certain"]) for x in as_of["leaders"]] == [
        ("HeadOfGovernment", "Mohammed al-Bashir", False),
        ("HeadOfState", "Ahmed al-Sharaa", False),
    ]
    assert as_of["in_state_system"] is True
    assert [(s["source"]["id"], s["known_from"], s["caveat"]) for s in as_of["statehood"]] == [
        (E + "source/iso-3166", "2026-11-28", "ongoing as of 2026-11-28, not known after")
    ]
    assert as_of["un_member"] is True
    assert as_of["caveats"] == [
        f"leaders: Ahmed al-Sharaa (head of state); Mohammed al-Bashir (head of government): {NOT_AFTER}; "
        f"{LATER}",
        f"statehood: ISO 3166-1 country codes: ongoing as of 2026-11-28, not known after; {LATER}",
    ]
    # The page's own facts (the projection's, the same rule): the tenures are there, and say so.
    tenures = {f["node"]["label"]: (f["certain"], f["caveat"]) for f in page["facts"]["ofState"]}
    assert tenures == {
        "Ahmed al-Sharaa, Leader of the Syrian transitional administration (since 2024)": (False, NOT_AFTER),
        "Mohammed al-Bashir, Prime Minister of Syria (since 2024)": (False, NOT_AFTER),
    }


def test_a_path_through_a_bundled_leader_reads_as_leading_the_state(url: str) -> None:
    answer = get(url, "/paths", **{"from": "Vladimir Putin", "to": "Russia", "max_hops": 2, "limit": 2})
    texts = [p["text"] for p in answer["paths"][0]["paths"]]
    assert texts == [
        "Vladimir Putin led Russia as President of Russia from 2000-05-07 until 2008-05-07 "
        "[wikipedia-vladimir-putin].",
        "Vladimir Putin led Russia as President of Russia since 2012-05-07, ongoing as of 2025-01-20 "
        "[wikipedia-vladimir-putin].",
    ]
    back = get(url, "/paths", **{"from": "Syria", "to": "Ahmed al-Sharaa", "max_hops": 2, "limit": 1})
    assert [p["text"] for p in back["paths"][0]["paths"]] == [
        "Syria was led by Ahmed al-Sharaa as Leader of the Syrian transitional administration since "
        "2024-12-08, ongoing as of 2025-01-20 [reported: wikipedia-fall-of-the-assad-regime]."
    ]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/leaders", {"state": "Iran", "date": TODAY, "status": "likely"}, "status must be one of"),
        ("/spells/Vladimir Putin", {"status": "maybe"}, "status must be one of"),
        ("/states", {"date": TODAY, "status": "sure"}, "status must be one of"),
        ("/leaders", {"state": "Iran", "date": "2026-13-02"}, "not a date"),
        ("/leaders", {"state": "Iran", "date": TODAY, "role": "king"}, "role is one of"),
    ],
)
def test_bad_parameters_are_clear_errors(url: str, path: str, params: dict[str, str], message: str) -> None:
    r = httpx.get(url + path, params=params, timeout=30)
    assert r.status_code == 400
    assert message in r.json()["error"]
