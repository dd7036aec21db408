"""Atomic writes on an `oxigraph:` store: a batch is written whole or not at all.

In process: an ingest that fails on line 5,000, on the last entity's shape, on a triple the
writer cannot convert, or between the staging write and the move; an update that fails half
way. Over HTTP: failing updates and graph-store writes. Across a crash: `pactgraph ingest`
killed with SIGKILL at several moments of a large ingest leaves a store that opens with
every earlier triple and none or all of the batch (count and SHA-256 of the sorted N-Quads).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph as RdfGraph
from rdflib import Literal, URIRef

from pactgraph.graph import Kind, PactgraphError, SourceInput, Store, graph_for, ingest, open_store
from pactgraph.ontology import ONTOLOGY_GRAPH, ONTOLOGY_PATH
from tests.conftest import seeded_copy
from tests.reliability.helpers import FIGURES, ROOT, Live, digest, no_trace

QUERY_TIMEOUT = 30.0  # the first read after a write rebuilds the projection: not a test of limits
PG = "https://pactgraph.org/ontology#"
ID = "https://pactgraph.org/id/"
STAGING = "urn:pactgraph:staging:"


@pytest.fixture()
def db(seeded: Path, tmp_path: Path) -> Iterator[Store]:
    """A writable copy of the seeded store (ontology + bundled data)."""
    store = open_store(f"oxigraph:{seeded_copy(seeded, tmp_path / 'store')}")
    yield store
    store.close()


def staging_graphs(store: Store) -> list[str]:
    native = store.oxigraph
    assert native is not None
    return [
        g.value for g in native.named_graphs() if isinstance(g, ox.NamedNode) and g.value.startswith(STAGING)
    ]


def turtle_with_error_on_line(n: int, prefix: str = "t") -> bytes:
    lines = [
        f'<https://example.org/{prefix}/s{i}> <https://example.org/{prefix}/p> "value {i}" .'
        for i in range(1, n)
    ]
    lines.append(f'<https://example.org/{prefix}/s{n}> <https://example.org/{prefix}/p> "no closing quote .')
    return ("\n".join(lines) + "\n").encode()


def test_syntax_error_on_line_5000_writes_nothing(db: Store) -> None:
    # A graph that the failing batch would replace, so "nothing" also means "the old content kept".
    old = b'<https://example.org/t/old> <https://example.org/t/p> "old" .\n'
    ingest(db, [SourceInput("big.ttl", old, "turtle", graph_for("big.ttl"))], validate_shapes=False)
    before = digest(db)
    good = b"".join(
        f'<https://example.org/g/s{i}> <https://example.org/g/p> "{i}" .\n'.encode() for i in range(2000)
    )
    with pytest.raises(PactgraphError) as info:
        ingest(
            db,
            [
                SourceInput("good.nt", good, "ntriples", graph_for("good.nt")),
                SourceInput("big.ttl", turtle_with_error_on_line(5000), "turtle", graph_for("big.ttl")),
            ],
            validate_shapes=False,
        )
    assert info.value.kind == Kind.BAD_INPUT
    assert "big.ttl" in info.value.message and "5000" in info.value.message, info.value.message
    assert digest(db) == before
    assert staging_graphs(db) == []


def test_shape_violation_in_the_last_entity_writes_nothing(db: Store) -> None:
    before = digest(db)
    entities = [
        f'<{ID}state/X{a}{b}> a <{PG}State> ; <http://www.w3.org/2000/01/rdf-schema#label> "Testland {a}{b}"@en ;'
        f' <{PG}isoAlpha3> "X{a}{b}" .'
        for a in "ABCDEFGHIJ"
        for b in "ABCDEFGHIJ"
    ]
    # The 101st and last state has no label: LabelledShape fails on it alone.
    entities.append(f'<{ID}state/XZZ> a <{PG}State> ; <{PG}isoAlpha3> "XZZ" .')
    data = "\n".join(entities).encode()
    with pytest.raises(PactgraphError) as info:
        ingest(db, [SourceInput("testlands.ttl", data, "turtle", graph_for("testlands.ttl"))])
    assert info.value.kind == Kind.INVALID
    assert [d["focus"] for d in info.value.detail] == [f"{ID}state/XZZ"]
    assert "testlands.ttl" in info.value.message
    assert digest(db) == before


def test_a_triple_that_cannot_be_written_half_way_writes_nothing(db: Store) -> None:
    before = digest(db)
    g = URIRef("https://example.org/graph/half")

    def triples() -> Iterator[tuple[Any, Any, Any]]:
        for i in range(5000):
            yield (URIRef(f"urn:half:{i}"), URIRef("urn:p"), Literal(i))
        raise OSError("the source went away half way")

    with pytest.raises(OSError):
        db.replace_graphs({URIRef("https://example.org/graph/other"): iter([]), g: triples()})
    assert digest(db) == before
    assert staging_graphs(db) == []


class _FailingUpdate:
    """The native store, except that its next SPARQL update fails (after the staging write)."""

    def __init__(self, native: ox.Store) -> None:
        self._native = native
        self.failed = False

    def update(self, text: str) -> None:
        # The update that puts the staged triples in place (whatever its operations) names them.
        if not self.failed and STAGING in text:
            self.failed = True
            raise OSError("disk full (injected)")
        self._native.update(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._native, name)


def test_failure_between_staging_and_move_writes_nothing(db: Store) -> None:
    target = URIRef("https://pactgraph.org/graph/states")
    before = digest(db)
    native = db.oxigraph
    assert native is not None
    injected = _FailingUpdate(native)
    db._ox = injected  # type: ignore[assignment]  # fault injection into the one write path
    try:
        with pytest.raises(OSError, match="injected"):
            db.replace_graphs({target: iter([(URIRef("urn:x"), URIRef("urn:p"), Literal("replacement"))])})
    finally:
        db._ox = native
    assert injected.failed
    assert staging_graphs(db) == []
    assert digest(db) == before


def test_update_that_fails_half_way_writes_nothing(db: Store) -> None:
    before = digest(db)
    raised: BaseException | None = None
    try:
        db.update(
            "INSERT DATA { GRAPH <https://example.org/graph/u> { <urn:a> <urn:b> 'inserted first' } } ;\n"
            "DROP GRAPH <https://example.org/graph/does-not-exist>"
        )
    except BaseException as exc:  # which kind is asserted below, after the store
        raised = exc
    assert digest(db) == before, "the first operation of a failed update was kept"
    # Bad input a person can act on, not an engine exception that the app turns into a 500.
    assert isinstance(raised, PactgraphError) and raised.kind == Kind.BAD_INPUT, repr(raised)


# ---------------------------------------------------------------------------- over HTTP


@pytest.mark.parametrize(
    ("method", "path", "ctype", "body"),
    [
        (
            "POST",
            "/update",
            "application/sparql-update",
            "INSERT DATA { GRAPH <https://example.org/graph/u> { <urn:a> <urn:b> 'x' } } ; "
            "DROP GRAPH <https://example.org/graph/does-not-exist>",
        ),
        (
            "POST",
            "/update",
            "application/sparql-update",
            "INSERT DATA { GRAPH <https://example.org/graph/u> { <urn:a> <urn:b> 'x' } } ; "
            "CREATE GRAPH <https://pactgraph.org/graph/states>",
        ),
        (
            "POST",
            "/update",
            "application/sparql-update",
            "DELETE WHERE { GRAPH <https://pactgraph.org/graph/states> { ?s ?p ?o } } ; INSERT DATA { <urn:a> <urn:b> ",
        ),
        (
            "PUT",
            "/store?graph=https://pactgraph.org/graph/states",
            "text/turtle",
            "<urn:a> <urn:b> 'one' .\n" * 3000 + "<urn:a> <urn:b> 'truncated",
        ),
        (
            "POST",
            "/store?graph=https://pactgraph.org/graph/states",
            "application/n-triples",
            '<urn:a> <urn:b> "one" .\n' * 3000 + "<urn:a> <urn:b",
        ),
        (
            "POST",
            "/ingest?name=states.ttl",
            "text/turtle",
            turtle_with_error_on_line(5000).decode(),
        ),
    ],
    ids=[
        "update-drop-missing",
        "update-create-existing",
        "update-syntax",
        "put-truncated",
        "post-truncated",
        "ingest-line-5000",
    ],
)
def test_failed_http_write_changes_nothing(
    server: Live, method: str, path: str, ctype: str, body: str
) -> None:
    before = digest(server.store)
    r = httpx.request(
        method,
        server.url + path,
        content=body.encode(),
        headers={**server.auth, "Content-Type": ctype},
        timeout=120,
    )
    no_trace(r.text)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    assert r.json()["error"]
    assert digest(server.store) == before
    assert staging_graphs(server.store) == []


# ---------------------------------------------------------------------------- SIGKILL


def written(pid: int) -> int:
    """Bytes the process has passed to write() so far: its progress through the store's WAL."""
    with open(f"/proc/{pid}/io") as f:
        return int(next(line for line in f if line.startswith("wchar:")).split()[1])


