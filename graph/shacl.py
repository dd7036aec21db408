"""SHACL validation of data against pactgraph's shapes, compiled to SPARQL run by Oxigraph's native engine.

pyshacl checks one focus node at a time in Python (~3k triples/s); here every constraint of
`ontology/shapes.ttl` becomes one SPARQL query over the whole batch that returns only the violating
focus nodes (set at a time), so a 1M-triple batch validates in seconds. The shapes are compiled once
(cached per file version); a shape that uses a SHACL feature this compiler does not know raises
`UnsupportedShapeError` at compile time rather than being skipped. pyshacl stays the reference: the
tests run both and compare their results.

The ontology's class hierarchy and individuals (claim statuses, domains) are needed by `sh:class`
and `sh:targetClass`: `validate_store` adds the ontology's triples to the caller's store in a graph of
its own (`VALIDATION_ONTOLOGY_GRAPH`) for the run and removes that graph afterwards; nothing else in
the store is touched. Subclass closures (`rdfs:subClassOf*`, over the ontology and any subclass axioms
in the data) are computed once per run and inlined as VALUES.

Where rdflib and Oxigraph disagree on whether a literal is well formed for its datatype (rdflib does not
check `xsd:gYear`/`xsd:gYearMonth`, accepts `" 5"^^xsd:integer`), this validator follows Oxigraph's XSD
parsing: an ill-formed literal never has the datatype it claims.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.graph import ConjunctiveGraph
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from pactgraph.ontology import ONTOLOGY_PATH, SHAPES_PATH

VALIDATION_ONTOLOGY_GRAPH = "urn:x-pactgraph:shacl:ontology"
"""The graph `validate_store` puts the ontology in while it validates (removed afterwards)."""


class UnsupportedShapeError(ValueError):
    """A shapes graph uses a SHACL feature the compiler does not implement."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: the node, the property path, the rule (constraint component) and the message."""

    focus: str
    path: str | None
    rule: str
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.focus}{where}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class Report:
    conforms: bool
    violations: list[Violation]

    def text(self, limit: int = 20) -> str:
        lines = [str(v) for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"… and {len(self.violations) - limit} more")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------- vocabulary

_SH = str(SH)
_RDF_TYPE = f"<{RDF.type}>"

_META = {"message", "severity", "deactivated", "name", "description", "order", "group", "defaultValue"}
_TARGETS = {"targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode"}
_VALUE_PARAMS = {
    "datatype",
    "nodeKind",
    "class",
    "pattern",
    "flags",
    "in",
    "hasValue",
    "languageIn",
    "minLength",
    "maxLength",
    "minInclusive",
    "minExclusive",
    "maxInclusive",
    "maxExclusive",
    "or",
    "and",
    "not",
    "xone",
    "node",
}
_SHAPE_PARAMS = (
    _META | _TARGETS | _VALUE_PARAMS | {"path", "property", "minCount", "maxCount", "uniqueLang", "sparql"}
)
_PATH_PARAMS = {"inversePath", "alternativePath", "zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath"}
_SPARQL_PARAMS = {"select", "message", "prefixes", "deactivated"}
_PREFIX_PARAMS = {"declare", "prefix", "namespace"}
_KNOWN_PREDICATES = _SHAPE_PARAMS | _PATH_PARAMS | _SPARQL_PARAMS | _PREFIX_PARAMS
_UNSUPPORTED_TYPES = {"ConstraintComponent", "SPARQLTarget", "SPARQLTargetType", "SPARQLRule", "TripleRule"}
_KNOWN_TYPES = {"NodeShape", "PropertyShape", "SPARQLConstraint", "PrefixDeclaration", "Shape"}

# Datatypes Oxigraph can cast to: a literal is well formed iff casting it to its own datatype succeeds.
_CASTABLE = {
    XSD[name]
    for name in [
        *("boolean", "integer", "decimal", "float", "double", "date", "dateTime", "time", "duration"),
        *("dayTimeDuration", "yearMonthDuration", "gYear", "gYearMonth", "gMonth", "gDay", "gMonthDay"),
    ]
}
_NODE_KINDS = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))",
    SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
_RANGES = {
    "minInclusive": (">=", "MinInclusiveConstraintComponent"),
    "minExclusive": (">", "MinExclusiveConstraintComponent"),
    "maxInclusive": ("<=", "MaxInclusiveConstraintComponent"),
    "maxExclusive": ("<", "MaxExclusiveConstraintComponent"),
}


def _local(term: Node) -> str:
    return str(term)[len(_SH) :] if str(term).startswith(_SH) else ""


def _sparql_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise UnsupportedShapeError(f"a blank node ({term}) cannot be a constant in a compiled constraint")


# ---------------------------------------------------------------------------------------- compiled model


@dataclass
class _Ctx:
    """What a validation run knows that compiling could not: the subclass closure of each class."""

    closures: dict[str, list[str]]
    counter: list[int] = field(default_factory=lambda: [0])

    def var(self, stem: str) -> str:
        self.counter[0] += 1
        return f"?_{stem}{self.counter[0]}"

    def values(self, cls: str) -> str:
        return " ".join(f"<{c}>" for c in self.closures.get(cls, [cls]))


Cond = Callable[[str, _Ctx], str]
"""A value-level test: given a variable and the run context, a SPARQL expression that is true or false,
never an error, for the value in that variable."""


