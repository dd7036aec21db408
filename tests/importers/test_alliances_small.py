"""The ATOP, DESTA, GSDB and OpenSanctions importers and the alliance, agreement and sanction
questions on small files written by hand in each dataset's format (runs everywhere). The FtM file
is written with the followthemoney library's own model."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pactgraph.graph import Kind, PactgraphError, Store
from pactgraph.graph.alliances import (
    agreement_parties,
    agreements_between,
    agreements_of,
    allied_on,
    members_on,
    readings,
    sanctions_against,
)
from pactgraph.graph.importers import InputFile, read_files, run_import
from pactgraph.ontology import ENTITY_BASE, GRAPH_BASE, PG
from tests.conftest import missing
from tests.importers.conftest import DATA
from tests.importers.test_small_files import graph_quads

E = ENTITY_BASE
ATOP = [DATA / "atop_member_small.csv", DATA / "atop_alliance_small.csv"]


def by_source(answer: dict, key: str) -> dict[str, list]:
    return {p["source"]["id"].rsplit("/", 1)[-1]: p[key] for p in answer["per_source"]}


# ---------------------------------------------------------------------------------------- ATOP


def test_atop_parties_phases_and_the_link_to_nato(store: Store) -> None:
    result = run_import(store, "atop", read_files(ATOP))
    assert result.graph == GRAPH_BASE + "atop-4.01" and result.rows == 12 and not result.skipped
    # "9990,9999,1874,3,,…": 9999 is no COW number: an unmatched actor, said in the notes.
    assert result.notes == [
        "member 9999 (member-level line(s) 10) is in no state code list:"
        " kept as the unmatched actor actor/atop-4.01/cow-9999, not guessed"
    ]
    assert store.query(
        f"ASK {{ <{E}org/nato> <{PG.foundingTreaty}> <{E}agreement/atop-3180> ."
        f" <{E}agreement/atop-3180> a <{PG.DefencePact}> ; <{PG.signingDate}> ?d ."
        f" <{E}actor/atop-4.01/cow-9999> a <{PG.UnmatchedActor}> }}"
    ).askAnswer
    # "3180,290,1997,12,16,0,0,0,1,2,1,0,0,1,1": Poland from the day its protocol was signed.
    nato = members_on(store, E + "org/nato", date(1998, 1, 1))
    members = by_source(nato, "members")
    assert [m["member"]["label"] for m in members["atop-4.01"]] == [
        "Poland",
        "United Kingdom",
        "United States",
    ]
    poland = members["atop-4.01"][0]
    # Still in force at the end of the data: ongoing as of the last day of its latest year (here 1997).
    assert (poland["start"], poland["ongoing_as_of"], poland["phase"]) == ("1997-12-16", "1997-12-31", 2)
    assert poland["obligations"] == ["consultation", "defence", "non-aggression"]
    assert len(members["nato-member-countries"]) == 16  # the bundled list: Poland only from 1999
    assert "state/POL" not in {m["member"]["id"].removeprefix(E) for m in members["nato-member-countries"]}
    # The day phase 2 begins ("…,1951,6,19" ends phase 1 and starts phase 2): once, in phase 2.
    on_change = by_source(members_on(store, E + "agreement/atop-3180", date(1951, 6, 19)), "members")
    assert [(m["member"]["label"], m["phase"]) for m in on_change["atop-4.01"]] == [
        ("United Kingdom", 2),
        ("United States", 2),
    ]


def test_atop_exits_are_exclusive_and_days_may_be_missing(store: Store) -> None:
    run_import(store, "atop", read_files(ATOP))
    # "2470,…,1941,6,22": the first day the pact no longer held.
    pact = E + "agreement/atop-2470"
    assert len(members_on(store, pact, date(1941, 6, 21))["per_source"][0]["members"]) == 2
    assert members_on(store, pact, date(1941, 6, 22))["per_source"] == []
    # "9990,220,1874,3,,…": entry in March 1874, day unknown: a day inside it is not certain.
    (early,) = members_on(store, E + "agreement/atop-9990", date(1874, 3, 10))["per_source"]
    assert {m["certain"] for m in early["members"]} == {False}
    (later,) = members_on(store, E + "agreement/atop-9990", date(1874, 4, 1))["per_source"]
    assert {m["certain"] for m in later["members"]} == {True}


def test_two_sources_disagree_on_poland_in_nato(store: Store) -> None:
    run_import(store, "atop", read_files(ATOP))
    answer = readings(store, E + "org/nato", E + "state/POL")
    (rel,) = answer["relations"]
    assert rel["relation"] == E + "relation/membership/state/POL/org/nato"
    assert rel["agree"] is False and rel["differs_in"] == ["start"]
    assert [(s["source"]["id"].rsplit("/", 1)[-1], s["start"]) for s in rel["per_source"]] == [
        ("atop-4.01", "1997-12-16"),
        ("nato-member-countries", "1999-03-12"),
    ]
    # Every member the two sources disagree on: ATOP lists three members, the bundled list 32.
    everyone = readings(store, E + "org/nato")
    silent = {r["member"]["id"].removeprefix(E) for r in everyone["relations"] if r["silent"]}
    assert "state/FRA" in silent and "state/POL" not in silent
    only_atop = readings(store, E + "org/nato", E + "state/POL", ["atop"])
    assert [s["id"] for s in only_atop["sources"]] == [E + "source/atop-4.01"]
    assert only_atop["relations"][0]["agree"] is True


def test_allied_with_a_defence_obligation_per_source(store: Store) -> None:
    run_import(store, "atop", read_files(ATOP))
    before = allied_on(store, E + "state/POL", E + "state/USA", date(1998, 6, 1))
    assert before["allied"] is True and before["defence"] is True
    assert [a["source"]["id"].rsplit("/", 1)[-1] for a in before["per_source"]] == ["atop-4.01"]
    (through,) = before["per_source"][0]["through"]
    assert through["alliance"]["id"] == E + "agreement/atop-3180"
    assert (through["x_defends_y"], through["y_defends_x"]) == (True, True)
    after = allied_on(store, E + "state/POL", E + "state/USA", date(2000, 6, 1))
    per = {a["source"]["id"].rsplit("/", 1)[-1]: a for a in after["per_source"]}
    assert set(per) == {"atop-4.01", "nato-member-countries"}
    assert per["nato-member-countries"]["defence"] is None  # the bundled list states no obligations
    # Neutrality and non-aggression only: allied, not under a defence obligation.
    pact = allied_on(store, E + "state/RUS", E + "state/DEU", date(1940, 1, 1))
    assert (pact["allied"], pact["defence"]) == (True, False)
    with pytest.raises(PactgraphError, match="two different states"):
        allied_on(store, E + "state/POL", E + "state/POL", date(2000, 1, 1))


def test_atop_refuses_a_wrong_or_incomplete_file_and_lists_bad_rows(store: Store) -> None:
    before = store.graph_names()
    with pytest.raises(PactgraphError, match="ATOP needs both of its files; missing the alliance-level"):
        run_import(store, "atop", read_files([DATA / "atop_member_small.csv"]))
    with pytest.raises(PactgraphError, match=r"not a ATOP member-level .*missing column\(s\) atopid, member"):
        run_import(store, "atop", read_files([DATA / "states_small.csv", ATOP[1]]))
    with pytest.raises(PactgraphError) as err:
        run_import(store, "atop", read_files([DATA / "atop_member_badrow.csv", ATOP[1]]))
    assert err.value.detail == [
        {
            "file": "atop_member_badrow.csv",
            "line": 3,
            "message": "entry (yrent, moent, dayent) is not a date: '1949'-'13'-'4'",
        }
    ]
    assert store.graph_names() == before
    skipped = run_import(
        store, "atop", read_files([DATA / "atop_member_badrow.csv", ATOP[1]]), skip_bad_rows=True
    )
    assert [(e.file, e.line) for e in skipped.skipped] == [("atop_member_badrow.csv", 3)]


def test_atop_reimport_is_idempotent(store: Store) -> None:
    run_import(store, "atop", read_files(ATOP))
    first = graph_quads(store, GRAPH_BASE + "atop-4.01")
    run_import(store, "atop", read_files(ATOP))
    assert graph_quads(store, GRAPH_BASE + "atop-4.01") == first


# ---------------------------------------------------------------------------------------- DESTA


def test_desta_parties_accessions_withdrawals(store: Store) -> None:
    result = run_import(store, "desta", read_files([DATA / "desta_small.csv"]))
    assert result.graph == GRAPH_BASE + "desta-2003" and result.rows == 7
    assert result.notes == [
        "1 consolidated row(s) not written (lines 6)",
        "1 negotiation row(s) not written (lines 8)",
        "ISO numeric code 900 (line(s) 7) is no state's: kept as the unmatched actor actor/desta-2003/iso-900,"
        " not guessed",
    ]
    answer = agreement_parties(store, E + "agreement/desta-1")
    parties = {p["party"]["label"]: p for p in answer["per_source"][0]["parties"]}
    assert answer["per_source"][0]["count"] == 8
    assert (parties["Austria"]["signature"], parties["Austria"]["entry_into_force"]) == ("1960", "1960")
    assert (parties["Iceland"]["accession"], parties["Iceland"]["start"]) == ("1970", "1970")
    assert (parties["Denmark"]["end"], parties["Denmark"]["withdrawal"]) == ("1973", "1973")
    assert parties["Switzerland"]["end"] is None  # marked 2 in the withdrawal row: stays
    # The protocol amends the base treaty and has its own parties.
    proto = agreement_parties(store, E + "agreement/desta-2")
    assert proto["dates"]["amends"] == E + "agreement/desta-1"
    shared = agreements_between(store, E + "state/NOR", E + "state/CHE")
    assert [a["agreement"]["id"].removeprefix(E) for a in shared["agreements"]] == [
        "agreement/desta-1",
        "agreement/desta-2",
    ]
    # In 1973 the UK withdrew (a year: a day of 1973 is possible, not certain); not in 1974.
    uk = agreements_of(store, E + "state/GBR", date(1973, 6, 1))
    (row,) = uk["per_source"][0]["agreements"]
    assert (row["agreement"]["id"], row["certain"], row["in_force"]) == (E + "agreement/desta-1", False, True)
    assert agreements_of(store, E + "state/GBR", date(1974, 6, 1))["per_source"] == []


def test_desta_refuses_a_comma_separated_file(store: Store) -> None:
    with pytest.raises(PactgraphError) as err:
        run_import(store, "desta", read_files([DATA / "states_small.csv"]))
    assert (
        err.value.kind == Kind.BAD_INPUT
        and "missing column(s) number, base_treaty, name" in err.value.message
    )


# ---------------------------------------------------------------------------------------- GSDB


def test_gsdb_names_blocs_years_and_running_cases(store: Store) -> None:
    result = run_import(store, "gsdb", read_files([DATA / "gsdb_small.csv"]))
    assert result.graph == GRAPH_BASE + "gsdb-v3" and result.rows == 6
    assert result.notes == [
        "'Hong Kong' (1 case(s), line(s) 5) matches no state or organisation: kept as an unmatched actor"
    ]
    # "9001,Russia,"EU, Montenegro, Iceland",2014,2022,…": three senders; 2022 is the data's last year.
    russia = sanctions_against(store, E + "state/RUS", year=2014, sources=["gsdb"])
    (case,) = russia["sanctions"]
    assert case["case_id"] == "9001" and case["kind"] == "SanctionsCase"
    assert [s["id"].removeprefix(E) for s in case["senders"]] == ["org/eu", "state/ISL", "state/MNE"]
    assert (case["start"], case["end"], case["ongoing_as_of"]) == ("2014", None, "2022-12-31")
    assert case["measure_types"] == ["arms", "financial", "trade", "travel"]
    assert case["objectives"] == ["ending a war", "policy change"] and case["outcomes"] == ["ongoing"]
    # The bundled data's EU sanctions on Russia (2014-03-17) answer too, under their own source.
    both = sanctions_against(store, E + "state/RUS", year=2014, sender=E + "org/eu")
    assert {
        (s["sanction"]["id"].removeprefix(E), s["source"]["id"].rsplit("/", 1)[-1]) for s in both["sanctions"]
    } == {
        ("sanction/gsdb-v3/9001", "gsdb-v3"),
        ("sanction/eu-russia-ukraine", "eurlex-decision-2014-145"),
    }
    # "G7, EU" from 2022: in force on a day of 2022, trade only.
    in_2022 = sanctions_against(
        store, E + "state/RUS", day=date(2022, 6, 1), measure="trade", sources=["gsdb"]
    )
    assert [s["case_id"] for s in in_2022["sanctions"]] == ["9001", "9006"]
    assert [s["certain"] for s in in_2022["sanctions"]] == [True, False]  # 2022 may have begun after June
    # "Gambia, The" is the Gambia; "Yemen, North" is Yemen for a case of 2014, the YAR for one of 1979.
    assert sanctions_against(store, E + "state/GMB")["sanctions"][0]["case_id"] == "9002"
    assert [s["case_id"] for s in sanctions_against(store, E + "state/YEM")["sanctions"]] == ["9003"]
    yar = sanctions_against(store, E + "state/yemen-arab-republic")
    assert [(s["case_id"], s["end"]) for s in yar["sanctions"]] == [("9005", "1981")]
    detail = store.select(f"SELECT ?d WHERE {{ <{E}sanction/gsdb-v3/9003> <{PG.outcomeDetail}> ?d }}")
    assert [str(r["d"]) for r in detail] == ["end war: ongoing; terrorism: failed"]
    with pytest.raises(PactgraphError, match="measure is one of trade"):
        sanctions_against(store, E + "state/RUS", measure="cyber")


def test_gsdb_refuses_another_datasets_file(store: Store) -> None:
    with pytest.raises(PactgraphError, match=r"missing column\(s\) case_id, sanctioned_state"):
        run_import(store, "gsdb", read_files([DATA / "un_members_small.csv"]))


# ---------------------------------------------------------------------------------------- OpenSanctions


@pytest.fixture
def model() -> Any:
    """followthemoney's model: the library is the optional extra pactgraph[opensanctions]
    (.ci/run installs it, with the ICU headers its PyICU builds against)."""
    try:
        from followthemoney import model
    except ImportError:
        missing("followthemoney is missing: pip install 'pactgraph[opensanctions]' (.ci/run does)")
    return model


def ftm_file(model: Any, path: Path) -> Path:
    """An entities.ftm.json written with followthemoney's own model."""
    putin = model.make_entity("Person")
    putin.id = "Q7747-test"
    putin.add("name", "Vladimir Vladimirovich Putin")
    putin.add("wikidataId", "Q7747")
    putin.add("birthDate", "1952-10-07")
    group = model.make_entity("Organization")
    group.id = "org-wagner-test"
    group.add("name", "Wagner Group")
    vessel = model.make_entity("Vessel")
    vessel.id = "vessel-test"
    vessel.add("name", "Test Tanker")
    address = model.make_entity("Address")
    address.id = "addr-test"
    address.add("full", "1 Test Street")
    s1 = model.make_entity("Sanction")
    s1.id = "eu-putin-test"
    s1.add("entity", putin.id)
    s1.add("authority", "Council of the European Union")
    s1.add("program", "EU restrictive measures over Ukraine")
    s1.add("country", "eu")
    s1.add("listingDate", "2022-02-25")
    s2 = model.make_entity("Sanction")
    s2.id = "us-wagner-test"
    s2.add("entity", group.id)
    s2.add("authority", "Office of Foreign Assets Control")
    s2.add("country", "us")
    s2.add("startDate", "2023-01")
    s2.add("endDate", "2024-12-31")
    s3 = model.make_entity("Sanction")
    s3.id = "us-vessel-test"
    s3.add("entity", vessel.id)
    s3.add("country", "us")
    s3.add("listingDate", "2023-05-01")
    lines = []
    for e in (putin, group, vessel, address, s1, s2, s3):
        data = e.to_dict()
        data["last_seen"] = "2025-06-01T00:00:00"
        lines.append(json.dumps(data))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_opensanctions_listings_linked_to_known_entities(store: Store, model: Any, tmp_path: Path) -> None:
    result = run_import(store, "opensanctions", read_files([ftm_file(model, tmp_path / "entities.ftm.json")]))
    assert result.graph == GRAPH_BASE + "opensanctions-2025-06-01" and result.rows == 7
    assert result.notes == [
        "1 entities no Sanction lists, not written: Address 1",
        "listings of things pactgraph models no actor for, not written: Vessel 1",
        "listed entities matched to entities already known: 1 by Wikidata id",
    ]
    # Putin is the bundled person (Wikidata Q7747), listed by the EU since 2022-02-25.
    putin = sanctions_against(store, E + "person/vladimir-putin", sources=["opensanctions"])
    (listing,) = putin["sanctions"]
    assert listing["kind"] == "SanctionListing" and listing["senders"][0]["id"] == E + "org/eu"
    assert (listing["start"], listing["ongoing_as_of"]) == ("2022-02-25", "2025-06-01")
    assert listing["programmes"] == ["EU restrictive measures over Ukraine"]
    wagner = sanctions_against(store, E + "org/wagner-group", day=date(2024, 6, 1))
    assert [(s["senders"][0]["id"], s["start"], s["end"]) for s in wagner["sanctions"]] == [
        (E + "state/USA", "2023-01", "2024-12-31")
    ]
    assert sanctions_against(store, E + "org/wagner-group", day=date(2025, 1, 1))["count"] == 0


