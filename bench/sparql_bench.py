"""Part 3, SPARQL over HTTP: requests/s and p50/p95 latency of six queries at concurrency 1 and 4,
driven by wrk on 127.0.0.1, against `pactgraph serve`, the raw `oxigraph serve` and
rdflib-endpoint on the same data in the same run. The ratios are the figures.

If pactgraph answers with an ETag (its result cache, on by default), the mix runs with its
defaults and again with the cache turned off (CACHE_OFF_ENV: PACTGRAPH_RESULT_CACHE=0).
"""

from __future__ import annotations

import json
import subprocess
from typing import Any
from urllib.parse import quote

import httpx
from common import (
    Context,
    Profiler,
    Server,
    geomean,
    oxigraph_server,
    pactgraph_server,
    ratio,
    rdflib_endpoint_server,
    table,
)

PREFIXES = (
    "PREFIX pg: <https://pactgraph.org/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
)
ACCEPT = "application/sparql-results+json"
CONCURRENCY = (1, 4)
# The setting (api/settings.py) that turns pactgraph's result cache off: MiB of answers, 0 = off.
CACHE_OFF_ENV = "PACTGRAPH_RESULT_CACHE=0"

LUA = """
wrk.method = "GET"
wrk.path = "{path}"
wrk.headers["Accept"] = "{accept}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
"""


def queries(world: dict[str, Any]) -> dict[str, str]:
    """Six representative queries over hub states of the world (the same text for every server)."""
    states = world["states"]
    a, b = states[3], states[10]
    return {
        "lookup_by_label": PREFIXES + f'SELECT ?s WHERE {{ ?s rdfs:label "{a["label"]}"@en }}',
        "leaders_on_date": PREFIXES
        + f"SELECT ?person ?office ?start ?end WHERE {{ ?office pg:officeOf <{a['iri']}> . "
        "?t pg:office ?office ; pg:holder ?person ; pg:start ?start . OPTIONAL { ?t pg:end ?end } "
        'FILTER(STR(?start) <= "1990-06-01" && (!BOUND(?end) || STR(?end) >= "1990-06-01")) }',
        "agreements_both_signed": PREFIXES
        + f"SELECT ?agreement ?date WHERE {{ ?agreement pg:signatory <{a['iri']}>, <{b['iri']}> ; "
        "pg:signingDate ?date } ORDER BY ?date",
        "sanctions_by_imposer": PREFIXES
        + "SELECT ?imposer (COUNT(?s) AS ?n) WHERE { ?s a pg:Sanction ; pg:imposer ?imposer } "
        "GROUP BY ?imposer ORDER BY DESC(?n) LIMIT 20",
        "bounded_property_path": PREFIXES
        + f"SELECT DISTINCT ?cosignatory WHERE {{ <{a['iri']}> ^pg:signatory/pg:signatory ?cosignatory }}",
        "optional_union": PREFIXES
        + f"SELECT ?relation ?other ?start ?end WHERE {{ {{ ?relation pg:supporter <{a['iri']}> ; "
        f"pg:recipient ?other }} UNION {{ ?relation pg:imposer <{a['iri']}> ; pg:target ?other }} "
        f"UNION {{ ?relation pg:target <{a['iri']}> ; pg:imposer ?other }} "
        "OPTIONAL { ?relation pg:start ?start } OPTIONAL { ?relation pg:end ?end } } LIMIT 500",
    }


def endpoint(kind: str) -> str:
    return {"oxigraph": "/query", "rdflib-endpoint": "/"}.get(kind, "/sparql")


def _probe(server: Server, kind: str, query: str) -> tuple[int | None, int | None, str | None, float | None]:
    """One request before the load: status, row count, ETag, seconds (also warms the server)."""
    url = f"{server.base}{endpoint(kind)}?query={quote(query)}"
    try:
        r = httpx.get(url, headers={"Accept": ACCEPT}, timeout=60)
    except httpx.HTTPError:
        return None, None, None, None
    rows = None
    if r.status_code == 200:
        rows = len(r.json()["results"]["bindings"])
    return r.status_code, rows, r.headers.get("etag"), r.elapsed.total_seconds()


