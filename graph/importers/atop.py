"""ATOP, Alliance Treaty Obligations and Provisions (Leeds et al.), v4.01: the member-level file
(one row per member and phase: entry, exit, obligations) and the alliance-level file (one row per
alliance: begin and end, obligations, phases). Members are Correlates of War state numbers.

Date rule (data, see the README "Importing datasets"): days, months where the day is blank (36
dates). An alliance's begin is its signature (NATO 3180 begins 1949-04-04, the North Atlantic
Treaty's signing; later members enter on the day their accession protocol was signed: Poland
1997-12-16). A member's exit is the first day it no longer held that phase's obligations: in 210
of 236 changes of phase (dates to the day) the next phase starts on the day the last one exits,
the GFR exits NATO on 1990-10-03, the day unified Germany enters, and the Molotov–Ribbentrop pact
(2470) ends 1941-06-22, the day Germany invaded: ends are exclusive. Exit 0 with `ineffect` 1 is
a membership still in force at the end of the data: ongoing as of the coverage end (2016-12-31,
the year of the latest date in the files).

Each alliance is an agreement (``agreement/atop-3180``), a pg:DefencePact where it creates a
defence obligation, else a pg:Treaty; NATO's and the CSTO's are linked to the bundled
organisations by pg:foundingTreaty, not merged with them, and each member-phase row is a party
record with its own dates and obligations.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.importers.base import (
    BadRow,
    Dataset,
    ImportResult,
    InputFile,
    Progress,
    RowError,
    RowSink,
    SourceDescription,
    Triples,
    integer,
    read_csv_rows,
    read_rows,
    require_columns,
)
from pactgraph.graph.importers.parties import (
    BUNDLED_ORGS,
    OBLIGATIONS,
    PartyRecord,
    describe_org,
    party_key,
    unmatched,
    write_party,
)
from pactgraph.graph.importers.states import describe_state, state_codes
from pactgraph.graph.store import Store

MEMBER_COLUMNS = [
    "atopid", "member", "yrent", "moent", "dayent", "yrexit", "moexit", "dayexit", "ineffect",
    "phase", "defense", "offense", "neutral", "nonagg", "consul", "version",
]  # fmt: skip
ALLIANCE_COLUMNS = [
    "atopid", "begyr", "begmo", "begday", "endyr", "endmo", "endday", "ineffect", "maxphase",
    "defense", "offense", "neutral", "nonagg", "consul", "mem1",
]  # fmt: skip
_FLAGS = {
    "defense": OBLIGATIONS["defence"],
    "offense": OBLIGATIONS["offence"],
    "neutral": OBLIGATIONS["neutrality"],
    "nonagg": OBLIGATIONS["non-aggression"],
    "consul": OBLIGATIONS["consultation"],
}
# ATOP alliances that are the founding treaties of bundled organisations: checked against the
# rows (3180 begins 1949-04-04 with the twelve signatories of the North Atlantic Treaty; 4220
# begins 1992-05-15 with the signatories of the Collective Security Treaty, Tashkent).
FOUNDS = {3180: ("org/nato", "North Atlantic Treaty"), 4220: ("org/csto", "Collective Security Treaty")}


@dataclass(frozen=True)
class Member:
    line: int
    atopid: int
    cow: int
    entry: str
    exit: str | None
    in_effect: bool
    phase: int
    obligations: tuple[str, ...]
    version: str


@dataclass(frozen=True)
class Alliance:
    line: int
    atopid: int
    begin: str
    end: str | None
    in_effect: bool
    phases: int
    obligations: tuple[str, ...]


@dataclass
class Records:
    members: list[Member] = field(default_factory=list)
    alliances: dict[int, Alliance] = field(default_factory=dict)
    version: str = "4.01"
    coverage_end: str = "2016-12-31"

    def __len__(self) -> int:
        return len(self.members) + len(self.alliances)


def date_of(year: str, month: str, day: str, what: str) -> str:
    """YYYY-MM-DD, or YYYY-MM where ATOP leaves the day blank (it does for 36 dates)."""
    import datetime

    y, m = integer(year, what), integer(month, what)
    if not day.strip():
        if not 1 <= m <= 12:
            raise BadRow(f"{what} has no month: {year!r}-{month!r}")
        return f"{y:04d}-{m:02d}"
    try:
        return datetime.date(y, m, integer(day, what)).isoformat()
    except ValueError as exc:
        raise BadRow(f"{what} is not a date: {year!r}-{month!r}-{day!r}") from exc


def _flags(row: dict[str, str]) -> tuple[str, ...]:
    out = []
    for col, concept in _FLAGS.items():
        v = row[col].strip()
        if v not in ("0", "1"):
            raise BadRow(f"{col} is not 0 or 1: {v!r}")
        if v == "1":
            out.append(concept)
    return tuple(out)


def _member(line: int, row: dict[str, str]) -> Member:
    atopid, cow = integer(row["atopid"], "atopid"), integer(row["member"], "member")
    entry = date_of(row["yrent"], row["moent"], row["dayent"], "entry (yrent, moent, dayent)")
    in_effect = row["ineffect"].strip() == "1"
    exit_: str | None = None
    if row["yrexit"].strip() not in ("0", ""):
        exit_ = date_of(row["yrexit"], row["moexit"], row["dayexit"], "exit (yrexit, moexit, dayexit)")
        if exit_[: len(entry)] < entry[: len(exit_)]:
            raise BadRow(f"exit {exit_} is before entry {entry}")
    elif not in_effect:
        raise BadRow("no exit date (yrexit 0) but not in effect (ineffect 0)")
    version = row["version"].strip() or "4.01"
    try:
        version = f"{float(version):.2f}"
    except ValueError as exc:
        raise BadRow(f"version is not a number: {version!r}") from exc
    phase = integer(row["phase"], "phase")
    return Member(line, atopid, cow, entry, exit_, in_effect, phase, _flags(row), version)


def _alliance(line: int, row: dict[str, str]) -> Alliance:
    atopid = integer(row["atopid"], "atopid")
    begin = date_of(row["begyr"], row["begmo"], row["begday"], "begin (begyr, begmo, begday)")
    end = None
    if row["endyr"].strip() not in ("0", ""):
        end = date_of(row["endyr"], row["endmo"], row["endday"], "end (endyr, endmo, endday)")
    return Alliance(
        line,
        atopid,
        begin,
        end,
        row["ineffect"].strip() == "1",
        integer(row["maxphase"], "maxphase"),
        _flags(row),
    )


def _read(files: list[InputFile], bad: RowSink, progress: Progress | None) -> Records:
    out = Records()
    member_file = alliance_file = None
    for f in files:
        header, rows = read_csv_rows(
            f, "utf-8", "ATOP file (atop-member-level.csv, atop-alliance-level.csv)", []
        )
        names = {h.strip().lower() for h in header}
        if "member" in names:
            require_columns(f.name, header, MEMBER_COLUMNS, "ATOP member-level (atop-member-level.csv)")
            member_file = f.name
            found = read_rows(
                ((ln, (ln, r)) for ln, r in rows), f.name, lambda x: _member(*x), bad, progress, len(rows)
            )
            out.members += found
        elif "mem1" in names:
            require_columns(f.name, header, ALLIANCE_COLUMNS, "ATOP alliance-level (atop-alliance-level.csv)")
            alliance_file = f.name
            for a in read_rows(
                ((ln, (ln, r)) for ln, r in rows), f.name, lambda x: _alliance(*x), bad, progress, len(rows)
            ):
                if a.atopid in out.alliances:
                    bad(
                        RowError(
                            f.name,
                            a.line,
                            f"atopid {a.atopid} is already on line {out.alliances[a.atopid].line}",
                        )
                    )
                    continue
                out.alliances[a.atopid] = a
        else:
            require_columns(f.name, header, MEMBER_COLUMNS, "ATOP member-level (atop-member-level.csv)")
    missing = [
        what
        for what, have in (
            ("the member-level file (atop-member-level.csv: atopid, member, yrent…)", member_file),
            ("the alliance-level file (atop-alliance-level.csv: atopid, begyr…, mem1…)", alliance_file),
        )
        if have is None
    ]
    if missing:
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"ATOP needs both of its files; missing {' and '.join(missing)}",
            detail={"dataset": "atop", "missing": missing},
        )
    kept = []
    for m in out.members:
        if m.atopid not in out.alliances:
            bad(RowError(str(member_file), m.line, f"atopid {m.atopid} is not in the alliance-level file"))
        else:
            kept.append(m)
    out.members = kept
    versions = sorted({m.version for m in out.members}) or ["4.01"]
    if len(versions) > 1:
        raise PactgraphError(
            Kind.BAD_INPUT, f"rows of several ATOP releases in one import: {', '.join(versions)}"
        )
    out.version = versions[0]
    years = [int(d[:4]) for m in out.members for d in (m.entry, m.exit) if d] + [
        int(d[:4]) for a in out.alliances.values() for d in (a.begin, a.end) if d
    ]
    out.coverage_end = f"{max(years) if years else 2016}-12-31"
    return out


def source(records: Records) -> SourceDescription:
    return SourceDescription(
        slug=f"atop-{records.version}",
        title="Alliance Treaty Obligations and Provisions (ATOP)",
        publisher="Brett Ashley Leeds, Jeffrey M. Ritter, Sara McLaughlin Mitchell and Andrew G. Long",
        version=records.version,
        citation=(
            "Leeds, Brett Ashley, Jeffrey M. Ritter, Sara McLaughlin Mitchell, and Andrew G. Long. 2002. "
            "“Alliance Treaty Obligations and Provisions, 1815-1944.” International Interactions 28: 237–260."
        ),
        licence="Free to use with citation (the ATOP project's terms)",
        download_url="http://www.atopdata.org/data.html",
        end_rule="exclusive",
        coverage_start="1815-01-01",
        coverage_end=records.coverage_end,
    )


def _build(store: Store, records: Records, t: Triples, result: ImportResult) -> list[dict[str, str]]:
    src = source(records)
    codes = state_codes()
    described: set[str] = set()
    actors: set[str] = set()
    unknown: dict[int, list[int]] = defaultdict(list)
    by_alliance: dict[int, list[Member]] = defaultdict(list)
    for m in records.members:
        by_alliance[m.atopid].append(m)

    def party_of(m: Member) -> tuple[str, str]:
        ref = codes.cow(m.cow)
        if ref is not None:
            describe_state(t, ref, described)
            return ref.local, ref.label
        unknown[m.cow].append(m.line)
        label = f"ATOP member {m.cow} (no state of the Correlates of War list has this number)"
        why = f"ATOP {src.version} names member {m.cow}, a number of no state code list pactgraph knows."
        return unmatched(t, src.slug, f"cow-{m.cow}", label, why, actors), label

    source_node = t.node(src.iri)
    orgs: set[str] = set()
    seen: set[str] = set()
    for atopid, alliance in sorted(records.alliances.items()):
        members = sorted(by_alliance.get(atopid, []), key=lambda m: (m.entry, m.phase, m.cow))
        if not members:
            result.notes.append(f"ATOP alliance {atopid} has no member rows: not written")
            continue
        parties = {m.cow: party_of(m) for m in members}
        founds = FOUNDS.get(atopid)
        node = t.entity(f"agreement/atop-{atopid}")
        t.a(node, "DefencePact" if "DefenceObligation" in alliance.obligations else "Treaty")
        named = [parties[c][1] for c in dict.fromkeys(m.cow for m in members)]
        shown = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        title = f"{founds[1]}: " if founds else ""
        t.label(node, f"ATOP alliance {atopid}: {title}{shown} ({alliance.begin[:4]})")
        t.date(node, "signingDate", alliance.begin)
        if alliance.end:
            t.date(node, "endOfForce", alliance.end)
        elif alliance.in_effect:
            t.date(node, "ongoingAsOf", src.coverage_end or "")
        t.integer(node, "phases", alliance.phases)
        for o in alliance.obligations:
            t.link(node, "obligation", t.pg(o))
        first = [m for m in members if m.entry == alliance.begin] or [
            m for m in members if m.entry == members[0].entry
        ]
        signatories = dict.fromkeys(parties[m.cow][0] for m in first)
        if len(signatories) < 2:
            signatories = dict.fromkeys(parties[m.cow][0] for m in members)
        for s in signatories:
            t.link(node, "signatory", t.entity(s))
        t.text(node, "recordId", str(atopid))
        t.link(node, "status", t.pg("Confirmed"))
        t.link(node, "source", source_node)
        organisation = None
        if founds:
            organisation = founds[0]
            describe_org(t, BUNDLED_ORGS[organisation], orgs)
            t.link(t.entity(organisation), "foundingTreaty", node)
        for m in members:
            party, label = parties[m.cow]
            local = f"party/{src.slug}/{atopid}-{party.rsplit('/', 1)[-1]}-p{m.phase}-{m.entry}"
            if local in seen:
                raise PactgraphError(
                    Kind.BAD_INPUT,
                    f"ATOP member-level, line {m.line}: the same member, phase and entry as another row "
                    f"(atopid {atopid}, member {m.cow}, phase {m.phase}, entry {m.entry})",
                )
            seen.add(local)
            until = m.exit or "ongoing"
            write_party(
                t,
                PartyRecord(
                    local=local,
                    party=party,
                    agreement=f"agreement/atop-{atopid}",
                    key=party_key(party, f"agreement/atop-{atopid}", organisation),
                    label=f"{label} in ATOP alliance {atopid}, phase {m.phase} ({m.entry} – {until})"
                    f" [{src.slug}]",
                    record=f"atopid {atopid}, member {m.cow}, phase {m.phase}",
                    start=m.entry,
                    end=m.exit,
                    ongoing_as_of=src.coverage_end if m.exit is None else None,
                    phase=m.phase,
                    obligations=list(m.obligations),
                ),
                src.iri,
            )
    for code, lines in sorted(unknown.items()):
        result.notes.append(
            f"member {code} (member-level line(s) {', '.join(map(str, lines))}) is in no state code list:"
            f" kept as the unmatched actor actor/{src.slug}/cow-{code}, not guessed"
        )
    return []


DATASET = Dataset(
    name="atop",
    summary="ATOP 4.01: formal alliances 1815–2016, members' entry and exit per phase, obligations",
    files="atop-member-level.csv atop-alliance-level.csv",
    read=_read,
    source=source,
    build=_build,
)
