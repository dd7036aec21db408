"""Smoke test of the benchmark suite (bench/): the small scale runs end to end and writes well-formed
JSON, and the synthetic world passes the SHACL shapes. Never a timing assertion: the figures belong
in bench/README.md, not in pass or fail.

In CI (the CI variable set) the comparison tools are required: a missing `wrk`, `oxigraph` CLI or
rdflib-endpoint fails the test instead of being recorded as "not available".
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import missing

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
PARTS = ("world", "ingest", "sparql", "export", "paths", "startup")
STATUSES = {"ok", "timeout", "skipped"}


def _load(path: Path) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"{path.name}: {name} is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


def _tools() -> dict[str, str | None]:
    sys.path.insert(0, str(BENCH))
    try:
        from common import find_tools

        tools: dict[str, str | None] = find_tools()
        return tools
    finally:
        sys.path.remove(str(BENCH))


def _numbers_are_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_numbers_are_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_numbers_are_finite(v) for v in value)
    return True


def test_the_comparison_tools_are_installed_in_ci() -> None:
    tools = _tools()
    missing = [t for t in ("wrk", "oxigraph", "rdflib-endpoint") if not tools.get(t)]
    if os.environ.get("CI"):
        assert not missing, (
            f"missing in CI: {missing}; apt-get install wrk, pip install oxigraph (test extra), "
            "and rdflib-endpoint into bench/.venv (see bench/README.md)"
        )


def test_the_world_is_deterministic_and_passes_the_shapes(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import world
    finally:
        sys.path.remove(str(BENCH))
    one = world.write(1500, tmp_path / "a", seed=7, name="w", states=12)
    two = world.write(1500, tmp_path / "b", seed=7, name="w", states=12)
    for fmt in ("nt", "ttl"):
        assert Path(one["files"][fmt]).read_bytes() == Path(two["files"][fmt]).read_bytes()
    assert one["triples"] > 1000
    for kind in ("State", "Tenure", "BilateralAgreement", "MultilateralAgreement", "Membership", "Sanction"):
        assert one["counts"].get(kind, 0) > 0, kind
    for fmt in ("nt", "ttl"):
        proc = subprocess.run(
            [sys.executable, "-m", "pactgraph.api.cli", "validate", one["files"][fmt]],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "conforms" in proc.stdout


def test_the_small_suite_runs_and_writes_well_formed_json(tmp_path: Path) -> None:
    if not _tools().get("wrk"):
        missing("wrk is missing: apt-get install wrk (.ci/run does)")
    proc = subprocess.run(
        # wrk cells of 1 s, not the small scale's 2: this test checks that every cell runs under load
        # and every request is answered, not the figures (48 cells: ~50 s less)
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--scale",
            "small",
            "--wrk-seconds",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    in_ci = bool(os.environ.get("CI"))

    docs = {}
    for part in PARTS:
        doc = _load(tmp_path / f"{part}.json")
        assert doc["part"] == part and doc["scale"] == "small"
        assert isinstance(doc["results"], dict) and doc["results"]["sizes"], part
        assert all(isinstance(t, str) and t for t in doc["tables"])
        assert doc["machine"]["nproc"] >= 1 and doc["machine"]["date"]
        assert _numbers_are_finite(doc)
        for entry in doc["results"]["sizes"]:
            assert not entry.get("error") or part == "sparql", f"{part}: {entry['error']}"
        docs[part] = doc["results"]["sizes"]

    for row in docs["ingest"][0]["rows"]:
        assert row["status"] in STATUSES, row
        assert row["mode"] in {"bulk_load", "pactgraph", "pactgraph+shacl"}
    assert {(r["format"], r["mode"]) for r in docs["ingest"][0]["rows"]} == {
        (f, m) for f in ("nt", "ttl") for m in ("bulk_load", "pactgraph", "pactgraph+shacl")
    }

    sparql = docs["sparql"][0]
    servers = {r["server"] for r in sparql["rows"]}
    assert any(s.startswith("pactgraph") for s in servers), sparql.get("servers")
    if in_ci:
        assert {"oxigraph serve", "rdflib-endpoint"} <= servers
    for server in servers:
        cells = [r for r in sparql["rows"] if r["server"] == server]
        assert len(cells) == 12, server  # six queries at concurrency 1 and 4
        for r in cells:
            assert r["probe_status"] == 200, r
            # Every request under load answered, and a rate from them: a server that fails under
            # load has no figure to compare.
            assert r["requests"] > 0 and r["errors"] == 0, r
            assert r["requests_per_s"] > 0, r
    # The servers answer the same question: each query's probe has as many rows on every server
    # (bench/README: the comparison is of like with like).
    for query in sparql["queries"]:
        rows = {r["server"]: r["rows"] for r in sparql["rows"] if r["query"] == query}
        assert len(rows) == len(servers) and len(set(rows.values())) == 1, (query, rows)

    assert docs["export"][0]["rows"] and {r["format"] for r in docs["export"][0]["rows"]} == {
        "graphml",
        "gexf",
    }
    paths = docs["paths"][0]
    assert "build_seconds" in paths["projection"] or paths["projection"].get("error") == "timeout"
    assert {r["kind"] for r in paths["rows"]} >= {
        "shortest_2_sources",
        "shortest_2_sources_as_of",
        "explained_10_paths_4_hops",
    }
    if in_ci:
        assert "ask_reachable_4_hops_x2" in {r["kind"] for r in paths["rows"]}
    assert docs["startup"][0]["ready_seconds"] is not None, docs["startup"][0]

    summary = _load(tmp_path / "summary.json")
    assert summary["scale"] == "small" and not summary["failures"]
    assert summary["figures"] and _numbers_are_finite(summary)
    for figure in summary["figures"]:
        assert set(figure) == {"figure", "size", "value", "target", "met", "note"}
        assert figure["met"] in (True, False, None)
