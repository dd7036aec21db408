"""Questions about time that analysts ask in one call: who led a state on a day, which states were
in the state system, UN membership, a person's spells with predecessors and successors.

Every answer can be limited to sources (`source=`: a dataset name such as "archigos", a release
such as "archigos-4.1", a source id or IRI, or a graph IRI) and says which sources it used. Each
source's reading is kept apart: two datasets that both name a leader give two rows. Dates are
read at their precision under the source's end rule (`pg:endRule`); a day the dates cannot
settle (a REIGN spell that ended "1953-01" asked about 1953-01-25) gives the row with
`"certain": false`. A spell ongoing as of its source's coverage end holds after it too, and says
so (`ongoing_as_of`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from rdflib import URIRef
from rdflib.term import Node

from pactgraph.graph.dates import parse_period
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.store import Store
from pactgraph.ontology import ENTITY_BASE, GRAPH_BASE, PG

ROLES = {
    "effective-leader": "EffectiveLeader",
    "head-of-state": "HeadOfState",
    "head-of-government": "HeadOfGovernment",
}
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


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


@dataclass(frozen=True)
class Held:
    """Whether a dated fact held on a day: surely, possibly (imprecise dates), or not."""

    holds: bool
    certain: bool


def held_on(start: str | None, end: str | None, ongoing: str | None, exclusive: bool, day: date) -> Held:
    """Did a fact with these dates hold on `day`? Start and end at their precision, the end read
    under the source's rule (an exclusive end's day is not part of the spell)."""
    if start is None:
        return Held(False, False)
    s = parse_period(start)
    if s.earliest > day:
        return Held(False, False)
    certain = s.latest <= day
    if end:
        e = parse_period(end)
        first_last, last_last = e.earliest, e.latest
        if exclusive:
            first_last, last_last = first_last - timedelta(days=1), last_last - timedelta(days=1)
        if last_last < day:
            return Held(False, False)
        certain = certain and first_last >= day
    return Held(True, certain)


def _sources_clause(sources: Sequence[str]) -> None:
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


def _value(row: dict[str, Node], name: str) -> str | None:
    v = row.get(name)
    return str(v) if v is not None else None


def _sources_used(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for r in rows:
        src = r["source"]
        seen.setdefault(src["id"], src)
    return sorted(seen.values(), key=lambda s: s["id"])


def _label_map(store: Store, iris: set[str]) -> dict[str, str]:
    if not iris:
        return {}
    out: dict[str, str] = {}
    values = " ".join(URIRef(i).n3() for i in sorted(iris))
    for r in store.select(f"SELECT ?n ?l WHERE {{ VALUES ?n {{ {values} }} ?n <{_LABEL}> ?l }}"):
        n = str(r["n"])
        lang = getattr(r["l"], "language", None)
        if n not in out or lang == "en":
            out[n] = str(r["l"])
    return out


# ---------------------------------------------------------------------------------------- tenures

_TENURES = f"""
SELECT ?t ?g ?person ?role ?office ?start ?end ?ongoing ?source ?rule ?entry ?exit ?key ?record WHERE {{
  {{ GRAPH ?g {{ ?t <{PG}ofState> ?state }} }}
  UNION {{ GRAPH ?g {{ ?t <{PG}office> ?office }} ?office <{PG}officeOf> ?state . }}
  GRAPH ?g {{ ?t <{PG}holder> ?person }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}role> ?role }} }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}office> ?office }} }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}start> ?start }} }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}end> ?end }} }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}ongoingAsOf> ?ongoing }} }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}source> ?source }} OPTIONAL {{ ?source <{PG}endRule> ?rule }} }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}entryManner> ?entry }} }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}exitManner> ?exit }} }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}readingOf> ?key }} }}
  OPTIONAL {{ GRAPH ?g {{ ?t <{PG}recordId> ?record }} }}
}}"""


def _tenures(store: Store, state: str | None = None, person: str | None = None) -> list[dict[str, Any]]:
    """Tenures of a state, or of a person, one row per tenure and source, as dicts."""
    query = _TENURES
    if state is not None:
        query = query.replace("SELECT ?t", "SELECT ?state ?t", 1)
        rows = store.select(query, {"state": URIRef(state)})
    else:
        query = query.replace("SELECT ?t", "SELECT ?state ?t", 1)
        rows = store.select(query, {"person": URIRef(str(person))})
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        src = _value(r, "source") or ""
        key = (str(r["t"]), src)
        if key in out:
            continue
        role = _value(r, "role")
        out[key] = {
            "tenure": str(r["t"]),
            "graph": str(r["g"]),
            "state": _value(r, "state"),
            "person": str(r["person"]),
            "role": role.removeprefix(str(PG)) if role else None,
            "office": _value(r, "office"),
            "start": _value(r, "start"),
            "end": _value(r, "end"),
            "ongoing_as_of": _value(r, "ongoing"),
            "exclusive": _value(r, "rule") == str(PG.ExclusiveEnd),
            "source": src,
            "entry": _value(r, "entry"),
            "exit": _value(r, "exit"),
            "reading_of": _value(r, "key"),
            "record": _value(r, "record"),
        }
    return list(out.values())


def _shape_tenure(t: dict[str, Any], labels: dict[str, str], held: Held | None = None) -> dict[str, Any]:
    row = {
        "person": {"id": t["person"], "label": labels.get(t["person"], t["person"].rsplit("/", 1)[-1])},
        "state": {"id": t["state"], "label": labels.get(t["state"] or "", "")} if t["state"] else None,
        "role": t["role"],
        "office": {"id": t["office"], "label": labels.get(t["office"], "")} if t["office"] else None,
        "start": t["start"],
        "end": t["end"],
        "ongoing_as_of": t["ongoing_as_of"],
        "entry": t["entry"],
        "exit": t["exit"],
        "source": {"id": t["source"], "label": labels.get(t["source"], t["source"].rsplit("/", 1)[-1])},
        "graph": t["graph"],
        "tenure": t["tenure"],
        "record": t["record"],
        "reading_of": t["reading_of"],
    }
    if held is not None:
        row["certain"] = held.certain
    return row


def leaders_on(
    store: Store, state: str, day: date, role: str | None = None, sources: Sequence[str] = ()
) -> dict[str, Any]:
    """Question 1: who led `state` on `day`, by role, per source (a handover day may give two)."""
    _sources_clause(sources)
    wanted_role = role_of(role)
    found = []
    for t in _tenures(store, state=state):
        # Only tenures that say which leadership they record: a foreign minister's is not one.
        if t["role"] is None or (wanted_role and t["role"] != wanted_role):
            continue
        if not source_matches(t["source"], t["graph"], sources):
            continue
        held = held_on(t["start"], t["end"], t["ongoing_as_of"], t["exclusive"], day)
        if held.holds:
            found.append((t, held))
    labels = _label_map(
        store, {state} | {x for t, _ in found for x in (t["person"], t["source"], t["office"]) if x}
    )
    rows = [_shape_tenure(t, labels, h) for t, h in found]
    rows.sort(key=lambda r: (r["role"] or "", r["source"]["id"], r["start"] or "", r["person"]["label"]))
    return {
        "state": {"id": state, "label": labels.get(state, "")},
        "date": day.isoformat(),
        "role": wanted_role,
        "source_filter": list(sources),
        "leaders": rows,
        "sources": _sources_used(rows),
    }


def _around(
    rows: list[dict[str, Any]], t: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The tenures just before and after `t` among `rows` (same state, role and source), by start."""
    ordered = sorted(rows, key=lambda r: (r["start"] or "", r["tenure"]))
    i = next(k for k, r in enumerate(ordered) if r["tenure"] == t["tenure"])
    return (ordered[i - 1] if i > 0 else None, ordered[i + 1] if i + 1 < len(ordered) else None)


