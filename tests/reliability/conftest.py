"""Reliability fixtures: real servers over copies of one seeded on-disk Oxigraph store.

Loading the bundled data takes ~20 s, so it is done once per session into a template
store; each server gets its own copy (a closed RocksDB directory copies like any files).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pactgraph.api.settings import Settings
from tests.conftest import seeded_copy
from tests.reliability.helpers import FIGURES, TOKEN, Live, live_server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: long reliability runs (crashes, concurrency, fuzzing); they run by default"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("pactgraph reliability figures")
        for key, value in FIGURES.items():
            terminalreporter.write_line(f"{key}: {value}")


@pytest.fixture(scope="session")
def seeded(bundled_seed: Path) -> Path:
    """A closed store holding the ontology and every bundled file (the template to copy): the
    session's one seed (tests.conftest), shared with the other folders' tests."""
    return bundled_seed


@pytest.fixture(scope="module")
def server(
    seeded: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Live]:
    """Like tests/api's `server`: token, 2 s query limit, 2 MB body limit, 300 rows. A module
    may set QUERY_TIMEOUT: the first read after a write rebuilds the projection and the name
    index, which on a loaded machine can take longer than 2 s."""
    path = seeded_copy(seeded, tmp_path_factory.mktemp("rel") / "store")
    settings = Settings(
        store=f"oxigraph:{path}",
        token=TOKEN,
        query_timeout=getattr(request.module, "QUERY_TIMEOUT", 2.0),
        max_body=2_000_000,
        max_rows=300,
    )
    with live_server(settings, path) as live:
        yield live
