"""Stores for the importer tests: an on-disk Oxigraph store with the ontology and bundled data, and
the real datasets in ../shared/datasets (skipped with the reason when that folder is absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pactgraph.graph import Store, open_store
from tests.conftest import seeded_copy

HERE = Path(__file__).parent
DATA = HERE / "data"
DATASETS = HERE.parents[1].parent / "shared" / "datasets"

REAL = {
    "cow-states": DATASETS / "cow-states" / "states2016.csv",
    "un-members": DATASETS / "un-members" / "un_members.csv",
    "archigos": DATASETS / "archigos-4.1" / "Archigos_4.1_stata14.dta",
    "reign": DATASETS / "reign-2021-03" / "leaderlist_3_21.csv",
}


def real_file(name: str) -> Path:
    path = REAL[name]
    if not path.exists():
        pytest.skip(f"the real {name} file is not here ({path}): the datasets are not redistributed")
    return path


def bundled_store(seed: Path, path: Path) -> Store:
    """An open store at `path` with the ontology and the bundled data: a copy of the session's
    seed (tests.conftest.bundled_seed), the same quads as ingesting them again, in a fraction of
    the time."""
    return open_store(f"oxigraph:{seeded_copy(seed, path)}")


@pytest.fixture
def store(bundled_seed: Path, tmp_path: Path) -> Iterator[Store]:
    s = bundled_store(bundled_seed, tmp_path / "store")
    yield s
    s.close()


def write_archigos(path: Path, rows: list[dict[str, object]]) -> Path:
    """A small Archigos file in the distributed format (Stata .dta, Archigos' columns)."""
    import pandas as pd

    columns = [
        "obsid", "leadid", "ccode", "idacr", "leader", "startdate", "enddate", "entry", "exit",
        "exitcode", "gender", "yrborn", "yrdied",
    ]  # fmt: skip
    frame = pd.DataFrame([{c: r.get(c, "") for c in columns} for r in rows], columns=columns)
    for c in ("ccode", "yrborn", "yrdied"):
        frame[c] = frame[c].astype("int16")
    frame.to_stata(path, write_index=False, version=118)
    return path


ARCHIGOS_ROWS: list[dict[str, object]] = [
    # Hand-written in Archigos' format; dates as the public record has them.
    {"obsid": "USA-1945", "leadid": "lead-truman", "ccode": 2, "idacr": "USA", "leader": "Truman",
     "startdate": "1945-04-12", "enddate": "1953-01-20", "entry": "Regular", "exit": "Regular",
     "exitcode": "Regular", "gender": "M", "yrborn": 1884, "yrdied": 1972},
    {"obsid": "USA-1953", "leadid": "lead-eisenhower", "ccode": 2, "idacr": "USA", "leader": "Eisenhower",
     "startdate": "1953-01-20", "enddate": "1961-01-20", "entry": "Regular", "exit": "Regular",
     "exitcode": "Regular", "gender": "M", "yrborn": 1890, "yrdied": 1969},
    {"obsid": "RUS-2000", "leadid": "lead-putin", "ccode": 365, "idacr": "RUS", "leader": "Putin",
     "startdate": "2000-01-01", "enddate": "2015-12-31", "entry": "Regular", "exit": "Still in Office",
     "exitcode": "Still in Office", "gender": "M", "yrborn": 1952, "yrdied": -777},
    {"obsid": "GFR-1982", "leadid": "lead-kohl", "ccode": 260, "idacr": "GFR", "leader": "Kohl",
     "startdate": "1982-10-01", "enddate": "1998-10-27", "entry": "Regular", "exit": "Regular",
     "exitcode": "Regular", "gender": "M", "yrborn": 1930, "yrdied": 2017},
    {"obsid": "GDR-1971", "leadid": "lead-honecker", "ccode": 265, "idacr": "GDR", "leader": "Honecker",
     "startdate": "1971-05-03", "enddate": "1989-10-18", "entry": "Regular", "exit": "Irregular",
     "exitcode": "Removed by Other Domestic Popular Protest", "gender": "M", "yrborn": 1912, "yrdied": 1994},
]  # fmt: skip