def person_spells(store: Store, person: str, sources: Sequence[str] = ()) -> dict[str, Any]:
    """Question 4: a person's spells, each with its predecessor and successor in the same role,
    state and source."""
    _sources_clause(sources)
    mine = [t for t in _tenures(store, person=person) if source_matches(t["source"], t["graph"], sources)]
    by_state: dict[str, list[dict[str, Any]]] = {}
    for st in {t["state"] for t in mine if t["state"]}:
        by_state[st] = _tenures(store, state=st)
    spells = []
    related: list[dict[str, Any]] = []
    for t in mine:
        peers = [
            r
            for r in by_state.get(t["state"], [])
            if r["role"] == t["role"] and r["source"] == t["source"] and r["office"] == t["office"]
        ]
        before, after = _around(peers, t) if peers else (None, None)
        spells.append((t, before, after))
        related += [x for x in (before, after) if x]
    iris = {person} | {
        x for t in mine + related for x in (t["person"], t["source"], t["office"], t["state"]) if x
    }
    labels = _label_map(store, iris)

    def brief(x: dict[str, Any] | None) -> dict[str, Any] | None:
        if x is None:
            return None
        return {
            "person": {"id": x["person"], "label": labels.get(x["person"], "")},
            "start": x["start"],
            "end": x["end"],
            "ongoing_as_of": x["ongoing_as_of"],
            "tenure": x["tenure"],
        }

    rows = []
    for t, before, after in sorted(spells, key=lambda s: (s[0]["start"] or "", s[0]["source"])):
        row = _shape_tenure(t, labels)
        row["predecessor"], row["successor"] = brief(before), brief(after)
        rows.append(row)
    return {
        "person": {"id": person, "label": labels.get(person, "")},
        "source_filter": list(sources),
        "spells": rows,
        "sources": _sources_used(rows),
    }


