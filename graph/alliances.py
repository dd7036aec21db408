"""Questions about alliances, agreements and sanctions, one call each, every answer per source:

1. `members_on`: the members of an alliance or organisation on a day, with each one's obligations;
2. `allied_on`: were two states allied on a day (under a defence obligation in at least one
   direction), and through which alliances;
3. `agreement_parties`, `agreements_between`, `agreements_of`: an agreement's parties and their
   dates, the agreements two states are parties to, the agreements a state was party to on a day;
4. `sanctions_against`: sanctions on a target begun in a year, in force on a day, by a sender,
   by measure type;
5. `readings`: where sources disagree: each source's dates for one relation (X in alliance A).

An organisation and the agreements that found it (pg:foundingTreaty: NATO and ATOP's alliance
3180) are asked together: the bundled memberships and ATOP's party records are both members,
each under its own source. Dates are read at their precision under each source's end rule,
as graph/timeline.py reads them (`certain: false` when the day falls inside an imprecise date);
every answer takes `source=` filters (graph/timeline.py's `source_matches`) and lists the
sources it used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from rdflib import URIRef
from rdflib.term import Node

from pactgraph.graph.dates import parse_period
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.store import Store
from pactgraph.graph.timeline import Held, held_on, source_matches
from pactgraph.ontology import PG

_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
OBLIGATION_WORDS = {
    str(PG.DefenceObligation): "defence",
    str(PG.OffenceObligation): "offence",
    str(PG.NeutralityObligation): "neutrality",
    str(PG.NonAggressionObligation): "non-aggression",
    str(PG.ConsultationObligation): "consultation",
}
MEASURE_WORDS = {
    "trade": PG.TradeMeasure,
    "arms": PG.ArmsMeasure,
    "military": PG.MilitaryMeasure,
    "financial": PG.FinancialMeasure,
    "travel": PG.TravelMeasure,
    "other": PG.OtherMeasure,
}


def _values(var: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{var} {{ {' '.join(URIRef(i).n3() for i in sorted(set(iris)))} }}"


def _text(row: dict[str, Node], name: str) -> str | None:
    v = row.get(name)
    return str(v) if v is not None else None


def _check_sources(sources: Sequence[str]) -> None:
    for s in sources:
        if not s.strip():
            raise PactgraphError(Kind.BAD_INPUT, "source= must not be empty")


def labels(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """English (else any) labels of the given IRIs."""
    wanted = {i for i in iris if i}
    if not wanted:
        return {}
    out: dict[str, str] = {}
    for r in store.select(f"SELECT ?n ?l WHERE {{ {_values('n', wanted)} ?n <{_LABEL}> ?l }}"):
        n, lang = str(r["n"]), getattr(r["l"], "language", None)
        if n not in out or lang == "en":
            out[n] = str(r["l"])
    return out


def _ref(iri: str | None, names: dict[str, str]) -> dict[str, str] | None:
    return {"id": iri, "label": names.get(iri, iri.rsplit("/", 1)[-1])} if iri else None


# ---------------------------------------------------------------------------------------- readings

_RECORDS = f"""
SELECT ?node ?g ?kind ?who ?what ?start ?end ?ongoing ?source ?rule ?phase ?ob ?sig ?rat ?acc ?eif ?wd
       ?signer ?key ?status WHERE {{
  %VALUES%
  {{ GRAPH ?g {{ ?node <{PG.partyTo}> ?what ; <{PG.party}> ?who }} BIND("party" AS ?kind) }}
  UNION
  {{ GRAPH ?g {{ ?node <{PG.organisation}> ?what ; <{PG.member}> ?who }} BIND("membership" AS ?kind) }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.start}> ?start }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.end}> ?end }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.ongoingAsOf}> ?ongoing }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.source}> ?source }} OPTIONAL {{ ?source <{PG.endRule}> ?rule }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.phase}> ?phase }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.obligation}> ?ob }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.partySignature}> ?sig }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.partyRatification}> ?rat }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.partyAccession}> ?acc }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.partyEntryIntoForce}> ?eif }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.partyWithdrawal}> ?wd }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.signer}> ?signer }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.readingOf}> ?key }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node <{PG.status}> ?status }} }}
}}"""


def records(
    store: Store, *, of: Iterable[str] = (), by: Iterable[str] = (), sources: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Party records and memberships (one row per node and source): of the agreements or
    organisations `of`, or by the parties `by`."""
    what, who = list(of), list(by)
    values = " ".join(([_values("what", what)] if what else []) + ([_values("who", who)] if who else []))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for r in store.select(_RECORDS.replace("%VALUES%", values)):
        src = _text(r, "source") or ""
        if not source_matches(src, str(r["g"]), sources):
            continue
        key = (str(r["node"]), src)
        rec = found.get(key)
        if rec is None:
            rec = found[key] = {
                "node": str(r["node"]),
                "kind": str(r["kind"]),
                "graph": str(r["g"]),
                "party": str(r["who"]),
                "of": str(r["what"]),
                "start": _text(r, "start"),
                "end": _text(r, "end"),
                "ongoing_as_of": _text(r, "ongoing"),
                "source": src,
                "exclusive": _text(r, "rule") == str(PG.ExclusiveEnd),
                "phase": int(str(r["phase"])) if r.get("phase") is not None else None,
                "obligations": [],
                "signature": _text(r, "sig"),
                "ratification": _text(r, "rat"),
                "accession": _text(r, "acc"),
                "entry_into_force": _text(r, "eif"),
                "withdrawal": _text(r, "wd"),
                "signer": _text(r, "signer"),
                "reading_of": _text(r, "key"),
                "status": (_text(r, "status") or str(PG.Confirmed)).removeprefix(str(PG)).lower(),
            }
        ob = _text(r, "ob")
        if ob and OBLIGATION_WORDS.get(ob, ob) not in rec["obligations"]:
            rec["obligations"].append(OBLIGATION_WORDS.get(ob, ob))
    out = list(found.values())
    for rec in out:
        rec["obligations"].sort()
    return out


