"""Leader spells of any dataset as pg:Tenure nodes (the model contract's point 5), with their
persons reconciled across datasets and one reading key per person, state and role."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib.namespace import SKOS

from pactgraph.graph.dates import parse_period
from pactgraph.graph.importers.base import ImportResult, SourceDescription, Triples, slug
from pactgraph.graph.importers.persons import Leader, Spell, known_persons, reconcile, taken_person_iris
from pactgraph.graph.importers.states import StateRef, describe_state
from pactgraph.graph.store import Store

ROLES = {
    "EffectiveLeader": "effective-leader",
    "HeadOfState": "head-of-state",
    "HeadOfGovernment": "head-of-government",
}
ROLE_WORDS = {
    "EffectiveLeader": "effective leader",
    "HeadOfState": "head of state",
    "HeadOfGovernment": "head of government",
}


@dataclass
class LeaderSpell:
    """One row of a leader dataset, read: who, where, in which role, when, how."""

    record: str  # the dataset's id of the spell (obsid, leadid, statement id): the tenure's IRI
    person: str  # the dataset's key of the person (several spells, one person)
    name: str
    state: StateRef
    role: str  # EffectiveLeader, HeadOfState, HeadOfGovernment
    start: str
    end: str | None = None
    ongoing_as_of: str | None = None
    entry: str | None = None
    exit: str | None = None
    born: str | None = None
    died: str | None = None
    gender: str | None = None
    wikidata: str | None = None  # the person's Wikidata id
    office: tuple[str, str] | None = None  # (office IRI, office label), Wikidata's offices
    aliases: list[str] = field(default_factory=list)


def _spell(s: LeaderSpell) -> Spell:
    end = parse_period(s.end).latest if s.end else None
    return Spell(s.state.iri, parse_period(s.start).earliest, end)


def write_leaders(
    store: Store, src: SourceDescription, spells: list[LeaderSpell], t: Triples, result: ImportResult
) -> list[dict[str, str]]:
    """Reconcile the spells' persons with the store and add their tenures to `t`; returns the
    near misses for the review file."""
    leaders: dict[str, Leader] = {}
    for s in spells:
        leader = leaders.setdefault(s.person, Leader(s.person, [s.name], wikidata=s.wikidata))
        if s.name not in leader.names:
            leader.names.append(s.name)
        leader.spells.append(_spell(s))
    rec = reconcile(
        list(leaders.values()), known_persons(store, src.graph), taken_person_iris(store, src.graph), src.slug
    )
    result.persons_merged, result.persons_new, result.near_misses = rec.merged, rec.new, len(rec.near_misses)
    source = t.node(src.iri)
    described_states: set[str] = set()
    described_persons: set[str] = set()
    offices: set[str] = set()
    for s in spells:
        describe_state(t, s.state, described_states)
        person_iri = rec.iris[s.person]
        person = t.node(person_iri)
        if person_iri not in described_persons:
            described_persons.add(person_iri)
            t.a(person, "Person")
            names = leaders[s.person].names
            if person_iri in rec.labelled:
                for name in names:
                    t.add(person, t.node(str(SKOS.altLabel)), ox.Literal(name, language="en"))
            else:
                t.label(person, names[0])
                for name in names[1:]:
                    t.add(person, t.node(str(SKOS.altLabel)), ox.Literal(name, language="en"))
            if s.wikidata:
                t.text(person, "wikidataId", s.wikidata)
        if s.born:
            t.date(person, "born", s.born)
        if s.died:
            t.date(person, "died", s.died)
        if s.gender:
            t.text(person, "gender", s.gender)
        tenure = t.entity(f"tenure/{src.slug}/{slug(s.record)}")
        t.a(tenure, "Tenure")
        until = f"–{s.end[:4]}" if s.end else " (ongoing)" if s.ongoing_as_of else ""
        t.label(
            tenure, f"{s.name}, {ROLE_WORDS[s.role]} of {s.state.label} ({s.start[:4]}{until}) [{src.slug}]"
        )
        t.link(tenure, "holder", person)
        t.link(tenure, "ofState", t.entity(s.state.local))
        t.link(tenure, "role", t.pg(s.role))
        if s.office:
            office = t.node(s.office[0])
            t.link(tenure, "office", office)
            if s.office[0] not in offices:
                offices.add(s.office[0])
                t.a(office, "Office")
                if s.office[1]:
                    t.label(office, s.office[1])
                t.link(office, "officeOf", t.entity(s.state.local))
        t.date(tenure, "start", s.start)
        if s.end:
            t.date(tenure, "end", s.end)
        elif s.ongoing_as_of:
            t.date(tenure, "ongoingAsOf", s.ongoing_as_of)
        if s.entry:
            t.text(tenure, "entryManner", s.entry)
        if s.exit:
            t.text(tenure, "exitManner", s.exit)
        t.text(tenure, "recordId", s.record)
        t.link(tenure, "status", t.pg("Confirmed"))
        t.link(tenure, "source", source)
        key = t.entity(
            f"relation/{ROLES[s.role]}/{s.state.local}/{person_iri.removeprefix(t.entity('').value)}"
        )
        t.link(tenure, "readingOf", key)
        t.a(key, "RelationKey")
    return rec.near_misses
