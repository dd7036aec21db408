"""One person is one node across datasets: leaders of a new import are matched to the persons the
store already knows (bundled leaders, other datasets) by state, overlapping or touching spells
and name similarity, or by Wikidata id where both have one.

Names differ between datasets (Archigos' "Putin", REIGN's "Putin", the bundled "Vladimir
Putin"; "Al-Assad H." and "Hafez al-Assad"), so names are compared word-set-wise with rapidfuzz
after folding accents and punctuation. A match needs the same state and spells that overlap (or
touch, within a month, for a near-identical name); among several, the one whose spells overlap
most wins. Candidates that share a state and time but whose names are only close are not
merged: they are written to a review file, never guessed.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from rapidfuzz import fuzz
from rdflib.namespace import RDFS, SKOS

from pactgraph.graph.dates import parse_period
from pactgraph.graph.importers.base import slug
from pactgraph.graph.store import Store
from pactgraph.ontology import ENTITY_BASE, PG

MERGE_SCORE = 85.0  # word-set similarity (0–100) at which two leaders of one state and time are one
TOUCH_SCORE = 95.0  # spells that only touch (a handover) need a near-identical name
REVIEW_SCORE = 60.0  # below the merge score but at least this: listed for review
TOUCH = timedelta(days=31)  # month-precision ends (REIGN) make a handover look up to a month apart


@dataclass
class Spell:
    state: str  # the state's IRI
    start: date
    end: date | None  # the last day it may have lasted; None while ongoing


@dataclass
class Leader:
    """A person as one dataset records them: its own key, names, spells and Wikidata id."""

    key: str
    names: list[str]
    spells: list[Spell] = field(default_factory=list)
    wikidata: str | None = None


@dataclass
class Known:
    iri: str
    names: set[str] = field(default_factory=set)
    spells: list[Spell] = field(default_factory=list)
    wikidata: str | None = None
    labelled: bool = False  # another graph gives it an rdfs:label


@dataclass
class Reconciled:
    iris: dict[str, str]  # leader key -> person IRI
    labelled: set[str]  # person IRIs another graph labels already
    merged: int
    new: int
    near_misses: list[dict[str, str]]


def fold(name: str) -> str:
    """A name for comparison: no accents, no punctuation, lower case ("Al-Assad H." → "al assad h")."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def similarity(a: Iterable[str], b: Iterable[str]) -> float:
    return max(
        (fuzz.token_set_ratio(fold(x), fold(y)) for x in a for y in b if fold(x) and fold(y)), default=0.0
    )


def _overlap(a: Spell, b: Spell) -> int:
    """Days two spells share (negative: the gap between them); an ongoing spell runs to today."""
    today = date.today()
    start, end = max(a.start, b.start), min(a.end or today, b.end or today)
    return (end - start).days + 1


def known_persons(store: Store, exclude_graph: str) -> dict[str, Known]:
    """Persons with leader or office spells in the store, outside the graph being replaced."""
    pg = str(PG)
    rows = store.select(
        f"""SELECT ?p ?state ?start ?end ?name ?q WHERE {{
          GRAPH ?g {{ ?t <{pg}holder> ?p }}
          FILTER(?g != <{exclude_graph}>)
          ?t <{pg}start> ?start .
          {{ ?t <{pg}ofState> ?state }} UNION {{ ?t <{pg}office> ?o . ?o <{pg}officeOf> ?state }}
          OPTIONAL {{ ?t <{pg}end> ?end }}
          OPTIONAL {{ ?p <{pg}wikidataId> ?q }}
        }}"""
    )
    found: dict[str, Known] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for r in rows:
        iri = str(r["p"])
        k = found.setdefault(iri, Known(iri))
        if "q" in r:
            k.wikidata = str(r["q"])
        spell_key = (iri, str(r["state"]), str(r["start"]), str(r.get("end", "")))
        if spell_key in seen:
            continue
        seen.add(spell_key)
        try:
            start = parse_period(str(r["start"])).earliest
            end = parse_period(str(r["end"])).latest if "end" in r else None
        except Exception:  # a malformed date elsewhere in the store is not this import's concern
            continue
        k.spells.append(Spell(str(r["state"]), start, end))
    # Names from other graphs only: whether one of them labels the person decides whether this
    # import's name is its label or an alias (one label per language across the store).
    names = store.select(
        f"""SELECT ?p ?name ?how WHERE {{
          GRAPH ?g {{ ?p ?how ?name }} FILTER(?g != <{exclude_graph}>)
          VALUES ?how {{ <{RDFS.label}> <{SKOS.altLabel}> }}
          ?p a <{pg}Person> }}"""
    )
    for r in names:
        k2 = found.get(str(r["p"]))
        if k2 is not None:
            k2.names.add(str(r["name"]))
            k2.labelled |= r["how"] == RDFS.label
    return found


