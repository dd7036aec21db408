"""Part 7, fresh answers right after a write (issue 17): `pactgraph serve` with writes on, over a
copy of the prepared store (and the snapshot the start-up part left), takes 20 writes of 1,000
triples (PUT /store of a graph: a new alliance, its source and ~165 dated memberships of states,
validated as every write is) and, right after each answer, asks /paths, /entities and /search
for what the write added until each shows it: the seconds from the write's answer to the new
fact in each (target: p95 ≤ 1 s at 1M). Meanwhile a reader asks /entities and /paths about a hub
state without pause: its latencies during the writes against before them (readers must never
wait more than 1 s). Then the server is stopped and launched again: ready in how long, from the
snapshot it wrote after the writes (the same target as an unchanged store: ≤ 5 s).

The baseline of the old behaviour is the projection and name index built from scratch, as
every write cost before (the paths part's build figure, same run).

    python bench/fresh_bench.py --scale full --sizes 1000000
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from common import PYTHON, Context, Server, free_port, percentile, prepared_store, table
from world import ID, PG

from pactgraph.ontology import GRAPH_BASE

WRITES = 20
ROUTES = ("paths", "entities", "search")
WRITE_TRIPLES = 1000
TOKEN = "bench-fresh-token"
POLL = 0.01  # seconds between reads while a write is not visible yet
GIVE_UP = 60.0  # seconds after which a write counts as never visible
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT = "http://purl.org/dc/terms/"


def write_body(k: int, states: list[str], tag: str = "bench-write", triples: int = WRITE_TRIPLES) -> bytes:
    """About `triples` N-Triples: an alliance, its source and dated memberships of `states`."""
    org, src = f"{ID}org/{tag}-{k}", f"{ID}source/{tag}-{k}"
    lines = [
        f"<{org}> <{RDF_TYPE}> <{PG}Alliance> .",
        f'<{org}> <{LABEL}> "Fresh Write Alliance {tag} {k}"@en .',
        f"<{src}> <{RDF_TYPE}> <{PG}Source> .",
        f'<{src}> <{LABEL}> "{tag} {k}"@en .',
        f'<{src}> <{DCT}title> "{tag} {k}" .',
        f'<{src}> <{DCT}publisher> "pactgraph bench" .',
        f'<{src}> <{DCT}date> "2026-01-01"^^<{XSD}date> .',
    ]
    i = 0
    while len(lines) + 6 <= triples:
        m = f"{ID}membership/{tag}-{k}-{i}"
        lines += [
            f"<{m}> <{RDF_TYPE}> <{PG}Membership> .",
            f"<{m}> <{PG}member> <{states[(k * 7 + i) % len(states)]}> .",
            f"<{m}> <{PG}organisation> <{org}> .",
            f'<{m}> <{PG}start> "{1950 + i % 70}-{1 + i % 12:02d}-{1 + i % 28:02d}"^^<{XSD}date> .',
            f"<{m}> <{PG}status> <{PG}Confirmed> .",
            f"<{m}> <{PG}source> <{src}> .",
        ]
        i += 1
    return "\n".join(lines).encode()


class Reader(threading.Thread):
    """Asks the server about a hub state without pause; each latency with the time it started."""

    def __init__(self, base: str, hub: str, other: str) -> None:
        super().__init__(daemon=True)
        self.base, self.hub, self.other = base, hub, other
        self.samples: list[tuple[float, float, str]] = []  # (started, seconds, route)
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while not self.stopping.is_set():
                for route, params in (
                    (f"/entities/{self.hub}", None),
                    ("/paths", {"from": self.hub, "to": self.other, "max_hops": 3, "limit": 1}),
                ):
                    t0 = time.perf_counter()
                    client.get(route, params=params)
                    self.samples.append((t0, time.perf_counter() - t0, route.split("/")[1]))

    def between(self, start: float, end: float) -> list[float]:
        return [s for t0, s, _ in self.samples if start <= t0 <= end]


def _visible(client: httpx.Client, route: str, org: str, label: str, state: str) -> bool:
    local = org.removeprefix(ID)
    if route == "search":
        r = client.get("/search", params={"q": label, "limit": 5})
        return r.status_code == 200 and any(h["id"] == org for h in r.json().get("hits", []))
    if route == "entities":
        r = client.get(f"/entities/{local}")
        return r.status_code == 200 and r.json().get("label") == label
    r = client.get("/paths", params={"from": local, "to": state, "max_hops": 2, "limit": 1})
    return r.status_code == 200 and bool(r.json().get("paths"))


def _watch(base: str, org: str, label: str, member: str, answered: float, route: str) -> float:
    """Seconds from a write's answer until `route` shows it (asked over and over)."""
    with httpx.Client(base_url=base, timeout=600) as client:
        while not _visible(client, route, org, label, member):
            if time.perf_counter() - answered > GIVE_UP:
                break
            time.sleep(POLL)
    return time.perf_counter() - answered


