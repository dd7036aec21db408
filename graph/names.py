"""Names of entities: resolve what a user typed to one entity, and search entities by name.

The HTTP routes take names where they take ids (`/entities/{id}`, `/paths?from=&to=`,
`/search?q=`), so one in-memory index, built from the store with a single query, answers
them all. Names are normalised once at build time (case, accents, punctuation and a
leading "the " do not matter), so a lookup is a dict access and a search scans
precomputed strings in C (str.find, rapidfuzz) rather than the store.
"""

from __future__ import annotations

import gc
import itertools
import re
import unicodedata
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import repeat
from typing import Any, NamedTuple

import pyoxigraph as ox
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.store import Change, NeedsRebuild, Store
from pactgraph.ontology import ENTITY_BASE, ONTOLOGY_IRI, ONTOLOGY_PATH, PG

MAX_NAME = 300
MAX_LIMIT = 100
FUZZY_CUTOFF = 70.0
CLOSEST_CUTOFF = 50.0

# How a search hit matched, best first; the tier decides the rank before the score does. A
# "typo" is a whole name or alias a few edits from what was typed ("Irna" for Iran); it is
# answered as "fuzzy", but ranks before names that only resemble the query in part.
_TIERS = {"exact": 0, "alias": 1, "prefix": 2, "typo": 3, "fuzzy": 4}
_ANSWERED_AS = {"typo": "fuzzy"}

# Types whose instances are documents and graphs, not actors or facts: never a name's answer.
_NOT_ENTITIES = (PG.Source, PG.SourceGraph)

_TYPE, _SUBCLASS_OF = str(RDF.type), str(RDFS.subClassOf)
_CLASS_TYPES = frozenset((str(OWL.Class), str(RDFS.Class)))

_ONTOLOGY_PREFIX = str(ONTOLOGY_IRI)

_CODE = re.compile(r"[A-Za-z]{2,3}")
_WIKIDATA = re.compile(r"[Qq][1-9][0-9]*")