def big_ntriples(path: Path, n: int, value: str = "value") -> None:
    with path.open("w") as f:
        for i in range(n):
            f.write(f'<https://example.org/big/s{i}> <https://example.org/big/p{i % 7}> "{value} {i}" .\n')


def start_ingest(source: Path, store: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pactgraph.api.cli",
            "ingest",
            str(source),
            "--store",
            f"oxigraph:{store}",
            "--no-validate",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


# `pactgraph ingest` (re)writes the ontology graph before the batch, from the ontology file as
# it is then; the digests leave that graph out, and it is checked on its own.
SKIP = frozenset({str(ONTOLOGY_GRAPH)})
ONTOLOGY_SIZES: set[int] = set()
# Big enough that both kinds of write take a while and the new-graph case takes the bulk path
# (graph.store.BULK_MIN), small enough that seven runs per case keep the test to minutes.
CRASH_TRIPLES = int(os.environ.get("PACTGRAPH_CRASH_TRIPLES", "60000"))


def reopen(path: Path) -> tuple[tuple[int, str], list[str]]:
    """What a restart sees: staging/journal leftovers (read-only look), then the digest after a
    normal open (the ontology graph apart: it must hold the ontology, whole)."""
    raw = ox.Store.read_only(str(path))
    leftovers = [
        g.value for g in raw.named_graphs() if isinstance(g, ox.NamedNode) and g.value.startswith(STAGING)
    ]
    del raw
    gc.collect()
    store = open_store(f"oxigraph:{path}")
    try:
        assert store.count(ONTOLOGY_GRAPH) in ONTOLOGY_SIZES, store.count(ONTOLOGY_GRAPH)
        assert not [g for g in store.graph_names() if str(g).startswith(STAGING)]
        return digest(store, SKIP), leftovers
    finally:
        store.close()
        del store
        gc.collect()


def graph_size(path: Path, name: str) -> int:
    """Statements in one named graph of a closed store, but those about the graph itself (its
    description, which the write path adds and may extend)."""
    raw = ox.Store.read_only(str(path))
    try:
        rows = raw.query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name}> {{ ?s ?p ?o FILTER(?s != <{name}>) }} }}"
        )
        assert isinstance(rows, ox.QuerySolutions)
        return int(next(iter(rows))["n"].value)
    finally:
        del raw
        gc.collect()