# ---------------------------------------------------------------------------------------- statehood

_STATEHOOD = f"""
SELECT ?spell ?g ?state ?start ?end ?ongoing ?source ?rule WHERE {{
  GRAPH ?g {{ ?spell a <{PG}Statehood> ; <{PG}state> ?state ; <{PG}source> ?source }}
  OPTIONAL {{ GRAPH ?g {{ ?spell <{PG}start> ?start }} }}
  OPTIONAL {{ GRAPH ?g {{ ?spell <{PG}end> ?end }} }}
  OPTIONAL {{ GRAPH ?g {{ ?spell <{PG}ongoingAsOf> ?ongoing }} }}
  OPTIONAL {{ ?source <{PG}endRule> ?rule }}
}}"""


def statehood(store: Store, state: str | None = None) -> list[dict[str, Any]]:
    rows = store.select(_STATEHOOD.replace("SELECT ?spell", "SELECT ?spell", 1))
    out = []
    for r in rows:
        if state is not None and str(r["state"]) != state:
            continue
        out.append(
            {
                "spell": str(r["spell"]),
                "graph": str(r["g"]),
                "state": str(r["state"]),
                "start": _value(r, "start"),
                "end": _value(r, "end"),
                "ongoing_as_of": _value(r, "ongoing"),
                "source": str(r["source"]),
                "exclusive": _value(r, "rule") == str(PG.ExclusiveEnd),
            }
        )
    return out


def states_on(store: Store, day: date, sources: Sequence[str] = ()) -> dict[str, Any]:
    """Question 2: the states in the state system on `day`, per source (count and list)."""
    _sources_clause(sources)
    per: dict[str, list[tuple[dict[str, Any], Held]]] = defaultdict(list)
    for s in statehood(store):
        if not source_matches(s["source"], s["graph"], sources):
            continue
        held = held_on(s["start"], s["end"], s["ongoing_as_of"], s["exclusive"], day)
        if held.holds:
            per[s["source"]].append((s, held))
    labels = _label_map(store, set(per) | {s["state"] for rows in per.values() for s, _ in rows})
    answer = []
    for src, rows in sorted(per.items()):
        states = sorted(
            (
                {
                    "id": s["state"],
                    "label": labels.get(s["state"], ""),
                    "start": s["start"],
                    "end": s["end"],
                    "ongoing_as_of": s["ongoing_as_of"],
                    "certain": h.certain,
                }
                for s, h in rows
            ),
            key=lambda x: x["label"],
        )
        answer.append(
            {"source": {"id": src, "label": labels.get(src, "")}, "count": len(states), "states": states}
        )
    return {
        "date": day.isoformat(),
        "source_filter": list(sources),
        "per_source": answer,
        "sources": [a["source"] for a in answer],
    }


