"""Shared fixtures: stores on each backend, the bundled data loaded once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from data import DATA_DIR
from graph import Store, ingest, load_ontology, open_store, read_sources

BACKENDS = ["memory", "oxigraph"]


def make_store(kind: str, tmp: Path) -> Store:
    return open_store("memory:" if kind == "memory" else f"oxigraph:{tmp / 'store'}")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store on each backend."""
    s = make_store(request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="session", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A store on each backend with the ontology and every bundled file ingested."""
    s = make_store(request.param, tmp_path_factory.mktemp(request.param))
    load_ontology(s)
    ingest(s, read_sources([DATA_DIR]))
    yield s
    s.close()
