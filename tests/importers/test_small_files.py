"""Every importer on small files written by hand in its dataset's format: runs everywhere."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pactgraph.graph import Kind, PactgraphError, Store
from pactgraph.graph.importers import InputFile, read_files, run_import
from pactgraph.graph.paths import PathQuery, find_paths
from pactgraph.graph.projection import build
from pactgraph.graph.timeline import leaders_on, person_spells, states_on, un_membership
from pactgraph.ontology import ENTITY_BASE, GRAPH_BASE
from tests.importers.conftest import ARCHIGOS_ROWS, DATA, write_archigos

E = ENTITY_BASE


def graph_quads(store: Store, graph: str) -> set[tuple[str, str, str]]:
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return {(str(r["s"]), str(r["p"]), r["o"].n3()) for r in rows}


def test_cow_states_spells_historic_states_and_ongoing(store: Store) -> None:
    result = run_import(store, "cow-states", read_files([DATA / "states_small.csv"]))
    assert result.graph == GRAPH_BASE + "cow-states-2016" and result.rows == 6 and not result.skipped
    # "GDR,265,German Democratic Republic,1954,3,25,1990,10,2,2016": a historic state, no ISO code.
    gdr = E + "state/german-democratic-republic"
    assert bool(
        store.query(
            f"ASK {{ <{gdr}> a <https://pactgraph.org/ontology#State> ; "
            f"<https://pactgraph.org/ontology#cowCode> 265 }}"
        ).askAnswer
    )
    assert not store.select(f"SELECT ?c WHERE {{ <{gdr}> <https://pactgraph.org/ontology#isoAlpha3> ?c }}")
    on_unification_eve = states_on(store, date(1990, 10, 2))
    (per,) = on_unification_eve["per_source"]
    assert per["source"]["id"] == E + "source/cow-states-2016"
    assert {s["id"] for s in per["states"]} == {E + "state/USA", E + "state/DEU", gdr, E + "state/RUS"}
    (after,) = states_on(store, date(1990, 10, 3))["per_source"]
    assert {s["id"] for s in after["states"]} == {E + "state/USA", E + "state/DEU", E + "state/RUS"}
    # "…,2016,12,31,2016": extended to the coverage end, so ongoing as of it, not ended.
    usa = next(s for s in after["states"] if s["id"] == E + "state/USA")
    assert usa["end"] is None and usa["ongoing_as_of"] == "2016-12-31"
    assert states_on(store, date(2020, 1, 1))["per_source"][0]["count"] == 3


def test_reimport_is_idempotent_and_replaces_the_graph_whole(store: Store) -> None:
    run_import(store, "cow-states", read_files([DATA / "states_small.csv"]))
    graph = GRAPH_BASE + "cow-states-2016"
    first = graph_quads(store, graph)
    run_import(store, "cow-states", read_files([DATA / "states_small.csv"]))
    assert graph_quads(store, graph) == first
    fewer = b"\n".join((DATA / "states_small.csv").read_bytes().splitlines()[:2]) + b"\n"
    run_import(store, "cow-states", [InputFile("states2016.csv", fewer)])
    assert states_on(store, date(1990, 10, 2))["per_source"][0]["count"] == 1  # only the USA row is left


def test_a_wrong_file_is_refused_with_what_is_missing(store: Store) -> None:
    before = store.graph_names()
    with pytest.raises(PactgraphError) as err:
        run_import(store, "reign", read_files([DATA / "states_small.csv"]))
    assert err.value.kind == Kind.BAD_INPUT
    assert "missing column(s) leadid, leader, sdate" in err.value.message
    with pytest.raises(PactgraphError, match=r"not a readable Stata \.dta file"):
        run_import(store, "archigos", read_files([DATA / "leaderlist_3_21.csv"]))
    with pytest.raises(PactgraphError, match="not W3C SPARQL JSON results"):
        run_import(store, "wikidata", read_files([DATA / "states_small.csv"]))
    with pytest.raises(PactgraphError, match="not utf-8 text"):
        run_import(store, "cow-states", [InputFile("states.csv", "stateabb,ccode\nÖ,1\n".encode("utf-16"))])
    with pytest.raises(PactgraphError, match="no importer for 'atlantis'"):
        run_import(store, "atlantis", read_files([DATA / "states_small.csv"]))
    assert store.graph_names() == before


def test_unreadable_rows_stop_the_import_or_are_skipped_and_listed(store: Store) -> None:
    # Line 3 is "GDR,265,German Democratic Republic,1954,2,30,…": there is no 30 February.
    with pytest.raises(PactgraphError) as err:
        run_import(store, "cow-states", read_files([DATA / "states_badrow.csv"]))
    assert "states_badrow.csv, line 3: start (styear, stmonth, stday) is not a date" in err.value.message
    assert err.value.detail == [
        {
            "file": "states_badrow.csv",
            "line": 3,
            "message": "start (styear, stmonth, stday) is not a date: '1954'-'2'-'30'",
        }
    ]
    assert GRAPH_BASE + "cow-states-2016" not in {str(g) for g in store.graph_names()}
    result = run_import(store, "cow-states", read_files([DATA / "states_badrow.csv"]), skip_bad_rows=True)
    assert [(e.line, e.file) for e in result.skipped] == [(3, "states_badrow.csv")] and result.rows == 2
    with pytest.raises(PactgraphError) as err:
        run_import(store, "un-members", read_files([DATA / "un_members_badrow.csv"]))
    assert [d["line"] for d in err.value.detail] == [3, 4]
    assert "no state is known by the name 'Atlantis'" in err.value.message


def test_un_members_table(store: Store) -> None:
    result = run_import(store, "un-members", read_files([DATA / "un_members_small.csv"]))
    assert result.rows == 4
    de = un_membership(store, E + "state/DEU", date(1973, 9, 18), ["un-members"])
    assert de["member"] is True
    assert [a["id"] for a in de["admitted_on_date"]] == [E + "state/DEU"]
    (reading,) = de["readings"]
    # The latest date the table's text mentions is the day it is known to hold to.
    assert reading["ongoing_as_of"] == "1973-09-18" and reading["start"] == "1973-09-18"
    assert un_membership(store, E + "state/DEU", date(1973, 9, 17), ["un-members"])["member"] is False
    congo = un_membership(store, E + "state/COG", date(1960, 9, 20), ["un-members"])
    assert congo["member"] is True  # "Congo[i]" is the Republic of the Congo


def test_archigos_and_reign_keep_two_sourced_assertions_for_one_person(store: Store, tmp_path: Path) -> None:
    dta = write_archigos(tmp_path / "Archigos_4.1_stata14.dta", ARCHIGOS_ROWS)
    archigos = run_import(store, "archigos", read_files([dta]), review_dir=tmp_path)
    # Putin matches the bundled person (same state, overlapping spells, "Putin" ⊂ "Vladimir Putin").
    assert archigos.persons_merged == 1 and archigos.persons_new == 4
    reign = run_import(store, "reign", read_files([DATA / "leaderlist_3_21.csv"]), review_dir=tmp_path)
    assert reign.graph == GRAPH_BASE + "reign-2021-03"
    # Truman, Eisenhower, Putin, Kohl (two spells, one person), Honecker match; Yeltsin is new.
    assert reign.persons_merged == 5 and reign.persons_new == 1
    truman = leaders_on(store, E + "state/USA", date(1953, 1, 1), "effective-leader")
    rows = [(r["person"]["id"], r["source"]["id"], r["end"], r["certain"]) for r in truman["leaders"]]
    assert rows == [
        (E + "person/truman", E + "source/archigos-4.1", "1953-01-20", True),
        (E + "person/truman", E + "source/reign-2021-03", "1953-01", True),
    ]
    keys = {r["reading_of"] for r in truman["leaders"]}
    assert keys == {E + "relation/effective-leader/state/USA/person/truman"}
    # The handover day: Truman's last day and Eisenhower's first, in both sources.
    handover = leaders_on(store, E + "state/USA", date(1953, 1, 20))
    assert sorted(
        (r["person"]["label"], r["source"]["id"].rsplit("/", 1)[-1], r["certain"])
        for r in handover["leaders"]
    ) == [
        ("Eisenhower", "archigos-4.1", True),
        ("Eisenhower", "reign-2021-03", True),
        ("Truman", "archigos-4.1", True),
        ("Truman", "reign-2021-03", False),  # REIGN's end is the month 1953-01
    ]
    only = leaders_on(store, E + "state/USA", date(1953, 1, 20), sources=["reign"])
    assert {r["source"]["id"] for r in only["leaders"]} == {E + "source/reign-2021-03"}
    assert only["sources"] == [
        {
            "id": E + "source/reign-2021-03",
            "label": "REIGN: The Rulers, Elections, and Irregular Governance Dataset (2021-03)",
        }
    ]


def test_ongoing_spells_and_person_spells(store: Store, tmp_path: Path) -> None:
    dta = write_archigos(tmp_path / "Archigos_4.1_stata14.dta", ARCHIGOS_ROWS)
    run_import(store, "archigos", read_files([dta]), review_dir=tmp_path)
    run_import(store, "reign", read_files([DATA / "leaderlist_3_21.csv"]), review_dir=tmp_path)
    # "Still in Office" on 2015-12-31: ongoing as of then, so Putin still leads in 2020 by Archigos.
    later = leaders_on(store, E + "state/RUS", date(2020, 6, 1), "effective-leader")
    assert [
        (r["source"]["id"].rsplit("/", 1)[-1], r["ongoing_as_of"], r["certain"], r["caveat"])
        for r in later["leaders"]
    ] == [
        # Still listed after Archigos' coverage, but Archigos knows nothing after 2015-12-31.
        ("archigos-4.1", "2015-12-31", False, "ongoing as of 2015-12-31, not known after"),
        ("reign-2021-03", "2021-02-28", True, None),
    ]
    assert later["caveats"] == [
        "Vladimir Putin (effective leader): ongoing as of 2015-12-31, not known after; 2020-06-01 is "
        "later, so this is the latest the source knows, not a fact of that day"
    ]
    assert {r["person"]["id"] for r in later["leaders"]} == {E + "person/vladimir-putin"}
    # One relation, read by two datasets: two rows, linked.
    (relation,) = later["relations"]
    assert relation["relation"] == E + "relation/effective-leader/state/RUS/person/vladimir-putin"
    assert [r["other_readings"] for r in later["leaders"]] == [
        [later["leaders"][1]["tenure"]],
        [later["leaders"][0]["tenure"]],
    ]
    spells = person_spells(store, E + "person/vladimir-putin", ["reign"])
    (spell,) = spells["spells"]
    assert spell["predecessor"]["person"]["label"] == "Yeltsin" and spell["successor"] is None
    kohl = person_spells(store, E + "person/kohl")
    # Archigos: one spell 1982–1998 (GW 260 runs through unification); REIGN: two (GFR, then Germany).
    assert [(s["source"]["id"].rsplit("/", 1)[-1], s["start"], s["end"]) for s in kohl["spells"]] == [
        ("archigos-4.1", "1982-10-01", "1998-10-27"),
        ("reign-2021-03", "1982-10-01", "1990-09"),
        ("reign-2021-03", "1990-10-03", "1998-10"),
    ]
    assert kohl["spells"][2]["predecessor"]["person"]["label"] == "Kohl"
    honecker = leaders_on(store, E + "state/german-democratic-republic", date(1980, 1, 1))
    assert {(r["person"]["label"], r["exit"]) for r in honecker["leaders"]} == {
        ("Honecker", "irregular: removed by other domestic popular protest"),
        ("Honecker", None),
    }


def test_wikidata_recorded_answer(store: Store) -> None:
    result = run_import(store, "wikidata", read_files([DATA / "wikidata_heads.json"]))
    # 7 rows: one duplicate (the country's and the office's statement of one tenure), one without start.
    assert result.rows == 5
    assert result.persons_merged == 2  # Putin and Biden, by their Wikidata ids
    now = leaders_on(store, E + "state/RUS", date(2025, 1, 1), "head-of-state", ["wikidata"])
    (putin,) = now["leaders"]
    assert putin["person"]["id"] == E + "person/vladimir-putin"
    assert (
        putin["ongoing_as_of"] == "2025-06-01" and putin["office"]["id"] == E + "office/president-of-russia"
    )
    us = leaders_on(store, E + "state/USA", date(2022, 1, 1), sources=["wikidata"])
    assert sorted(r["role"] for r in us["leaders"]) == ["HeadOfGovernment", "HeadOfState"]
    assert {r["person"]["id"] for r in us["leaders"]} == {E + "person/joe-biden"}
    # Precision kept: "1998-10-01" with precision 10 is the month 1998-10.
    kohl = leaders_on(store, E + "state/DEU", date(1990, 1, 1), "head-of-government")
    assert [(r["person"]["label"], r["end"]) for r in kohl["leaders"]] == [("Helmut Kohl", "1998-10")]


def test_the_bundled_tenure_and_a_datasets_are_two_rows_of_one_relation(store: Store) -> None:
    run_import(store, "wikidata", read_files([DATA / "wikidata_heads.json"]))
    answer = leaders_on(store, E + "state/RUS", date(2025, 1, 1), "head-of-state")
    rows = [
        (r["tenure"].removeprefix(E), [s["id"].removeprefix(E) for s in r["sources"]], r["ongoing_as_of"])
        for r in answer["leaders"]
    ]
    assert rows == [
        ("tenure/wikidata-heads/q159-p35-putin-2012", ["source/wikidata-heads"], "2025-06-01"),
        (
            "tenure/vladimir-putin/president-of-russia/2012-05-07",
            ["source/wikipedia-vladimir-putin"],
            "2025-01-20",
        ),
    ]
    # The bundled tenure states no pg:readingOf; its relation is the key Wikidata's states.
    assert {r["relation"] for r in answer["leaders"]} == {
        E + "relation/head-of-state/state/RUS/person/vladimir-putin"
    }
    assert answer["leaders"][0]["reading_of"] == answer["leaders"][0]["relation"]
    assert answer["leaders"][1]["reading_of"] is None
    (relation,) = answer["relations"]
    assert relation["sources"] == [E + "source/wikidata-heads", E + "source/wikipedia-vladimir-putin"]
    assert answer["leaders"][0]["other_readings"] == [answer["leaders"][1]["tenure"]]
    # 2025-03-01: after the bundled as-of day (2025-01-20), before Wikidata's answer (2025-06-01).
    march = leaders_on(store, E + "state/RUS", date(2025, 3, 1), "head-of-state")
    assert [(r["source"]["id"].removeprefix(E), r["certain"]) for r in march["leaders"]] == [
        ("source/wikidata-heads", True),
        ("source/wikipedia-vladimir-putin", False),
    ]
    assert (
        leaders_on(store, E + "state/RUS", date(2025, 3, 1), "head-of-state", ["wikidata"])["caveats"] == []
    )


def test_a_path_through_an_imported_leader_reads_well_and_cites_its_dataset(
    store: Store, tmp_path: Path
) -> None:
    dta = write_archigos(tmp_path / "Archigos_4.1_stata14.dta", ARCHIGOS_ROWS)
    run_import(store, "archigos", read_files([dta]), review_dir=tmp_path)
    proj = build(store)
    # "GDR-1971,lead-honecker,265,GDR,Honecker,1971-05-03,1989-10-18,…": no office, the state and role.
    honecker = find_paths(
        proj, PathQuery((E + "person/honecker",), E + "state/german-democratic-republic", 2, 1)
    )
    assert [p["text"] for p in honecker["paths"][0]["paths"]] == [
        "Honecker led German Democratic Republic from 1971-05-03 until 1989-10-18 [archigos-4.1]."
    ]
    # "RUS-2000,lead-putin,365,RUS,Putin,2000-01-01,2015-12-31,…,Still in Office": the bundled person.
    putin = find_paths(proj, PathQuery((E + "person/vladimir-putin",), E + "state/RUS", 2, 3))
    assert [p["text"] for p in putin["paths"][0]["paths"]] == [
        "Vladimir Putin led Russia since 2000-01-01, ongoing as of 2015-12-31 [archigos-4.1].",
        "Vladimir Putin led Russia as President of Russia from 2000-05-07 until 2008-05-07 "
        "[wikipedia-vladimir-putin].",
        "Vladimir Putin led Russia as President of Russia since 2012-05-07, ongoing as of 2025-01-20 "
        "[wikipedia-vladimir-putin].",
    ]
    back = find_paths(proj, PathQuery((E + "state/german-democratic-republic",), E + "person/honecker", 2, 1))
    assert [p["text"] for p in back["paths"][0]["paths"]] == [
        "German Democratic Republic was led by Honecker from 1971-05-03 until 1989-10-18 [archigos-4.1]."
    ]


def test_a_minimum_claim_status(store: Store) -> None:
    # The bundled Syrian head of state is a reported claim (no office made him so on 2025-01-20).
    every = leaders_on(store, E + "state/SYR", date(2025, 1, 20))
    assert [(r["person"]["label"], r["status"]) for r in every["leaders"]] == [
        ("Mohammed al-Bashir", "confirmed"),
        ("Ahmed al-Sharaa", "reported"),
    ]
    assert [
        r["person"]["label"]
        for r in leaders_on(store, E + "state/SYR", date(2025, 1, 20), status="reported")["leaders"]
    ] == [
        "Mohammed al-Bashir",
        "Ahmed al-Sharaa",
    ]
    assert [
        r["person"]["label"]
        for r in leaders_on(store, E + "state/SYR", date(2025, 1, 20), status="confirmed")["leaders"]
    ] == ["Mohammed al-Bashir"]
    spells = person_spells(store, E + "person/ahmed-al-sharaa", status="confirmed")
    assert spells["spells"] == []
    with pytest.raises(PactgraphError, match="status must be one of confirmed, reported, disputed, denied"):
        leaders_on(store, E + "state/SYR", date(2025, 1, 20), status="probable")
