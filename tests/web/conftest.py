"""A real uvicorn server over a fresh Oxigraph store for the web explorer tests (a missing
browser part follows tests.conftest.missing: a skip outside CI, a failure in CI)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pactgraph.api.settings import Settings
from tests.api.conftest import run_server


@pytest.fixture(scope="module")
def explorer_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server's base URL; the store gets the bundled data on start-up. Module-scoped, so
    a module can stop it before its browser (see test_explorer.site)."""
    path = tmp_path_factory.mktemp("explorer") / "store"
    yield from run_server(Settings(store=f"oxigraph:{path}", token=None))
