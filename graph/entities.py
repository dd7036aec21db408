"""One entity as an analyst reads it: names, classes, identifiers, dated facts with sources, neighbours."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from pactgraph.graph.dates import on_day
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.paths import time_fields
from pactgraph.graph.projection import Edge, Projection, holds_on
from pactgraph.graph.store import Store
from pactgraph.ontology import PG

IDENTIFIERS = {
    PG.isoAlpha2: "iso_alpha2",
    PG.isoAlpha3: "iso_alpha3",
    PG.isoNumeric: "iso_numeric",
    PG.wikidataId: "wikidata",
    PG.gwCode: "gleditsch_ward",
    PG.cowCode: "correlates_of_war",
}


def _literal(value: Literal) -> dict[str, Any]:
    out: dict[str, Any] = {"value": str(value)}
    if value.language:
        out["lang"] = value.language
    elif value.datatype:
        out["datatype"] = str(value.datatype)
    return out


def _fact(proj: Projection, entity: str, edge: Edge, other: str) -> dict[str, Any]:
    forward = edge.subject == entity
    reading, inverse = proj.readings.get(edge.predicate, (edge.predicate, edge.predicate))
    fact: dict[str, Any] = {
        "predicate": edge.predicate,
        "label": reading if forward else inverse,
        "direction": "forward" if forward else "backward",
        "node": {"id": other, "label": proj.label(other), "class": proj.classes.get(other, "")},
        **time_fields(edge),
        "status": edge.status,
        "evidence": {"graph": edge.graph, "sources": list(edge.sources), "quote": edge.quote},
    }
    if other in proj.hubs:
        # The hub's other ends: who the membership, sanction or agreement links this entity to.
        fact["with"] = [
            {
                "role": e.predicate.rsplit("#", 1)[-1],
                "id": far,
                "label": proj.label(far),
                "class": proj.classes.get(far, ""),
            }
            for far in sorted(proj.graph.neighbors(other))
            if far != entity
            for e in proj.graph[other][far]["facts"]
            if e.subject == other
        ]
    return fact


def describe(store: Store, proj: Projection, iri: str, as_of: date | None = None) -> dict[str, Any]:
    """The entity's own statements from the store and its facts from the projection; with
    `as_of`, only the facts that held on that day, and for a state its leaders and statehood then."""
    node = URIRef(iri)
    rows = store.select("SELECT ?e ?p ?o WHERE { ?e ?p ?o FILTER(isLiteral(?o)) }", {"e": node})
    types = store.select("SELECT DISTINCT ?e ?c WHERE { ?e a ?c }", {"e": node})
    if not rows and not types and iri not in proj.graph:
        raise PactgraphError(Kind.NOT_FOUND, f"no entity {iri}")
    labels: list[dict[str, Any]] = []
    aliases: list[dict[str, Any]] = []
    identifiers: dict[str, str] = {}
    properties: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for r in rows:
        p, o = r["p"], r["o"]
        if (str(p), o.n3()) in seen or not isinstance(o, Literal):
            continue
        seen.add((str(p), o.n3()))
        if p == RDFS.label:
            labels.append(_literal(o))
        elif p in (SKOS.altLabel, SKOS.prefLabel):
            aliases.append(_literal(o))
        elif p in IDENTIFIERS:
            identifiers[IDENTIFIERS[p]] = str(o)  # type: ignore[index]
        else:
            reading = proj.readings.get(str(p), (str(p).rsplit("#", 1)[-1], ""))[0]
            properties.append({"predicate": str(p), "label": reading, **_literal(o)})
    facts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    neighbours = []
    if iri in proj.graph:
        for other in sorted(proj.graph.neighbors(iri), key=proj.label):
            neighbours.append({"id": other, "label": proj.label(other), "class": proj.classes.get(other, "")})
            for edge in proj.graph[iri][other]["facts"]:
                if as_of is not None and not holds_on(edge, as_of):
                    continue
                group = (
                    proj.classes.get(other, "") if other in proj.hubs else edge.predicate.rsplit("#", 1)[-1]
                )
                fact = _fact(proj, iri, edge, other)
                if as_of is not None and edge.ongoing and not edge.end:
                    # Kept (not ended), but after its "ongoing as of" day: said, as /leaders says it.
                    held = on_day(edge.start, None, as_of, ongoing_as_of=edge.ongoing)
                    fact["certain"], fact["caveat"] = held.certain, held.caveat
                facts[group].append(fact)
    if as_of is not None:
        # Neighbours are those the facts of the day still link to.
        linked = {f["node"]["id"] for group in facts.values() for f in group}
        neighbours = [n for n in neighbours if n["id"] in linked]
    answer = {
        "id": iri,
        "label": proj.label(iri),
        "labels": sorted(labels, key=lambda x: (x.get("lang", ""), x["value"])),
        "aliases": sorted(aliases, key=lambda x: (x.get("lang", ""), x["value"])),
        "classes": sorted(str(t["c"]) for t in types),
        "class": proj.classes.get(iri, ""),
        "identifiers": identifiers,
        "properties": sorted(properties, key=lambda x: (x["predicate"], x["value"])),
        "facts": {
            k: sorted(v, key=lambda f: (f["start"] or "", f["node"]["label"]))
            for k, v in sorted(facts.items())
        },
        "neighbours": neighbours,
    }
    if as_of is not None:
        answer["as_of"] = _as_of(store, iri, [str(t["c"]) for t in types], as_of)
    return answer


def describe_consistent(
    store: Store, projection: Callable[[], Projection], iri: str, as_of: date | None = None, tries: int = 3
) -> dict[str, Any]:
    """`describe` with its store part and its projection part from one store version. The
    statements are read from the store while writes go on, so each try checks afterwards, under
    the write lock (which waits for a write in progress to be made and told), that no write came
    since the projection's version; after `tries` the last one reads with writes held off."""
    for _ in range(tries):
        version = store.version
        proj = projection()
        if proj.version != version:  # a write is being told to the projection
            with store.writing(bump=False):
                continue
        answer = describe(store, proj, iri, as_of)
        with store.writing(bump=False):  # a write committed meanwhile has bumped the version by now
            if store.version == version:
                return answer
    with store.writing(bump=False):
        return describe(store, projection(), iri, as_of)


