"""Correlates of War State System Membership (`states2016.csv`): statehood spells 1816–2016,
COW codes and abbreviations, historic states.

Date rule (codebook and data, see the README): start and end are inclusive days; a spell that
ends on 2016-12-31 was extended there by the v2016 release ("end dates for all states in
existence in 2016 were extended to 12/31/2016") and is ongoing as of that day, not ended.
Consecutive spells do not share a day (the GDR ends 1990-10-02, Germany starts 1990-10-03; the
codebook's 2004 change moved the GFR's and GDR's ends from 10/3 to 10/2/1990 for that reason).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from rdflib.namespace import SKOS

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.importers.base import (
    BadRow,
    Dataset,
    ImportResult,
    InputFile,
    Progress,
    RowSink,
    SourceDescription,
    Triples,
    day,
    integer,
    read_csv_rows,
    read_rows,
)
from pactgraph.graph.importers.states import StateRef, describe_state, state_codes
from pactgraph.graph.store import Store

COLUMNS = [
    "stateabb",
    "ccode",
    "statenme",
    "styear",
    "stmonth",
    "stday",
    "endyear",
    "endmonth",
    "endday",
    "version",
]


@dataclass(frozen=True)
class StateSpell:
    line: int
    state: StateRef
    abbrev: str
    name: str
    start: str
    end: str
    version: str


def _source(version: str) -> SourceDescription:
    return SourceDescription(
        slug=f"cow-states-{version}",
        title="State System Membership List",
        publisher="Correlates of War Project",
        version=version,
        citation=f"Correlates of War Project. {version}. “State System Membership List, v{version}.” Online, https://correlatesofwar.org/",
        licence="Free to use with citation (Correlates of War Project terms of use)",
        download_url="https://correlatesofwar.org/data-sets/state-system-membership/",
        end_rule="inclusive",
        coverage_start="1816-01-01",
        coverage_end=f"{version}-12-31",
    )


def _read(files: list[InputFile], bad: RowSink, progress: Progress | None) -> list[StateSpell]:
    codes = state_codes()
    out: list[StateSpell] = []
    for f in files:
        _header, rows = read_csv_rows(f, "utf-8", "COW states (states2016.csv)", COLUMNS)

        def parse(row: dict[str, str], line: int = 0) -> StateSpell:
            ccode = integer(row["ccode"], "ccode")
            if not row["stateabb"] or not row["statenme"]:
                raise BadRow("stateabb and statenme must not be empty")
            ref = codes.cow(ccode) or StateRef(
                f"state/cow-{ccode}", row["statenme"], historic=True, cow=(ccode,)
            )
            start = day(row["styear"], row["stmonth"], row["stday"], "start (styear, stmonth, stday)")
            end = day(row["endyear"], row["endmonth"], row["endday"], "end (endyear, endmonth, endday)")
            if end < start:
                raise BadRow(f"end {end} is before start {start}")
            version = row["version"] or "2016"
            if not version.isdigit():
                raise BadRow(f"version is not a year: {version!r}")
            return StateSpell(line, ref, row["stateabb"], row["statenme"], start, end, version)

        out += read_rows(
            ((ln, (ln, r)) for ln, r in rows), f.name, lambda x: parse(x[1], x[0]), bad, progress, len(rows)
        )
    return out


def _release(spells: list[StateSpell]) -> SourceDescription:
    versions = sorted({s.version for s in spells}) or ["2016"]
    if len(versions) > 1:
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"rows of several COW releases in one import: {', '.join(versions)}; import each alone",
        )
    return _source(versions[0])


def _build(store: Store, spells: list[StateSpell], t: Triples, result: ImportResult) -> list[dict[str, str]]:
    src = _release(spells)
    source = t.node(src.iri)
    alt = t.node(str(SKOS.altLabel))
    described: set[str] = set()
    for s in spells:
        describe_state(t, s.state, described)
        state = t.entity(s.state.local)
        t.a(state, "State")
        t.text(state, "cowAbbrev", s.abbrev)
        for code in s.state.cow:
            t.integer(state, "cowCode", code)
        if s.name != s.state.label:
            t.add(state, alt, ox.Literal(s.name, language="en"))
        spell = t.entity(
            f"statehood/{src.slug}/{s.state.cow[0] if s.state.cow else 'x'}-{s.abbrev.lower()}-{s.start}"
        )
        t.a(spell, "Statehood")
        ongoing = s.end == src.coverage_end
        t.label(
            spell, f"{s.name} in the state system ({s.start[:4]}–{'' if ongoing else s.end[:4]}) [{src.slug}]"
        )
        t.link(spell, "state", state)
        t.date(spell, "start", s.start)
        if ongoing:
            t.date(spell, "ongoingAsOf", s.end)
        else:
            t.date(spell, "end", s.end)
        t.text(spell, "recordId", f"{s.abbrev} {s.start}")
        t.link(spell, "source", source)
        t.link(spell, "status", t.pg("Confirmed"))
        key = t.entity(f"relation/statehood/{s.state.local}")
        t.a(key, "RelationKey")
        t.link(spell, "readingOf", key)
    return []


DATASET = Dataset(
    name="cow-states",
    summary="Correlates of War State System Membership: statehood spells 1816–2016, historic states",
    files="states2016.csv",
    read=_read,
    source=_release,
    build=_build,
)
