"""Part 6, start-up and resident memory: seconds from launching `pactgraph serve` to the first
`/readyz` 200 (store open, projection and name index there) on the prepared on-disk store, the
server's RSS then, and its RSS, peak and whole-tree PSS after the other parts have run on it.

Two launches per size, both with the store files warm in the page cache, as on any restart:
- cold: no valid snapshot (the prepared store was filled by pyoxigraph's bulk loader, so it has
  no generation; any snapshot left from an earlier run is deleted first): the projection and
  the name index are built, then saved in the background as a snapshot beside the store;
- snapshot: the same store unchanged, launched again once that snapshot is written: both are
  loaded from it. This second server is the one the later parts of the size use.
If another part launched the server first, the cold figure is that launch's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from common import Context, pactgraph_server, prepared_store, table

SNAPSHOT_WAIT = 600.0  # seconds the first server may take to write its snapshot after /readyz


def _snapshot_file(ctx: Context, size: int) -> Path:
    path, _info = prepared_store(ctx, size)
    return path.resolve().with_name(path.resolve().name + ".pactgraph") / "snapshot"


def _wait_for_snapshot(file: Path, after: float, cap: float) -> float | None:
    """Seconds until `file` is written after the wall-clock time `after`, or None."""
    deadline = time.monotonic() + cap
    while time.monotonic() < deadline:
        if file.exists() and file.stat().st_mtime >= after:
            return time.time() - after
        time.sleep(0.2)
    return None


def _launch(server: Any) -> dict[str, Any]:
    return {
        "ready_seconds": server.ready_seconds,
        "error": server.error,
        "memory_at_ready": server.memory_at_ready.as_dict() if server.memory_at_ready else None,
        "profile": server.startup_profile,
    }


def run_size(ctx: Context, size: int) -> dict[str, Any]:
    file = _snapshot_file(ctx, size)
    launched_before = ("pactgraph", size) in ctx.servers
    began = time.time()
    first = pactgraph_server(ctx, size)  # cold: any earlier run's snapshot is deleted first
    cold = _launch(first)
    cold["launched_by_another_part"] = launched_before
    since = 0.0 if launched_before else began
    saved = _wait_for_snapshot(file, since, SNAPSHOT_WAIT) if first.error is None else None
    # Seconds after this launch; unknown when another part launched the server earlier.
    saved_after = None if launched_before else saved
    snapshot = {
        "written": saved is not None,
        "seconds_after_launch": saved_after,
        "mib": round(file.stat().st_size / 2**20, 1) if file.exists() else None,
    }
    ctx.stop("pactgraph", size)
    second = pactgraph_server(ctx, size, keep_snapshot=True)
    warm = _launch(second)
    out: dict[str, Any] = {
        "size": size,
        # The figure: a restart on an unchanged store (with its snapshot).
        "ready_seconds": warm["ready_seconds"],
        "ready_seconds_cold": cold["ready_seconds"],
        "error": warm["error"] or cold["error"],
        "memory_at_ready": warm["memory_at_ready"],
        "cold_start": cold,
        "snapshot_start": warm,
        "snapshot": snapshot,
    }
    if second.proc.poll() is None:
        out["memory_now"] = second.memory().as_dict()
    split = ctx.notes.get("projection", {}).get(size)
    if split and "build_seconds" in split:
        out["in_a_child"] = {k: split.get(k) for k in ("open_seconds", "build_seconds", "names_seconds")}
    print(
        f"  start  {size:>9} ready in {cold['ready_seconds'] or 0:.2f} s cold (no snapshot), "
        f"{warm['ready_seconds'] or 0:.2f} s with a snapshot ({snapshot['mib']} MiB, "
        f"written {saved_after or 0:.1f} s after the cold launch)",
        flush=True,
    )
    return out


def report(ctx: Context, per_size: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    text = table(
        f"pactgraph serve: start-up and memory ({ctx.scale.name})",
        [
            "triples",
            "ready s, cold (built)",
            "ready s, with snapshot",
            "snapshot MiB",
            "snapshot written s after cold launch",
            "RSS at ready MiB",
            "RSS after parts MiB",
            "peak RSS MiB",
            "tree PSS MiB",
        ],
        [
            [
                s["size"],
                s.get("ready_seconds_cold") or s.get("error"),
                s.get("ready_seconds") or s.get("error"),
                (s.get("snapshot") or {}).get("mib"),
                (s.get("snapshot") or {}).get("seconds_after_launch"),
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
