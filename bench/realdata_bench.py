"""Part 8, the real-data workload (issue 17, point 3): every real dataset in ../shared/datasets
(COW states, UN members, Archigos, REIGN, ATOP, DESTA, the GSDB) imported over HTTP
(POST /import/{dataset}, as distributed) into `pactgraph serve` holding the synthetic world at
the size; then the date-aware questions over HTTP — leaders of a state on a date (/leaders),
members of an alliance on a date (/alliances/members), sanctions against a state
(/sanctions) — first call and p95 of repeated calls; then the freshness of part 7 (20 writes of
1,000 triples, each visible to /paths, /entities and /search how long after its answer) on the
store the imports left; and a reader's latencies during the imports.

The world's entities are moved under `…/id/world/` for this part, so its made-up states (some
with real codes, all with made-up names) stand beside the real ones rather than on them. Run at
the full scale only (the CI smoke test skips it), and skipped with the reason when the datasets
are not there.

    python bench/realdata_bench.py --scale full --sizes 1000000
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import httpx
from common import CHILD, PYTHON, Context, percentile, run_child, table
from fresh_bench import TOKEN, Reader, freshness, launch, reader_summary, snapshot_current
from world import ID

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FILES = {  # the order of the import benchmark: states and leaders first
    "cow-states": ["cow-states/states2016.csv"],
    "un-members": ["un-members/un_members.csv"],
    "archigos": ["archigos-4.1/Archigos_4.1_stata14.dta"],
    "reign": ["reign-2021-03/leaderlist_3_21.csv"],
    "atop": ["atop-4.01/atop-member-level.csv", "atop-4.01/atop-alliance-level.csv"],
    "desta": ["desta/DESTA.csv"],
    "gsdb": ["gsdb-v3-subset/GSDB_V3_subset_end_ge_2013.csv"],
}
MOVED = f"{ID}world/"
REPEAT = 20
QUESTIONS = {
    "leaders of a state on a date (/leaders USA 1953-01-20)": (
        "/leaders",
        {"state": f"{ID}state/USA", "date": "1953-01-20"},
    ),
    "leaders of a state on a date (/leaders RUS 2000-06-01)": (
        "/leaders",
        {"state": f"{ID}state/RUS", "date": "2000-06-01"},
    ),
    "members of an alliance on a date (/alliances/members NATO 1998-06-01)": (
        "/alliances/members",
        {"alliance": f"{ID}org/nato", "date": "1998-06-01"},
    ),
    "sanctions against a state (/sanctions RUS, begun 2014)": (
        "/sanctions",
        {"target": f"{ID}state/RUS", "year": 2014},
    ),
    "sanctions against a state (/sanctions IRN, in force 2020-01-01)": (
        "/sanctions",
        {"target": f"{ID}state/IRN", "date": "2020-01-01"},
    ),
}


def moved_world(ctx: Context, size: int) -> Path:
    """The world's N-Triples with its entities under …/id/world/ (written once per run)."""
    source = Path(ctx.world(size)["files"]["nt"])
    target = ctx.work_dir / f"world-moved-{size}.nt"
    if not target.exists():
        old, new = f"<{ID}".encode(), f"<{MOVED}".encode()
        with source.open("rb") as f, target.open("wb") as out:
            for line in f:
                out.write(line.replace(old, new))
    return target


