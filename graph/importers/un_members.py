"""UN member states with their admission dates: Wikipedia's table "Member states of the United
Nations" as CSV (`Member state, Date of admission, …`), footnote markers such as `[a]` included.

Date rule (see the README): admission dates are days; no member in the table has left, so each
membership is ongoing as of the table's date. The table carries no date of its own: the latest
date its text mentions (its notes speak of 12 December 2022) is the day it is known to hold to.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from pactgraph.graph.importers.base import (
    BadRow,
    Dataset,
    ImportResult,
    InputFile,
    Progress,
    RowSink,
    SourceDescription,
    Triples,
    read_csv_rows,
    read_rows,
)
from pactgraph.graph.importers.states import StateRef, describe_state, state_codes
from pactgraph.graph.store import Store

COLUMNS = ["Member state", "Date of admission"]
_FOOTNOTE = re.compile(r"\[[^\]]*\]")
_DAY = re.compile(
    r"\b(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|December)"
    r" (\d{4})\b"
)
# Names of the table that the bundled labels and aliases leave ambiguous.
_ALIASES = {"congo": "COG"}


@dataclass
class Admission:
    line: int
    state: StateRef
    name: str
    admitted: str


@dataclass
class Records:
    admissions: list[Admission] = field(default_factory=list)
    as_of: str | None = None
    digest: str = ""

    def __len__(self) -> int:
        return len(self.admissions)


def _date(text: str) -> str:
    m = _DAY.search(_FOOTNOTE.sub("", text))
    if not m:
        raise BadRow(f"Date of admission is not a date like '24 October 1945': {text!r}")
    return datetime.strptime(f"{m[1]} {m[2]} {m[3]}", "%d %B %Y").date().isoformat()


def _read(files: list[InputFile], bad: RowSink, progress: Progress | None) -> Records:
    codes = state_codes()
    out = Records()
    for f in files:
        _header, rows = read_csv_rows(
            f, "utf-8", "UN members table (Member state, Date of admission)", COLUMNS
        )

        def parse(row: dict[str, str]) -> Admission:
            name = _FOOTNOTE.sub("", row["member state"]).strip()
            alias = _ALIASES.get(name.lower())
            ref = codes.iso3(alias) if alias else codes.name(name)
            if ref is None:
                raise BadRow(f"no state is known by the name {name!r}")
            return Admission(0, ref, name, _date(row["date of admission"]))

        out.admissions += read_rows(rows, f.name, parse, bad, progress, len(rows))
        text = f.data.decode("utf-8", "replace")
        days = [
            datetime.strptime(f"{m[1]} {m[2]} {m[3]}", "%d %B %Y").date().isoformat()
            for m in _DAY.finditer(text)
        ]
        if days:
            out.as_of = max([*days, out.as_of or ""])
        out.digest = hashlib.sha256(f.data).hexdigest()[:12]
    return out


def source(records: Records) -> SourceDescription:
    return SourceDescription(
        slug="un-members-wikipedia",
        title="Member states of the United Nations",
        publisher="Wikipedia",
        version=f"table as of {records.as_of or 'an unknown date'} (sha256 {records.digest}…)",
        citation=(
            "Wikipedia contributors, “Member states of the United Nations”, Wikipedia, The Free Encyclopedia."
        ),
        licence="https://creativecommons.org/licenses/by-sa/4.0/",
        download_url="https://en.wikipedia.org/wiki/Member_states_of_the_United_Nations",
        end_rule="inclusive",
        coverage_start="1945-10-24",
        coverage_end=records.as_of,
    )


def _build(store: Store, records: Records, t: Triples, result: ImportResult) -> list[dict[str, str]]:
    src = source(records)
    src_node = t.node(src.iri)
    un = t.entity("org/un")
    t.a(un, "IntergovernmentalOrganisation")
    t.label(un, "United Nations")
    described: set[str] = set()
    for a in records.admissions:
        describe_state(t, a.state, described)
        code = a.state.local.rsplit("/", 1)[-1]
        m = t.entity(f"membership/{src.slug}/{code}")
        t.a(m, "Membership")
        t.label(m, f"{a.state.label} in the United Nations (since {a.admitted}) [{src.slug}]")
        t.link(m, "member", t.entity(a.state.local))
        t.link(m, "organisation", un)
        t.link(t.entity(a.state.local), "memberOf", un)
        t.date(m, "start", a.admitted)
        if records.as_of and records.as_of >= a.admitted:
            t.date(m, "ongoingAsOf", records.as_of)
        t.link(m, "status", t.pg("Confirmed"))
        t.link(m, "source", src_node)
        key = t.entity(f"relation/membership/{a.state.local}/org/un")
        t.a(key, "RelationKey")
        t.link(m, "readingOf", key)
    return []


DATASET = Dataset(
    name="un-members",
    summary="UN member states with admission dates (Wikipedia's table as CSV)",
    files="un_members.csv",
    read=_read,
    source=source,
    build=_build,
)
