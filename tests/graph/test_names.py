"""Name resolution and search over the bundled data, on every backend, as a user would check them."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from pactgraph.graph import Kind, PactgraphError, Store
from pactgraph.graph.names import Entity, NameIndex, normalise, typos_allowed
from pactgraph.ontology import ID, PG

IRAN = "https://pactgraph.org/id/state/IRN"
RUSSIA = "https://pactgraph.org/id/state/RUS"
TURKEY = "https://pactgraph.org/id/state/TUR"
KREMLIN = "https://pactgraph.org/id/government/kremlin"
NATO = "https://pactgraph.org/id/org/nato"


@pytest.fixture(scope="module")
def index(loaded: Store) -> NameIndex:
    """The index of the bundled data, built once per backend."""
    return NameIndex.build(loaded)


def error(call: object, *args: object, **kwargs: object) -> PactgraphError:
    assert callable(call)
    with pytest.raises(PactgraphError) as info:
        call(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------------- resolve


@pytest.mark.parametrize(
    "name",
    [
        "Iran",
        "IRN",
        "ir",
        "irn",
        "Islamic Republic of Iran",
        "islamic republic of iran",
        "Q794",
        "q794",
        IRAN,
        "state/IRN",
        "state/irn",
        "  Iran  ",
    ],
)
def test_every_way_of_naming_iran_resolves_to_it(index: NameIndex, name: str) -> None:
    assert index.resolve(name) == Entity(IRAN, "Iran", (str(PG.State),), "state/IRN")


@pytest.mark.parametrize(
    ("name", "iri"),
    [
        ("Russian Federation", RUSSIA),
        ("the Russian Federation", RUSSIA),
        ("RUS", RUSSIA),
        ("the Kremlin", KREMLIN),
        ("Kremlin", KREMLIN),
        ("Türkiye", TURKEY),
        ("turkiye", TURKEY),
        ("TÜRKIYE", TURKEY),
        ("Republic of Turkiye", TURKEY),
        ("Turkey", TURKEY),
        ("US", "https://pactgraph.org/id/state/USA"),
        ("UN", "https://pactgraph.org/id/org/un"),  # not an ISO code, so the alias answers
        ("NATO", NATO),
        ("erdogan", "https://pactgraph.org/id/person/recep-tayyip-erdogan"),
        ("Владимир Путин", "https://pactgraph.org/id/person/vladimir-putin"),
        ("Bashar al Assad", "https://pactgraph.org/id/person/bashar-al-assad"),
        ("bashar al-assad", "https://pactgraph.org/id/person/bashar-al-assad"),
    ],
)
def test_labels_aliases_and_codes_resolve(index: NameIndex, name: str, iri: str) -> None:
    assert index.resolve(name).iri == iri


def test_kremlin_is_the_presidential_administration(index: NameIndex) -> None:
    entity = index.resolve("the Kremlin")
    assert entity.label == "Presidential Administration of Russia"
    assert entity.classes == (str(PG.Government),)
    assert entity.local_id == "government/kremlin"


def test_entities_without_labels_resolve_by_id(index: NameIndex) -> None:
    local = "membership/state-CZE--org-nato--1999-03-12--nato-member-countries"
    entity = index.resolve(local)
    assert entity.iri == str(ID[local])
    assert entity.label == local
    assert entity.classes == (str(PG.Membership),)


def test_unknown_name_is_not_found_with_closest_names(index: NameIndex) -> None:
    err = error(index.resolve, "Atlantis")
    assert err.kind == Kind.NOT_FOUND
    assert err.message.startswith("no entity named 'Atlantis'; closest: North Atlantic Treaty Organization, ")
    closest = err.detail["closest"]
    assert 1 <= len(closest) <= 5
    assert (closest[0]["id"], closest[0]["local_id"]) == (NATO, "org/nato")
    assert len({c["id"] for c in closest}) == len(closest)
    assert err.message.endswith(", ".join(c["label"] for c in closest))


def test_sources_and_ontology_terms_are_not_entities(index: NameIndex) -> None:
    for name in (
        "source/tass",
        "https://pactgraph.org/id/source/tass",
        "TASS report cited by the news report",
        "https://pactgraph.org/graph/states",
        str(PG.State),
        "defence",
        "state",
    ):
        assert error(index.resolve, name).kind == Kind.NOT_FOUND, name
    assert index.resolve("TASS").iri == "https://pactgraph.org/id/org/tass"  # the agency, not the source


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "name is empty"),
        ("   ", "name is empty"),
        ("Iran\x00", "name contains a control character (U+0000)"),
        ("x" * 10_000, "name is too long (10000 characters; at most 300)"),
    ],
)
def test_unusable_names_are_bad_input(index: NameIndex, name: str, message: str) -> None:
    err = error(index.resolve, name)
    assert err.kind == Kind.BAD_INPUT
    assert err.message == message


# ---------------------------------------------------------------------- ambiguity (own small store)


@pytest.fixture
def assads(store: Store) -> NameIndex:
    """Two Assads sharing an alias, a Georgia label beside a Georgia alias, and NATO; no ontology graph."""
    bashar, hafez = ID["person/bashar-al-assad"], ID["person/hafez-al-assad"]
    georgia, us_georgia = ID["state/GEO"], ID["place/georgia-us"]
    triples = [
        (bashar, RDF.type, PG.Person),
        (bashar, RDFS.label, Literal("Bashar al-Assad", lang="en")),
        (bashar, SKOS.altLabel, Literal("Assad", lang="en")),
        (hafez, RDF.type, PG.Person),
        (hafez, RDFS.label, Literal("Hafez al-Assad", lang="en")),
        (hafez, SKOS.altLabel, Literal("Assad", lang="en")),
        (georgia, RDF.type, PG.State),
        (georgia, RDFS.label, Literal("Georgia", lang="en")),
        (us_georgia, RDF.type, PG.Place),
        (us_georgia, RDFS.label, Literal("Georgia (U.S. state)", lang="en")),
        (us_georgia, SKOS.altLabel, Literal("Georgia", lang="en")),
        (ID["org/nato"], RDF.type, PG.Alliance),
        (ID["org/nato"], RDFS.label, Literal("North Atlantic Treaty Organization", lang="en")),
    ]
    store.replace_graphs({URIRef("https://pactgraph.org/graph/test"): triples})
    return NameIndex.build(store)


def test_a_shared_alias_is_ambiguous_with_both_candidates(assads: NameIndex) -> None:
    err = error(assads.resolve, "assad")
    assert err.kind == Kind.AMBIGUOUS
    assert err.message == (
        "'assad' names 2 entities: Bashar al-Assad (person/bashar-al-assad); "
        "Hafez al-Assad (person/hafez-al-assad)"
    )
    assert [c["local_id"] for c in err.detail["candidates"]] == [
        "person/bashar-al-assad",
        "person/hafez-al-assad",
    ]
    assert err.detail["candidates"][0] == {
        "id": "https://pactgraph.org/id/person/bashar-al-assad",
        "local_id": "person/bashar-al-assad",
        "label": "Bashar al-Assad",
        "classes": [str(PG.Person)],
    }
    assert assads.resolve("Hafez al-Assad").local_id == "person/hafez-al-assad"


def test_a_label_wins_over_another_entitys_alias(assads: NameIndex) -> None:
    assert assads.resolve("Georgia").local_id == "state/GEO"
    hits = assads.search("Georgia").hits
    assert [(h.entity.local_id, h.how) for h in hits[:2]] == [
        ("state/GEO", "exact"),
        ("place/georgia-us", "alias"),
    ]


def test_type_filter_knows_subclasses_without_the_ontology_graph(assads: NameIndex) -> None:
    assert [h.entity.local_id for h in assads.search("north atlantic", type="Organisation").hits] == [
        "org/nato"
    ]


# ---------------------------------------------------------------------- search


def test_islamic_republic_among_states_finds_iran_first(index: NameIndex) -> None:
    page = index.search("islamic republic", type="State")
    first = page.hits[0]
    assert first.entity.iri == IRAN
    assert first.how in ("prefix", "alias")
    assert first.matched == "Islamic Republic of Iran"
    assert [h.entity.local_id for h in page.hits[1:4]] == ["state/PAK", "state/MRT", "state/AFG"]
    assert all(str(PG.State) in h.entity.classes for h in page.hits)


def test_word_prefix_finds_iran(index: NameIndex) -> None:
    hits = index.search("islamic rep").hits
    assert hits[0].entity.iri == IRAN and hits[0].how == "prefix"
    assert "state/IRN" in [h.entity.local_id for h in index.search("republic of ir", type="State").hits]


def test_misspelt_russia_is_a_fuzzy_hit(index: NameIndex) -> None:
    first = index.search("Rusia").hits[0]
    assert (first.entity.iri, first.how, first.matched) == (RUSSIA, "fuzzy", "Russia")
    assert first.score >= 70


def test_a_typo_of_a_whole_name_ranks_before_names_that_only_resemble_it(index: NameIndex) -> None:
    # "Irna" is one swap from "Iran"; longer names holding "ir", "na" or "ran" score higher on
    # partial resemblance, and used to rank Iran 7th
    hits = index.search("Irna").hits
    assert (hits[0].entity.iri, hits[0].how, hits[0].matched, hits[0].score) == (IRAN, "fuzzy", "Iran", 75.0)
    assert index.search("Pakstan").hits[0].entity.local_id == "state/PAK"
    assert index.search("Syra", type="State").hits[0].entity.local_id == "state/SYR"
    # the names that start with what was typed still come first ("Fran" is also one letter from Iran)
    assert [h.entity.local_id for h in index.search("Fran", type="State").hits[:2]] == [
        "state/FRA",
        "state/IRN",
    ]
    # and a lookup that fails names Iran first among the closest
    assert error(index.resolve, "Irna").detail["closest"][0]["id"] == IRAN


@pytest.mark.parametrize(
    ("norm", "edits"), [("ir", 0), ("irn", 1), ("irna", 1), ("rusia", 1), ("pakstan", 2)]
)
def test_typos_forgiven_grow_with_the_length_of_the_name(norm: str, edits: int) -> None:
    assert typos_allowed(norm) == edits


def test_ranking_exact_label_then_alias_then_prefix(index: NameIndex) -> None:
    hits = index.search("Iran").hits
    assert (hits[0].entity.iri, hits[0].how, hits[0].score) == (IRAN, "exact", 100.0)
    assert [h.how for h in hits] == sorted(
        (h.how for h in hits), key=["exact", "alias", "prefix", "fuzzy"].index
    )
    kremlin = index.search("kremlin").hits
    assert [(h.entity.local_id, h.how) for h in kremlin[:2]] == [
        ("government/kremlin", "alias"),
        ("place/moscow-kremlin", "prefix"),
    ]
    code = index.search("IRN").hits[0]
    assert (code.entity.iri, code.how, code.matched) == (IRAN, "alias", "IRN")


def test_organisation_type_includes_alliances(index: NameIndex) -> None:
    hits = index.search("NATO", type="Organisation").hits
    assert (hits[0].entity.iri, hits[0].how) == (NATO, "alias")
    assert index.search("north atlantic", type=str(PG.Organisation)).hits[0].entity.iri == NATO
    assert NATO not in [h.entity.iri for h in index.search("NATO", type="State").hits]
    orgs = index.closure(str(PG.Organisation))
    assert {str(PG.Alliance), str(PG.MediaOutlet), str(PG.SupranationalUnion)} <= orgs
    assert all(set(h.entity.classes) & orgs for h in index.search("a", type="organisation", limit=100).hits)


def test_one_hit_per_entity(index: NameIndex) -> None:
    page = index.search("turkiye", limit=100)
    ids = [h.entity.iri for h in page.hits]
    assert ids[0] == TURKEY and page.hits[0].how == "alias"
    assert len(ids) == len(set(ids)) == page.total


def test_pages_are_disjoint_and_add_up_to_a_bigger_page(index: NameIndex) -> None:
    big = index.search("republic", type="State", limit=30)
    assert big.total > 30
    pages = [index.search("republic", type="State", limit=10, offset=o) for o in (0, 10, 20)]
    assert all(p.total == big.total for p in pages)
    ids = [h.entity.iri for p in pages for h in p.hits]
    assert len(ids) == len(set(ids)) == 30
    assert ids == [h.entity.iri for h in big.hits]
    last = index.search("republic", type="State", limit=100, offset=big.total - 1)
    assert len(last.hits) == 1
    assert index.search("republic", type="State", offset=big.total).hits == []


def test_search_never_returns_sources_or_ontology_terms(index: NameIndex) -> None:
    for q in ("NATO: Member countries", "news report", "defence", "state"):
        for hit in index.search(q, limit=100).hits:
            assert not hit.entity.local_id.startswith("source/"), (q, hit)
            assert not hit.entity.iri.startswith("https://pactgraph.org/ontology"), (q, hit)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"q": ""}, "q is empty"),
        ({"q": "Ir\x00an"}, "q contains a control character (U+0000)"),
        ({"q": "x" * 10_000}, "q is too long (10000 characters; at most 300)"),
        ({"q": "?!"}, "q has no letters or digits to search for"),
        ({"q": "Iran", "limit": 0}, "limit must be an integer from 1 to 100"),
        ({"q": "Iran", "limit": 101}, "limit must be an integer from 1 to 100"),
        ({"q": "Iran", "offset": -1}, "offset must be an integer of at least 0"),
    ],
)
def test_unusable_searches_are_bad_input(index: NameIndex, kwargs: dict[str, object], message: str) -> None:
    err = error(index.search, **kwargs)
    assert err.kind == Kind.BAD_INPUT
    assert err.message == message


def test_unknown_type_lists_the_known_ones(index: NameIndex) -> None:
    err = error(index.search, "Iran", type="Country")
    assert err.kind == Kind.BAD_INPUT
    assert err.message.startswith(
        "unknown type 'Country'; known types: Actor, Agreement, AgreementParty, Alliance, "
    )
    assert {"State", "Person", "Organisation", "Alliance"} <= set(err.detail["known"])


def test_type_names_are_case_insensitive_and_take_prefixed_names(index: NameIndex) -> None:
    for name in ("State", "state", "pg:State", str(PG.State)):
        assert index.search("Iran", type=name).hits[0].entity.iri == IRAN


# ---------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("Türkiye", "turkiye"),
        ("the Kremlin", "kremlin"),
        ("The  Kremlin ", "kremlin"),
        ("Bashar al-Assad", "bashar al assad"),
        ("U.S.", "us"),
        ("Iran's ambassador in Moscow", "irans ambassador in moscow"),
        ("Russia–Iran Treaty", "russia iran treaty"),
        ("Recep Tayyip Erdoğan", "recep tayyip erdogan"),
        ("İstanbul", "istanbul"),
        ("theory", "theory"),
    ],
)
def test_normalise(text: str, norm: str) -> None:
    assert normalise(text) == norm
