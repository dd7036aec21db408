"""Part 4, paths: projection build time and memory (in a child, as `serve` builds it before it is
ready), then p50/p95 of `/paths` over HTTP between random pairs of states — shortest path from
2 sources, with and without `as_of`, and up to 10 explained paths of at most 4 hops — and, as
the baseline in the same run, the same reachability as one bounded SPARQL property-path query
on the raw Oxigraph server.

Requests go one at a time; a kind of query stops when its time budget is spent.
"""

from __future__ import annotations

import random
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from common import (
    CHILD,
    PYTHON,
    SEED,
    Context,
    Profiler,
    Server,
    oxigraph_server,
    pactgraph_server,
    percentile,
    prepared_store,
    projection_store,
    py_spy_wrap,
    run_child,
    summarize_profile,
    table,
)

# The pg: object properties between entities in the world (what the projection walks).
RELATIONS = [
    "signatory",
    "signedBy",
    "member",
    "organisation",
    "imposer",
    "target",
    "supporter",
    "recipient",
    "item",
    "manufacturer",
    "usedIn",
    "reason",
    "participant",
    "conflict",
    "holder",
    "office",
    "officeOf",
    "location",
    "basedIn",
]
STEP = "(" + "|".join(f"pg:{p}|^pg:{p}" for p in RELATIONS) + ")"


def reach_query(source: str, target: str) -> str:
    """Is the target within 4 hops of the source over the same relations? One ASK per source: a
    SELECT over both sources (VALUES) or with DISTINCT makes Oxigraph enumerate every walk, and
    ran for over 10 minutes at 1M triples; ASK stops at the first."""
    walk = "/".join([STEP + "?"] * 4)
    return f"PREFIX pg: <https://pactgraph.org/ontology#> ASK {{ <{source}> {walk} <{target}> }}"


# In order of importance (the first two have targets): see `run_size` on requests past the time limit.
KINDS = {
    "shortest_2_sources_as_of": {"max_hops": 4, "limit": 1, "sources": 2, "as_of": True},
    "explained_10_paths_4_hops": {"max_hops": 4, "limit": 10, "sources": 1, "as_of": False},
    "shortest_2_sources": {"max_hops": 4, "limit": 1, "sources": 2, "as_of": False},
}


def pairs(world: dict[str, Any], n: int, size: int) -> list[dict[str, Any]]:
    """Random (source, source, target, date) picks, the same for every server and kind."""
    rng = random.Random(SEED + size)
    states = [s["iri"] for s in world["states"]]
    out = []
    for _ in range(n):
        a, b, t = rng.sample(states, 3)
        out.append(
            {
                "sources": [a, b],
                "target": t,
                "as_of": f"{rng.randint(1960, 2024)}-{rng.randint(1, 12):02d}-15",
            }
        )
    return out