@dataclass(frozen=True)
class _Target:
    kind: str  # "class" | "subjectsOf" | "objectsOf" | "node"
    term: str  # IRI, or SPARQL term for "node"

    def pattern(self, ctx: _Ctx) -> str:
        if self.kind == "class":
            k = ctx.var("k")
            return f"{{ VALUES {k} {{ {ctx.values(self.term)} }} ?this {_RDF_TYPE} {k} }}"
        if self.kind == "subjectsOf":
            return f"{{ ?this <{self.term}> {ctx.var('x')} }}"
        if self.kind == "objectsOf":
            return f"{{ {ctx.var('x')} <{self.term}> ?this }}"
        return f"{{ VALUES ?this {{ {self.term} }} }}"

    def test(self, ctx: _Ctx) -> str:
        if self.kind == "class":
            k = ctx.var("k")
            return f"EXISTS {{ VALUES {k} {{ {ctx.values(self.term)} }} ?this {_RDF_TYPE} {k} }}"
        if self.kind == "subjectsOf":
            return f"EXISTS {{ ?this <{self.term}> {ctx.var('x')} }}"
        if self.kind == "objectsOf":
            return f"EXISTS {{ {ctx.var('x')} <{self.term}> ?this }}"
        return f"sameTerm(?this, {self.term})"


@dataclass(frozen=True)
class _Focus:
    """The focus nodes of a root node shape: enumerated (for 'must have') or tested (for 'must not')."""

    targets: tuple[_Target, ...]

    def enumerate(self, ctx: _Ctx) -> str:
        # No DISTINCT: a node reached twice (two target classes, a triple in two graphs) only repeats
        # a violation, and validate_store drops repeats.
        return "{ " + " UNION ".join(t.pattern(ctx) for t in self.targets) + " }"

    def test(self, ctx: _Ctx) -> str:
        return " || ".join(t.test(ctx) for t in self.targets)


@dataclass(frozen=True)
class _ValueCheck:
    rule: str
    cond: Cond
    generic: str

    @property
    def key(self) -> str:
        """The test's SPARQL text with neutral variable names: equal keys are the same test."""
        return self.cond("?v", _Ctx({}))


@dataclass(frozen=True)
class _Path:
    sparql: str
    shown: str  # Violation.path: the IRI, or the SPARQL text of a complex path
    display: str  # for generic messages: a prefixed name where the shapes graph has a prefix
    simple: bool  # an IRI or the inverse of one: cheap to scan with both ends unbound


@dataclass(frozen=True)
class _SparqlConstraint:
    select: str  # the SELECT with $this as ?this (and $PATH substituted), prefixes hoisted
    prologue: str
    messages: tuple[str, ...]


@dataclass(frozen=True)
class _Shape:
    node: str
    path: _Path | None
    messages: tuple[str, ...]
    reported: bool  # severity sh:Violation
    values: tuple[_ValueCheck, ...]
    min_count: int
    max_count: int | None
    unique_lang: bool
    has_values: tuple[str, ...]
    sparql: tuple[_SparqlConstraint, ...]


@dataclass(frozen=True)
class _Check:
    """One SPARQL query and how to turn its solutions into violations."""

    build: Callable[[_Ctx], str]
    read: Callable[[ox.QuerySolution, list[str]], list[Violation]]
    skip_if: str | None = None  # a cheap ASK that, when true, proves the check would find nothing


@dataclass(frozen=True)
class CompiledShapes:
    """A shapes graph compiled to SPARQL checks; the classes whose subclass closures a run needs."""

    checks: tuple[_Check, ...]
    classes: frozenset[str]


# ---------------------------------------------------------------------------------------- compiler


