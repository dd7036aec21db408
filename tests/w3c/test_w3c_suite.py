"""The W3C SPARQL 1.1 query test suite (../shared/w3c-sparql11, 15 categories, 338 tests) through
`pactgraph serve` on a fresh `oxigraph:` store and through the raw `oxigraph serve`, in the same
run, with the shared runner (../shared/tools/w3c_sparql.py): pactgraph must pass every test the
raw engine passes (issue 13). Both run the runner's default, strict comparison."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import missing

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SUITE = Path(os.environ.get("W3C_SPARQL11_TESTS", SHARED / "w3c-sparql11"))
RUNNER = Path(os.environ.get("W3C_SPARQL_RUNNER", SHARED / "tools" / "w3c_sparql.py"))
TOKEN = "w3c-suite-token"


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], within: float = 180) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server at {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not answer within {within:g} s")


def _serve(
    cmd: list[str], ready: str, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        _wait(ready, proc)
    except BaseException:
        proc.kill()
        proc.wait(10)
        raise
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _start_suite(out: Path, query: str, gsp: str, update: str, token: str | None) -> subprocess.Popen[bytes]:
    """The runner over one server, in the background: its report goes to `out`, what it prints
    to a file beside it (not a pipe, which nobody reads while both runners run)."""
    cmd = [sys.executable, str(RUNNER), "--query-url", query, "--gsp-url", gsp, "--update-url", update]
    cmd += ["--tests-dir", str(SUITE), "--json-out", str(out), "--time-budget", "3000", "--timeout", "60"]
    if token:
        cmd += ["--token", token]
    with out.with_name(out.stem + "-runner.log").open("wb") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def _finish_suite(proc: subprocess.Popen[bytes], out: Path) -> dict[str, str]:
    """Every test's status (passed, failed, skipped) by its id, as the runner reports it."""
    proc.wait(timeout=3600)
    printed = out.with_name(out.stem + "-runner.log").read_text()
    report = json.loads(out.read_text())
    assert "results" in report, f"the runner did not run: {report.get('error')} {printed[-2000:]}"
    print(printed)
    return {r["id"]: r["status"] for r in report["results"]}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    if not (SUITE / "manifest-all.ttl").exists() or not RUNNER.exists():
        missing(f"the W3C SPARQL 1.1 suite or its runner is missing ({SUITE}, {RUNNER})")
    oxigraph = shutil.which("oxigraph")
    if oxigraph is None:
        pytest.fail(
            "the `oxigraph` server is missing: pip install 'oxigraph>=0.5.13,<0.6' (in the test extra)"
        )
    tmp = tmp_path_factory.mktemp("w3c")
    pactgraph = str(Path(sys.executable).parent / "pactgraph")
    # Both servers at once, each with its own runner: each server has its own store and port, and
    # the runner waits on one request at a time, so the two runs overlap instead of adding up.
    ours_port, raw_port = _port(), _port()
    served = _serve(
        [pactgraph, "serve", "--store", f"oxigraph:{tmp / 'pactgraph-store'}", "--port", str(ours_port)],
        f"http://127.0.0.1:{ours_port}/readyz",
        tmp / "pactgraph.log",
        {"PACTGRAPH_TOKEN": TOKEN},
    )
    try:
        raw = _serve(
            [oxigraph, "serve", "--location", str(tmp / "raw-store"), "--bind", f"127.0.0.1:{raw_port}"],
            f"http://127.0.0.1:{raw_port}/query?query=ASK%7B%7D",
            tmp / "oxigraph.log",
        )
        runs: list[subprocess.Popen[bytes]] = []
        try:
            base = f"http://127.0.0.1:{ours_port}"
            runs.append(
                _start_suite(
                    tmp / "pactgraph.json", base + "/sparql", base + "/store", base + "/update", TOKEN
                )
            )
            base = f"http://127.0.0.1:{raw_port}"
            runs.append(
                _start_suite(tmp / "oxigraph.json", base + "/query", base + "/store", base + "/update", None)
            )
            ours = _finish_suite(runs[0], tmp / "pactgraph.json")
            engine = _finish_suite(runs[1], tmp / "oxigraph.json")
        finally:
            for run in runs:
                if run.poll() is None:
                    run.kill()
                    run.wait(10)
            _stop(raw)
    finally:
        _stop(served)
    yield ours, engine


def test_pactgraph_passes_every_test_the_raw_engine_passes(
    results: tuple[dict[str, str], dict[str, str]],
) -> None:
    ours, engine = results
    assert set(ours) == set(engine) and len(ours) == 338
    lost = sorted(t for t, status in engine.items() if status == "passed" and ours[t] != "passed")
    assert lost == [], f"pactgraph fails {len(lost)} test(s) the raw Oxigraph server passes: {lost}"
    passed = sum(s == "passed" for s in ours.values())
    assert passed >= sum(s == "passed" for s in engine.values())
    assert passed >= 300  # what the raw engine passes on this suite (308 measured), give or take a version
