"""Questions about time that analysts ask in one call: who led a state on a day, which states were
in the state system, UN membership, a person's spells with predecessors and successors.

Every answer can be limited to sources (`source=`: a dataset name such as "archigos", a release
such as "archigos-4.1", a source id or IRI, or a graph IRI) and to a minimum claim status
(`status=`, as for paths), and says which sources it used. One row per assertion (a tenure node,
with all the sources it cites); assertions of the same relation by other sources (pg:readingOf)
stay rows of their own, linked by their `relation`.

Days are read by graph/dates.py's one rule (`on_day`): a row is listed when its dates allow the
day, and `certain` only when they guarantee it. Two things make a listed row uncertain, each
said in its `caveat` and in the answer's `caveats`: dates too coarse to settle the day (a REIGN
spell that ended "1953-01", asked about 1953-01-20), and a day after the row's "ongoing as of"
day (the bundled heads of state, known to 2025-01-20, asked about today): the spell has not
ended as far as its source knows, but the source knows nothing later.

On `oxigraph:` the questions read pyoxigraph's solutions directly, as strings; `memory:` and
`sparql:` go through Store.select (rdflib terms). Values a caller gives (a state, a person, a day)
are bound by the engine (Oxigraph's substitutions, rdflib's bindings, a serialised VALUES on a
SPARQL server), never formatted into a query; the VALUES lists of nodes read back hold IRIs the
store returned, serialised as terms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from pactgraph.graph.dates import OnDay, on_day, parse_period
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.paths import STATUSES
from pactgraph.graph.projection import STATUS_NAME
from pactgraph.graph.store import Store
from pactgraph.ontology import ENTITY_BASE, GRAPH_BASE, PG

ROLES = {
    "effective-leader": "EffectiveLeader",
    "head-of-state": "HeadOfState",
    "head-of-government": "HeadOfGovernment",
}
_ROLE_SLUG = {name: slug for slug, name in ROLES.items()}
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_DCT = "http://purl.org/dc/terms/"
UN = ENTITY_BASE + "org/un"
PRESENT_DAY_STATES = ENTITY_BASE + "source/iso-3166"
"""ISO 3166-1 lists the countries that exist now (codes of former ones move to ISO 3166-3): a state
the bundled data gives an ISO 3166-1 code, citing it, existed on the day the list was read."""
_SAME_LEADER_GAP = 31  # days: a person's spells this close are one leadership (persons.py's "touch")


def role_of(text: str | None) -> str | None:
    """A role parameter (effective-leader, head-of-state, head-of-government, or the class's
    local name) as the role's local name; None for all roles."""
    if not text:
        return None
    key = text.strip()
    if key in ROLES.values():
        return key
    found = ROLES.get(key.lower().replace("_", "-").replace(" ", "-"))
    if found is None:
        raise PactgraphError(Kind.BAD_INPUT, f"role is one of {', '.join(ROLES)}, not {text!r}")
    return found


def min_status(text: str | None) -> int:
    """A `status=` parameter (the least claim status wanted, as for /paths) as its rank."""
    key = (text or "denied").strip().lower()
    if key not in STATUSES:
        raise PactgraphError(Kind.BAD_INPUT, f"status must be one of {', '.join(STATUSES)}, not {text!r}")
    return STATUSES[key]


@dataclass(frozen=True)
class Held:
    """Whether a dated fact is listed for a day (its dates allow it) and whether it is certain then."""

    holds: bool
    certain: bool


def held_on(start: str | None, end: str | None, ongoing: str | None, exclusive: bool, day: date) -> Held:
    """`dates.on_day` for a fact with a start (graph/alliances.py's records): listed when possible,
    certain when known and not after its "ongoing as of" day. No start: not listed."""
    if start is None:
        return Held(False, False)
    d = on_day(start, end, day, exclusive_end=exclusive, ongoing_as_of=ongoing)
    return Held(d.possible, d.certain)


def _check_sources(sources: Sequence[str]) -> None:
    for s in sources:
        if not s.strip():
            raise PactgraphError(Kind.BAD_INPUT, "source= must not be empty")