def family(store: Store, iri: str) -> set[str]:
    """An alliance or organisation with what it is linked to by pg:foundingTreaty (NATO and ATOP's
    alliance 3180): they are asked together, each reading under its own source."""
    out = {iri}
    rows = store.select(
        f"SELECT ?x WHERE {{ {{ {URIRef(iri).n3()} <{PG.foundingTreaty}> ?x }}"
        f" UNION {{ ?x <{PG.foundingTreaty}> {URIRef(iri).n3()} }} }}"
    )
    out |= {str(r["x"]) for r in rows}
    return out


def _held(rec: dict[str, Any], day: date) -> Held:
    return held_on(rec["start"], rec["end"], rec["ongoing_as_of"], rec["exclusive"], day)


def _dates(rec: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start": rec["start"],
        "end": rec["end"],
        "end_exclusive": rec["exclusive"] and rec["end"] is not None,
        "ongoing_as_of": rec["ongoing_as_of"],
    }
    for k in ("signature", "ratification", "accession", "entry_into_force", "withdrawal"):
        if rec[k]:
            out[k] = rec[k]
    if rec["signer"]:
        out["signer"] = _ref(rec["signer"], names)
    if rec["phase"] is not None:
        out["phase"] = rec["phase"]
    return out


def _used(names: dict[str, str], srcs: Iterable[str]) -> list[dict[str, str]]:
    return [{"id": s, "label": names.get(s, s.rsplit("/", 1)[-1])} for s in sorted(set(srcs)) if s]


# ---------------------------------------------------------------------------------------- 1 members


def members_on(store: Store, alliance: str, day: date, sources: Sequence[str] = ()) -> dict[str, Any]:
    """Question 1: the members of `alliance` (an organisation or agreement, with the agreements
    that found it) on `day`, per source, each with its obligations there."""
    _check_sources(sources)
    fam = family(store, alliance)
    held = [(r, h) for r in records(store, of=fam, sources=sources) if (h := _held(r, day)).holds]
    names = labels(store, fam | {r["party"] for r, _ in held} | {r["source"] for r, _ in held})
    per: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r, h in sorted(held, key=lambda x: (x[0]["start"] or "", x[0]["node"])):
        row = {
            "member": _ref(r["party"], names),
            "via": _ref(r["of"], names),
            **_dates(r, names),
            "obligations": r["obligations"],
            "certain": h.certain,
            "record": r["node"],
        }
        # One row per member and source: a phase change on the day gives the later phase.
        per[r["source"]][r["party"]] = row
    answer = [
        {
            "source": {"id": s, "label": names.get(s, "")},
            "count": len(rows),
            "members": sorted(rows.values(), key=lambda x: x["member"]["label"]),
        }
        for s, rows in sorted(per.items())
    ]
    return {
        "alliance": _ref(alliance, names),
        "linked": [_ref(x, names) for x in sorted(fam - {alliance})],
        "date": day.isoformat(),
        "source_filter": list(sources),
        "per_source": answer,
        "sources": _used(names, per),
    }