def _latencies(samples: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [s["seconds"] * 1000 for s in samples if s["status"] == 200]
    every = [s["seconds"] * 1000 for s in samples]
    statuses: dict[str, int] = {}
    for s in samples:
        statuses[str(s["status"])] = statuses.get(str(s["status"]), 0) + 1
    return {
        "requests": len(samples),
        "ok": len(ok),
        "statuses": statuses,
        # Failed requests (timeouts) count at the time they took: then the figure is a lower bound.
        "p50_ms": percentile(every, 50),
        "p95_ms": percentile(every, 95),
        "p50_ok_ms": percentile(ok, 50),
        "p95_ok_ms": percentile(ok, 95),
        "lower_bound": len(ok) < len(samples),
    }


def _pactgraph_kind(
    ctx: Context, server: Server, kind: str, spec: dict[str, Any], picks: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[bool | None]]:
    samples: list[dict[str, Any]] = []
    found: list[bool | None] = []
    budget_end = time.perf_counter() + ctx.scale.path_budget
    with httpx.Client(timeout=ctx.scale.request_timeout) as client:
        for pick in picks:
            if time.perf_counter() > budget_end:
                break
            params: list[tuple[str, str | int]] = [("from", s) for s in pick["sources"][: spec["sources"]]]
            params += [("to", pick["target"]), ("max_hops", spec["max_hops"]), ("limit", spec["limit"])]
            if spec["as_of"]:
                params.append(("as_of", pick["as_of"]))
            url = f"{server.base}/paths?{urlencode(params)}"
            started = time.perf_counter()
            try:
                r = client.get(url)
                status: int | str = r.status_code
            except httpx.TimeoutException:
                status, r = "client-timeout", None
            seconds = time.perf_counter() - started
            paths = None
            if r is not None and r.status_code == 200:
                body = r.json()
                paths = sum(len(g["paths"]) for g in body["paths"])
                found.append(any(g["paths"] for g in body["paths"]))
            else:
                found.append(None)
            samples.append({"status": status, "seconds": seconds, "paths": paths})
            if status != 200:
                break  # a query past the server's time limit keeps its thread busy: do not pile up more
    out = _latencies(samples) | {"kind": kind, "server": "pactgraph", **spec}
    out["paths_returned"] = [s["paths"] for s in samples]
    return out, found


def _baseline(
    ctx: Context, server: Server, picks: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[bool | None]]:
    """Per pick, one bounded ASK per source (both sources, like the 2-source /paths request)."""
    samples: list[dict[str, Any]] = []
    found: list[bool | None] = []
    budget_end = time.perf_counter() + ctx.scale.path_budget
    with httpx.Client(timeout=ctx.scale.request_timeout) as client:
        for pick in picks:
            if time.perf_counter() > budget_end:
                break
            started = time.perf_counter()
            status: int | str = 200
            answers: list[bool] = []
            for source in pick["sources"]:
                query = reach_query(source, pick["target"])
                try:
                    r = client.get(
                        f"{server.base}/query",
                        params={"query": query},
                        headers={"Accept": "application/sparql-results+json"},
                    )
                except httpx.TimeoutException:
                    status = "client-timeout"
                    break
                if r.status_code != 200:
                    status = r.status_code
                    break
                answers.append(bool(r.json()["boolean"]))
            seconds = time.perf_counter() - started
            found.append(any(answers) if status == 200 else None)
            samples.append({"status": status, "seconds": seconds, "reached": answers})
            if status != 200:
                break
    out = _latencies(samples) | {
        "kind": "ask_reachable_4_hops_x2",
        "server": "oxigraph serve",
        "query": reach_query("A", "T"),
    }
    return out, found


def _not_run(size: int, kind: str, spec: dict[str, Any], note: str) -> dict[str, Any]:
    empty = _latencies([]) | {"kind": kind, "server": "pactgraph", **spec}
    return empty | {"size": size, "note": note, "paths_returned": []}


def _progress(size: int, who: str, row: dict[str, Any]) -> None:
    print(
        f"  paths  {size:>9} {who} {row['kind']:28} n={row['requests']:3} "
        f"p50 {row['p50_ms'] or 0:9.1f} ms p95 {row['p95_ms'] or 0:9.1f} ms",
        flush=True,
    )


def run_size(ctx: Context, size: int) -> dict[str, Any]:
    result: dict[str, Any] = {"size": size}
    _path, _info = prepared_store(ctx, size)
    cmd, profile = py_spy_wrap(
        ctx,
        [PYTHON, str(CHILD), "projection", "--store", str(projection_store(ctx, size))],
        f"projection-{size}",
    )
    res = run_child(cmd, ctx.cap(ctx.scale.projection_cap))
    if res.returncode == 0:
        result["projection"] = res.json() | {"child_peak_rss_mib": res.max_rss_mib}
    else:
        result["projection"] = {"error": "timeout" if res.timed_out else res.stderr[-1500:]}
    result["projection"]["profile"] = summarize_profile(profile)
    ctx.notes.setdefault("projection", {})[size] = result["projection"]
    proj = result["projection"]
    if "build_seconds" in proj:
        print(f"  paths  {size:>9} projection built in {proj['build_seconds']:.2f} s", flush=True)

    picks = pairs(ctx.world(size), ctx.scale.path_pairs, size)
    result["pairs"] = picks
    rows: list[dict[str, Any]] = []
    # The baseline first: a /paths query past the server's time limit keeps computing in its thread.
    reach: list[bool | None] = []
    ox = oxigraph_server(ctx, size)
    if ox is not None and ox.ready_seconds is not None:
        row, reach = _baseline(ctx, ox, picks)
        row["size"] = size
        rows.append(row)
        _progress(size, "oxigraph ", row)
    else:
        result["baseline_error"] = "oxigraph server not available"
    server = pactgraph_server(ctx, size)
    if server.ready_seconds is None:
        result["error"] = f"pactgraph serve not ready: {server.error}"
    else:
        profiler = Profiler(ctx, server.pid, f"serve-paths-{size}")
        failed: str | None = None
        for kind, spec in KINDS.items():
            if failed:
                # A request past the server's time limit goes on computing in its thread (it cannot
                # be cancelled) and would slow every later request: the rest are not measured.
                rows.append(_not_run(size, kind, spec, f"not run: {failed} passed the server's time limit"))
                continue
            row, found = _pactgraph_kind(ctx, server, kind, spec, picks)
            if row["ok"] < row["requests"]:
                failed = kind
            row["size"] = size
            rows.append(row)
            _progress(size, "pactgraph", row)
            if kind == "shortest_2_sources":
                both = [(a, b) for a, b in zip(found, reach, strict=False) if a is not None and b is not None]
                result["reachability_agreement"] = {
                    "compared": len(both),
                    "agree": sum(a == b for a, b in both),
                }
        result["profile"] = profiler.stop()
        result["server_memory_after"] = server.memory().as_dict()
    result["rows"] = rows
    return result


def report(ctx: Context, per_size: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    tables = [
        table(
            f"Projection build ({ctx.scale.name})",
            ["triples", "build s", "name index s", "nodes", "edges", "projection MiB", "child peak MiB"],
            [
                [
                    s["size"],
                    s["projection"].get("build_seconds"),
                    s["projection"].get("names_seconds"),
                    s["projection"].get("nodes"),
                    s["projection"].get("edges"),
                    s["projection"].get("projection_mib"),
                    s["projection"].get("child_peak_rss_mib"),
                ]
                for s in per_size
                if "projection" in s
            ],
        ),
        table(
            "Path queries over HTTP, one at a time (p50/p95 include failed requests at their elapsed time)",
            ["triples", "server", "query", "requests", "ok", "p50 ms", "p95 ms", "bound?", "note"],
            [
                [
                    r["size"],
                    r["server"],
                    r["kind"],
                    r["requests"],
                    r["ok"],
                    r["p50_ms"],
                    r["p95_ms"],
                    "≥" if r["lower_bound"] else "",
                    r.get("note", ""),
                ]
                for s in per_size
                for r in s.get("rows", [])
            ],
        ),
    ]
    return {"sizes": per_size}, tables


if __name__ == "__main__":
    from run import main_for

    main_for(["paths"], __doc__ or "")
