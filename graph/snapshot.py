"""Snapshots of what `serve` keeps of an `oxigraph:` store (the projection, the name index).

Building them reads every term through Oxigraph (most of the start-up at a million triples);
a snapshot saved after a build, or after the writes `serve` followed, is loaded instead, but
only when the store's durable generation (graph/store.py) is the one it was made at, and the
code, ontology and format are the ones that made it. Anything else means rebuild.

The file is `PATH.pactgraph/snapshot` beside the store: one line of JSON (the header: format,
code, ontology, generation, and the SHA-256 and size of the payload), then the payload, JSON
(orjson) of plain lists, numbers and strings: reading it runs no code, whatever the file
holds. A payload whose checksum differs from its header's, or that is not what this code
writes, is not used: the start builds again, and says why in the log. Written to a temp file,
fsynced and renamed: one snapshot at most. (The checksum finds damage and careless edits, not
a forger: whoever can write that folder can write the store beside it too.)
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
import orjson

from pactgraph.graph.names import NameIndex
from pactgraph.graph.projection import (
    _DEFAULT,
    _METAS,
    _STATUS_BY_NAME,
    Edge,
    Projection,
    Schema,
    _Graph,
    _new_edge,
    _predicates,
    _term_of,
)
from pactgraph.graph.store import Store
from pactgraph.ontology import ONTOLOGY_PATH

FORMAT = 2
"""Raise when the payload's layout changes in a way the source hash would not catch."""
FILE_NAME = "snapshot"
_OLD_FILES = ("snapshot.pickle",)  # earlier formats: never read, removed by the next save
MAX_HEADER = 4096

log = logging.getLogger("pactgraph.snapshot")

# The code whose output a snapshot holds: a change to any of them makes old snapshots stale.
_SOURCES = ("projection.py", "names.py", "dates.py", "labels.py", "snapshot.py")


@cache
def code_tag() -> str:
    """A hash of the format, the building code, the ontology file and the runtime that wrote it."""
    h = hashlib.sha256()
    h.update(f"{FORMAT}|{sys.version_info[:2]}|networkx {nx.__version__}|".encode())
    here = Path(__file__).parent
    for name in _SOURCES:
        h.update((here / name).read_bytes())
    return h.hexdigest()


@cache
def ontology_tag() -> str:
    return hashlib.sha256(Path(ONTOLOGY_PATH).read_bytes()).hexdigest()


@dataclass
class Snapshot:
    projection: Projection
    names: NameIndex


class BadSnapshot(Exception):
    """The payload is not one this code wrote."""


def snapshot_path(store: Store) -> Path | None:
    return store.meta_dir / FILE_NAME if store.meta_dir is not None else None


def _tags(generation: str) -> dict[str, Any]:
    return {"format": FORMAT, "code": code_tag(), "ontology": ontology_tag(), "generation": generation}


def load(store: Store) -> Snapshot | None:
    """The snapshot of the store's current generation, or None (and a log line saying why)."""
    path = snapshot_path(store)
    generation = store.generation()
    if path is None or generation is None:
        return None
    if not path.exists():
        log.info("no snapshot at %s: building", path)
        return None
    started = time.perf_counter()
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects, none of them garbage
    try:
        with path.open("rb") as f:
            line = f.readline(MAX_HEADER)
            try:
                header = orjson.loads(line)
            except orjson.JSONDecodeError:
                header = None
            if not isinstance(header, dict):
                log.warning("the snapshot at %s has no header: building", path)
                return None
            expected = _tags(generation)
            why = [k for k in expected if header.get(k) != expected[k]]
            if why:
                log.info("snapshot at %s is stale (%s differs): building", path, ", ".join(why))
                return None
            size = header.get("size")
            payload = f.read(size + 1) if isinstance(size, int) and size >= 0 else b""
        if len(payload) != size or hashlib.sha256(payload).hexdigest() != header.get("sha256"):
            log.warning("the snapshot at %s does not match its checksum (damaged or altered): building", path)
            return None
        version = store.version
        data = orjson.loads(payload)
        snap = Snapshot(
            _projection(data["projection"], version), NameIndex.from_state(data["names"], version)
        )
    except Exception as exc:  # a payload this code did not write: rebuild
        log.warning("cannot load the snapshot at %s (%s: %s): building", path, type(exc).__name__, exc)
        return None
    finally:
        if collecting:
            gc.enable()
    # Checked again after reading: the generation must not have moved meanwhile.
    if store.generation() != generation:
        log.info("the store changed while its snapshot was read: building")
        return None
    log.info("loaded the snapshot at %s in %.2f s", path, time.perf_counter() - started)
    return snap