class _Compiler:
    def __init__(self, shapes: Graph) -> None:
        self.g = shapes
        self.nsm = shapes.namespace_manager
        self.classes: set[str] = set()
        self.checks: list[_Check] = []
        self.value_groups: dict[str, list[tuple[_Focus, _Shape]]] = {}
        self.max_groups: dict[tuple[str, int], list[tuple[_Focus, _Shape]]] = {}
        self.unique_groups: dict[str, list[tuple[_Focus, _Shape]]] = {}
        self.min_groups: dict[_Focus, list[_Shape]] = {}

    def show(self, term: Node) -> str:
        return term.n3(self.nsm) if isinstance(term, URIRef | Literal) else str(term)

    # -- whole graph

    def compile(self) -> CompiledShapes:
        self._check_vocabulary()
        for shape in self._roots():
            if self._deactivated(shape):
                continue
            targets = self._targets(shape)
            focus = _Focus(tuple(targets))
            if (shape, SH.path, None) in self.g:
                self._emit(self._shape(shape), focus)
                continue
            self._emit(self._shape(shape), focus)
            for prop in self.g.objects(shape, SH.property):
                if not self._deactivated(prop):
                    self._emit(self._shape(prop, property_shape=True), focus)
        self._plan()
        return CompiledShapes(tuple(self.checks), frozenset(self.classes))

    def _check_vocabulary(self) -> None:
        for p in set(self.g.predicates()):
            name = _local(p)
            if name and name not in _KNOWN_PREDICATES:
                raise UnsupportedShapeError(
                    f"SHACL feature sh:{name} is not supported by the compiled validator"
                )
        for t in set(self.g.objects(None, RDF.type)):
            name = _local(t)
            if name in _UNSUPPORTED_TYPES or (name and name not in _KNOWN_TYPES | {"Violation"}):
                raise UnsupportedShapeError(f"sh:{name} is not supported by the compiled validator")
        for s in self.g.subjects(RDF.type, RDFS.Class):
            if (s, RDF.type, SH.NodeShape) in self.g:
                raise UnsupportedShapeError(f"implicit class targets ({s}) are not supported")

    def _roots(self) -> list[Node]:
        roots: set[Node] = set()
        for name in _TARGETS:
            roots.update(self.g.subjects(SH[name], None))
        if (None, SH.target, None) in self.g:
            raise UnsupportedShapeError("sh:target (SPARQL-based targets) is not supported")
        return sorted(roots, key=str)

    def _deactivated(self, shape: Node) -> bool:
        return any(bool(getattr(d, "value", False)) for d in self.g.objects(shape, SH.deactivated))

    def _targets(self, shape: Node) -> list[_Target]:
        out: list[_Target] = []
        for c in self.g.objects(shape, SH.targetClass):
            self._need_iri(c, "sh:targetClass")
            self.classes.add(str(c))
            out.append(_Target("class", str(c)))
        for p in self.g.objects(shape, SH.targetSubjectsOf):
            self._need_iri(p, "sh:targetSubjectsOf")
            out.append(_Target("subjectsOf", str(p)))
        for p in self.g.objects(shape, SH.targetObjectsOf):
            self._need_iri(p, "sh:targetObjectsOf")
            out.append(_Target("objectsOf", str(p)))
        for n in self.g.objects(shape, SH.targetNode):
            out.append(_Target("node", _sparql_term(n)))
        return sorted(out, key=lambda t: (t.kind, t.term))

    @staticmethod
    def _need_iri(term: Node, what: str) -> None:
        if not isinstance(term, URIRef):
            raise UnsupportedShapeError(f"{what} must be an IRI, got {term!r}")

    def _one(self, shape: Node, name: str) -> Node | None:
        found = list(self.g.objects(shape, SH[name]))
        if len(found) > 1:
            raise UnsupportedShapeError(
                f"{shape} has {len(found)} values for sh:{name}; at most one is supported"
            )
        return found[0] if found else None

    def _messages(self, node: Node) -> tuple[str, ...]:
        msgs = [m for m in self.g.objects(node, SH.message) if isinstance(m, Literal)]
        # One message per result: prefer English, then untagged, then any, deterministically.
        msgs.sort(key=lambda m: (m.language not in ("en", None), m.language is not None, str(m)))
        return tuple(str(m) for m in msgs)

    # -- one shape

    def _shape(self, shape: Node, property_shape: bool = False) -> _Shape:
        preds = {_local(p) for p in self.g.predicates(shape, None)} - {""}
        bad = preds - _SHAPE_PARAMS
        if bad:
            raise UnsupportedShapeError(f"{shape}: unsupported SHACL parameters {sorted(bad)}")
        path_node = self._one(shape, "path")
        if property_shape and path_node is None:
            raise UnsupportedShapeError(f"{shape} is used with sh:property but has no sh:path")
        if path_node is not None and "property" in preds:
            raise UnsupportedShapeError(f"{shape}: sh:property inside a property shape is not supported")
        if path_node is None:
            for name in ("minCount", "maxCount", "uniqueLang"):
                if name in preds:
                    raise UnsupportedShapeError(f"{shape}: sh:{name} needs a property shape (sh:path)")
        path = self._path(path_node) if path_node is not None else None
        severity = self._one(shape, "severity")
        min_count = self._one(shape, "minCount")
        max_count = self._one(shape, "maxCount")
        unique = self._one(shape, "uniqueLang")
        return _Shape(
            node=str(shape),
            path=path,
            messages=self._messages(shape),
            reported=severity is None or severity == SH.Violation,
            values=tuple(self._value_checks(shape)),
            min_count=int(min_count.toPython()) if isinstance(min_count, Literal) else 0,
            max_count=int(max_count.toPython()) if isinstance(max_count, Literal) else None,
            unique_lang=bool(unique.toPython()) if isinstance(unique, Literal) else False,
            has_values=tuple(_sparql_term(v) for v in self.g.objects(shape, SH.hasValue)),
            sparql=tuple(
                self._sparql(c, path) for c in self.g.objects(shape, SH.sparql) if not self._deactivated(c)
            ),
        )

    def _path(self, node: Node) -> _Path:
        text = self._path_text(node)
        simple = isinstance(node, URIRef) or (
            isinstance(node, BNode) and isinstance(self._one(node, "inversePath"), URIRef)
        )
        shown = str(node) if isinstance(node, URIRef) else text
        return _Path(text, shown, self.show(node) if isinstance(node, URIRef) else text, simple)

    def _path_text(self, node: Node) -> str:
        if isinstance(node, URIRef):
            return f"<{node}>"
        if not isinstance(node, BNode):
            raise UnsupportedShapeError(f"a path must be an IRI or a blank node, got {node!r}")
        if (node, RDF.first, None) in self.g:
            return "(" + "/".join(self._path_text(n) for n in Collection(self.g, node)) + ")"
        preds = {_local(p) for p in self.g.predicates(node, None)} - {""}
        if len(preds) != 1 or not preds <= _PATH_PARAMS:
            raise UnsupportedShapeError(f"unsupported property path {node} ({sorted(preds)})")
        (kind,) = preds
        inner = self._one(node, kind)
        assert inner is not None
        if kind == "alternativePath":
            return "(" + "|".join(self._path_text(n) for n in Collection(self.g, inner)) + ")"
        if kind == "inversePath":
            return f"^{self._path_text(inner)}"
        suffix = {"zeroOrMorePath": "*", "oneOrMorePath": "+", "zeroOrOnePath": "?"}[kind]
        return f"({self._path_text(inner)}){suffix}"

    # -- value-level constraints, also used inside sh:or / sh:and / sh:not / sh:xone / sh:node

    def _value_checks(self, shape: Node) -> list[_ValueCheck]:
        out: list[_ValueCheck] = []
        dt = self._one(shape, "datatype")
        if dt is not None:
            self._need_iri(dt, "sh:datatype")
            out.append(
                _ValueCheck(
                    "DatatypeConstraintComponent",
                    _datatype(dt),
                    f"Value is not Literal with datatype {self.show(dt)}",
                )
            )
        kind = self._one(shape, "nodeKind")
        if kind is not None:
            if not isinstance(kind, URIRef) or kind not in _NODE_KINDS:
                raise UnsupportedShapeError(f"unknown sh:nodeKind {kind}")
            tmpl = _NODE_KINDS[kind]
            out.append(
                _ValueCheck(
                    "NodeKindConstraintComponent",
                    lambda v, _c: tmpl.format(v=v),
                    f"Value is not of Node Kind {self.show(kind)}",
                )
            )
        for cls in self.g.objects(shape, SH["class"]):
            self._need_iri(cls, "sh:class")
            self.classes.add(str(cls))
            out.append(
                _ValueCheck(
                    "ClassConstraintComponent",
                    _class(str(cls)),
                    f"Value does not have class {self.show(cls)}",
                )
            )
        pattern = self._one(shape, "pattern")
        if pattern is not None:
            flags = self._one(shape, "flags")
            out.append(
                _ValueCheck(
                    "PatternConstraintComponent",
                    _pattern(str(pattern), str(flags or "")),
                    f"Value does not match pattern '{pattern}'",
                )
            )
        elif (shape, SH.flags, None) in self.g:
            raise UnsupportedShapeError(f"{shape}: sh:flags without sh:pattern")
        members = self._one(shape, "in")
        if members is not None:
            terms = [_sparql_term(t) for t in Collection(self.g, members)]
            shown = "(" + " ".join(self.show(t) for t in Collection(self.g, members)) + ")"
            out.append(_ValueCheck("InConstraintComponent", _in(terms), f"Value not in list {shown}"))
        langs = self._one(shape, "languageIn")
        if langs is not None:
            tags = [str(t) for t in Collection(self.g, langs)]
            out.append(
                _ValueCheck(
                    "LanguageInConstraintComponent", _language_in(tags), f"String language is not in {tags}"
                )
            )
        for name, (op, rule) in _RANGES.items():
            bound = self._one(shape, name)
            if bound is not None:
                out.append(
                    _ValueCheck(
                        rule, _compare(op, _sparql_term(bound)), f"Value is not {op} {self.show(bound)}"
                    )
                )
        for name, op, rule in (
            ("minLength", ">=", "MinLengthConstraintComponent"),
            ("maxLength", "<=", "MaxLengthConstraintComponent"),
        ):
            n = self._one(shape, name)
            if n is not None:
                out.append(
                    _ValueCheck(
                        rule,
                        _length(op, int(n.toPython()) if isinstance(n, Literal) else -1),
                        f"String length not {op} {n}",
                    )
                )
        for name, rule in (
            ("or", "OrConstraintComponent"),
            ("and", "AndConstraintComponent"),
            ("xone", "XoneConstraintComponent"),
        ):
            for lst in self.g.objects(shape, SH[name]):
                parts = [self._node_condition(s) for s in Collection(self.g, lst)]
                out.append(
                    _ValueCheck(
                        rule,
                        _logical(name, parts),
                        f"Node does not conform to sh:{name} of {len(parts)} shapes",
                    )
                )
        for inner in self.g.objects(shape, SH["not"]):
            out.append(
                _ValueCheck(
                    "NotConstraintComponent",
                    _logical("not", [self._node_condition(inner)]),
                    "Node conforms to a shape it must not",
                )
            )
        for inner in self.g.objects(shape, SH.node):
            out.append(
                _ValueCheck(
                    "NodeConstraintComponent",
                    self._node_condition(inner),
                    f"Value does not conform to Shape {self.show(inner)}.",
                )
            )
        if (shape, SH.hasValue, None) in self.g and (shape, SH.path, None) not in self.g:
            terms = [_sparql_term(t) for t in self.g.objects(shape, SH.hasValue)]
            out.append(
                _ValueCheck("HasValueConstraintComponent", _in(terms), "Node is not the required value")
            )
        return out

    def _node_condition(self, shape: Node) -> Cond:
        """A shape nested in a logical constraint or sh:node, as one test on the value: only value-level
        constraints are supported there (no paths, counts or SPARQL)."""
        preds = {_local(p) for p in self.g.predicates(shape, None)} - {""}
        bad = preds - _VALUE_PARAMS - _META - {"hasValue"}
        if bad:
            raise UnsupportedShapeError(
                f"{shape}: {sorted(bad)} inside sh:or/sh:and/sh:xone/sh:not/sh:node is not supported"
            )
        if self._deactivated(shape):
            return lambda _v, _c: "true"
        parts = [c.cond for c in self._value_checks(shape)]
        return _logical("and", parts)

    def _sparql(self, node: Node, path: _Path | None) -> _SparqlConstraint:
        preds = {_local(p) for p in self.g.predicates(node, None)} - {""}
        if preds - _SPARQL_PARAMS - {""}:
            raise UnsupportedShapeError(f"{node}: unsupported parameters {sorted(preds - _SPARQL_PARAMS)}")
        select = self._one(node, "select")
        if select is None:
            raise UnsupportedShapeError(f"{node}: a SPARQL constraint needs sh:select")
        prologue = []
        for decl_holder in self.g.objects(node, SH.prefixes):
            for decl in self.g.objects(decl_holder, SH.declare):
                prefix, ns = self._one(decl, "prefix"), self._one(decl, "namespace")
                prologue.append(f"PREFIX {prefix}: <{ns}>")
        text = str(select)
        own = re.match(r"\s*((?:(?:PREFIX\s+[\w.-]*:\s*<[^>]*>|BASE\s+<[^>]*>)\s*)*)(.*)", text, re.S | re.I)
        assert own is not None
        prologue.append(own.group(1).strip())
        body = own.group(2)
        for word in ("$currentShape", "$shapesGraph", "?currentShape", "?shapesGraph"):
            if word in body:
                raise UnsupportedShapeError(f"{node}: {word} is not supported")
        if (
            re.search(r"\b(MINUS|SERVICE|VALUES)\b", body, re.I)
            or len(re.findall(r"\bSELECT\b", body, re.I)) != 1
        ):
            raise UnsupportedShapeError(f"{node}: MINUS, SERVICE, VALUES and nested SELECT are not supported")
        if "$PATH" in body:
            if path is None:
                raise UnsupportedShapeError(f"{node}: $PATH in a node shape")
            body = body.replace("$PATH", path.sparql)
        body = re.sub(r"\$this\b", "?this", body)
        head = re.match(r"\s*SELECT\s+(DISTINCT\s+|REDUCED\s+)?(.*?)\s*(WHERE\s*)?\{", body, re.S | re.I)
        if head is None:
            raise UnsupportedShapeError(f"{node}: sh:select must be a SELECT query")
        projection = head.group(2)
        if projection.strip() != "*" and not re.search(r"\?this\b", projection):
            start = head.start(2)
            body = body[:start] + "?this " + body[start:]
        grouped = re.search(r"\bGROUP\s+BY\b(.*)", body, re.S | re.I)
        if grouped and not re.search(r"\?this\b", grouped.group(1)):
            raise UnsupportedShapeError(
                f"{node}: an aggregate must GROUP BY $this to be evaluated set at a time"
            )
        return _SparqlConstraint(body, "\n".join(p for p in prologue if p), self._messages(node))

    # -- queries for one shape

    # -- queries: constraints that scan the same path or enumerate the same focus nodes share one query

    def _emit(self, shape: _Shape, focus: _Focus) -> None:
        if not shape.reported:
            return
        path = shape.path
        if shape.values:
            if path is not None and path.simple:
                self.value_groups.setdefault(path.sparql, []).append((focus, shape))
            else:
                self.checks.append(self._values_alone(focus, shape))
        if path is None:
            for value in shape.has_values:
                raise UnsupportedShapeError(f"{shape.node}: sh:hasValue {value} on a node shape with targets")
        else:
            for value in shape.has_values:
                self.checks.append(self._has_value(focus, shape, path, value))
            if shape.min_count == 1:
                self.min_groups.setdefault(focus, []).append(shape)
            elif shape.min_count > 1:
                self.checks.append(self._min_count(focus, shape, path, shape.min_count))
            if shape.max_count is not None:
                if path.simple:
                    self.max_groups.setdefault((path.sparql, shape.max_count), []).append((focus, shape))
                else:
                    self.checks.append(self._max_alone(focus, shape, path, shape.max_count))
            if shape.unique_lang:
                self.unique_groups.setdefault(path.sparql, []).append((focus, shape))
        for constraint in shape.sparql:
            self.checks.append(self._sparql_check(focus, shape, constraint))

    def _plan(self) -> None:
        for p, members in self.value_groups.items():
            self.checks.append(self._values_shared(p, members))
        for (p, m), members in self.max_groups.items():
            self.checks.append(self._max_shared(p, m, members))
        for p, members in self.unique_groups.items():
            self.checks.append(self._unique_shared(p, members))
        for focus, shapes in self.min_groups.items():
            self.checks.append(self._min_one(focus, shapes))

    @staticmethod
    def _tests(members: Sequence[tuple[_Focus, _Shape]], ctx: _Ctx) -> tuple[str, str]:
        binds = " ".join(f"BIND(({f.test(ctx)}) AS ?t{j})" for j, (f, _s) in enumerate(members))
        return " ".join(f"?t{j}" for j in range(len(members))), binds

    def _values_shared(self, p: str, members: list[tuple[_Focus, _Shape]]) -> _Check:
        """Every value test on one path, of every shape: each test runs once per distinct value, and only
        the failing values are joined back to their focus nodes and checked against each shape's targets."""
        conds: dict[str, tuple[int, Cond]] = {}
        uses: list[list[tuple[_ValueCheck, int]]] = []
        for _focus, shape in members:
            mine = []
            for c in shape.values:
                if c.key not in conds:
                    conds[c.key] = (len(conds), c.cond)
                mine.append((c, conds[c.key][0]))
            uses.append(mine)

        def build(ctx: _Ctx) -> str:
            oks = " ".join(f"?ok{i}" for i, _c in conds.values())
            binds = " ".join(f"BIND({cond('?v', ctx)} AS ?ok{i})" for i, cond in conds.values())
            bad = " || ".join(f"!?ok{i}" for i, _c in conds.values())
            ts, tests = self._tests(members, ctx)
            values = f"{{ SELECT DISTINCT ?v WHERE {{ ?_s {p} ?v }} }}"
            failing = f"SELECT ?v {oks} WHERE {{ {values} {binds} FILTER({bad}) }}"
            return f"SELECT ?this ?v {oks} {ts} WHERE {{ {{ {failing} }} ?this {p} ?v {tests} }}"

        def read(row: ox.QuerySolution, _variables: list[str]) -> list[Violation]:
            this, v = _text(row["this"]) or "", _text(row["v"])
            out: list[Violation] = []
            for j, (_focus, shape) in enumerate(members):
                if _true(row[f"t{j}"]):
                    out.extend(
                        _violation(shape, this, c.rule, c.generic, v)
                        for c, i in uses[j]
                        if not _true(row[f"ok{i}"])
                    )
            return out

        return _Check(build, read)

    def _values_alone(self, focus: _Focus, shape: _Shape) -> _Check:
        """Value tests of a node shape (on the focus node itself) or along a complex path."""
        checks = shape.values
        path = shape.path

        def build(ctx: _Ctx) -> str:
            oks = " ".join(f"?ok{i}" for i in range(len(checks)))
            binds = " ".join(f"BIND({c.cond('?v', ctx)} AS ?ok{i})" for i, c in enumerate(checks))
            bad = " || ".join(f"!?ok{i}" for i in range(len(checks)))
            step = "BIND(?this AS ?v)" if path is None else f"?this {path.sparql} ?v"
            return f"SELECT ?this ?v {oks} WHERE {{ {focus.enumerate(ctx)} {step} {binds} FILTER({bad}) }}"

        def read(row: ox.QuerySolution, _variables: list[str]) -> list[Violation]:
            this, v = _text(row["this"]) or "", _text(row["v"])
            return [
                _violation(shape, this, c.rule, c.generic, v)
                for i, c in enumerate(checks)
                if not _true(row[f"ok{i}"])
            ]

        return _Check(build, read)

    def _has_value(self, focus: _Focus, shape: _Shape, path: _Path, value: str) -> _Check:
        def build(ctx: _Ctx) -> str:
            missing = f"FILTER NOT EXISTS {{ ?this {path.sparql} {value} }}"
            return f"SELECT ?this WHERE {{ {focus.enumerate(ctx)} {missing} }}"

        def read(row: ox.QuerySolution, _variables: list[str]) -> list[Violation]:
            this = _text(row["this"]) or ""
            return [_violation(shape, this, "HasValueConstraintComponent", f"Missing expected value {value}")]

        return _Check(build, read)

    def _min_one(self, focus: _Focus, shapes: list[_Shape]) -> _Check:
        """Every 'at least one value' rule of shapes with these targets, in one pass over the focus nodes."""
        paths: dict[str, int] = {}
        for shape in shapes:
            assert shape.path is not None
            paths.setdefault(shape.path.sparql, len(paths))

        def build(ctx: _Ctx) -> str:
            hs = " ".join(f"?h{i}" for i in paths.values())
            binds = " ".join(f"BIND(EXISTS {{ ?this {p} ?_v{i} }} AS ?h{i})" for p, i in paths.items())
            bad = " || ".join(f"!?h{i}" for i in paths.values())
            return f"SELECT ?this {hs} WHERE {{ {focus.enumerate(ctx)} {binds} FILTER({bad}) }}"

        def read(row: ox.QuerySolution, _variables: list[str]) -> list[Violation]:
            this = _text(row["this"]) or ""
            out = []
            for shape in shapes:
                assert shape.path is not None
                if not _true(row[f"h{paths[shape.path.sparql]}"]):
                    generic = f"Less than 1 values on {this}->{shape.path.display}"
                    out.append(_violation(shape, this, "MinCountConstraintComponent", generic))
            return out

        return _Check(build, read)

    def _min_count(self, focus: _Focus, shape: _Shape, path: _Path, n: int) -> _Check:
        def build(ctx: _Ctx) -> str:
            if n == 2:  # a pair of distinct values is cheaper to look for than grouping and counting
                pair = f"?this {path.sparql} ?a, ?b FILTER(!sameTerm(?a, ?b))"
                return f"SELECT ?this WHERE {{ {focus.enumerate(ctx)} FILTER NOT EXISTS {{ {pair} }} }}"
            return (
                f"SELECT ?this WHERE {{ {focus.enumerate(ctx)} OPTIONAL {{ ?this {path.sparql} ?v }} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {n})"
            )

        def read(row: ox.QuerySolution, _variables: list[str]) -> list[Violation]:
            this = _text(row["this"]) or ""
            generic = f"Less than {n} values on {this}->{path.display}"
            return [_violation(shape, this, "MinCountConstraintComponent", generic)]

        return _Check(build, read)

    def _max_shared(self, p: str, m: int, members: list[tuple[_Focus, _Shape]]) -> _Check:
        def build(ctx: _Ctx) -> str:
            ts, tests = self._tests(members, ctx)
            inner = f"SELECT ?this WHERE {{ ?this {p} ?v }} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {m})"
            return f"SELECT ?this {ts} WHERE {{ {{ {inner} }} {tests} }}"

        def read(row: ox.QuerySolution, _variables: list[str]) -> list[Violation]:
            this = _text(row["this"]) or ""
            out = []
            for j, (_focus, shape) in enumerate(members):
                if _true(row[f"t{j}"]):
                    assert shape.path is not None
                    generic = f"More than {m} values on {this}->{shape.path.display}"
                    out.append(_violation(shape, this, "MaxCountConstraintComponent", generic))
            return out

        # Most subjects have one value: when no subject has two, no subject has more than m >= 1.
        guard = (
            f"ASK {{ {{ SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?this) AS ?d) WHERE {{ ?this {p} ?v }} }} "
            f"FILTER(?n = ?d) }}"
        )
        return _Check(build, read, guard if m >= 1 else None)

    def _max_alone(self, focus: _Focus, shape: _Shape, path: _Path, m: int) -> _Check:
        def build(ctx: _Ctx) -> str:
            return (
                f"SELECT ?this WHERE {{ {focus.enumerate(ctx)} ?this {path.sparql} ?v }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {m})"
            )

        def read(row: ox.QuerySolution, _variables: list[str]) -> list[Violation]:
            this = _text(row["this"]) or ""
            generic = f"More than {m} values on {this}->{path.display}"
            return [_violation(shape, this, "MaxCountConstraintComponent", generic)]

        return _Check(build, read)

    def _unique_shared(self, p: str, members: list[tuple[_Focus, _Shape]]) -> _Check:
        simple = all(shape.path is not None and shape.path.simple for _f, shape in members)

        def build(ctx: _Ctx) -> str:
            ts, tests = self._tests(members, ctx)
            scan = f"?this {p} ?v" if simple else f"{members[0][0].enumerate(ctx)} ?this {p} ?v"
            inner = (
                f'SELECT ?this ?lang WHERE {{ {scan} FILTER(isLiteral(?v) && LANG(?v) != "") }} '
                f"GROUP BY ?this (LCASE(LANG(?v)) AS ?lang) HAVING (COUNT(DISTINCT ?v) > 1)"
            )
            return f"SELECT ?this ?lang {ts} WHERE {{ {{ {inner} }} {tests} }}"

        def read(row: ox.QuerySolution, _variables: list[str]) -> list[Violation]:
            this = _text(row["this"]) or ""
            return [
                _violation(
                    shape,
                    this,
                    "UniqueLangConstraintComponent",
                    "More than one String shares the same Language",
                )
                for j, (_f, shape) in enumerate(members)
                if _true(row[f"t{j}"])
            ]

        if not simple and len(members) > 1:
            raise UnsupportedShapeError(
                "sh:uniqueLang on one complex path in several shapes is not supported"
            )
        guard = (
            f"ASK {{ {{ SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?this) AS ?d) WHERE {{ ?this {p} ?v "
            f'FILTER(isLiteral(?v) && LANG(?v) != "") }} }} FILTER(?n = ?d) }}'
        )
        return _Check(build, read, guard if simple else None)

    def _sparql_check(self, focus: _Focus, shape: _Shape, c: _SparqlConstraint) -> _Check:
        path = shape.path

        def build(ctx: _Ctx) -> str:
            return f"{c.prologue}\nSELECT * WHERE {{ {{ {c.select} }} FILTER({focus.test(ctx)}) }}"

        def read(row: ox.QuerySolution, variables: list[str]) -> list[Violation]:
            bound = {var: _text(row[var]) or "" for var in variables if row[var] is not None}
            this = bound.get("this", "")
            value = bound.get("value", this if path is None else None)
            if value is not None:
                bound["value"] = value
            result_path = bound.get("path", path.shown if path else None)
            message = (c.messages or shape.messages or ("violates a SPARQL constraint",))[0]
            for var, text in bound.items():
                message = re.sub(r"\{[?$]" + re.escape(var) + r"\}", _literal(text), message)
            return [Violation(this, result_path, "SPARQLConstraintComponent", message, value)]

        return _Check(build, read)


