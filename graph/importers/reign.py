"""REIGN (Bell, Besaw and Frank), `leaderlist_M_YY.csv` (latin-1): effective leaders 1950–2021,
countries as COW numbers. Starts are days; ends are months only.

Date rule (codebook and data, see the README): REIGN counts a leader in every month they held
power (its unit is the leader-month), so the end month is inclusive: the month the leader lost
power. A successor starts in the same month in 2,158 of 2,324 successions (151 in the next
month). A spell without an end was still running at the release: ongoing as of the last day of
the month before it (the file of March 2021 has no end later than 2021-02).
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from pactgraph.graph.importers.base import (
    BadRow,
    Dataset,
    ImportResult,
    InputFile,
    Progress,
    RowSink,
    SourceDescription,
    Triples,
    day,
    integer,
    read_csv_rows,
    read_rows,
)
from pactgraph.graph.importers.leaders import LeaderSpell, write_leaders
from pactgraph.graph.importers.persons import fold
from pactgraph.graph.importers.states import StateRef, state_codes
from pactgraph.graph.store import Store

COLUMNS = [
    "stateabb",
    "ccode",
    "leadid",
    "leader",
    "sdate",
    "smonth",
    "syear",
    "emonth",
    "eyear",
    "birthyear",
    "gender",
]
_FILE = re.compile(r"leaderlist_(\d{1,2})_(\d{2})", re.I)


def release_of(names: list[str]) -> str | None:
    """The release month from the publisher's file name (leaderlist_3_21.csv → 2021-03)."""
    for n in names:
        if m := _FILE.search(n):
            return f"20{m[2]}-{int(m[1]):02d}"
    return None


def source(release: str) -> SourceDescription:
    year, month = int(release[:4]), int(release[5:7])
    prev_year, prev_month = (year, month - 1) if month > 1 else (year - 1, 12)
    coverage_end = date(prev_year, prev_month, calendar.monthrange(prev_year, prev_month)[1]).isoformat()
    return SourceDescription(
        slug=f"reign-{release}",
        title="REIGN: The Rulers, Elections, and Irregular Governance Dataset",
        publisher="Curtis Bell, Clayton Besaw and Matthew Frank (OEF Research)",
        version=release,
        citation=(
            "Bell, Curtis, Clayton Besaw and Matthew Frank. 2021. The Rulers, Elections, and "
            "Irregular Governance (REIGN) Dataset. Broomfield, CO: OEF Research."
        ),
        licence="Free to use with citation (the authors request citation)",
        download_url="https://github.com/OEFDataScience/REIGN.github.io",
        end_rule="inclusive",
        coverage_start="1950-01-01",
        coverage_end=coverage_end,
    )


class Records(list[LeaderSpell]):
    release: str = ""


def _read(files: list[InputFile], bad: RowSink, progress: Progress | None) -> Records:
    codes = state_codes()
    out = Records()
    latest = ""
    for f in files:
        _header, rows = read_csv_rows(f, "latin-1", "REIGN leader list (leaderlist_*.csv)", COLUMNS)

        def parse(row: dict[str, str]) -> LeaderSpell:
            nonlocal latest
            ccode = integer(row["ccode"], "ccode")
            ref = codes.cow(ccode) or StateRef(
                f"state/cow-{ccode}", f"{row['stateabb']} (COW {ccode})", historic=True, cow=(ccode,)
            )
            if not row["leader"] or not row["leadid"]:
                raise BadRow("leadid and leader must not be empty")
            start = day(row["syear"], row["smonth"], row["sdate"], "start (syear, smonth, sdate)")
            end = None
            if row["eyear"] or row["emonth"]:
                y, m = integer(row["eyear"], "eyear"), integer(row["emonth"], "emonth")
                if not 1 <= m <= 12:
                    raise BadRow(f"emonth is not a month: {row['emonth']!r}")
                end = f"{y:04d}-{m:02d}"
                if end < start[:7]:
                    raise BadRow(f"end {end} is before start {start}")
                latest = max(latest, end)
            born = integer(row["birthyear"], "birthyear") if row["birthyear"] else -99
            gender = {"1": "male", "0": "female"}.get(row["gender"].split(".")[0])
            return LeaderSpell(
                record=f"{row['leadid']} {start}",
                person=f"{ccode}:{fold(row['leader'])}",
                name=row["leader"],
                state=ref,
                role="EffectiveLeader",
                start=start,
                end=end,
                born=f"{born:04d}" if born > 0 else None,
                gender=gender,
            )

        out += read_rows(rows, f.name, parse, bad, progress, len(rows))
    release = release_of([f.name for f in files])
    if release is None:  # an upload with another name: the month after the latest end
        y, m = (int(latest[:4]), int(latest[5:7])) if latest else (2021, 2)
        release = f"{y + (m == 12):04d}-{m % 12 + 1:02d}"
    out.release = release
    coverage_end = source(release).coverage_end
    for s in out:
        if s.end is None:
            s.ongoing_as_of = coverage_end
    return out


def _build(store: Store, spells: Records, t: Triples, result: ImportResult) -> list[dict[str, str]]:
    return write_leaders(store, source(spells.release), spells, t, result)


DATASET = Dataset(
    name="reign",
    summary="REIGN: effective leaders 1950–2021, month-precision ends (leaderlist_*.csv, latin-1)",
    files="leaderlist_3_21.csv",
    read=_read,
    source=lambda records: source(records.release),
    build=_build,
)