# ---------------------------------------------------------------------------------------- 2 allied


def _alliances(store: Store, units: set[str]) -> set[str]:
    """Which of these agreements and organisations are alliances: an agreement with an alliance
    obligation (ATOP's), or an organisation typed pg:Alliance."""
    if not units:
        return set()
    rows = store.select(
        f"SELECT DISTINCT ?u WHERE {{ {_values('u', units)} "
        f"{{ ?u <{PG.obligation}> ?o }} UNION {{ ?u a <{PG.Alliance}> }} }}"
    )
    return {str(r["u"]) for r in rows}


def _any_known(values: Iterable[bool | None]) -> bool | None:
    """True if any is, else False if any source stated obligations, else None (none stated)."""
    seen = list(values)
    return True if any(seen) else False if any(v is False for v in seen) else None


def allied_on(store: Store, x: str, y: str, day: date, sources: Sequence[str] = ()) -> dict[str, Any]:
    """Question 2: were `x` and `y` allied on `day`, per source, through which alliances, and under
    a defence obligation in at least one direction (a party's defence obligation is owed to its
    allies; a source that states no obligations answers `defence: null`)."""
    _check_sources(sources)
    if x == y:
        raise PactgraphError(Kind.BAD_INPUT, "give two different states")
    recs = [(r, h) for r in records(store, by={x, y}, sources=sources) if (h := _held(r, day)).holds]
    allied_units = _alliances(store, {r["of"] for r, _ in recs})
    sides: dict[tuple[str, str], dict[str, list[tuple[dict[str, Any], Held]]]] = defaultdict(
        lambda: {x: [], y: []}
    )
    for r, h in recs:
        if r["of"] in allied_units:
            sides[(r["source"], r["of"])][r["party"]].append((r, h))
    names = labels(store, {x, y} | {u for _, u in sides} | {s for s, _ in sides})
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (src, unit), both in sorted(sides.items()):
        if not both[x] or not both[y]:
            continue
        rx, hx = both[x][-1]
        ry, hy = both[y][-1]
        stated = rx["kind"] == "party" or ry["kind"] == "party"
        x_def = "defence" in rx["obligations"] if rx["kind"] == "party" else None
        y_def = "defence" in ry["obligations"] if ry["kind"] == "party" else None
        per[src].append(
            {
                "alliance": _ref(unit, names),
                "x": {**_dates(rx, names), "obligations": rx["obligations"], "certain": hx.certain},
                "y": {**_dates(ry, names), "obligations": ry["obligations"], "certain": hy.certain},
                "x_defends_y": x_def,
                "y_defends_x": y_def,
                "defence": (bool(x_def) or bool(y_def)) if stated else None,
            }
        )
    answer: list[dict[str, Any]] = [
        {
            "source": {"id": s, "label": names.get(s, "")},
            "allied": True,
            "defence": _any_known(t["defence"] for t in through),
            "through": through,
        }
        for s, through in sorted(per.items())
    ]
    return {
        "x": _ref(x, names),
        "y": _ref(y, names),
        "date": day.isoformat(),
        "source_filter": list(sources),
        "allied": bool(answer),
        "defence": _any_known(a["defence"] for a in answer),
        "per_source": answer,
        "sources": _used(names, per),
    }


# ---------------------------------------------------------------------------------------- 3 agreements