def source_matches(source_iri: str, graph_iri: str, wanted: Sequence[str]) -> bool:
    """A fact's source and graph against the `source=` filter: a dataset name ("archigos"
    matches archigos-4.1), a release, a source id or IRI, or a graph IRI."""
    if not wanted:
        return True
    release = source_iri.removeprefix(ENTITY_BASE + "source/")
    graph = graph_iri.removeprefix(GRAPH_BASE)
    for w in wanted:
        w = w.strip().removeprefix("source/")
        if (
            w in (source_iri, graph_iri, release, graph)
            or release.startswith(w + "-")
            or graph.startswith(w + "-")
        ):
            return True
    return False


# ---------------------------------------------------------------------------------------- reading


def _select(store: Store, query: str, bindings: Mapping[str, str | date]) -> list[dict[str, str]]:
    """A SELECT's rows as plain strings (unbound variables left out). `bindings` are IRIs (str) or
    days, bound by the engine (projected variables only, as Store.select says). On Oxigraph the
    solutions are read as pyoxigraph terms: no rdflib term is made for each value."""
    native = store.oxigraph
    if native is not None:
        subs: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
            ox.Variable(k): ox.Literal(v.isoformat(), datatype=ox.NamedNode(str(XSD.date)))
            if isinstance(v, date)
            else ox.NamedNode(v)
            for k, v in bindings.items()
        }
        solutions = native.query(query, substitutions=subs or None, **store.query_dataset())
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        return [{n: t.value for n, t in zip(names, row, strict=False) if t is not None} for row in solutions]
    terms = {
        k: Literal(v.isoformat(), datatype=XSD.date) if isinstance(v, date) else URIRef(v)
        for k, v in bindings.items()
    }
    return [{k: str(v) for k, v in r.items()} for r in store.select(query, terms)]


