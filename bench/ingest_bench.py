"""Part 2, ingest: triples/s of `pactgraph` ingest (with and without SHACL) against pyoxigraph's
own `bulk_load` of the same file into a fresh on-disk store, in the same run; peak memory.

Each load runs in a child process; its peak RSS comes from wait4's rusage. A pactgraph run
that passes the scale's cap is stopped and reported as a bound; a run whose rate measured at
the smaller size predicts it would pass the cap is skipped, with the prediction.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from common import (
    CHILD,
    PYTHON,
    Context,
    bulk_store,
    py_spy_wrap,
    ratio,
    run_child,
    store_dir,
    summarize_profile,
    table,
)

MODES = ("bulk_load", "pactgraph", "pactgraph+shacl")
LABELS = {
    "bulk_load": "pyoxigraph bulk_load",
    "pactgraph": "pactgraph ingest --no-validate",
    "pactgraph+shacl": "pactgraph ingest (SHACL)",
}


def _measure(ctx: Context, size: int, fmt: str, mode: str) -> dict[str, Any]:
    w = ctx.world(size)
    file = w["files"][fmt]
    store = store_dir(ctx, size, f"ingest-{mode}-{fmt}")
    shutil.rmtree(store, ignore_errors=True)
    graph = "https://pactgraph.org/graph/" + Path(file).stem
    if mode == "bulk_load":
        cmd = [PYTHON, str(CHILD), "bulk-load", "--file", file, "--store", str(store), "--graph", graph]
        cap = None
        profile = None
    else:
        cmd = [PYTHON, str(CHILD), "pactgraph-ingest", "--file", file, "--store", str(store)]
        if mode == "pactgraph+shacl":
            cmd.append("--validate")
        cmd, profile = py_spy_wrap(ctx, cmd, f"ingest-{mode}-{fmt}-{size}")
        cap = ctx.cap(ctx.scale.validate_cap if mode == "pactgraph+shacl" else ctx.scale.ingest_cap)
    res = run_child(cmd, cap)
    if mode == "bulk_load" and fmt == "nt" and res.returncode == 0:
        keep = bulk_store(ctx, size)  # the servers' stores start as copies of it
        shutil.rmtree(keep, ignore_errors=True)
        store.rename(keep)
        (keep / ".bench-complete").write_text("ok")
    shutil.rmtree(store, ignore_errors=True)
    triples = int(w["triples"])
    row: dict[str, Any] = {"size": size, "format": fmt, "mode": mode, "triples": triples}
    if res.timed_out:
        assert cap is not None
        row |= {
            "status": "timeout",
            "seconds": None,
            "seconds_at_least": round(cap, 1),
            "triples_per_s": None,
            "triples_per_s_at_most": triples / cap,
            "peak_rss_mib": res.max_rss_mib,
            "note": f"stopped at the cap of {cap:g} s",
        }
    elif res.returncode != 0:
        row |= {"status": "error", "seconds": None, "triples_per_s": None, "error": res.stderr[-1500:]}
    else:
        out = res.json()
        row |= {
            "status": "ok",
            "seconds": out["seconds"],
            "triples_per_s": triples / out["seconds"],
            "peak_rss_mib": res.max_rss_mib,
        }
    row["profile"] = summarize_profile(profile)
    return row


def _skip(row: dict[str, Any], why: str, predicted: float | None = None) -> dict[str, Any]:
    return row | {
        "status": "skipped",
        "seconds": None,
        "triples_per_s": None,
        "note": why,
        "predicted_s": predicted,
    }


def run_size(ctx: Context, size: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    # (mode, fmt) -> triples/s at the last size measured, and the runs that passed the cap
    rate: dict[tuple[str, str], float] = ctx.notes.setdefault("ingest_rate", {})
    stopped: set[tuple[str, str]] = ctx.notes.setdefault("ingest_stopped", set())
    for fmt in ("nt", "ttl"):
        base: dict[str, Any] = {}
        for mode in MODES:
            stub: dict[str, Any] = {
                "size": size,
                "format": fmt,
                "mode": mode,
                "triples": int(ctx.world(size)["triples"]),
            }
            cap = ctx.cap(ctx.scale.validate_cap if mode == "pactgraph+shacl" else ctx.scale.ingest_cap)
            if mode != "bulk_load" and cap is not None:
                known = rate.get((mode, fmt))
                predicted = stub["triples"] / known if known else None
                if (mode, fmt) in stopped:
                    rows.append(_skip(stub, "the same run at a smaller size passed the cap"))
                    continue
                if mode == "pactgraph+shacl" and ("pactgraph", fmt) in stopped:
                    rows.append(_skip(stub, "ingest without validation already passed the cap"))
                    continue
                if mode == "pactgraph+shacl" and fmt == "ttl" and ("pactgraph+shacl", "nt") in stopped:
                    rows.append(_skip(stub, "validation of the N-Triples file passed the cap"))
                    continue
                if predicted is not None and predicted > cap * 1.5:
                    rows.append(
                        _skip(stub, f"predicted {predicted:.0f} s from the smaller size's rate", predicted)
                    )
                    stopped.add((mode, fmt))
                    continue
            row = _measure(ctx, size, fmt, mode)
            if mode == "bulk_load":
                base = row
            row["vs_bulk_load"] = ratio(row.get("triples_per_s"), base.get("triples_per_s"))
            if row.get("triples_per_s_at_most"):
                row["vs_bulk_load_at_most"] = ratio(row["triples_per_s_at_most"], base.get("triples_per_s"))
            if row["status"] == "ok":
                rate[(mode, fmt)] = row["triples_per_s"]
            elif row["status"] == "timeout":
                stopped.add((mode, fmt))
            rows.append(row)
            took = row.get("seconds") or row.get("seconds_at_least") or 0
            print(f"  ingest {size:>9} {fmt:3} {LABELS[mode]:32} {row['status']:8} {took:8.1f} s", flush=True)
    return {"size": size, "rows": rows}


def report(ctx: Context, per_size: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    rows = [r for s in per_size for r in s["rows"]]
    text = table(
        f"Ingest into oxigraph: on disk ({ctx.scale.name})",
        ["triples", "format", "loader", "status", "seconds", "triples/s", "× bulk_load", "peak MiB"],
        [
            [
                r["triples"],
                r["format"],
                LABELS[r["mode"]],
                r["status"],
                r.get("seconds") or (f">{r['seconds_at_least']:g}" if r.get("seconds_at_least") else None),
                r.get("triples_per_s")
                or (f"<{r['triples_per_s_at_most']:,.0f}" if r.get("triples_per_s_at_most") else None),
                r.get("vs_bulk_load"),
                r.get("peak_rss_mib"),
            ]
            for r in rows
        ],
    )
    return {"sizes": per_size}, [text]


if __name__ == "__main__":
    from run import main_for

    main_for(["ingest"], __doc__ or "")
