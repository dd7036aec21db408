"""SHACL validation of data against pactgraph's shapes, with the ontology's class hierarchy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pyshacl import validate as pyshacl_validate
from rdflib import Graph
from rdflib.namespace import SH

from ontology import ONTOLOGY_PATH, SHAPES_PATH


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


@lru_cache(maxsize=1)
def _shapes() -> Graph:
    return Graph().parse(SHAPES_PATH)


@lru_cache(maxsize=1)
def _ontology() -> Graph:
    return Graph().parse(ONTOLOGY_PATH)


def validate(data: Graph, context: Graph | None = None) -> Report:
    """Check `data` against the shapes; `context` adds facts the data may refer to (e.g. the store's
    sources and entities), and the ontology supplies class hierarchy for class constraints."""
    # pyshacl's ont_graph only lends class axioms; the individuals (claim statuses, domains)
    # and the store's facts must be in the data graph itself.
    full = data + _ontology()
    if context is not None:
        full += context
    _conforms, report_graph, _text = pyshacl_validate(
        full, shacl_graph=_shapes(), inference="none", advanced=True, allow_warnings=True, inplace=True
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