def _as_of(store: Store, iri: str, classes: list[str], day: date) -> dict[str, Any]:
    """What held on `day` beyond the projection's facts: for a state, its leaders by role and
    source, its statehood and its UN membership, each with its sources, read as the time
    questions (/leaders, /states, /un-membership) read them, caveats included."""
    from pactgraph.graph.timeline import leaders_on, statehood_of, un_membership

    out: dict[str, Any] = {"date": day.isoformat()}
    if str(PG.State) not in classes:
        return out
    leaders = leaders_on(store, iri, day)
    states = statehood_of(store, iri, day)
    un = un_membership(store, iri, day)
    out["leaders"] = leaders["leaders"]
    out["statehood"] = states["statehood"]
    out["in_state_system"] = bool(states["statehood"])
    out["un_member"] = un["member"]
    out["un_membership"] = un["readings"]
    out["caveats"] = (
        [f"leaders: {c}" for c in leaders["caveats"]]
        + [f"statehood: {c}" for c in states["caveats"]]
        + [f"UN membership: {c}" for c in un["caveats"]]
    )
    used = {s["id"]: s for s in leaders["sources"] + states["sources"] + un["sources"]}
    out["sources"] = sorted(used.values(), key=lambda s: s["id"])
    return out


def describe_rdf(store: Store, iri: str) -> str:
    """A CONSTRUCT of the entity's statements and of the hubs that point at it (VALUES carries the
    IRI, which comes from the name index, serialized as a term, never as user text)."""
    term = URIRef(iri).n3()
    return (
        "CONSTRUCT { ?e ?p ?o . ?h ?hp ?ho } WHERE { VALUES ?e { " + term + " } "
        "{ ?e ?p ?o } UNION { ?h ?r ?e . ?h a ?hc . ?h ?hp ?ho "
        f'FILTER(STRSTARTS(STR(?hc), "{PG}")) }} }}'
    )
