"""Part 5, export: GraphML and GEXF of the whole graph from `GET /export?format=…`: seconds to
the first byte and to the last, bytes, and the server's memory while it answers (its process
tree's RSS sampled every 50 ms, against the RSS before). "not available" when the route is not
there (404/405), so the code is ready before the route is.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from common import Context, Profiler, Server, pactgraph_server, table

FORMATS = {"graphml": b"</graphml>", "gexf": b"</gexf>"}


class _Sampler(threading.Thread):
    """The server tree's RSS every 50 ms while an export streams."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.server.memory().tree_rss_mib)
            time.sleep(0.05)


def _export(ctx: Context, server: Server, fmt: str) -> dict[str, Any]:
    before = server.memory()
    sampler = _Sampler(server)
    sampler.start()
    started = time.perf_counter()
    first: float | None = None
    size = 0
    head = b""
    tail = b""
    status: int | str
    try:
        with (
            httpx.Client(timeout=ctx.scale.export_cap) as client,
            client.stream("GET", f"{server.base}/export", params={"format": fmt}) as r,
        ):
            status = r.status_code
            for chunk in r.iter_bytes():
                if first is None:
                    first = time.perf_counter() - started
                    head = chunk[:200]
                size += len(chunk)
                tail = (tail + chunk)[-200:]
                if time.perf_counter() - started > ctx.scale.export_cap:
                    status = "stopped at the cap"
                    break
    except httpx.TimeoutException:
        status = "client-timeout"
    except httpx.HTTPError as exc:
        status = f"error: {exc}"
    seconds = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    row: dict[str, Any] = {"format": fmt, "status": status}
    if status in (404, 405):
        return row | {"available": False, "note": "not available: the route answered " + str(status)}
    complete = status == 200 and FORMATS[fmt] in tail
    return row | {
        "available": True,
        "complete": complete,
        "well_formed_start": head.lstrip().startswith(b"<?xml"),
        "seconds": seconds if status == 200 else None,
        "seconds_at_least": None if status == 200 else seconds,
        "first_byte_s": first,
        "bytes": size,
        "mib_per_s": size / 1024 / 1024 / seconds if seconds and status == 200 else None,
        "server_tree_rss_before_mib": round(before.tree_rss_mib, 1),
        "server_tree_rss_peak_mib": round(sampler.peak, 1),
        "server_extra_mib": round(sampler.peak - before.tree_rss_mib, 1),
    }


def run_size(ctx: Context, size: int) -> dict[str, Any]:
    server = pactgraph_server(ctx, size)
    if server.ready_seconds is None:
        return {"size": size, "error": f"pactgraph serve not ready: {server.error}", "rows": []}
    rows = []
    profiler = Profiler(ctx, server.pid, f"serve-export-{size}")
    for fmt in FORMATS:
        row = _export(ctx, server, fmt) | {"size": size}
        rows.append(row)
        print(f"  export {size:>9} {fmt:8} {row['status']!s:>5} {row.get('seconds') or 0:8.2f} s", flush=True)
        if not row["available"]:
            continue
    return {"size": size, "rows": rows, "profile": profiler.stop()}


def report(ctx: Context, per_size: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    text = table(
        f"Export of the whole graph over HTTP ({ctx.scale.name})",
        ["triples", "format", "status", "seconds", "first byte s", "MiB", "server +MiB", "complete"],
        [
            [
                r["size"],
                r["format"],
                r.get("note") or r["status"],
                r.get("seconds") or (f">{r['seconds_at_least']:.0f}" if r.get("seconds_at_least") else None),
                r.get("first_byte_s"),
                r["bytes"] / 1024 / 1024 if r.get("bytes") is not None else None,
                r.get("server_extra_mib"),
                r.get("complete"),
            ]
            for s in per_size
            for r in s.get("rows", [])
        ],
    )
    return {"sizes": per_size}, [text]


if __name__ == "__main__":
    from run import main_for

    main_for(["export"], __doc__ or "")
