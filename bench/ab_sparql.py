"""A/B: the sparql part's six queries against two versions of pactgraph served side by side.

On a shared machine the load moves within minutes, so two runs of `run.py --parts sparql` made
one after the other compare the load as much as the code. Here both versions (two checkouts,
e.g. `git worktree` or `git archive` copies) serve the same world at the same time, each from
its own copy of the store prepared by its own `bench/child.py`, and wrk's cells alternate
between them (A B, then B A, …) for every query and concurrency: drift hits both alike. The
figure is B's requests/s over A's, the median of the rounds per query, and their geometric mean.

    python bench/ab_sparql.py --a /tmp/before --b /tmp/after --triples 100000 [--rounds 5] [--seconds 2]
        [--env PACTGRAPH_RESULT_CACHE=0] [--out ab.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from sparql_bench import ACCEPT, LUA, queries

HERE = Path(__file__).resolve().parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(code: Path, nt: Path, work: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Prepare a store with this checkout's own child.py and serve it with this checkout."""
    store = work / "store"
    penv = {**os.environ, "PYTHONPATH": str(code), **env}
    subprocess.run(
        [
            sys.executable,
            str(code / "bench" / "child.py"),
            "prepare-store",
            "--file",
            str(nt),
            "--store",
            str(store),
        ],
        check=True,
        env=penv,
        capture_output=True,
    )
    port = _port()
    exe = str(Path(sys.executable).parent / "pactgraph")
    log = (work / "serve.log").open("wb")
    proc = subprocess.Popen(
        [exe, "serve", "--store", f"oxigraph:{store}", "--port", str(port)], env=penv, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    proc.kill()
    raise SystemExit(f"{code}: serve was not ready (see {work / 'serve.log'})")


def _wrk(url: str, query: str, c: int, seconds: float, work: Path) -> float:
    script = work / "wrk.lua"
    path = "/sparql?query=" + quote(query)
    script.write_text(LUA.format(path=path.replace('"', '\\"'), accept=ACCEPT))
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(min(c, 2)),
            "-c",
            str(c),
            "-d",
            f"{seconds:g}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    data = json.loads(line[len("WRKJSON ") :])
    if data["status"] or data["timeout"]:
        raise SystemExit(f"wrk saw errors against {url}: {data}")
    return float(data["requests"]) / (data["duration_us"] / 1e6)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", type=Path, required=True, help="checkout A (the baseline)")
    ap.add_argument("--b", type=Path, required=True, help="checkout B")
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for both servers")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    data = HERE / "results" / "data"
    nt = data / f"world-{args.triples}.nt"
    world = json.loads((data / f"world-{args.triples}.json").read_text())
    env = dict(e.split("=", 1) for e in args.env)
    with tempfile.TemporaryDirectory(dir=HERE / "results") as tmp:
        servers = {}
        for name, code in (("A", args.a), ("B", args.b)):
            work = Path(tmp) / name
            work.mkdir()
            servers[name] = (*_serve(code.resolve(), nt, work, env), work)
        try:
            rows = []
            for qname, query in queries(world).items():
                counts = {
                    name: len(
                        httpx.get(
                            url + "/sparql", params={"query": query}, headers={"Accept": ACCEPT}, timeout=120
                        ).json()["results"]["bindings"]
                    )
                    for name, (_p, url, _w) in servers.items()
                }
                assert counts["A"] == counts["B"], (qname, counts)
                for c in (1, 4):
                    rates: dict[str, list[float]] = {"A": [], "B": []}
                    for r in range(args.rounds):
                        for name in ("A", "B") if r % 2 == 0 else ("B", "A"):
                            _p, url, work = servers[name]
                            rates[name].append(_wrk(url, query, c, args.seconds, work))
                    a, b = statistics.median(rates["A"]), statistics.median(rates["B"])
                    rows.append(
                        {
                            "query": qname,
                            "c": c,
                            "a_rps": round(a, 1),
                            "b_rps": round(b, 1),
                            "b_over_a": round(b / a, 3),
                        }
                    )
                    print(f"{qname:24s} c={c}  A {a:9.1f}  B {b:9.1f}  B/A {b / a:.3f}", flush=True)
        finally:
            for proc, _url, _work in servers.values():
                proc.terminate()
                proc.wait(30)
    summary = {
        f"c={c}": round(math.exp(statistics.fmean(math.log(r["b_over_a"]) for r in rows if r["c"] == c)), 3)
        for c in (1, 4)
    }
    result = {
        "triples": args.triples,
        "env": env,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "rows": rows,
        "geomean_b_over_a": summary,
        "load": os.getloadavg(),
    }
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