def _agreement_facts(store: Store, agreements: set[str]) -> dict[str, dict[str, Any]]:
    if not agreements:
        return {}
    rows = store.select(
        f"SELECT ?a ?signed ?force ?until ?ongoing ?amends WHERE {{ {_values('a', agreements)} "
        f"OPTIONAL {{ ?a <{PG.signingDate}> ?signed }} OPTIONAL {{ ?a <{PG.entryIntoForce}> ?force }} "
        f"OPTIONAL {{ ?a <{PG.endOfForce}> ?until }} OPTIONAL {{ ?a <{PG.ongoingAsOf}> ?ongoing }} "
        f"OPTIONAL {{ ?a <{PG.amends}> ?amends }} }}"
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        a = str(r["a"])
        out.setdefault(
            a,
            {
                "signed": _text(r, "signed"),
                "entry_into_force": _text(r, "force"),
                "end_of_force": _text(r, "until"),
                "ongoing_as_of": _text(r, "ongoing"),
                "amends": _text(r, "amends"),
            },
        )
    return out


def agreement_parties(store: Store, agreement: str, sources: Sequence[str] = ()) -> dict[str, Any]:
    """Question 3a: the parties of an agreement (or organisation, with its founding agreements)
    and their dates, per source."""
    _check_sources(sources)
    fam = family(store, agreement)
    recs = records(store, of=fam, sources=sources)
    names = labels(
        store,
        fam
        | {r["party"] for r in recs}
        | {r["source"] for r in recs}
        | {r["signer"] for r in recs if r["signer"]},
    )
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(recs, key=lambda r: (r["start"] or "", r["party"], r["phase"] or 0)):
        per[r["source"]].append(
            {
                "party": _ref(r["party"], names),
                "via": _ref(r["of"], names),
                **_dates(r, names),
                "obligations": r["obligations"],
                "record": r["node"],
            }
        )
    facts = _agreement_facts(store, fam)
    return {
        "agreement": _ref(agreement, names),
        "linked": [_ref(x, names) for x in sorted(fam - {agreement})],
        **({"dates": facts[agreement]} if agreement in facts else {}),
        "source_filter": list(sources),
        "per_source": [
            {
                "source": {"id": s, "label": names.get(s, "")},
                "count": len({p["party"]["id"] for p in rows}),
                "parties": rows,
            }
            for s, rows in sorted(per.items())
        ],
        "sources": _used(names, per),
    }


def agreements_between(store: Store, x: str, y: str, sources: Sequence[str] = ()) -> dict[str, Any]:
    """Question 3b: the agreements `x` and `y` are both parties to (in one source), with each
    party's dates."""
    _check_sources(sources)
    recs = records(store, by={x, y}, sources=sources)
    both: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {x: [], y: []})
    for r in recs:
        if r["kind"] == "party":
            both[(r["source"], r["of"])][r["party"]].append(r)
    shared = {k: v for k, v in both.items() if v[x] and v[y]}
    facts = _agreement_facts(store, {a for _, a in shared})
    names = labels(store, {x, y} | {a for _, a in shared} | {s for s, _ in shared})
    rows: list[dict[str, Any]] = []
    for (src, agr), sides in sorted(
        shared.items(), key=lambda kv: ((facts.get(kv[0][1]) or {}).get("signed") or "", kv[0])
    ):
        rows.append(
            {
                "agreement": _ref(agr, names),
                **({"dates": facts[agr]} if agr in facts else {}),
                "source": {"id": src, "label": names.get(src, "")},
                "x": [_dates(r, names) | {"obligations": r["obligations"]} for r in sides[x]],
                "y": [_dates(r, names) | {"obligations": r["obligations"]} for r in sides[y]],
            }
        )
    return {
        "x": _ref(x, names),
        "y": _ref(y, names),
        "source_filter": list(sources),
        "count": len({a for _, a in shared}),
        "agreements": rows,
        "sources": _used(names, (s for s, _ in shared)),
    }


def agreements_of(store: Store, x: str, day: date, sources: Sequence[str] = ()) -> dict[str, Any]:
    """Question 3c: the agreements `x` was party to on `day`, per source (an organisation's
    membership is not an agreement: see `members_on`)."""
    _check_sources(sources)
    held = [
        (r, h)
        for r in records(store, by={x}, sources=sources)
        if r["kind"] == "party" and (h := _held(r, day)).holds
    ]
    facts = _agreement_facts(store, {r["of"] for r, _ in held})
    names = labels(store, {x} | {r["of"] for r, _ in held} | {r["source"] for r, _ in held})
    per: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r, h in sorted(held, key=lambda v: (v[0]["start"] or "", v[0]["node"])):
        f = facts.get(r["of"], {})
        force = f.get("entry_into_force")
        per[r["source"]][r["of"]] = {
            "agreement": _ref(r["of"], names),
            **({"dates": f} if f else {}),
            **_dates(r, names),
            "obligations": r["obligations"],
            "in_force": None if force is None else parse_period(force).earliest <= day,
            "certain": h.certain,
        }
    return {
        "party": _ref(x, names),
        "date": day.isoformat(),
        "source_filter": list(sources),
        "per_source": [
            {
                "source": {"id": s, "label": names.get(s, "")},
                "count": len(rows),
                "agreements": sorted(
                    rows.values(), key=lambda a: (a["start"] or "", a["agreement"]["label"])
                ),
            }
            for s, rows in sorted(per.items())
        ],
        "sources": _used(names, per),
    }


