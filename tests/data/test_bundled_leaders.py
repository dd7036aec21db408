"""The bundled heads of state and government (as of 2025-01-20) and UN admissions, on the
bundled data as `serve` loads it into an empty store, on each store backend."""

from __future__ import annotations

from collections import defaultdict

import pytest

from pactgraph.graph import Store

AS_OF = "2025-01-20"
ID = "https://pactgraph.org/id/"
PREFIXES = """
PREFIX pg: <https://pactgraph.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""

# Tenures running on AS_OF: no end, "ongoing as of" the date, started on or before it. Starts
# keep their precision (2021, 2021-08, 2021-08-15); their lexical forms compare correctly
# with the day as strings, so the check needs nothing but the stored facts.
RUNNING = f"""
  ?t a pg:Tenure ; pg:ofState ?state ; pg:role ?role ; pg:holder ?person ; pg:start ?start ;
     pg:status ?status ; pg:ongoingAsOf "{AS_OF}"^^xsd:date .
  FILTER NOT EXISTS {{ ?t pg:end ?end }}
  FILTER (STR(?start) <= "{AS_OF}")
"""


def rows(store: Store, query: str) -> list[tuple[str, ...]]:
    return [tuple(str(v) if v is not None else "" for v in row) for row in store.query(PREFIXES + query)]


def local(iri: str) -> str:
    return iri.removeprefix(ID).removeprefix("https://pactgraph.org/ontology#")


def leaders(store: Store, iso: str, role: str) -> set[tuple[str, str, str]]:
    """(holder's English name, start, status) of the tenures in `role` running on AS_OF."""
    found = rows(
        store,
        f"""SELECT DISTINCT ?name ?start ?status WHERE {{
              {RUNNING}
              FILTER (?state = <{ID}state/{iso}> && ?role = pg:{role})
              ?person rdfs:label ?name . FILTER (lang(?name) = "en")
            }}""",
    )
    return {(name, start, local(status)) for name, start, status in found}


def test_every_state_has_a_head_of_state_and_a_head_of_government_on_the_as_of_date(loaded: Store) -> None:
    states = {s for (s,) in rows(loaded, "SELECT DISTINCT ?s WHERE { ?s a pg:State ; pg:isoAlpha3 ?iso }")}
    assert len(states) == 195
    covered: dict[str, set[str]] = defaultdict(set)
    for state, role in rows(loaded, f"SELECT DISTINCT ?state ?role WHERE {{ {RUNNING} }}"):
        covered[local(role)].add(state)
    assert states - covered["HeadOfState"] == set()
    assert states - covered["HeadOfGovernment"] == set()
    assert set(covered) == {"HeadOfState", "HeadOfGovernment"}


def test_every_running_tenure_is_sourced_dated_and_of_an_office_of_its_state(loaded: Store) -> None:
    tenures = rows(loaded, f"SELECT DISTINCT ?t WHERE {{ {RUNNING} }}")
    assert len(tenures) >= 2 * 195
    # Each tenure: exactly one start, a Confirmed or Reported status, an office of the same
    # state, and at least one source described as a pg:Source with a title, publisher and URL.
    bad = rows(
        loaded,
        f"""SELECT DISTINCT ?t ?why WHERE {{
              {RUNNING}
              {{ ?t pg:start ?s2 FILTER (?s2 != ?start) BIND ("two starts" AS ?why) }}
              UNION {{ FILTER (?status NOT IN (pg:Confirmed, pg:Reported)) BIND ("status" AS ?why) }}
              UNION {{ FILTER NOT EXISTS {{ ?t pg:office/pg:officeOf ?state }} BIND ("office" AS ?why) }}
              UNION {{ FILTER NOT EXISTS {{ ?t pg:source ?src }} BIND ("no source" AS ?why) }}
              UNION {{ ?t pg:source ?src
                       FILTER NOT EXISTS {{ ?src a pg:Source ; dcterms:title ?title ;
                                                dcterms:publisher ?pub ; pg:url ?url }}
                       BIND ("source not described" AS ?why) }}
              UNION {{ ?person rdfs:label ?n . FILTER (lang(?n) = "en") FILTER (?n = "") BIND ("name" AS ?why) }}
            }}""",
    )
    assert bad == []


def test_reported_rather_than_confirmed_only_where_the_holding_was_uncertain(loaded: Store) -> None:
    reported = rows(
        loaded,
        f"""SELECT DISTINCT ?state ?role WHERE {{ {RUNNING} FILTER (?status = pg:Reported) }}""",
    )
    assert sorted((local(s), local(r)) for s, r in reported) == [
        ("state/PRK", "HeadOfGovernment"),  # named by the party in December, sworn in on 2025-01-22
        ("state/SDN", "HeadOfGovernment"),  # acting prime minister, month uncertain
        ("state/SYR", "HeadOfState"),  # de facto leader, no office yet
        ("state/TON", "HeadOfGovernment"),  # elected 2024-12-24, sworn in February 2025
    ]


@pytest.mark.parametrize(
    ("iso", "role", "expected"),
    [
        # Iran: the Supreme Leader is head of state, the President heads the government.
        ("IRN", "HeadOfState", {("Ali Khamenei", "1989-06-04", "Confirmed")}),
        ("IRN", "HeadOfGovernment", {("Masoud Pezeshkian", "2024-07-28", "Confirmed")}),
        # Syria after Assad's fall, before al-Sharaa was named president on 2025-01-29.
        ("SYR", "HeadOfState", {("Ahmed al-Sharaa", "2024-12-08", "Reported")}),
        ("SYR", "HeadOfGovernment", {("Mohammed al-Bashir", "2024-12-10", "Confirmed")}),
        # The US President holds both roles from the inauguration day.
        ("USA", "HeadOfState", {("Donald Trump", "2025-01-20", "Confirmed")}),
        ("USA", "HeadOfGovernment", {("Donald Trump", "2025-01-20", "Confirmed")}),
        ("RUS", "HeadOfState", {("Vladimir Putin", "2012-05-07", "Confirmed")}),
        ("RUS", "HeadOfGovernment", {("Mikhail Mishustin", "2020-01-16", "Confirmed")}),
        ("DEU", "HeadOfGovernment", {("Olaf Scholz", "2021-12-08", "Confirmed")}),
        ("GBR", "HeadOfState", {("Charles III", "2022-09-08", "Confirmed")}),
        ("CAN", "HeadOfState", {("Charles III", "2022-09-08", "Confirmed")}),
        ("BGR", "HeadOfGovernment", {("Rosen Zhelyazkov", "2025-01-16", "Confirmed")}),
        ("LBN", "HeadOfGovernment", {("Najib Mikati", "2021-09-10", "Confirmed")}),
        # Several holders share a role where the constitution says so.
        (
            "AND",
            "HeadOfState",
            {
                ("Emmanuel Macron", "2017-05-14", "Confirmed"),
                ("Joan-Enric Vives i Sicília", "2003-05-12", "Confirmed"),
            },
        ),
        (
            "SMR",
            "HeadOfState",
            {
                ("Francesca Civerchia", "2024-10-01", "Confirmed"),
                ("Dalibor Riccardi", "2024-10-01", "Confirmed"),
            },
        ),
        (
            "BIH",
            "HeadOfState",
            {
                ("Željka Cvijanović", "2022-11-16", "Confirmed"),
                ("Denis Bećirović", "2022-11-16", "Confirmed"),
                ("Željko Komšić", "2018-11-20", "Confirmed"),
            },
        ),
        # Start dates keep the precision known: a year, a month.
        ("ARE", "HeadOfGovernment", {("Mohammed bin Rashid Al Maktoum", "2006", "Confirmed")}),
        ("PRK", "HeadOfGovernment", {("Pak Thae-song", "2024-12", "Reported")}),
    ],
)
def test_who_led_a_state_on_the_as_of_date(
    loaded: Store, iso: str, role: str, expected: set[tuple[str, str, str]]
) -> None:
    assert leaders(loaded, iso, role) == expected


def test_assad_is_not_a_leader_on_the_as_of_date_but_was_before_the_fall(loaded: Store) -> None:
    tenures = rows(
        loaded,
        f"""SELECT DISTINCT ?start ?end WHERE {{
              ?t pg:holder <{ID}person/bashar-al-assad> ; pg:role pg:HeadOfState ; pg:ofState <{ID}state/SYR> ;
                 pg:start ?start ; pg:end ?end .
              FILTER NOT EXISTS {{ ?t pg:ongoingAsOf ?d }}
            }}""",
    )
    assert tenures == [("2000-07-17", "2024-12-08")]


def test_one_person_node_is_king_of_each_of_the_fifteen_realms(loaded: Store) -> None:
    realms = rows(
        loaded,
        f"""SELECT DISTINCT ?state WHERE {{ {RUNNING}
              FILTER (?person = <{ID}person/charles-iii> && ?role = pg:HeadOfState) }}""",
    )
    assert sorted(local(s).removeprefix("state/") for (s,) in realms) == sorted(
        [
            "GBR",
            "ATG",
            "AUS",
            "BHS",
            "BLZ",
            "CAN",
            "GRD",
            "JAM",
            "KNA",
            "LCA",
            "NZL",
            "PNG",
            "SLB",
            "TUV",
            "VCT",
        ]
    )


def un_admissions(store: Store) -> dict[str, str]:
    found = rows(
        store,
        f"""SELECT DISTINCT ?iso ?start WHERE {{
              ?m a pg:Membership ; pg:organisation <{ID}org/un> ; pg:member ?state ; pg:start ?start ;
                 pg:source <{ID}source/un-member-states> .
              ?state pg:isoAlpha3 ?iso .
              FILTER NOT EXISTS {{ ?m pg:end ?end }}
            }}""",
    )
    admitted: dict[str, str] = {}
    for iso, start in found:
        assert iso not in admitted, f"{iso} has two UN memberships"
        admitted[iso] = start
    return admitted


def test_un_membership_of_all_193_members_with_admission_dates(loaded: Store) -> None:
    admitted = un_admissions(loaded)
    assert len(admitted) == 193
    states = {
        iso for (iso,) in rows(loaded, "SELECT DISTINCT ?iso WHERE { ?s a pg:State ; pg:isoAlpha3 ?iso }")
    }
    assert states - set(admitted) == {"VAT", "PSE"}  # the two observer states
    assert all(len(d) == 10 for d in admitted.values())  # every admission date is a day


@pytest.mark.parametrize(
    ("iso", "day"),
    [
        ("SSD", "2011-07-14"),
        ("MNE", "2006-06-28"),
        ("CHE", "2002-09-10"),
        ("TLS", "2002-09-27"),
        ("SRB", "2000-11-01"),  # as the Federal Republic of Yugoslavia
        ("CZE", "1993-01-19"),
        ("SVK", "1993-01-19"),
        ("DEU", "1973-09-18"),  # as the Federal Republic of Germany
        ("TZA", "1961-12-14"),  # as Tanganyika
        ("YEM", "1947-09-30"),
        ("IDN", "1950-09-28"),
        ("RUS", "1945-10-24"),  # continuing the USSR's seat
        ("CAN", "1945-11-09"),  # original member, from its ratification
        ("BEL", "1945-12-27"),
    ],
)
def test_un_admission_date(loaded: Store, iso: str, day: str) -> None:
    assert un_admissions(loaded)[iso] == day


def test_original_members_joined_in_1945(loaded: Store) -> None:
    # 51 original members; Czechoslovakia's and Yugoslavia's successors were admitted later.
    originals = {iso for iso, day in un_admissions(loaded).items() if day.startswith("1945-")}
    assert len(originals) == 49