def run_size(ctx: Context, size: int) -> dict[str, Any]:
    out: dict[str, Any] = {"size": size}
    if ctx.scale.name != "full":
        return {**out, "skipped": "the real-data workload runs at the full scale only"}
    missing = [rel for rels in FILES.values() for rel in rels if not (DATASETS / rel).exists()]
    if missing:
        return {**out, "skipped": f"datasets missing under {DATASETS}: {', '.join(missing)}"}
    path = (ctx.work_dir / f"realdata-store-{size}").resolve()
    shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(path.with_name(path.name + ".pactgraph"), ignore_errors=True)
    file = moved_world(ctx, size)
    made = run_child([PYTHON, str(CHILD), "prepare-store", "--file", str(file), "--store", str(path)], None)
    if made.returncode != 0:
        return {**out, "error": f"prepare-store failed: {made.stderr[-2000:]}"}
    server = launch(ctx, path, size, "realdata")
    out["ready_seconds_cold"] = server.ready_seconds
    if server.error:
        server.stop()
        return {**out, "error": server.error}
    world_states = [s["iri"].replace(ID, MOVED, 1) for s in ctx.world(size)["states"]]
    try:
        hub = world_states[0].removeprefix(ID)
        reader = Reader(server.base, hub, world_states[len(world_states) // 2].removeprefix(ID))
        reader.start()
        time.sleep(3.0)
        began = time.perf_counter()
        out["imports"] = imports(server.base)
        ended = time.perf_counter()
        reader.stopping.set()
        reader.join(120)
        out["reader"] = reader_summary(reader, (began - 3.0, began), (began, ended))
        out["import_seconds"] = ended - began
        out["imported_triples"] = sum(i.get("triples") or 0 for i in out["imports"])
        out["questions"] = questions(server.base)
        out["fresh"] = freshness(server.base, world_states, tag="bench-write-after-import")
        out["memory"] = server.memory().as_dict()
    finally:
        server.stop()
    out["restart_loaded_snapshot"] = snapshot_current(path)
    again = launch(ctx, path, size, "realdata-restart")
    out["restart_ready_seconds"] = again.ready_seconds
    again.stop()
    shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(path.with_name(path.name + ".pactgraph"), ignore_errors=True)
    fresh = out["fresh"]
    print(
        f"  real   {size:>9} {out['imported_triples']:,} triples imported in {out['import_seconds']:.1f} s; "
        f"writes visible after p95 {fresh.get('visible_p95_s') or 0:.3f} s; "
        f"reader max {out['reader']['during']['max_s'] or 0:.3f} s during the imports",
        flush=True,
    )
    return out


def imports(base: str) -> list[dict[str, Any]]:
    rows = []
    with httpx.Client(base_url=base, timeout=1800) as client:
        for name, rels in FILES.items():
            files = [("file", (Path(rel).name, (DATASETS / rel).read_bytes())) for rel in rels]
            t0 = time.perf_counter()
            r = client.post(f"/import/{name}", files=files, headers={"Authorization": f"Bearer {TOKEN}"})
            seconds = time.perf_counter() - t0
            row: dict[str, Any] = {"dataset": name, "status": r.status_code, "seconds": seconds}
            if r.status_code == 200:
                row["triples"] = r.json().get("triples")
                row["triples_per_s"] = (row["triples"] or 0) / seconds
            else:
                row["error"] = r.text[:500]
            rows.append(row)
    return rows


def questions(base: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        for name, (route, params) in QUESTIONS.items():
            t0 = time.perf_counter()
            first = client.get(route, params=params)
            cold = time.perf_counter() - t0
            warm = []
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                client.get(route, params=params)
                warm.append(time.perf_counter() - t0)
            out[name] = {
                "status": first.status_code,
                "answer_bytes": len(first.content),
                "first_ms": cold * 1000,
                "p50_ms": percentile([w * 1000 for w in warm], 50),
                "p95_ms": percentile([w * 1000 for w in warm], 95),
            }
    return out


def report(ctx: Context, per_size: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    texts = []
    for s in per_size:
        if s.get("skipped") or s.get("error"):
            texts.append(f"Real-data workload at {s['size']:,}: {s.get('skipped') or s.get('error')}")
            continue
        texts.append(
            table(
                f"Real datasets imported over HTTP into serve at {s['size']:,} triples",
                ["dataset", "status", "triples", "seconds", "triples/s"],
                [
                    [i["dataset"], i["status"], i.get("triples"), i["seconds"], i.get("triples_per_s")]
                    for i in s["imports"]
                ],
            )
        )
        texts.append(
            table(
                f"Date-aware questions after the imports ({REPEAT} repeats)",
                ["question", "status", "first ms", "p50 ms", "p95 ms"],
                [
                    [q, v["status"], v["first_ms"], v["p50_ms"], v["p95_ms"]]
                    for q, v in s["questions"].items()
                ],
            )
        )
        fresh, reader = s["fresh"], s["reader"]
        texts.append(
            table(
                "After the imports",
                ["figure", "value"],
                [
                    ["writes of 1,000 triples visible after, p95 s", fresh.get("visible_p95_s")],
                    ["write answer p95 s", fresh.get("answer_p95_s")],
                    ["reader max s during the imports", reader["during"]["max_s"]],
                    ["reader p95 s during the imports", reader["during"]["p95_s"]],
                    ["restart ready s (snapshot)", s.get("restart_ready_seconds")],
                ],
            )
        )
    return {"sizes": per_size}, texts


if __name__ == "__main__":
    from run import main_for

    main_for(["realdata"], __doc__ or "")
