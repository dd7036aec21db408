"""Part 6, start-up and resident memory: seconds from launching `pactgraph serve` to the first
`/readyz` 200 (store open, projection and name index built) on the prepared on-disk store, the
server's RSS then, and its RSS, peak and whole-tree PSS after the other parts have run on it.

The launch measured is the first of the size (made by whichever part needs the server first),
with the store files warm in the page cache, as on any restart.
"""

from __future__ import annotations

from typing import Any

from common import Context, pactgraph_server, table


def run_size(ctx: Context, size: int) -> dict[str, Any]:
    server = pactgraph_server(ctx, size)
    out: dict[str, Any] = {
        "size": size,
        "ready_seconds": server.ready_seconds,
        "error": server.error,
        "memory_at_ready": server.memory_at_ready.as_dict() if server.memory_at_ready else None,
    }
    out["profile"] = server.startup_profile
    if server.proc.poll() is None:
        out["memory_now"] = server.memory().as_dict()
    split = ctx.notes.get("projection", {}).get(size)
    if split and "build_seconds" in split:
        out["in_a_child"] = {k: split.get(k) for k in ("open_seconds", "build_seconds", "names_seconds")}
    print(f"  start  {size:>9} ready in {server.ready_seconds or 0:.2f} s", flush=True)
    return out


def report(ctx: Context, per_size: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    text = table(
        f"pactgraph serve: start-up and memory ({ctx.scale.name})",
        ["triples", "ready s", "RSS at ready MiB", "RSS after parts MiB", "peak RSS MiB", "tree PSS MiB"],
        [
            [
                s["size"],
                s.get("ready_seconds") or s.get("error"),
                (s.get("memory_at_ready") or {}).get("rss_mib"),
                (s.get("memory_now") or {}).get("rss_mib"),
                (s.get("memory_now") or {}).get("peak_rss_mib"),
                (s.get("memory_now") or {}).get("tree_pss_mib"),
            ]
            for s in per_size
        ],
    )
    return {"sizes": per_size}, [text]


if __name__ == "__main__":
    from run import main_for

    main_for(["startup"], __doc__ or "")
