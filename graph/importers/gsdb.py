"""The Global Sanctions Data Base (Felbermayr, Kirilakha, Syropoulos, Yalcin and Yotov), V3: one row
per sanctions case, senders and targets as names (a cell may list several: "EU, Montenegro,
Iceland"), begin and end years, six measure types, objectives and their outcomes.

Names: split at commas, except where the comma is part of the name ("Gambia, The", "Yemen,
North"). A name is a state by its bundled label or alias, a bloc or organisation by the table
below, or a state under the older name GSDB uses for it (`_OLD_NAMES`, each with its reason);
any other ("Hong Kong", "Balkans") is kept as an unmatched actor under GSDB's name and listed in
the import's notes, never guessed.

Date rule: years only. A case is in force from its `begin` year to its `end` year, both
included (GSDB counts a case in every year it was in force). An `end` equal to the last year of
the data (2022) marks a case still running then: no end, ongoing as of the coverage end.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from pactgraph.graph.importers.base import (
    BadRow,
    Dataset,
    ImportResult,
    InputFile,
    Progress,
    RowSink,
    SourceDescription,
    Triples,
    integer,
    read_csv_rows,
    read_rows,
)
from pactgraph.graph.importers.parties import BUNDLED_ORGS, Org, describe_org, unmatched
from pactgraph.graph.importers.states import StateRef, describe_state, state_codes
from pactgraph.graph.store import Store

COLUMNS = [
    "case_id", "sanctioned_state", "sanctioning_state", "begin", "end", "trade", "descr_trade", "arms",
    "military", "financial", "travel", "other", "objective", "success",
]  # fmt: skip
MEASURES = {
    "trade": "TradeMeasure",
    "arms": "ArmsMeasure",
    "military": "MilitaryMeasure",
    "financial": "FinancialMeasure",
    "travel": "TravelMeasure",
    "other": "OtherMeasure",
}
OBJECTIVES = {
    "policy_change": "PolicyChangeObjective",
    "destab_regime": "DestabiliseRegimeObjective",
    "territorial_conflict": "TerritorialConflictObjective",
    "prevent_war": "PreventWarObjective",
    "end_war": "EndWarObjective",
    "terrorism": "TerrorismObjective",
    "human_rights": "HumanRightsObjective",
    "democracy": "DemocracyObjective",
    "other": "OtherObjective",
}
OUTCOMES = {
    "success_total": "TotalSuccess",
    "success_part": "PartialSuccess",
    "nego_settlement": "NegotiatedSettlement",
    "failed": "Failure",
    "ongoing": "OngoingOutcome",
}
_TRADE = {"exp_part": "exports, partial", "exp_compl": "exports, complete", "imp_part": "imports, partial",
          "imp_compl": "imports, complete"}  # fmt: skip
# Blocs, organisations and groups GSDB names as senders or targets.
_ORGS: dict[str, tuple[Org, ...]] = {
    "EU": (BUNDLED_ORGS["org/eu"],),
    "UN": (BUNDLED_ORGS["org/un"],),
    "African Union": (Org("org/african-union", "African Union", alt=("AU",)),),
    "ECOWAS": (Org("org/ecowas", "Economic Community of West African States", alt=("ECOWAS",)),),
    "MERCOSUR": (Org("org/mercosur", "Southern Common Market", alt=("MERCOSUR",)),),
    "UNASUR": (Org("org/unasur", "Union of South American Nations", alt=("UNASUR",)),),
    "OAS": (Org("org/oas", "Organization of American States", alt=("OAS",)),),
    "SADC": (Org("org/sadc", "Southern African Development Community", alt=("SADC",)),),
    "OSCE": (Org("org/osce", "Organization for Security and Co-operation in Europe", alt=("OSCE",)),),
    "OIC": (Org("org/oic", "Organisation of Islamic Cooperation", alt=("OIC",)),),
    "Commonwealth": (Org("org/commonwealth", "Commonwealth of Nations", alt=("Commonwealth",)),),
    "Pacific Islands Forum": (Org("org/pacific-islands-forum", "Pacific Islands Forum"),),
    "League of Arab States": (Org("org/arab-league", "League of Arab States", alt=("Arab League",)),),
    "G7": (Org("org/g7", "Group of Seven", alt=("G7",)),),
    "Terrorist Organizations (Al-Qaeda)": (Org("org/al-qaeda", "Al-Qaeda", "ArmedGroup"),),
    "Terrorist Organizations (Taliban)": (Org("org/taliban", "Taliban", "ArmedGroup"),),
    "Terrorist Organizations (ISIL and ANF)": (
        Org("org/isil", "Islamic State of Iraq and the Levant", "ArmedGroup", ("ISIL",)),
        Org("org/al-nusra-front", "Al-Nusra Front", "ArmedGroup", ("ANF",)),
    ),
}
# States GSDB names by an older name: (ISO alpha-3 of the state today, historic state's id or
# None, last year the historic state existed). The historic state is meant only for a case that
# began while it existed; GSDB uses the old names for today's states too ("Yemen, North" is
# sanctioned by the UN from 2014, "South Vietnam" by the United States from 2007, "Ceylon" from 2020).
_OLD_NAMES: dict[str, tuple[str, str | None, int]] = {
    "Macedonia": ("MKD", None, 0),  # renamed North Macedonia in 2019, the same state
    "Malagasy Republic": ("MDG", None, 0),  # Madagascar's name 1958–1975
    "Ceylon": ("LKA", None, 0),  # Sri Lanka's name until 1972
    "Transjordan": ("JOR", None, 0),  # Jordan's name until 1949
    "Yugoslavia": ("SRB", None, 0),  # as COW 345 maps (README: state codes): Serbia continues it
    "Yemen, North": ("YEM", "state/yemen-arab-republic", 1990),  # the YAR united with the south in 1990
    "South Vietnam": ("VNM", "state/republic-of-vietnam", 1975),  # the Republic of Vietnam fell in 1975
}
_JOINED = {"the", "north", "south"}  # a part after a comma that belongs to the name before it


@dataclass(frozen=True)
class Case:
    line: int
    case_id: str
    targets: tuple[str, ...]
    senders: tuple[str, ...]
    begin: int
    end: int
    measures: tuple[str, ...]
    trade: tuple[str, ...]
    objectives: tuple[str, ...]
    outcomes: tuple[str, ...]


@dataclass
class Records:
    cases: list[Case] = field(default_factory=list)
    last_year: int = 2022
    first_year: int = 1950
    digest: str = ""

    def __len__(self) -> int:
        return len(self.cases)


def split_names(cell: str) -> tuple[str, ...]:
    """The names a sender or target cell lists ("Gambia, The" is one)."""
    parts = [p.strip() for p in cell.split(",")]
    names: list[str] = []
    for p in parts:
        if not p:
            continue
        if names and p.lower() in _JOINED:
            names[-1] = f"{names[-1]}, {p}"
        else:
            names.append(p)
    return tuple(names)


def _list(cell: str, allowed: dict[str, str], what: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in cell.split(",") if v.strip())
    for v in values:
        if v not in allowed:
            raise BadRow(f"{what} {v!r} is not one of {', '.join(allowed)}")
    return values


def _parse(line: int, row: dict[str, str]) -> Case:
    case_id = row["case_id"].strip()
    if not case_id:
        raise BadRow("case_id must not be empty")
    targets, senders = split_names(row["sanctioned_state"]), split_names(row["sanctioning_state"])
    if not targets or not senders:
        raise BadRow("sanctioned_state and sanctioning_state must not be empty")
    begin, end = integer(row["begin"], "begin"), integer(row["end"], "end")
    if end < begin:
        raise BadRow(f"end {end} is before begin {begin}")
    measures = []
    for col in MEASURES:
        v = row[col].strip()
        if v not in ("0", "1"):
            raise BadRow(f"{col} is not 0 or 1: {v!r}")
        if v == "1":
            measures.append(col)
    trade = tuple(_TRADE[v] for v in _list(row["descr_trade"], _TRADE, "descr_trade"))
    objectives = _list(row["objective"], OBJECTIVES, "objective")
    outcomes = _list(row["success"], OUTCOMES, "success")
    return Case(line, case_id, targets, senders, begin, end, tuple(measures), trade, objectives, outcomes)


def _read(files: list[InputFile], bad: RowSink, progress: Progress | None) -> Records:
    out = Records()
    digest = hashlib.sha256()
    for f in files:
        _header, rows = read_csv_rows(
            f, "utf-8", "Global Sanctions Data Base case list (GSDB_V3.csv)", COLUMNS
        )
        out.cases += read_rows(
            ((ln, (ln, r)) for ln, r in rows), f.name, lambda x: _parse(*x), bad, progress, len(rows)
        )
        digest.update(f.data)
    if out.cases:
        out.last_year = max(c.end for c in out.cases)
        out.first_year = min(c.begin for c in out.cases)
    out.digest = digest.hexdigest()[:12]
    return out


def source(records: Records) -> SourceDescription:
    return SourceDescription(
        slug="gsdb-v3",
        title="Global Sanctions Data Base (GSDB)",
        publisher=(
            "Gabriel Felbermayr, Aleksandra Kirilakha, Constantinos Syropoulos, Erdal Yalcin and "
            "Yoto V. Yotov"
        ),
        version=f"V3 (cases {records.first_year}–{records.last_year}, sha256 {records.digest}…)",
        citation=(
            "Felbermayr, Gabriel, Aleksandra Kirilakha, Constantinos Syropoulos, Erdal Yalcin, and "
            "Yoto V. Yotov. 2020. “The Global Sanctions Data Base.” European Economic Review 129: 103561."
        ),
        licence="For research use, with citation (the GSDB team's terms)",
        download_url="https://www.globalsanctionsdatabase.com/",
        end_rule="inclusive",
        coverage_start="1950-01-01",
        coverage_end=f"{records.last_year}-12-31",
    )


def _build(store: Store, records: Records, t: Triples, result: ImportResult) -> list[dict[str, str]]:
    src = source(records)
    codes = state_codes()
    described: set[str] = set()
    orgs: set[str] = set()
    actors: set[str] = set()
    unknown: dict[str, list[int]] = defaultdict(list)

    def actors_of(name: str, case: Case) -> list[tuple[str, str]]:
        """(id, label) of each actor a GSDB name stands for, in the year the case began."""
        if name in _ORGS:
            for org in _ORGS[name]:
                describe_org(t, org, orgs)
            return [(o.local, o.label) for o in _ORGS[name]]
        ref: StateRef | None = None
        if name in _OLD_NAMES:
            iso, historic, last = _OLD_NAMES[name]
            if historic and case.begin <= last:
                ref = codes.by_name.get(historic.removeprefix("state/").replace("-", " "))
            else:
                ref = codes.iso3(iso)
        else:
            # "Gambia, The" is "The Gambia", which the bundled states call "Gambia".
            ref = codes.name(name) or (codes.name(name[: -len(", The")]) if name.endswith(", The") else None)
        if ref is not None:
            describe_state(t, ref, described)
            return [(ref.local, ref.label)]
        unknown[name].append(case.line)
        why = f"GSDB {src.version} names {name!r} as a sender or target; no state or organisation matched."
        return [(unmatched(t, src.slug, name, name, why, actors), name)]

    for c in records.cases:
        node = t.entity(f"sanction/{src.slug}/{c.case_id}")
        t.a(node, "SanctionsCase")
        senders = [a for n in c.senders for a in actors_of(n, c)]
        targets = [a for n in c.targets for a in actors_of(n, c)]
        running = c.end == records.last_year
        until = "ongoing" if running else str(c.end)
        t.label(
            node,
            f"{_names([lb for _, lb in senders])} sanctions on {_names([lb for _, lb in targets])}"
            f" ({c.begin}–{until}), GSDB case {c.case_id}",
        )
        for local, _ in dict.fromkeys(senders):
            t.link(node, "imposer", t.entity(local))
        for local, _ in dict.fromkeys(targets):
            t.link(node, "target", t.entity(local))
        t.date(node, "start", f"{c.begin:04d}")
        if running:
            t.date(node, "ongoingAsOf", src.coverage_end or "")
        else:
            t.date(node, "end", f"{c.end:04d}")
        for m in c.measures:
            t.link(node, "measureType", t.pg(MEASURES[m]))
        for scope in c.trade:
            t.text(node, "tradeScope", scope)
        for o in dict.fromkeys(c.objectives):
            t.link(node, "objective", t.pg(OBJECTIVES[o]))
        for o in dict.fromkeys(c.outcomes):
            t.link(node, "outcome", t.pg(OUTCOMES[o]))
        if len(c.objectives) > 1:
            pairs = [
                f"{o.replace('_', ' ')}: {w.replace('_', ' ')}"
                for o, w in zip(c.objectives, c.outcomes, strict=False)
            ]
            t.text(node, "outcomeDetail", "; ".join(pairs))
        if len(c.objectives) != len(c.outcomes):
            result.notes.append(
                f"line {c.line}: case {c.case_id} gives {len(c.objectives)} objective(s) but"
                f" {len(c.outcomes)} outcome(s); both kept, paired in order as far as they go"
            )
        t.text(node, "recordId", c.case_id)
        t.link(node, "status", t.pg("Confirmed"))
        t.link(node, "source", t.node(src.iri))
    for name, lines in sorted(unknown.items()):
        result.notes.append(
            f"{name!r} ({len(lines)} case(s), line(s) {', '.join(map(str, lines[:10]))}"
            f"{' …' if len(lines) > 10 else ''}) matches no state or organisation: kept as an unmatched actor"
        )
    return []


def _names(labels: list[str]) -> str:
    unique = list(dict.fromkeys(labels))
    if len(unique) > 3:
        return f"{', '.join(unique[:3])} and {len(unique) - 3} more"
    return " and ".join(unique) if len(unique) < 3 else f"{unique[0]}, {unique[1]} and {unique[2]}"


DATASET = Dataset(
    name="gsdb",
    summary="Global Sanctions Data Base V3: sanctions cases, senders, targets, measures, objectives",
    files="GSDB_V3.csv",
    read=_read,
    source=source,
    build=_build,
)