def freshness(base: str, states: list[str], tag: str = "bench-write", writes: int = WRITES) -> dict[str, Any]:
    """`writes` writes of ~1,000 triples through PUT /store; per write, the answer time and the
    seconds from its answer until /paths, /entities and /search each show the new alliance."""
    rows: list[dict[str, Any]] = []
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/n-triples"}
    with httpx.Client(base_url=base, timeout=600) as client:
        for k in range(writes):
            body = write_body(k, states, tag)
            org, label = f"{ID}org/{tag}-{k}", f"Fresh Write Alliance {tag} {k}"
            member = states[(k * 7) % len(states)].removeprefix(ID)
            t0 = time.perf_counter()
            r = client.put("/store", params={"graph": f"{GRAPH_BASE}{tag}-{k}"}, content=body, headers=auth)
            answered = time.perf_counter()
            row: dict[str, Any] = {
                "write": k,
                "status": r.status_code,
                "triples": body.count(b"\n") + 1,
                "answer_seconds": answered - t0,
            }
            if r.status_code >= 300:
                row["error"] = r.text[:500]
                rows.append(row)
                continue

            # The three routes asked at once, each on its own connection, as three readers would.
            watch = partial(_watch, base, org, label, member, answered)
            with ThreadPoolExecutor(3) as pool:
                seen = dict(zip(ROUTES, pool.map(watch, ROUTES), strict=True))
            for route in ROUTES:
                row[f"{route}_visible_after"] = seen[route]
            row["visible_after"] = max(seen.values())
            rows.append(row)
    ok = [r for r in rows if "visible_after" in r]
    return {
        "writes": rows,
        "failed": len(rows) - len(ok),
        "visible_p95_s": percentile([r["visible_after"] for r in ok], 95),
        "visible_max_s": max((r["visible_after"] for r in ok), default=None),
        "answer_p50_s": percentile([r["answer_seconds"] for r in ok], 50),
        "answer_p95_s": percentile([r["answer_seconds"] for r in ok], 95),
        "per_route_p95_s": {
            route: percentile([r[f"{route}_visible_after"] for r in ok], 95) for route in ROUTES
        },
    }


def launch(ctx: Context, path: Path, size: int, name: str) -> Server:
    port = free_port()
    exe = str(Path(PYTHON).parent / "pactgraph")
    server = Server(
        "pactgraph-writes",
        [exe, "serve", "--store", f"oxigraph:{path}", "--host", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}",
        "/readyz",
        ctx.out / "logs" / f"{name}-{size}.log",
        env={"PACTGRAPH_TOKEN": TOKEN},
    )
    server.wait_ready(ctx.cap(ctx.scale.ready_cap))
    return server


def copy_store(ctx: Context, size: int, name: str) -> Path:
    """A copy of the prepared store, with the snapshot beside it if the start-up part left one."""
    source, _info = prepared_store(ctx, size)
    source = source.resolve()
    target = (ctx.work_dir / f"{name}-{size}").resolve()
    for src, dst in ((source, target), (source.with_name(source.name + ".pactgraph"), None)):
        dst = dst or target.with_name(target.name + ".pactgraph")
        shutil.rmtree(dst, ignore_errors=True)
        if src.exists():
            shutil.copytree(src, dst)
    return target