def save(store: Store, generation: str, projection: Projection, names: NameIndex) -> Path | None:
    """Write a snapshot of `projection` and `names`, made from the store at `generation`.

    Nothing is written when the store has moved on since (the build may have read a write
    half-way); returns the file written, or None.
    """
    path = snapshot_path(store)
    if path is None or store.read_generation() != generation:
        return None
    if projection.version != store.version or names.version != store.version:
        return None
    started = time.perf_counter()
    tmp = path.with_name(f"{FILE_NAME}.{os.getpid()}.tmp")
    try:
        payload = orjson.dumps({"projection": _projection_data(projection), "names": names.to_state()})
        header = {**_tags(generation), "sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}
        path.parent.mkdir(exist_ok=True)
        for old in path.parent.glob(f"{FILE_NAME}.*.tmp"):
            old.unlink(missing_ok=True)  # left by a save that was killed
        with tmp.open("wb") as f:
            f.write(orjson.dumps(header) + b"\n")
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if store.read_generation() != generation:
            tmp.unlink(missing_ok=True)
            return None
        os.replace(tmp, path)
        for name in _OLD_FILES:
            (path.parent / name).unlink(missing_ok=True)
    except Exception as exc:
        log.warning("cannot save a snapshot at %s: %s", path, exc)
        tmp.unlink(missing_ok=True)
        return None
    log.info(
        "saved a snapshot at %s (%.1f MiB) in %.2f s",
        path,
        path.stat().st_size / 2**20,
        time.perf_counter() - started,
    )
    return path


# ------------------------------------------------------------------------------ the projection
#
# Columns of integers into one table of strings (each IRI once, shared again when read), so the
# payload is small and reading it makes one string per distinct value, as the build does.


class _Strings:
    def __init__(self) -> None:
        self.table: list[str] = []
        self.ids: dict[str, int] = {}

    def __call__(self, s: str | None) -> int:
        if s is None:
            return -1
        i = self.ids.get(s)
        if i is None:
            i = self.ids[s] = len(self.table)
            self.table.append(s)
        return i


def _projection_data(proj: Projection) -> dict[str, Any]:
    proj.prepare()
    if proj.schema is None:
        raise BadSnapshot("a projection assembled by hand is not saved")
    ix = _Strings()
    adj = proj.graph._adj
    nodes = [ix(n) for n in adj]
    pair_ids: dict[int, int] = {}
    neighbours: list[list[int]] = []
    pairs: list[list[int]] = []
    sizes: list[int] = []
    cited: dict[tuple[str, ...], int] = {}
    columns: list[list[int]] = [[] for _ in range(16)]
    for around in adj.values():
        mine, theirs = [], []
        for v, data in around.items():
            mine.append(ix(v))
            found = pair_ids.get(id(data))
            if found is None:
                found = pair_ids[id(data)] = len(sizes)
                facts: list[Edge] = data["facts"]
                sizes.append(len(facts))
                for e, meta in zip(facts, data["meta"], strict=True):
                    for i, value in enumerate((*_edge_row(e, ix, cited), meta[1], meta[2])):
                        columns[i].append(value)
            theirs.append(found)
        neighbours.append(mine)
        pairs.append(theirs)
    records = [[ix(n) for n in proj.records], [_record_row(r, ix, cited) for r in proj.records.values()]]
    return {
        "nodes": nodes,
        "neighbours": neighbours,
        "pairs": pairs,
        "sizes": sizes,
        "facts": columns,
        "cited": [[ix(s) for s in t] for t in cited],
        "labels": [[ix(n) for n in proj.labels], list(proj.labels.values())],
        "classes": [[ix(n) for n in proj.classes], [ix(c) for c in proj.classes.values()]],
        "hubs": [ix(n) for n in proj.hubs],
        "actors": [ix(n) for n in proj.actors],
        "made": [ix(n) for n in proj.made],
        "node_days": [[ix(n) for n in proj.node_days], list(proj.node_days.values())],
        "records": records,
        "source_dates": proj.source_dates,
        "exclusive_sources": sorted(proj.exclusive_sources),
        "term_counts": proj.term_counts,
        "schema": {
            "depth": proj.schema.depth,
            "kinds": proj.schema.kinds,
            "literal": sorted(proj.schema.literal),
            "readings": proj.schema.readings,
        },
        "readings": proj.readings,
        "strings": ix.table,
    }


def _cited(t: tuple[str, ...], cited: dict[tuple[str, ...], int]) -> int:
    found = cited.get(t)
    if found is None:
        found = cited[t] = len(cited)
    return found


def _edge_row(e: Edge, ix: _Strings, cited: dict[tuple[str, ...], int]) -> tuple[int, ...]:
    return (
        ix(e.subject),
        ix(e.predicate),
        ix(e.object),
        ix(e.start),
        ix(e.end),
        ix(e.status),
        ix(e.graph),
        _cited(e.sources, cited),
        ix(e.quote),
        int(e.dated),
        int(e.undated),
        ix(e.known_from),
        ix(e.ongoing),
        int(e.exclusive_end),
    )


def _record_row(r: tuple[Any, ...], ix: _Strings, cited: dict[tuple[str, ...], int]) -> list[int]:
    start, end, until, exclusive, undated, known, first, last, status, sources, quote, event, timed = r
    return [
        ix(start),
        ix(end),
        ix(until),
        int(exclusive),
        int(undated),
        ix(known),
        first,
        last,
        ix(status),
        _cited(sources, cited),
        ix(quote),
        int(event),
        int(timed),
    ]


def _projection(data: dict[str, Any], version: int) -> Projection:
    table: list[str] = data["strings"]
    if not all(type(s) is str for s in table):
        raise BadSnapshot("a string table entry is not a string")

    def text(i: int) -> str | None:
        return None if i == -1 else table[i]

    def texts(ids: list[int]) -> list[Any]:
        return [None if i == -1 else table[i] for i in ids]

    def flags(ids: list[int]) -> list[bool]:
        return [bool(i) for i in ids]

    cited = [tuple(table[i] for i in t) for t in data["cited"]]
    c = data["facts"]
    if len(c) != 16 or len({len(col) for col in c}) != 1:
        raise BadSnapshot("the facts' columns differ in length")
    edges = list(
        map(
            _new_edge,
            texts(c[0]),
            texts(c[1]),
            texts(c[2]),
            texts(c[3]),
            texts(c[4]),
            texts(c[5]),
            texts(c[6]),
            [cited[i] for i in c[7]],
            texts(c[8]),
            flags(c[9]),
            flags(c[10]),
            texts(c[11]),
            texts(c[12]),
            flags(c[13]),
        )
    )
    # Each fact's (status rank, first day, last day, predicate's local name), as `Projection.prepare`
    # makes them: the days saved, not worked out again.
    metas = [
        _METAS.setdefault(m, m)
        for m in zip(
            [_STATUS_BY_NAME.get(e.status, 3) for e in edges],
            map(int, c[14]),
            map(int, c[15]),
            [_term_of(e.predicate) for e in edges],
            strict=True,
        )
    ]
    pair_data: list[dict[str, Any]] = []
    at = 0
    for size in data["sizes"]:
        pair_data.append({"facts": edges[at : at + size], "meta": tuple(metas[at : at + size])})
        at += size
    if at != len(edges):
        raise BadSnapshot("the pairs do not cover the facts")
    g = _Graph()
    adj: dict[str, dict[str, dict[str, Any]]] = {}
    nodes = [table[i] for i in data["nodes"]]
    for n, mine, theirs in zip(nodes, data["neighbours"], data["pairs"], strict=True):
        adj[n] = {table[v]: pair_data[p] for v, p in zip(mine, theirs, strict=True)}
    g._adj = adj
    g._node = {n: {} for n in nodes}
    s = data["schema"]
    schema = Schema(
        {str(k): int(v) for k, v in s["depth"].items()},
        {str(k): (bool(v[0]), bool(v[1])) for k, v in s["kinds"].items()},
        frozenset(str(p) for p in s["literal"]),
        {str(k): (str(v[0]), str(v[1])) for k, v in s["readings"].items()},
    )
    readings = {str(k): (str(v[0]), str(v[1])) for k, v in data["readings"].items()}
    keys, values = data["labels"]
    record_nodes, rows = data["records"]
    day_nodes, days = data["node_days"]
    proj = Projection(
        version=version,
        graph=g,
        labels=dict(zip(texts(keys), map(str, values), strict=True)),
        classes=dict(zip(texts(data["classes"][0]), texts(data["classes"][1]), strict=True)),
        readings=readings,
        hubs=set(texts(data["hubs"])),
        actors=set(texts(data["actors"])),
        node_days={n: (int(a), int(b)) for n, (a, b) in zip(texts(day_nodes), days, strict=True)},
        schema=schema,
        made=set(texts(data["made"])),
        records={n: _record(row, text, cited) for n, row in zip(texts(record_nodes), rows, strict=True)},
        source_dates={str(k): str(v) for k, v in data["source_dates"].items()},
        exclusive_sources={str(n) for n in data["exclusive_sources"]},
        term_counts={str(k): int(v) for k, v in data["term_counts"].items()},
    )
    proj.predicates = _predicates(proj.term_counts, proj.readings)
    proj._prepared = True
    return proj


def _record(row: list[int], text: Any, cited: list[tuple[str, ...]]) -> tuple[Any, ...]:
    start, end, until, exclusive, undated, known, first, last, status, sources, quote, event, timed = row
    rec = (
        text(start),
        text(end),
        text(until),
        bool(exclusive),
        bool(undated),
        text(known),
        int(first),
        int(last),
        text(status),
        cited[sources],
        text(quote),
        bool(event),
        bool(timed),
    )
    if len(rec) != len(_DEFAULT):
        raise BadSnapshot("a record of another shape")
    return rec