# ---------------------------------------------------------------------------------------- UN membership

UN = ENTITY_BASE + "org/un"

_MEMBERSHIPS = f"""
SELECT ?m ?g ?member ?start ?end ?ongoing ?source ?rule WHERE {{
  GRAPH ?g {{ ?m <{PG}organisation> ?org ; <{PG}member> ?member }}
  OPTIONAL {{ GRAPH ?g {{ ?m <{PG}start> ?start }} }}
  OPTIONAL {{ GRAPH ?g {{ ?m <{PG}end> ?end }} }}
  OPTIONAL {{ GRAPH ?g {{ ?m <{PG}ongoingAsOf> ?ongoing }} }}
  OPTIONAL {{ GRAPH ?g {{ ?m <{PG}source> ?source }} OPTIONAL {{ ?source <{PG}endRule> ?rule }} }}
}}"""


def _memberships(store: Store, org: str) -> list[dict[str, Any]]:
    rows = store.select(_MEMBERSHIPS.replace("SELECT ?m", "SELECT ?org ?m", 1), {"org": URIRef(org)})
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (str(r["m"]), _value(r, "source") or "")
        seen.setdefault(
            key,
            {
                "membership": str(r["m"]),
                "graph": str(r["g"]),
                "member": str(r["member"]),
                "start": _value(r, "start"),
                "end": _value(r, "end"),
                "ongoing_as_of": _value(r, "ongoing"),
                "source": _value(r, "source") or "",
                "exclusive": _value(r, "rule") == str(PG.ExclusiveEnd),
            },
        )
    return list(seen.values())


def un_membership(
    store: Store, state: str | None, day: date, sources: Sequence[str] = (), org: str = UN
) -> dict[str, Any]:
    """Question 3: was `state` a member of the UN on `day` (per source), and which states were
    admitted on `day`."""
    _sources_clause(sources)
    rows = [m for m in _memberships(store, org) if source_matches(m["source"], m["graph"], sources)]
    readings = []
    admitted = []
    for m in rows:
        if state is not None and m["member"] == state:
            held = held_on(m["start"], m["end"], m["ongoing_as_of"], m["exclusive"], day)
            readings.append((m, held))
        if m["start"] and parse_period(m["start"]).earliest <= day <= parse_period(m["start"]).latest:
            admitted.append(m)
    labels = _label_map(
        store,
        {org} | ({state} if state else set()) | {m["source"] for m in rows} | {m["member"] for m in admitted},
    )

    def src(m: dict[str, Any]) -> dict[str, str]:
        return {"id": m["source"], "label": labels.get(m["source"], "")}

    answer: dict[str, Any] = {
        "organisation": {"id": org, "label": labels.get(org, "")},
        "date": day.isoformat(),
        "source_filter": list(sources),
        "admitted_on_date": sorted(
            (
                {
                    "id": m["member"],
                    "label": labels.get(m["member"], ""),
                    "start": m["start"],
                    "source": src(m),
                }
                for m in admitted
            ),
            key=lambda x: (x["label"], x["source"]["id"]),
        ),
    }
    if state is not None:
        answer["state"] = {"id": state, "label": labels.get(state, "")}
        answer["member"] = any(h.holds for _, h in readings)
        answer["readings"] = sorted(
            (
                {
                    "member": h.holds,
                    "certain": h.certain,
                    "start": m["start"],
                    "end": m["end"],
                    "ongoing_as_of": m["ongoing_as_of"],
                    "source": src(m),
                    "membership": m["membership"],
                }
                for m, h in readings
            ),
            key=lambda x: x["source"]["id"],
        )
    used = {m["source"] for m, _ in readings} | {m["source"] for m in admitted}
    answer["sources"] = [{"id": s, "label": labels.get(s, "")} for s in sorted(used)]
    return answer