def _label_map(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """English labels (else any) of these IRIs, in one query; VALUES holds serialised IRIs."""
    wanted = sorted({i for i in iris if i})
    if not wanted:
        return {}
    values = " ".join(URIRef(i).n3() for i in wanted)
    out: dict[str, str] = {}
    query = f"SELECT ?n ?l (LANG(?l) AS ?lang) WHERE {{ VALUES ?n {{ {values} }} ?n <{_LABEL}> ?l }}"
    for r in sorted(_select(store, query, {}), key=lambda r: (r["n"], r["l"])):
        if r["n"] not in out or r.get("lang") == "en":
            out[r["n"]] = r["l"]
    return out


def _local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _named(iri: str | None, labels: Mapping[str, str]) -> dict[str, str] | None:
    return {"id": iri, "label": labels.get(iri, _local(iri))} if iri else None


def _caveats(items: list[tuple[str, OnDay]], day: date, noun: str = "rows") -> list[str]:
    """The answer's caveats in words: what is known only to an earlier day, and what the dates
    cannot settle, each naming the rows (`items`: a row's name and how it stands on the day; more
    than ten are counted, as `noun`)."""
    beyond: dict[str, set[str]] = defaultdict(set)
    unsettled: set[str] = set()
    for name, d in items:
        if d.beyond is not None:
            beyond[d.beyond].add(name)
        elif d.possible and not d.known:
            unsettled.add(name)

    def listed(names: set[str]) -> str:
        return "; ".join(sorted(names)) if len(names) <= 10 else f"{len(names)} {noun}"

    out = [
        f"{listed(names)}: ongoing as of {until}, not known after; {day.isoformat()} is later, "
        "so this is the latest the source knows, not a fact of that day"
        for until, names in sorted(beyond.items())
    ]
    if unsettled:
        out.append(f"{listed(unsettled)}: the dates do not settle {day.isoformat()}")
    return out


# ---------------------------------------------------------------------------------------- tenures


@dataclass(eq=False)  # one per node: compared and hashed by identity
class _Tenure:
    """One tenure node (one source's assertion), with every source it cites."""

    iri: str
    person: str
    state: str | None = None
    role: str | None = None
    office: str | None = None
    start: str | None = None
    end: str | None = None
    ongoing: str | None = None
    status: str = "confirmed"
    entry: str | None = None
    exit: str | None = None
    reading_of: str | None = None
    record: str | None = None
    sources: set[str] = field(default_factory=set)
    graphs: set[str] = field(default_factory=set)
    exclusive: bool = False

    @property
    def relation(self) -> str:
        """The relation this tenure reads: its pg:readingOf, else the key the importers give one
        (role, state, person), so the bundled tenure and a dataset's of one leader line up."""
        if self.reading_of:
            return self.reading_of
        if self.role and self.state:
            state = self.state.removeprefix(ENTITY_BASE)
            person = self.person.removeprefix(ENTITY_BASE)
            return f"{ENTITY_BASE}relation/{_ROLE_SLUG.get(self.role, self.role)}/{state}/{person}"
        return self.iri

    def on(self, day: date) -> OnDay:
        return on_day(self.start, self.end, day, exclusive_end=self.exclusive, ongoing_as_of=self.ongoing)

    def wanted(self, sources: Sequence[str], least: int) -> bool:
        return STATUSES.get(self.status, 3) >= least and any(
            source_matches(s, g, sources) for s in sorted(self.sources) or [""] for g in sorted(self.graphs)
        )

    def order(self) -> tuple[str, str]:
        return (self.start or "", self.iri)

    def same_list(self, other: _Tenure) -> bool:
        """Whether `other` is in the same list of holders: a dataset's row (it has a record id)
        with the rows of the same dataset, a fact written and cited by hand (the bundled data, each
        tenure citing its own article) with every other such fact."""
        if (self.record is None) != (other.record is None):
            return False
        return self.record is None or bool(self.sources & other.sources)


# Which tenures an answer needs is one small query (bound to a state, a day or a person, where
# Oxigraph reads its indexes); what they say is a second, over those tenures' own statements.
# (One query with a dozen OPTIONALs joined on ?t cost Oxigraph 20-40x more at the import
# benchmark's size: each OPTIONAL read its predicate for every tenure of the store.)
def _may_hold(day: date) -> str:
    """The pattern of a node ?t whose normalised days allow `day`. The day is written into the
    query as a serialised xsd:date (made from a date, never from text): a SPARQL server binds
    values by a trailing VALUES, which a FILTER inside the pattern would not see."""
    when = Literal(day.isoformat(), datatype=XSD.date).n3()
    return (
        f"?t <{PG}startEarliest> ?from FILTER(?from <= {when}) "
        f"FILTER NOT EXISTS {{ ?t <{PG}endLatest> ?to FILTER(?to < {when}) }}"
    )


_OF_STATE = (
    "SELECT ?state ?t ?g WHERE {{ {{ GRAPH ?g {{ ?t <{pg}ofState> ?state . {when} }} }} "
    "UNION {{ ?office <{pg}officeOf> ?state . GRAPH ?g {{ ?t <{pg}office> ?office . {when} "
    "FILTER NOT EXISTS {{ ?t <{pg}ofState> ?other }} }} }} }}"
)
_TENURES_OF_STATE = _OF_STATE.format(pg=PG, when="")
# The normalised days (contract point 1) let the engine drop what cannot have held on the day;
# graph/dates.py then reads the dates that are left.
_TENURES_OF_PERSON = f"SELECT ?person ?t ?g WHERE {{ GRAPH ?g {{ ?t <{PG}holder> ?person }} }}"
_EXCLUSIVE = f"SELECT ?source WHERE {{ ?source <{PG}endRule> <{PG.ExclusiveEnd}> }}"
_FIELDS = {
    str(PG.holder): "person",
    str(PG.ofState): "state",
    str(PG.role): "role",
    str(PG.office): "office",
    str(PG.start): "start",
    str(PG.end): "end",
    str(PG.ongoingAsOf): "ongoing",
    str(PG.status): "status",
    str(PG.entryManner): "entry",
    str(PG.exitManner): "exit",
    str(PG.readingOf): "reading_of",
    str(PG.recordId): "record",
    str(PG.source): "sources",
}


def _statements(store: Store, iris: Iterable[str]) -> dict[str, dict[str, set[str]]]:
    """What each of these nodes states (`_FIELDS`, and "graphs": the graphs that hold it), read in
    one query by subject, in every graph."""
    wanted = sorted(set(iris))
    facts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    if not wanted:
        return facts
    values = " ".join(URIRef(i).n3() for i in wanted)
    # Every statement of the nodes, filtered here: a VALUES of predicates made Oxigraph join badly.
    query = f"SELECT ?t ?g ?p ?o WHERE {{ VALUES ?t {{ {values} }} GRAPH ?g {{ ?t ?p ?o }} }}"
    for r in _select(store, query, {}):
        name = _FIELDS.get(r["p"])
        if name is not None:
            f = facts[r["t"]]
            f[name].add(r["o"])
            f["graphs"].add(r["g"])
    return facts


def _one(f: Mapping[str, set[str]], name: str) -> str | None:
    """A node's value of a field; one stated twice (in two graphs, differently): the least, the
    same on every backend."""
    values = f.get(name)
    return min(values) if values else None


def _tenures(store: Store, found: list[dict[str, str]]) -> list[_Tenure]:
    """The tenures of `found` (rows with ?t, and ?state where the query bound it), each read from
    its own statements in every graph that holds them, every source kept."""
    iris = sorted({r["t"] for r in found})
    facts = _statements(store, iris)
    exclusive = {r["source"] for r in _select(store, _EXCLUSIVE, {})}
    state_of = {r["t"]: r["state"] for r in found if "state" in r}
    offices = {min(f["office"]) for t, f in facts.items() if f.get("office") and not f.get("state")}
    office_state = {}
    if offices:
        office_values = " ".join(URIRef(o).n3() for o in sorted(offices))
        rows = _select(
            store,
            f"SELECT ?office ?state WHERE {{ VALUES ?office {{ {office_values} }} "
            f"?office <{PG}officeOf> ?state }}",
            {},
        )
        office_state = {r["office"]: r["state"] for r in sorted(rows, key=lambda r: r["state"], reverse=True)}
    out = []
    for iri in iris:
        f = facts.get(iri)
        if not f or not f.get("person"):
            continue
        role, office, status = _one(f, "role"), _one(f, "office"), _one(f, "status")
        sources = f.get("sources", set())
        out.append(
            _Tenure(
                iri=iri,
                person=min(f["person"]),
                state=_one(f, "state") or state_of.get(iri) or office_state.get(office or ""),
                role=role.removeprefix(str(PG)) if role else None,
                office=office,
                start=_one(f, "start"),
                end=_one(f, "end"),
                ongoing=_one(f, "ongoing"),
                status=STATUS_NAME.get(status or "", "confirmed"),
                entry=_one(f, "entry"),
                exit=_one(f, "exit"),
                reading_of=_one(f, "reading_of"),
                record=_one(f, "record"),
                sources=set(sources),
                graphs=set(f["graphs"]),
                exclusive=bool(sources & exclusive),
            )
        )
    return out


def _tenures_of_state(store: Store, state: str, day: date | None = None) -> list[_Tenure]:
    if day is None:
        return _tenures(store, _select(store, _TENURES_OF_STATE, {"state": state}))
    return _tenures(store, _select(store, _OF_STATE.format(pg=PG, when=_may_hold(day)), {"state": state}))


def _tenures_of_person(store: Store, person: str) -> list[_Tenure]:
    return _tenures(store, _select(store, _TENURES_OF_PERSON, {"person": person}))


def _sources_of(items: Iterable[_Tenure], labels: Mapping[str, str]) -> list[dict[str, str]]:
    return [
        {"id": s, "label": labels.get(s, _local(s))} for s in sorted({s for t in items for s in t.sources})
    ]


def _tenure_row(t: _Tenure, labels: Mapping[str, str]) -> dict[str, Any]:
    sources = [{"id": s, "label": labels.get(s, _local(s))} for s in sorted(t.sources)]
    return {
        "tenure": t.iri,
        "person": _named(t.person, labels),
        "state": _named(t.state, labels),
        "role": t.role,
        "office": _named(t.office, labels),
        "start": t.start,
        "end": t.end,
        "end_exclusive": t.exclusive,
        "ongoing_as_of": t.ongoing,
        "status": t.status,
        "entry": t.entry,
        "exit": t.exit,
        "sources": sources,
        "source": sources[0] if sources else None,  # the first: most tenures cite one
        "graphs": sorted(t.graphs),
        "record": t.record,
        "reading_of": t.reading_of,
        "relation": t.relation,
    }


def _role_words(role: str | None) -> str:
    return _ROLE_SLUG.get(role or "", role or "tenure").replace("-", " ")


def _link_readings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row's `other_readings` (the other rows of the same relation, from other assertions),
    and the answer's `relations`: one entry per relation with its tenures and their sources."""
    by_relation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_relation[r["relation"]].append(r)
    for r in rows:
        r["other_readings"] = [o["tenure"] for o in by_relation[r["relation"]] if o is not r]
    return [
        {
            "relation": key,
            "person": group[0]["person"],
            "role": group[0]["role"],
            "tenures": [g["tenure"] for g in group],
            "sources": sorted({s["id"] for g in group for s in g["sources"]}),
        }
        for key, group in by_relation.items()
    ]


def leaders_on(
    store: Store,
    state: str,
    day: date,
    role: str | None = None,
    sources: Sequence[str] = (),
    status: str | None = None,
) -> dict[str, Any]:
    """Question 1: who led `state` on `day`, by role; one row per tenure (assertion) with its
    sources, readings of the same relation by other sources linked (a handover day may give two)."""
    _check_sources(sources)
    wanted_role, least = role_of(role), min_status(status)
    found: list[tuple[_Tenure, OnDay]] = []
    for t in _tenures_of_state(store, state, day):
        # Only tenures that say which leadership they record: a foreign minister's is not one.
        if t.role is None or (wanted_role and t.role != wanted_role) or not t.wanted(sources, least):
            continue
        held = t.on(day)
        if held.possible:
            found.append((t, held))
    labels = _label_map(store, {state} | {x for t, _ in found for x in (t.person, t.office, *t.sources) if x})
    found.sort(
        key=lambda f: (
            f[0].role or "",
            labels.get(f[0].person, ""),
            f[0].relation,
            f[0].start or "",
            sorted(f[0].sources),
        )
    )
    rows = []
    for t, held in found:
        row = _tenure_row(t, labels)
        row["certain"], row["caveat"] = held.certain, held.caveat
        rows.append(row)
    relations = _link_readings(rows)
    names = [(f"{labels.get(t.person, _local(t.person))} ({_role_words(t.role)})", held) for t, held in found]
    return {
        "state": {"id": state, "label": labels.get(state, "")},
        "date": day.isoformat(),
        "role": wanted_role,
        "status": status.strip().lower() if status else "denied",
        "source_filter": list(sources),
        "leaders": rows,
        "relations": relations,
        "caveats": _caveats(names, day),
        "sources": _sources_of((t for t, _ in found), labels),
    }


def _apart(before: _Tenure, after: _Tenure) -> int:
    """Days that surely lie between two spells (0 when they may touch or overlap)."""
    if not before.end:
        return 0
    last = parse_period(before.end).latest - (timedelta(days=1) if before.exclusive else timedelta(0))
    first = parse_period(after.start).earliest if after.start else last
    return max(0, (first - last).days - 1)


def _neighbours(peers: list[_Tenure], t: _Tenure) -> tuple[_Tenure | None, _Tenure | None]:
    """The tenures just before and after `t` among `peers` (same state, role and list), by start."""
    ordered = sorted(peers, key=_Tenure.order)
    i = next(k for k, r in enumerate(ordered) if r.iri == t.iri)
    return (ordered[i - 1] if i > 0 else None, ordered[i + 1] if i + 1 < len(ordered) else None)


def person_spells(
    store: Store, person: str, sources: Sequence[str] = (), status: str | None = None
) -> dict[str, Any]:
    """Question 4: a person's spells, each with its predecessor and successor in the same role and
    state, in the same list of holders (`_Tenure.same_list`). A person does not succeed themselves
    across a gap the list leaves empty (the bundled Putin 2000–2008 and from 2012: Medvedev is not
    in the bundled data): there the neighbour is `previous`/`next`, with the gap, and the
    predecessor is not known."""
    _check_sources(sources)
    least = min_status(status)
    mine = [t for t in _tenures_of_person(store, person) if t.wanted(sources, least)]
    by_state = {st: _tenures_of_state(store, st) for st in sorted({t.state for t in mine if t.state})}
    spells = []
    for t in sorted(mine, key=lambda t: (t.start or "", sorted(t.sources), t.iri)):
        peers = [
            r
            for r in by_state.get(t.state or "", [])
            if r.role == t.role and t.same_list(r) and STATUSES.get(r.status, 3) >= least
        ]
        before, after = _neighbours(peers, t) if any(r.iri == t.iri for r in peers) else (None, None)
        spells.append((t, before, after))
    related = {x for _, b, a in spells for x in (b, a) if x}
    labels = _label_map(
        store,
        {person} | {x for t in [*mine, *related] for x in (t.person, t.office, t.state, *t.sources) if x},
    )

    def brief(x: _Tenure) -> dict[str, Any]:
        return {
            "person": _named(x.person, labels),
            "start": x.start,
            "end": x.end,
            "ongoing_as_of": x.ongoing,
            "status": x.status,
            "tenure": x.iri,
        }

    rows = []
    for t, before, after in spells:
        row = _tenure_row(t, labels)
        for side, neighbour, other, gap, gap_key in (
            ("predecessor", "previous", before, _apart(before, t) if before else None, "gap_before_days"),
            ("successor", "next", after, _apart(t, after) if after else None, "gap_after_days"),
        ):
            across = (
                other is not None and gap is not None and other.person == t.person and gap > _SAME_LEADER_GAP
            )
            row[side] = brief(other) if other is not None and not across else None
            row[neighbour] = brief(other) if other is not None and across else None
            row[gap_key] = gap
        rows.append(row)
    return {
        "person": {"id": person, "label": labels.get(person, "")},
        "status": status.strip().lower() if status else "denied",
        "source_filter": list(sources),
        "spells": rows,
        "sources": _sources_of(mine, labels),
    }


# ---------------------------------------------------------------------------------------- statehood


@dataclass
class _Reading:
    """One source's dated statement that a state existed (a statehood spell), or that an
    organisation had a member (a membership)."""

    node: str | None
    graph: str
    subject: str
    source: str
    start: str | None = None
    end: str | None = None
    ongoing: str | None = None
    known_from: str | None = None
    status: str = "confirmed"
    exclusive: bool = False

    def on(self, day: date) -> OnDay:
        return on_day(
            self.start,
            self.end,
            day,
            exclusive_end=self.exclusive,
            ongoing_as_of=self.ongoing,
            known_from=self.known_from,
        )

    def wanted(self, sources: Sequence[str], least: int) -> bool:
        return STATUSES.get(self.status, 3) >= least and source_matches(self.source, self.graph, sources)


def _reading_query(anchor: str) -> str:
    """Statehood spells or memberships, one row per node, graph and source: small classes, so the
    fields are read in the same query (?org and ?subject are there to be bound)."""
    return (
        "SELECT ?org ?subject ?t ?g ?source ?start ?end ?ongoing ?status WHERE { GRAPH ?g { "
        f"{anchor} ?t <{PG}source> ?source . OPTIONAL {{ ?t <{PG}start> ?start }} "
        f"OPTIONAL {{ ?t <{PG}end> ?end }} OPTIONAL {{ ?t <{PG}ongoingAsOf> ?ongoing }} "
        f"OPTIONAL {{ ?t <{PG}status> ?status }} }} }}"
    )


_SPELLS = _reading_query(f"?t a <{PG}Statehood> ; <{PG}state> ?subject .")
_SPELLS_OF = _reading_query(f"?t <{PG}state> ?subject ; a <{PG}Statehood> .")
_MEMBERS = _reading_query(f"?t <{PG}organisation> ?org ; <{PG}member> ?subject .")

# The bundled states of today: each with its ISO 3166-1 code, citing the ISO list, known as of the
# list's date (dcterms:date, else issued, else the day it was read: the undated-claim rule).
_LIST_DATE = (
    f"SELECT ?list ?date ?issued ?retrieved WHERE {{ ?list a <{PG}Source> "
    f"OPTIONAL {{ ?list <{_DCT}date> ?date }} OPTIONAL {{ ?list <{_DCT}issued> ?issued }} "
    f"OPTIONAL {{ ?list <{PG}retrieved> ?retrieved }} }}"
)
_LISTED = (
    f"SELECT ?list ?state ?g WHERE {{ GRAPH ?g {{ ?state <{PG}isoAlpha3> ?code ; <{PG}source> ?list }} }}"
)


def _readings(store: Store, query: str, bindings: Mapping[str, str | date]) -> list[_Reading]:
    """The statehood spells or memberships a `_reading_query` finds, one per node and source."""
    exclusive = {r["source"] for r in _select(store, _EXCLUSIVE, {})}
    out: dict[tuple[str, str], _Reading] = {}
    # Sorted: a value stated twice (in two graphs) is chosen the same way on every backend.
    for r in sorted(_select(store, query, bindings), key=lambda r: tuple(sorted(r.items()))):
        out.setdefault(
            (r["t"], r["source"]),
            _Reading(
                node=r["t"],
                graph=r["g"],
                subject=r["subject"],
                source=r["source"],
                start=r.get("start"),
                end=r.get("end"),
                ongoing=r.get("ongoing"),
                status=STATUS_NAME.get(r.get("status", ""), "confirmed"),
                exclusive=r["source"] in exclusive,
            ),
        )
    return list(out.values())


def statehood(store: Store, state: str | None = None, day: date | None = None) -> list[_Reading]:
    """Every source's reading that a state existed (of one state, or those that may have on `day`):
    statehood spells (COW, …) and the bundled list of today's states, which says nothing of when
    each began (known from the list's date on)."""
    if state is not None:
        out = _readings(store, _SPELLS_OF, {"subject": state})
    elif day is not None:
        out = _readings(
            store, _reading_query(f"?t a <{PG}Statehood> ; <{PG}state> ?subject . {_may_hold(day)}"), {}
        )
    else:
        out = _readings(store, _SPELLS, {})
    if state is not None and day is not None:
        out = [s for s in out if s.on(day).possible]
    dates = _select(store, _LIST_DATE, {"list": PRESENT_DAY_STATES})
    when = next((r.get("date") or r.get("issued") or r.get("retrieved") for r in dates), None)
    if when is None or (day is not None and parse_period(when).latest > day):
        return out  # no list of today's states, or `day` is before it: it says nothing then
    listed: dict[str, _Reading] = {}
    bound = {"list": PRESENT_DAY_STATES} | ({"state": state} if state is not None else {})
    for r in sorted(_select(store, _LISTED, bound), key=lambda r: r["g"]):
        listed.setdefault(
            r["state"],
            _Reading(
                node=None, graph=r["g"], subject=r["state"], source=r["list"], ongoing=when, known_from=when
            ),
        )
    return out + list(listed.values())


def statehood_of(store: Store, state: str, day: date) -> dict[str, Any]:
    """A state's statehood on `day`, by every source that reads it (an entity page as of a day)."""
    found = [(s, held) for s in statehood(store, state, day) if (held := s.on(day)).possible]
    labels = _label_map(store, {s.source for s, _ in found})
    rows = [
        {
            "spell": s.node,
            "start": s.start,
            "end": s.end,
            "ongoing_as_of": s.ongoing,
            "known_from": s.known_from,
            "status": s.status,
            "source": _named(s.source, labels),
            "graph": s.graph,
            "certain": held.certain,
            "caveat": held.caveat,
        }
        for s, held in sorted(found, key=lambda f: (f[0].source, f[0].start or ""))
    ]
    return {
        "statehood": rows,
        "caveats": _caveats([(labels.get(s.source, _local(s.source)), h) for s, h in found], day, "sources"),
        "sources": [
            {"id": x, "label": labels.get(x, _local(x))} for x in sorted({s.source for s, _ in found})
        ],
    }


def states_on(
    store: Store, day: date, sources: Sequence[str] = (), status: str | None = None
) -> dict[str, Any]:
    """Question 2: the states in the state system on `day`, per source (count and list)."""
    _check_sources(sources)
    least = min_status(status)
    per: dict[str, list[tuple[_Reading, OnDay]]] = defaultdict(list)
    for s in statehood(store, day=day):
        if not s.wanted(sources, least):
            continue
        held = s.on(day)
        if held.possible:
            per[s.source].append((s, held))
    labels = _label_map(store, set(per) | {s.subject for rows in per.values() for s, _ in rows})
    answer = []
    for src, rows in sorted(per.items()):
        states = sorted(
            (
                {
                    "id": s.subject,
                    "label": labels.get(s.subject, ""),
                    "start": s.start,
                    "end": s.end,
                    "ongoing_as_of": s.ongoing,
                    "status": s.status,
                    "certain": h.certain,
                    "caveat": h.caveat,
                }
                for s, h in rows
            ),
            key=lambda x: (x["label"], x["id"]),
        )
        entry: dict[str, Any] = {
            "source": {"id": src, "label": labels.get(src, _local(src))},
            "count": len(states),
            "states": states,
            "caveats": _caveats(
                [(labels.get(s.subject, _local(s.subject)), h) for s, h in rows], day, "states"
            ),
        }
        if src == PRESENT_DAY_STATES:
            entry["note"] = "the states of today by ISO 3166-1; this list does not say when each began"
        answer.append(entry)
    return {
        "date": day.isoformat(),
        "status": status.strip().lower() if status else "denied",
        "source_filter": list(sources),
        "per_source": answer,
        "caveats": [c for a in answer for c in a["caveats"]],
        "sources": [a["source"] for a in answer],
    }


# ---------------------------------------------------------------------------------------- UN membership


def _memberships(store: Store, org: str, member: str | None = None) -> list[_Reading]:
    return _readings(store, _MEMBERS, {"org": org} | ({"subject": member} if member else {}))


def un_membership(
    store: Store,
    state: str | None,
    day: date,
    sources: Sequence[str] = (),
    org: str = UN,
    status: str | None = None,
) -> dict[str, Any]:
    """Question 3: was `state` a member of the UN on `day` (per source), and which states were
    admitted on `day`."""
    _check_sources(sources)
    least = min_status(status)
    rows = [m for m in _memberships(store, org) if m.wanted(sources, least)]
    readings = []
    admitted = []
    for m in rows:
        if state is not None and m.subject == state:
            readings.append((m, m.on(day)))
        if m.start and parse_period(m.start).earliest <= day <= parse_period(m.start).latest:
            admitted.append(m)
    labels = _label_map(
        store,
        {org} | ({state} if state else set()) | {m.source for m in rows} | {m.subject for m in admitted},
    )

    def src(m: _Reading) -> dict[str, str]:
        return {"id": m.source, "label": labels.get(m.source, "")}

    answer: dict[str, Any] = {
        "organisation": {"id": org, "label": labels.get(org, "")},
        "date": day.isoformat(),
        "status": status.strip().lower() if status else "denied",
        "source_filter": list(sources),
        "admitted_on_date": sorted(
            (
                {
                    "id": m.subject,
                    "label": labels.get(m.subject, ""),
                    "start": m.start,
                    "status": m.status,
                    "certain": parse_period(m.start or "").earliest == parse_period(m.start or "").latest,
                    "source": src(m),
                }
                for m in admitted
            ),
            key=lambda x: (x["label"], x["source"]["id"]),
        ),
    }
    if state is not None:
        answer["state"] = {"id": state, "label": labels.get(state, "")}
        answer["member"] = any(h.possible for _, h in readings)
        answer["certain"] = any(h.certain for _, h in readings)
        answer["readings"] = sorted(
            (
                {
                    "member": h.possible,
                    "certain": h.certain,
                    "caveat": h.caveat,
                    "start": m.start,
                    "end": m.end,
                    "ongoing_as_of": m.ongoing,
                    "status": m.status,
                    "source": src(m),
                    "membership": m.node,
                }
                for m, h in readings
            ),
            key=lambda x: x["source"]["id"],
        )
        answer["caveats"] = _caveats([(labels.get(m.source, _local(m.source)), h) for m, h in readings], day)
    used = {m.source for m, _ in readings} | {m.source for m in admitted}
    answer["sources"] = [{"id": s, "label": labels.get(s, "")} for s in sorted(used)]
    return answer
