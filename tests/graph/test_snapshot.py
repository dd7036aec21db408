"""Snapshots of the projection and the name index (graph/snapshot.py) on real `oxigraph:` stores:
used only while the store's durable generation is the one they were made at."""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import orjson
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from pactgraph.api.settings import Settings
from pactgraph.api.state import AppState
from pactgraph.graph import Store, ingest, snapshot
from pactgraph.graph.ingest import SourceInput
from pactgraph.graph.names import NameIndex
from pactgraph.graph.projection import Projection, ProjectionCache, build
from pactgraph.graph.workers import QueryWorkers
from pactgraph.ontology import ENTITY_BASE, PG
from tests.conftest import seeded_copy

NEW_STATE = URIRef(ENTITY_BASE + "state/ZZT")
NEW_TURTLE = f"""
@prefix pg: <{PG}> .
@prefix rdfs: <{RDFS}> .
<{NEW_STATE}> a pg:State ; rdfs:label "Zembla Testland"@en ; pg:isoAlpha3 "ZZT" .
""".encode()
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path) -> Path:
    """A closed store with the ontology and the bundled data, copied for each test: the session's
    seed, without the generation and snapshot beside it (a store as other tools leave it)."""
    return seeded_copy(bundled_seed, tmp_path_factory.mktemp("snapbase") / "store")


