"""The importers on the real files in ../shared/datasets (CI has them; elsewhere skipped with the
reason). Each expected answer was checked by hand against the raw rows quoted beside it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from pactgraph.graph import Store
from pactgraph.graph.entities import describe
from pactgraph.graph.importers import ImportResult, read_files, run_import
from pactgraph.graph.projection import build
from pactgraph.graph.timeline import leaders_on, person_spells, states_on, un_membership
from pactgraph.ontology import ENTITY_BASE
from tests.importers.conftest import REAL, bundled_store, real_file

E = ENTITY_BASE


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path
) -> Iterator[tuple[Store, dict[str, ImportResult]]]:
    files = {name: real_file(name) for name in REAL}
    tmp: Path = tmp_path_factory.mktemp("real")
    store = bundled_store(bundled_seed, tmp / "store")
    results = {
        name: run_import(store, name, read_files([path]), review_dir=tmp) for name, path in files.items()
    }
    yield store, results
    store.close()


def test_every_row_is_read(world: tuple[Store, dict[str, ImportResult]]) -> None:
    _store, results = world
    assert {n: (r.rows, len(r.skipped)) for n, r in results.items()} == {
        "cow-states": (243, 0),
        "un-members": (193, 0),
        "archigos": (3409, 0),
        "reign": (2524, 0),
    }
    # The reconciliation's counts (Archigos first, then REIGN against it and the bundled leaders).
    assert results["archigos"].persons_merged >= 3
    assert results["reign"].persons_merged > 1600
    assert results["reign"].review_file is not None and Path(results["reign"].review_file).exists()


def test_who_led_the_united_states_on_a_handover_day(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # Archigos: USA-1945 Truman 1945-04-12 … 1953-01-20; USA-1953 Eisenhower 1953-01-20 … 1961-01-20.
    # REIGN: "USA,2,A2.9-46,Truman,12,4,1945,1,1953,…" and "USA,2,A2.9-49,Eisenhower,20,1,1953,1,1961,…".
    answer = leaders_on(store, E + "state/USA", date(1953, 1, 20), "effective-leader")
    got = sorted(
        (r["person"]["label"], r["source"]["id"].rsplit("/", 1)[-1], r["start"], r["end"], r["certain"])
        for r in answer["leaders"]
    )
    assert got == [
        ("Eisenhower", "archigos-4.1", "1953-01-20", "1961-01-20", True),
        ("Eisenhower", "reign-2021-03", "1953-01-20", "1961-01", True),
        ("Truman", "archigos-4.1", "1945-04-12", "1953-01-20", True),
        ("Truman", "reign-2021-03", "1945-04-12", "1953-01", False),
    ]
    # One person, two sourced readings of one relation.
    truman = {r["person"]["id"] for r in answer["leaders"] if r["person"]["label"] == "Truman"}
    assert len(truman) == 1
    assert {r["reading_of"] for r in answer["leaders"] if r["person"]["label"] == "Truman"} == {
        E + "relation/effective-leader/state/USA/" + next(iter(truman)).removeprefix(E)
    }


def test_who_led_iran_in_2010(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # Archigos IRN-2005 Ahmadinejad 2005-08-03 … 2013-08-03; REIGN "IRN,630,A3.0-162,Ahmadinejad,3,8,2005,8,2013".
    answer = leaders_on(store, E + "state/IRN", date(2010, 6, 1), "effective-leader")
    assert {(r["person"]["label"], r["source"]["id"].rsplit("/", 1)[-1]) for r in answer["leaders"]} == {
        ("Ahmadinejad", "archigos-4.1"),
        ("Ahmadinejad", "reign-2021-03"),
    }
    assert [s["id"] for s in answer["sources"]] == [E + "source/archigos-4.1", E + "source/reign-2021-03"]


def test_the_state_system_around_german_unification(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # "GFR,260,German Federal Republic,1955,5,5,1990,10,2,2016", "GDR,265,…,1990,10,2,2016",
    # "GMY,255,Germany,1990,10,3,2016,12,31,2016": 162 spells hold on 1990-10-02, 161 on 1990-10-03
    # (counted with awk over the raw rows).
    (before,) = states_on(store, date(1990, 10, 2), ["cow-states"])["per_source"]
    (after,) = states_on(store, date(1990, 10, 3), ["cow-states"])["per_source"]
    assert (before["count"], after["count"]) == (162, 161)
    gdr = E + "state/german-democratic-republic"
    assert gdr in {s["id"] for s in before["states"]} and gdr not in {s["id"] for s in after["states"]}
    assert E + "state/DEU" in {s["id"] for s in before["states"]}  # as the GFR (COW 260)


def test_un_membership(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # "Germany,18 September 1973,,…" and "Bahamas,18 September 1973,,"
    answer = un_membership(store, E + "state/DEU", date(1973, 9, 18), ["un-members"])
    assert answer["member"] is True
    assert [a["label"] for a in answer["admitted_on_date"]] == ["Bahamas", "Germany"]
    assert un_membership(store, E + "state/DEU", date(1973, 9, 17), ["un-members"])["member"] is False
    # "South Sudan,14 July 2011,,"
    ssd = un_membership(store, None, date(2011, 7, 14), ["un-members"])
    assert [a["id"] for a in ssd["admitted_on_date"]] == [E + "state/SSD"]


def test_putins_spells_with_predecessor(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # Archigos RUS-1991 Yeltsin 1991-08-21 … 1999-12-31; RUS-2000 Putin 2000-01-01 … "Still in Office".
    answer = person_spells(store, E + "person/vladimir-putin", ["archigos"])
    (spell,) = answer["spells"]
    assert (spell["start"], spell["end"], spell["ongoing_as_of"]) == ("2000-01-01", None, "2015-12-31")
    assert spell["predecessor"]["person"]["label"] == "Yeltsin" and spell["successor"] is None


def test_germany_as_of_1980(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # Archigos GFR-1974 Schmidt 1974-05-16 … 1982-10-01; REIGN "GFR,260,A2.9-4372,Schmidt,16,5,1974,10,1982".
    page = describe(store, build(store), E + "state/DEU", date(1980, 1, 1))
    as_of = page["as_of"]
    assert {(r["person"]["label"], r["source"]["id"].rsplit("/", 1)[-1]) for r in as_of["leaders"]} == {
        ("Schmidt", "archigos-4.1"),
        ("Schmidt", "reign-2021-03"),
    }
    assert as_of["in_state_system"] is True and as_of["un_member"] is True
