"""Heads of state and heads of government of every state from Wikidata: the answer of the WDQS
query below, live (`pactgraph import wikidata`, one request to query.wikidata.org) or saved as a
W3C SPARQL JSON results file (`pactgraph import wikidata --from-file answer.json`).

The query asks, for each state with an ISO 3166-1 alpha-3 code, (a) its head-of-state (P35) and
head-of-government (P6) statements and (b) the position-held (P39) statements of the office its
head of state (P1906) or government (P1313) holds, each with start (P580) and end (P582)
qualifiers and their precision. Rows of (a) and (b) for the same person, state, role and start
are one tenure. A statement without an end is ongoing as of the query's time (`?asOf`, WDQS's
NOW()). Wikidata's ends are the last day in office (inclusive).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.importers.base import (
    BadRow,
    Dataset,
    ImportResult,
    InputFile,
    Progress,
    RowSink,
    SourceDescription,
    Triples,
    read_rows,
    slug,
)
from pactgraph.graph.importers.leaders import LeaderSpell, write_leaders
from pactgraph.graph.importers.states import state_codes
from pactgraph.graph.store import Store
from pactgraph.ontology import ENTITY_BASE, PG

WDQS = "https://query.wikidata.org/sparql"
WD = "http://www.wikidata.org/entity/"

QUERY = """\
# pactgraph: heads of state and government of every state, with start/end qualifiers.
SELECT ?country ?iso3 ?role ?person ?personLabel ?office ?officeLabel ?statement
       ?start ?startPrecision ?end ?endPrecision ?asOf WHERE {
  ?country wdt:P31 wd:Q3624078 ; wdt:P298 ?iso3 .
  {
    { ?country p:P35 ?statement . ?statement ps:P35 ?person . BIND("HeadOfState" AS ?role)
      OPTIONAL { ?country wdt:P1906 ?office } }
    UNION
    { ?country p:P6 ?statement . ?statement ps:P6 ?person . BIND("HeadOfGovernment" AS ?role)
      OPTIONAL { ?country wdt:P1313 ?office } }
  } UNION {
    { ?country wdt:P1906 ?office . BIND("HeadOfState" AS ?role) }
    UNION
    { ?country wdt:P1313 ?office . BIND("HeadOfGovernment" AS ?role) }
    ?person p:P39 ?statement . ?statement ps:P39 ?office .
  }
  ?statement wikibase:rank ?rank . FILTER(?rank != wikibase:DeprecatedRank)
  OPTIONAL { ?statement pqv:P580 [ wikibase:timeValue ?start ; wikibase:timePrecision ?startPrecision ] }
  OPTIONAL { ?statement pqv:P582 [ wikibase:timeValue ?end ; wikibase:timePrecision ?endPrecision ] }
  BIND(NOW() AS ?asOf)
  SERVICE wikibase:label { bd:serviceParam wikibase:language "en". }
}
"""

NEEDED = ["country", "role", "person", "personLabel", "statement", "start", "end", "asOf"]


@dataclass
class Records:
    spells: list[LeaderSpell] = field(default_factory=list)
    as_of: str = ""

    def __len__(self) -> int:
        return len(self.spells)


def fetch(timeout: float = 300.0) -> InputFile:
    """Run the query on WDQS (the live import): one request; WDQS allows 60 s of query time
    per request and asks clients to name themselves in the User-Agent."""
    import httpx

    try:
        r = httpx.post(
            WDQS,
            data={"query": QUERY},
            headers={
                "Accept": "application/sparql-results+json",
                "User-Agent": "pactgraph/0.1 (https://pactgraph.org; dataset import)",
            },
            timeout=timeout,
        )
        r.raise_for_status()
    except httpx.HTTPError as exc:
        raise PactgraphError(Kind.UNAVAILABLE, f"the Wikidata query service did not answer: {exc}") from exc
    return InputFile("wdqs-answer.json", r.content)


def _value(binding: dict[str, dict[str, str]], name: str) -> str:
    return binding.get(name, {}).get("value", "")


def _when(binding: dict[str, dict[str, str]], name: str) -> str | None:
    """A Wikidata time at its precision: 11 a day, 10 a month, 9 a year (coarser: the year)."""
    value = _value(binding, name)
    if not value:
        return None
    if value.startswith("-") or not value[:4].isdigit():
        raise BadRow(f"{name} is not a date of the common era: {value!r}")
    precision = _value(binding, name + "Precision") or "11"
    text = value[:10]
    try:
        p = int(precision)
    except ValueError as exc:
        raise BadRow(f"{name}Precision is not a number: {precision!r}") from exc
    return text if p >= 11 else text[:7] if p == 10 else text[:4]


def _read(files: list[InputFile], bad: RowSink, progress: Progress | None) -> Records:
    codes = state_codes()
    out = Records()
    seen: set[tuple[str, str, str, str | None]] = set()
    for f in files:
        try:
            answer = json.loads(f.data)
            variables = answer["head"]["vars"]
            bindings = answer["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise PactgraphError(
                Kind.BAD_INPUT, f"{f.name}: not a Wikidata answer: not W3C SPARQL JSON results ({exc})"
            ) from exc
        missing = [v for v in NEEDED if v not in variables]
        if missing:
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"{f.name}: not an answer of pactgraph's Wikidata query: "
                f"missing variable(s) {', '.join(missing)}",
                detail={"file": f.name, "missing": missing},
            )

        def parse(b: dict[str, dict[str, str]]) -> LeaderSpell | None:
            country, person = _value(b, "country"), _value(b, "person")
            if not country.startswith(WD) or not person.startswith(WD):
                raise BadRow(f"country and person must be Wikidata items: {country!r}, {person!r}")
            role = _value(b, "role")
            if role not in ("HeadOfState", "HeadOfGovernment"):
                raise BadRow(f"role is HeadOfState or HeadOfGovernment, not {role!r}")
            state = codes.wikidata(country.removeprefix(WD)) or codes.iso3(_value(b, "iso3"))
            if state is None:
                raise BadRow(
                    f"no state is known by {country.removeprefix(WD)} or ISO code {_value(b, 'iso3')!r}"
                )
            start = _when(b, "start")
            if start is None:
                return None  # a statement without a start says nothing about time: not a spell
            end = _when(b, "end")
            as_of = _value(b, "asOf")[:10]
            out.as_of = max(out.as_of, as_of)
            qid = person.removeprefix(WD)
            key = (qid, state.local, role, start)
            if key in seen:
                return None  # the same tenure from the country's statement and the office's
            seen.add(key)
            office = _value(b, "office")
            office_label = _value(b, "officeLabel")
            statement = _value(b, "statement").rsplit("/", 1)[-1]
            return LeaderSpell(
                record=statement or f"{qid}-{state.local}-{role}-{start}",
                person=qid,
                name=_value(b, "personLabel") or qid,
                state=state,
                role=role,
                start=start,
                end=end,
                ongoing_as_of=None if end else as_of or None,
                wikidata=qid,
                office=(office, office_label or office.removeprefix(WD)) if office.startswith(WD) else None,
            )

        spells = read_rows(
            ((i + 1, b) for i, b in enumerate(bindings)), f.name, parse, bad, progress, len(bindings)
        )
        out.spells += spells
    return out


def source(records: Records) -> SourceDescription:
    return SourceDescription(
        slug="wikidata-heads",
        title="Wikidata: heads of state and government (pactgraph's WDQS query)",
        publisher="Wikimedia Foundation (Wikidata)",
        version=f"query answer of {records.as_of or 'an unknown date'}",
        citation=(
            "Wikidata contributors, Wikidata, https://www.wikidata.org/ (query in "
            "pactgraph.graph.importers.wikidata)"
        ),
        licence="https://creativecommons.org/publicdomain/zero/1.0/",
        download_url=WDQS,
        end_rule="inclusive",
        coverage_end=records.as_of or None,
    )


def _offices(store: Store, spells: list[LeaderSpell]) -> None:
    """Use the store's office for a Wikidata office it knows (by id, else by IRI), so offices
    are not duplicated; a new office gets office/<label>."""
    rows = store.select(f"SELECT ?o ?q WHERE {{ ?o a <{PG}Office> OPTIONAL {{ ?o <{PG}wikidataId> ?q }} }}")
    by_qid = {str(r["q"]): str(r["o"]) for r in rows if "q" in r}
    known = {str(r["o"]) for r in rows}
    for s in spells:
        if s.office is None:
            continue
        qid = s.office[0].removeprefix(WD)
        iri = by_qid.get(qid) or ENTITY_BASE + "office/" + slug(s.office[1])
        # A known office keeps its own label: "" tells write_leaders to add none.
        s.office = (iri, "" if iri in known else s.office[1])


def _build(store: Store, records: Records, t: Triples, result: ImportResult) -> list[dict[str, str]]:
    _offices(store, records.spells)
    return write_leaders(store, source(records), records.spells, t, result)


DATASET = Dataset(
    name="wikidata",
    summary="Wikidata: heads of state and government (live WDQS query, or --from-file a saved answer)",
    files="a W3C SPARQL JSON answer of the query in pactgraph.graph.importers.wikidata (or none: live)",
    read=_read,
    source=source,
    build=_build,
)
