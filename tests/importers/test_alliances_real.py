"""ATOP 4.01, DESTA and the GSDB V3 subset from ../shared/datasets (CI has them; elsewhere skipped
with the reason), imported into a store with the bundled data, and the five questions on them.
Each expected answer was checked by hand against the raw rows quoted beside it (ATOP member-level
rows as "atopid,…,member,cowsys,yrent,moent,dayent,yrexit,moexit,dayexit,ineffect,bilat,phase",
then "defense" where it matters)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from pactgraph.graph import Store
from pactgraph.graph.alliances import (
    agreement_parties,
    agreements_between,
    agreements_of,
    allied_on,
    members_on,
    readings,
    sanctions_against,
)
from pactgraph.graph.importers import ImportResult, read_files, run_import
from pactgraph.ontology import ENTITY_BASE
from tests.importers.conftest import DATASETS, bundled_store

E = ENTITY_BASE
FILES = {
    "atop": [
        DATASETS / "atop-4.01" / "atop-member-level.csv",
        DATASETS / "atop-4.01" / "atop-alliance-level.csv",
    ],
    "desta": [DATASETS / "desta" / "DESTA.csv"],
    "gsdb": [DATASETS / "gsdb-v3-subset" / "GSDB_V3_subset_end_ge_2013.csv"],
}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path
) -> Iterator[tuple[Store, dict[str, ImportResult]]]:
    for paths in FILES.values():
        for p in paths:
            if not p.exists():
                pytest.skip(f"the real file {p} is not here: the datasets are not redistributed")
    tmp: Path = tmp_path_factory.mktemp("alliances-real")
    store = bundled_store(bundled_seed, tmp / "store")
    results = {name: run_import(store, name, read_files(paths)) for name, paths in FILES.items()}
    yield store, results
    store.close()


def src(answer_part: dict) -> str:
    return answer_part["source"]["id"].rsplit("/", 1)[-1]


def test_every_row_is_read_and_what_is_not_mapped_is_said(
    world: tuple[Store, dict[str, ImportResult]],
) -> None:
    _store, results = world
    assert {n: (r.graph.rsplit("/", 1)[-1], r.rows, len(r.skipped)) for n, r in results.items()} == {
        "atop": ("atop-4.01", 2398 + 745, 0),
        "desta": ("desta-2020", 1217, 0),
        "gsdb": ("gsdb-v3", 588, 0),
    }
    # Member-level line 203: "1320,,,8152,0,1874,…": 8152 is no COW number.
    assert results["atop"].notes == [
        "member 8152 (member-level line(s) 203) is in no state code list:"
        " kept as the unmatched actor actor/atop-4.01/cow-8152, not guessed"
    ]
    desta = "\n".join(results["desta"].notes)
    assert "30 consolidated row(s) not written" in desta and "82 negotiation row(s) not written" in desta
    assert "ISO numeric code 900 (line(s) 12, 246, 780, 921, 928, 1158, 1200) is no state's" in desta
    gsdb = "\n".join(results["gsdb"].notes)
    assert "'Hong Kong' (3 case(s), line(s) 418, 514, 523) matches no state or organisation" in gsdb
    assert "Gambia" not in gsdb  # "Gambia, The" is the Gambia


def test_nato_members_on_a_day_per_source(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # ATOP 3180, phase 2, in force on 1998-06-01: the twelve of "…,1951,6,19,0,0,0,1,0,2" (lines
    # 841-852), "350"/"640" 1951-10-22, "230" 1981-12-10, "255" 1990-10-03, and
    # "3180,3521,227,290,1,1997,12,16,0,0,0,1,0,2" with 310 and 316 (lines 858-860): 19.
    # The bundled memberships.csv: 12 founders, GRC and TUR 1952, DEU 1955, ESP 1982: 16;
    # "membership,state/POL,org/nato,1999-03-12,…" not yet.
    answer = members_on(store, E + "org/nato", date(1998, 6, 1))
    counts = {src(p): p["count"] for p in answer["per_source"]}
    assert counts == {"atop-4.01": 19, "nato-member-countries": 16}
    atop = next(p["members"] for p in answer["per_source"] if src(p) == "atop-4.01")
    poland = next(m for m in atop if m["member"]["id"] == E + "state/POL")
    assert (poland["start"], poland["phase"], poland["via"]["id"]) == (
        "1997-12-16",
        2,
        E + "agreement/atop-3180",
    )
    assert "defence" in poland["obligations"]  # its row's defense is 1


def test_allied_per_source_and_through_which_alliances(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # Rows of both 255 (Germany) and 290 (Poland) in force on 1998-06-01 (exits exclusive):
    # 3180 (1990-10-03 and 1997-12-16, defense 1 both), 3740 (both 1990-11-21, defense 0) and
    # "4035,,,255,1,1991,6,17,0,0,0,1,1,0" / "4035,,,290,1,1991,6,17,…" (defense 0).
    answer = allied_on(store, E + "state/POL", E + "state/DEU", date(1998, 6, 1))
    assert answer["allied"] is True and answer["defence"] is True
    (atop,) = answer["per_source"]  # the bundled list has Poland in NATO only from 1999-03-12
    through = {
        t["alliance"]["id"].removeprefix(E): (t["x_defends_y"], t["y_defends_x"]) for t in atop["through"]
    }
    assert through == {
        "agreement/atop-3180": (True, True),
        "agreement/atop-3740": (False, False),
        "agreement/atop-4035": (False, False),
    }
    later = allied_on(store, E + "state/POL", E + "state/DEU", date(2000, 1, 1))
    per = {src(p): p for p in later["per_source"]}
    assert set(per) == {"atop-4.01", "nato-member-countries"}
    assert per["nato-member-countries"]["defence"] is None  # memberships.csv states no obligations
    only = allied_on(store, E + "state/POL", E + "state/DEU", date(2000, 1, 1), ["nato-member-countries"])
    assert [src(p) for p in only["per_source"]] == ["nato-member-countries"] and only["defence"] is None


def test_agreement_parties_and_agreements_between(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # ATOP 4220 (lines 1714-1729): 365, 371, 702, 703, 704, 705 from 1992-05-15, 373 1993-09-24,
    # 372 1993-12-09, 370 1994-01-03: nine parties. memberships.csv's org/csto rows: RUS, KAZ,
    # KGZ, TJK, BLR, ARM from 1994-04-20 and "state/UZB,org/csto,2006,2012": seven.
    csto = agreement_parties(store, E + "org/csto")
    assert {src(p): p["count"] for p in csto["per_source"]} == {"atop-4.01": 9, "wikipedia-csto": 7}
    assert [x["id"] for x in csto["linked"]] == [E + "agreement/atop-4220"]
    # "4220,,350,704,1,1992,5,15,1999,4,20,…" and "4220,,350,704,1,2006,8,17,2012,6,28,…"
    uzb = [
        (p["start"], p["end"])
        for per in csto["per_source"]
        if src(per) == "atop-4.01"
        for p in per["parties"]
        if p["party"]["id"] == E + "state/UZB"
    ]
    assert uzb == [("1992-05-15", "1999-04-20"), ("2006-08-17", "2012-06-28")]
    # Russia (365) and Iran (630) share ATOP alliances 2195, 2550, 2555 and 4968; DESTA's
    # "995";995;"Eurasian Economic Union (EAEU) Iran";"base_treaty";0;2018;… lists 643 and 364;
    # and the bundled CSPA.
    between = agreements_between(store, E + "state/RUS", E + "state/IRN")
    assert sorted(a["agreement"]["id"].removeprefix(E + "agreement/") for a in between["agreements"]) == [
        "atop-2195",
        "atop-2550",
        "atop-2555",
        "atop-4968",
        "desta-995",
        "russia-iran-cspa-2025",
    ]


def test_agreements_of_iceland_on_a_day(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # DESTA rows with 352 up to 1980: "313";313;"EC Iceland";"base_treaty";0;1972;1973;…,
    # "375+1";375;"EFTA Iceland accession";"accession";0;1969;1970;… (352 marked 1),
    # "400";400;"EFTA Spain";"base_treaty";0;1979;1980;… ; no withdrawal of 352.
    answer = agreements_of(store, E + "state/ISL", date(1980, 6, 1), ["desta"])
    (per,) = answer["per_source"]
    assert [
        (a["agreement"]["id"].removeprefix(E), a["start"], a.get("accession"), a["in_force"])
        for a in per["agreements"]
    ] == [
        ("agreement/desta-375", "1969", "1969", True),
        ("agreement/desta-313", "1972", None, True),
        ("agreement/desta-400", "1979", None, True),
    ]


def test_sanctions_against_russia(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # GSDB rows with Russia as target and begin 2014: cases 998 (Australia), 999 (Canada), 1000 (EU),
    # 1001 ("EU, Montenegro, Iceland, Albania, Liechtenstein, Norway, Ukraine"), 1002 (Japan),
    # 1003 (New Zealand), 1004 (Switzerland), 1005 (United States); the bundled US and EU sanctions
    # over Ukraine start 2014-03-06 and 2014-03-17.
    begun = sanctions_against(store, E + "state/RUS", year=2014)
    assert sorted((s["case_id"] or s["sanction"]["id"].rsplit("/", 1)[-1]) for s in begun["sanctions"]) == [
        "1000", "1001", "1002", "1003", "1004", "1005", "998", "999", "eu-russia-ukraine", "us-russia-ukraine",
    ]  # fmt: skip
    # "998,Russia,Australia,2014,2022,1,exp_part,1,…", "1000,Russia,EU,…,1,1,1,0,…", "1004,…,1,1,1,0":
    # arms 1; the bundled ones state no measure types.
    arms = sanctions_against(store, E + "state/RUS", year=2014, measure="arms")
    assert [s["case_id"] for s in arms["sanctions"]] == ["1000", "1004", "998"]
    eu = sanctions_against(store, E + "state/RUS", year=2014, sender=E + "org/eu")
    assert {(src(s), s["case_id"] or "") for s in eu["sanctions"]} == {
        ("gsdb-v3", "1000"),
        ("gsdb-v3", "1001"),
        ("eurlex-decision-2014-145", ""),
    }
    case = next(s for s in eu["sanctions"] if s["case_id"] == "1001")
    assert len(case["senders"]) == 7 and case["ongoing_as_of"] == "2022-12-31"  # end 2022: still running
    only_gsdb = sanctions_against(store, E + "state/RUS", year=2014, sources=["gsdb"])
    assert only_gsdb["count"] == 8 and [s["id"] for s in only_gsdb["sources"]] == [E + "source/gsdb-v3"]


def test_where_the_sources_disagree(world: tuple[Store, dict[str, ImportResult]]) -> None:
    store, _ = world
    # Poland in NATO: ATOP "3180,…,290,1,1997,12,16,0,0,0,1,0,2" (the accession protocol's signature)
    # against memberships.csv "membership,state/POL,org/nato,1999-03-12,…" (its accession).
    (poland,) = readings(store, E + "org/nato", E + "state/POL")["relations"]
    assert poland["agree"] is False and poland["differs_in"] == ["start"]
    assert [(src(p), p["start"], p["end"], p["ongoing_as_of"]) for p in poland["per_source"]] == [
        ("atop-4.01", "1997-12-16", None, "2016-12-31"),
        ("nato-member-countries", "1999-03-12", None, None),
    ]
    # Uzbekistan in the CSTO: ATOP twice to the day, memberships.csv "state/UZB,org/csto,2006,2012".
    (uzb,) = readings(store, E + "org/csto", E + "state/UZB")["relations"]
    assert [(src(p), [(r["start"], r["end"]) for r in p["readings"]]) for p in uzb["per_source"]] == [
        ("atop-4.01", [("1992-05-15", "1999-04-20"), ("2006-08-17", "2012-06-28")]),
        ("wikipedia-csto", [("2006", "2012")]),
    ]
    # Azerbaijan: "4220,,350,373,1,1993,9,24,1999,4,20,…" in ATOP; memberships.csv has no row: silent.
    (aze,) = readings(store, E + "org/csto", E + "state/AZE")["relations"]
    assert [src(p) for p in aze["per_source"]] == ["atop-4.01"]
    assert [s["id"] for s in aze["silent"]] == [E + "source/wikipedia-csto"] and aze["differs_in"] == [
        "stated"
    ]