def wrk(
    ctx: Context, server: Server, kind: str, name: str, query: str, connections: int, path: str | None = None
) -> dict[str, Any]:
    exe = ctx.tools["wrk"]
    assert exe
    path = path or f"{endpoint(kind)}?query={quote(query)}"
    script = ctx.work_dir / f"wrk-{kind}-{name}.lua"
    script.write_text(LUA.format(path=path.replace('"', '\\"'), accept=ACCEPT))
    seconds = ctx.scale.wrk_seconds
    cmd = [exe, "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds:g}s"]
    cmd += ["--timeout", "30s", "-s", str(script), server.base]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 90)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        return {"error": (proc.stdout + proc.stderr)[-1000:]}
    raw = json.loads(line.removeprefix("WRKJSON "))
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    ok = raw["requests"] - raw["status"]
    return {
        "requests": raw["requests"],
        "errors": errors,
        "non_2xx": raw["status"],
        "timeouts": raw["timeout"],
        "requests_per_s": ok / (raw["duration_us"] / 1e6) if raw["duration_us"] else None,
        "p50_ms": raw["p50_us"] / 1000 if raw["requests"] else None,
        "p95_ms": raw["p95_us"] / 1000 if raw["requests"] else None,
        "p99_ms": raw["p99_us"] / 1000 if raw["requests"] else None,
    }