def test_opensanctions_refuses_a_csv_and_lists_bad_lines(store: Store, model: Any, tmp_path: Path) -> None:
    with pytest.raises(PactgraphError, match="not an OpenSanctions FtM file"):
        run_import(store, "opensanctions", read_files([DATA / "states_small.csv"]))
    good = ftm_file(model, tmp_path / "entities.ftm.json").read_text().splitlines()
    bad = [good[0], '{"id": "x", "schema": "Spaceship", "properties": {}}', "not json", *good[1:]]
    with pytest.raises(PactgraphError) as err:
        run_import(store, "opensanctions", [InputFile("entities.ftm.json", "\n".join(bad).encode())])
    assert [d["line"] for d in err.value.detail] == [2, 3]
    result = run_import(
        store, "opensanctions", [InputFile("entities.ftm.json", "\n".join(bad).encode())], skip_bad_rows=True
    )
    assert [e.line for e in result.skipped] == [2, 3]


# ---------------------------------------------------------------------------------------- bundled


def test_the_cspa_parties_and_who_signed_for_them(store: Store) -> None:
    answer = agreement_parties(store, E + "agreement/russia-iran-cspa-2025")
    (per,) = answer["per_source"]
    assert [(p["party"]["label"], p["signature"], p["signer"]["label"]) for p in per["parties"]] == [
        ("Iran", "2025-01-17", "Masoud Pezeshkian"),
        ("Russia", "2025-01-17", "Vladimir Putin"),
    ]
    between = agreements_between(store, E + "state/RUS", E + "state/IRN")
    assert [a["agreement"]["id"] for a in between["agreements"]] == [E + "agreement/russia-iran-cspa-2025"]
    assert agreements_of(store, E + "state/RUS", date(2025, 1, 16))["per_source"] == []