# ---------------------------------------------------------------------------------------- 4 sanctions

_SANCTIONS = f"""
SELECT ?s ?g ?sender ?start ?end ?ongoing ?source ?rule ?type ?programme ?measure ?objective ?outcome
       ?record ?class WHERE {{
  %VALUES%
  GRAPH ?g {{ ?s <{PG.target}> ?target }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.imposer}> ?sender }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.start}> ?start }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.end}> ?end }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.ongoingAsOf}> ?ongoing }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.source}> ?source }} OPTIONAL {{ ?source <{PG.endRule}> ?rule }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.measureType}> ?type }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.programme}> ?programme }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.measure}> ?measure }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.objective}> ?objective }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.outcome}> ?outcome }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s <{PG.recordId}> ?record }} }}
  OPTIONAL {{ GRAPH ?g {{ ?s a ?class FILTER(STRSTARTS(STR(?class), "{PG}")) }} }}
}}"""


def measure_of(text: str | None) -> URIRef | None:
    if not text:
        return None
    found = MEASURE_WORDS.get(text.strip().lower())
    if found is None:
        raise PactgraphError(Kind.BAD_INPUT, f"measure is one of {', '.join(MEASURE_WORDS)}, not {text!r}")
    return found


def sanctions_against(
    store: Store,
    target: str,
    *,
    year: int | None = None,
    day: date | None = None,
    sender: str | None = None,
    measure: str | None = None,
    sources: Sequence[str] = (),
) -> dict[str, Any]:
    """Question 4: sanctions on `target`, per source: begun in `year`, in force on `day`, imposed
    by `sender`, including measures of the type `measure` (each filter optional, all combined)."""
    _check_sources(sources)
    wanted_type = measure_of(measure)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for r in store.select(_SANCTIONS.replace("%VALUES%", _values("target", [target]))):
        src = _text(r, "source") or ""
        if not source_matches(src, str(r["g"]), sources):
            continue
        rec = found.setdefault(
            (str(r["s"]), src),
            {
                "sanction": str(r["s"]),
                "source": src,
                "start": _text(r, "start"),
                "end": _text(r, "end"),
                "ongoing_as_of": _text(r, "ongoing"),
                "exclusive": _text(r, "rule") == str(PG.ExclusiveEnd),
                "senders": set(),
                "types": set(),
                "programmes": set(),
                "measures": set(),
                "objectives": set(),
                "outcomes": set(),
                "record": _text(r, "record"),
                "classes": set(),
            },
        )
        for key, var in (
            ("senders", "sender"),
            ("types", "type"),
            ("programmes", "programme"),
            ("measures", "measure"),
            ("objectives", "objective"),
            ("outcomes", "outcome"),
            ("classes", "class"),
        ):
            if (v := _text(r, var)) is not None:
                rec[key].add(v)
    kept: list[tuple[dict[str, Any], Held | None]] = []
    for rec in found.values():
        if year is not None and (rec["start"] is None or int(rec["start"][:4]) != year):
            continue
        if sender is not None and sender not in rec["senders"]:
            continue
        if wanted_type is not None and str(wanted_type) not in rec["types"]:
            continue
        h = None
        if day is not None:
            h = held_on(rec["start"], rec["end"], rec["ongoing_as_of"], rec["exclusive"], day)
            if not h.holds:
                continue
        kept.append((rec, h))
    concepts = {c for rec, _ in kept for k in ("types", "objectives", "outcomes") for c in rec[k]}
    names = labels(store, {target} | {s for rec, _ in kept for s in rec["senders"]} | {
        rec["source"] for rec, _ in kept} | {rec["sanction"] for rec, _ in kept} | concepts)  # fmt: skip
    rows = []
    for rec, h in sorted(kept, key=lambda v: (v[0]["start"] or "", v[0]["sanction"])):
        row: dict[str, Any] = {
            "sanction": _ref(rec["sanction"], names),
            "kind": next(
                (c.removeprefix(str(PG)) for c in sorted(rec["classes"]) if c != str(PG.Sanction)), "Sanction"
            ),
            "senders": sorted((_ref(s, names) or {} for s in rec["senders"]), key=lambda s: s["label"]),
            "start": rec["start"],
            "end": rec["end"],
            "ongoing_as_of": rec["ongoing_as_of"],
            "measure_types": sorted(names.get(c, c) for c in rec["types"]),
            "measures": sorted(rec["measures"]),
            "programmes": sorted(rec["programmes"]),
            "objectives": sorted(names.get(c, c) for c in rec["objectives"]),
            "outcomes": sorted(names.get(c, c) for c in rec["outcomes"]),
            "case_id": rec["record"],
            "source": {"id": rec["source"], "label": names.get(rec["source"], "")},
        }
        if h is not None:
            row["certain"] = h.certain
        rows.append(row)
    return {
        "target": _ref(target, names),
        "year": year,
        "date": day.isoformat() if day else None,
        "sender": _ref(sender, names) if sender else None,
        "measure": measure,
        "source_filter": list(sources),
        "count": len(rows),
        "sanctions": rows,
        "sources": _used(names, (rec["source"] for rec, _ in kept)),
    }


