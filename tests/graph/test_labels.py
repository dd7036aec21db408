"""Hubs no source names get labels made from their parts and their time."""

from __future__ import annotations

import networkx as nx
import pytest

from pactgraph.data import DATA_DIR
from pactgraph.graph import ingest, load_ontology, open_store, read_sources
from pactgraph.graph.labels import hub_label, label_hubs
from pactgraph.graph.projection import Edge, Projection, build

ID = "https://pactgraph.org/id/"
PG = "https://pactgraph.org/ontology#"


@pytest.fixture(scope="module")
def proj() -> Projection:
    store = open_store("memory:")
    load_ontology(store)
    ingest(store, read_sources([DATA_DIR]))
    made = build(store)
    store.close()
    return made


def test_a_membership_reads_as_its_member_in_its_organisation_since_its_start(proj: Projection) -> None:
    iran_in_brics = next(
        n
        for n in proj.hubs
        if proj.classes[n] == "Membership"
        and {ID + "state/IRN", ID + "org/brics"} <= set(proj.graph.neighbors(n))
    )
    assert hub_label(proj, iran_in_brics) == "Iran in BRICS, since 2024-01-01"  # no source names it
    assert proj.label(iran_in_brics) == "Iran in BRICS, since 2024-01-01"  # the build labelled it


def test_every_hub_gets_a_label_and_named_hubs_keep_theirs(proj: Projection) -> None:
    for hub in proj.hubs:
        assert proj.label(hub) != hub.rsplit("/", 1)[-1], hub
    assert label_hubs(proj) == 0  # the build left nothing to label
    cspa = ID + "agreement/russia-iran-cspa-2025"
    assert proj.label(cspa) == "Comprehensive Strategic Partnership Agreement"  # named: kept


def _hub(cls: str, parts: dict[str, str], start: str | None = None, end: str | None = None) -> Projection:
    g = nx.Graph()
    p = Projection(version=0, graph=g, labels={}, classes={"h": cls}, hubs={"h"})
    for role, name in parts.items():
        p.labels[name] = name.title()
        e = Edge("h", PG + role, name, start, end, "confirmed", "g", (), None)
        g.add_edge("h", name, facts=[e])
    return p


@pytest.mark.parametrize(
    ("cls", "parts", "start", "end", "label"),
    [
        (
            "Sanction",
            {"imposer": "eu", "target": "iran"},
            "2022-10-20",
            None,
            "Eu sanctions on Iran, since 2022-10-20",
        ),
        (
            "Tenure",
            {"holder": "putin", "office": "president of russia"},
            "2012-05-07",
            "2018-05-07",
            "Putin as President Of Russia, 2012-05-07 to 2018-05-07",
        ),
        (
            "Tenure",
            {"holder": "putin", "ofState": "russia"},
            None,
            "2008",
            "Putin, leader of Russia, until 2008",
        ),
        ("Treaty", {"signatory": "iran"}, None, None, "Treaty: Iran"),
    ],
)
def test_each_kind_of_hub_reads_by_its_roles(
    cls: str, parts: dict[str, str], start: str | None, end: str | None, label: str
) -> None:
    assert hub_label(_hub(cls, parts, start, end), "h") == label