def _violation(shape: _Shape, focus: str, rule: str, generic: str, value: str | None = None) -> Violation:
    message = shape.messages[0] if shape.messages else generic
    return Violation(focus, shape.path.shown if shape.path else None, rule, message, value)


# ---------------------------------------------------------------------------------------- conditions


def _datatype(dt: Node) -> Cond:
    if dt == RDF.langString:
        return lambda v, _c: f'COALESCE(isLiteral({v}) && LANG({v}) != "", false)'
    if dt == XSD.string:
        return lambda v, _c: (
            f'COALESCE(isLiteral({v}) && sameTerm(DATATYPE({v}), <{XSD.string}>) && LANG({v}) = "", false)'
        )
    if dt == RDFS.Literal:
        return lambda v, _c: f"isLiteral({v})"
    if dt in _CASTABLE:
        # Well formed: casting to its own datatype succeeds (an ill-formed literal makes the cast an error).
        return lambda v, _c: (
            f"COALESCE(isLiteral({v}) && sameTerm(DATATYPE({v}), <{dt}>) "
            f"&& sameTerm(DATATYPE(<{dt}>({v})), <{dt}>), false)"
        )
    return lambda v, _c: f"COALESCE(isLiteral({v}) && sameTerm(DATATYPE({v}), <{dt}>), false)"


