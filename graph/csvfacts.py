"""The CSV layout for tabular facts, mapped to the ontology's n-ary relations.

Columns (header row required, UTF-8): ``kind,subject,object,start,end,status,source,quote,detail``

| kind          | subject     | object       | node             | detail            |
|---------------|-------------|--------------|------------------|-------------------|
| membership    | member      | organisation | pg:Membership    | a note            |
| tenure        | person      | office       | pg:Tenure        | a note            |
| signature     | signatory   | agreement    | (the agreement)  | signing person id |
| sanction      | imposer     | target       | pg:Sanction      | programme         |
| support       | supporter   | recipient    | pg:Support       | kind of support   |
| arms          | supplier    | recipient    | pg:ArmsTransfer  | item id           |
| participation | participant | conflict     | pg:Participation | side              |

Ids are local (``state/RUS``, ``org/nato``) under the entity base, or full IRIs. Dates are
YYYY-MM-DD, YYYY-MM or YYYY. Status is confirmed, reported, disputed or denied (default
confirmed). Node IRIs derive from the content (kind, subject, object, start), never a row number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from rdflib import RDF, RDFS, Literal, URIRef

from pactgraph.graph.dates import parse_period
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.ontology import ENTITY_BASE, PG

COLUMNS = ("kind", "subject", "object", "start", "end", "status", "source", "quote", "detail")
STATUSES = {"confirmed": PG.Confirmed, "reported": PG.Reported, "disputed": PG.Disputed, "denied": PG.Denied}

# kind -> (class, subject property, object property, detail property or None)
_KINDS: dict[str, tuple[URIRef, URIRef, URIRef, URIRef | None]] = {
    "membership": (PG.Membership, PG.member, PG.organisation, RDFS.comment),
    "tenure": (PG.Tenure, PG.holder, PG.office, RDFS.comment),
    "sanction": (PG.Sanction, PG.imposer, PG.target, PG.programme),
    "support": (PG.Support, PG.supporter, PG.recipient, PG.supportKind),
    "arms": (PG.ArmsTransfer, PG.supporter, PG.recipient, PG.item),
    "participation": (PG.Participation, PG.participant, PG.conflict, PG.side),
}
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*(/[A-Za-z0-9_.%-]+)+$")

Triple = tuple[URIRef, URIRef, URIRef | Literal]


def entity(ref: str, where: str) -> URIRef:
    """An entity IRI from a local id (``state/RUS``) or an absolute http(s) IRI."""
    ref = ref.strip()
    if ref.startswith(("http://", "https://")) and not any(c in ref for c in ' <>"{}|\\^`'):
        return URIRef(ref)
    if _ID.match(ref):
        return URIRef(ENTITY_BASE + ref)
    raise PactgraphError(Kind.BAD_INPUT, f"{where}: {ref!r} is not an id like state/RUS or an http(s) IRI")


def _slug(ref: URIRef) -> str:
    text = str(ref)
    text = text[len(ENTITY_BASE) :] if text.startswith(ENTITY_BASE) else text.rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def read_csv(data: bytes, name: str) -> Iterator[Triple]:
    """Triples for every row of a facts CSV; errors name the file, line and column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"{name}: not UTF-8 text ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = tuple(h.strip() for h in reader.fieldnames or ())
    if header[: len(COLUMNS)] != COLUMNS:
        raise PactgraphError(
            Kind.BAD_INPUT, f"{name}: line 1: the header must be {','.join(COLUMNS)} (got {','.join(header)})"
        )
    for row in reader:
        line = reader.line_num
        if None in row or any(row.get(c) is None for c in COLUMNS):
            raise PactgraphError(Kind.BAD_INPUT, f"{name}: line {line}: expected {len(COLUMNS)} fields")
        yield from _row(row, f"{name}: line {line}")


def _row(row: dict[str, str], where: str) -> Iterator[Triple]:
    kind = row["kind"].strip().lower()
    subject = entity(row["subject"], f"{where}, column subject")
    obj = entity(row["object"], f"{where}, column object")
    dates = {}
    for column in ("start", "end"):
        if value := row[column].strip():
            try:
                dates[column] = parse_period(value)
            except PactgraphError as exc:
                raise PactgraphError(Kind.BAD_INPUT, f"{where}, column {column}: {exc}") from exc
    status_word = row["status"].strip().lower() or "confirmed"
    if status_word not in STATUSES:
        raise PactgraphError(
            Kind.BAD_INPUT, f"{where}, column status: {status_word!r} is not one of {', '.join(STATUSES)}"
        )
    sources = [entity(s, f"{where}, column source") for s in row["source"].split() if s]
    quote = row["quote"].strip()
    detail = row["detail"].strip()

    if kind == "signature":
        yield (obj, PG.signatory, subject)
        if "start" in dates:
            yield (obj, PG.signingDate, dates["start"].literal())
        if detail:
            yield (obj, PG.signedBy, entity(detail, f"{where}, column detail"))
        for source in sources:
            yield (obj, PG.source, source)
        return
    if kind not in _KINDS:
        known = ", ".join([*_KINDS, "signature"])
        raise PactgraphError(Kind.BAD_INPUT, f"{where}, column kind: {kind!r} is not one of {known}")
    cls, subject_prop, object_prop, detail_prop = _KINDS[kind]
    start = dates["start"].text if "start" in dates else "undated"
    node = URIRef(f"{ENTITY_BASE}{kind}/{_slug(subject)}--{_slug(obj)}--{start}")
    yield (node, RDF.type, cls)
    yield (node, subject_prop, subject)
    yield (node, object_prop, obj)
    for column, period in dates.items():
        yield (node, PG.start if column == "start" else PG.end, period.literal())
    yield (node, PG.status, STATUSES[status_word])
    for source in sources:
        yield (node, PG.source, source)
    if quote:
        yield (node, PG.quote, Literal(quote, lang="en"))
    if detail and detail_prop is not None:
        if detail_prop == PG.item:
            yield (node, PG.item, entity(detail, f"{where}, column detail"))
        elif detail_prop in (PG.programme, RDFS.comment):
            yield (node, detail_prop, Literal(detail, lang="en"))
        else:
            yield (node, detail_prop, Literal(detail))
