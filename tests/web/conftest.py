"""Servers for the web explorer tests (a missing browser part follows tests.conftest.missing: a
skip outside CI, a failure in CI).

`explorer_url` is pactgraph as a user runs it: the console script of the installed wheel
(tests/installed.py), started from a temporary folder over a fresh Oxigraph store, so the page,
its files and the npm-built libraries come from site-packages, not from the checkout.
`checkout_url` serves the checkout's app in this process, for the few tests that change what
one of its modules reads (the libraries' folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pactgraph.api.settings import Settings
from tests.api.conftest import run_server
from tests.conftest import seeded_copy
from tests.installed import installed, serving


@pytest.fixture(scope="session")
def explorer_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The installed wheel's `pactgraph serve`; the store gets the bundled data on start-up."""
    wheel = installed(tmp_path_factory)
    cwd = tmp_path_factory.mktemp("explorer")
    with serving(wheel.pactgraph, f"oxigraph:{cwd / 'store'}", cwd) as url:
        yield url


@pytest.fixture(scope="module")
def checkout_url(tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path) -> Iterator[str]:
    """The checkout's app served in this process, over a copy of the bundled data. Module-scoped,
    so a module can stop it before its browser (see test_explorer.checkout_site)."""
    path = seeded_copy(bundled_seed, tmp_path_factory.mktemp("checkout") / "store")
    yield from run_server(Settings(store=f"oxigraph:{path}", token=None))