def taken_person_iris(store: Store, exclude_graph: str) -> set[str]:
    rows = store.select(
        f"SELECT DISTINCT ?p WHERE {{ GRAPH ?g {{ ?p a <{PG}Person> }} FILTER(?g != <{exclude_graph}>) }}"
    )
    return {str(r["p"]) for r in rows}


def reconcile(leaders: list[Leader], known: dict[str, Known], taken: set[str], dataset: str) -> Reconciled:
    """Give each leader a person IRI: a known person's when one matches, else a new readable one."""
    by_state: dict[str, list[tuple[Known, Spell]]] = defaultdict(list)
    by_qid: dict[str, Known] = {}
    for k in known.values():
        for s in k.spells:
            by_state[s.state].append((k, s))
        if k.wikidata:
            by_qid[k.wikidata] = k
    iris: dict[str, str] = {}
    near: list[dict[str, str]] = []
    merged = new = 0
    used = set(taken)
    for leader in leaders:
        match: Known | None = by_qid.get(leader.wikidata) if leader.wikidata else None
        if match is None:
            scores: dict[str, tuple[int, float, Known]] = {}
            for spell in leader.spells:
                for k, other in by_state.get(spell.state, ()):
                    if leader.wikidata and k.wikidata and leader.wikidata != k.wikidata:
                        continue
                    days = _overlap(spell, other)
                    if days < -TOUCH.days:
                        continue
                    best = scores.get(k.iri)
                    if best is None or days > best[0]:
                        scores[k.iri] = (days, best[1] if best else similarity(leader.names, k.names), k)
            # Sharing a handover day or month is touching, not overlapping: month-precision ends
            # (REIGN) overlap the successor's first month.
            ranked = sorted(scores.values(), key=lambda x: (x[1] >= MERGE_SCORE, x[0], x[1]), reverse=True)
            for days, score, k in ranked:
                if score >= MERGE_SCORE and (days > TOUCH.days or score >= TOUCH_SCORE):
                    match = k
                    break
            for days, score, k in ranked:
                if k is not match and days > TOUCH.days and REVIEW_SCORE <= score < MERGE_SCORE:
                    near.append(
                        {
                            "dataset": dataset,
                            "leader": leader.names[0],
                            "key": leader.key,
                            "candidate": k.iri,
                            "candidate_names": "; ".join(sorted(k.names)),
                            "score": f"{score:.0f}",
                            "shared_days": str(days),
                        }
                    )
        if match is not None:
            iris[leader.key] = match.iri
            merged += 1
            continue
        iri = _new_iri(leader, used)
        used.add(iri)
        iris[leader.key] = iri
        new += 1
    labelled = {k.iri for k in known.values() if k.labelled}
    return Reconciled(iris, labelled, merged, new, near)


def _new_iri(leader: Leader, used: set[str]) -> str:
    """person/<name>, or person/<name>-<state> when the name is taken, then numbered."""
    base = ENTITY_BASE + "person/" + slug(leader.names[0])
    if base not in used:
        return base
    state = leader.spells[0].state.rsplit("/", 1)[-1].lower() if leader.spells else "x"
    candidate = f"{base}-{slug(state)}"
    n = 2
    while candidate in used:
        candidate = f"{base}-{slug(state)}-{n}"
        n += 1
    return candidate


def write_review(path: Path, rows: list[dict[str, str]]) -> None:
    """The near misses, as CSV a person can open and judge."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = ["dataset", "leader", "key", "candidate", "candidate_names", "score", "shared_days"]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
