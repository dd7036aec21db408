"""What the agreement and sanctions importers share: party records (pg:AgreementParty) with their
own dates and obligations, the organisations and blocs datasets name, and actors no code list
knows (pg:UnmatchedActor), kept under the source's own name or code and listed for review.

Relation keys follow the model contract: a party record of an alliance that founds a bundled
organisation reads the membership (``relation/membership/state/POL/org/nato``), so ATOP's entry
date and the bundled memberships.csv's are two readings of one relation; any other party record
reads ``relation/party/<party>/<agreement>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib.namespace import RDFS

from pactgraph.graph.importers.base import Triples, slug
from pactgraph.ontology import ENTITY_BASE

OBLIGATIONS = {
    "defence": "DefenceObligation",
    "offence": "OffenceObligation",
    "neutrality": "NeutralityObligation",
    "non-aggression": "NonAggressionObligation",
    "consultation": "ConsultationObligation",
}
"""Obligation words (as answers give them) and their concepts' local names."""
OBLIGATION_WORDS = {v: k for k, v in OBLIGATIONS.items()}


@dataclass(frozen=True)
class Org:
    """An organisation or bloc a dataset names: its id and how it is described, the same words
    as the bundled data where that describes it too (so the union of graphs holds one label)."""

    local: str
    label: str
    cls: str = "IntergovernmentalOrganisation"
    alt: tuple[str, ...] = ()


# The bundled organisations (data/reference/organisations.ttl), described identically.
BUNDLED_ORGS = {
    "org/eu": Org("org/eu", "European Union", "SupranationalUnion", ("EU",)),
    "org/un": Org("org/un", "United Nations", "IntergovernmentalOrganisation", ("UN",)),
    "org/nato": Org("org/nato", "North Atlantic Treaty Organization", "Alliance", ("NATO",)),
    "org/csto": Org("org/csto", "Collective Security Treaty Organization", "Alliance", ("CSTO",)),
}


def describe_org(t: Triples, org: Org, done: set[str]) -> None:
    """An organisation's type and label in the importing graph, once per graph (each graph
    validates alone; for bundled organisations the triples are the bundled ones)."""
    if org.local in done:
        return
    done.add(org.local)
    node = t.entity(org.local)
    t.a(node, org.cls)
    t.label(node, org.label)
    if org.local not in BUNDLED_ORGS:
        for alt in org.alt:
            t.add(node, t.node("http://www.w3.org/2004/02/skos/core#altLabel"), _lit(alt))


def unmatched(t: Triples, source_slug: str, key: str, label: str, why: str, done: set[str]) -> str:
    """An actor the source names that no state, organisation or person matches: a
    pg:UnmatchedActor under the source's own name or code, in the source's graph. Returns its id."""
    local = f"actor/{source_slug}/{slug(key)}"
    if local not in done:
        done.add(local)
        node = t.entity(local)
        t.a(node, "UnmatchedActor")
        t.label(node, label)
        t.add(node, t.node(str(RDFS.comment)), _lit(why))
    return local


@dataclass
class PartyRecord:
    """One source's record of one party to one agreement (in one phase)."""

    local: str  # the party record's id, e.g. party/atop-4.01/3180-POL-p2-1997-12-16
    party: str  # the party's id (state/POL)
    agreement: str  # the agreement's id
    key: str  # the relation key it reads (relation/...)
    label: str
    record: str  # the dataset's own id of the row(s) it comes from
    start: str | None = None
    end: str | None = None
    ongoing_as_of: str | None = None
    signature: str | None = None
    ratification: str | None = None
    accession: str | None = None
    entry_into_force: str | None = None
    withdrawal: str | None = None
    signer: str | None = None  # a person's id
    phase: int | None = None
    obligations: list[str] = field(default_factory=list)  # concept local names


def party_key(party: str, agreement: str, organisation: str | None = None) -> str:
    """The relation a party record reads: the membership of the organisation the agreement
    founds, else the party's being party to the agreement."""
    if organisation:
        return f"relation/membership/{party}/{organisation}"
    return f"relation/party/{party}/{agreement}"


def write_party(t: Triples, p: PartyRecord, source_iri: str) -> None:
    node = t.entity(p.local)
    t.a(node, "AgreementParty")
    t.label(node, p.label)
    t.link(node, "party", t.entity(p.party))
    t.link(node, "partyTo", t.entity(p.agreement))
    for prop, value in (
        ("start", p.start),
        ("end", p.end),
        ("partySignature", p.signature),
        ("partyRatification", p.ratification),
        ("partyAccession", p.accession),
        ("partyEntryIntoForce", p.entry_into_force),
        ("partyWithdrawal", p.withdrawal),
    ):
        if value:
            t.date(node, prop, value)
    if p.ongoing_as_of and not p.end:
        t.date(node, "ongoingAsOf", p.ongoing_as_of)
    if p.signer:
        t.link(node, "signer", t.entity(p.signer))
    if p.phase is not None:
        t.integer(node, "phase", p.phase)
    for o in p.obligations:
        t.link(node, "obligation", t.pg(o))
    t.text(node, "recordId", p.record)
    t.link(node, "status", t.pg("Confirmed"))
    t.link(node, "source", t.node(source_iri))
    key = t.entity(p.key)
    t.a(key, "RelationKey")
    t.link(node, "readingOf", key)


def local_of(iri: str) -> str:
    return iri.removeprefix(ENTITY_BASE)


def _lit(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")