def _class(cls: str) -> Cond:
    def cond(v: str, ctx: _Ctx) -> str:
        k = ctx.var("c")
        return f"EXISTS {{ VALUES {k} {{ {ctx.values(cls)} }} {v} {_RDF_TYPE} {k} }}"

    return cond


def _string(text: str) -> str:
    return Literal(text).n3()


def _pattern(pattern: str, flags: str) -> Cond:
    return lambda v, _c: (
        f"COALESCE(!isBlank({v}) && REGEX(STR({v}), {_string(pattern)}, {_string(flags)}), false)"
    )


def _in(terms: list[str]) -> Cond:
    return lambda v, _c: "(" + (" || ".join(f"sameTerm({v}, {t})" for t in terms) or "false") + ")"


def _language_in(tags: list[str]) -> Cond:
    def cond(v: str, _c: _Ctx) -> str:
        tests = " || ".join(f"LANGMATCHES(LANG({v}), {_string(t)})" for t in tags) or "false"
        return f"COALESCE(isLiteral({v}) && ({tests}), false)"

    return cond


def _compare(op: str, bound: str) -> Cond:
    return lambda v, _c: f"COALESCE(isLiteral({v}) && {v} {op} {bound}, false)"


def _length(op: str, n: int) -> Cond:
    return lambda v, _c: f"COALESCE(!isBlank({v}) && STRLEN(STR({v})) {op} {n}, false)"


