"""The wheel as a user installs it: one name in site-packages, every file of the packages, the
console script working from anywhere, and the explorer's libraries built in by the npm step."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import missing
from tests.installed import (
    ROOT,
    Installed,
    build_wheel,
    clean_env,
    copied_files,
    installed,
    repository_files,
    source_copy,
)

# The repository's root folders and where the wheel puts them.
PACKAGES = {
    "graph": "pactgraph/graph",
    "api": "pactgraph/api",
    "ontology": "pactgraph/ontology",
    "data": "pactgraph/data",
}
NOT_INSTALLED = {"api/static/package.json", "api/static/package-lock.json"}  # the build's input only
NO_NPM = "npm was not on the PATH when this copy of pactgraph was built"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    return installed(tmp_path_factory)


def test_site_packages_gains_pactgraph_and_nothing_else(wheel: Installed) -> None:
    record = (wheel.site_packages / "pactgraph-0.1.0.dist-info" / "RECORD").read_text()
    tops = {line.split(",")[0].split("/")[0] for line in record.splitlines() if line}
    # "..": the console script, written to the venv's bin/ (checked below).
    assert tops == {"pactgraph", "pactgraph-0.1.0.dist-info", ".."}
    assert {line.split(",")[0] for line in record.splitlines() if line.startswith("..")} == {
        "../../../bin/pactgraph"
    }
    for name in ("graph", "api", "ontology", "data"):
        assert not (wheel.site_packages / name).exists(), name
    assert (wheel.site_packages / "pactgraph" / "graph" / "store.py").is_file()
    assert (wheel.site_packages / "pactgraph-0.1.0.dist-info" / "top_level.txt").read_text().split() == [
        "pactgraph"
    ]


def test_the_wheel_holds_every_file_of_the_packages(wheel: Installed) -> None:
    names = set(wheel.names())
    expected = {"pactgraph/__init__.py"}
    for rel in copied_files(wheel.source):
        top, *rest = rel.parts
        if top in PACKAGES and rest and "__pycache__" not in rel.parts and str(rel) not in NOT_INSTALLED:
            expected.add("/".join([PACKAGES[top], *rest]))
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"
    # nothing of the repository's other folders, and nothing npm left behind
    assert not [n for n in names if n.startswith(("tests/", "bench/", "scripts/")) or "node_modules" in n]


def test_the_console_script_runs_from_anywhere(wheel: Installed, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(wheel.pactgraph), "--help"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for command in ("serve", "query", "path", "entity", "search", "export", "stats"):
        assert command in done.stdout, command
    # and what it imports is the installed copy, not the checkout; the old top-level names are gone
    where = subprocess.run(
        [str(wheel.python), "-c", "import pactgraph.api.cli as cli; print(cli.__file__); import graph"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert Path(where.stdout.strip()).is_relative_to(wheel.site_packages), where.stdout
    assert "ModuleNotFoundError: No module named 'graph'" in where.stderr


def test_the_explorer_libraries_are_built_into_the_wheel(wheel: Installed) -> None:
    if shutil.which("npm") is None:
        missing("npm is not on the PATH, so the wheel has no explorer libraries: apt-get install npm")
    vendor = wheel.site_packages / "pactgraph" / "api" / "static" / "vendor"
    manifest = json.loads((vendor / "manifest.json").read_text())
    assert manifest == {
        "libraries": {"cytoscape": ["cytoscape.min.js"], "yasgui": ["yasgui.min.js", "yasgui.min.css"]},
        "missing": None,
    }
    assert (vendor / "cytoscape" / "cytoscape.min.js").stat().st_size > 100_000
    assert (vendor / "yasgui" / "yasgui.min.js").stat().st_size > 100_000
    notice = (vendor / "NOTICE.txt").read_text()
    assert "cytoscape 3.34.4: MIT" in notice and "@zazuko/yasgui 4.6.2: MIT" in notice
    assert (vendor / "licences" / "cytoscape-LICENSE").is_file()
    # built, not committed: the repository holds the lock file only
    assert not any("vendor" in p.parts or "node_modules" in p.parts for p in repository_files())
    assert (ROOT / "api" / "static" / "package-lock.json").is_file()


def test_the_build_has_no_setuptools_warnings(wheel: Installed) -> None:
    for warning in (
        "check.warn",
        "BuildBackendWarning",
        "SetuptoolsDeprecationWarning",
        "is absent from the",
    ):
        assert warning not in wheel.build_log, warning


def test_without_npm_the_build_says_so_once_and_the_wheel_says_why(tmp_path: Path) -> None:
    # Only the interpreter's folder on the PATH: no npm there (a venv's bin/, or /usr/bin without one).
    path = str(Path(sys.executable).parent)
    if shutil.which("npm", path=path):
        pytest.skip(f"npm is in {path}, beside the interpreter")
    wheel, log = build_wheel(source_copy(tmp_path / "src"), tmp_path / "dist", path=path)
    assert log.count(NO_NPM) == 1, log[-3000:]
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        manifest = json.loads(z.read("pactgraph/api/static/vendor/manifest.json"))
    assert manifest == {"libraries": {}, "missing": NO_NPM}
    assert not [n for n in names if n.endswith((".min.js", ".min.css"))]
    assert "pactgraph/api/static/explorer/explorer.js" in names