def note_ontology_sizes(seeded: Path) -> None:
    """The sizes the ontology graph may have after a restart: the seeded one, or the file's now."""
    with open_store(f"oxigraph:{seeded}") as template:
        ONTOLOGY_SIZES.add(template.count(ONTOLOGY_GRAPH))
    ONTOLOGY_SIZES.add(len(RdfGraph().parse(ONTOLOGY_PATH)))


def run_to_end(source: Path, store: Path) -> tuple[float, list[tuple[float, int]]]:
    """Ingest to the end, sampling the process's own write progress (/proc/PID/io)."""
    proc = start_ingest(source, store)
    t0, samples = time.monotonic(), [(0.0, 0)]
    while proc.poll() is None:
        with contextlib.suppress(OSError, StopIteration):
            samples.append((time.monotonic() - t0, written(proc.pid)))
        time.sleep(0.01)
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
    return time.monotonic() - t0, samples


@pytest.mark.slow
@pytest.mark.parametrize("case", ["new graph", "replacing a graph"])
def test_sigkill_during_a_large_ingest_keeps_all_or_nothing(seeded: Path, tmp_path: Path, case: str) -> None:
    """Both ways a batch is written: into graphs that are empty (bulk load under a journal whose
    removal is the commit) and over graphs that hold data (staging graphs, then one MOVE)."""
    source = tmp_path / "new" / "BIG.nt"
    source.parent.mkdir()
    big_ntriples(source, CRASH_TRIPLES)
    note_ontology_sizes(seeded)
    base = seeded_copy(seeded, tmp_path / "base")
    if case == "replacing a graph":  # the same graph already holds other triples
        old = tmp_path / "old" / "BIG.nt"
        old.parent.mkdir()
        big_ntriples(old, CRASH_TRIPLES // 2, value="old value")
        run_to_end(old, base)
    before = reopen(seeded_copy(base, tmp_path / "before"))[0]

    # A reference run to the end gives the "all" state and how much the process writes; the
    # kills aim at fractions of that progress, which holds however loaded the machine is.
    ref = seeded_copy(base, tmp_path / "ref")
    total, samples = run_to_end(source, ref)
    after, leftovers = reopen(ref)
    assert not leftovers
    # The graph holds the batch, whatever it held before (counted in the graph itself: what else
    # the store keeps beside the named graphs is the store's business).
    assert graph_size(ref, graph_for(source.name)) == CRASH_TRIPLES
    assert after != before
    volume = samples[-1][1]
    first_write = next(t for t, w in samples if w > volume // 100)

    plans: list[tuple[str, Any]] = [("parsing", lambda t, w: t >= first_write * 0.5 or w > volume // 100)]
    plans += [(f"{f:.0%} written", lambda t, w, f=f: w >= volume * f) for f in (0.1, 0.3, 0.5, 0.7, 0.9)]
    outcomes = []
    for label, due in plans:
        path = seeded_copy(base, tmp_path / label.replace(" ", "-").replace("%", "pc"))
        proc = start_ingest(source, path)
        t0, w = time.monotonic(), 0
        while proc.poll() is None and time.monotonic() - t0 < total * 4 + 120:
            with contextlib.suppress(OSError, StopIteration):
                w = written(proc.pid)
            if due(time.monotonic() - t0, w):
                break
            time.sleep(0.005)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        at = time.monotonic() - t0
        state, leftovers = reopen(path)
        outcome = "all" if state == after else "none" if state == before else "TORN"
        outcomes.append(
            (
                label,
                f"{at:.1f} s",
                f"{w / 1e6:.0f} MB",
                "killed" if killed else "had finished",
                outcome,
                f"{len(leftovers)} staging/journal graph(s) dropped at restart",
            )
        )
        assert state in (before, after), (
            f"killed while {label} at {at:.1f} s: neither none nor all of the batch"
        )
    FIGURES[f"crashes (SIGKILL during `pactgraph ingest`, {case})"] = (
        f"{sum(1 for o in outcomes if o[3] == 'killed')} of {len(outcomes)} runs killed and survived; "
        f"{CRASH_TRIPLES} triples, full ingest {total:.1f} s, {volume / 1e6:.0f} MB written: {outcomes}"
    )
    # Most runs must really have died mid-way (not finished first).
    assert sum(1 for o in outcomes if o[3] == "killed") >= 4, outcomes


# ---------------------------------------------------------------------------- SIGKILL inside the journal

PENDING = ox.NamedNode(STAGING + "pending")  # the journal's predicate: (journal, pending, graph)
BULK_GRAPHS = ("https://example.org/graph/bulk-1", "https://example.org/graph/bulk-2")


@dataclass(frozen=True)
class Look:
    """What a store holds at one moment, seen read-only from another process."""

    pending: frozenset[str]  # the graphs a bulk write's journal names as not yet committed
    counts: tuple[int, ...]  # triples in each of BULK_GRAPHS (with `exact=False`: 0 or 1, empty or not)


def look(path: Path, exact: bool = False) -> Look | None:
    """A read-only look at a store (another process may be writing it); None when the look caught
    RocksDB between two files (it is tried again). Without `exact` it only asks whether each graph
    holds anything, which is quick enough to aim a kill by."""
    try:
        raw = ox.Store.read_only(str(path))
        pending = frozenset(
            q.object.value
            for q in raw.quads_for_pattern(None, PENDING, None, None)
            if isinstance(q.object, ox.NamedNode)
        )
        # Statements about the graph itself (its description, written with the batch) are left out.
        quads = (
            (
                q
                for q in raw.quads_for_pattern(None, None, None, ox.NamedNode(g))
                if q.subject != ox.NamedNode(g)
            )
            for g in BULK_GRAPHS
        )
        counts = tuple(sum(1 for _ in q) if exact else int(next(q, None) is not None) for q in quads)
    except (OSError, RuntimeError):
        return None
    finally:
        gc.collect()
    return Look(pending, counts)


def half_written(seen: Look | None) -> bool:
    """One graph of the batch is in the store and the other not yet: the middle of the bulk write."""
    return seen is not None and sorted(seen.counts)[0] == 0 and sorted(seen.counts)[1] > 0


@pytest.mark.slow
def test_sigkill_inside_the_journaled_bulk_write_drops_what_it_wrote(seeded: Path, tmp_path: Path) -> None:
    """A large batch into graphs that are all empty is bulk-loaded straight into them under a
    journal (graph.store's bulk path); the journal's removal is the commit. Two graphs: killed
    once the first is written and the second is not, the crash leaves a half-written batch, and
    the restart must drop it (the journal names its graphs), leaving the store as it was."""
    per_graph = max(CRASH_TRIPLES // 2, 30_000)  # each graph takes seconds to bulk-load: a window to kill in
    source = tmp_path / "new" / "BULK.nq"
    source.parent.mkdir()
    with source.open("w") as f:
        for g in BULK_GRAPHS:
            for i in range(per_graph):
                f.write(
                    f'<https://example.org/bulk/s{i}> <https://example.org/bulk/p{i % 7}> "{g} {i}" <{g}> .\n'
                )
    note_ontology_sizes(seeded)
    base = seeded_copy(seeded, tmp_path / "base")
    before = reopen(seeded_copy(base, tmp_path / "before"))[0]
    ref = seeded_copy(base, tmp_path / "ref")
    total, _samples = run_to_end(source, ref)
    after = reopen(ref)[0]
    assert look(ref, exact=True) == Look(frozenset(), (per_graph, per_graph))
    assert after != before

    outcomes: list[str] = []
    inside = 0
    for attempt in range(3):  # a kill can miss the window on a loaded machine: at most three tries
        path = seeded_copy(base, tmp_path / f"kill-{attempt}")
        proc = start_ingest(source, path)
        t0 = time.monotonic()
        while proc.poll() is None and time.monotonic() - t0 < total * 4 + 120:
            if half_written(look(path)):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
        proc.wait(timeout=60)
        crashed = _settled_look(path)  # what the crash left, before the restart drops anything
        state, leftovers = reopen(path)
        outcome = "all" if state == after else "none" if state == before else "TORN"
        outcomes.append(
            f"{time.monotonic() - t0:.1f} s: left {crashed.counts} triples in {BULK_GRAPHS}, journal naming "
            f"{sorted(crashed.pending)}; restart dropped {len(leftovers)} staging/journal graph(s): {outcome}"
        )
        assert state in (before, after), f"neither none nor all of the batch after the restart: {outcomes}"
        if half_written(crashed):
            # The crash left one graph written: the journal must name both, and the restart drop them.
            assert set(BULK_GRAPHS) <= crashed.pending, outcomes
            assert state == before, outcomes
            inside += 1
            break
    FIGURES["crashes (SIGKILL inside the journaled bulk write)"] = (
        f"2 graphs x {per_graph} triples, full ingest {total:.1f} s: {outcomes}"
    )
    assert inside, f"never killed between the two graphs of the bulk write: {outcomes}"


def _settled_look(path: Path) -> Look:
    """A look at a store no process is writing (retried: a read-only open may still race the OS)."""
    for _ in range(50):
        seen = look(path, exact=True)
        if seen is not None:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"cannot open {path} read-only")
