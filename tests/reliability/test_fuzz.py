"""Fuzzing: schemathesis against the app's own OpenAPI schema (GET /openapi.json of a real
server over a fresh copy of the store), valid and invalid requests for every operation, with
the write token so writes are fuzzed too. No 5xx; every response matches the schema.

The schema cannot describe an RDF body, so on its own the fuzzer's writes stop at the parser
(400). A stateful run therefore sends writes built from valid-data strategies (states, graphs of
typed and language-tagged literals, SPARQL updates) through each write route, in random
sequences with reads, checks each answer against a model of what was written, and every
response against the schema as the stateless run does."""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from pactgraph.api.settings import Settings
from tests.conftest import seeded_copy
from tests.reliability.helpers import FIGURES, TOKEN, Live, live_server

try:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis.errors import Unsatisfiable
    from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, rule, run_state_machine_as_test
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        negative_data_rejection,
        not_a_server_error,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )
except ImportError:
    if os.environ.get("CI"):
        raise  # CI installs schemathesis (.ci/run); a fuzzer that is missing there fails the run
    pytest.skip("schemathesis is not installed: pip install schemathesis", allow_module_level=True)

EXAMPLES = int(os.environ.get("PACTGRAPH_FUZZ_EXAMPLES", "15"))  # per operation and mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _failures(exc: BaseException) -> list[tuple[str, str]]:
    """The distinct failures of one case (schemathesis raises a group), as (kind, one line)."""
    inner = getattr(exc, "exceptions", None) or [exc]
    return [(type(e).__name__, " ".join(str(e).split())[:300]) for e in inner]


