"""The time questions give the same answers on every backend (memory:, oxigraph:, sparql:): the
bundled data asked about 2026-12-02, after its as-of days."""

from __future__ import annotations

from datetime import date

from pactgraph.graph import Store
from pactgraph.graph.timeline import leaders_on, person_spells, states_on, un_membership
from pactgraph.ontology import ENTITY_BASE

E = ENTITY_BASE
TODAY = date(2026, 12, 2)


def test_leaders_today(loaded: Store) -> None:
    answer = leaders_on(loaded, E + "state/IRN", TODAY)
    assert [
        (r["role"], r["person"]["label"], r["start"], r["status"], r["certain"], r["caveat"])
        for r in answer["leaders"]
    ] == [
        (
            "HeadOfGovernment",
            "Masoud Pezeshkian",
            "2024-07-28",
            "confirmed",
            False,
            "ongoing as of 2025-01-20, not known after",
        ),
        (
            "HeadOfState",
            "Ali Khamenei",
            "1989-06-04",
            "confirmed",
            False,
            "ongoing as of 2025-01-20, not known after",
        ),
    ]
    andorra = leaders_on(loaded, E + "state/AND", TODAY, "head-of-state")
    assert [
        (r["person"]["label"], [s["id"].removeprefix(E) for s in r["sources"]]) for r in andorra["leaders"]
    ] == [
        ("Emmanuel Macron", ["source/wikipedia-co-princes-of-andorra"]),
        (
            "Joan-Enric Vives i Sicília",
            ["source/wikipedia-co-princes-of-andorra", "source/wikipedia-joan-enric-vives-i-sicilia"],
        ),
    ]


def test_states_un_and_spells_today(loaded: Store) -> None:
    (today,) = states_on(loaded, TODAY)["per_source"]
    assert (today["source"]["id"], today["count"]) == (E + "source/iso-3166", 195)
    un = un_membership(loaded, E + "state/SSD", TODAY)
    assert (un["member"], un["certain"]) == (True, True)
    admitted = un_membership(loaded, None, date(2011, 7, 14))["admitted_on_date"]
    assert [a["label"] for a in admitted] == ["South Sudan"]
    spells = person_spells(loaded, E + "person/bashar-al-assad")
    assert [
        (s["role"], s["start"], s["end"], s["successor"]["person"]["label"] if s["successor"] else None)
        for s in spells["spells"]
    ] == [("HeadOfState", "2000-07-17", "2024-12-08", "Ahmed al-Sharaa")]