# One query for everything the index needs: names, codes and types of every IRI subject,
# plus the class hierarchy. Filtering (ontology terms, sources) happens in Python, where
# it costs one pass over rows instead of a FILTER the engine evaluates per triple.
_QUERY = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX pg: <https://pactgraph.org/ontology#>
SELECT ?s ?p ?o WHERE {
  VALUES ?p { rdf:type rdfs:label skos:prefLabel skos:altLabel
              pg:isoAlpha2 pg:isoAlpha3 pg:wikidataId rdfs:subClassOf }
  ?s ?p ?o .
  FILTER(isIRI(?s))
}
"""

_PREDICATES = (
    str(RDF.type),
    str(RDFS.label),
    str(SKOS.prefLabel),
    str(SKOS.altLabel),
    str(PG.isoAlpha2),
    str(PG.isoAlpha3),
    str(PG.wikidataId),
    str(RDFS.subClassOf),
)


class Entity(NamedTuple):
    """An entity a name resolved to: its IRI, display label, asserted classes and local id (a named
    tuple: a snapshot's load makes a hundred thousand of them in C)."""

    iri: str
    label: str
    classes: tuple[str, ...]
    local_id: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape used in error details and API answers."""
        return {"id": self.iri, "local_id": self.local_id, "label": self.label, "classes": list(self.classes)}


@dataclass(frozen=True)
class Hit:
    """One search result: the entity, its best match, and how it matched (exact/alias/prefix/fuzzy)."""

    entity: Entity
    score: float
    matched: str
    how: str


@dataclass(frozen=True)
class SearchPage:
    """One page of search results; `total` counts every matching entity, not just this page."""

    total: int
    hits: list[Hit]


# ASCII names (most of them) take a bytes.translate fast path (lower case, punctuation to
# spaces, periods and apostrophes dropped): the same result as the general loop, ~10x faster.
_ASCII_TABLE = bytes(
    (ord(chr(c).lower()) if chr(c).isalnum() else ord(" ")) if c < 128 else c for c in range(256)
)
_ASCII_DROP = b".'"


def normalise(text: str) -> str:
    """The form names are compared in: casefolded, without accents, punctuation or a leading "the ".

    Periods and apostrophes vanish ("U.S." is "us"), other punctuation separates words
    ("al-Assad" is "al assad", "Russia–Iran" is "russia iran").
    """
    if text.isascii():
        name = " ".join(text.encode().translate(_ASCII_TABLE, _ASCII_DROP).decode().split())
        return name[4:] if name.startswith("the ") else name
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        cat = unicodedata.category(ch)
        if cat in ("Mn", "Cf") or ch in ".'’ʼ":
            continue
        out.append(ch if ch.isalnum() else " ")
    name = " ".join("".join(out).split())
    return name[4:] if name.startswith("the ") else name


def typos_allowed(norm: str) -> int:
    """How many edits a search forgives in a name of this length: none in one or two letters,
    one in three to five, two in longer ones (as search engines' "auto" fuzziness does)."""
    return 0 if len(norm) < 3 else 1 if len(norm) <= 5 else 2


def _check_text(text: object, what: str) -> str:
    """The text stripped, or BAD_INPUT when it cannot be a name (so it never reaches a lookup)."""
    if not isinstance(text, str):
        raise PactgraphError(Kind.BAD_INPUT, f"{what} must be a string")
    if len(text) > MAX_NAME:
        raise PactgraphError(
            Kind.BAD_INPUT, f"{what} is too long ({len(text)} characters; at most {MAX_NAME})"
        )
    text = text.strip()
    if not text:
        raise PactgraphError(Kind.BAD_INPUT, f"{what} is empty")
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            raise PactgraphError(Kind.BAD_INPUT, f"{what} contains a control character (U+{ord(ch):04X})")
    return text


def _triples(store: Store) -> Iterator[tuple[str, str, str, bool, str]]:
    """Rows of the index query as plain strings: (subject, predicate, object, object is an IRI, language).

    On Oxigraph this reads pyoxigraph terms directly: converting ~10^5 rows to rdflib terms
    costs seconds, and the index needs only their strings.
    """
    native = store.oxigraph
    if native is not None:
        # One query per predicate, IRIs tested here: the engine then reads neither the
        # predicate's string on every row nor each subject's for a FILTER(isIRI()).
        named, literal = ox.NamedNode, ox.Literal
        for p in _PREDICATES:
            solutions = native.query(f"SELECT ?s ?o WHERE {{ ?s <{p}> ?o }}")
            assert isinstance(solutions, ox.QuerySolutions)
            for s, o in solutions:
                if type(s) is not named:
                    continue
                if type(o) is literal:
                    yield s.value, p, o.value, False, o.language or ""
                elif type(o) is named:
                    yield s.value, p, o.value, True, ""
        return
    for row in store.select(_QUERY):
        o = row["o"]
        if isinstance(o, Literal):
            yield str(row["s"]), str(row["p"]), str(o), False, o.language or ""
        elif isinstance(o, URIRef):
            yield str(row["s"]), str(row["p"]), str(o), True, ""


@cache
def _bundled_hierarchy() -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    """(subclass, superclass) pairs and declared classes of the bundled ontology, parsed once."""
    g = Graph().parse(ONTOLOGY_PATH)
    pairs = frozenset(
        (str(sub), str(sup))
        for sub, sup in g.subject_objects(RDFS.subClassOf)
        if isinstance(sub, URIRef) and isinstance(sup, URIRef)
    )
    declared = frozenset(str(c) for c in g.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef))
    return pairs, declared


def _local_name(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]


def _is_ontology_term(iri: str) -> bool:
    """True for the ontology and its terms (https://pactgraph.org/ontology and …/ontology#X)."""
    return iri.startswith(_ONTOLOGY_PREFIX)


def _add(index: dict[str, tuple[str, ...]], key: str, iri: str) -> None:
    """Add `iri` to the entities under `key`, kept in IRI order."""
    old = index.get(key)
    if old is None:
        index[key] = (iri,)
    elif iri not in old:
        index[key] = (*old, iri) if iri > old[-1] else tuple(sorted((*old, iri)))


# Kinds of name a subject has, in the order its names are indexed (labels first).
_LABEL, _ALIAS, _ISO, _QID = 0, 1, 2, 3
_Facts = dict[str, tuple[set[str], list[tuple[int, str, str]]]]  # iri -> (types, [(kind, text, lang)])


def _display_label(names: list[tuple[int, str, str]], local_id: str) -> str:
    """An English label where there is one, so answers read the same for every user."""
    best: tuple[int, str] | None = None
    for kind, text, lang in names:
        if kind == _LABEL:
            primary = lang.lower().split("-")[0]
            rank = 0 if primary == "en" else 1 if not primary else 2
        elif kind == _ALIAS:
            rank = 3
        else:
            continue
        if best is None or (rank, text) < best:
            best = (rank, text)
    return best[1] if best else local_id


_TUPLE_NEW = tuple.__new__


def _tuples(rows: list[list[Any]]) -> tuple[tuple[Any, ...], ...]:
    return tuple(map(tuple, rows))


_KINDS = {
    str(RDFS.label): _LABEL,
    str(SKOS.prefLabel): _LABEL,
    str(SKOS.altLabel): _ALIAS,
    str(PG.isoAlpha2): _ISO,
    str(PG.isoAlpha3): _ISO,
    str(PG.wikidataId): _QID,
}
_INDEXED = frozenset(_PREDICATES)
# What `update` copies before changing it (the rest is shared with the index it came from, or remade).
_COPIED = (
    "_types",
    "_type_uses",
    "_entities",
    "_names",
    "_entity_rows",
    "_by_local",
    "_by_code",
    "_by_wikidata",
    "_by_label",
    "_by_alias",
)


def _collect(
    rows: Iterable[tuple[str, str, str, bool, str]],
) -> tuple[_Facts, set[tuple[str, str]], set[str]]:
    """Each subject's types and names, the class hierarchy and the declared classes, from rows of
    (subject, predicate, object, object is an IRI, language)."""
    facts: _Facts = {}
    subclass_of: set[tuple[str, str]] = set()
    declared: set[str] = set()
    for s, p, o, o_is_iri, lang in rows:
        if p == _SUBCLASS_OF:
            if o_is_iri:
                subclass_of.add((s, o))
        elif p == _TYPE:
            if o_is_iri:
                if o in _CLASS_TYPES:
                    declared.add(s)
                if not s.startswith(_ONTOLOGY_PREFIX):
                    entry = facts.get(s)
                    if entry is None:
                        facts[s] = ({o}, [])
                    else:
                        entry[0].add(o)
        elif not o_is_iri and not s.startswith(_ONTOLOGY_PREFIX) and (text := o.strip()):
            entry = facts.get(s)
            if entry is None:
                facts[s] = entry = (set(), [])
            entry[1].append((_KINDS[p], text, lang))
    return facts, subclass_of, declared


def _facts_of(store: Store, subjects: Iterable[str]) -> _Facts:
    """The types and names of a few subjects, as the store holds them now (every data graph)."""

    def rows() -> Iterator[tuple[str, str, str, bool, str]]:
        for iri in subjects:
            for q in store.match(subject=ox.NamedNode(iri)):
                p, o = q.predicate.value, q.object
                if p not in _INDEXED:
                    continue
                if isinstance(o, ox.Literal):
                    yield iri, p, o.value, False, o.language or ""
                elif isinstance(o, ox.NamedNode):
                    yield iri, p, o.value, True, ""

    return _collect(rows())[0]


class NameIndex:
    """Every named entity of a store, with its names normalised for lookup and search.

    Build it with `NameIndex.build(store)`; `update` makes the index of the store after a write
    from this one and what the write changed (a new index: this one is never modified). Entities
    are indexed in IRI order, so an updated index equals a fresh build of the same store.
    """

    def __init__(
        self,
        facts: _Facts,
        subclass_of: Iterable[tuple[str, str]],
        declared_classes: Iterable[str],
        version: int = 0,
    ) -> None:
        self.version = version
        children: dict[str, set[str]] = defaultdict(set)
        base: set[str] = set(declared_classes)
        for sub, sup in subclass_of:
            children[sup].add(sub)
            base.update((sub, sup))
        self._children = dict(children)
        self._base_classes = frozenset(base)
        self._excluded = frozenset(set().union(*(self.closure(str(c)) for c in _NOT_ENTITIES)))
        self._types: dict[str, tuple[str, ...]] = {}  # every subject with types (not ontology terms)
        self._type_uses: dict[str, int] = {}  # class -> subjects with it
        self._entities: dict[str, Entity] = {}
        self._names: dict[str, tuple[tuple[int, str, str], ...]] = {}  # entity -> its names, sorted
        self._entity_rows: dict[str, tuple[tuple[str, str], ...]] = {}  # entity -> (norm, text) rows
        self._by_local: dict[str, str] = {}
        # Name -> the entities that have it (in IRI order); tuples, since nearly every name has one
        # owner and a set per name would cost more than the rest of the index.
        self._by_code: dict[str, tuple[str, ...]] = {}
        self._by_wikidata: dict[str, tuple[str, ...]] = {}
        self._by_label: dict[str, tuple[str, ...]] = {}
        self._by_alias: dict[str, tuple[str, ...]] = {}
        for iri in sorted(facts):
            types, names = facts[iri]
            self._put(iri, types, names)
        self._named = sorted(self._entity_rows)  # entities with a searchable name, in IRI order
        self._classes_changed()
        self._arrange()

    def _classes_changed(self) -> None:
        self._classes = self._base_classes | {c for c, n in self._type_uses.items() if n > 0}
        by_local_name: dict[str, list[str]] = defaultdict(list)
        for c in sorted(self._classes, key=lambda c: (not c.startswith(str(PG)), c)):
            by_local_name[_local_name(c).casefold()].append(c)
        self._by_local_name = dict(by_local_name)

    def _put(self, iri: str, types: set[str], names: list[tuple[int, str, str]]) -> None:
        """Index one subject (not indexed before) with its types and names."""
        if types:
            self._types[iri] = tuple(sorted(types))
            for c in types:
                self._type_uses[c] = self._type_uses.get(c, 0) + 1
        if not types or not types.isdisjoint(self._excluded) or _is_ontology_term(iri):
            return
        local_id = iri[len(ENTITY_BASE) :] if iri.startswith(ENTITY_BASE) else iri
        self._entities[iri] = Entity(iri, _display_label(names, local_id), tuple(sorted(types)), local_id)
        self._by_local[local_id] = iri
        listed = tuple(sorted(set(names)))
        self._names[iri] = listed
        rows: list[tuple[str, str]] = []
        seen: set[str] = set()
        for kind, text, _ in listed:  # as `_keys` tells them, each name normalised once
            if kind == _ISO:
                _add(self._by_code, text.upper(), iri)
            elif kind == _QID:
                _add(self._by_wikidata, text.upper(), iri)
            elif norm := normalise(text):
                _add(self._by_label if kind == _LABEL else self._by_alias, norm, iri)
                if norm not in seen:
                    seen.add(norm)
                    rows.append((norm, text))
        if rows:
            self._entity_rows[iri] = tuple(rows)

    def _keys(
        self, names: tuple[tuple[int, str, str], ...]
    ) -> Iterator[tuple[dict[str, tuple[str, ...]], str]]:
        """The lookup dicts an entity's names go in, with their keys."""
        for kind, text, _ in names:
            if kind == _ISO:
                yield self._by_code, text.upper()
            elif kind == _QID:
                yield self._by_wikidata, text.upper()
            elif norm := normalise(text):
                yield (self._by_label if kind == _LABEL else self._by_alias), norm

    def _drop(self, iri: str) -> None:
        """Take one subject out of the index (the inverse of `_put`)."""
        for c in self._types.pop(iri, ()):
            self._type_uses[c] -= 1
            if not self._type_uses[c]:
                del self._type_uses[c]
        entity = self._entities.pop(iri, None)
        if entity is None:
            return
        self._by_local.pop(entity.local_id, None)
        for key_index, key in self._keys(self._names.pop(iri)):
            left = tuple(i for i in key_index.get(key, ()) if i != iri)
            if left:
                key_index[key] = left
            else:
                key_index.pop(key, None)
        self._entity_rows.pop(iri, None)

    def _arrange(self) -> None:
        """The searchable names, from each entity's rows in IRI order: one row per distinct
        (normalised name, entity), an entity's rows together, its label rows first."""
        self._norms: list[str] = []
        self._name_iri: list[str] = []
        self._name_text: list[str] = []
        self._rows: dict[str, range] = {}  # iri -> its rows
        norms, iris, texts, rows = self._norms, self._name_iri, self._name_text, self._rows
        for iri in self._named:
            found = self._entity_rows[iri]
            first = len(norms)
            for norm, text in found:
                norms.append(norm)
                texts.append(text)
            iris.extend([iri] * len(found))
            rows[iri] = range(first, len(norms))
        # One string of all names, "\n"-separated: prefix and word-prefix search become
        # str.find over it (C speed) instead of a Python loop over every name.
        self._starts = list(itertools.accumulate((len(n) + 1 for n in norms), initial=1))[:-1]
        self._blob = "\n" + "\n".join(norms) + "\n"
        # Fuzzy matching scores each distinct spelling once, however many entities share it.
        rows_of: dict[str, list[int]] = defaultdict(list)
        for i, norm in enumerate(norms):
            rows_of[norm].append(i)
        self._unique = list(rows_of)
        self._unique_rows = list(rows_of.values())

    # ------------------------------------------------------------------ following writes

    def update(self, store: Store, change: Change) -> NameIndex:
        """The index of the store after `change`, from this one and what the store now says about
        the subjects the change touched. Raises NeedsRebuild when names alone cannot follow it
        (the class hierarchy changed, or the change is too large to list)."""
        if change.everything:
            raise NeedsRebuild
        touched: set[str] = set()
        for q in (*change.added, *change.removed):
            p = q.predicate.value
            if p == _SUBCLASS_OF or (p == _TYPE and q.object.value in _CLASS_TYPES):  # type: ignore[union-attr]
                raise NeedsRebuild
            if (
                p in _INDEXED
                and type(q.subject) is ox.NamedNode
                and not q.subject.value.startswith(_ONTOLOGY_PREFIX)
            ):
                touched.add(q.subject.value)
        new = NameIndex.__new__(NameIndex)
        new.__dict__.update(self.__dict__)
        new.__dict__.pop("_by_local_ci", None)
        new.version = change.version
        if not touched:
            return new
        for name in _COPIED:
            setattr(new, name, dict(getattr(self, name)))
        facts = _facts_of(store, touched)
        had_rows = {iri for iri in touched if iri in self._entity_rows}
        for iri in sorted(touched):
            new._drop(iri)
            types, names = facts.get(iri, (set(), []))
            new._put(iri, types, names)
        has_rows = {iri for iri in touched if iri in new._entity_rows}
        if had_rows != has_rows:
            named = new._named = list(self._named)
            for iri in had_rows - has_rows:
                del named[bisect_left(named, iri)]
            for iri in has_rows - had_rows:
                insort(named, iri)
        if set(self._type_uses) != set(new._type_uses):
            new._classes_changed()
        if had_rows or has_rows:
            new._arrange()
        return new

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, store: Store) -> NameIndex:
        """Read names, codes, types and the class hierarchy, and index them."""
        # Hundreds of thousands of new tuples and sets, none of them garbage: the cyclic
        # collector would walk the growing heap again and again while they are made.
        collecting = gc.isenabled()
        gc.disable()
        try:
            facts, subclass_of, declared = _collect(_triples(store))
            if not any(sub.startswith(_ONTOLOGY_PREFIX) for sub, _ in subclass_of):
                # A store without the ontology graph (data loaded alone, a remote endpoint): the
                # bundled ontology still says that an Alliance is an Organisation.
                bundled_sub, bundled_declared = _bundled_hierarchy()
                subclass_of |= bundled_sub
                declared |= bundled_declared
            return cls(facts, subclass_of, declared, store.version)
        finally:
            if collecting:
                gc.enable()

    # ------------------------------------------------------------------ snapshots

    def to_state(self) -> dict[str, Any]:
        """What a snapshot (graph/snapshot.py) keeps, as lists of strings and numbers (subjects by
        their place in `subjects`): the class hierarchy, every subject's types, and the entities
        with their names and lookups as built, so that loading makes objects, not work."""
        subjects = list(self._types)
        at = {iri: i for i, iri in enumerate(subjects)}
        kinds: dict[tuple[str, ...], int] = {}
        types = [kinds.setdefault(t, len(kinds)) for t in self._types.values()]

        def lookup(index: dict[str, tuple[str, ...]]) -> list[Any]:
            return [list(index), [[at[i] for i in iris] for iris in index.values()]]

        return {
            "subclass_of": sorted([sub, sup] for sup, subs in self._children.items() for sub in subs),
            "declared": sorted(self._base_classes),
            "subjects": subjects,
            "type_sets": list(kinds),
            "types": types,
            "type_uses": self._type_uses,
            "entities": [at[iri] for iri in self._entities],
            "labels": [e.label for e in self._entities.values()],
            "names": [[at[iri] for iri in self._names], list(self._names.values())],
            "rows": [[at[iri] for iri in self._entity_rows], list(self._entity_rows.values())],
            "by_code": lookup(self._by_code),
            "by_wikidata": lookup(self._by_wikidata),
            "by_label": lookup(self._by_label),
            "by_alias": lookup(self._by_alias),
            "named": [at[iri] for iri in self._named],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], version: int) -> NameIndex:
        """The index `to_state` saved, as the index of store version `version`."""
        pairs = [(str(sub), str(sup)) for sub, sup in state["subclass_of"]]
        index = cls({}, pairs, [str(c) for c in state["declared"]], version)
        subjects: list[str] = state["subjects"]
        if not all(type(s) is str for s in subjects):
            raise ValueError("a subject that is not a string")
        subject = subjects.__getitem__
        type_sets = [tuple(map(str, t)) for t in state["type_sets"]]
        index._types = dict(zip(subjects, map(type_sets.__getitem__, state["types"]), strict=True))
        index._type_uses = {str(c): int(n) for c, n in state["type_uses"].items()}
        iris = list(map(subject, state["entities"]))
        locals_ = [iri[len(ENTITY_BASE) :] if iri.startswith(ENTITY_BASE) else iri for iri in iris]
        index._entities = dict(
            zip(
                iris,
                map(
                    _TUPLE_NEW,
                    repeat(Entity),
                    zip(
                        iris,
                        map(str, state["labels"]),
                        map(index._types.__getitem__, iris),
                        locals_,
                        strict=True,
                    ),
                ),
                strict=True,
            )
        )
        index._by_local = dict(zip(locals_, iris, strict=True))
        owners, names = state["names"]
        index._names = dict(zip(map(subject, owners), map(_tuples, names), strict=True))
        owners, rows = state["rows"]
        index._entity_rows = dict(zip(map(subject, owners), map(_tuples, rows), strict=True))
        for name in ("by_code", "by_wikidata", "by_label", "by_alias"):
            keys, owned = state[name]
            setattr(index, f"_{name}", dict(zip(keys, (tuple(map(subject, o)) for o in owned), strict=True)))
        index._named = list(map(subject, state["named"]))
        index._classes_changed()
        index._arrange()
        return index

    def same_as(self, other: NameIndex) -> bool:
        """Whether two indexes hold the same (their versions and caches made on use aside)."""
        mine = {k: v for k, v in self.__dict__.items() if k not in ("version", "_by_local_ci")}
        theirs = {k: v for k, v in other.__dict__.items() if k not in ("version", "_by_local_ci")}
        return mine == theirs

    # ------------------------------------------------------------------ classes

    def closure(self, cls_iri: str) -> frozenset[str]:
        """A class and all its subclasses, transitively (the ontology may have cycles: tolerated)."""
        seen = {cls_iri}
        todo = [cls_iri]
        while todo:
            for sub in self._children.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        return frozenset(seen)

    def class_iri(self, type_name: str) -> str:
        """The class a user named by local name ("State", case-insensitive), pg: CURIE or IRI."""
        name = _check_text(type_name, "type")
        if name.startswith("pg:"):
            name = str(PG) + name[3:]
        if name in self._classes:
            return name
        found = self._by_local_name.get(name.casefold())
        if found and "/" not in name and "#" not in name:
            return found[0]  # pg: terms sort first, so a pg class wins a shared local name
        known = sorted(
            {_local_name(c) if c.startswith(str(PG)) else c for c in self._classes},
            key=lambda n: (n.startswith("http"), n.casefold()),
        )
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"unknown type {name!r}; known types: {', '.join(known)}",
            detail={"known": known},
        )

    @property
    def class_names(self) -> list[str]:
        """Every known class as a user would type it: pg local names, other classes as IRIs."""
        return sorted({_local_name(c) if c.startswith(str(PG)) else c for c in self._classes})

    # ------------------------------------------------------------------ lookup

    def __len__(self) -> int:
        return len(self._entities)

    def __contains__(self, iri: object) -> bool:
        return isinstance(iri, str) and iri in self._entities

    def get(self, iri: str) -> Entity | None:
        """The entity with this IRI, if the index has it."""
        return self._entities.get(iri)

    def resolve(self, name: str) -> Entity:
        """The one entity `name` denotes, trying in order: IRI, local id, ISO code, Wikidata id,
        label, alias; the first level with a match decides.

        Raises AMBIGUOUS (with candidates) when that level matches several entities,
        NOT_FOUND (with the closest names) when none does, BAD_INPUT for unusable text.
        """
        text = _check_text(name, "name")
        for level in self._levels(text):
            if len(level) == 1:
                return self._entities[next(iter(level))]
            if level:
                candidates = sorted((self._entities[i] for i in level), key=lambda e: (e.label, e.iri))
                raise PactgraphError(
                    Kind.AMBIGUOUS,
                    f"{text!r} names {len(candidates)} entities: "
                    + "; ".join(f"{e.label} ({e.local_id})" for e in candidates),
                    detail={"candidates": [e.as_dict() for e in candidates]},
                )
        closest = self.closest(text)
        message = f"no entity named {text!r}"
        if closest:
            message += "; closest: " + ", ".join(c["label"] for c in closest)
        raise PactgraphError(Kind.NOT_FOUND, message, detail={"closest": closest})

    def _levels(self, text: str) -> Iterator[Collection[str]]:
        """The entities each resolution level matches, most specific level first (lazily)."""
        yield (text,) if text in self._entities else ()
        local = text.removeprefix("/")
        yield (self._by_local[local],) if local in self._by_local else ()
        yield self._by_local_ci.get(local.casefold(), ())
        yield self._by_code.get(text.upper(), ()) if _CODE.fullmatch(text) else ()
        yield self._by_wikidata.get(text.upper(), ()) if _WIKIDATA.fullmatch(text) else ()
        norm = normalise(text)
        yield self._by_label.get(norm, ())
        yield self._by_alias.get(norm, ())

    def closest(self, text: str, n: int = 5) -> list[dict[str, Any]]:
        """Up to `n` entities whose names come closest to `text`, best first: names a few typos
        away from the whole of it, then names that resemble it (rapidfuzz WRatio)."""
        norm = normalise(text)
        if not norm or not self._norms:
            return []
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for i, score in [*self._typos(norm), *self._fuzzy(norm, CLOSEST_CUTOFF, limit=n * 8)]:
            iri = self._name_iri[i]
            if iri in seen:
                continue
            seen.add(iri)
            out.append(
                {**self._entities[iri].as_dict(), "matched": self._name_text[i], "score": round(score, 1)}
            )
            if len(out) == n:
                break
        return out

    # ------------------------------------------------------------------ search

    def search(self, q: str, type: str | None = None, limit: int = 20, offset: int = 0) -> SearchPage:
        """Entities matching `q`, ranked: exact label > exact alias or code > prefix > fuzzy,
        then by score, then label; each entity once, with its best match.

        `type` keeps instances of that class or its subclasses (e.g. Organisation finds alliances).
        """
        text = _check_text(q, "q")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise PactgraphError(Kind.BAD_INPUT, f"limit must be an integer from 1 to {MAX_LIMIT}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise PactgraphError(Kind.BAD_INPUT, "offset must be an integer of at least 0")
        wanted: frozenset[str] | None = None
        if type is not None and not (isinstance(type, str) and not type.strip()):  # "?type=" is no filter
            wanted = self.closure(self.class_iri(type))
        norm = normalise(text)
        if not norm and text not in self._entities:
            raise PactgraphError(Kind.BAD_INPUT, "q has no letters or digits to search for")

        best: dict[str, tuple[int, float, str]] = {}  # iri -> (tier, score, matched)

        def offer(iri: str, how: str, score: float, matched: str) -> None:
            if wanted is not None and wanted.isdisjoint(self._entities[iri].classes):
                return
            cand = (_TIERS[how], score, matched)
            old = best.get(iri)
            if old is None or (cand[0], -cand[1]) < (old[0], -old[1]):
                best[iri] = cand

        local = text.removeprefix("/")
        if text in self._entities:
            offer(text, "exact", 100.0, text)
        elif local in self._by_local:
            offer(self._by_local[local], "exact", 100.0, local)
        if _CODE.fullmatch(text):
            for iri in self._by_code.get(text.upper(), ()):
                offer(iri, "alias", 100.0, text.upper())
        if _WIKIDATA.fullmatch(text):
            for iri in self._by_wikidata.get(text.upper(), ()):
                offer(iri, "alias", 100.0, text.upper())
        if norm:
            self._search_names(norm, offer)

        ranked = sorted(
            best.items(), key=lambda kv: (kv[1][0], -kv[1][1], self._entities[kv[0]].label.casefold(), kv[0])
        )
        hows = {tier: _ANSWERED_AS.get(how, how) for how, tier in _TIERS.items()}
        hits = [
            Hit(self._entities[iri], round(score, 1), matched, hows[tier])
            for iri, (tier, score, matched) in ranked[offset : offset + limit]
        ]
        return SearchPage(total=len(ranked), hits=hits)

    def _search_names(self, norm: str, offer: Callable[[str, str, float, str], None]) -> None:
        """Offer every name that equals, starts with, has a word starting with, or resembles `norm`."""
        blob = self._blob
        for iri in self._by_label.get(norm, ()):
            offer(iri, "exact", 100.0, self._first_text(iri, norm))
        for iri in self._by_alias.get(norm, ()):
            offer(iri, "alias", 100.0, self._first_text(iri, norm))
        # Prefix of the whole name ("\n" + q) or of a word in it (" " + q); a whole-name
        # prefix scores higher, and shorter names score higher (more of them was typed).
        for sep, weight in (("\n", 1.0), (" ", 0.9)):
            needle = sep + norm
            at = blob.find(needle)
            while at != -1:
                i = bisect_right(self._starts, at + (1 if sep == "\n" else 0)) - 1
                offer(
                    self._name_iri[i], "prefix", fuzz.ratio(norm, self._norms[i]) * weight, self._name_text[i]
                )
                at = blob.find(needle, at + 1)
        for i, score in self._typos(norm):
            offer(self._name_iri[i], "typo", score, self._name_text[i])
        for i, score in self._fuzzy(norm, FUZZY_CUTOFF):
            offer(self._name_iri[i], "fuzzy", score, self._name_text[i])

    def _typos(self, norm: str) -> list[tuple[int, float]]:
        """Name rows within a few edits of the whole of `norm` (a swap of two letters is one),
        fewest edits first, as (row, score): the score is the share of letters left as typed."""
        allowed = typos_allowed(norm)
        if not allowed or not self._unique:
            return []
        out: list[tuple[int, float]] = []
        for name, edits, u in process.extract(
            norm, self._unique, scorer=OSA.distance, processor=None, limit=None, score_cutoff=allowed
        ):
            score = 100.0 * (1 - edits / max(len(norm), len(name)))
            out.extend((i, score) for i in self._unique_rows[u])
        out.sort(key=lambda hit: -hit[1])
        return out

    def _fuzzy(self, norm: str, cutoff: float, limit: int | None = None) -> list[tuple[int, float]]:
        """Name rows whose WRatio with `norm` reaches `cutoff`, best first, as (row, score).

        WRatio scores a short name found inside a longer query as a near match ("us" in
        "rusia" scores 90); a user who typed more than the name did not mean it, so such
        names keep only their plain or token-set similarity.
        """
        out: list[tuple[int, float]] = []
        for name, score, u in process.extract(
            norm, self._unique, scorer=fuzz.WRatio, processor=None, limit=limit, score_cutoff=cutoff
        ):
            if len(norm) >= 1.5 * len(name):
                score = min(score, max(fuzz.ratio(norm, name), 0.9 * fuzz.token_set_ratio(norm, name)))
                if score < cutoff:
                    continue
            out.extend((i, float(score)) for i in self._unique_rows[u])
        out.sort(key=lambda hit: -hit[1])
        return out

    def _first_text(self, iri: str, norm: str) -> str:
        """The original spelling of the entity's name that normalises to `norm` (labels first)."""
        for i in self._rows.get(iri, ()):
            if self._norms[i] == norm:
                return self._name_text[i]
        return self._entities[iri].label

    @cached_property
    def _by_local_ci(self) -> dict[str, tuple[str, ...]]:
        """Local ids case-folded, built on first use: only a mistyped id ever needs it."""
        index: dict[str, tuple[str, ...]] = {}
        for local_id, iri in self._by_local.items():
            _add(index, local_id.casefold(), iri)
        return index
