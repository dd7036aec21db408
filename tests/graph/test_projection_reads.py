"""The projection read straight from pyoxigraph equals the one read through rdflib, and the
filter values pre-computed for path queries agree with `valid_on` and the claim statuses."""

from __future__ import annotations

from datetime import date
from typing import Any

import networkx as nx
import pytest

from pactgraph.graph import Store
from pactgraph.graph.dates import valid_on
from pactgraph.graph.paths import STATUSES, PathQuery, _Search
from pactgraph.graph.projection import Edge, Projection, build

PG = "https://pactgraph.org/ontology#"


def _facts(proj: Projection) -> dict[tuple[str, str], list[Edge]]:
    out = {}
    for u, v, data in proj.graph.edges(data=True):
        key = (u, v) if u < v else (v, u)
        out[key] = sorted(data["facts"], key=lambda e: (e.subject, e.predicate, e.object))
    return out


@pytest.mark.parametrize("loaded", ["oxigraph"], indirect=True)  # the one backend with a native handle
def test_native_reads_match_rdflib_reads(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert loaded.oxigraph is not None
    native = build(loaded)
    monkeypatch.setattr(Store, "oxigraph", property(lambda self: None))
    assert loaded.oxigraph is None
    generic = build(loaded)
    assert native.classes == generic.classes
    assert native.labels == generic.labels
    assert native.readings == generic.readings
    assert (native.hubs, native.actors) == (generic.hubs, generic.actors)
    assert set(native.graph) == set(generic.graph)
    assert _facts(native) == _facts(generic)
    assert native.predicates == generic.predicates and "supporter" in native.predicates


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        ("2011", None),
        ("2024-12", "2025"),
        ("2015-09-30", "2024-12-08"),
        (None, "1999-02"),
        ("not a date", None),
    ],
)
@pytest.mark.parametrize("status", ["confirmed", "reported", "disputed", "denied"])
def test_prepared_filters_agree_with_valid_on(start: Any, end: Any, status: str) -> None:
    a, b = "https://example.org/a", "https://example.org/b"
    proj = Projection(version=0, graph=nx.Graph(), classes={a: "State", b: "Support"})
    proj.graph.add_edge(a, b, facts=[Edge(b, PG + "supporter", a, start, end, status, "g", (), None)])
    for day in (date(1999, 1, 31), date(1999, 3, 1), date(2011, 1, 1), date(2024, 12, 1), date(2026, 1, 1)):
        for min_status in STATUSES:
            search = _Search(proj, PathQuery((a,), b, as_of=day, min_status=min_status))
            try:
                expected = valid_on(start, end, day)
            except Exception:
                expected = True  # a bound that does not parse bounds nothing
            expected = expected and STATUSES[status] >= STATUSES[min_status]
            assert search.edge_ok(a, b) is expected, (day, min_status)
    assert _Search(proj, PathQuery((a,), b, via=("member",))).edge_ok(a, b) is False
    assert _Search(proj, PathQuery((a,), b, exclude=("supporter",))).edge_ok(a, b) is False
    assert _Search(proj, PathQuery((a,), b)).edge_ok(a, b) is True