# ---------------------------------------------------------------------------------------- 5 readings


def _span(rec: dict[str, Any]) -> tuple[str | None, str | None]:
    return rec["start"], rec["end"] if rec["end"] else None


def readings(
    store: Store, alliance: str, member: str | None = None, sources: Sequence[str] = ()
) -> dict[str, Any]:
    """Question 5: where the sources disagree about membership of `alliance` (with the agreements
    that found it): for `member`, or for every member, each source's readings and dates; a
    source that records members of the alliance but not this one is listed as silent."""
    _check_sources(sources)
    fam = family(store, alliance)
    recs = records(store, of=fam, sources=sources)
    covering = {r["source"] for r in recs}
    by_member: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in recs:
        if member is None or r["party"] == member:
            by_member[r["party"]].append(r)
    names = labels(store, fam | set(by_member) | covering | ({member} if member else set()))
    relations = []
    for who, rs in sorted(by_member.items(), key=lambda kv: names.get(kv[0], kv[0])):
        per: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in sorted(rs, key=lambda r: (r["start"] or "", r["phase"] or 0)):
            per[r["source"]].append(r)
        # A source's reading as a whole: from its first start to its last end (ATOP's phases are
        # one membership), ongoing if its last record is.
        summary = {}
        for src, items in per.items():
            last = items[-1]
            summary[src] = (items[0]["start"], last["end"], last["ongoing_as_of"])
        silent = sorted(covering - set(per))
        starts = {s for s, _, _ in summary.values()}
        ends = {e for _, e, _ in summary.values()}
        agree = len(summary) > 0 and not silent and len(starts) == 1 and len(ends) == 1
        if member is None and agree:
            continue
        relations.append(
            {
                "member": _ref(who, names),
                "relation": next((r["reading_of"] for r in rs if r["reading_of"]), None),
                "agree": agree,
                "differs_in": [k for k, v in (("start", starts), ("end", ends)) if len(v) > 1]
                + (["stated"] if silent else []),
                "per_source": [
                    {
                        "source": {"id": s, "label": names.get(s, "")},
                        "start": summary[s][0],
                        "end": summary[s][1],
                        "ongoing_as_of": summary[s][2],
                        "readings": [
                            {
                                "via": _ref(r["of"], names),
                                **_dates(r, names),
                                "obligations": r["obligations"],
                                "record": r["node"],
                            }
                            for r in per[s]
                        ],
                    }
                    for s in sorted(per)
                ],
                "silent": [{"id": s, "label": names.get(s, "")} for s in silent],
            }
        )
    if member is not None and not relations:
        relations.append(
            {
                "member": _ref(member, names),
                "relation": None,
                "agree": not covering,
                "differs_in": ["stated"] if covering else [],
                "per_source": [],
                "silent": [{"id": s, "label": names.get(s, "")} for s in sorted(covering)],
            }
        )
    return {
        "alliance": _ref(alliance, names),
        "linked": [_ref(x, names) for x in sorted(fam - {alliance})],
        "member": _ref(member, names) if member else None,
        "source_filter": list(sources),
        "relations": relations,
        "sources": _used(names, covering),
    }