def _mix(
    ctx: Context, server: Server, kind: str, label: str, qs: dict[str, str], size: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    tag = label.split()[0]
    profiler = Profiler(ctx, server.pid, f"serve-sparql-{tag}-{size}") if kind == "pactgraph" else None
    for name, query in qs.items():
        status, nrows, etag, first = _probe(server, kind, query)
        for c in CONCURRENCY:
            row: dict[str, Any] = {"size": size, "server": label, "query": name, "concurrency": c}
            row |= {"probe_status": status, "rows": nrows, "etag": etag is not None, "first_request_s": first}
            if status != 200:
                row["error"] = f"probe answered {status}"
            else:
                row |= wrk(ctx, server, kind, name, query, c)
            rows.append(row)
            print(
                f"  sparql {size:>9} {label:26} {name:24} c={c} "
                f"{row.get('requests_per_s') or 0:9.1f} req/s p95 {row.get('p95_ms') or 0:8.1f} ms",
                flush=True,
            )
    if profiler is not None:
        profile = profiler.stop()
        if profile:
            rows[-1]["profile_of_the_mix"] = profile
    return rows


def run_size(ctx: Context, size: int) -> dict[str, Any]:
    w = ctx.world(size)
    qs = queries(w)
    rows: list[dict[str, Any]] = []
    servers: dict[str, dict[str, Any]] = {}
    if not ctx.tools.get("wrk"):
        return {"size": size, "rows": [], "servers": {}, "error": "wrk not found (apt-get install wrk)"}

    pg = pactgraph_server(ctx, size)
    servers["pactgraph"] = _server_info(pg)
    if pg.ready_seconds is not None:
        _status, _rows, etag, _t = _probe(pg, "pactgraph", qs["lookup_by_label"])
        _status, _rows, etag2, _t = _probe(pg, "pactgraph", qs["lookup_by_label"])
        cached = etag is not None or etag2 is not None
        servers["pactgraph"]["result_cache"] = cached
        if cached:
            rows += _mix(ctx, pg, "pactgraph", "pactgraph (defaults)", qs, size)
            servers["pactgraph"]["memory_after"] = pg.memory().as_dict()
            ctx.stop("pactgraph", size)
            key, value = CACHE_OFF_ENV.split("=", 1)
            off = pactgraph_server(ctx, size, env={key: value})
            servers["pactgraph (cache off)"] = _server_info(off)
            if off.ready_seconds is not None:
                _s, _r, etag_off, _t = _probe(off, "pactgraph", qs["lookup_by_label"])
                _s, _r, etag_off2, _t = _probe(off, "pactgraph", qs["lookup_by_label"])
                servers["pactgraph (cache off)"]["result_cache"] = bool(etag_off or etag_off2)
                rows += _mix(ctx, off, "pactgraph", "pactgraph (cache off)", qs, size)
        else:
            rows += _mix(ctx, pg, "pactgraph", "pactgraph (no result cache)", qs, size)
            servers["pactgraph"]["memory_after"] = pg.memory().as_dict()
        # The ceiling of pactgraph's HTTP stack on this machine: a route that does no work.
        current = ctx.servers.get(("pactgraph", size))
        if current is not None and current.ready_seconds is not None:
            servers["pactgraph"]["healthz"] = wrk(
                ctx, current, "pactgraph", "healthz", "", 4, path="/healthz"
            )

    ox = oxigraph_server(ctx, size)
    if ox is None:
        servers["oxigraph"] = {"error": "oxigraph CLI not found (pip install oxigraph)"}
    else:
        servers["oxigraph"] = _server_info(ox)
        if ox.ready_seconds is not None:
            rows += _mix(ctx, ox, "oxigraph", "oxigraph serve", qs, size)
            servers["oxigraph"]["memory_after"] = ox.memory().as_dict()

    rd = rdflib_endpoint_server(ctx, size)
    if rd is None:
        servers["rdflib-endpoint"] = {"error": "rdflib-endpoint not found (see bench/README.md)"}
    else:
        servers["rdflib-endpoint"] = _server_info(rd)
        if rd.ready_seconds is not None:
            rows += _mix(ctx, rd, "rdflib-endpoint", "rdflib-endpoint", qs, size)
            servers["rdflib-endpoint"]["memory_after"] = rd.memory().as_dict()
        ctx.stop("rdflib-endpoint", size)  # 1M triples in rdflib's memory store: gigabytes
    return {"size": size, "queries": qs, "servers": servers, "rows": rows, "figures": figures(rows, size)}


def _server_info(server: Server) -> dict[str, Any]:
    return {
        "ready_seconds": server.ready_seconds,
        "error": server.error,
        "memory_at_ready": server.memory_at_ready.as_dict() if server.memory_at_ready else None,
    }


def _rps(rows: list[dict[str, Any]], server: str, c: int) -> dict[str, float | None]:
    return {
        r["query"]: r.get("requests_per_s") for r in rows if r["server"] == server and r["concurrency"] == c
    }


def figures(rows: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """Geometric means of the per-query ratios of requests/s, pactgraph against each engine."""
    names = sorted({r["server"] for r in rows})
    pactgraph = [n for n in names if n.startswith("pactgraph")]
    out = []
    for c in CONCURRENCY:
        for mine in pactgraph:
            for other in ("oxigraph serve", "rdflib-endpoint"):
                a, b = _rps(rows, mine, c), _rps(rows, other, c)
                per_query = {q: ratio(a.get(q), b.get(q)) for q in a}
                missing = sorted(q for q, v in per_query.items() if not v)
                out.append(
                    {
                        "size": size,
                        "concurrency": c,
                        "pactgraph": mine,
                        "against": other,
                        "geomean_ratio": geomean(per_query.values()),
                        "per_query": per_query,
                        # A query one server completed no request of in the window has no ratio.
                        "queries_in_mean": len(per_query) - len(missing),
                        "left_out": missing,
                    }
                )
    return out


def report(ctx: Context, per_size: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    rows = [r for s in per_size for r in s.get("rows", [])]
    tables = [
        table(
            f"SPARQL over HTTP, wrk {ctx.scale.wrk_seconds:g} s per cell ({ctx.scale.name})",
            ["triples", "server", "query", "c", "req/s", "p50 ms", "p95 ms", "errors", "rows"],
            [
                [
                    r["size"],
                    r["server"],
                    r["query"],
                    r["concurrency"],
                    r.get("requests_per_s"),
                    r.get("p50_ms"),
                    r.get("p95_ms"),
                    r.get("errors", r.get("error")),
                    r.get("rows"),
                ]
                for r in rows
            ],
        ),
        table(
            "SPARQL ratios: pactgraph requests/s over the other server's, geometric mean of the six queries",
            ["triples", "c", "pactgraph", "against", "geomean ×"],
            [
                [f["size"], f["concurrency"], f["pactgraph"], f["against"], f["geomean_ratio"]]
                for s in per_size
                for f in s.get("figures", [])
            ],
        ),
    ]
    ceiling = [
        [s["size"], (s["servers"].get("pactgraph", {}).get("healthz") or {}).get("requests_per_s")]
        for s in per_size
        if s.get("servers")
    ]
    tables.append(
        table(
            "pactgraph GET /healthz (no work), c=4: its HTTP stack's ceiling", ["triples", "req/s"], ceiling
        )
    )
    return {"sizes": per_size}, tables


if __name__ == "__main__":
    from run import main_for

    main_for(["sparql"], __doc__ or "")