def test_each_release_stands_alone_in_an_empty_store(tmp_path: Path) -> None:
    from pactgraph.graph import load_ontology, open_store

    empty = open_store(f"oxigraph:{tmp_path / 'empty'}")
    try:
        load_ontology(empty)
        # Each graph describes the states and organisations it names (a state with no COW or GW
        # number, such as Palestine, by its ISO code), so it validates without the bundled data.
        run_import(empty, "atop", read_files(ATOP))
        run_import(empty, "desta", read_files([DATA / "desta_small.csv"]))
        run_import(empty, "gsdb", read_files([DATA / "gsdb_small.csv"]))
        graphs = {str(g).removeprefix(GRAPH_BASE) for g in empty.graph_names()}
        assert {"atop-4.01", "desta-2003", "gsdb-v3"} <= graphs
        nato = members_on(empty, E + "org/nato", date(1998, 1, 1))
        assert [src["source"]["id"] for src in nato["per_source"]] == [E + "source/atop-4.01"]
    finally:
        empty.close()


def test_paths_name_a_shared_alliance_with_its_source(store: Store) -> None:
    from pactgraph.graph.paths import PathQuery, find_paths
    from pactgraph.graph.projection import build

    run_import(store, "atop", read_files(ATOP))
    answer = find_paths(
        build(store),
        PathQuery(sources=(E + "state/POL", E + "state/USA"), target=E + "state/GBR", max_hops=4),
    )
    shared = {c["node"]["id"]: c["text"] for c in answer["connections"]}
    # Poland through its own party record, the United States as a signatory: ATOP's 3180 is shared.
    assert shared[E + "agreement/atop-3180"].startswith(
        "Poland is a party to ATOP alliance 3180: North Atlantic Treaty"
    )
    assert "since 1997-12-16, ongoing as of 1997-12-31 [atop-4.01]" in shared[E + "agreement/atop-3180"]
    # NATO itself, with the bundled list's date for Poland under its own source.
    assert (
        "Poland is a member of North Atlantic Treaty Organization since 1999-03-12 [nato-member-countries]"
        in (shared[E + "org/nato"])
    )


def test_opensanctions_without_followthemoney_says_how_to_install(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "followthemoney", None)  # as on a machine without the extra
    entity = InputFile("entities.ftm.json", b'{"id": "x", "schema": "Person", "properties": {}}\n')
    with pytest.raises(PactgraphError, match=r"pip install 'pactgraph\[opensanctions\]'") as err:
        run_import(store, "opensanctions", [entity])
    assert err.value.kind is Kind.UNAVAILABLE