@pytest.fixture(scope="module")
def fuzzed(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path = seeded_copy(seeded, tmp_path_factory.mktemp("fuzz") / "store")
    cfg = Settings(store=f"oxigraph:{path}", token=TOKEN, query_timeout=5.0, max_body=1_000_000, max_rows=100)
    with live_server(cfg, path) as live:
        yield live


def fuzz(
    url: str,
    op: schemathesis.APIOperation,
    mode: GenerationMode,
    checks: list[object],
    label: str,
    statuses: Counter[int],
    findings: dict[tuple[str, str], list[str]],
    written: Counter[str],
) -> None:
    """Up to EXAMPLES cases of one operation in one mode; every failing case is recorded. An
    operation whose body the schema cannot describe (RDF, SPARQL) gets a valid one in the
    positive mode, so its other parameters are fuzzed past the parser."""
    bodies = valid_bodies().get(op.label) if mode is GenerationMode.POSITIVE else None

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: a red CI is reproducible
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, do not minimise
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode), body=bodies if bodies is not None else st.none())
    def run(case: schemathesis.Case, body: tuple[Any, ...] | None) -> None:
        if body is not None:
            case.body, case.media_type = body[0], body[1]
            if len(body) > 2:  # a graph that exists half the time: the write itself is reached
                case.query = {k: v for k, v in (case.query or {}).items() if k != "default"} | {
                    "graph": body[2]
                }
        response = case.call(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        statuses[response.status_code] += 1
        if body is not None and response.status_code < 300:
            written[op.label] += 1
        try:
            case.validate_response(response, checks=checks)  # type: ignore[arg-type]
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # record every failing case and go on generating
            for kind, text in _failures(exc):
                examples = findings.setdefault((kind, label), [])
                if len(examples) < 2:
                    examples.append(f"{response.status_code}: {text} <- {case.as_curl_command()[:300]}")

    run()


@pytest.mark.slow
def test_schemathesis_finds_no_5xx_and_no_schema_mismatch(fuzzed: Live) -> None:
    schema = schemathesis.openapi.from_url(fuzzed.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10, [op.label for op in operations]
    statuses: Counter[int] = Counter()
    findings: dict[tuple[str, str], list[str]] = {}  # (failure, operation) -> examples
    written: Counter[str] = Counter()  # successful writes of a valid body, per operation
    t0 = time.monotonic()
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
            label = f"{op.label} [{mode.value}]"
            with contextlib.suppress(Unsatisfiable):
                # Unsatisfiable: an operation without parameters or body has no invalid request
                # to make, so nothing to fuzz in negative mode (GET /stats, /healthz, /readyz...).
                fuzz(fuzzed.url, op, mode, checks, label, statuses, findings, written)
    seconds = time.monotonic() - t0
    cases = sum(statuses.values())
    by_kind = Counter(kind for kind, _ in findings)
    FIGURES["fuzz"] = (
        f"{cases} cases over {len(operations)} operations ({EXAMPLES} per operation and mode, valid and "
        f"invalid) in {seconds:.0f} s; statuses {dict(sorted(statuses.items()))}; findings by check "
        f"(operation/mode pairs): {dict(by_kind)}; successful writes of valid bodies: {dict(written)}"
    )
    assert httpx.get(fuzzed.url + "/healthz", timeout=30).status_code == 200
    assert cases >= 100
    # With valid bodies the writes get past the parser: each write route wrote something.
    assert set(written) == set(valid_bodies()), written
    assert not findings, "\n".join(
        f"{k[0]} in {k[1]}:\n  " + "\n  ".join(v) for k, v in sorted(findings.items())
    )


# ---------------------------------------------------------------------------- stateful, valid data

STEPS = int(os.environ.get("PACTGRAPH_FUZZ_STEPS", "15"))  # per sequence
SEQUENCES = int(os.environ.get("PACTGRAPH_FUZZ_SEQUENCES", "10"))
PG = "https://pactgraph.org/ontology#"
ID = "https://pactgraph.org/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDF_BODIES = ("text/turtle", "application/n-triples", "application/sparql-update")
Triple = tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.Literal]


@schemathesis.serializer(*RDF_BODIES)
def _raw(ctx: Any, value: Any) -> bytes:
    """RDF and SPARQL bodies are sent as the bytes the strategies made."""
    return value if isinstance(value, bytes) else str(value).encode()


# Text as people write it, in any script (no lone surrogates: not UTF-8; no control characters:
# a name nobody can type), not blank.
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=24
).filter(lambda t: t.strip() == t and t)
literals = st.one_of(
    texts.map(ox.Literal),
    st.tuples(texts, st.sampled_from(["en", "fr", "ru", "fa", "ar", "zh-hans"])).map(
        lambda t: ox.Literal(t[0], language=t[1])
    ),
    st.integers(-(10**12), 10**12).map(lambda n: ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))),
    st.dates(date(1, 1, 1), date(9999, 12, 31)).map(
        lambda d: ox.Literal(d.isoformat(), datatype=ox.NamedNode(XSD + "date"))
    ),
    st.booleans().map(lambda b: ox.Literal(str(b).lower(), datatype=ox.NamedNode(XSD + "boolean"))),
)
nodes = st.integers(0, 5).map(lambda i: ox.NamedNode(f"https://example.org/fuzz/node/{i}"))
predicates = st.integers(0, 3).map(lambda i: ox.NamedNode(f"https://example.org/fuzz/p{i}"))
triples = st.lists(st.tuples(nodes, predicates, st.one_of(literals, nodes)), min_size=1, max_size=12)
CODES = (f"X{a}{b}" for a in "WXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # no state has these
GRAPHS = (f"https://example.org/graph/fuzz-{i}" for i in itertools.count())


def ntriples(ts: Any) -> bytes:
    return ox.serialize([ox.Triple(*t) for t in ts], format=ox.RdfFormat.N_TRIPLES)


def state_file(code: str, label: str, member: bool) -> bytes:
    """A state that passes the shapes (and its UN membership, which puts it on paths)."""
    state = ox.NamedNode(f"{ID}state/{code}")
    quads = [
        ox.Triple(
            state, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(PG + "State")
        ),
        ox.Triple(state, LABEL, ox.Literal(label, language="en")),
        ox.Triple(state, ox.NamedNode(PG + "isoAlpha3"), ox.Literal(code)),
    ]
    text = ox.serialize(quads, format=ox.RdfFormat.TURTLE).decode()
    if member:
        text += f"""
<{ID}membership/state-{code}--org-un> a <{PG}Membership> ; <{PG}member> <{ID}state/{code}> ;
    <{PG}organisation> <{ID}org/un> ; <{PG}start> "2001-02-03"^^<{XSD}date> ;
    <{PG}status> <{PG}Confirmed> ; <{PG}source> <{ID}source/un-member-states> .
"""
    return text.encode()


def valid_bodies() -> dict[str, Any]:
    """Valid bodies (bytes, media type[, graph]) for the operations whose body the schema leaves
    open; for the Graph Store, half of them with a graph IRI in place of the generated one."""
    graph = "https://example.org/graph/fuzz-stateless"
    nt = st.one_of(
        triples.map(lambda ts: (ntriples(ts), "application/n-triples")),
        triples.map(lambda ts: (ntriples(ts), "application/n-triples", graph)),
    )
    return {
        "POST /ingest": st.builds(
            lambda label, member: (state_file("XVA", f"{label} XVA", member), "text/turtle"),
            texts,
            st.booleans(),
        ),
        "PUT /store": nt,
        "POST /store": nt,
        "POST /update": triples.map(
            lambda ts: (
                f"INSERT DATA {{ GRAPH <{graph}> {{ {ntriples(ts).decode()} }} }}".encode(),
                "application/sparql-update",
            )
        ),
    }


@pytest.fixture(scope="module")
def stateful_server(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A server whose limits leave room for the projection rebuild after each write."""
    path = seeded_copy(seeded, tmp_path_factory.mktemp("stateful") / "store")
    cfg = Settings(
        store=f"oxigraph:{path}", token=TOKEN, query_timeout=60.0, max_body=1_000_000, max_rows=1000
    )
    with live_server(cfg, path) as live:
        yield live


@pytest.mark.slow
def test_stateful_writes_then_reads_with_valid_data(stateful_server: Live) -> None:
    url = stateful_server.url
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    statuses: Counter[str] = Counter()

    def call(
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: bytes | None = None,
        media: str | None = None,
        accept: str | None = None,
        path_parameters: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request made by schemathesis from the operation in the schema, and every check of
        the stateless run on its answer."""
        kwargs: dict[str, Any] = {"query": query, "path_parameters": path_parameters}
        if body is not None:
            kwargs |= {"body": body, "media_type": media}
        case = schema[path][method].Case(**kwargs)
        headers = {"Authorization": f"Bearer {TOKEN}", **({"Accept": accept} if accept else {})}
        response = case.call(base_url=url, headers=headers, timeout=120)
        case.validate_response(response, checks=CHECKS)  # type: ignore[arg-type]
        statuses[f"{method} {path} {response.status_code}"] += 1
        return response  # type: ignore[return-value]

    class Writes(RuleBasedStateMachine):
        """Random sequences of valid writes (each route) and reads, checked against a model."""

        graphs = Bundle("graphs")
        states = Bundle("states")

        def __init__(self) -> None:
            super().__init__()
            self.model: dict[str, set[Triple]] = {}  # graph -> triples written
            self.labels: dict[str, tuple[str, bool]] = {}  # ISO code -> (label, UN member)

        # ---- writes

        @rule(target=graphs, ts=triples)
        def put_new_graph(self, ts: list[Triple]) -> str:
            g = next(GRAPHS)
            r = call("PUT", "/store", {"graph": g}, ntriples(ts), "application/n-triples")
            assert r.status_code == 201, r.text
            self.model[g] = set(ts)
            self.read_a_graph(g)
            return g

        @rule(g=graphs, ts=triples)
        def put_over_a_graph(self, g: str, ts: list[Triple]) -> None:
            r = call("PUT", "/store", {"graph": g}, ntriples(ts), "application/n-triples")
            assert r.status_code == (204 if self.model[g] else 201), r.text
            self.model[g] = set(ts)
            self.read_a_graph(g)

        @rule(g=graphs)
        def put_nothing(self, g: str) -> None:
            """An empty body: the graph is emptied, so it is gone."""
            r = call("PUT", "/store", {"graph": g}, b"", "application/n-triples")
            assert r.status_code == (204 if self.model[g] else 201), r.text
            self.model[g] = set()
            self.read_a_graph(g)

        @rule(g=graphs, ts=triples)
        def post_to_a_graph(self, g: str, ts: list[Triple]) -> None:
            r = call("POST", "/store", {"graph": g}, ntriples(ts), "application/n-triples")
            assert r.status_code == 204, r.text
            self.model[g] |= set(ts)
            self.read_a_graph(g)

        @rule(g=graphs, ts=triples)
        def insert_by_update(self, g: str, ts: list[Triple]) -> None:
            data = ntriples(ts).decode()
            r = call(
                "POST",
                "/update",
                body=f"INSERT DATA {{ GRAPH <{g}> {{ {data} }} }}".encode(),
                media="application/sparql-update",
            )
            assert r.status_code == 204, r.text
            self.model[g] |= set(ts)
            self.read_a_graph(g)

        @rule(g=consumes(graphs))
        def delete_a_graph(self, g: str) -> None:
            r = call("DELETE", "/store", {"graph": g})
            assert r.status_code == (204 if self.model[g] else 404), r.text
            del self.model[g]
            assert call("GET", "/store", {"graph": g}).status_code == 404

        @rule(target=states, label=texts, member=st.booleans())
        def ingest_a_state(self, label: str, member: bool) -> str:
            code = next(CODES)
            return self._ingest(code, f"{label} {code}", member)

        @rule(code=states, label=texts, member=st.booleans())
        def ingest_the_state_again(self, code: str, label: str, member: bool) -> None:
            self._ingest(code, f"{label} {code}", member)

        def _ingest(self, code: str, label: str, member: bool) -> str:
            r = call(
                "POST",
                "/ingest",
                {"name": f"fuzz-{code}.ttl"},
                state_file(code, label, member),
                "text/turtle",
            )
            assert r.status_code == 200, r.text
            assert list(r.json()["graphs"]) == [f"https://pactgraph.org/graph/fuzz-{code}"], r.json()
            self.labels[code] = (label, member)
            self.read_a_state(code)  # the name index and the projection catch up with the write
            return code

        # ---- reads

        @rule(g=graphs)
        def read_a_graph(self, g: str) -> None:
            r = call("GET", "/store", {"graph": g}, accept="application/n-triples")
            if not self.model[g]:
                assert r.status_code == 404, r.text
                return
            assert r.status_code == 200, r.text
            got = {(t.subject, t.predicate, t.object) for t in ox.parse(r.content, ox.RdfFormat.N_TRIPLES)}
            assert got == self.model[g], got ^ self.model[g]
            q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"
            n = call("GET", "/sparql", {"query": q}, accept="application/sparql-results+json")
            assert n.json()["results"]["bindings"][0]["n"]["value"] == str(len(self.model[g]))

        @rule(code=states)
        def read_a_state(self, code: str) -> None:
            label, member = self.labels[code]
            iri = f"{ID}state/{code}"
            e = call("GET", "/entities/{name}", path_parameters={"name": code})
            assert e.status_code == 200, e.text
            body = e.json()
            assert body["id"] == iri and body["label"] == label, (body["label"], label)
            assert (
                body["labels"] == [{"value": label, "lang": "en"}]
                and body["identifiers"]["iso_alpha3"] == code
            )
            found = call("GET", "/search", {"q": label})
            assert found.json()["hits"][0]["id"] == iri, found.json()["hits"][:3]
            if member:
                p = call("GET", "/paths", {"from": code, "to": "Russia", "max_hops": 4, "limit": 1})
                assert p.status_code == 200 and p.json()["paths"][0]["paths"], p.text[:500]

    t0 = time.monotonic()
    run_state_machine_as_test(
        Writes,
        settings=settings(
            max_examples=SEQUENCES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            derandomize=True,  # the same sequences on every run
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    writes = sum(
        n
        for k, n in statuses.items()
        if k.split()[0] in ("PUT", "POST", "DELETE") and k.split()[-1] in ("200", "201", "204")
    )
    FIGURES["fuzz (stateful, valid data)"] = (
        f"{SEQUENCES} sequences of up to {STEPS} steps in {time.monotonic() - t0:.0f} s: "
        f"{sum(statuses.values())} requests, {writes} successful writes; {dict(sorted(statuses.items()))}"
    )
    # The run reached what lies behind validation: writes of every kind succeeded, and reads found them.
    for kind in (
        "PUT /store 201",
        "POST /store 204",
        "POST /update 204",
        "DELETE /store 204",
        "POST /ingest 200",
    ):
        assert statuses[kind] >= 1, (kind, statuses)
    assert statuses["GET /store 200"] >= 1 and statuses["GET /entities/{name} 200"] >= 1, statuses