def snapshot_current(path: Path) -> bool:
    """Whether the snapshot beside the store was made at the store's current generation (the
    store's RocksDB identity and its generation token, as graph/store.py reads them)."""
    meta = path.with_name(path.name + ".pactgraph")
    try:
        header = json.loads((meta / "snapshot").open("rb").readline())
        generation = f"{(path / 'IDENTITY').read_text().strip()}:{(meta / 'generation').read_text().strip()}"
    except (OSError, ValueError):
        return False
    return bool(header.get("generation") == generation)


def reader_summary(
    reader: Reader, before: tuple[float, float], during: tuple[float, float]
) -> dict[str, Any]:
    quiet, busy = reader.between(*before), reader.between(*during)
    return {
        "before": {
            "requests": len(quiet),
            "p50_s": percentile(quiet, 50),
            "p95_s": percentile(quiet, 95),
            "max_s": max(quiet, default=None),
        },
        "during": {
            "requests": len(busy),
            "p50_s": percentile(busy, 50),
            "p95_s": percentile(busy, 95),
            "max_s": max(busy, default=None),
        },
    }


def run_size(ctx: Context, size: int) -> dict[str, Any]:
    world = ctx.world(size)
    states = [s["iri"] for s in world["states"]]
    path = copy_store(ctx, size, "fresh-store")
    out: dict[str, Any] = {"size": size}
    server = launch(ctx, path, size, "fresh")
    out["ready_seconds"] = server.ready_seconds
    if server.error:
        server.stop()
        return {**out, "error": server.error}
    try:
        hub, other = states[0].removeprefix(ID), states[len(states) // 2].removeprefix(ID)
        reader = Reader(server.base, hub, other)
        reader.start()
        time.sleep(3.0)  # the reader alone, before any write
        writes_began = time.perf_counter()
        out.update(freshness(server.base, states))
        writes_ended = time.perf_counter()
        time.sleep(1.0)
        reader.stopping.set()
        reader.join(120)
        out["reader"] = reader_summary(
            reader, (writes_began - 3.0, writes_began), (writes_began, writes_ended)
        )
        out["memory_after_writes"] = server.memory().as_dict()
    finally:
        server.stop()  # SIGTERM: serve saves what the writes left unsaved before it exits
    out["restart_loaded_snapshot"] = snapshot_current(path)  # what the relaunch will load
    again = launch(ctx, path, size, "fresh-restart")
    out["restart_ready_seconds"] = again.ready_seconds
    out["restart_error"] = again.error
    again.stop()
    shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(path.with_name(path.name + ".pactgraph"), ignore_errors=True)
    print(
        f"  fresh  {size:>9} writes of {WRITE_TRIPLES} triples visible after p95 "
        f"{out.get('visible_p95_s') or 0:.3f} s (answer p95 {out.get('answer_p95_s') or 0:.3f} s); "
        f"reader max {out['reader']['during']['max_s'] or 0:.3f} s during writes; "
        f"restart ready in {out['restart_ready_seconds'] or 0:.2f} s "
        f"({'snapshot' if out['restart_loaded_snapshot'] else 'built'})",
        flush=True,
    )
    return out


def report(ctx: Context, per_size: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    text = table(
        f"Fresh answers after writes of {WRITE_TRIPLES} triples ({ctx.scale.name})",
        [
            "triples",
            "writes",
            "visible p95 s",
            "visible max s",
            "answer p50 s",
            "answer p95 s",
            "reader p95 s before",
            "reader p95 s during",
            "reader max s during",
            "restart ready s",
            "from snapshot",
        ],
        [
            [
                s["size"],
                len(s.get("writes", [])) - s.get("failed", 0),
                s.get("visible_p95_s"),
                s.get("visible_max_s"),
                s.get("answer_p50_s"),
                s.get("answer_p95_s"),
                (s.get("reader") or {}).get("before", {}).get("p95_s"),
                (s.get("reader") or {}).get("during", {}).get("p95_s"),
                (s.get("reader") or {}).get("during", {}).get("max_s"),
                s.get("restart_ready_seconds"),
                s.get("restart_loaded_snapshot"),
            ]
            for s in per_size
        ],
    )
    return {"sizes": per_size}, [text]


if __name__ == "__main__":
    from run import main_for

    main_for(["fresh"], __doc__ or "")
