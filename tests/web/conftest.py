"""A real uvicorn server over a fresh Oxigraph store for the web explorer tests, and the
rule for missing browser parts: outside CI a test skips with the reason, in CI it fails."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from api.settings import Settings
from tests.api.conftest import run_server


def missing(reason: str) -> NoReturn:
    """A required component is missing: fail in CI (`CI` set), skip elsewhere with the reason."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def explorer_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server's base URL; the store gets the bundled data on start-up. Module-scoped, so
    a module can stop it before its browser (see test_explorer.site)."""
    path = tmp_path_factory.mktemp("explorer") / "store"
    yield from run_server(Settings(store=f"oxigraph:{path}", token=None))
