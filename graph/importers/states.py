"""One state entity for every code a dataset uses: COW numbers, Gleditsch–Ward numbers, ISO codes.

Present-day states come from the bundled reference (`data/reference/states.ttl`, with their ISO,
Wikidata, GW and COW codes). States no present-day entry continues (the GDR, the Republic of
Vietnam, Bavaria) are historic states with readable IRIs from their COW name
(``…/id/state/german-democratic-republic``): a code would not do, since the same entity has
different numbers in different systems, and COW's abbreviations clash with ISO's (COW's AUS is
Austria). Where COW and GW disagree about what a number denotes, the choice is made here, once,
and written in the README ("Importing datasets: state codes").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from rdflib import Graph
from rdflib.namespace import RDFS, SKOS

from pactgraph.data import REFERENCE_DIR
from pactgraph.graph.importers.base import Triples, slug
from pactgraph.ontology import ENTITY_BASE, PG


@dataclass(frozen=True)
class StateRef:
    """A state as the importers name it: its local id (``state/DEU``), label, and whether it is
    historic (then the importer describes it in its own graph, since no bundled file does)."""

    local: str
    label: str
    historic: bool = False
    cow: tuple[int, ...] = ()
    gw: tuple[int, ...] = ()

    @property
    def iri(self) -> str:
        return ENTITY_BASE + self.local


# States of the COW and GW lists that no bundled present-day state continues, by their names in
# those lists. Kosovo and Taiwan are here too: not among the 195 bundled states.
_HISTORIC: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    # name: (COW codes, GW codes)
    "Hanover": ((240,), (240,)),
    "Bavaria": ((245,), (245,)),
    "German Democratic Republic": ((265,), (265,)),
    "Baden": ((267,), (267,)),
    "Saxony": ((269,), (269,)),
    "Wuerttemberg": ((271,), (271,)),
    "Hesse Electoral": ((273,), (273,)),
    "Hesse Grand Ducal": ((275,), (275,)),
    "Mecklenburg Schwerin": ((280,), (280,)),
    "Austria-Hungary": ((300,), (300,)),
    "Czechoslovakia": ((315,), (315,)),
    "Papal States": ((327,), (327,)),
    "Two Sicilies": ((329,), (329,)),
    "Modena": ((332,), (332,)),
    "Parma": ((335,), (335,)),
    "Tuscany": ((337,), (337,)),
    "Kosovo": ((347,), (347,)),
    "Zanzibar": ((511,), (511,)),
    "Transvaal": ((), (563,)),
    "Orange Free State": ((), (564,)),
    "Yemen Arab Republic": ((678,), ()),
    "Yemen People's Republic": ((680,), (680,)),
    "Tibet": ((), (711,)),
    "Taiwan": ((713,), (713,)),
    "Korea": ((730,), (730,)),
    "Vietnam (Annam)": ((), (815,)),
    "Republic of Vietnam": ((817,), (817,)),
}

# Numbers that denote a present-day state's predecessor under another number in the bundled list:
# COW 260 (German Federal Republic 1955–1990) and GW 255 (Germany 1816–1945) are Germany, COW's
# 255 already is; GW 345 (Yugoslavia 1918–2006) is Serbia, as COW's 345 is.
_EXTRA_CODES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "state/DEU": ((260,), (255,)),
    "state/SRB": ((), (345,)),
}


@dataclass
class StateCodes:
    """Lookups from each system's code to one state."""

    by_cow: dict[int, StateRef]
    by_gw: dict[int, StateRef]
    by_iso3: dict[str, StateRef]
    by_wikidata: dict[str, StateRef]
    by_name: dict[str, StateRef]
    by_iso_numeric: dict[int, StateRef] = field(default_factory=dict)

    def cow(self, code: int) -> StateRef | None:
        return self.by_cow.get(code)

    def gw(self, code: int) -> StateRef | None:
        return self.by_gw.get(code)

    def iso3(self, code: str) -> StateRef | None:
        return self.by_iso3.get(code.upper())

    def wikidata(self, qid: str) -> StateRef | None:
        return self.by_wikidata.get(qid)

    def name(self, text: str) -> StateRef | None:
        return self.by_name.get(text.strip().lower())

    def iso_numeric(self, code: int) -> StateRef | None:
        """A state by its ISO 3166-1 numeric code (DESTA's 616 is Poland)."""
        return self.by_iso_numeric.get(code)


@lru_cache(maxsize=1)
def state_codes() -> StateCodes:
    """The mapping, built once from the bundled states and the historic table above."""
    g = Graph().parse(REFERENCE_DIR / "states.ttl")
    by_cow: dict[int, StateRef] = {}
    by_gw: dict[int, StateRef] = {}
    by_iso3: dict[str, StateRef] = {}
    by_wikidata: dict[str, StateRef] = {}
    by_name: dict[str, StateRef] = {}
    by_iso_numeric: dict[int, StateRef] = {}
    for s in set(g.subjects(PG.isoAlpha3, None)):
        local = str(s).removeprefix(ENTITY_BASE)
        extra_cow, extra_gw = _EXTRA_CODES.get(local, ((), ()))
        cow = tuple(int(str(o)) for o in g.objects(s, PG.cowCode)) + extra_cow
        gw = tuple(int(str(o)) for o in g.objects(s, PG.gwCode)) + extra_gw
        ref = StateRef(local, str(g.value(s, RDFS.label)), cow=cow, gw=gw)
        for c in cow:
            by_cow[c] = ref
        for c in gw:
            by_gw[c] = ref
        by_iso3[str(g.value(s, PG.isoAlpha3))] = ref
        if (q := g.value(s, PG.wikidataId)) is not None:
            by_wikidata[str(q)] = ref
        if (n := g.value(s, PG.isoNumeric)) is not None:
            by_iso_numeric[int(str(n))] = ref
        for p in (RDFS.label, SKOS.altLabel):
            for alias in g.objects(s, p):
                by_name.setdefault(str(alias).lower(), ref)
    for name, (cow, gw) in _HISTORIC.items():
        ref = StateRef("state/" + slug(name), name, historic=True, cow=cow, gw=gw)
        for c in cow:
            by_cow.setdefault(c, ref)
        for c in gw:
            by_gw.setdefault(c, ref)
        by_name.setdefault(name.lower(), ref)
    return StateCodes(by_cow, by_gw, by_iso3, by_wikidata, by_name, by_iso_numeric)


def describe_state(t: Triples, ref: StateRef, done: set[str]) -> None:
    """A state's description (type, label, codes) in the importing graph, once per graph: each
    graph stands on its own (an import into a store without the bundled data validates), and
    for present-day states the label and codes are the bundled ones, so the union of graphs
    holds them once."""
    if ref.local in done:
        return
    done.add(ref.local)
    node = t.entity(ref.local)
    t.a(node, "State")
    t.label(node, ref.label)
    for c in ref.cow:
        t.integer(node, "cowCode", c)
    for c in ref.gw:
        t.integer(node, "gwCode", c)
    code = ref.local.removeprefix("state/")
    if not ref.historic and len(code) == 3 and code.isalpha() and code.isupper():
        # The bundled ISO code too: a state with neither COW nor GW number (Palestine) is valid
        # in a graph imported into a store without the bundled data.
        t.text(node, "isoAlpha3", code)