@pytest.fixture
def path(base: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(base, target)
    return target


def open_db(path: Path) -> Store:
    return Store(f"oxigraph:{path}")


def build_and_save(db: Store) -> tuple[Projection, NameIndex]:
    generation = db.generation()
    assert generation is not None
    proj, names = build(db), NameIndex.build(db)
    assert snapshot.save(db, generation, proj, names) is not None
    return proj, names


def close(db: Store) -> None:
    """Close and let go: the on-disk lock goes with the last reference to the native store."""
    db.close()
    gc.unfreeze()  # AppState freezes what it holds; here it is garbage
    gc.collect()


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def edges(proj: Projection) -> set[tuple[str, str, tuple[object, ...], tuple[object, ...]]]:
    return {
        (*sorted((u, v)), tuple(sorted(data["facts"], key=repr)), tuple(sorted(data["meta"])))
        for u, v, data in proj.graph.edges(data=True)
    }


def test_the_generation_lives_beside_the_store_and_every_write_changes_it(path: Path) -> None:
    db = open_db(path)
    first = db.generation()
    assert first is not None
    assert db.meta_dir == path.resolve().with_name("store.pactgraph")
    assert (db.meta_dir / "generation").exists() and not (path / "generation").exists()
    assert db.generation() == first  # stable while nothing is written
    db.update(f"INSERT DATA {{ GRAPH <urn:test:g> {{ <{NEW_STATE}> <{RDFS.label}> 'x' }} }}")
    second = db.generation()
    assert second not in (None, first)
    db.replace_graphs({URIRef("urn:test:g"): iter([(NEW_STATE, RDF.type, PG.State)])})
    third = db.generation()
    assert third not in (None, first, second)
    db.drop_graph(URIRef("urn:test:g"))
    assert db.generation() not in (None, first, second, third)
    close(db)


def test_memory_stores_have_no_generation_and_no_snapshot() -> None:
    db = Store("memory:")
    assert db.generation() is None
    assert snapshot.load(db) is None


def test_a_snapshot_is_used_when_nothing_changed_and_equals_a_fresh_build(path: Path) -> None:
    db = open_db(path)
    built, built_names = build_and_save(db)
    close(db)
    db = open_db(path)
    loaded = snapshot.load(db)
    assert loaded is not None
    proj, names = loaded.projection, loaded.names
    assert proj.version == db.version and names.version == db.version
    fresh, fresh_names = build(db), NameIndex.build(db)
    for p in (built, fresh):
        assert set(proj.graph.nodes) == set(p.graph.nodes)
        assert edges(proj) == edges(p)
        assert proj.labels == p.labels and proj.classes == p.classes
        assert proj.readings == p.readings and proj.hubs == p.hubs and proj.actors == p.actors
        assert proj.predicates == p.predicates
    for q, kind in (("russia", None), ("iran", "State"), ("nato", "Organisation"), ("putn", None)):
        expected = fresh_names.search(q, kind, limit=10)
        assert names.search(q, kind, limit=10) == expected
        assert built_names.search(q, kind, limit=10) == expected
    assert names.resolve("RUS") == fresh_names.resolve("RUS")
    assert len(names) == len(fresh_names)
    close(db)


def serve_start(path: Path, name: str = "Russia") -> tuple[bool, str, bool]:
    """What `serve` does before /readyz, then stops: (loaded from a snapshot, the IRI `name`
    resolves to, whether that IRI is a node of the projection)."""
    db = open_db(path)
    st = AppState(Settings(store=db.url), db, QueryWorkers(db, 1), ProjectionCache(db))
    try:
        st.start()
        loaded = st.loaded
        st.start_saving()
        st.wait_saved(120)
        iri = st.names().resolve(name).iri
        return loaded, iri, iri in st.projection().graph
    finally:
        st.workers.close()
        close(db)


def test_app_state_start_loads_the_snapshot_it_saved(path: Path) -> None:
    assert serve_start(path) == (False, ENTITY_BASE + "state/RUS", True)
    assert (path.resolve().with_name("store.pactgraph") / snapshot.FILE_NAME).exists()
    assert serve_start(path) == (True, ENTITY_BASE + "state/RUS", True)


@pytest.mark.parametrize("how", ["ingest", "update", "graph store put"])
def test_a_write_in_the_same_process_makes_the_snapshot_stale(path: Path, how: str) -> None:
    db = open_db(path)
    build_and_save(db)
    if how == "ingest":
        ingest(db, [SourceInput("zzt.ttl", NEW_TURTLE, "turtle", URIRef("https://pactgraph.org/graph/zzt"))])
    elif how == "update":
        db.update(
            f"INSERT DATA {{ GRAPH <urn:test:zzt> {{ <{NEW_STATE}> a <{PG.State}> ; "
            f'<{RDFS.label}> "Zembla Testland"@en }} }}'
        )
    else:  # what PUT /store?graph= does
        db.replace_graphs(
            {
                URIRef("urn:test:zzt"): iter(
                    [
                        (NEW_STATE, RDF.type, PG.State),
                        (NEW_STATE, RDFS.label, Literal("Zembla Testland", lang="en")),
                    ]
                )
            }
        )
    close(db)
    del db
    assert serve_start(path, "Zembla Testland") == (False, str(NEW_STATE), True)
    assert serve_start(path, "Zembla Testland") == (True, str(NEW_STATE), True)


@pytest.mark.parametrize("how", ["cli ingest", "update"])
def test_a_write_from_another_process_makes_the_snapshot_stale(path: Path, tmp_path: Path, how: str) -> None:
    db = open_db(path)
    build_and_save(db)
    close(db)
    del db
    if how == "cli ingest":
        source = tmp_path / "zzt.ttl"
        source.write_bytes(NEW_TURTLE)
        exe = Path(sys.executable).with_name("pactgraph")
        done = subprocess.run(
            [str(exe), "ingest", "--store", f"oxigraph:{path}", str(source)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    else:
        done = run_python(
            f"""
            from pactgraph.graph import Store
            db = Store("oxigraph:{path}")
            db.update('INSERT DATA {{ GRAPH <urn:test:zzt> {{ <{NEW_STATE}> a <{PG.State}> ; '
                      '<{RDFS.label}> "Zembla Testland"@en }} }}')
            db.close()
            """
        )
    assert done.returncode == 0, done.stderr
    db = open_db(path)
    assert snapshot.load(db) is None
    assert NameIndex.build(db).resolve("Zembla Testland").iri == str(NEW_STATE)
    close(db)


def test_a_process_killed_during_a_write_leaves_no_trusted_snapshot(path: Path) -> None:
    db = open_db(path)
    build_and_save(db)
    close(db)
    del db
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                import pyoxigraph as ox
                from pactgraph.graph import Store
                db = Store("oxigraph:{path}")
                with db.writing():
                    # As a write through the store makes it: into a graph and into the merge.
                    for g in (ox.NamedNode("urn:test:zzt"), ox.DefaultGraph()):
                        db.oxigraph.add(ox.Quad(ox.NamedNode("{NEW_STATE}"), ox.NamedNode("{RDF.type}"),
                                                ox.NamedNode("{PG.State}"), g))
                    db.oxigraph.flush()
                    print("written", flush=True)
                    time.sleep(600)
                """
            ),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "written"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    meta = path.resolve().with_name("store.pactgraph")
    assert not (meta / "generation").exists()
    assert (meta / snapshot.FILE_NAME).exists()
    db = open_db(path)
    assert snapshot.load(db) is None
    assert str(NEW_STATE) in NameIndex.build(db)._entities or str(NEW_STATE) in build(db).classes
    close(db)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "bad payload"])
def test_a_damaged_snapshot_means_a_rebuild_not_a_crash(path: Path, damage: str) -> None:
    db = open_db(path)
    build_and_save(db)
    file = snapshot.snapshot_path(db)
    assert file is not None
    data = file.read_bytes()
    if damage == "truncated":
        file.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        file.write_bytes(os.urandom(4096))
    elif damage == "empty":
        file.write_bytes(b"")
    else:  # a good header and checksum, then something that is not a projection
        generation = db.generation()
        assert generation is not None
        payload = orjson.dumps({"projection": {"graph": None}, "names": {}})
        header = {
            **snapshot._tags(generation),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "size": len(payload),
        }
        file.write_bytes(orjson.dumps(header) + b"\n" + payload)
    assert snapshot.load(db) is None
    close(db)
    del db
    assert serve_start(path) == (False, ENTITY_BASE + "state/RUS", True)
    assert serve_start(path) == (True, ENTITY_BASE + "state/RUS", True)


@pytest.mark.parametrize("field", ["ontology", "format", "code", "generation"])
def test_a_snapshot_with_another_tag_is_not_used(
    path: Path, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_db(path)
    build_and_save(db)
    assert snapshot.load(db) is not None
    if field == "ontology":
        monkeypatch.setattr(snapshot, "ontology_tag", lambda: "another ontology")
    elif field == "format":
        monkeypatch.setattr(snapshot, "FORMAT", snapshot.FORMAT + 1)
    elif field == "code":
        monkeypatch.setattr(snapshot, "code_tag", lambda: "other code")
    else:
        meta = snapshot.snapshot_path(db)
        assert meta is not None
        (meta.parent / "generation").write_text("someone else's\n")
    assert snapshot.load(db) is None
    close(db)


def test_a_store_made_again_at_the_same_path_does_not_inherit_the_snapshot(path: Path) -> None:
    db = open_db(path)
    build_and_save(db)
    close(db)
    del db
    time.sleep(0.1)
    shutil.rmtree(path)  # the generation and the snapshot stay beside it
    db = open_db(path)  # an empty store now, with a generation token left from the old one
    assert snapshot.load(db) is None
    close(db)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A real `pactgraph serve` on the store, once /readyz answers 200."""
    port = _free_port()
    exe = Path(sys.executable).with_name("pactgraph")
    proc = subprocess.Popen(
        [str(exe), "serve", "--store", f"oxigraph:{path}", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "PACTGRAPH_TOKEN": "snapshot-test-token"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited"
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("serve was not ready in time")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _wait_for(file: Path, newer_than: float) -> float:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if file.exists() and file.stat().st_mtime_ns > newer_than:
            return file.stat().st_mtime_ns
        time.sleep(0.1)
    raise AssertionError(f"no snapshot written at {file}")


def test_serve_uses_the_snapshot_until_a_write_over_http(path: Path) -> None:
    file = path.resolve().with_name("store.pactgraph") / snapshot.FILE_NAME

    def zembla(url: str) -> list[str]:
        hits = httpx.get(url + "/search", params={"q": "Zembla Testland"}).json()["hits"]
        return [h["id"] for h in hits if h["label"] == "Zembla Testland"]

    proc, url = _serve(path)  # no snapshot: built, then saved in the background
    try:
        first = _wait_for(file, 0)
        assert zembla(url) == []
        put = httpx.put(
            url + "/store",
            params={"graph": "urn:test:zzt"},
            content=NEW_TURTLE,
            headers={"Content-Type": "text/turtle", "Authorization": "Bearer snapshot-test-token"},
        )
        assert put.status_code in (200, 201, 204), put.text
        assert zembla(url) == [str(NEW_STATE)]
    finally:
        _stop(proc)
    proc, url = _serve(path)  # the snapshot is stale: built again (and saved again)
    try:
        assert zembla(url) == [str(NEW_STATE)]
        second = _wait_for(file, first)
    finally:
        _stop(proc)
    proc, url = _serve(path)  # nothing changed: loaded, so nothing is saved
    try:
        assert zembla(url) == [str(NEW_STATE)]
        time.sleep(1.0)
        assert file.stat().st_mtime_ns == second
    finally:
        _stop(proc)


def test_the_snapshot_is_json_and_integers_with_a_checksum_not_a_pickle(path: Path) -> None:
    db = open_db(path)
    build_and_save(db)
    file = snapshot.snapshot_path(db)
    assert file is not None
    header_line, payload = file.read_bytes().split(b"\n", 1)
    header = orjson.loads(header_line)
    assert header["format"] == snapshot.FORMAT and header["generation"] == db.generation()
    assert header["size"] == len(payload) and header["sha256"] == hashlib.sha256(payload).hexdigest()
    document, columns = payload.split(b"\n", 1)  # JSON, then the integer columns it counts
    found = orjson.loads(document)
    assert set(found) == {"projection", "names", "columns"}
    assert 4 * sum(found["columns"]) == len(columns)
    close(db)


def test_an_altered_label_is_not_served_the_snapshot_is_rebuilt_and_logged(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = open_db(path)
    build_and_save(db)
    file = snapshot.snapshot_path(db)
    assert file is not None
    data = file.read_bytes()
    assert data.count(b'"Russia"') >= 1
    file.write_bytes(data.replace(b'"Russia"', b'"Ruritania"'))  # the header left as it was
    with caplog.at_level(logging.WARNING, logger="pactgraph.snapshot"):
        assert snapshot.load(db) is None
    assert "checksum" in caplog.text
    close(db)
    del db
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pactgraph.snapshot"):
        assert serve_start(path, "Russia") == (False, ENTITY_BASE + "state/RUS", True)
    assert "checksum" in caplog.text
    db = open_db(path)
    st = AppState(Settings(store=db.url), db, QueryWorkers(db, 1), ProjectionCache(db))
    try:
        st.start()
        assert st.loaded  # the snapshot saved by the rebuild above: the true label
        assert st.projection().label(ENTITY_BASE + "state/RUS") == "Russia"
        assert all(h.matched != "Ruritania" for h in st.names().search("Ruritania").hits)
    finally:
        st.workers.close()
        close(db)


class _Planted:
    """What a pickle planted beside the store would make its reader run: it writes a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (Path.write_text, (self.marker, "code ran"))


@pytest.mark.parametrize("name", [snapshot.FILE_NAME, "snapshot.pickle"])
def test_a_planted_pickle_runs_nothing(path: Path, tmp_path: Path, name: str) -> None:
    db = open_db(path)
    build_and_save(db)
    marker = tmp_path / "ran"
    meta = path.resolve().with_name("store.pactgraph")
    generation = db.generation()
    planted = pickle.dumps({"format": snapshot.FORMAT, "generation": generation}, protocol=5)
    planted += pickle.dumps(_Planted(marker), protocol=5)
    (meta / name).write_bytes(planted)
    loaded = snapshot.load(db)
    assert not marker.exists()
    if name == snapshot.FILE_NAME:
        assert loaded is None  # not a snapshot: rebuilt
    close(db)
    del db
    assert serve_start(path)[1:] == (ENTITY_BASE + "state/RUS", True)
    assert not marker.exists()
