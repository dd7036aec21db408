"""Import benchmark: the real datasets (the four of states and leaders, then ATOP, DESTA and the
GSDB) into an empty on-disk store, against pyoxigraph's own bulk_load of the same triples; then
the p95 of each question (time; alliances, agreements and sanctions), cold (first call after the
import) and warm (repeated), at that size.

    python bench/import_bench.py [--datasets ../shared/datasets] [--repeat 30]

Figures are ratios against a baseline in the same run; absolute times depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from pactgraph.graph import open_store
from pactgraph.graph.alliances import (
    agreement_parties,
    agreements_between,
    agreements_of,
    allied_on,
    members_on,
    readings,
    sanctions_against,
)
from pactgraph.graph.importers import read_files, run_import
from pactgraph.graph.timeline import leaders_on, person_spells, states_on, un_membership
from pactgraph.ontology import ENTITY_BASE

FILES = {
    "cow-states": ["cow-states/states2016.csv"],
    "un-members": ["un-members/un_members.csv"],
    "archigos": ["archigos-4.1/Archigos_4.1_stata14.dta"],
    "reign": ["reign-2021-03/leaderlist_3_21.csv"],
    "atop": ["atop-4.01/atop-member-level.csv", "atop-4.01/atop-alliance-level.csv"],
    "desta": ["desta/DESTA.csv"],
    "gsdb": ["gsdb-v3-subset/GSDB_V3_subset_end_ge_2013.csv"],
}
# The issue-15 files alone, for their own triples/s figure.
ALLIANCE_DATASETS = ("atop", "desta", "gsdb")
E = ENTITY_BASE


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--datasets", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "datasets"
    )
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pactgraph-import-bench-"))
    try:
        store = open_store(f"oxigraph:{tmp / 'store'}")
        imports = {}
        t0 = time.perf_counter()
        for name, rels in FILES.items():
            start = time.perf_counter()
            result = run_import(store, name, read_files([args.datasets / r for r in rels]), review_dir=tmp)
            imports[name] = {
                "rows": result.rows,
                "triples": result.triples,
                "seconds": round(time.perf_counter() - start, 2),
                "persons_merged": result.persons_merged,
                "persons_new": result.persons_new,
                "near_misses": result.near_misses,
            }
        total_s = time.perf_counter() - t0
        native = store.oxigraph
        assert native is not None
        dump = native.dump(format=ox.RdfFormat.N_QUADS)
        triples = sum(i["triples"] for i in imports.values())
        store_path = tmp / "baseline"
        baseline = ox.Store(str(store_path))
        b0 = time.perf_counter()
        baseline.bulk_load(dump, ox.RdfFormat.N_QUADS)
        baseline.flush()
        bulk_s = time.perf_counter() - b0
        del baseline

        questions = {
            "1 leaders_on": lambda: leaders_on(store, E + "state/USA", date(1953, 1, 20)),
            "2 states_on": lambda: states_on(store, date(1990, 10, 2)),
            "3 un_membership": lambda: un_membership(store, E + "state/DEU", date(1973, 9, 18)),
            "4 person_spells": lambda: person_spells(store, E + "person/vladimir-putin"),
            "A1 members_on NATO": lambda: members_on(store, E + "org/nato", date(1998, 6, 1)),
            "A2 allied_on POL DEU": lambda: allied_on(
                store, E + "state/POL", E + "state/DEU", date(1998, 6, 1)
            ),
            "A3a agreement_parties CSTO": lambda: agreement_parties(store, E + "org/csto"),
            "A3b agreements_between RUS IRN": lambda: agreements_between(
                store, E + "state/RUS", E + "state/IRN"
            ),
            "A3c agreements_of ISL": lambda: agreements_of(store, E + "state/ISL", date(1980, 6, 1)),
            "A4 sanctions_against RUS 2014": lambda: sanctions_against(store, E + "state/RUS", year=2014),
            "A5 readings NATO POL": lambda: readings(store, E + "org/nato", E + "state/POL"),
            "A5 readings NATO all": lambda: readings(store, E + "org/nato"),
        }
        latency = {}
        for name, ask in questions.items():
            c0 = time.perf_counter()
            ask()
            cold = time.perf_counter() - c0
            warm = []
            for _ in range(args.repeat):
                w0 = time.perf_counter()
                ask()
                warm.append(time.perf_counter() - w0)
            latency[name] = {
                "cold_ms": round(cold * 1000, 1),
                "warm_p95_ms": round(p95(warm) * 1000, 1),
                "warm_median_ms": round(statistics.median(warm) * 1000, 1),
            }
        report = {
            "imports": imports,
            "import_total_s": round(total_s, 2),
            "triples": triples,
            "import_triples_per_s": round(triples / total_s),
            "bulk_load_s": round(bulk_s, 2),
            "bulk_load_triples_per_s": round(triples / bulk_s),
            "ratio_vs_bulk_load": round((triples / total_s) / (triples / bulk_s), 3),
            "alliance_datasets": {
                "triples": (t3 := sum(imports[n]["triples"] for n in ALLIANCE_DATASETS)),
                "seconds": (s3 := round(sum(imports[n]["seconds"] for n in ALLIANCE_DATASETS), 2)),
                "triples_per_s": round(t3 / s3) if s3 else None,
                "ratio_vs_bulk_load": round((t3 / s3) / (triples / bulk_s), 3) if s3 else None,
            },
            "questions": latency,
        }
        json.dump(report, sys.stdout, indent=1)
        print()
        store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
