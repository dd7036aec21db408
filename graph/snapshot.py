"""Snapshots of what `serve` keeps of an `oxigraph:` store (the projection, the name index).

Building them reads every term through Oxigraph (most of the start-up at a million triples);
a snapshot saved after a build, or after the writes `serve` followed, is loaded instead, but
only when the store's durable generation (graph/store.py) is the one it was made at, and the
code, ontology and format are the ones that made it. Anything else means rebuild.

The file is `PATH.pactgraph/snapshot` beside the store: one line of JSON (the header: format,
code, ontology, generation, and the SHA-256 and size of the payload), then the payload: JSON
(orjson) of plain lists, numbers and strings, a newline, and columns of 32-bit integers (the
projection's, which the JSON counts): reading it runs no code, whatever the file holds. A
payload whose checksum differs from its header's, or that is not what this code writes, is not
used: the start builds again, and says why in the log. Written to a temp file, fsynced and
renamed: one snapshot at most. (The checksum finds damage and careless edits, not
a forger: whoever can write that folder can write the store beside it too.)
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import sys
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, pairwise, repeat
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
    _predicates,
    _term_of,
)
from pactgraph.graph.store import Store
from pactgraph.ontology import ONTOLOGY_PATH

FORMAT = 3
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
    h.update(f"{FORMAT}|{sys.version_info[:2]}|{sys.byteorder}|networkx {nx.__version__}|".encode())
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
        cut = payload.index(b"\n")
        data = orjson.loads(payload[:cut])
        columns = _Read(memoryview(payload)[cut + 1 :], data["columns"])
        snap = Snapshot(
            _projection(data["projection"], version, columns), NameIndex.from_state(data["names"], version)
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
        columns = _Columns()
        doc = {"projection": _projection_data(projection, columns), "names": names.to_state()}
        payload = orjson.dumps({**doc, "columns": columns.counts()}) + b"\n" + columns.blob()
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
# Columns of integers into one table of strings (each IRI once, shared again when read; 0 is
# None), so the payload is small and reading it makes one string per distinct value, as the
# build does, and the objects are made in C (map, zip, tuple.__new__), not by a Python loop.

_TUPLE_NEW = tuple.__new__


class _Strings:
    def __init__(self) -> None:
        self.table: list[str | None] = [None]
        self.ids: dict[str, int] = {}

    def __call__(self, s: str | None) -> int:
        if s is None:
            return 0
        i = self.ids.get(s)
        if i is None:
            i = self.ids[s] = len(self.table)
            self.table.append(s)
        return i

    def many(self, items: Any) -> list[int]:
        return [self(s) for s in items]


_FACT_COLUMNS = 16  # an Edge's 14 fields, then its first and last day


class _Columns:
    """The integer columns of a payload, written after its JSON as 32-bit integers."""

    def __init__(self) -> None:
        self.parts: list[array[int]] = []

    def put(self, values: Iterable[int]) -> int:
        self.parts.append(array("i", values))
        return len(self.parts) - 1

    def ragged(self, lists: Iterable[list[int]]) -> list[int]:
        """Lists of integers as two columns: all of them in a row, and each one's length."""
        lengths: list[int] = []
        flat = array("i")
        for values in lists:
            lengths.append(len(values))
            flat.extend(values)
        self.parts.append(flat)
        return [len(self.parts) - 1, self.put(lengths)]

    def counts(self) -> list[int]:
        return [len(a) for a in self.parts]

    def blob(self) -> bytes:
        return b"".join(a.tobytes() for a in self.parts)


class _Read:
    """The integer columns of a payload, read as `_Columns` wrote them."""

    def __init__(self, blob: memoryview, counts: list[int]) -> None:
        self.blob = blob
        self.offsets = list(accumulate((4 * int(n) for n in counts), initial=0))
        if self.offsets[-1] != len(blob):
            raise BadSnapshot("the columns do not fill the payload")

    def get(self, i: int) -> array[int]:
        values = array("i")
        values.frombytes(self.blob[self.offsets[i] : self.offsets[i + 1]])
        return values

    def ragged(self, ids: list[int]) -> list[array[int]]:
        flat, lengths = self.get(ids[0]), self.get(ids[1])
        ends = list(accumulate(lengths, initial=0))
        if ends[-1] != len(flat):
            raise BadSnapshot("a ragged column's lengths do not add up")
        return [flat[a:b] for a, b in pairwise(ends)]