def _logical(kind: str, parts: list[Cond]) -> Cond:
    def cond(v: str, ctx: _Ctx) -> str:
        exprs = [p(v, ctx) for p in parts]
        if kind == "or":
            return "(" + (" || ".join(exprs) or "false") + ")"
        if kind == "and":
            return "(" + (" && ".join(exprs) or "true") + ")"
        if kind == "not":
            return f"!({exprs[0]})"
        # xone: exactly one alternative holds
        total = " + ".join(f"IF({e}, 1, 0)" for e in exprs) or "0"
        return f"(({total}) = 1)"

    return cond


# ---------------------------------------------------------------------------------------- running


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement that inserts `text` as is (no backslash escapes)."""
    return lambda _m: text


def _text(term: object) -> str | None:
    if term is None:
        return None
    value = getattr(term, "value", None)
    return str(value) if value is not None else str(term)


def _true(term: object) -> bool:
    return isinstance(term, ox.Literal) and term.value == "true"


def compile_shapes(shapes: Graph) -> CompiledShapes:
    """Compile a SHACL shapes graph to SPARQL checks; raises UnsupportedShapeError on unknown features."""
    return _Compiler(shapes).compile()


@lru_cache(maxsize=4)
def _compiled_file(path: str, _mtime_ns: int, _size: int) -> CompiledShapes:
    return compile_shapes(Graph().parse(path))


def _default_shapes() -> CompiledShapes:
    stat = os.stat(SHAPES_PATH)
    return _compiled_file(str(SHAPES_PATH), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _ontology_quads_file(path: str, _mtime_ns: int, _size: int) -> tuple[ox.Quad, ...]:
    graph = ox.NamedNode(VALIDATION_ONTOLOGY_GRAPH)
    return tuple(
        ox.Quad(t.subject, t.predicate, t.object, graph)
        for t in ox.parse(path=path, format=ox.RdfFormat.TURTLE)
    )


def _ontology_quads() -> tuple[ox.Quad, ...]:
    stat = os.stat(ONTOLOGY_PATH)
    return _ontology_quads_file(str(ONTOLOGY_PATH), stat.st_mtime_ns, stat.st_size)


def _closures(data: ox.Store, classes: Iterable[str]) -> dict[str, list[str]]:
    """Each class with all its subclasses (rdfs:subClassOf*), from every graph of the store."""
    parents: dict[str, set[str]] = {}
    rows = data.query(
        f"SELECT DISTINCT ?a ?b WHERE {{ ?a <{RDFS.subClassOf}> ?b FILTER(isIRI(?a) && isIRI(?b)) }}",
        use_default_graph_as_union=True,
    )
    assert isinstance(rows, ox.QuerySolutions)
    for row in rows:
        parents.setdefault(_text(row["b"]) or "", set()).add(_text(row["a"]) or "")
    out: dict[str, list[str]] = {}
    for cls in classes:
        seen = {cls}
        todo = [cls]
        while todo:
            for sub in parents.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        out[cls] = sorted(seen)
    return out


def validate_store(data: ox.Store, shapes: CompiledShapes | None = None) -> Report:
    """Validate everything in the union of all graphs of `data` against pactgraph's shapes.

    For the run, the ontology is added to `data` in the graph VALIDATION_ONTOLOGY_GRAPH (its class
    hierarchy and individuals are what sh:class and sh:targetClass need); that graph is removed
    afterwards, and nothing else in `data` changes."""
    compiled = shapes or _default_shapes()
    graph = ox.NamedNode(VALIDATION_ONTOLOGY_GRAPH)
    added = not data.contains_named_graph(graph)
    if added:
        data.extend(_ontology_quads())
    try:
        ctx = _Ctx(_closures(data, compiled.classes))
        violations: list[Violation] = []
        for check in compiled.checks:
            if check.skip_if is not None and data.query(check.skip_if, use_default_graph_as_union=True):
                continue
            solutions = data.query(check.build(ctx), use_default_graph_as_union=True)
            assert isinstance(solutions, ox.QuerySolutions)
            variables = [v.value for v in solutions.variables]
            seen: set[Violation] = set()
            for row in solutions:
                for violation in check.read(row, variables):
                    if violation not in seen:
                        seen.add(violation)
                        violations.append(violation)
    finally:
        if added:
            data.remove_graph(graph)
    violations.sort(key=lambda v: (v.focus, v.path or "", v.rule, v.value or ""))
    return Report(conforms=not violations, violations=violations)


SHAPES_CHECKED = "https://pactgraph.org/ontology#shapesChecked"
"""`<graph> pg:shapesChecked false`, in the graph itself: a write into it skipped the shapes."""


def unchecked_marks(graphs: Iterable[ox.NamedNode]) -> list[ox.Quad]:
    """The quads that record, in each graph, that a write into it skipped the SHACL check (every
    write path adds them when asked not to validate: --no-validate, validate=false)."""
    false = ox.Literal("false", datatype=ox.NamedNode(str(XSD.boolean)))
    return [ox.Quad(g, ox.NamedNode(SHAPES_CHECKED), false, g) for g in graphs]


def _to_store(graphs: Iterable[Graph]) -> ox.Store:
    store = ox.Store()
    for g in graphs:
        if isinstance(g, ConjunctiveGraph):
            store.load(g.serialize(format="nquads", encoding="utf-8"), ox.RdfFormat.N_QUADS, lenient=True)
        else:
            store.load(g.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES, lenient=True)
    return store


def validate(data: Graph, context: Graph | None = None) -> Report:
    """Check `data` against the shapes; `context` adds facts the data may refer to (e.g. the store's
    sources and entities), and the ontology supplies class hierarchy and individuals."""
    return validate_store(_to_store([data] if context is None else [data, context]))


@lru_cache(maxsize=1)
def _shapes_graph() -> Graph:
    return Graph().parse(SHAPES_PATH)


@lru_cache(maxsize=1)
def _ontology_graph() -> Graph:
    return Graph().parse(ONTOLOGY_PATH)


def validate_pyshacl(data: Graph, context: Graph | None = None, shapes: Graph | None = None) -> Report:
    """The reference: the same check by pyshacl, node at a time (slow; for tests and cross-checks)."""
    from pyshacl import validate as pyshacl_validate  # imported here: 0.2 s off every start

    # pyshacl's ont_graph only lends class axioms; the individuals (claim statuses, domains)
    # and the store's facts must be in the data graph itself.
    full = data + _ontology_graph()
    if context is not None:
        full += context
    _conforms, report_graph, _text_report = pyshacl_validate(
        full,
        shacl_graph=shapes if shapes is not None else _shapes_graph(),
        inference="none",
        advanced=True,
        allow_warnings=True,
        inplace=True,
    )
    violations: list[Violation] = []
    for result in report_graph.subjects(SH.resultSeverity, SH.Violation):
        focus = report_graph.value(result, SH.focusNode)
        path = report_graph.value(result, SH.resultPath)
        rule = report_graph.value(result, SH.sourceConstraintComponent)
        message = report_graph.value(result, SH.resultMessage)
        value = report_graph.value(result, SH.value)
        violations.append(
            Violation(
                focus=str(focus),
                path=str(path) if path is not None else None,
                rule=str(rule).rsplit("#", 1)[-1] if rule is not None else "?",
                message=str(message) if message is not None else "violates a shape",
                value=str(value) if value is not None else None,
            )
        )
    violations.sort(key=lambda v: (v.focus, v.path or "", v.rule))
    return Report(conforms=not violations, violations=violations)


__all__ = [
    "SHAPES_CHECKED",
    "VALIDATION_ONTOLOGY_GRAPH",
    "CompiledShapes",
    "Report",
    "UnsupportedShapeError",
    "Violation",
    "compile_shapes",
    "unchecked_marks",
    "validate",
    "validate_pyshacl",
    "validate_store",
]
