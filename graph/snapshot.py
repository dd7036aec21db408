"""Snapshots of what `serve` builds from an `oxigraph:` store (the projection, the name index).

Building them reads every term through Oxigraph (most of the start-up at a million triples);
a snapshot saved after a build is loaded instead, but only when the store's durable
generation (graph/store.py) is the one the build was made at, and the code, ontology and
format are the ones that made it. Anything else, or any error reading it, means rebuild.

The file is `PATH.pactgraph/snapshot.pickle` beside the store: a small pickled header, then the
pickled payload (protocol 5), written to a temp file, fsynced and renamed: one snapshot at most.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx

from pactgraph.graph.names import NameIndex
from pactgraph.graph.projection import Projection, projection_from_state, projection_state
from pactgraph.graph.store import Store
from pactgraph.ontology import ONTOLOGY_PATH

FORMAT = 1
"""Raise when the payload's layout changes in a way the source hash would not catch."""
FILE_NAME = "snapshot.pickle"

log = logging.getLogger("pactgraph.snapshot")

# The code whose output a snapshot holds: a change to any of them makes old snapshots stale.
_SOURCES = ("projection.py", "names.py", "dates.py", "snapshot.py")


@cache
def code_tag() -> str:
    """A hash of the format, the building code, the ontology file and the runtime that pickled it."""
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


def snapshot_path(store: Store) -> Path | None:
    return store.meta_dir / FILE_NAME if store.meta_dir is not None else None


def _header(generation: str) -> dict[str, Any]:
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
            header = pickle.load(f)
            expected = _header(generation)
            if not isinstance(header, dict) or header != expected:
                why = [k for k in expected if not isinstance(header, dict) or header.get(k) != expected[k]]
                log.info("snapshot at %s is stale (%s differs): building", path, ", ".join(why))
                return None
            projection_data, names_data = pickle.load(f)
        version = store.version
        snap = Snapshot(
            projection_from_state(projection_data, version), NameIndex.from_state(names_data, version)
        )
    except Exception as exc:  # a truncated or corrupt file, or one from other code: rebuild
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
    """Write a snapshot of `projection` and `names`, built from the store at `generation`.

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
        path.parent.mkdir(exist_ok=True)
        for old in path.parent.glob(f"{FILE_NAME}.*.tmp"):
            old.unlink(missing_ok=True)  # left by a save that was killed
        with tmp.open("wb") as f:
            pickle.dump(_header(generation), f, protocol=5)
            pickle.dump((projection_state(projection), names.to_state()), f, protocol=5)
            f.flush()
            os.fsync(f.fileno())
        if store.read_generation() != generation:
            tmp.unlink(missing_ok=True)
            return None
        os.replace(tmp, path)
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