def _projection_data(proj: Projection, out: _Columns) -> dict[str, Any]:
    proj.prepare()
    if proj.schema is None:
        raise BadSnapshot("a projection assembled by hand is not saved")
    ix = _Strings()
    adj = proj.graph._adj
    nodes = ix.many(adj)
    pair_ids: dict[int, int] = {}
    neighbours: list[list[int]] = []
    pairs: list[list[int]] = []
    sizes: list[int] = []
    cited: dict[tuple[str, ...], int] = {}
    rows: list[tuple[Any, ...]] = []
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
                    rows.append((*e, meta[1], meta[2]))
            theirs.append(found)
        neighbours.append(mine)
        pairs.append(theirs)
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(_FACT_COLUMNS)]
    for i in (0, 1, 2, 3, 4, 5, 6, 8, 11, 12):
        columns[i] = ix.many(columns[i])
    columns[7] = [cited.setdefault(t, len(cited)) for t in columns[7]]
    for i in (9, 10, 13):
        columns[i] = [int(b) for b in columns[i]]
    records = [list(c) for c in zip(*proj.records.values(), strict=True)] or [[] for _ in range(13)]
    for i in (0, 1, 2, 5, 8, 10):
        records[i] = ix.many(records[i])
    for i in (3, 4, 11, 12):
        records[i] = [int(b) for b in records[i]]
    records[9] = [cited.setdefault(t, len(cited)) for t in records[9]]
    days = list(zip(*proj.node_days.values(), strict=True)) or [(), ()]
    return {
        "nodes": out.put(nodes),
        "neighbours": out.ragged(neighbours),
        "pairs": out.ragged(pairs),
        "sizes": out.put(sizes),
        "facts": [out.put(c) for c in columns],
        "records": [out.put(ix.many(proj.records)), [out.put(c) for c in records]],
        "cited": out.ragged([ix.many(t) for t in cited]),
        "labels": [out.put(ix.many(proj.labels)), list(proj.labels.values())],
        "classes": [out.put(ix.many(proj.classes)), out.put(ix.many(proj.classes.values()))],
        "hubs": out.put(ix.many(proj.hubs)),
        "actors": out.put(ix.many(proj.actors)),
        "made": out.put(ix.many(proj.made)),
        "node_days": [out.put(ix.many(proj.node_days)), out.put(days[0]), out.put(days[1])],
        "codes": [
            out.put(ix.many(proj.codes)),
            out.put(ix.many(c[0] for c in proj.codes.values())),
            out.put(ix.many(c[1] for c in proj.codes.values())),
        ],
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


def _projection(data: dict[str, Any], version: int, columns: _Read) -> Projection:
    table: list[str | None] = data["strings"]
    if table[:1] != [None] or not all(type(s) is str for s in table[1:]):
        raise BadSnapshot("the string table is not one this code writes")
    get = table.__getitem__
    col = columns.get

    def texts(i: int) -> Any:
        return map(get, col(i))

    cited = [tuple(map(get, t)) for t in columns.ragged(data["cited"])]
    c = [col(i) for i in data["facts"]]
    if len(c) != _FACT_COLUMNS or len({len(column) for column in c}) != 1:
        raise BadSnapshot("the facts' columns differ in length")
    edges = list(
        map(
            _TUPLE_NEW,
            repeat(Edge),
            zip(
                *(map(get, c[i]) for i in range(7)),
                map(cited.__getitem__, c[7]),
                map(get, c[8]),
                map(bool, c[9]),
                map(bool, c[10]),
                map(get, c[11]),
                map(get, c[12]),
                map(bool, c[13]),
                strict=True,
            ),
        )
    )
    # Each fact's (status rank, first day, last day, predicate's local name), as `Projection.prepare`
    # makes them: the days saved, not worked out again.
    ranks = {i: _STATUS_BY_NAME.get(table[i] or "", 3) for i in set(c[5])}
    terms = {i: _term_of(table[i] or "") for i in set(c[1])}
    metas = list(zip(map(ranks.__getitem__, c[5]), c[14], c[15], map(terms.__getitem__, c[1]), strict=True))
    metas = list(map(_METAS.setdefault, metas, metas))
    del c
    offsets = list(accumulate(col(data["sizes"]), initial=0))
    if offsets[-1] != len(edges):
        raise BadSnapshot("the pairs do not cover the facts")
    pair_data = [{"facts": edges[a:b], "meta": tuple(metas[a:b])} for a, b in pairwise(offsets)]
    del edges, metas
    pair = pair_data.__getitem__
    nodes = list(texts(data["nodes"]))
    adj = {
        n: dict(zip(map(get, mine), map(pair, theirs), strict=True))
        for n, mine, theirs in zip(
            nodes, columns.ragged(data["neighbours"]), columns.ragged(data["pairs"]), strict=True
        )
    }
    g = _Graph()
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
    owners, r_ids = data["records"]
    if len(r_ids) != len(_DEFAULT):
        raise BadSnapshot("records of another shape")
    r = [col(i) for i in r_ids]
    records = zip(
        map(get, r[0]),
        map(get, r[1]),
        map(get, r[2]),
        map(bool, r[3]),
        map(bool, r[4]),
        map(get, r[5]),
        r[6],
        r[7],
        map(get, r[8]),
        map(cited.__getitem__, r[9]),
        map(get, r[10]),
        map(bool, r[11]),
        map(bool, r[12]),
        strict=True,
    )
    day_nodes, firsts, lasts = data["node_days"]
    code_nodes, isos, qids = data["codes"]
    proj = Projection(
        version=version,
        graph=g,
        labels=dict(zip(texts(keys), map(str, values), strict=True)),
        classes=dict(zip(texts(data["classes"][0]), texts(data["classes"][1]), strict=True)),
        readings=readings,
        hubs=set(texts(data["hubs"])),
        actors=set(texts(data["actors"])),
        node_days=dict(zip(texts(day_nodes), zip(col(firsts), col(lasts), strict=True), strict=True)),
        schema=schema,
        made=set(texts(data["made"])),
        records=dict(zip(texts(owners), records, strict=True)),
        source_dates={str(k): str(v) for k, v in data["source_dates"].items()},
        exclusive_sources={str(n) for n in data["exclusive_sources"]},
        term_counts={str(k): int(v) for k, v in data["term_counts"].items()},
        codes=dict(zip(texts(code_nodes), zip(texts(isos), texts(qids), strict=True), strict=True)),
    )
    proj.predicates = _predicates(proj.term_counts, proj.readings)
    proj._prepared = True
    return proj
