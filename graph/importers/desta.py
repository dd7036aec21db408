"""DESTA, Design of Trade Agreements (Dür, Baccini and Elsig): the list of treaties, `;`-separated,
one row per agreement or change of membership, parties as ISO 3166 numeric codes in c1…c91.

Rows by `entry_type`: a `base_treaty` or a `protocol or amendment` is an agreement (a protocol
amends its `base_treaty`); an `accession` adds parties to its base treaty, a `withdrawal` removes
them; `consolidated` rows (a base treaty's text consolidated with its protocols) and
`negotiation` rows (not signed: no year) are counted in the import's notes, not written.

Which parties a membership change adds or removes: those marked 1 in their `mc` column; where
none is (a bloc's enlargement extended to its agreement with a third state), those marked 2 (the
third state is marked 3). Checked against the names in all 30 withdrawal and 199 accession rows
(the README lists the one row whose codes and name disagree).

Date rule: years only. `year` is the year of signature (of accession, of withdrawal);
`entryforceyear` the year of entry into force, blank ("NA") in 437 rows. A party counts from its
signature or accession year; a withdrawal ends it (its year, inclusive). DESTA records no other
end of an agreement, so a party without a withdrawal has no end and is not "ongoing as of"
anything: the list does not say the agreement is still in force.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import pycountry

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
    slug,
)
from pactgraph.graph.importers.parties import PartyRecord, party_key, unmatched, write_party
from pactgraph.graph.importers.states import describe_state, state_codes
from pactgraph.graph.store import Store

COLUMNS = ["number", "base_treaty", "name", "entry_type", "year", "entryforceyear", "typememb", "c1", "mc1"]
# ISO 3166 numeric codes of states the bundled list has no ISO code for: 158 is ISO's code for
# Taiwan, which pactgraph knows as a historic state by its COW/GW number 713.
_ISO_EXTRA = {158: "taiwan"}
_TYPES = {"base_treaty", "protocol or amendment", "accession", "withdrawal", "consolidated", "negotiation"}


@dataclass(frozen=True)
class Row:
    line: int
    number: str
    base: str
    name: str
    kind: str
    year: str | None
    in_force: str | None
    parties: tuple[tuple[int, str], ...]  # (ISO numeric code, mc mark)


@dataclass
class Records:
    rows: list[Row] = field(default_factory=list)
    digest: str = ""
    first_year: int = 1948
    last_year: int = 2021

    def __len__(self) -> int:
        return len(self.rows)


def _year(value: str, what: str) -> str | None:
    v = value.strip()
    if v in ("", "NA"):
        return None
    if not (v.isdigit() and len(v) == 4):
        raise BadRow(f"{what} is not a year: {v!r}")
    return v


def _parse(line: int, row: dict[str, str]) -> Row:
    kind = row["entry_type"].strip()
    if kind not in _TYPES:
        raise BadRow(f"entry_type is not one of {', '.join(sorted(_TYPES))}: {kind!r}")
    if not row["number"].strip() or not row["base_treaty"].strip():
        raise BadRow("number and base_treaty must not be empty")
    year = _year(row["year"], "year")
    if year is None and kind != "negotiation":
        raise BadRow(f"a {kind} row needs its year")
    parties = []
    i = 1
    while f"c{i}" in row:
        code = row[f"c{i}"].strip()
        if code not in ("", "NA"):
            if not code.isdigit():
                raise BadRow(f"c{i} is not an ISO 3166 numeric code: {code!r}")
            parties.append((int(code), row.get(f"mc{i}", "").strip()))
        i += 1
    if not parties:
        raise BadRow("no party (c1…) is given")
    return Row(
        line,
        row["number"].strip(),
        row["base_treaty"].strip(),
        row["name"].strip(),
        kind,
        year,
        _year(row["entryforceyear"], "entryforceyear"),
        tuple(parties),
    )


def _read(files: list[InputFile], bad: RowSink, progress: Progress | None) -> Records:
    out = Records()
    digest = hashlib.sha256()
    for f in files:
        _header, rows = read_csv_rows(
            f, "utf-8", "DESTA list of treaties (DESTA.csv, ;-separated)", COLUMNS, ";"
        )
        out.rows += read_rows(
            ((ln, (ln, r)) for ln, r in rows), f.name, lambda x: _parse(*x), bad, progress, len(rows)
        )
        digest.update(f.data)
    out.digest = digest.hexdigest()[:12]
    years = [int(y) for r in out.rows for y in (r.year, r.in_force) if y]
    if years:
        out.first_year, out.last_year = min(years), max(years)
    return out


def source(records: Records) -> SourceDescription:
    return SourceDescription(
        slug=f"desta-{records.last_year}",
        title="Design of Trade Agreements (DESTA): list of treaties",
        publisher="Andreas Dür, Leonardo Baccini and Manfred Elsig",
        version=f"list to {records.last_year} (sha256 {records.digest}…)",
        citation=(
            "Dür, Andreas, Leonardo Baccini, and Manfred Elsig. 2014. “The Design of International Trade "
            "Agreements: Introducing a New Dataset.” The Review of International Organizations 9(3): 353–375."
        ),
        licence="Free to use with citation (the DESTA project's terms)",
        download_url="https://www.designoftradeagreements.org/downloads/",
        end_rule="inclusive",
        coverage_start=f"{records.first_year}-01-01",
        coverage_end=f"{records.last_year}-12-31",
    )


def changed(row: Row) -> list[int]:
    """The parties a membership change adds or removes (see the module's rule)."""
    marked = [c for c, mark in row.parties if mark == "1"]
    return marked or [c for c, mark in row.parties if mark == "2"]


def _build(store: Store, records: Records, t: Triples, result: ImportResult) -> list[dict[str, str]]:
    src = source(records)
    codes = state_codes()
    described: set[str] = set()
    actors: set[str] = set()
    unknown: dict[int, list[int]] = defaultdict(list)
    labels: dict[str, str] = {}

    def party_of(code: int, line: int) -> str:
        ref = codes.iso_numeric(code) or (codes.by_name.get(_ISO_EXTRA[code]) if code in _ISO_EXTRA else None)
        if ref is not None:
            describe_state(t, ref, described)
            labels[ref.local] = ref.label
            return ref.local
        unknown[code].append(line)
        iso = pycountry.countries.get(numeric=f"{code:03d}")
        label = (
            f"{iso.name} (ISO 3166 numeric {code:03d}: a territory, not a state of pactgraph's list)"
            if iso
            else f"DESTA party {code:03d} (no ISO 3166 numeric code of a state)"
        )
        local = unmatched(
            t, src.slug, f"iso-{code}", label, f"DESTA names party {code:03d}; not guessed.", actors
        )
        labels[local] = label
        return local

    agreements = {r.number: r for r in records.rows if r.kind in ("base_treaty", "protocol or amendment")}
    # Each party's records per agreement, in row order, so a withdrawal ends the latest.
    records_of: dict[tuple[str, str], list[PartyRecord]] = defaultdict(list)
    skipped: dict[str, list[int]] = defaultdict(list)
    for r in records.rows:
        if r.kind in ("consolidated", "negotiation"):
            skipped[r.kind].append(r.line)
            continue
        if r.kind in ("base_treaty", "protocol or amendment"):
            local = f"agreement/desta-{slug(r.number)}"
            node = t.entity(local)
            t.a(node, "Treaty")
            t.label(node, f"{r.name} (DESTA {r.number}, {r.year})")
            t.link(node, "coversDomain", t.pg("Trade"))
            t.date(node, "signingDate", r.year or "")
            if r.in_force:
                t.date(node, "entryIntoForce", r.in_force)
            if r.kind == "protocol or amendment" and r.base != r.number:
                if r.base in agreements:
                    t.link(node, "amends", t.entity(f"agreement/desta-{slug(r.base)}"))
                else:
                    result.notes.append(
                        f"line {r.line}: protocol {r.number} amends base treaty {r.base},"
                        " which the file does not list"
                    )
            t.text(node, "recordId", r.number)
            t.link(node, "status", t.pg("Confirmed"))
            t.link(node, "source", t.node(src.iri))
            parties: dict[str, int] = {}
            for c, _ in r.parties:
                parties.setdefault(party_of(c, r.line), c)
            for p in parties:
                t.link(node, "signatory", t.entity(p))
            for p, c in parties.items():
                rec = PartyRecord(
                    local=f"party/{src.slug}/{slug(r.number)}-{p.rsplit('/', 1)[-1]}",
                    party=p,
                    agreement=local,
                    key=party_key(p, local),
                    label=f"{labels[p]}, party to {r.name} (DESTA {r.number}, from {r.year}) [{src.slug}]",
                    record=f"{r.number}, party {c:03d}",
                    start=r.year,
                    signature=r.year,
                    entry_into_force=r.in_force,
                )
                records_of[(local, p)].append(rec)
            continue
        # accession or withdrawal: a change of the base treaty's membership
        if r.base not in agreements:
            skipped[f"{r.kind} of base treaty {r.base}, which the file does not list"].append(r.line)
            continue
        local = f"agreement/desta-{slug(r.base)}"
        base_name = agreements[r.base].name
        for code in changed(r):
            p = party_of(code, r.line)
            if r.kind == "accession":
                records_of[(local, p)].append(
                    PartyRecord(
                        local=f"party/{src.slug}/{slug(r.base)}-{p.rsplit('/', 1)[-1]}-{slug(r.number)}",
                        party=p,
                        agreement=local,
                        key=party_key(p, local),
                        label=f"{labels[p]}, party to {base_name} by accession (DESTA {r.number},"
                        f" {r.year}) [{src.slug}]",
                        record=f"{r.number}, party {code:03d}",
                        start=r.year,
                        accession=r.year,
                        entry_into_force=r.in_force,
                    )
                )
                continue
            earlier = records_of.get((local, p))
            if earlier:
                last = earlier[-1]
                last.end = last.withdrawal = r.year
                last.record += f"; withdrawal {r.number}"
                last.label = last.label.removesuffix(f" [{src.slug}]") + f", withdrew {r.year} [{src.slug}]"
            else:
                records_of[(local, p)].append(
                    PartyRecord(
                        local=f"party/{src.slug}/{slug(r.base)}-{p.rsplit('/', 1)[-1]}-{slug(r.number)}",
                        party=p,
                        agreement=local,
                        key=party_key(p, local),
                        label=f"{labels[p]}, withdrew from {base_name} (DESTA {r.number}, {r.year})"
                        f" [{src.slug}]",
                        record=r.number,
                        end=r.year,
                        withdrawal=r.year,
                    )
                )
                result.notes.append(
                    f"line {r.line}: {labels[p]} withdraws from {r.base} ({r.number}) without an earlier row"
                    " making it a party: written as a withdrawal only"
                )
    for recs in records_of.values():
        for rec in recs:
            write_party(t, rec, src.iri)
    for what, lines in skipped.items():
        result.notes.append(
            f"{len(lines)} {what} row(s) not written (lines {', '.join(map(str, lines[:12]))}"
            f"{' …' if len(lines) > 12 else ''})"
        )
    for code, lines in sorted(unknown.items()):
        result.notes.append(
            f"ISO numeric code {code:03d} (line(s) {', '.join(map(str, sorted(set(lines))))}) is no state's:"
            f" kept as the unmatched actor actor/{src.slug}/iso-{code}, not guessed"
        )
    return []


DATASET = Dataset(
    name="desta",
    summary="DESTA: trade agreements, their parties (ISO numeric codes), signature and entry into force",
    files="DESTA.csv",
    read=_read,
    source=source,
    build=_build,
)
